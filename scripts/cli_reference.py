"""Write the CLI reference page: the ``--help`` text of every ``nbflow`` command, as Markdown.

    python scripts/cli_reference.py [OUTPUT]     # default: print to stdout

The commands are found by running them: ``nbflow --help`` names the command groups, each
group's ``--help`` names its commands, and so on. Nothing is imported from the CLI's own
code, so the page follows whatever parser the command line is built with. The docs site
(``mkdocs build``) writes the page through ``scripts/docs_hooks.py``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

# A command listed under "Commands:" (click) or under "positional arguments:" (argparse):
# its name, then at least two spaces before its help, or nothing.
_LISTED = re.compile(r"^ {2,6}([a-z][\w-]*)(?: \([^)]*\))?(?: {2,}\S.*)?$")
_SECTION = re.compile(r"^(Commands|positional arguments|subcommands):\s*$", re.IGNORECASE)
_CHOICES = re.compile(r"^ {2}\{([\w,-]+)\}")
MAX_DEPTH = 3


def command_help(words: list[str]) -> str:
    """The ``--help`` text of ``nbflow WORDS``, as wide as a terminal of 100 columns."""
    env = {**os.environ, "COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}
    done = subprocess.run(
        [sys.executable, "-m", "nbflow", *words, "--help"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"`nbflow {' '.join([*words, '--help'])}` failed:\n{done.stderr}")
    return done.stdout.rstrip() + "\n"


def subcommands(help_text: str) -> list[str]:
    """The command names a help text lists (aliases in brackets left out), in its order."""
    names: list[str] = []
    in_section = False
    for line in help_text.splitlines():
        if _SECTION.match(line):
            in_section = True
            continue
        if in_section and line and not line.startswith(" "):
            in_section = False
        if not in_section:
            continue
        choices = _CHOICES.match(line)
        if choices:
            continue
        listed = _LISTED.match(line)
        if listed and not line.strip().startswith("-") and listed.group(1) not in names:
            names.append(listed.group(1))
    return names


def sections(words: list[str]) -> list[tuple[list[str], str]]:
    """``(words, help text)`` for ``nbflow WORDS`` and every command below it, depth first.

    The commands of one level run their ``--help`` side by side (each starts an interpreter).
    """
    text = command_help(words)
    found = [(words, text)]
    if len(words) >= MAX_DEPTH:
        return found
    names = subcommands(text)
    with ThreadPoolExecutor(max_workers=4) as pool:
        below = pool.map(lambda name: sections([*words, name]), names)
        for part in below:
            found.extend(part)
    return found


def reference() -> str:
    """The whole page."""
    parts = [
        "# CLI reference\n",
        "Every `nbflow` command with its `--help` text, generated when the docs are built "
        "(`scripts/cli_reference.py` runs each command's `--help`). `python -m nbflow` is the "
        "same as `nbflow`.\n",
    ]
    for words, text in sections([]):
        title = " ".join(["nbflow", *words])
        parts.append(f"{'#' * min(len(words) + 2, 4)} `{title}`\n\n```text\n{text}```\n")
    return "\n".join(parts)


def main(argv: list[str]) -> int:
    page = reference()
    if argv:
        Path(argv[0]).write_text(page, encoding="utf-8")
    else:
        sys.stdout.write(page)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
