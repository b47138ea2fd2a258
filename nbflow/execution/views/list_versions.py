"""``list_versions``: each step output's version, whether it is stored, and why not."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nbflow.definitions.redefinition import current_job, redefinition_reasons
from nbflow.execution.engine.dynamic import ANY_MAPPING_KEY
from nbflow.execution.engine.io_contexts import IOScope
from nbflow.execution.engine.memo import (
    Versioner,
    check_memoizable,
    manifest_store,
    stored_value_fingerprints,
)
from nbflow.execution.engine.plan import build_plan
from nbflow.execution.engine.resources import build_resources
from nbflow.execution.engine.run import default_io_manager, in_process_resource_defs
from nbflow.execution.engine.run_config import resolve_run_config
from nbflow.execution.engine.stored_outputs import output_statuses
from nbflow.execution.views.table import format_table
from nbflow.storage.instance import Instance
from nbflow.versioning import NEVER_RUN, OUTPUT_MISSING, VersionParts, code_diff, explain

if TYPE_CHECKING:
    from collections.abc import Mapping

    from nbflow.execution.engine.plan import Step

STORED = "stored"
TO_BE_RECOMPUTED = "to-be-recomputed"


@dataclass(frozen=True, slots=True)
class VersionRow:
    """One step output: its version, ``stored`` or ``to-be-recomputed``, and the reasons.

    ``diff`` (asked for with ``list_versions(..., diffs=True)``) is a unified diff of the op's
    source that changed since the stored manifest: its body, helpers, classes, decorators.
    """

    step_output: str
    version: str
    status: str
    reasons: tuple[str, ...] = ()
    diff: str = ""


def list_versions(
    job: Any,
    run_config: Mapping[str, Any] | None = None,
    instance: Instance | None = None,
    resources: Mapping[str, Any] | None = None,
    *,
    diffs: bool = False,
) -> list[VersionRow]:
    """The version of every step output of ``job`` under ``run_config``, and its status.

    Versions are computed as a memoized run would; each output's IO manager is asked
    whether it holds that version. For outputs to be recomputed, the reasons compare the
    current version's parts with the latest stored manifest of that output; with
    ``diffs=True`` each such row also carries a diff of the source that changed. Definitions
    redefined since the job was built are used (``nbflow.definitions.redefinition``), and
    the rows they concern that must be recomputed say so.

    Raises:
        MissingVersionError: an op has no version and the job no version strategy.
        NonMemoizableIOManagerError: an output's IO manager cannot say what it stores.
        RunConfigValidationError: the run config does not fit the job.
    """
    instance = instance or Instance.ephemeral()
    job = current_job(job)
    redefined = redefinition_reasons(job)
    resource_defs = in_process_resource_defs(
        job, resources, default_io_manager(job, instance, memoized=True)
    )
    plan = build_plan(job)
    config = resolve_run_config(plan, resource_defs, run_config)
    versioner = Versioner(plan, plan, config, resource_defs)
    versioner.compute()  # errors (ops without a version, bad inputs) before building anything
    manager_keys = plan.needed_resource_keys(io_managers_only=True)
    rows: list[VersionRow] = []
    with contextlib.ExitStack() as stack:
        built = build_resources(
            resource_defs,
            {k: config.resource_config(k) for k in resource_defs},
            manager_keys,
            stack,
            instance=instance,
        )
        check_memoizable(plan, built)
        parts = versioner.compute(stored_value_fingerprints(plan, built, instance))
        scope = IOScope(plan, built)
        after_keys: dict[str, str] = {}  # step key -> the mapped step its versions wait for
        for step in plan.dynamic.shown_steps():
            if step.mapping_key == ANY_MAPPING_KEY:
                rows += _mapped_rows(step)
                continue
            waits_for = _waits_for_keys(step, after_keys)
            if waits_for is not None:
                after_keys[step.key] = waits_for
                rows += _after_keys_rows(step, waits_for)
                continue
            versions = {name: parts[(step.key, name)].version for name in step.op_def.outs}
            for found in output_statuses(scope, step.key, versions):
                name, context, manager = found.name, found.context, found.manager
                current = parts[(step.key, name)]
                diff = ""
                if found.stored:
                    status, reasons = STORED, _unversioned_notes(current)
                else:
                    status = TO_BE_RECOMPUTED
                    latest = manifest_store(step, name, built, instance).latest_manifest(
                        step.key, name
                    )
                    reasons = _reasons(latest, current, _missing_reason(manager, context))
                    reasons = (*reasons, *redefined.get(step.key, ()))
                    diff = _diff(latest, current) if diffs else ""
                rows.append(
                    VersionRow(f"{step.key}.{name}", current.version, status, reasons, diff)
                )
    return rows


def _mapped_rows(step: Step) -> list[VersionRow]:
    """Rows of a mapped op before its mapping keys are known: versioned per key by the run
    (which skips each element stored), listed to be recomputed with no version yet."""
    source = step.mapped_over
    assert source is not None
    reason = (
        f"mapped over '{source[0]}.{source[1]}': versioned per mapping key once the run "
        "knows them (stored elements are skipped)"
    )
    return [
        VersionRow(f"{step.key}.{name}", "", TO_BE_RECOMPUTED, (reason,))
        for name in step.op_def.outs
    ]


def _waits_for_keys(step: Step, after_keys: Mapping[str, str]) -> str | None:
    """The mapped step whose keys ``step``'s versions wait for: it collects a mapped output,
    or reads from a step that does; ``None`` when its versions are known before the run."""
    for step_input in step.inputs:
        if step_input.collects is not None:
            return f"{step_input.collects[0]}"
        for upstream in step_input.upstreams:
            if upstream[0] in after_keys:
                return after_keys[upstream[0]]
    return None


def _after_keys_rows(step: Step, mapped: str) -> list[VersionRow]:
    """Rows of a step versioned from mapped outputs whose keys only the run will know."""
    reason = (
        f"reads the outputs of '{mapped}' (mapped): versioned once the run knows its "
        "mapping keys (a stored output of that version is not recomputed)"
    )
    return [
        VersionRow(f"{step.key}.{name}", "", TO_BE_RECOMPUTED, (reason,))
        for name in step.op_def.outs
    ]


def _unversioned_notes(current: VersionParts) -> tuple[str, ...]:
    untracked = current.code is not None and current.code.untracked()
    return tuple(explain(current, current)) if current.unversioned_resources or untracked else ()


def _missing_reason(manager: Any, context: Any) -> str | None:
    """The IO manager's own word on why it lacks an output (a value it could not keep)."""
    ask = getattr(manager, "missing_reason", None)
    return ask(context) if callable(ask) else None


def _reasons(
    latest: Mapping[str, Any] | None, current: VersionParts, missing: str | None = None
) -> tuple[str, ...]:
    if latest is None:
        return (NEVER_RUN,)
    try:
        previous = VersionParts.from_manifest(latest)
    except Exception:
        return (NEVER_RUN,)
    if previous.version == current.version:
        return (missing or OUTPUT_MISSING, *_unversioned_notes(current))
    return tuple(explain(previous, current))


def _diff(latest: Mapping[str, Any] | None, current: VersionParts) -> str:
    if latest is None:
        return ""
    try:
        previous = VersionParts.from_manifest(latest)
    except Exception:
        return ""
    if previous.op_version == current.op_version:
        return ""
    return code_diff(previous.code, current.code)


def format_version_diffs(rows: list[VersionRow]) -> str:
    """The diffs of ``rows`` (from ``list_versions(..., diffs=True)``), one block per step."""
    blocks: list[str] = []
    shown: set[str] = set()
    for row in rows:
        step = row.step_output.rpartition(".")[0]
        if row.diff and step not in shown:
            shown.add(step)
            blocks.append(f"Code changes of step {step!r}:\n{row.diff}")
    return "\n\n".join(blocks)


def format_version_table(rows: list[VersionRow], with_reasons: bool = False) -> str:
    """The table ``nbflow job list_versions`` prints (the seed's three columns)."""
    headers = ["Step Output", "Version", "Status of Output"]
    body = [[r.step_output, r.version, r.status] for r in rows]
    if with_reasons:
        headers.append("Reasons")
        for line, row in zip(body, rows, strict=True):
            line.append("; ".join(row.reasons))
    return format_table(headers, body)
