"""Durations as people read them: ``12.3 ms``, ``1.25 s``, ``2m 05s``, ``1h 02m``."""

from __future__ import annotations


def format_seconds(seconds: float) -> str:
    """``12.3 ms``, ``1.25 s``, ``2m 05s`` or ``1h 02m``."""
    if seconds < 1:
        return f"{seconds * 1000:.1f} ms"
    if seconds < 60:
        return f"{seconds:.2f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"
