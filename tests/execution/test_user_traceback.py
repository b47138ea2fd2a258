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


CHAINED = f"""Traceback (most recent call last):
  File "{ENGINE}", line 376, in run_step
    outputs = _compute(run, step, context)
  File "/home/me/flow.py", line 12, in load
    return parse(path)
  File "<dynamic-code>", line 3, in parse
    raise KeyError(path)
KeyError: 'x'

The above exception was the direct cause of the following exception:

Traceback (most recent call last):
  File "{ENGINE}", line 380, in run_step
    raise StepError() from exc
StepError: load failed
"""


def test_chained_tracebacks_keep_their_user_frames_and_code_made_at_run_time_is_the_users() -> None:
    assert user_traceback(CHAINED, "--full-traceback shows them").splitlines() == [
        "Traceback (most recent call last):",
        '  File "/home/me/flow.py", line 12, in load',
        "    return parse(path)",
        '  File "<dynamic-code>", line 3, in parse',
        "    raise KeyError(path)",
        "KeyError: 'x'",
        "",
        "The above exception was the direct cause of the following exception:",
        "",
        "Traceback (most recent call last):",
        "StepError: load failed",
        "(2 nbflow frames left out; --full-traceback shows them)",
    ]


def test_a_sibling_folder_named_like_the_package_is_the_users() -> None:
    sibling = Path(nbflow.__file__).parent.parent / "nbflow_extras" / "x.py"
    text = f'Traceback (most recent call last):\n  File "{sibling}", line 1, in f\nE: e'
    assert user_traceback(text) == text


def test_nbflow_frames_between_user_frames_are_left_out_and_the_users_line_ends_it() -> None:
    plan = Path(nbflow.__file__).parent / "execution" / "plan.py"
    text = f"""Traceback (most recent call last):
  File "/home/me/jobs.py", line 9, in clean
    rows = context.resources.store.load(path)
  File "{plan}", line 40, in load
    return self._read(path)
           ^^^^^^^^^^^^^^^^
  File "/home/me/store.py", line 3, in _read
    return json.loads(text)
ValueError: boom
"""
    assert user_traceback(text).splitlines() == [
        "Traceback (most recent call last):",
        '  File "/home/me/jobs.py", line 9, in clean',
        "    rows = context.resources.store.load(path)",
        '  File "/home/me/store.py", line 3, in _read',
        "    return json.loads(text)",
        "ValueError: boom",
        "(1 nbflow frame left out; the full traceback shows them)",
    ]
