"""Find the run a command names: by its id, or by a unique prefix of it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nbflow.cli.command_error import CommandError
from nbflow.storage.instance import HOME_ENV_VAR

if TYPE_CHECKING:
    from nbflow.storage.instance import Instance
    from nbflow.storage.run import Run


def history_file(instance: Instance) -> str:
    """The instance's run history file, and how to read another one."""
    return f"{instance.root / 'runs.db'} (set {HOME_ENV_VAR} to read another instance)"


def find_run(instance: Instance, run_id: str) -> Run:
    """The run with id ``run_id``, or the only one whose id starts with it."""
    if not run_id.strip():
        raise CommandError("The run id is empty. Fix: pass a run id from `nbflow runs list`.")
    run = instance.get_run(run_id)
    if run is not None:
        return run
    matches = instance.get_runs_with_id_prefix(run_id, limit=6)
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise CommandError(
            f"No run with id {run_id!r} (or an id starting with it) in {history_file(instance)}. "
            "Fix: copy an id from `nbflow runs list`."
        )
    ids = ", ".join(r.run_id for r in matches[:5]) + (", ..." if len(matches) > 5 else "")
    raise CommandError(
        f"Run id prefix {run_id!r} matches {'more than 5' if len(matches) > 5 else len(matches)}"
        f" runs ({ids}). Fix: give more characters of the run id."
    )
