"""Failed steps' tracebacks as the CLI prints them: nbflow's own frames left out."""

from __future__ import annotations

import os

from nbflow.cli.tracebacks import format_failure_traceback, is_nbflow_file, user_traceback

PKG = os.path.realpath("/opt/site/nbflow")

TEXT = f"""Traceback (most recent call last):
  File "{PKG}/execution/engine/step.py", line 376, in run_step
    outputs = _compute(run, step, context)
              ^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "/home/me/flow.py", line 12, in load
    return parse(path)
  File "/home/me/helpers.py", line 3, in parse
    raise KeyError(path)
KeyError: 'x'

The above exception was the direct cause of the following exception:

Traceback (most recent call last):
  File "{PKG}/execution/engine/step.py", line 380, in run_step
    raise StepError() from exc
StepError: load failed
"""


def test_nbflow_frames_are_left_out_and_the_rest_kept() -> None:
    shown = user_traceback(TEXT, PKG)

    assert shown.hidden_frames == 2
    assert shown.text.splitlines() == [
        "Traceback (most recent call last):",
        '  File "/home/me/flow.py", line 12, in load',
        "    return parse(path)",
        '  File "/home/me/helpers.py", line 3, in parse',
        "    raise KeyError(path)",
        "KeyError: 'x'",
        "",
        "The above exception was the direct cause of the following exception:",
        "",
        "Traceback (most recent call last):",
        "StepError: load failed",
    ]


def test_code_made_at_run_time_and_sibling_folders_are_the_users() -> None:
    assert not is_nbflow_file("<dynamic-code>", PKG)
    assert not is_nbflow_file("/opt/site/nbflow_extras/x.py", PKG)
    assert is_nbflow_file(f"{PKG}/cli/__init__.py", PKG)


def test_the_full_traceback_is_printed_as_stored() -> None:
    assert format_failure_traceback(TEXT, full=True) == TEXT.rstrip("\n")
