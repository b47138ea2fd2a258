"""fingerprint: canonical values, dataclasses, the registry, numpy/pandas, and refusals."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from nbflow.errors import UnversionableValueError, VersioningError
from nbflow.versioning import canonical, fingerprint, hash_parts, register_fingerprint

ROOT = Path(__file__).resolve().parents[2]


@dataclasses.dataclass(frozen=True)
class Point:
    x: int
    y: int


@dataclasses.dataclass
class Box:
    corner: Point
    tags: list[str]


class Opaque:
    """A type nbflow knows nothing about."""


class Celsius:
    def __init__(self, degrees: float) -> None:
        self.degrees = degrees


register_fingerprint(Celsius, lambda c: ("celsius", c.degrees))


def test_canonical_values_hash_their_canonical_encoding() -> None:
    value = {"a": [1, 2.5, None], "b": {"x", "y"}}
    assert fingerprint(value) == hash_parts("nbflow.value.v1", canonical(value))[:40]


def test_fingerprint_format() -> None:
    digest = fingerprint("anything")
    assert len(digest) == 40
    assert set(digest) <= set("0123456789abcdef")


def test_dataclass_by_qualname_and_fields() -> None:
    assert fingerprint(Point(1, 2)) == fingerprint(Point(1, 2))
    assert fingerprint(Point(1, 2)) != fingerprint(Point(2, 1))
    assert fingerprint(Point(1, 2)) != fingerprint((1, 2))
    nested = Box(Point(0, 0), ["a"])
    assert fingerprint(nested) == fingerprint(Box(Point(0, 0), ["a"]))
    assert fingerprint(nested) != fingerprint(Box(Point(0, 1), ["a"]))


def test_dataclass_class_name_counts() -> None:
    @dataclasses.dataclass(frozen=True)
    class Other:
        x: int
        y: int

    assert fingerprint(Other(1, 2)) != fingerprint(Point(1, 2))


def test_dataclass_type_itself_is_not_fingerprinted_as_instance() -> None:
    with pytest.raises(UnversionableValueError, match="type 'type'"):
        fingerprint(Point)


def test_registered_type_top_level_and_nested() -> None:
    assert fingerprint(Celsius(20.0)) == fingerprint(Celsius(20.0))
    assert fingerprint(Celsius(20.0)) != fingerprint(Celsius(21.0))
    assert fingerprint({"t": [Celsius(1.0)]}) == fingerprint({"t": [Celsius(1.0)]})
    assert fingerprint({"t": [Celsius(1.0)]}) != fingerprint({"t": [Celsius(2.0)]})
    # the token alone is not the fingerprint: the type takes part
    assert fingerprint(Celsius(1.0)) != fingerprint(("celsius", 1.0))


def test_registration_covers_subclasses() -> None:
    class Kelvin(Celsius):
        pass

    assert fingerprint(Kelvin(1.0)) != fingerprint(Celsius(1.0))  # qualname differs
    assert fingerprint(Kelvin(1.0)) == fingerprint(Kelvin(1.0))


def test_registered_str_subclass_overrides_canonical_rules() -> None:
    class Secret(str):
        pass

    class Plain(str):
        pass

    register_fingerprint(Secret, lambda s: "redacted")
    assert fingerprint(Secret("a")) == fingerprint(Secret("b"))
    assert fingerprint(Plain("a")) == fingerprint("a")


def test_register_fingerprint_returns_fn_and_refuses_builtin_types() -> None:
    def fn(value: Opaque) -> str:
        return "x"

    class Mine:
        pass

    assert register_fingerprint(Mine, fn) is fn  # type: ignore[arg-type]
    with pytest.raises(VersioningError, match="'dict' has a built-in fingerprint"):
        register_fingerprint(dict, lambda d: "x")
    with pytest.raises(VersioningError, match="needs a class"):
        register_fingerprint(Opaque(), fn)  # type: ignore[arg-type]


def test_unsupported_value_message_names_type_and_remedies() -> None:
    with pytest.raises(UnversionableValueError) as info:
        fingerprint({"rows": [1, Opaque()]})
    message = str(info.value)
    assert message.startswith("Cannot fingerprint value['rows'][1]: ")
    assert "of type 'versioning.test_fingerprint.Opaque'" in message or (
        "of type 'tests.versioning.test_fingerprint.Opaque'" in message
    )
    assert "nbflow.versioning.register_fingerprint(Opaque, fn)" in message
    assert "version=" in message
    assert "upstream op" in message
    assert "0x" not in message


def test_unsupported_dataclass_field_path() -> None:
    @dataclasses.dataclass
    class Holder:
        inner: object

    with pytest.raises(UnversionableValueError, match=r"value\[0\]\.inner: "):
        fingerprint([Holder(Opaque())])


@pytest.mark.parametrize(
    "value",
    [object(), lambda: 1, print, iter([1]), 1j, bytearray(b"a")],
    ids=["object", "lambda", "builtin", "iterator", "complex", "bytearray"],
)
def test_values_with_only_an_address_repr_are_refused(value: object) -> None:
    with pytest.raises(UnversionableValueError):
        fingerprint(value)


def test_registered_fn_returning_its_own_type_is_reported() -> None:
    class Loop:
        pass

    register_fingerprint(Loop, lambda loop: loop)
    with pytest.raises(UnversionableValueError, match="contains itself"):
        fingerprint(Loop())


# --- numpy and pandas ------------------------------------------------------------------------


def test_numpy_arrays() -> None:
    import numpy as np

    a = np.arange(6, dtype="int64")
    assert fingerprint(a) == fingerprint(np.arange(6, dtype="int64"))
    assert fingerprint(a) != fingerprint(np.arange(6, dtype="int32"))
    assert fingerprint(a) != fingerprint(a.reshape(2, 3))
    assert fingerprint(a) != fingerprint(np.arange(1, 7, dtype="int64"))
    assert fingerprint(a.reshape(2, 3).T) == fingerprint(np.ascontiguousarray(a.reshape(2, 3).T))
    assert fingerprint({"a": a}) == fingerprint({"a": a.copy()})


def test_numpy_object_arrays_fingerprint_their_elements() -> None:
    import numpy as np

    a = np.array([1, "x", None], dtype=object)
    assert fingerprint(a) == fingerprint(np.array([1, "x", None], dtype=object))
    assert fingerprint(a) != fingerprint(np.array([1, "y", None], dtype=object))
    with pytest.raises(UnversionableValueError, match="Opaque"):
        fingerprint(np.array([Opaque()], dtype=object))


def test_numpy_scalars() -> None:
    import numpy as np

    assert fingerprint(np.int64(3)) == fingerprint(np.int64(3))
    assert fingerprint(np.int64(3)) != fingerprint(np.int32(3))
    assert fingerprint(np.float64(1.5)) != fingerprint(np.float64(2.5))


def test_pandas_objects_only_when_pandas_is_imported(monkeypatch: pytest.MonkeyPatch) -> None:
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"a": [1, 2]})
    monkeypatch.delitem(sys.modules, "pandas")
    with pytest.raises(UnversionableValueError):
        fingerprint(frame)
    monkeypatch.setitem(sys.modules, "pandas", pd)
    assert fingerprint(frame) == fingerprint(pd.DataFrame({"a": [1, 2]}))


def _frames() -> dict[str, Any]:
    import numpy as np
    import pandas as pd

    n = 5
    return {
        "float": pd.DataFrame({"x": np.linspace(0, 1, n)}),
        "int and str": pd.DataFrame({"i": range(n), "s": [f"k{i}" for i in range(n)]}),
        "categorical": pd.DataFrame({"c": pd.Categorical(["a", "b", "a", "c", "b"])}),
        "datetime": pd.DataFrame({"t": pd.date_range("2024-01-01", periods=n, freq="h")}),
        "datetime tz": pd.DataFrame(
            {"t": pd.date_range("2024-01-01", periods=n, freq="h", tz="Europe/Paris")}
        ),
        "nullable": pd.DataFrame({"n": pd.array([1, None, 3, 4, None], dtype="Int64")}),
        "object": pd.DataFrame({"o": [1, "a", None, 2.5, "b"]}),
        "named index": pd.DataFrame({"x": range(n)}, index=pd.Index(list("vwxyz"), name="k")),
        "multiindex": pd.DataFrame(
            {"x": range(4)}, index=pd.MultiIndex.from_product([[1, 2], ["a", "b"]])
        ),
        "series": pd.Series(range(n), name="s"),
    }


@pytest.mark.parametrize("kind", list(_frames()))
def test_pandas_fingerprints_follow_content_and_nothing_else(kind: str) -> None:
    pytest.importorskip("pandas")
    value = _frames()[kind]
    assert fingerprint(value) == fingerprint(_frames()[kind].copy())
    changed = value.copy()
    if hasattr(changed, "columns"):
        changed.iloc[1, 0] = changed.iloc[2, 0]
    else:
        changed.iloc[1] = changed.iloc[2]
    assert fingerprint(changed) != fingerprint(value)
    renamed = value.rename("other") if not hasattr(value, "columns") else value.add_prefix("p")
    assert fingerprint(renamed) != fingerprint(value)


def test_pandas_fingerprints_tell_dtypes_index_and_timezones_apart() -> None:
    pd = pytest.importorskip("pandas")
    ints = pd.DataFrame({"x": [1, 2, 3]})
    assert fingerprint(ints) != fingerprint(ints.astype("int32"))
    assert fingerprint(ints) != fingerprint(ints.astype("float64"))
    assert fingerprint(ints) != fingerprint(ints.set_axis([3, 4, 5]))
    utc = pd.DataFrame({"t": pd.date_range("2024-01-01", periods=3, tz="UTC")})
    assert fingerprint(utc) != fingerprint(utc.assign(t=utc.t.dt.tz_convert("Europe/Paris")))


def test_array_fingerprints_hash_the_buffer_of_any_layout() -> None:
    np = pytest.importorskip("numpy")
    grid = np.arange(12, dtype="int64").reshape(3, 4)
    assert fingerprint(grid.T) == fingerprint(np.ascontiguousarray(grid.T))
    assert fingerprint(grid.T) != fingerprint(grid)
    assert fingerprint(grid) != fingerprint(grid.reshape(4, 3))
    stamps = np.array(["2024-01-01", "2024-01-02"], dtype="datetime64[ns]")
    assert fingerprint(stamps) != fingerprint(stamps.view("int64"))


def test_fingerprinting_never_imports_numpy_or_pandas() -> None:
    code = (
        "import sys, dataclasses\n"
        "from nbflow.versioning import fingerprint\n"
        "@dataclasses.dataclass\n"
        "class P:\n"
        "    x: int\n"
        "fingerprint({'a': [1, P(2)]})\n"
        "try:\n"
        "    fingerprint(object())\n"
        "except Exception:\n"
        "    pass\n"
        "print(sorted(m for m in ('numpy', 'pandas') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert out.stdout.strip() == "[]"
