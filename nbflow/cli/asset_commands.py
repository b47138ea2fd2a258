"""``nbflow asset``: list the assets of a file or module, and materialize them."""

from __future__ import annotations

import sys
import uuid
from typing import TYPE_CHECKING, Any

import click

from nbflow.cli.command_error import CommandError
from nbflow.cli.command_helps import HELPS
from nbflow.cli.command_tree import CommandGroup
from nbflow.cli.interrupt import INTERRUPTED_EXIT_CODE
from nbflow.cli.invocation import invoke
from nbflow.cli.job_commands import print_failures, print_summary
from nbflow.cli.loading import load_module, load_run_config, parse_tags
from nbflow.cli.options import check_where, config_options, where_options
from nbflow.cli.progress import JSON, LINES, QUIET, open_display
from nbflow.definitions.asset import AssetsDefinition
from nbflow.definitions.asset_job import build_asset_job
from nbflow.definitions.source_asset import SourceAsset
from nbflow.execution.materialize import materialize
from nbflow.execution.views.table import format_table
from nbflow.storage.instance import Instance

if TYPE_CHECKING:
    from types import SimpleNamespace

MATERIALIZE_JOB = "__materialize__"


def _assets(args: SimpleNamespace) -> list[AssetsDefinition | SourceAsset]:
    check_where(args.file, args.module)
    mod = load_module(args.file, args.module)
    found: list[AssetsDefinition | SourceAsset] = []
    for value in vars(mod).values():
        if isinstance(value, (AssetsDefinition, SourceAsset)) and value not in found:
            found.append(value)
    if not any(isinstance(a, AssetsDefinition) for a in found):
        raise CommandError(
            f"{args.file or args.module} defines no assets. Fix: define them with @asset at "
            "the module's top level, or run a job with `nbflow job execute`."
        )
    return found


def parse_selection(texts: tuple[str, ...]) -> list[str] | None:
    """The asset keys of ``--select`` options (``a/b`` paths, commas allowed), or ``None``
    (all of them) when not given or ``*``."""
    keys = [k.strip() for text in texts for k in text.split(",") if k.strip()]
    return None if not keys or keys == ["*"] else keys


def cmd_asset_list(args: SimpleNamespace) -> int:
    rows = [
        [
            a.key.to_user_string(),
            a.group_name,
            ", ".join(sorted(k.to_user_string() for k in a.dependency_keys)),
            a.description or "",
        ]
        for a in _assets(args)
        if isinstance(a, AssetsDefinition)
    ]
    print(format_table(["Asset", "Group", "Reads", "Description"], rows))
    return 0


def cmd_asset_materialize(args: SimpleNamespace) -> int:
    assets = _assets(args)
    selection = parse_selection(args.select)
    run_config = load_run_config(args.config, args.config_json)
    tags = parse_tags(args.tags)
    instance = Instance.get()
    run_id = str(uuid.uuid4())
    display = open_display(args.output_mode, build_asset_job(MATERIALIZE_JOB, assets))
    instance.add_event_listener(run_id, display)
    try:
        with display:
            result = materialize(
                assets,
                run_config=run_config,
                instance=instance,
                partition_key=args.partition,
                selection=selection,
                tags=tags,
                raise_on_error=False,
                run_id=run_id,
            )
    except KeyboardInterrupt:
        print(f"Run {run_id} canceled (Ctrl-C); recorded as CANCELED.", file=sys.stderr)
        return INTERRUPTED_EXIT_CODE
    finally:
        instance.remove_event_listener(run_id, display)
    if args.output_mode != JSON:
        print_summary(result, result.job_def.name)
        if not result.success:
            print_failures(result, full=args.full_traceback)
    return 0 if result.success else 1


def add_asset_commands(root: click.Group) -> None:
    """Register ``nbflow asset list|materialize``."""

    @root.group("asset", cls=CommandGroup, help=HELPS["asset"])
    def asset() -> None:
        pass

    @asset.command("list", help="List the assets a file or module defines.")
    @where_options("assets")
    def listing(**values: Any) -> int:
        return invoke(cmd_asset_list, records_runs=False, **values)

    @asset.command(
        "materialize",
        help="Materialize the assets of a file or module in this process (all, or --select).",
    )
    @where_options("assets")
    @click.option(
        "--select",
        multiple=True,
        metavar="KEYS",
        help="asset keys to materialize, e.g. 'a,b' or 'prefix/name' (repeatable; default all); "
        "the assets they read are loaded from storage",
    )
    @config_options()
    @click.option("--tags", metavar="JSON", help="run tags as a JSON object")
    @click.option("--partition", metavar="KEY", help="the partition to materialize")
    @click.option("-q", "--quiet", "output_mode", flag_value=QUIET, help="print only the summary")
    @click.option(
        "--json", "output_mode", flag_value=JSON, help="print each event as one JSON line"
    )
    @click.option("--full-traceback", is_flag=True, help="print failed steps' whole tracebacks")
    def materialize_command(**values: Any) -> int:
        values["output_mode"] = values["output_mode"] or LINES
        return invoke(cmd_asset_materialize, **values)
