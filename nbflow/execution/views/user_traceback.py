"""A stored traceback cut to the user's frames: what failed in their code, not nbflow's.

Works on the text of :attr:`nbflow.events.ErrorInfo.traceback` (tracebacks of step processes
are text by the time they are stored), so it serves live results and the run history alike.
"""

from __future__ import annotations

import re
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parents[2]
"""The folder of the ``nbflow`` package: frames in files under it are nbflow's."""

_FRAME = re.compile(r'^  File "(?P<path>[^"]+)", line \d+')


def _is_nbflow_file(path: str) -> bool:
    if path.startswith("<"):  # <string>, <dynamic-code>: code made at run time is the user's
        return False
    try:
        Path(path).resolve().relative_to(_PACKAGE_DIR)
    except (ValueError, OSError):
        return False
    return True


def user_traceback(text: str, how_to_see_all: str = "the full traceback shows them") -> str:
    """``text`` without the frames of nbflow's own files, and a note of how many were left out.

    A frame is its ``  File "...", line N, in f`` line and the indented source lines under
    it. A traceback whose frames are all nbflow's is returned whole (the error is then
    nbflow's, and its frames are what explains it).

    Args:
        text: a formatted traceback, as ``traceback.format_exception`` writes it (chained
            exceptions included).
        how_to_see_all: ends the note on left-out frames, e.g. ``"--full-traceback shows
            them"``.

    Returns:
        The traceback with only the user's frames, ending with the exception line; when
        frames were left out, a last line says how many.
    """
    kept: list[str] = []
    hidden = 0
    frames = 0
    skipping = False
    for line in text.splitlines():
        match = _FRAME.match(line)
        if match is not None:
            frames += 1
            skipping = _is_nbflow_file(match["path"])
            hidden += skipping
            if not skipping:
                kept.append(line)
        elif skipping and line.startswith("    "):
            continue
        else:
            skipping = False
            kept.append(line)
    if hidden == 0 or hidden == frames:
        return text.rstrip("\n")
    s = "s" if hidden > 1 else ""
    kept.append(f"({hidden} nbflow frame{s} left out; {how_to_see_all})")
    return "\n".join(kept)
