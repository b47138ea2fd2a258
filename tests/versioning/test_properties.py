"""Hypothesis properties of hashing: order independence, type distinctness, no collisions."""

from __future__ import annotations

import copy
import enum
from typing import Any

from hypothesis import assume, given
from hypothesis import strategies as st

from nbflow.versioning import VersionParts, canonical, fingerprint, hash_parts


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


hashable_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=8)
    | st.binary(max_size=8)
    | st.sampled_from(Colour)
)
hashables = st.recursive(
    hashable_scalars,
    lambda inner: st.tuples(inner, inner) | st.frozensets(inner, max_size=4),
    max_leaves=8,
)
values = st.recursive(
    hashable_scalars | st.floats(),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(hashables, inner, max_size=4)
        | st.sets(hashables, max_size=4)
        | st.frozensets(hashables, max_size=4)
    ),
    max_leaves=16,
)


@given(st.dictionaries(hashables, values, max_size=8), st.randoms())
def test_dict_key_order_never_changes_canonical_or_fingerprint(
    mapping: dict[Any, Any], random: Any
) -> None:
    items = list(mapping.items())
    random.shuffle(items)
    shuffled = dict(items)
    assert canonical(shuffled) == canonical(mapping)
    assert fingerprint(shuffled) == fingerprint(mapping)


@given(st.lists(hashables, max_size=10, unique=True), st.randoms())
def test_set_insertion_order_never_matters(elements: list[Any], random: Any) -> None:
    reordered = list(elements)
    random.shuffle(reordered)
    assert canonical(set(elements)) == canonical(set(reordered))
    assert fingerprint(frozenset(elements)) == fingerprint(frozenset(reordered))


@given(values)
def test_idempotent_and_copy_stable(value: Any) -> None:
    assert canonical(value) == canonical(value)
    assert canonical(copy.deepcopy(value)) == canonical(value)
    assert fingerprint(copy.deepcopy(value)) == fingerprint(value)


@given(st.text(), st.lists(st.text(), max_size=6), st.lists(st.text(), max_size=6))
def test_distinct_part_lists_never_collide(domain: str, left: list[str], right: list[str]) -> None:
    assume(left != right)
    assert hash_parts(domain, *left) != hash_parts(domain, *right)


@given(st.text(), st.text(), st.lists(st.text(), max_size=4))
def test_distinct_domains_never_collide(first: str, second: str, parts: list[str]) -> None:
    assume(first != second)
    assert hash_parts(first, *parts) != hash_parts(second, *parts)


@given(st.integers())
def test_int_float_bool_and_str_never_collide(number: int) -> None:
    candidates: list[object] = [number, str(number), [number], (number,)]
    if abs(number) < 2**53:
        candidates.append(float(number))
    if number in (0, 1):
        candidates.append(bool(number))
    assert len({canonical(c) for c in candidates}) == len(candidates)
    assert len({fingerprint(c) for c in candidates}) == len(candidates)


def _typed(value: Any) -> Any:
    """A structure equal for two values exactly when they are equal and of the same types."""
    if isinstance(value, list | tuple):
        return (type(value), [_typed(item) for item in value])
    if isinstance(value, dict):
        return (dict, sorted(repr(_typed(item)) for item in value.items()))
    if isinstance(value, set | frozenset):
        return (type(value), sorted(repr(_typed(item)) for item in value))
    if isinstance(value, float):
        return (float, value.hex())
    return (type(value), value)


@given(values, values)
def test_equal_encodings_mean_equal_values(left: Any, right: Any) -> None:
    if canonical(left) == canonical(right):
        assert repr(_typed(left)) == repr(_typed(right))


@given(
    st.text(min_size=1, max_size=10),
    st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=4),
    st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=4),
    st.randoms(),
)
def test_version_parts_ignore_entry_order(
    op_version: str, config: dict[str, str], resources: dict[str, str], random: Any
) -> None:
    config_items = list(config.items())
    resource_items = list(resources.items())
    first = VersionParts.build(
        op_version=op_version,
        output_name="result",
        config=config_items,
        resources=dict(resource_items),
    )
    random.shuffle(config_items)
    random.shuffle(resource_items)
    second = VersionParts.build(
        op_version=op_version,
        output_name="result",
        config=config_items,
        resources=dict(resource_items),
    )
    assert first.version == second.version
    assert VersionParts.from_manifest(first.to_manifest()) == first
