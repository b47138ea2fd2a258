"""hash_parts and canonical: framing, type tags, ordering and errors."""

from __future__ import annotations

import enum
import hashlib
from types import MappingProxyType

import pytest

from nbflow.errors import UnversionableValueError
from nbflow.versioning import canonical, hash_parts


class Colour(enum.Enum):
    RED = 1
    GREEN = 2


class Level(enum.IntEnum):
    LOW = 1


def test_hash_parts_is_sha256_of_length_prefixed_chunks() -> None:
    expected = hashlib.sha256(
        (3).to_bytes(8, "big") + b"dom" + (2).to_bytes(8, "big") + b"ab" + (0).to_bytes(8, "big")
    ).hexdigest()
    assert hash_parts("dom", "ab", "") == expected


def test_hash_parts_framing_is_unambiguous() -> None:
    assert hash_parts("d", "ab", "c") != hash_parts("d", "a", "bc")
    assert hash_parts("d", "abc") != hash_parts("d", "ab", "c")
    assert hash_parts("d", "") != hash_parts("d")
    assert hash_parts("d1", "x") != hash_parts("d", "1x")


def test_hash_parts_counts_utf8_bytes_and_long_parts() -> None:
    assert hash_parts("d", "é") != hash_parts("d", "e")
    long = "x" * 1000
    expected = hashlib.sha256(
        (1).to_bytes(8, "big") + b"d" + (1000).to_bytes(8, "big") + long.encode()
    ).hexdigest()
    assert hash_parts("d", long) == expected


@pytest.mark.parametrize(
    ("value", "encoding"),
    [
        (None, "N"),
        (True, "T"),
        (False, "F"),
        (1, "i1;"),
        (-255, "i-ff;"),
        (1.0, "f1.0;"),
        (float("nan"), "fnan;"),
        (float("-inf"), "f-inf;"),
        ("1", "s1:1"),
        ("", "s0:"),
        (b"\x00\xff", "y2:00ff"),
        ([1, "a"], "l2[i1;s1:a]"),
        ((1,), "t1(i1;)"),
        ({"b": 1, "a": None}, "d2{s1:aNs1:bi1;}"),
        ({3, 1, 2}, "e3{i1;i2;i3;}"),
        (frozenset({"b", "a"}), "z2{s1:as1:b}"),
        (Colour.RED, "Es6:Colours3:RED"),
        (MappingProxyType({"a": 1}), "d1{s1:ai1;}"),
    ],
    ids=lambda v: repr(v)[:20],
)
def test_canonical_encodings(value: object, encoding: str) -> None:
    assert canonical(value) == encoding


def test_one_float_true_and_string_one_all_differ() -> None:
    encodings = {canonical(v) for v in (1, 1.0, True, "1", b"1", Level.LOW, (1,), [1])}
    assert len(encodings) == 8


def test_list_tuple_set_frozenset_differ() -> None:
    encodings = {canonical(v) for v in ([1], (1,), {1}, frozenset({1}))}
    assert len(encodings) == 4


def test_dict_key_order_never_matters() -> None:
    forward = {f"k{i}": i for i in range(50)}
    backward = dict(reversed(list(forward.items())))
    assert canonical(forward) == canonical(backward)


def test_dict_keys_of_mixed_types() -> None:
    value = {1: "int", "1": "str", (1, 2): "tuple", None: "none", Colour.GREEN: "enum"}
    assert canonical(value) == canonical(dict(reversed(list(value.items()))))


def test_subclasses_encode_as_their_base() -> None:
    class Name(str):
        pass

    class Big(int):
        def __repr__(self) -> str:
            return "Big!"

    assert canonical(Name("a")) == canonical("a")
    assert canonical(Big(5)) == canonical(5)


def test_huge_ints_are_encoded() -> None:
    assert canonical(10**5000) != canonical(10**5000 + 1)


def test_unsupported_type_raises_with_path() -> None:
    expected = r"value\['a'\]\[1\]: values of type 'object'"
    with pytest.raises(UnversionableValueError, match=expected):
        canonical({"a": [1, object()]})


def test_unsupported_dict_key_and_set_element() -> None:
    with pytest.raises(UnversionableValueError, match=r"value\[0\] \(a dict key\)"):
        canonical([{object(): 1}])
    with pytest.raises(UnversionableValueError, match="a set element"):
        canonical({1.5j})


def test_bytearray_and_complex_are_not_config_values() -> None:
    for value in (bytearray(b"x"), 1j):
        with pytest.raises(UnversionableValueError, match="Fix: convert the value"):
            canonical(value)


def test_self_containing_value_raises() -> None:
    value: list[object] = []
    value.append(value)
    with pytest.raises(UnversionableValueError, match="contains itself"):
        canonical(value)
