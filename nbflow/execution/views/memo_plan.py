"""The memo plan: before a memoized run, which steps will run and why, and the time it saves.

:func:`plan_run` reads the recipe of a memoized run without running anything:

1. refuse a job that does not run memoized (there would be nothing to plan);
2. ask :func:`~nbflow.execution.views.list_versions.list_versions` which outputs are stored and
   why the others must be recomputed;
3. walk the steps in topological order (:func:`decide`): a step runs when one of its outputs
   is to be recomputed. Consumers of a step that runs are versioned by its upstream version
   until its value is known, so they are listed to run; early cutoff may still skip them
   once the value comes out unchanged (the summary says so). An upstream step that runs
   only because its output is missing recomputes the stored version and its recorded value
   fingerprint, so its consumers stay memoized;
4. time each step from the job's earlier runs in the instance's history
   (:mod:`nbflow.storage.step_history`), "unknown" where there is none.

The totals are sums of step times, as the in-process executor runs steps one after another.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nbflow.definitions.job import JobDefinition
from nbflow.definitions.redefinition import current_job
from nbflow.errors import MemoizationOffError, NotAJobError
from nbflow.execution.engine.memo import MEMOIZED_RUN_TAG, memoization_enabled
from nbflow.execution.engine.plan import build_plan
from nbflow.execution.engine.run import merge_tags
from nbflow.execution.views.graph_view import STORED, TO_BE_RECOMPUTED, GraphView, graph_view
from nbflow.execution.views.list_versions import list_versions
from nbflow.execution.views.seconds_text import format_seconds
from nbflow.execution.views.table import format_table
from nbflow.storage.instance import Instance
from nbflow.storage.step_history import SAMPLES, step_timings

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from nbflow.execution.engine.plan import Step
    from nbflow.execution.views.list_versions import VersionRow

RUN = "run"
"""Action of a step that will be computed."""

MEMOIZED = "memoized"
"""Action of a step whose stored outputs will be used."""

UNKNOWN = "unknown"
"""Shown for a time that the run history does not give."""


@dataclass(frozen=True, slots=True)
class PlanRow:
    """One step of the plan.

    Attributes:
        step_key: the step (``outer.inner`` for nested graphs).
        action: :data:`RUN` or :data:`MEMOIZED`.
        reasons: why it runs (from ``list_versions``, or an upstream step that runs); for a
            memoized step, notes such as unversioned resources.
        expected_seconds: the median of its latest successful executions in the instance's
            history, or ``None`` without history.
    """

    step_key: str
    action: str
    reasons: tuple[str, ...] = ()
    expected_seconds: float | None = None

    @property
    def will_run(self) -> bool:
        return self.action == RUN


@dataclass(frozen=True, slots=True)
class Estimate:
    """A sum of step times: the part the history gives, and how many steps it does not."""

    known_seconds: float
    steps: int
    unknown_steps: int

    @classmethod
    def of(cls, rows: Iterable[PlanRow]) -> Estimate:
        known = [r.expected_seconds for r in rows]
        return cls(
            sum(s for s in known if s is not None),
            len(known),
            sum(1 for s in known if s is None),
        )

    @property
    def seconds(self) -> float | None:
        """The total, or ``None`` when a step's time is unknown."""
        return None if self.unknown_steps else self.known_seconds

    def __str__(self) -> str:
        if not self.steps:
            return "0 s"
        if self.unknown_steps == self.steps:
            return UNKNOWN
        text = format_seconds(self.known_seconds)
        if self.unknown_steps:
            text = f"at least {text} ({self.unknown_steps} of {self.steps} steps {UNKNOWN})"
        return text


@dataclass(frozen=True, slots=True)
class MemoPlan:
    """What a memoized run of a job would do now, and how long it would take.

    Attributes:
        job_name: the job planned.
        rows: one per step, in topological order.
        runs_read: how many earlier runs of the job the times were read from.
    """

    job_name: str
    rows: tuple[PlanRow, ...]
    runs_read: int = 0

    def row(self, step_key: str) -> PlanRow:
        """The row of ``step_key``."""
        for row in self.rows:
            if row.step_key == step_key:
                return row
        raise KeyError(f"Job {self.job_name!r} has no step {step_key!r}.")

    @property
    def to_run(self) -> tuple[str, ...]:
        """Keys of the steps that will run."""
        return tuple(r.step_key for r in self.rows if r.will_run)

    @property
    def memoized(self) -> tuple[str, ...]:
        """Keys of the steps whose stored outputs will be used."""
        return tuple(r.step_key for r in self.rows if not r.will_run)

    @property
    def expected_run(self) -> Estimate:
        """The summed expected times of the steps that will run."""
        return Estimate.of(r for r in self.rows if r.will_run)

    @property
    def time_saved(self) -> Estimate:
        """The summed times of the memoized steps: what running them again would cost."""
        return Estimate.of(r for r in self.rows if not r.will_run)

    @property
    def expected_seconds(self) -> float | None:
        """Expected run time in seconds; ``None`` when a step to run has no history."""
        return self.expected_run.seconds

    @property
    def saved_seconds(self) -> float | None:
        """Time saved in seconds; ``None`` when a memoized step has no history."""
        return self.time_saved.seconds

    def summary(self) -> str:
        """The two totals and where the times come from, one line each."""
        lines = [
            f"Expected run time: {self.expected_run} ({_count(len(self.to_run), 'step')} to run)",
            f"Time saved: {self.time_saved} ({_count(len(self.memoized), 'step')} memoized)",
        ]
        if self.runs_read:
            lines.append(
                f"Times: median of each step's last {SAMPLES} successful executions, read from "
                f"{_count(self.runs_read, 'earlier run')} of job {self.job_name!r}."
            )
        else:
            lines.append(f"Times: {UNKNOWN}, no earlier run of job {self.job_name!r} recorded.")
        if any(_after_a_running_step(row, set(self.to_run)) for row in self.rows):
            lines.append(
                "A step that runs only because an upstream step runs may still be memoized "
                "if that step's value comes out unchanged."
            )
        return "\n".join(lines)

    def table(self) -> str:
        """The plan as a pipe table: step, plan, expected time, reasons."""
        body = [
            [
                r.step_key,
                r.action,
                UNKNOWN if r.expected_seconds is None else format_seconds(r.expected_seconds),
                "; ".join(r.reasons),
            ]
            for r in self.rows
        ]
        return format_table(["Step", "Plan", "Expected", "Reasons"], body)

    def __str__(self) -> str:
        return f"{self.table()}\n{self.summary()}"


def plan_run(
    job: JobDefinition,
    run_config: Mapping[str, Any] | None = None,
    instance: Instance | None = None,
    resources: Mapping[str, Any] | None = None,
    tags: Mapping[str, Any] | None = None,
) -> MemoPlan:
    """Which steps a memoized run of ``job`` would run and why, and the time it would take.

    Nothing runs; stored outputs are looked up as ``list_versions`` does.

    Args:
        job: the job.
        run_config: the run config the run would use.
        instance: where stored versions and the run history are read (an ephemeral one by
            default, which knows no earlier runs).
        resources: extra resources, as for ``list_versions``.
        tags: run tags, merged over the job's (they can turn memoization on or off).

    Returns:
        One row per step, with the totals.

    Raises:
        NotAJobError: ``job`` is not a job.
        MemoizationOffError: the job does not run memoized.
        MissingVersionError: an op has no version and the job no version strategy.
        RunConfigValidationError: the run config does not fit the job.
    """
    if not isinstance(job, JobDefinition):
        raise NotAJobError.build("A memo plan", job)
    job = current_job(job)  # ops, graphs and resources redefined since it was built
    merged = merge_tags(job, tags)
    if not memoization_enabled(job, merged):
        raise MemoizationOffError.build(job.name, MEMOIZED_RUN_TAG, merged.get(MEMOIZED_RUN_TAG))
    instance = instance or Instance.ephemeral()
    rows = {row.step_output: row for row in list_versions(job, run_config, instance, resources)}
    plan = build_plan(job)
    steps = plan.dynamic.shown_steps()  # a mapped op as one step, op[*]
    actions = decide(steps, rows)
    timings = step_timings(instance, job.name, [step.key for step in steps])
    return MemoPlan(
        job.name,
        tuple(
            PlanRow(key, action, reasons, timings.expected_seconds(key))
            for key, (action, reasons) in actions.items()
        ),
        timings.runs_read,
    )


def decide(
    steps: Iterable[Step], rows: Mapping[str, VersionRow]
) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Step key → (action, reasons): a step runs when one of its outputs is to be recomputed.

    Args:
        steps: the job's steps, upstream steps first.
        rows: ``list_versions``'s rows by step output (``"step.output"``).

    A step whose upstream step runs is listed to run (its version rests on the upstream's
    value, which is not known yet); early cutoff may still skip it when that value comes
    out unchanged. A step that runs only because its output is missing recomputes its
    stored version, and its consumers stay memoized.
    """
    actions: dict[str, tuple[str, tuple[str, ...]]] = {}
    for step in steps:
        outputs = [rows[f"{step.key}.{name}"] for name in step.op_def.outs]
        recompute = [r for r in outputs if r.status != STORED]
        reasons = _unique(reason for r in (recompute or outputs) for reason in r.reasons)
        actions[step.key] = (RUN if recompute else MEMOIZED, reasons)
    return actions


def _after_a_running_step(row: PlanRow, running: set[str]) -> bool:
    """Whether ``row`` runs only because upstream outputs of running steps changed."""
    prefix, suffix = "upstream '", "' changed"
    upstream = [
        reason[len(prefix) : -len(suffix)].rsplit(".", 1)[0]
        for reason in row.reasons
        if reason.startswith(prefix) and reason.endswith(suffix)
    ]
    return row.will_run and len(upstream) == len(row.reasons) and set(upstream) <= running


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def plan_view(job: Any, plan: MemoPlan) -> GraphView:
    """The DAG of ``job`` coloured by ``plan``: steps to run as ``to-be-recomputed``, memoized
    ones as ``stored``; tooltips carry the plan, the expected time and the reasons."""
    view = graph_view(job, title=f"{plan.job_name}: memo plan")
    described = {node.key: node.tooltip.split("\n", 1)[0] for node in view.nodes}
    statuses: dict[str, str] = {}
    tooltips: dict[str, str] = {}
    for row in plan.rows:
        if row.step_key not in described:
            continue
        statuses[row.step_key] = TO_BE_RECOMPUTED if row.will_run else STORED
        expected = UNKNOWN if row.expected_seconds is None else format_seconds(row.expected_seconds)
        lines = [described[row.step_key], f"{row.action} (expected {expected})", *row.reasons]
        tooltips[row.step_key] = "\n".join(lines)
    return view.with_statuses(statuses, tooltips)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
