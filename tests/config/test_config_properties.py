"""Hypothesis property tests for nbflow.config: valid values survive, invalid ones are caught."""

from __future__ import annotations

from hypothesis import assume, given
from hypothesis import strategies as st

from nbflow.config import (
    Any,
    Array,
    Field,
    Int,
    Noneable,
    Permissive,
    Shape,
    String,
    resolve_config,
)

names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12)
ints = st.integers()
json_like = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=10,
)


@given(st.dictionaries(names, ints))
def test_any_dict_of_ints_fits_a_shape_of_ints_unchanged(value: dict[str, int]) -> None:
    schema = Shape(dict.fromkeys(value, int))
    assert resolve_config(schema, value) == (value, [])


@given(st.dictionaries(names, ints, min_size=1), st.data())
def test_every_missing_required_field_is_reported(
    value: dict[str, int], data: st.DataObject
) -> None:
    schema = Shape(dict.fromkeys(value, int))
    dropped = data.draw(st.sets(st.sampled_from(sorted(value)), min_size=1))
    given_value = {k: v for k, v in value.items() if k not in dropped}
    _, problems = resolve_config(schema, given_value)
    assert sorted(problems) == sorted(
        f"root: missing required field {name!r} (Int)" for name in dropped
    )


@given(st.dictionaries(names, ints), st.dictionaries(names, ints))
def test_defaults_fill_exactly_the_missing_fields(
    defaults: dict[str, int], given_value: dict[str, int]
) -> None:
    given_value = {k: v for k, v in given_value.items() if k in defaults}
    schema = Shape({k: Field(int, default_value=d) for k, d in defaults.items()})
    assert resolve_config(schema, given_value) == ({**defaults, **given_value}, [])


@given(st.lists(st.integers() | st.text() | st.booleans() | st.none()))
def test_array_problems_match_exactly_the_non_int_items(items: list[object]) -> None:
    _, problems = resolve_config(Array(Int), items)
    bad = [i for i, x in enumerate(items) if not isinstance(x, int) or isinstance(x, bool)]
    assert [p.split(":")[0] for p in problems] == [f"root[{i}]" for i in bad]


@given(json_like)
def test_any_accepts_everything_unchanged(value: object) -> None:
    assert resolve_config(Any, value) == (value, [])


@given(st.dictionaries(st.text(), json_like))
def test_empty_permissive_keeps_any_dict(value: dict[str, object]) -> None:
    assert resolve_config(Permissive(), value) == (value, [])


@given(st.none() | st.text())
def test_noneable_string_accepts_none_and_strings(value: str | None) -> None:
    assert resolve_config(Noneable(String), value) == (value, [])


@given(st.dictionaries(names, ints, min_size=1), names)
def test_unknown_keys_are_always_reported(value: dict[str, int], extra: str) -> None:
    assume(extra not in value)
    schema = Shape(dict.fromkeys(value, int))
    _, problems = resolve_config(schema, {**value, extra: 1})
    assert len(problems) == 1
    assert problems[0].startswith(f"root: unknown field {extra!r}.")
