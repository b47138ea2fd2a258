"""``user_traceback``: a stored traceback cut to the user's frames."""

from __future__ import annotations

from pathlib import Path

import nbflow
from nbflow.execution.views.user_traceback import user_traceback

ENGINE = Path(nbflow.__file__).parent / "execution" / "engine" / "step.py"

MIXED = f"""Traceback (most recent call last):
  File "{ENGINE}", line 10, in run_step
    outputs = _compute(run, step, context)
              ^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "/home/me/jobs.py", line 4, in boom
    raise ValueError("no")
ValueError: no
"""


def test_nbflow_frames_are_left_out_with_a_note() -> None:
    assert user_traceback(MIXED, "--full shows them").splitlines() == [
        "Traceback (most recent call last):",
        '  File "/home/me/jobs.py", line 4, in boom',
        '    raise ValueError("no")',
        "ValueError: no",
        "(1 nbflow frame left out; --full shows them)",
    ]


def test_a_traceback_of_nbflow_frames_only_is_kept_whole() -> None:
    only_nbflow = "\n".join([*MIXED.splitlines()[:4], "KeyError: 'x'"])
    assert user_traceback(only_nbflow) == only_nbflow


def test_a_traceback_of_user_frames_only_is_unchanged() -> None:
    user = "\n".join([MIXED.splitlines()[0], *MIXED.splitlines()[4:]])
    assert user_traceback(user) == user
