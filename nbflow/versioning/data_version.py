"""The named parts a step output's version is made of, and the version derived from them.

A step output's version is a hash of (ARCHITECTURE.md §3):

- the op's version (explicit ``version=`` or the job's strategy);
- the op's resolved config, defaults included: one fingerprint per top-level key;
- the versions of the resources the op requires (unversioned resources are left out);
- every input: its source (an upstream output handle such as ``"emit_tree.result"``, or
  ``"value"`` for a value given directly) and its version (the upstream output's version, or
  the fingerprint of the value);
- the output's name.

Deliberately excluded, because they do not change what an output contains: tags, retry
policies, the executor, which IO manager stores the output, step aliases and node names (the
op is identified by its version, not by where it sits in a graph), run ids and timestamps.

The parts are kept as a record, not only as a digest, so "why must this run again" is a pure
diff of two records (:func:`nbflow.versioning.explain`). The op's code record (what its
version is made of, when the strategy describes it) travels along for the same purpose; it
is not part of the version (the op version already covers it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from nbflow.errors import UnversionableValueError, VersioningError
from nbflow.versioning.code_record import CodeRecord
from nbflow.versioning.fingerprint import fingerprint_as
from nbflow.versioning.hashing import hash_parts

#: Domain tag of output versions, also the ``format`` of manifests.
OUTPUT_VERSION_FORMAT = "nbflow.output.v1"

#: The source of an input whose value was given directly (``input_values``, run config, default).
VALUE_SOURCE = "value"

#: The source of an input read from a source asset (``key``: the asset key as a path).
SOURCE_ASSET_SOURCE = "source asset {key}"

_LENGTH = 40


@dataclass(frozen=True, slots=True)
class VersionParts:
    """Everything a step output's version is made of, with the version itself.

    Constructing one sorts the keyed fields and computes ``version`` eagerly.

    Attributes:
        op_version: the op's version.
        config: (top-level config key, fingerprint of its resolved value), sorted by key; a
            config that is not a dict is stored under the key ``""``.
        resources: (required resource key, resource version), sorted by key.
        unversioned_resources: required resources whose version is ``None``; they are left
            out of ``version`` and kept to explain why the output is not fully memoized.
        inputs: (input name, source, version), sorted by name; source is an upstream output
            handle like ``"emit_tree.result"`` or ``"value"``.
        output_name: the name of the output.
        version: 40 hex characters derived from all of the above except
            ``unversioned_resources``.
        code: what the op version is made of (:class:`CodeRecord`), when the version
            strategy describes it; kept to explain changes, not part of ``version``.
    """

    op_version: str
    config: tuple[tuple[str, str], ...]
    resources: tuple[tuple[str, str], ...]
    unversioned_resources: tuple[str, ...]
    inputs: tuple[tuple[str, str, str], ...]
    output_name: str
    version: str = field(init=False, compare=False)
    code: CodeRecord | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        config = tuple(sorted(self.config))
        resources = tuple(sorted(self.resources))
        inputs = tuple(sorted(self.inputs))
        object.__setattr__(self, "config", config)
        object.__setattr__(self, "resources", resources)
        object.__setattr__(self, "unversioned_resources", tuple(sorted(self.unversioned_resources)))
        object.__setattr__(self, "inputs", inputs)
        parts = ["op_version", self.op_version, "config", str(len(config))]
        for pair in config:
            parts += pair
        parts += ("resources", str(len(resources)))
        for pair in resources:
            parts += pair
        parts += ("inputs", str(len(inputs)))
        for triple in inputs:
            parts += triple
        parts += ("output_name", self.output_name)
        version = hash_parts(OUTPUT_VERSION_FORMAT, *parts)[:_LENGTH]
        object.__setattr__(self, "version", version)

    @classmethod
    def build(
        cls,
        *,
        op_version: str,
        output_name: str,
        config: Iterable[tuple[str, str]] = (),
        resources: Mapping[str, str | None] | None = None,
        inputs: Mapping[str, tuple[str, str]] | None = None,
        code: CodeRecord | None = None,
    ) -> VersionParts:
        """Assemble the parts of one step output's version.

        Args:
            op_version: the op's version.
            output_name: the output's name.
            config: the op's config fingerprints, from :func:`config_fingerprints`.
            resources: every resource the op requires → its version, or ``None`` when the
                resource is unversioned.
            inputs: input name → (source, version).
            code: the op's code record, if the strategy describes it.

        Returns:
            The record, with ``version`` computed.

        Examples:
            >>> parts = VersionParts.build(
            ...     op_version="1", output_name="result", inputs={"n": ("value", "ab12")}
            ... )
            >>> len(parts.version)
            40
        """
        versioned: list[tuple[str, str]] = []
        unversioned: list[str] = []
        for key, version in (resources or {}).items():
            if version is None:
                unversioned.append(key)
            else:
                versioned.append((key, version))
        return cls(
            op_version=op_version,
            config=tuple(config),
            resources=tuple(versioned),
            unversioned_resources=tuple(unversioned),
            inputs=tuple(
                (name, source, version) for name, (source, version) in (inputs or {}).items()
            ),
            output_name=output_name,
            code=code,
        )

    def to_manifest(self) -> dict[str, Any]:
        """Return a JSON-serialisable record of these parts (see :meth:`from_manifest`)."""
        manifest: dict[str, Any] = {
            "format": OUTPUT_VERSION_FORMAT,
            "version": self.version,
            "op_version": self.op_version,
            "config": dict(self.config),
            "resources": dict(self.resources),
            "unversioned_resources": list(self.unversioned_resources),
            "inputs": {
                name: {"source": source, "version": version}
                for name, source, version in self.inputs
            },
            "output_name": self.output_name,
        }
        if self.code is not None:
            manifest["code"] = self.code.to_json()
        return manifest

    @classmethod
    def from_manifest(cls, manifest: Mapping[str, Any]) -> VersionParts:
        """Rebuild the record written by :meth:`to_manifest`.

        Args:
            manifest: the decoded manifest.

        Returns:
            The record.

        Raises:
            VersioningError: the manifest has another format, is malformed, or its stored
                version does not match its parts (it was altered or is corrupt).
        """
        try:
            if manifest["format"] != OUTPUT_VERSION_FORMAT:
                raise VersioningError(
                    f"Version manifest has format {manifest['format']!r}, but this nbflow "
                    f"reads {OUTPUT_VERSION_FORMAT!r}.\nFix: re-run the step to rewrite it."
                )
            parts = cls(
                op_version=_str(manifest["op_version"]),
                config=tuple((_str(k), _str(v)) for k, v in manifest["config"].items()),
                resources=tuple((_str(k), _str(v)) for k, v in manifest["resources"].items()),
                unversioned_resources=tuple(map(_str, manifest["unversioned_resources"])),
                inputs=tuple(
                    (_str(name), _str(entry["source"]), _str(entry["version"]))
                    for name, entry in manifest["inputs"].items()
                ),
                output_name=_str(manifest["output_name"]),
                code=_code_record(manifest.get("code")),
            )
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise VersioningError(
                f"Version manifest is malformed ({type(exc).__name__}: {exc}).\n"
                "Fix: re-run the step to rewrite it."
            ) from None
        stored = manifest.get("version")
        if stored is not None and stored != parts.version:
            raise VersioningError(
                f"Version manifest says version {stored!r}, but its parts give "
                f"{parts.version!r}: it was altered or is corrupt.\n"
                "Fix: re-run the step to rewrite it."
            )
        return parts


def _code_record(data: object) -> CodeRecord | None:
    """The stored code record; ``None`` when absent (older manifests) or unreadable: it only
    explains, so a bad one costs the named reasons, never the stored value."""
    if not isinstance(data, Mapping):
        return None
    try:
        return CodeRecord.from_json(data)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def _str(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a str, got {type(value).__name__}")
    return value


def config_fingerprints(config: object) -> tuple[tuple[str, str], ...]:
    """Return the ``config`` field of :class:`VersionParts` for an op's resolved config.

    Args:
        config: the resolved op config, defaults included. A dict (or mapping proxy) gives one
            entry per top-level key; ``None`` gives none; anything else one entry under ``""``.

    Returns:
        (key, fingerprint of that key's value) pairs, sorted by key.

    Raises:
        UnversionableValueError: a key is not a str, or a value has no stable fingerprint.

    Examples:
        >>> [key for key, _ in config_fingerprints({"b": 1, "a": [2]})]
        ['a', 'b']
    """
    if config is None:
        return ()
    if not isinstance(config, Mapping):
        return (("", fingerprint_as(config, "the op config")),)
    entries: list[tuple[str, str]] = []
    for key, value in config.items():
        if not isinstance(key, str):
            raise UnversionableValueError(
                f"Cannot version op config key {key!r}: top-level config keys must be str.\n"
                "Fix: use string keys at the top level of the op config."
            )
        entries.append((key, fingerprint_as(value, f"config[{key!r}]")))
    entries.sort()
    return tuple(entries)
