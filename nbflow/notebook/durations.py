"""Durations as people read them: ``175 ms``, ``2.3 s``, ``4 min 12 s``, ``1 h 3 min``."""

from __future__ import annotations


def human_duration(ms: float | None) -> str:
    """``ms`` milliseconds in the unit that reads best, or ``""`` when unknown (``None``).

    Under a millisecond: ``0.4 ms``; under a second: whole milliseconds (``175 ms``); under a
    minute: seconds with one decimal (``2.3 s``, ``12 s`` from ten seconds on); then minutes
    and seconds (``4 min 12 s``), then hours and minutes (``1 h 3 min``).
    """
    if ms is None:
        return ""
    ms = max(0.0, float(ms))
    if ms < 1:
        return f"{ms:.1f} ms"
    if ms < 999.5:
        return f"{ms:.0f} ms"
    seconds = ms / 1000
    if seconds < 9.95:
        return f"{seconds:.1f} s"
    if seconds < 59.5:
        return f"{seconds:.0f} s"
    whole = round(seconds)
    if whole < 3600:
        minutes, rest = divmod(whole, 60)
        return f"{minutes} min {rest} s" if rest else f"{minutes} min"
    hours, rest = divmod(whole, 3600)
    minutes = rest // 60
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


__all__ = ["human_duration"]
