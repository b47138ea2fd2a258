"""Durations as the command line reads them: ``30m``, ``12h``, ``7d``, ``1d12h``."""

from __future__ import annotations

import re

from nbflow.cli.command_error import CommandError

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_PART = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")


def parse_duration(text: str, option: str) -> float:
    """Seconds in ``text``: numbers each followed by a unit (s, m, h, d, w), e.g. ``1d12h``.

    Args:
        text: what the user wrote.
        option: the option it was given to, for the error message.

    Raises:
        CommandError: ``text`` is not such a duration.
    """
    compact = text.strip().lower().replace(" ", "")
    parts = _PART.findall(compact)
    if not compact or "".join(n + u for n, u in parts) != compact:
        raise CommandError(
            f"{option} {text!r} is not a duration. Expected numbers each followed by a unit: "
            "s (seconds), m (minutes), h (hours), d (days) or w (weeks), e.g. 30m, 12h, 7d, "
            "1d12h."
        )
    return sum(float(number) * _UNITS[unit] for number, unit in parts)
