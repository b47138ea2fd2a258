"""A finished run's outputs for a person to read: the values its last steps produced.

The config form (:mod:`nbflow.notebook.config_form_widget`) shows them under the run's view once
the Run button's run ends, with the line of code that gets the whole result
(``form.result()``), so the answer is on screen without another cell.
"""

from __future__ import annotations

import reprlib
from html import escape
from typing import TYPE_CHECKING

from nbflow.execution.engine.step_states import StepState

if TYPE_CHECKING:
    from nbflow.execution.engine.result import ExecuteInProcessResult

SHOWN = 10
"""Outputs listed at most."""

_repr = reprlib.Repr()
_repr.maxstring = 120
_repr.maxother = 120
_repr.maxlist = _repr.maxtuple = _repr.maxdict = _repr.maxset = 8

_BOX = "margin:6px 0;font-size:12px"


def final_outputs(result: ExecuteInProcessResult) -> list[tuple[str, str]]:
    """``(step.output, short repr of the value)`` for each output of the run's last steps
    (those nothing else in the run reads) that succeeded and whose value is at hand."""
    plan = result.plan
    states = result.step_states()
    found: list[tuple[str, str]] = []
    for key, step in plan.steps.items():
        if plan.downstream.get(key) or states.state(key) not in (
            StepState.SUCCEEDED,
            StepState.MEMOIZED,
        ):
            continue
        for name in step.op_def.outs:
            try:
                value = result.output_for_node(key, name)
            except Exception:  # not kept in memory, or a mapped step: leave it out
                continue
            label = key if name == "result" else f"{key}.{name}"
            found.append((label, _repr.repr(value)))
    return found[:SHOWN]


def outputs_html(result: ExecuteInProcessResult | None, error: BaseException | None) -> str:
    """HTML listing ``result``'s final outputs and saying how to get the result in code; or,
    when the run raised ``error``, what it raised."""
    if result is None:
        what = f"{type(error).__name__}: {error}" if error is not None else "no result"
        return (
            f'<div style="{_BOX}">The run ended without a result ({escape(what)}); '
            "<code>form.result()</code> raises it again.</div>"
        )
    rows = "".join(
        f'<tr><td style="padding:1px 10px 1px 0"><code>{escape(label)}</code></td>'
        f"<td><code>{escape(value)}</code></td></tr>"
        for label, value in final_outputs(result)
    )
    table = f'<table style="border-collapse:collapse">{rows}</table>' if rows else ""
    head = "<b>Outputs</b>" if rows else "No output to show"
    first = next(iter(final_outputs(result)), None)
    example = (
        f'e.g. <code>form.result().output_for_node("{escape(first[0].split(".")[0])}")</code>'
        if first
        else "e.g. <code>form.result().success</code>"
    )
    return (
        f'<div class="nbflow-run-outputs" style="{_BOX}">{head}{table}'
        f'<div style="opacity:0.75">In code, <code>form.result()</code> (where <code>form</code> '
        f"is this form) returns the run's result: {example}.</div></div>"
    )


__all__ = ["SHOWN", "final_outputs", "outputs_html"]
