"""``nbflow new DIR`` (a project to start from) and ``nbflow example quickstart`` (the
quick-start job shipped in the package, run as ``nbflow job execute`` runs a file)."""

from __future__ import annotations

import sys
from importlib.resources import as_file, files
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from nbflow.cli.command_error import CommandError
from nbflow.cli.command_helps import HELPS
from nbflow.cli.invocation import invoke
from nbflow.cli.job_commands import cmd_job_execute
from nbflow.cli.progress import LINES

if TYPE_CHECKING:
    from types import SimpleNamespace

EXAMPLES = ("quickstart",)


def cmd_new(args: SimpleNamespace) -> int:
    from nbflow.scaffold import create_project

    target = Path(args.directory)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise CommandError(
            f"{target} already exists and is not an empty folder. Fix: name a new folder."
        )
    create_project(target)
    created = sorted(
        p.relative_to(target)
        for p in target.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(target).parts)
    )
    print(f"Created an nbflow project in {target}:")
    for path in created:
        print(f"  {path}")
    modules = [p for p in created if p.suffix == ".py" and len(p.parts) == 1]
    if modules:
        print(f"Next: cd {target} && nbflow job list -f {modules[0]}")
    return 0


def cmd_example(args: SimpleNamespace) -> int:
    source = files("nbflow.examples") / f"{args.name}.py"
    with as_file(source) as path:
        print(f"Running the example {args.name} ({path})", file=sys.stderr)
        run = {
            "file": str(path),
            "module": None,
            "job": None,
            "config": (),
            "config_json": None,
            "tags": None,
            "op_selection": (),
            "executor": args.executor,
            "partition": None,
            "output_mode": LINES,
            "full_traceback": False,
        }
        return cmd_job_execute(type(args)(**run))


def add_project_commands(root: click.Group) -> None:
    """Register ``nbflow new DIR`` and ``nbflow example NAME``."""

    @root.command("new", help=HELPS["new"])
    @click.argument("directory", metavar="DIR", type=click.Path(file_okay=False))
    def new(**values: Any) -> int:
        return invoke(cmd_new, records_runs=False, **values)

    @root.command("example", help=HELPS["example"])
    @click.argument("name", metavar="NAME", type=click.Choice(EXAMPLES))
    @click.option(
        "--executor",
        type=click.Choice(("in_process", "multiprocess")),
        help="run the steps with this executor instead of the example job's own",
    )
    def example(**values: Any) -> int:
        return invoke(cmd_example, **values)
