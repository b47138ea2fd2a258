"""Parameters are data: the injected cell, names, warnings and command-line values (no kernel)."""

from __future__ import annotations

import ast
import base64
import pickle
import warnings
from typing import Any

import nbformat
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nbflow.errors import (
    NbflowWarning,
    NotebookError,
    NotebookParameterError,
    NotebookParameterWarning,
)
from nbflow.notebook.injection import check_parameters, inject_parameters
from nbflow.notebook.param_sweep import parameter_grid
from nbflow.notebook.parameters import (
    INJECTED_COMMENT,
    declared_parameters,
    json_safe,
    parse_parameter_value,
    render_parameters,
    render_value,
)

INJECTION = '"; import os; os.system("touch PWNED"); "'
NASTY = [
    INJECTION,
    "line one\nline two\r\n\ttabbed",
    "'''; import os; '''",
    '"""\nimport os\n"""',
    "\\",
    '\\"; import os; #',
    "\x00\x1b[31m\u2028\ud800",
    "{x}",
    "é — ☃ 🐍",
]

plain = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
    | st.binary(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=5) | st.integers(), inner, max_size=4)
    ),
    max_leaves=12,
)


def run_cell(source: str) -> dict[str, Any]:
    """Execute an injected cell with no builtins beyond __import__ and return its variables."""
    tree = ast.parse(source)
    assert all(isinstance(node, ast.Assign) for node in tree.body)
    namespace: dict[str, Any] = {"__builtins__": {"__import__": __import__}}
    exec(compile(tree, "<injected>", "exec"), namespace)
    namespace.pop("__builtins__")
    return namespace


@pytest.mark.parametrize("text", NASTY, ids=range(len(NASTY)))
def test_a_hostile_string_is_one_string_literal(text: str) -> None:
    rendered = render_value(text)
    assert isinstance(ast.parse(rendered, mode="eval").body, ast.Constant)
    assert ast.literal_eval(rendered) == text


@given(plain)
def test_plain_data_renders_as_a_literal_that_round_trips(value: Any) -> None:
    rendered = render_value(value)
    assert "pickle" not in rendered
    assert ast.literal_eval(rendered) == value


@given(st.text())
def test_any_text_round_trips(text: str) -> None:
    assert ast.literal_eval(render_value(text)) == text


class Sneaky(str):
    """A str subclass whose repr would be code."""

    def __repr__(self) -> str:
        return "__import__('os').system('touch PWNED')"


@pytest.mark.parametrize(
    "value",
    [
        {1, 2},
        frozenset({"a"}),
        Sneaky("hi"),
        float("nan"),
        float("-inf"),
        10**5000,
        {"nested": {3, 4}},
        {frozenset({"key"}): 1},
    ],
    ids=[
        "set",
        "frozenset",
        "str-subclass",
        "nan",
        "-inf",
        "huge-int",
        "nested-set",
        "frozenset-key",
    ],
)
def test_other_values_travel_as_a_pickle(value: Any) -> None:
    rendered = render_value(value)
    call = ast.parse(rendered, mode="eval").body
    assert isinstance(call, ast.Call)
    payload = ast.literal_eval(call.args[0].args[0])  # type: ignore[attr-defined]
    back = pickle.loads(base64.b64decode(payload))
    assert type(back) is type(value)
    assert back == value or (value != value and back != back)


def test_a_value_that_contains_itself_is_pickled() -> None:
    loop: list[Any] = [1]
    loop.append(loop)
    back = run_cell(render_parameters({"loop": loop}))["loop"]
    assert back[0] == 1 and back[1] is back


def test_the_injected_cell_only_assigns_values() -> None:
    params = {"text": INJECTION, "n": 3, "pair": (1, "a"), "tags": {"x"}, "nothing": None}
    source = render_parameters(params)
    assert source.startswith(INJECTED_COMMENT)
    assert run_cell(source) == params


@pytest.mark.parametrize(
    "name", ["x = 1\nimport os", "not valid", "class", "", "1x", "a-b"], ids=repr
)
def test_names_that_are_not_identifiers_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="not Python identifiers"):
        render_parameters({name: 1})
    nb = nbformat.v4.new_notebook()
    with pytest.raises(NotebookParameterError, match=r"not Python identifiers[\s\S]*Fix: use"):
        check_parameters(nb, {name: 1}, "demo.ipynb")


def test_declared_parameters_reads_top_level_assignments() -> None:
    source = (
        "x = 1\nalpha: float = 0.5\na, b = 1, 2\ncount += 1\n# hidden = 3\nif x:\n    inner = 4"
    )
    assert declared_parameters(source) == ["x", "alpha", "a", "b", "count"]
    assert declared_parameters("%matplotlib inline\nx = 1\ny: int = 2\nz == 3") == ["x", "y"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3", 3),
        ("1.5", 1.5),
        ("true", True),
        ("null", None),
        ("[1, 2]", [1, 2]),
        ('"3"', "3"),
        ("a", "a"),
        ("hello world", "hello world"),
        ("-1", -1),
        ("{x", "{x"),
    ],
)
def test_cli_values_are_json_when_they_parse(text: str, expected: Any) -> None:
    assert parse_parameter_value(text) == expected
    assert type(parse_parameter_value(text)) is type(expected)


def test_parameter_grid_is_the_cartesian_product_in_order() -> None:
    grid = parameter_grid({"x": [1, 2, 3], "y": ["a", "b"]})
    assert len(grid) == 6
    assert grid[:3] == [{"x": 1, "y": "a"}, {"x": 1, "y": "b"}, {"x": 2, "y": "a"}]


@pytest.mark.parametrize("bad", [{"x": []}, {"x": "abc"}], ids=["empty", "string"])
def test_parameter_grid_refuses_names_without_a_list_of_values(bad: dict[str, Any]) -> None:
    with pytest.raises(NotebookError, match="Expected each name to map to a list"):
        parameter_grid(bad)


def _notebook(*cells: Any) -> Any:
    return nbformat.v4.new_notebook(cells=list(cells))


def _parameters_cell(source: str) -> Any:
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["tags"] = ["parameters"]
    return cell


def test_the_cell_goes_after_the_parameters_cell_and_replaces_an_old_one() -> None:
    nb = _notebook(
        nbformat.v4.new_markdown_cell("# title"),
        _parameters_cell("x = 1"),
        nbformat.v4.new_code_cell("print(x)"),
    )
    inject_parameters(nb, {"x": 2})
    inject_parameters(nb, {"x": 3})
    tags = [c.metadata.get("tags", []) for c in nb.cells]
    assert tags == [[], ["parameters"], ["injected-parameters"], []]
    assert nb.cells[2].source.endswith("x = 3\n")
    assert nb.metadata.papermill.parameters == {"x": 3}


def test_metadata_describes_values_it_cannot_hold() -> None:
    assert json_safe({"a": [1, "b"], "s": {1}}) == {
        "a": [1, "b"],
        "s": {"nbflow/pickled": "builtins.set"},
    }


def test_no_parameters_cell_warns_and_injects_at_the_top() -> None:
    nb = _notebook(nbformat.v4.new_code_cell("print(x)"))
    with pytest.warns(NotebookParameterWarning, match=r"no cell tagged 'parameters'[\s\S]*Fix:"):
        check_parameters(nb, {"x": 1}, "plain.ipynb")
    inject_parameters(nb, {"x": 1})
    assert nb.cells[0].metadata["tags"] == ["injected-parameters"]


def test_an_undeclared_parameter_warns_naming_the_declared_ones() -> None:
    nb = _notebook(_parameters_cell("alpha = 1\nbeta = 2"))
    with pytest.warns(NbflowWarning, match=r"'alphaa'.*declares: 'alpha', 'beta'.*'alpha'\?"):
        check_parameters(nb, {"alphaa": 1, "beta": 3}, "model.ipynb")


def test_declared_parameters_and_no_parameters_do_not_warn() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_parameters(_notebook(_parameters_cell("alpha = 1")), {"alpha": 2}, "a.ipynb")
        check_parameters(_notebook(nbformat.v4.new_code_cell("1")), {}, "b.ipynb")
