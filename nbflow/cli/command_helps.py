"""The help of each top-level ``nbflow`` command, where both the command and ``nbflow --help``
read it (the command tree lists commands without loading their modules)."""

from __future__ import annotations

HELPS = {
    "job": "Run and inspect jobs.",
    "asset": "List and materialize assets.",
    "runs": "Inspect the recorded runs (in $NBFLOW_HOME, else ./.nbflow).",
    "notebook": "Run parameterized notebooks.",
    "new": "Create a new project in DIR: a job module, a notebook, a config.",
    "example": "Run an example job shipped with nbflow (quickstart).",
    "completion": "Print the shell completion script of nbflow. Load it with "
    '`eval "$(nbflow completion bash)"` (zsh: `eval "$(nbflow completion zsh)"`; '
    "fish: `nbflow completion fish | source`), e.g. in ~/.bashrc.",
}
