"""The in-memory IO manager: values live in this Python process.

Plain outputs belong to one run and are handed on as they are (no copy). *Lasting* outputs,
versioned ones (memoized runs) and assets, are kept for the life of the process, so
re-running a job in a notebook reuses what did not change and a later selection can read
the assets it depends on: the newest ``MAX_VERSIONS_PER_OUTPUT`` of each, within a byte
budget, least recently used evicted first (:mod:`nbflow.storage.kept_values`). A run holds on
to the values it wrote or found, so eviction never takes one it still needs.

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

from typing import TYPE_CHECKING, Any, ClassVar

from nbflow.definitions.io_manager import (
    InputContext,
    IOManagerDefinition,
    MemoizableIOManager,
    OutputContext,
)
from nbflow.errors import OutputNotFoundError
from nbflow.storage.frozen import FrozenValue, freeze
from nbflow.storage.kept_values import KEPT, Identifier, Slot
from nbflow.storage.manifests import PROCESS_MANIFESTS
from nbflow.storage.namespace import NO_NAMESPACE, op_namespace
from nbflow.storage.not_kept import (
    clear_not_kept,
    forget_not_kept,
    not_kept_reason,
    note_not_kept,
    note_too_large,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from nbflow.storage.manifests import ManifestStore


def clear_memoized_values() -> None:
    """Forget every versioned value and asset (and their manifests) kept in this process."""
    KEPT.clear()
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


def _find(context: OutputContext) -> tuple[Slot, FrozenValue | None]:
    """The kept value of ``context``'s output; a source asset (no op) is found in any op's
    namespace, the most recently used first."""
    slot = _slot(context)
    identifier = tuple(context.get_identifier())
    found = KEPT.get(slot, identifier)
    if found is None and context.asset_key is not None and slot[0] == NO_NAMESPACE:
        found = KEPT.find_elsewhere(slot, identifier)
    return slot, found


class InMemoryIOManager(MemoizableIOManager):
    """Keeps outputs in dictionaries: per run, or per process (frozen) when lasting."""

    process_local: ClassVar[bool] = True

    def __init__(self) -> None:
        self.values: dict[tuple[str, str], Any] = {}
        self.unkept: dict[tuple[Slot, Identifier], Any] = {}
        """Lasting values the store could not keep: for the run that made them only."""
        self.held: dict[tuple[Slot, Identifier], FrozenValue] = {}
        """Lasting values this run wrote or found: still readable if the store evicts them."""

    def handle_output(self, context: OutputContext, obj: Any) -> None:
        if not _lasting(context):
            self.values[(context.step_key, context.name)] = obj
            return
        slot = _slot(context)
        identifier = tuple(context.get_identifier())
        address = _address(slot, identifier)
        try:
            frozen = freeze(obj)
        except Exception as exc:  # anything pickle raises: the value cannot be kept
            KEPT.drop(slot, identifier)
            self.unkept[(slot, identifier)] = obj
            note_not_kept(context, address, ("memory", *slot), exc)
            return
        self.unkept.pop((slot, identifier), None)
        self.held[(slot, identifier)] = frozen
        if KEPT.fits(frozen):
            KEPT.keep(slot, identifier, frozen)
            forget_not_kept(address)
        else:
            KEPT.drop(slot, identifier)
            note_too_large(context, address, ("memory", *slot), frozen.nbytes, KEPT.budget)

    def _held_or_kept(self, context: OutputContext) -> tuple[Slot, FrozenValue | None]:
        """This run's value of ``context``'s output, held or found in the store (and held)."""
        slot = _slot(context)
        identifier = tuple(context.get_identifier())
        held = self.held.get((slot, identifier))
        if held is not None:
            return slot, held
        slot, frozen = _find(context)
        if frozen is not None:
            self.held[(slot, identifier)] = frozen
        return slot, frozen

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
            slot, frozen = self._held_or_kept(upstream)
            if frozen is not None:
                try:
                    return frozen.thaw()
                except Exception as exc:
                    KEPT.drop(slot, identifier)
                    self.held.pop((slot, identifier), None)
                    raise OutputNotFoundError(
                        f"{what} (version {upstream.version}) is kept in memory but could "
                        f"not be unpickled: {type(exc).__name__}: {exc}. It is forgotten "
                        "now. Fix: run the job again to compute it anew."
                    ) from exc
        raise OutputNotFoundError(
            f"{what} (version {upstream.version}) is not in memory. In-memory values last "
            "only as long as this Python process (and within its memory budget, see "
            "nbflow.storage.memory_usage()). Fix: run the upstream step again, or use "
            "fs_io_manager to keep values on disk."
        )

    def has_output(self, context: OutputContext) -> bool:
        if not _lasting(context):
            return False
        return self._held_or_kept(context)[1] is not None

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
