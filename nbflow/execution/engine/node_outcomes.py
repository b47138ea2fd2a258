"""How each node of a finished run fared: the per-node questions a result answers.

``is_node_success``, ``retry_attempts_for_node``, ``failure_data_for_node`` and the rest read
the run's :class:`~nbflow.execution.engine.step_states.StepStates` fold (so they agree with
step summaries and the views) or its events. A node is an op (``outer.inner`` for one inside
a graph) or a graph, whose answer covers every step inside it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nbflow.errors import ResultLookupError, did_you_mean
from nbflow.events import EventType, StepFailureData
from nbflow.execution.engine.step_states import StepState

if TYPE_CHECKING:
    from nbflow.definitions.job import JobDefinition
    from nbflow.events import Event
    from nbflow.execution.engine.plan import ExecutionPlan
    from nbflow.execution.engine.step_states import StepRecord, StepStates

_SKIPPED = frozenset({StepState.SKIPPED, StepState.MEMOIZED})


class NodeOutcomes:
    """Mixin of :class:`ExecuteInProcessResult`: per-node outcomes of the run."""

    __slots__ = ()
    _events: list[Event]
    _plan: ExecutionPlan

    if TYPE_CHECKING:

        @property
        def job_def(self) -> JobDefinition: ...

        def step_states(self) -> StepStates: ...

        def events_for_node(self, node_name: str) -> list[Event]: ...

    def _step_keys_of(self, node_str: str) -> list[str]:
        """The job's steps that ``node_str`` is or contains (mapped steps ``op[key]`` too)."""
        handles = [handle for handle, _ in self.job_def.graph_def.iter_ops()]
        states = self.step_states()
        keys = {record.step_key for record in states} | set(handles) | set(self._plan.steps)
        found = sorted(k for k in keys if _belongs_to(k, node_str))
        if not found:
            raise ResultLookupError(
                f"Job {self.job_def.name!r} has no node {node_str!r}."
                f"{did_you_mean(node_str, handles)} Its ops are {handles}."
            )
        return found

    def _records_of(self, node_str: str) -> list[StepRecord]:
        states = self.step_states()
        return [states[key] for key in self._step_keys_of(node_str)]

    def is_node_success(self, node_str: str) -> bool:
        """Whether every step of node ``node_str`` ran and succeeded."""
        return all(r.state is StepState.SUCCEEDED for r in self._records_of(node_str))

    def is_node_failed(self, node_str: str) -> bool:
        """Whether a step of node ``node_str`` failed (for good, after any retries)."""
        return any(r.state is StepState.FAILED for r in self._records_of(node_str))

    def is_node_skipped(self, node_str: str) -> bool:
        """Whether every step of node ``node_str`` was skipped.

        A memoized step counts as skipped: it emitted ``STEP_SKIPPED`` saying it was memoized.
        """
        return all(r.state in _SKIPPED for r in self._records_of(node_str))

    def is_node_untouched(self, node_str: str) -> bool:
        """Whether no event of the run names a step of node ``node_str`` (not selected, or
        the run stopped before it)."""
        states = self.step_states()
        return not any(key in states for key in self._step_keys_of(node_str))

    def retry_attempts_for_node(self, node_str: str) -> int:
        """How many times the steps of node ``node_str`` were retried (0 if never)."""
        return sum(r.retries for r in self._records_of(node_str))

    def failure_data_for_node(self, node_str: str) -> StepFailureData | None:
        """The failure data of node ``node_str``'s failed step, or ``None`` if none failed."""
        keys = set(self._step_keys_of(node_str))
        for event in self._events:
            if event.event_type is EventType.STEP_FAILURE and event.step_key in keys:
                data = event.data
                return data if isinstance(data, StepFailureData) else None
        return None

    def asset_observations_for_node(self, node_name: str) -> list[Any]:
        """The :class:`AssetObservation` records node ``node_name`` logged."""
        return [
            e.data
            for e in self.events_for_node(node_name)
            if e.event_type is EventType.ASSET_OBSERVATION
        ]

    def get_failed_step_keys(self) -> set[str]:
        """The keys of the steps that failed (for good)."""
        return {r.step_key for r in self.step_states() if r.state is StepState.FAILED}

    def get_asset_materialization_events(self) -> list[Event]:
        """Every ``ASSET_MATERIALIZATION`` event of the run, in order."""
        return [e for e in self._events if e.event_type is EventType.ASSET_MATERIALIZATION]


def _belongs_to(step_key: str, node_str: str) -> bool:
    """Whether ``step_key`` is node ``node_str``, a mapped copy of it, or inside it."""
    return step_key == node_str or step_key.startswith((node_str + ".", node_str + "["))
