"""The failures of a run's view: each failed step's traceback, the user's frames only.

A failed step shows its traceback as
:func:`~nbflow.execution.views.user_traceback.user_traceback` cuts it (the filter the CLI
uses too): nbflow's own frames are left out, so it ends on the user's line with its source;
code of notebook cells is named as IPython names it (``Cell In[5], line 3``).
The result view (``result_html``, hence ``nbn.run``'s final state) shows it under the table.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from nbflow.execution.engine.step_states import StepState
from nbflow.execution.views.user_traceback import user_traceback
from nbflow.notebook.error_display import name_cells

if TYPE_CHECKING:
    from collections.abc import Iterable

    from nbflow.execution.engine.step_states import StepRecord

_SEE_ALL = "the run's report, result.to_html(path), shows them"
_PRE = (
    "margin:2px 0;padding:6px;background:#fef2f2;border:1px solid #fecaca;color:#7f1d1d;"
    "white-space:pre-wrap;font-size:11px;overflow-x:auto"
)


def step_tracebacks_html(records: Iterable[StepRecord]) -> str:
    """HTML of the failed steps' tracebacks (user frames only), or ``""`` when none failed.

    Args:
        records: the steps, in the order to show them (those that did not fail are passed over).

    Returns:
        str: a ``<div class="nbflow-tracebacks">`` with one open ``<details>`` per failed step.
    """
    blocks = []
    for record in records:
        error = record.error
        if record.state is not StepState.FAILED or error is None:
            continue
        key = escape(record.step_key)
        text = user_traceback(error.traceback, _SEE_ALL) if error.traceback else str(error)
        text = name_cells(text)
        blocks.append(
            f'<details open class="nbflow-traceback" data-step="{key}"><summary><code>{key}'
            f"</code> failed: {escape(str(error))}</summary>"
            f'<pre style="{_PRE}">{escape(text)}</pre></details>'
        )
    if not blocks:
        return ""
    inner = "".join(blocks)
    return f'<div class="nbflow-tracebacks" style="font-size:12px;margin-top:6px">{inner}</div>'


__all__ = ["step_tracebacks_html"]
