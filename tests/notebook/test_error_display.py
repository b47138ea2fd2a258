"""nbflow's errors in IPython: short (the user's frames, the message and its fix), with the
full traceback one flag away. Each test drives a real ``InteractiveShell`` in a fresh
interpreter (a shell made in the test process would make every later test think it runs in
IPython)."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap

import pytest

SETUP = """
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
def cell(source):
    print("=== cell", flush=True)
    shell.run_cell(source, store_history=True)
    print(flush=True)
cell('''
import nbflow.notebook as nbn
from nbflow import job, op

@op(config_schema={"n": int})
def first(context):
    return context.op_config["n"]

@op
def second(x):
    raise KeyError("missing column")

@job
def pair():
    second(first())

BAD = {"ops": {"first": {"config": {"n": "many"}}}}
''')
"""


def run_shell(script: str) -> list[str]:
    """What each cell of ``script`` (after SETUP) printed, in order."""
    code = SETUP + textwrap.dedent(script)
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.split("=== cell\n")[2:]


def nbflow_frames(text: str) -> list[str]:
    return [line for line in text.splitlines() if "/nbflow/" in line]


def test_a_config_error_shows_the_users_cell_and_the_fix_without_nbflow_frames() -> None:
    (shown,) = run_shell("cell('nbn.run(pair, BAD)')")

    assert "Cell In[2], line 1" in shown and "nbn.run(pair, BAD)" in shown
    assert "RunConfigValidationError: Run config for job 'pair' is invalid" in shown
    assert "Fix the values at the paths above" in shown
    assert "nbflow frames left out; nbn.show_tracebacks(True) or %tb shows them" in shown
    assert nbflow_frames(shown) == []


def test_the_full_traceback_is_one_flag_or_one_magic_away() -> None:
    short, full_last, flagged, short_again = run_shell(
        """
        cell('nbn.run(pair, BAD)')
        cell('%tb')
        cell('nbn.show_tracebacks(True)\\nnbn.run(pair, BAD)')
        cell('nbn.show_tracebacks(False)\\nnbn.run(pair, BAD)')
        """
    )

    assert nbflow_frames(short) == [] and nbflow_frames(short_again) == []
    assert any("live.py" in line for line in nbflow_frames(full_last))
    assert any("live.py" in line for line in nbflow_frames(flagged))


def test_an_op_error_raised_from_a_run_shows_the_op_line_in_its_cell() -> None:
    (shown,) = run_shell(
        """
        cell('''
        from nbflow.errors import OpError
        try:
            pair.execute_in_process({"ops": {"first": {"config": {"n": 1}}}}, raise_on_error=True)
        except KeyError as exc:
            raise OpError.wrap("second", exc) from exc
        ''')
        """
    )

    assert re.search(r"Cell In\[1\], line \d+, in second\n    raise KeyError", shown)
    assert "OpError: Error in op 'second': KeyError" in shown
    assert nbflow_frames(shown) == []


def test_an_op_error_raised_by_a_run_shows_the_users_frames_without_the_engines() -> None:
    (shown,) = run_shell(
        """cell('pair.execute_in_process({"ops": {"first": {"config": {"n": 1}}}})')"""
    )

    assert "Cell In[2], line 1" in shown and "pair.execute_in_process(" in shown
    assert re.search(r"Cell In\[1\], line \d+, in second\n    raise KeyError", shown)
    assert "KeyError: 'missing column'" in shown
    assert "nbflow frames left out; nbn.show_tracebacks(True) or %tb shows them" in shown
    assert nbflow_frames(shown) == []


def test_an_error_that_never_went_through_nbflow_keeps_ipythons_traceback() -> None:
    _, ours, _, plain = run_shell(
        """
        cell('def f():\\n    return {}["k"]')
        cell('f()')
        cell('get_ipython().set_custom_exc((), None)')
        cell('f()')
        """
    )

    assert "KeyError" in ours and "left out" not in ours
    assert ours.replace("In[3]", "In[?]") == plain.replace("In[5]", "In[?]")


def test_a_custom_handler_someone_else_installed_is_left_alone() -> None:
    (shown,) = run_shell(
        """
        cell('''
        from nbflow.notebook import error_display
        def mine(shell, etype, value, tb, tb_offset=None):
            print("MINE", etype.__name__)
        get_ipython().set_custom_exc((ValueError,), mine)
        print(error_display.register(), get_ipython().custom_exceptions)
        nbn.run(pair, BAD)
        ''')
        """
    )

    assert "False (<class 'ValueError'>,)" in shown
    assert "MINE RunConfigValidationError" in shown


@pytest.mark.parametrize("load", ["%load_ext nbflow.notebook", "import nbflow.notebook"])
def test_the_handler_is_installed_by_the_import_or_the_extension(load: str) -> None:
    code = (
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "shell = InteractiveShell.instance()\n"
        f"shell.run_cell({load!r})\n"
        "print(shell.custom_exceptions == (Exception,))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().endswith("True")
