"""Values a lasting store could not keep: used by their own run only, and why.

Stores that keep values between runs pickle them. A value pickle cannot store (a generator,
a lock, an open connection) still reaches the downstream steps of the run that produced
it, but it is not kept, so its step runs again next time; so does a value larger than the
in-memory store's whole budget. The user is told once per step
output and process (a :class:`~nbflow.errors.ValueNotKeptWarning`), and ``list_versions``
gives the reason for as long as the process lives.
"""

from __future__ import annotations

import threading
import warnings
from typing import TYPE_CHECKING

from nbflow.errors import ValueNotKeptWarning

if TYPE_CHECKING:
    from nbflow.definitions.io_manager import OutputContext

Address = tuple[str, ...]
"""Where a store would have kept the value: the store's own key, version included."""

_lock = threading.Lock()
_reasons: dict[Address, str] = {}
_warned: set[Address] = set()


def _what(context: OutputContext) -> str:
    if context.asset_key is not None:
        return f"Asset {context.asset_key.to_user_string()!r} (step {context.step_key!r})"
    return f"Output '{context.step_key}.{context.name}'"


def note_not_kept(
    context: OutputContext, address: Address, output_slot: Address, exc: BaseException
) -> None:
    """Remember why the value at ``address`` was not kept; warn once per ``output_slot``."""
    problem = f"{type(exc).__name__}: {exc}"
    _note(
        address,
        output_slot,
        f"value not kept between runs: pickle cannot store it ({problem})",
        f"{_what(context)} could not be pickled ({problem}), so it is not kept "
        "between runs: the downstream steps of this run get it, but step "
        f"{context.step_key!r} runs again on every memoized run. Fix: return data "
        "pickle can store (e.g. a list instead of a generator; open connections "
        "and locks in a resource), or ignore this if the step is cheap.",
    )


def note_too_large(
    context: OutputContext, address: Address, output_slot: Address, nbytes: int, budget: int
) -> None:
    """Remember that the value at ``address`` is larger than the whole memory budget."""
    _note(
        address,
        output_slot,
        f"value not kept between runs: its {nbytes:,} bytes exceed the memory budget of "
        f"{budget:,} bytes",
        f"{_what(context)} takes {nbytes:,} bytes, more than the whole memory budget of "
        f"{budget:,} bytes, so it is not kept between runs: the downstream steps of this run "
        f"get it, but step {context.step_key!r} runs again on every memoized run. Fix: raise "
        "the budget (nbflow.storage.set_memory_budget('8GB') or NBFLOW_MEMORY_BUDGET), or "
        "keep such values on disk with fs_io_manager.",
    )


def _note(address: Address, output_slot: Address, reason: str, warning: str) -> None:
    with _lock:
        _reasons[address] = reason
        first = output_slot not in _warned
        _warned.add(output_slot)
    if first:
        warnings.warn(ValueNotKeptWarning(warning), stacklevel=3)


def forget_not_kept(address: Address) -> None:
    """The value at ``address`` is kept now: drop its reason."""
    with _lock:
        _reasons.pop(address, None)


def not_kept_reason(address: Address) -> str | None:
    """Why the value at ``address`` was not kept, if this process tried to keep it."""
    with _lock:
        return _reasons.get(address)


def clear_not_kept() -> None:
    """Forget every reason and every warning given."""
    with _lock:
        _reasons.clear()
        _warned.clear()
