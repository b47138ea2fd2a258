"""``ExecuteInProcessResult``: a finished run's events and output values."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nbflow.definitions.asset_key import AssetKey
from nbflow.definitions.specs import DEFAULT_OUTPUT
from nbflow.errors import ResultLookupError, did_you_mean
from nbflow.events import Event, EventType
from nbflow.execution.engine.node_outcomes import NodeOutcomes
from nbflow.execution.engine.step_states import StepRecord, StepState, StepStates

if TYPE_CHECKING:
    import os

    from nbflow.definitions.job import JobDefinition
    from nbflow.definitions.user_events import AssetMaterialization
    from nbflow.execution.engine.plan import ExecutionPlan
    from nbflow.storage.run import Run

OutputLoader = Callable[[str, str], Any]


class _NotInMemory:
    """Type of ``NOT_IN_MEMORY``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NOT_IN_MEMORY"


NOT_IN_MEMORY: Any = _NotInMemory()
"""Recorded as an output's value when another process stored it; loaded on request."""


@dataclass(frozen=True, slots=True)
class StepSummary:
    """How one step of a run ended."""

    step_key: str
    status: str  # succeeded | failed | skipped | memoized | not run
    duration_ms: float | None
    detail: str = ""
    attempts: int = 0  # attempts run (more than 1 when the step was retried)

    @classmethod
    def of(cls, record: StepRecord) -> StepSummary:
        """The summary of a step as ``record`` (from :class:`StepStates`) has it."""
        state = record.state
        if not state.is_final:
            return cls(record.step_key, "not run", None, attempts=record.attempts)
        return cls(
            record.step_key, state.value, record.duration_ms, _detail(record), record.attempts
        )


def _detail(record: StepRecord) -> str:
    """Why a step failed or was skipped, the versions a memoized one found, its retries."""
    state = record.state
    retried = record.attempts_note
    if state is StepState.SUCCEEDED:
        return retried
    if state is StepState.FAILED:
        return f"{record.failure} ({retried})" if retried else record.failure
    if state is StepState.MEMOIZED:
        detail = ", ".join(f"{o}@{v[:8]}" for o, v in record.stored_versions.items())
    else:
        detail = record.skip_reason
    return f"{detail} ({record.skip_detail})" if record.skip_detail else detail


class ExecuteInProcessResult(NodeOutcomes):
    """The outcome of a run: success, events, and the values its steps produced.

    Per-node outcomes (``is_node_success``, ``retry_attempts_for_node``...) come from
    :class:`~nbflow.execution.engine.node_outcomes.NodeOutcomes`.
    """

    def __init__(
        self,
        *,
        plan: ExecutionPlan,
        run: Run,
        events: Sequence[Event],
        outputs: dict[tuple[str, str], Any],
        load_stored_output: OutputLoader | None = None,
    ) -> None:
        self._plan = plan
        self._run = run
        self._events = list(events)
        self._outputs = outputs
        self._load_stored_output = load_stored_output
        self._states: StepStates | None = None

    @property
    def job_def(self) -> JobDefinition:
        return self._plan.job_def

    @property
    def plan(self) -> ExecutionPlan:
        """The plan the run followed (its op selection included)."""
        return self._plan

    @property
    def success(self) -> bool:
        """Whether every step that ran succeeded."""
        return self._run.is_success

    @property
    def run_id(self) -> str:
        return self._run.run_id

    @property
    def run(self) -> Run:
        return self._run

    @property
    def all_events(self) -> list[Event]:
        return list(self._events)

    @property
    def all_node_events(self) -> list[Event]:
        """Events that belong to a step."""
        return [e for e in self._events if e.step_key is not None]

    def events_for_node(self, node_name: str) -> list[Event]:
        """Events of one node (``outer.inner`` for nested ones; a graph's include its inner ops)."""
        prefix = node_name + "."
        return [
            e
            for e in self._events
            if e.step_key is not None and (e.step_key == node_name or e.step_key.startswith(prefix))
        ]

    def filter_events(self, event_type: EventType) -> list[Event]:
        return [e for e in self._events if e.event_type is event_type]

    def _run_event(self, event_type: EventType) -> Event:
        for event in self._events:
            if event.event_type is event_type:
                return event
        raise ResultLookupError(
            f"Run {self.run_id[:8]} of job {self.job_def.name!r} has no {event_type.name} event "
            f"(it {'succeeded' if self.success else 'failed'})."
        )

    def get_job_success_event(self) -> Event:
        return self._run_event(EventType.RUN_SUCCESS)

    def get_job_failure_event(self) -> Event:
        return self._run_event(EventType.RUN_FAILURE)

    def get_step_success_events(self) -> list[Event]:
        return self.filter_events(EventType.STEP_SUCCESS)

    def get_step_failure_events(self) -> list[Event]:
        return self.filter_events(EventType.STEP_FAILURE)

    def get_step_skipped_events(self) -> list[Event]:
        return self.filter_events(EventType.STEP_SKIPPED)

    def asset_materializations_for_node(self, node_name: str) -> list[AssetMaterialization]:
        return [
            e.data
            for e in self.events_for_node(node_name)
            if e.event_type is EventType.ASSET_MATERIALIZATION
        ]

    def step_states(self) -> StepStates:
        """Each step's state, attempts, duration, error and skip reason, from the events."""
        if self._states is None:
            self._states = StepStates(self._events)
        return self._states

    def step_summaries(self) -> list[StepSummary]:
        """One row per planned step: how it ended, how long it took, and why if not run."""
        states = self.step_states()
        return [StepSummary.of(states[key]) for key in self._plan.steps]

    def output_for_node(self, node_str: str, output_name: str = DEFAULT_OUTPUT) -> Any:
        """The value of output ``output_name`` of node ``node_str`` (``outer.inner`` nests)."""
        step_key, output = self._plan.resolve_output(node_str, output_name)
        dynamic = self._plan.dynamic
        if dynamic.is_mapped(step_key, output):
            return {
                key: self._value(*handle, f"{node_str}[{key}].{output_name}")
                for key, handle in dynamic.mapped_values(step_key, output)
            }
        return self._value(step_key, output, f"{node_str}.{output_name}")

    def asset_value(self, asset_key: AssetKey | str | Sequence[str]) -> Any:
        """The value of an asset this run materialized (or found stored)."""
        key = AssetKey.from_coercible(asset_key)
        layer = self.job_def.asset_layer
        node = layer.node_for(key) if layer is not None else None
        if node is None:
            raise ResultLookupError(f"Run {self.run_id[:8]} has no asset {key.to_user_string()!r}.")
        return self.output_for_node(node)

    def output_value(self, output_name: str = DEFAULT_OUTPUT) -> Any:
        """The value of the job's own output ``output_name``."""
        graph = self.job_def.graph_def
        mapping = next(
            (m for m in graph.output_mappings if m.graph_output_name == output_name), None
        )
        if mapping is None:
            names = [m.graph_output_name for m in graph.output_mappings]
            raise ResultLookupError(
                f"Job {self.job_def.name!r} has no output {output_name!r}"
                + (
                    f"; its outputs are {names}.{did_you_mean(output_name, names)}"
                    if names
                    else ": its function returns nothing. Fix: use output_for_node(node, output) "
                    "or return an op's output from the job function."
                )
            )
        return self.output_for_node(mapping.mapped_node_name, mapping.mapped_node_output_name)

    def _value(self, step_key: str, output: str, label: str) -> Any:
        key = (step_key, output)
        value = self._outputs.get(key, NOT_IN_MEMORY)
        if value is not NOT_IN_MEMORY:
            return value
        stored_elsewhere = key in self._outputs
        if self._load_stored_output is not None and (
            stored_elsewhere or self._was_memoized(step_key)
        ):
            value = self._load_stored_output(step_key, output)
            self._outputs[key] = value
            return value
        raise ResultLookupError(
            f"Output {label} was not produced in run {self.run_id[:8]}: step {step_key!r} "
            f"{self._what_happened(step_key)}."
        )

    def _was_memoized(self, step_key: str) -> bool:
        return self.step_states().state(step_key) is StepState.MEMOIZED

    def _what_happened(self, step_key: str) -> str:
        if step_key not in self._plan.steps:
            return "was not selected"
        for event in reversed(self._events):
            if event.step_key == step_key:
                if event.event_type is EventType.STEP_FAILURE:
                    return f"failed ({event.data.error})"
                if event.event_type is EventType.STEP_SKIPPED:
                    return f"was skipped ({event.data.reason})"
                return "did not produce it"
        return "did not run"

    def to_html(self, path: str | os.PathLike[str] | None = None) -> str:
        """A self-contained HTML report of this run: its DAG, a timeline of its steps per
        process, a step table, logs and tracebacks (no network needed to view it).

        Args:
            path: where to write the page too (folders are created); ``None`` writes nothing.

        Returns:
            The HTML page.
        """
        from nbflow.execution.views.run_report import RunReport

        report = RunReport.of_result(self)
        if path is not None:
            report.write(path)
        return report.to_html()

    def __enter__(self) -> ExecuteInProcessResult:
        """``with execute_job(...) as result:``: the result itself (it holds no resources;
        outputs load through their IO managers while and after the block runs)."""
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None

    def __repr__(self) -> str:
        state = "success" if self.success else "failure"
        if self._run.status.value == "CANCELED":
            state = "canceled"
        return f"<ExecuteInProcessResult {self.job_def.name} {self.run_id[:8]} {state}>"
