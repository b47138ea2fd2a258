"""Teaching mode: a run told step by step — what runs, why, and what is reused from storage.

:func:`explain` takes a job (what a run *would* do) or a finished run's result (what it
*did*) and returns an :class:`Explanation`: for each step in the order it runs, what
happens to it, why (the reasons of :func:`~nbflow.execution.views.list_versions.
list_versions`, such as ``config key 'tree_species' changed``), and which earlier steps
it takes its inputs from. It reads as plain text (``print``) and shows as a numbered list in
a notebook, for a class to follow.

Example:
    >>> import nbflow.notebook as nbn
    >>> nbn.explain(my_job, california)       # doctest: +SKIP
    What a run of job 'my_job' would do, step by step:
    1. emit_dog runs: never run.
    ...
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING, Any

from nbflow.definitions.redefinition import current_job
from nbflow.errors import MissingVersionError
from nbflow.execution.engine.memo import memoization_enabled
from nbflow.execution.engine.plan import build_plan
from nbflow.execution.engine.result import ExecuteInProcessResult
from nbflow.execution.engine.run import validate_run_config
from nbflow.execution.views.graph_dot import style_for
from nbflow.execution.views.list_versions import STORED, list_versions
from nbflow.execution.views.run_names import what_runs
from nbflow.notebook._result_rows import result_rows
from nbflow.notebook.durations import human_duration
from nbflow.notebook.text_report import TextReport

if TYPE_CHECKING:
    from collections.abc import Mapping

    from nbflow.storage.instance import Instance

RUNS = "runs"
REUSED = "is reused from storage"
NOT_MEMOIZED = (
    "the job is not memoized, so nothing is reused and every step runs each time "
    "(give the job a version_strategy, or run it with the tag MEMOIZED_RUN_TAG='true' and "
    "ops that have a version)"
)


@dataclass(frozen=True, slots=True)
class ExplainedStep:
    """One step of the narrative.

    Attributes:
        step: the step key.
        action: what happens to it: ``runs`` or ``is reused from storage`` (a planned run);
            ``ran``, ``was reused from storage``, ``failed``, ``was skipped`` or ``did not
            run`` (a finished run).
        reasons: why (the versions' reasons, or what the run said of the step).
        after: the earlier steps whose outputs it takes as inputs.
        status: the status colour it is drawn with (``succeeded``, ``memoized``...).
    """

    step: str
    action: str
    reasons: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    status: str = "pending"

    def sentence(self) -> str:
        """``emit_tree runs (after emit_dog): config key 'tree_species' changed.``"""
        after = f" (after {', '.join(self.after)})" if self.after else ""
        why = f": {'; '.join(self.reasons)}" if self.reasons else ""
        return f"{self.step} {self.action}{after}{why}."


@dataclass(frozen=True, slots=True, repr=False)
class Explanation(TextReport):
    """A run told step by step; prints as text, shows as a numbered list in a notebook.

    Attributes:
        title: what is told, e.g. ``What a run of job 'my_job' would do``.
        steps: the steps, in the order they run.
        total: the closing line (how many steps run, how many are reused).
    """

    title: str
    steps: tuple[ExplainedStep, ...]
    total: str

    def __str__(self) -> str:
        lines = [f"{self.title}, step by step:"]
        lines += [f"{n}. {s.sentence()}" for n, s in enumerate(self.steps, 1)]
        lines.append(self.total)
        return "\n".join(lines)

    def _html(self) -> str:
        items = []
        for step in self.steps:
            style = style_for(step.status)
            badge = (
                f'<span style="background:{style.fill};border:1px solid {style.border};'
                f'color:{style.text};border-radius:9px;padding:0 7px">{escape(step.action)}</span>'
            )
            after = (
                f' <span style="opacity:0.7">after {", ".join(map(_code, step.after))}</span>'
                if step.after
                else ""
            )
            why = "".join(f"<li>{escape(r)}</li>" for r in step.reasons)
            why_list = f'<ul style="margin:2px 0">{why}</ul>' if why else ""
            items.append(
                f'<li style="margin:4px 0">{_code(step.step)} {badge}{after}{why_list}</li>'
            )
        return (
            f'<div class="nbflow-explain"><b>{escape(self.title)}</b>, step by step:'
            f'<ol style="margin:4px 0">{"".join(items)}</ol><div>{escape(self.total)}</div></div>'
        )


def _code(text: str) -> str:
    return f"<code>{escape(text)}</code>"


def _plural(n: int, word: str) -> str:
    return f"{n} step{'s' if n != 1 else ''} {word}"


def _planned(
    job: Any,
    run_config: Mapping[str, Any] | None,
    instance: Instance | None,
    resources: Mapping[str, Any] | None,
    tags: Mapping[str, str] | None,
) -> Explanation:
    job = current_job(job)
    plan = build_plan(job)
    title = f"What a run of {what_runs(job)} would do"
    every = tuple(ExplainedStep(key, RUNS, (), _after(plan, key)) for key in plan.steps)
    not_memoized = Explanation(
        title, every, f"In all: {_plural(len(every), 'run')}; {NOT_MEMOIZED}."
    )
    if not memoization_enabled(job, {**job.tags, **(tags or {})}):
        validate_run_config(job, run_config)  # a bad config is said all the same
        return not_memoized
    try:
        rows = list_versions(job, run_config, instance, resources)
    except MissingVersionError:
        return not_memoized
    by_step: dict[str, list[Any]] = {}
    for row in rows:
        by_step.setdefault(row.step_output.rpartition(".")[0], []).append(row)
    steps = []
    for key, found in by_step.items():
        reused = all(row.status == STORED for row in found)
        reasons: list[str] = []
        for row in found:
            reasons += [r for r in row.reasons if r not in reasons]
        if reused:
            reasons = ["its outputs are stored under the versions this run would give them"]
        action, status = (REUSED, "memoized") if reused else (RUNS, "pending")
        steps.append(ExplainedStep(key, action, tuple(reasons), _after(plan, key), status))
    runs = sum(s.action == RUNS for s in steps)
    total = f"In all: {_plural(runs, 'run')}, {_plural(len(steps) - runs, 'reused from storage')}."
    return Explanation(title, tuple(steps), total)


def _after(plan: Any, key: str) -> tuple[str, ...]:
    step = plan.steps.get(key)
    return tuple(step.upstream_keys) if step is not None else ()


_DONE = {
    "succeeded": "ran",
    "memoized": "was reused from storage",
    "failed": "failed",
    "skipped": "was skipped",
    "not run": "did not run",
}


def _finished(result: ExecuteInProcessResult, instance: Instance | None) -> Explanation:
    title = f"What run {result.run_id[:8]} of {what_runs(result.job_def)} did"
    steps: list[ExplainedStep] = []
    for row in result_rows(result, instance):
        reasons: list[str] = []
        if row.status == "succeeded":
            reasons.append(f"it took {human_duration(row.duration_ms)}")
        elif row.status == "memoized":
            reasons.append("its outputs were stored under the versions this run gave them")
            if row.saved_ms is not None:
                reasons.append(
                    f"that saved {human_duration(row.saved_ms)}, the time computing them took"
                )
        if row.note and row.status != "memoized":
            reasons.append(row.note)
        elif row.status == "memoized" and "(" in row.note:
            reasons.append(row.note[row.note.index("(") + 1 : -1])
        steps.append(
            ExplainedStep(
                row.step,
                _DONE.get(row.status, row.status),
                tuple(reasons),
                _after(result.plan, row.step),
                "pending" if row.status == "not run" else row.status,
            )
        )
    ran = sum(s.status == "succeeded" for s in steps)
    reused = sum(s.status == "memoized" for s in steps)
    total = f"In all: {_plural(ran, 'ran')}, {_plural(reused, 'reused from storage')}"
    others = len(steps) - ran - reused
    total += f", {others} other{'s' if others != 1 else ''}." if others else "."
    return Explanation(title, tuple(steps), total)


def explain(
    job: Any,
    run_config: Mapping[str, Any] | None = None,
    instance: Instance | None = None,
    resources: Mapping[str, Any] | None = None,
    tags: Mapping[str, str] | None = None,
) -> Explanation:
    """Tell, step by step, what a run of ``job`` would do — or what a finished run did.

    For a job: each step in order, whether it runs or is reused from storage, why (its
    versions' reasons, e.g. ``config key 'tree_species' changed``, ``never run``) and which
    earlier steps feed it. For a finished run (an ``ExecuteInProcessResult``): what each step
    did, how long it took, and for a reused step the time that saved.

    Args:
        job: a job (memoized or not), or the result of a run.
        run_config: the run config the run would use (for a job).
        instance: where earlier runs stored their outputs and history (default: values
            memoized in this process).
        resources: extra resources, as for ``version_table``.
        tags: the run's tags (``MEMOIZED_RUN_TAG`` turns memoization on or off).

    Returns:
        An :class:`Explanation` (``print`` it, or let the notebook show it).

    Raises:
        RunConfigValidationError: the run config does not fit the job.
    """
    if isinstance(job, ExecuteInProcessResult):
        return _finished(job, instance)
    return _planned(job, run_config, instance, resources, tags)


__all__ = ["ExplainedStep", "Explanation", "explain"]
