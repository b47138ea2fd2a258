"""Top-level commands load when used: ``nbflow --help`` lists them all without loading the
engine (nor what defining a job needs: ``import nbflow`` loads none of its exports), and the
help it shows for each is the help the command itself has."""

from __future__ import annotations

import json
import subprocess
import sys

import click

from nbflow.cli.app import COMMANDS, build_cli
from nbflow.cli.command_tree import CommandGroup

PROBE = """
import contextlib, io, json, sys
from nbflow.cli import main
with contextlib.redirect_stdout(io.StringIO()) as shown:
    code = main(["--help"])
loaded = sorted(m for m in sys.modules if m.startswith(("nbflow.execution", "nbflow.storage",
                "nbflow.notebook", "nbflow.cli.job_commands", "nbflow.cli.run_commands",
                "nbflow.definitions", "nbflow.config")))
print(json.dumps({"code": code, "help": shown.getvalue(), "loaded": loaded}))
"""


def test_help_lists_every_command_without_loading_the_engine() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=60
    )
    report = json.loads(done.stdout)
    assert report["code"] == 0
    assert report["loaded"] == []
    listed = [line.split()[0] for line in report["help"].split("Commands:")[1].splitlines() if line]
    assert listed == ["asset", "completion", "example", "job", "new", "notebook", "runs"]


def test_the_help_listed_for_a_lazy_command_is_its_own() -> None:
    for entry in COMMANDS:
        loaded = CommandGroup(name="probe")
        loaded.load(entry)
        for name, text in entry.helps.items():
            command = loaded.commands[name]
            assert command.help == text, f"{name}: update nbflow/cli/app.py COMMANDS"


def test_help_looks_the_same_as_with_every_command_loaded() -> None:
    lazy = build_cli()
    eager = build_cli()
    assert isinstance(eager, CommandGroup)
    for entry in COMMANDS:
        eager.load(entry)
    with click.Context(lazy) as lazy_ctx, click.Context(eager) as eager_ctx:
        assert lazy.get_help(lazy_ctx) == eager.get_help(eager_ctx)
