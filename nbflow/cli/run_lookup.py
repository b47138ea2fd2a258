"""Find the run a command names, saying in errors which history file was read."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nbflow.execution.views.run_history import find_run as find_recorded_run
from nbflow.storage.instance import HOME_ENV_VAR

if TYPE_CHECKING:
    from nbflow.storage.instance import Instance
    from nbflow.storage.run import Run


def history_file(instance: Instance) -> str:
    """The instance's run history file, and how to read another one."""
    return f"{instance.root / 'runs.db'} (set {HOME_ENV_VAR} to read another instance)"


def find_run(instance: Instance, run_id: str) -> Run:
    """The run with id ``run_id``, or the only one whose id starts with it."""
    return find_recorded_run(instance, run_id, where=history_file(instance))
