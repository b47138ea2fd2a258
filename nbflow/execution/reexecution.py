"""Re-execution: run again part of a finished run, loading what it stored for the rest.

``ReexecutionOptions`` names the parent run and the steps to run again (op selection
queries); ``from_failure`` picks the steps that failed and everything downstream of them.
Outputs of the steps left out are loaded through their IO managers from the run (the parent,
or an earlier run of the chain) whose step produced them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from nbflow.errors import ReexecutionError
from nbflow.events import EventType
from nbflow.storage.run import RunStatus

if TYPE_CHECKING:
    from collections.abc import Sequence

    from nbflow.definitions.job import JobDefinition
    from nbflow.execution.engine.plan import ExecutionPlan
    from nbflow.storage.instance import Instance
    from nbflow.storage.run import Run

PARENT_RUN_ID_TAG = "nbflow/parent_run_id"
ROOT_RUN_ID_TAG = "nbflow/root_run_id"


@dataclass(frozen=True, slots=True)
class ReexecutionOptions:
    """What ``execute_job(reexecution_options=...)`` runs again.

    Args:
        parent_run_id: the run to re-execute; it must be recorded on the instance given to
            ``execute_job``.
        step_selection: op selection queries (``"name"``, ``"name*"``...) of the steps to
            run again; empty runs every step again.
    """

    parent_run_id: str
    step_selection: Sequence[str] = ()

    @classmethod
    def from_failure(cls, run_id: str, instance: Instance) -> ReexecutionOptions:
        """Options that re-run the steps of failed run ``run_id`` that failed (or started
        and never finished) and every step downstream of them.

        Raises:
            ReexecutionError: the run is unknown to ``instance`` or did not fail.
        """
        parent = parent_run(instance, run_id)
        if parent.status is not RunStatus.FAILURE:
            raise ReexecutionError(
                f"Run {run_id!r} has status {parent.status.value}, not FAILURE: "
                "from_failure re-executes failed runs only. Fix: pass "
                "ReexecutionOptions(run_id, step_selection=[...]) to choose the steps."
            )
        started: dict[str, None] = {}
        finished: set[str] = set()
        for event in instance.get_events(run_id):
            if event.step_key is None:
                continue
            if event.event_type in (EventType.STEP_START, EventType.STEP_FAILURE):
                started[event.step_key] = None
            elif event.event_type in (EventType.STEP_SUCCESS, EventType.STEP_SKIPPED):
                finished.add(event.step_key)
        failed = [key for key in started if key not in finished]
        nodes = dict.fromkeys(key.split(".", 1)[0].split("[", 1)[0] for key in failed)
        return cls(run_id, tuple(f"{node}*" for node in nodes) or ("*",))


def parent_run(instance: Instance, run_id: str) -> Run:
    """The run ``run_id`` recorded on ``instance``.

    Raises:
        ReexecutionError: no such run there.
    """
    run = instance.get_run(run_id)
    if run is None:
        raise ReexecutionError(
            f"Run {run_id!r} is not recorded on this instance ({instance.root}), so it cannot "
            "be re-executed. Fix: pass the instance the parent run used (an ephemeral "
            "instance forgets its runs; use Instance.get() or Instance.local(path))."
        )
    return run


def check_parent(job_def: JobDefinition, parent: Run) -> None:
    """A re-execution runs the parent's job.

    Raises:
        ReexecutionError: the parent ran another job.
    """
    if parent.job_name != job_def.name:
        raise ReexecutionError(
            f"Run {parent.run_id!r} ran job {parent.job_name!r}, not {job_def.name!r}. Fix: "
            "re-execute it with the job it ran."
        )


def lineage_tags(parent: Run) -> dict[str, str]:
    """The tags a re-execution of ``parent`` carries: its parent and the chain's root."""
    return {
        PARENT_RUN_ID_TAG: parent.run_id,
        ROOT_RUN_ID_TAG: parent.root_run_id or parent.run_id,
    }


def link_left_out_steps(plan: ExecutionPlan, parent: Run, instance: Instance) -> None:
    """Point every output the re-execution loads at the run of the chain that produced it.

    Raises:
        ReexecutionError: naming each left-out step no run of the chain completed.
    """
    left_out = {
        step_input.cut_upstream[0]
        for step in plan.steps.values()
        for step_input in step.inputs
        if step_input.cut_upstream is not None
    }
    sources: dict[str, str] = {}
    run: Run | None = parent
    while run is not None and left_out - sources.keys():
        for event in instance.get_events(run.run_id):
            key = event.step_key
            if event.event_type is EventType.STEP_SUCCESS and key in left_out:
                sources.setdefault(key, run.run_id)
        run = instance.get_run(run.parent_run_id) if run.parent_run_id else None
    missing = sorted(left_out - sources.keys())
    if missing:
        raise ReexecutionError(
            f"Run {parent.run_id!r} (and the runs it re-executed) never completed the steps "
            f"{missing}, whose outputs the selected steps read. Fix: include those steps in "
            "the step selection."
        )
    plan.source_run_ids.update(sources)
    plan.load_cut_inputs_from_storage()
