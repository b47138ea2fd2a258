"""The in-memory IO manager: values live in this Python process.

Plain outputs belong to one run and are handed on as they are (no copy). *Lasting* outputs,
versioned ones (memoized runs) and assets, are kept for the life of the process, so
re-running a job in a notebook reuses what did not change and a later selection can read
the assets it depends on; the newest ``MAX_VERSIONS_PER_OUTPUT`` of each are kept.

Isolation. A lasting value is kept frozen (:mod:`nbflow.storage.frozen`: pickled bytes,
protocol 5, large buffers copied out of band) and every read unpickles a new copy, so a
consumer that mutates its input (``xs.append(...)``, ``df.dropna(inplace=True)``) changes
its own copy only: not the kept value, not what a second consumer of the same run gets,
not what the next run is fed. Chosen over copy-on-read (``copy.deepcopy``) by measurement
(``bench/isolation.py``, per read of a 100 MB value on the 2-core machine): a NumPy array
or a 1e6-row DataFrame costs the same either way (one copy of the data, ~25 ms; ~50 ms if
buffers were copied into plain ``bytearray`` objects), but a list of 1e6 small dicts costs
~0.3 s to unpickle against ~1.9 s to deep-copy; storing costs one pickle (~25 ms for the
arrays, ~0.6 s for the dicts, against ~1.9 s to deep-copy them). Pickling also decides up
front what cannot be kept. A value pickle cannot store (a generator, a lock) is handed
to the downstream steps of its own run as it is, is not kept (its step runs again next
time), and the user is told why (:mod:`nbflow.storage.not_kept`).

Namespaces. Kept values and their manifests are filed under the op that produced them
(:func:`nbflow.storage.namespace.op_namespace`), so two jobs whose steps share a name and
an explicit version do not see each other's values; the same op in two jobs still does.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, Final

from nbflow.definitions.io_manager import (
    InputContext,
    IOManagerDefinition,
    MemoizableIOManager,
    OutputContext,
)
from nbflow.errors import OutputNotFoundError
from nbflow.storage.frozen import FrozenValue, freeze
from nbflow.storage.manifests import PROCESS_MANIFESTS
from nbflow.storage.namespace import NO_NAMESPACE, op_namespace
from nbflow.storage.not_kept import (
    clear_not_kept,
    forget_not_kept,
    not_kept_reason,
    note_not_kept,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from nbflow.storage.manifests import ManifestStore

MAX_VERSIONS_PER_OUTPUT: Final = 16

Slot = tuple[str, str, str]
"""(op namespace, step key or ``"asset"``, output name or asset key)."""

Identifier = tuple[str, ...]

_lock = threading.Lock()
_kept: OrderedDict[Slot, OrderedDict[Identifier, FrozenValue]] = OrderedDict()
"""Frozen lasting values; slots in the order they were last written to."""


def clear_memoized_values() -> None:
    """Forget every versioned value and asset (and their manifests) kept in this process."""
    with _lock:
        _kept.clear()
    PROCESS_MANIFESTS.clear()
    clear_not_kept()


def _lasting(context: OutputContext) -> bool:
    return context.version is not None or context.asset_key is not None


def _slot(context: OutputContext) -> Slot:
    namespace = op_namespace(context.op_def)
    if context.asset_key is not None:
        return (namespace, "asset", context.asset_key.to_user_string())
    return (namespace, context.step_key, context.name)


def _address(slot: Slot, identifier: Identifier) -> tuple[str, ...]:
    return ("memory", *slot, "\0", *identifier)


def _keep(slot: Slot, identifier: Identifier, frozen: FrozenValue) -> None:
    with _lock:
        kept = _kept.setdefault(slot, OrderedDict())
        _kept.move_to_end(slot)
        kept[identifier] = frozen
        kept.move_to_end(identifier)
        while len(kept) > MAX_VERSIONS_PER_OUTPUT:
            kept.popitem(last=False)


def _drop(slot: Slot, identifier: Identifier) -> None:
    with _lock:
        kept = _kept.get(slot)
        if kept is not None:
            kept.pop(identifier, None)


def _find(context: OutputContext) -> tuple[Slot, FrozenValue | None]:
    """The kept value of ``context``'s output; a source asset (no op) is found in any op's
    namespace, the most recently written first."""
    slot = _slot(context)
    identifier = tuple(context.get_identifier())
    with _lock:
        versions = _kept.get(slot)
        found = versions.get(identifier) if versions is not None else None
        if found is None and context.asset_key is not None and slot[0] == NO_NAMESPACE:
            for other in reversed(_kept):
                if other[1:] == slot[1:] and identifier in _kept[other]:
                    return other, _kept[other][identifier]
    return slot, found


class InMemoryIOManager(MemoizableIOManager):
    """Keeps outputs in dictionaries: per run, or per process (frozen) when lasting."""

    def __init__(self) -> None:
        self.values: dict[tuple[str, str], Any] = {}
        self.unkept: dict[tuple[Slot, Identifier], Any] = {}
        """Lasting values pickle could not store: for the run that made them only."""

    def handle_output(self, context: OutputContext, obj: Any) -> None:
        if not _lasting(context):
            self.values[(context.step_key, context.name)] = obj
            return
        slot = _slot(context)
        identifier = tuple(context.get_identifier())
        try:
            frozen = freeze(obj)
        except Exception as exc:  # anything pickle raises: the value cannot be kept
            _drop(slot, identifier)
            self.unkept[(slot, identifier)] = obj
            note_not_kept(context, _address(slot, identifier), ("memory", *slot), exc)
            return
        self.unkept.pop((slot, identifier), None)
        _keep(slot, identifier, frozen)
        forget_not_kept(_address(slot, identifier))

    def load_input(self, context: InputContext) -> Any:
        upstream = context.upstream_output
        if upstream is None:
            raise OutputNotFoundError(
                f"Input {context.step_key}.{context.name} has no upstream output to load."
            )
        what = (
            f"Asset {upstream.asset_key}"
            if upstream.asset_key
            else f"Output {upstream.step_key}.{upstream.name}"
        )
        if not _lasting(upstream):
            if (upstream.step_key, upstream.name) in self.values:
                return self.values[(upstream.step_key, upstream.name)]
        else:
            identifier = tuple(upstream.get_identifier())
            unkept = (_slot(upstream), identifier)
            if unkept in self.unkept:
                return self.unkept[unkept]
            slot, frozen = _find(upstream)
            if frozen is not None:
                try:
                    return frozen.thaw()
                except Exception as exc:
                    _drop(slot, identifier)
                    raise OutputNotFoundError(
                        f"{what} (version {upstream.version}) is kept in memory but could "
                        f"not be unpickled: {type(exc).__name__}: {exc}. It is forgotten "
                        "now. Fix: run the job again to compute it anew."
                    ) from exc
        raise OutputNotFoundError(
            f"{what} (version {upstream.version}) is not in memory. In-memory values last "
            "only as long as this Python process. Fix: run the upstream step again, or use "
            "fs_io_manager to keep values on disk."
        )

    def has_output(self, context: OutputContext) -> bool:
        if not _lasting(context):
            return False
        return _find(context)[1] is not None

    def missing_reason(self, context: OutputContext) -> str | None:
        """Why a lasting output is not kept, when this process tried and could not."""
        if not _lasting(context):
            return None
        return not_kept_reason(_address(_slot(context), tuple(context.get_identifier())))

    def record_manifest(self, step_key: str, output_name: str, manifest: Mapping[str, Any]) -> None:
        PROCESS_MANIFESTS.record_manifest(step_key, output_name, manifest)

    def latest_manifest(self, step_key: str, output_name: str) -> Mapping[str, Any] | None:
        return PROCESS_MANIFESTS.latest_manifest(step_key, output_name)

    def manifest_for(
        self, step_key: str, output_name: str, version: str
    ) -> Mapping[str, Any] | None:
        return PROCESS_MANIFESTS.manifest_for(step_key, output_name, version)

    def scoped_manifests(self, namespace: str) -> ManifestStore:
        """The manifests of one op's outputs (see :func:`manifest_store_for`)."""
        return PROCESS_MANIFESTS.scoped_manifests(namespace)


mem_io_manager = IOManagerDefinition(
    lambda: InMemoryIOManager(),
    description="Keeps outputs in memory; versioned ones and assets last as long as the process.",
)
