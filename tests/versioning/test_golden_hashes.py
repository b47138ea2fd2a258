"""Pinned digests: versions must not drift across nbflow releases, processes or machines.

Changing any literal here invalidates every stored output: it is a reviewed, changelogged
event, never a casual update to make a test pass.
"""

from __future__ import annotations

import dataclasses
import enum
import linecache
import textwrap
from typing import Any

import pytest

from nbflow.versioning import (
    VALUE_SOURCE,
    VersionParts,
    canonical,
    fingerprint,
    hash_parts,
    source_version,
)


class Colour(enum.Enum):
    RED = 1


@dataclasses.dataclass(frozen=True)
class Point:
    x: int
    y: float


@pytest.mark.parametrize(
    ("parts", "digest"),
    [
        (("ab", "c"), "5a54e95679785a18fab385ebb39ff338298819bd53d365d735921082941720f3"),
        (("a", "bc"), "4e60a52a890692cc69f4062907a08f9b15103f5697f268208c95f3e24dfd506b"),
        ((), "352942cd0a9cc1249acb71c45d1d45feb331b9d0aab77cec7c8b303f0b7f9405"),
        (("é", ""), "3627a664ac151444286e7f7c7d2de0295c93d053be0c6811b7790bf7bfc480d7"),
    ],
    ids=["ab-c", "a-bc", "no-parts", "unicode-empty"],
)
def test_hash_parts_golden(parts: tuple[str, ...], digest: str) -> None:
    assert hash_parts("nbflow.test", *parts) == digest


@pytest.mark.parametrize(
    ("value", "encoding", "digest"),
    [
        (None, "N", "6932a0d6f5dde03abbb74409d1a070a4d560d906"),
        (1, "i1;", "a8b6441e2c8996e954495a0925cf0e37c590246a"),
        (1.0, "f1.0;", "bcba6913a943732d397fafa3e8fa2a5242a45f87"),
        (True, "T", "0d260135bc3401b09f37a440dfbbf3be4f384c99"),
        ("1", "s1:1", "f272c2e01e04bb1876b8164c62a48a6ba10a1e04"),
        (b"1", "y1:31", "49f253c06e740acbc5f328b9d8334b0635db51e8"),
        ([1, "a"], "l2[i1;s1:a]", "bed23dbdb7bce0f4f00df27a3d30581d4ec18638"),
        ((1, None), "t2(i1;N)", "b7182642990761a814e73504a746d246d08c1a95"),
        (
            {"b": [1, 2.5], "a": {"x", "y"}},
            "d2{s1:ae2{s1:xs1:y}s1:bl2[i1;f2.5;]}",
            "eb3f718ae88016ba27d1d260195987666011617f",
        ),
        (Colour.RED, "Es6:Colours3:RED", "a5cf4a204c0041cf54ba6adea45daab6274e0ba8"),
    ],
    ids=["none", "int", "float", "bool", "str", "bytes", "list", "tuple", "dict", "enum"],
)
def test_canonical_and_fingerprint_golden(value: object, encoding: str, digest: str) -> None:
    assert canonical(value) == encoding
    assert fingerprint(value) == digest


def test_dataclass_fingerprint_golden() -> None:
    assert fingerprint(Point(1, 2.5)) == "facd5f57567b3c0127121b077c0be46e870c08f7"


GOLDEN_SOURCE = textwrap.dedent(
    '''
    @op(version="ignored")
    def emit_tree(context, species: str = "oak") -> dict:
        """Grow a tree."""
        # comments never count
        return {"species": species, "height": 3.5}
    '''
).lstrip()


def test_source_version_golden(monkeypatch: pytest.MonkeyPatch) -> None:
    filename = "<ipython-input-7-golden>"
    monkeypatch.setitem(
        linecache.cache,
        filename,
        (len(GOLDEN_SOURCE), None, GOLDEN_SOURCE.splitlines(True), filename),
    )
    namespace: dict[str, Any] = {"__name__": "cell", "op": lambda **kw: lambda fn: fn}
    exec(compile(GOLDEN_SOURCE, filename, "exec"), namespace)
    assert source_version(namespace["emit_tree"]) == "e64044c1ad2afd83fa37b7f7bdbcbb914399c6cb"


def test_version_parts_golden() -> None:
    assert fingerprint("oak") == "4787e5b11b861adfef78f4e678e9d2faf5a9b43e"
    assert fingerprint(3) == "48369ce361fe3f2b58b7707421def13760dda728"
    parts = VersionParts(
        op_version="v1",
        config=(("tree_species", fingerprint("oak")),),
        resources=(("db", "v3"),),
        unversioned_resources=("log",),
        inputs=(("n", VALUE_SOURCE, fingerprint(3)), ("tree", "emit_tree.result", "0" * 40)),
        output_name="result",
    )
    assert parts.version == "28b7ca93314fcc0d0f7806fe1e28666eb4cf36fa"


def test_array_and_frame_fingerprints_golden() -> None:
    """Buffers are hashed with xxh3-128 in 4 MiB chunks (since fingerprints of arrays moved
    off sha256 over a copy); large ones by several threads, with the same result."""
    np = pytest.importorskip("numpy")
    pd = pytest.importorskip("pandas")
    assert (
        fingerprint(np.arange(6, dtype="int64").reshape(2, 3))
        == "0bd354d21f3a918be7bcd6bd7618580daf4e496e"
    )
    frame = pd.DataFrame({"x": [1.5, 2.5], "n": [1, 2]}, index=pd.Index([10, 20], name="k"))
    assert fingerprint(frame) == "314bcd4d2795caef97ab90a3196a36d6e1123806"
    assert fingerprint(pd.Series([1, 2], name="n")) == "4dae1d7e4f56692c6d95325f57f9005c0149fbba"
    big = np.arange(5_000_000, dtype="int64")  # 40 MB: ten chunks, hashed in parallel
    assert fingerprint(big) == "faf98c181f06731df92cd4e77c490fc17df3fc07"
