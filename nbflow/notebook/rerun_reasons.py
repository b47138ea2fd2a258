"""Why one step must run again: the reasons, and a diff of the code that changed.

:func:`why` asks :func:`~nbflow.execution.views.list_versions.list_versions` about one step and
returns a :class:`Why`: its status, its reasons (``helper 'clean' changed``, ``global 'RATE'
changed (2 → 3)``, ...) and a unified diff of the op body, helpers, classes and decorators
whose source changed since the stored outputs. It shows as text, or as HTML in a notebook.

Example:
    >>> import nbflow.notebook as nbn
    >>> nbn.why(my_job, "scale")        # doctest: +SKIP
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nbflow.errors import ResultLookupError, did_you_mean
from nbflow.execution.views.list_versions import STORED, TO_BE_RECOMPUTED, list_versions
from nbflow.notebook.text_report import TextReport

if TYPE_CHECKING:
    from collections.abc import Mapping

    from nbflow.storage.instance import Instance


@dataclass(frozen=True, slots=True, repr=False)
class Why(TextReport):
    """Why a step must run again (or that it need not).

    Attributes:
        step: the step key.
        status: ``stored`` when every output is stored with its current version, else
            ``to-be-recomputed``.
        reasons: the reasons of all its outputs, each once, in order.
        diff: a unified diff of the code that changed since the stored outputs (``""``
            when no source changed or nothing was stored).
    """

    step: str
    status: str
    reasons: tuple[str, ...]
    diff: str

    def __str__(self) -> str:
        lines = [f"Step {self.step!r}: {self.status}"]
        lines += [f"  - {reason}" for reason in self.reasons]
        if self.diff:
            lines += ["", self.diff]
        return "\n".join(lines)

    def _html(self) -> str:
        colour = "#2e7d32" if self.status == STORED else "#c62828"
        parts = [
            f"<div><b>Step {html.escape(repr(self.step))}</b>: "
            f"<span style='color:{colour}'>{html.escape(self.status)}</span>"
        ]
        if self.reasons:
            items = "".join(f"<li>{html.escape(reason)}</li>" for reason in self.reasons)
            parts.append(f"<ul>{items}</ul>")
        if self.diff:
            lines = [_diff_line(line) for line in self.diff.splitlines()]
            parts.append(
                "<pre style='font-size:90%; padding:4px; background:#f7f7f7'>"
                + "\n".join(lines)
                + "</pre>"
            )
        parts.append("</div>")
        return "".join(parts)


def why(
    job: Any,
    step: str,
    run_config: Mapping[str, Any] | None = None,
    instance: Instance | None = None,
    resources: Mapping[str, Any] | None = None,
) -> Why:
    """Return why ``step`` of ``job`` must run again, with a diff of the code that changed.

    Args:
        job: a job definition (memoized: ops with versions or a version strategy).
        step: the step key, e.g. ``"scale"``.
        run_config: the run config the next run would use.
        instance: where earlier runs stored their outputs (default: an ephemeral instance,
            which sees values memoized in this process).
        resources: extra resources, as for ``list_versions``.

    Returns:
        The step's status, reasons and diff.

    Raises:
        ResultLookupError: the job has no step ``step`` (the message lists close names).
        MissingVersionError: an op has no version and the job no version strategy.
    """
    rows = list_versions(job, run_config, instance, resources, diffs=True)
    mine = [row for row in rows if row.step_output.rpartition(".")[0] == step]
    if not mine:
        steps = sorted({row.step_output.rpartition(".")[0] for row in rows})
        raise ResultLookupError(
            f"Job {getattr(job, 'name', job)!r} has no step {step!r}.{did_you_mean(step, steps)}"
            f"\nFix: pass one of its steps: {', '.join(map(repr, steps))}."
        )
    reasons: list[str] = []
    for row in mine:
        reasons += [reason for reason in row.reasons if reason not in reasons]
    status = STORED if all(row.status == STORED for row in mine) else TO_BE_RECOMPUTED
    diff = next((row.diff for row in mine if row.diff), "")
    return Why(step=step, status=status, reasons=tuple(reasons), diff=diff)


def _diff_line(line: str) -> str:
    escaped = html.escape(line)
    if line.startswith(("+++", "---")):
        return f"<b>{escaped}</b>"
    if line.startswith("+"):
        return f"<span style='color:#2e7d32'>{escaped}</span>"
    if line.startswith("-"):
        return f"<span style='color:#c62828'>{escaped}</span>"
    if line.startswith("@@"):
        return f"<span style='color:#6a1b9a'>{escaped}</span>"
    return escaped
