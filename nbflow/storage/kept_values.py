"""The values the in-memory IO manager keeps between runs, within a byte budget.

Every kept value is a :class:`~nbflow.storage.frozen.FrozenValue` filed under its *slot*
(op namespace, step or ``"asset"``, output name or asset key) and its identifier (the
version, or the run for unversioned assets). Two limits apply: the newest
``MAX_VERSIONS_PER_OUTPUT`` versions of each slot, and a byte budget over everything kept.
When a new value would pass the budget, the least recently used values go first (writing or
reading a value uses it). A run keeps its own references to the values it wrote or found
(see :class:`~nbflow.storage.memory.InMemoryIOManager`), so evicting never takes away a value
the current run still needs; it only means a later run computes it again.

The budget is a quarter of the machine's physical memory unless ``NBFLOW_MEMORY_BUDGET``
(bytes, or a number with ``KB``/``MB``/``GB``/``KiB``/``MiB``/``GiB``) or
:func:`set_memory_budget` says otherwise. :func:`memory_usage` lists what is kept.
"""

from __future__ import annotations

import os
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from nbflow.errors import InvalidArgumentError

if TYPE_CHECKING:
    from collections.abc import Iterator

    from nbflow.storage.frozen import FrozenValue

MAX_VERSIONS_PER_OUTPUT: Final = 16

BUDGET_FRACTION: Final = 0.25
"""The default budget: this fraction of physical memory."""

Slot = tuple[str, str, str]
"""(op namespace, step key or ``"asset"``, output name or asset key)."""

Identifier = tuple[str, ...]

_UNITS: Final = {
    "": 1,
    "B": 1,
    "KB": 10**3,
    "MB": 10**6,
    "GB": 10**9,
    "TB": 10**12,
    "KIB": 2**10,
    "MIB": 2**20,
    "GIB": 2**30,
    "TIB": 2**40,
}
_SIZE: Final = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*")


def parse_size(text: str, where: str) -> int:
    """Bytes from ``"2GB"``, ``"512 MiB"`` or ``"1000000"``; a clear error otherwise."""
    match = _SIZE.fullmatch(text)
    unit = match.group(2).upper() if match else ""
    if match is None or unit not in _UNITS:
        raise InvalidArgumentError(
            f"{where} is {text!r}, which is not a size. Expected a number of bytes, optionally "
            "with a unit (KB, MB, GB, TB, KiB, MiB, GiB, TiB), e.g. '2GB'. Fix: set it to "
            "such a size."
        )
    return int(float(match.group(1)) * _UNITS[unit])


def _default_budget() -> int:
    configured = os.environ.get("NBFLOW_MEMORY_BUDGET")
    if configured:
        return parse_size(configured, "NBFLOW_MEMORY_BUDGET")
    try:
        physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # no sysconf: a modest fixed budget
        physical = 8 * 2**30
    return int(physical * BUDGET_FRACTION)


@dataclass(frozen=True)
class KeptValue:
    """One kept value, as :func:`memory_usage` lists it."""

    namespace: str
    step: str
    output: str
    identifier: tuple[str, ...]
    nbytes: int


@dataclass(frozen=True)
class MemoryUsage:
    """What the in-memory store keeps between runs, least recently used first."""

    values: tuple[KeptValue, ...]
    nbytes: int
    budget: int

    def __str__(self) -> str:
        lines = [
            f"{len(self.values)} value(s) kept in memory: {_size(self.nbytes)} of a "
            f"{_size(self.budget)} budget (least recently used first)."
        ]
        for value in self.values:
            where = value.output if value.step == "asset" else f"{value.step}.{value.output}"
            lines.append(f"  {where} @ {'/'.join(value.identifier)}: {_size(value.nbytes)}")
        return "\n".join(lines)


def _size(nbytes: int) -> str:
    amount = float(nbytes)
    for unit in ("B", "KB", "MB", "GB"):
        if amount < 1000 or unit == "GB":
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1000
    raise AssertionError("unreachable")


class KeptValues:
    """Frozen values by slot and identifier, least recently used first, within a budget."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: OrderedDict[tuple[Slot, Identifier], FrozenValue] = OrderedDict()
        # each slot's identifiers, oldest first, in a plain dict of strings: one the garbage
        # collector does not track (an OrderedDict it would), however many outputs are kept
        self._by_slot: dict[Slot, dict[Identifier, None]] = {}
        self._nbytes = 0
        self._budget: int | None = None

    @property
    def budget(self) -> int:
        with self._lock:
            if self._budget is None:
                self._budget = _default_budget()
            return self._budget

    def set_budget(self, nbytes: int | str | None) -> None:
        """Bytes the kept values may take (``None``: back to the default); evicts at once."""
        if isinstance(nbytes, str):
            nbytes = parse_size(nbytes, "The memory budget")
        if nbytes is not None and (isinstance(nbytes, bool) or nbytes < 0):
            raise InvalidArgumentError(
                f"The memory budget is {nbytes!r}. Expected a number of bytes, 0 or more "
                "(0 keeps nothing between runs). Fix: pass such a number, or None for the "
                "default."
            )
        with self._lock:
            self._budget = nbytes
        budget = self.budget
        with self._lock:
            self._evict(budget)

    def fits(self, frozen: FrozenValue) -> bool:
        """Whether ``frozen`` alone fits the budget."""
        return frozen.nbytes <= self.budget

    def keep(self, slot: Slot, identifier: Identifier, frozen: FrozenValue) -> None:
        budget = self.budget
        with self._lock:
            self._remove((slot, identifier))
            self._values[(slot, identifier)] = frozen
            self._nbytes += frozen.nbytes
            versions = self._by_slot.setdefault(slot, {})
            versions[identifier] = None
            while len(versions) > MAX_VERSIONS_PER_OUTPUT:
                self._remove((slot, next(iter(versions))))
            self._evict(budget)

    def get(self, slot: Slot, identifier: Identifier) -> FrozenValue | None:
        """The kept value, now the most recently used; ``None`` if not kept."""
        with self._lock:
            found = self._values.get((slot, identifier))
            if found is not None:
                self._values.move_to_end((slot, identifier))
            return found

    def find_elsewhere(self, slot: Slot, identifier: Identifier) -> FrozenValue | None:
        """The value of the same step and output in any namespace, the newest first."""
        with self._lock:
            for (other, other_id), frozen in reversed(self._values.items()):
                if other_id == identifier and other[1:] == slot[1:]:
                    self._values.move_to_end((other, other_id))
                    return frozen
        return None

    def drop(self, slot: Slot, identifier: Identifier) -> None:
        with self._lock:
            self._remove((slot, identifier))

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
            self._by_slot.clear()
            self._nbytes = 0

    def usage(self) -> MemoryUsage:
        budget = self.budget
        with self._lock:
            values = tuple(self._listed())
            return MemoryUsage(values, self._nbytes, budget)

    def _listed(self) -> Iterator[KeptValue]:
        for (slot, identifier), frozen in self._values.items():
            yield KeptValue(*slot, identifier, frozen.nbytes)

    def _remove(self, key: tuple[Slot, Identifier]) -> None:
        frozen = self._values.pop(key, None)
        if frozen is None:
            return
        self._nbytes -= frozen.nbytes
        slot, identifier = key
        versions = self._by_slot[slot]
        del versions[identifier]
        if not versions:
            del self._by_slot[slot]

    def _evict(self, budget: int) -> None:
        while self._nbytes > budget and self._values:
            self._remove(next(iter(self._values)))


KEPT: Final = KeptValues()
"""The process-wide store of the in-memory IO manager."""


def memory_usage() -> MemoryUsage:
    """What the in-memory IO manager keeps between runs in this process, and its budget."""
    return KEPT.usage()


def set_memory_budget(nbytes: int | str | None) -> None:
    """Limit the bytes kept in memory between runs (e.g. ``"2GB"``; ``None``: the default).

    The least recently used values are evicted first; a later run recomputes them.
    """
    KEPT.set_budget(nbytes)
