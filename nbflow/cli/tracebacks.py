"""A stored traceback as the command line prints it: the user's frames, nbflow's left out.

Tracebacks are stored as text (``ErrorInfo.traceback``), so the frames are found in the
text: a frame is a ``  File "...", line N, in name`` line and the indented lines under it
(source text and ``^^^`` markers). Frames whose file is inside the nbflow package are
nbflow's own; everything else (headers, chained-exception notes, the error line) is kept.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import nbflow

_FRAME = re.compile(r'^  File "(?P<file>[^"]+)", line \d+')
_PACKAGE_DIR = os.path.realpath(Path(nbflow.__file__).parent)


@dataclass(frozen=True, slots=True)
class ShownTraceback:
    """A traceback to print, and how many of nbflow's frames were left out of it."""

    text: str
    hidden_frames: int


def is_nbflow_file(path: str, package_dir: str = _PACKAGE_DIR) -> bool:
    """Whether ``path`` (as a traceback names it) is a file of the nbflow package."""
    if path.startswith("<"):  # <string>, <dynamic-code>: code made at run time, the user's
        return False
    return os.path.realpath(path).startswith(package_dir + os.sep)


def user_traceback(text: str, package_dir: str = _PACKAGE_DIR) -> ShownTraceback:
    """``text`` without the frames of files under ``package_dir`` (nbflow's own).

    Args:
        text: a traceback as ``traceback.format_exception`` writes it (chains included).
        package_dir: the folder whose frames are left out (default: the nbflow package).

    Returns:
        The kept lines and the number of frames left out.
    """
    kept: list[str] = []
    hidden = 0
    dropping = False
    for line in text.splitlines():
        frame = _FRAME.match(line)
        if frame is not None:
            dropping = is_nbflow_file(frame["file"], package_dir)
            hidden += dropping
        elif not line.startswith("    "):
            dropping = False
        if not dropping:
            kept.append(line)
    return ShownTraceback("\n".join(kept), hidden)


def format_failure_traceback(text: str, *, full: bool) -> str:
    """The traceback the CLI prints for a failed step: all of it when ``full``, else the
    user's frames with a note on how many of nbflow's were left out."""
    if full:
        return text.rstrip("\n")
    shown = user_traceback(text)
    if not shown.hidden_frames:
        return shown.text
    frames = "frame" if shown.hidden_frames == 1 else "frames"
    note = f"({shown.hidden_frames} nbflow {frames} left out; --full-traceback shows them)"
    return f"{shown.text}\n{note}"
