"""``nbflow.notebook`` loads each heavy library only when a name that needs it is used."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("pandas", "graphviz", "pygraphviz", "ipywidgets", "IPython", "papermill", "nbformat")


def loaded_after(code: str) -> list[str]:
    probe = f"import sys\n{code}\nprint([m for m in {HEAVY!r} if m in sys.modules])"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    return eval(done.stdout.strip().splitlines()[-1])  # a list of names printed by the probe


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("import nbflow", []),
        ("import nbflow.notebook", []),
        ("import nbflow.notebook as nbn; nbn.show_graph; nbn.render; nbn.result_html", []),
        (
            "import nbflow.notebook as nbn\n"
            "from nbflow import job, op\n"
            "@op\ndef one():\n    return 1\n"
            "@job\ndef single():\n    one()\n"
            "nbn.show_graph(single)._repr_mimebundle_()",
            [],
        ),
        ("import nbflow.notebook as nbn; nbn.version_table", ["pandas"]),
    ],
    ids=["nbflow", "nbflow.notebook", "drawing names", "drawing a job", "version_table"],
)
def test_heavy_libraries_load_only_when_needed(code: str, expected: list[str]) -> None:
    assert loaded_after(code) == expected


def test_without_pandas_the_tables_say_which_extra_to_install() -> None:
    code = (
        "import sys\n"
        "sys.modules['pandas'] = None\n"
        "import nbflow.notebook as nbn\n"
        "try:\n"
        "    nbn.version_table\n"
        "except ImportError as exc:\n"
        "    print(type(exc).__name__, '|', exc)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert done.stdout.startswith("MissingExtraError | This feature needs 'pandas'")
    assert 'Fix: pip install "nbflowkit[notebook]"' in done.stdout


def test_unknown_names_are_attribute_errors() -> None:
    import nbflow.notebook as nbn

    with pytest.raises(AttributeError, match="has no attribute 'show_grpah'"):
        nbn.show_grpah
    assert "show_graph" in dir(nbn)


def test_render_is_the_function_even_after_the_drawing_module_is_imported() -> None:
    import nbflow.notebook as nbn
    import nbflow.notebook.dag  # noqa: F401

    assert callable(nbn.render)
    assert nbn.render.__module__ == "nbflow.notebook.dag"


def test_every_lazy_name_stays_what_it_names_after_all_submodules_are_imported() -> None:
    """No submodule is named like a name of ``nbflow.notebook``: importing one (as a library
    or a test may do first) would replace ``nbn.why`` by the module ``nbflow.notebook.why``."""
    import importlib
    import pkgutil

    import nbflow.notebook as nbn

    for info in pkgutil.iter_modules(nbn.__path__):
        importlib.import_module(f"nbflow.notebook.{info.name}")
    for name, module in nbn._LAZY.items():
        value = getattr(nbn, name)
        assert not isinstance(value, type(nbn)), f"nbn.{name} is a module"
        assert value is getattr(importlib.import_module(module), name)
