"""``nbflow job list``: the jobs a file or module defines, and its assets."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nbflow.cli.loading import jobs_in, load_module
from nbflow.cli.options import check_where
from nbflow.definitions.asset import AssetsDefinition
from nbflow.execution.views.table import format_table

if TYPE_CHECKING:
    from types import SimpleNamespace


def cmd_job_list(args: SimpleNamespace) -> int:
    check_where(args.file, args.module)
    where = args.file or args.module
    mod = load_module(args.file, args.module)
    jobs = jobs_in(mod)
    if jobs:
        rows = [
            [name, job_def.executor_def.name, str(len(job_def.nodes)), job_def.description or ""]
            for name, (_, job_def) in sorted(jobs.items())
        ]
        print(format_table(["Job", "Executor", "Ops", "Description"], rows))
    else:
        print(f"{where} defines no jobs.")
    assets = sorted(
        value.key.to_user_string()
        for value in vars(mod).values()
        if isinstance(value, AssetsDefinition)
    )
    if assets:
        print(
            f"Assets: {', '.join(assets)} (materialize them with "
            f"`nbflow asset materialize {'-f' if args.file else '-m'} {where} --select KEYS`)."
        )
    return 0
