"""Times and durations as the command line prints them."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from nbflow.execution.views.seconds_text import format_seconds

if TYPE_CHECKING:
    from nbflow.storage.run import Run


def format_time(at: float | None) -> str:
    return "" if at is None else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(at))


def run_duration(run: Run) -> str:
    if run.start_time is None or run.end_time is None:
        return ""
    return format_seconds(max(run.end_time - run.start_time, 0.0))
