"""Executor definitions: which executor runs a job's steps, and its config schema.

The executor implementations live in ``nbflow.execution``; a definition names its
implementation by dotted path, imported on first use.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nbflow.config import Field, as_field


@dataclass(frozen=True, eq=False)
class ExecutorDefinition:
    """Names an executor, the schema of ``execution.config``, and its implementation."""

    name: str
    config_schema: Any
    implementation: str
    description: str | None = None

    @property
    def config_field(self) -> Field | None:
        return None if self.config_schema is None else as_field(self.config_schema)

    def __repr__(self) -> str:
        return f"<ExecutorDefinition {self.name}>"


in_process_executor = ExecutorDefinition(
    name="in_process",
    config_schema={"retries": Field(dict, is_required=False)},
    implementation="nbflow.execution.in_process:InProcessExecutor",
    description="Runs every step one after another in the calling process.",
)
