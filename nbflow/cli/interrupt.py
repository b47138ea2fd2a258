"""How the command line ends when the user presses Ctrl-C."""

from __future__ import annotations

INTERRUPTED_EXIT_CODE = 130
"""The exit code of a command stopped by Ctrl-C (128 + SIGINT), as shells report it."""
