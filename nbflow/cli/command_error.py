"""The error of a command-line problem: printed as one line, without a traceback."""

from __future__ import annotations


class CommandError(Exception):
    """A problem with what was asked on the command line; printed without a traceback."""
