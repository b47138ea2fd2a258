"""Which step outputs are stored: the one ``has_output`` loop.

A memoized run asks it before it starts (which steps are memoized) and again when early
cutoff re-versions a step; ``list_versions`` asks it for its table. All ask each output's IO
manager through the same contexts (:mod:`nbflow.execution.engine.io_contexts`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from nbflow.definitions.io_manager import OutputContext
    from nbflow.execution.engine.io_contexts import IOScope


@dataclass(frozen=True, slots=True)
class OutputStatus:
    """Whether one step output is stored at its version, as its IO manager says."""

    name: str
    context: OutputContext
    manager: Any
    stored: bool


def output_statuses(
    scope: IOScope, step_key: str, versions: Mapping[str, str]
) -> Iterator[OutputStatus]:
    """Each output of step ``step_key`` at its version in ``versions`` (output name →
    version), in that order, with whether its IO manager holds it.

    Lazy: the IO manager of an output is asked only when its status is taken, so a caller
    that stops at the first missing output asks no further.
    """
    for name, version in versions.items():
        context = scope.output(step_key, name, version)
        manager = scope.io_manager(step_key, name)
        yield OutputStatus(name, context, manager, bool(manager.has_output(context)))


def stored_versions(
    scope: IOScope, step_key: str, versions: Mapping[str, str]
) -> dict[str, str] | None:
    """``versions`` when every one of those outputs of ``step_key`` is stored, else None."""
    for status in output_statuses(scope, step_key, versions):
        if not status.stored:
            return None
    return dict(versions)
