"""Executor definitions: which executor runs a job's steps, and its config schema.

The executor implementations live in ``nbflow.execution``; a definition names its
implementation by dotted path, imported on first use.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nbflow.config import Field, Selector, Shape, as_field


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


STEP_TIMEOUT_CONFIG = Field(
    float,
    is_required=False,
    description="Seconds a step may run when its op has no nbflow/timeout tag; none: no limit.",
)


RETRIES_CONFIG = Field(
    Selector({"enabled": Shape({}), "disabled": Shape({})}),
    default_value={"enabled": {}},
    description="Whether steps are retried as their RetryPolicy (or RetryRequested) allows.",
)

in_process_executor = ExecutorDefinition(
    name="in_process",
    # The same choices as RETRIES_CONFIG (unknown keys refused), but no default filled in.
    config_schema={
        "retries": Field(RETRIES_CONFIG.config_type, is_required=False),
        "step_timeout": STEP_TIMEOUT_CONFIG,
    },
    implementation="nbflow.execution.engine.in_process:InProcessExecutor",
    description="Runs every step one after another in the calling process.",
)

MULTIPROCESS_CONFIG: dict[str, Field] = {
    "max_concurrent": Field(
        int,
        default_value=0,
        description="How many step processes may run at once; 0 means the number of CPUs.",
    ),
    "retries": RETRIES_CONFIG,
    "step_timeout": STEP_TIMEOUT_CONFIG,
    "process_per_step": Field(
        bool,
        default_value=False,
        description="Run every step in a fresh process instead of reusing warm worker "
        "processes: for steps that leave state (module globals, open handles, patched "
        "libraries) a later step must not see. Slower: a process start per step.",
    ),
    "start_method": Field(
        Selector(
            {
                "spawn": Shape({}),
                "forkserver": Shape(
                    {
                        "preload_modules": Field(
                            [str],
                            is_required=False,
                            description="Modules the fork server imports once, up front.",
                        )
                    }
                ),
            }
        ),
        is_required=False,
        description="How step processes start: forkserver (Linux default) or spawn.",
    ),
    "tag_concurrency_limits": Field(
        [
            Shape(
                {
                    "key": str,
                    "value": Field(str, is_required=False),
                    "limit": int,
                }
            )
        ],
        is_required=False,
        description="At most `limit` running steps whose tag `key` (equal to `value`, if "
        "given) is set.",
    ),
}

multiprocess_executor = ExecutorDefinition(
    name="multiprocess",
    config_schema=MULTIPROCESS_CONFIG,
    implementation="nbflow.execution.executors.multiprocess:MultiprocessExecutor",
    description="Runs steps in other processes (warm workers, or a fresh process per step), "
    "at most max_concurrent at once.",
)

multi_or_in_process_executor = ExecutorDefinition(
    name="multi_or_in_process",
    config_schema=Field(
        Selector(
            {
                "multiprocess": Shape(MULTIPROCESS_CONFIG),
                "in_process": Shape(
                    {"retries": RETRIES_CONFIG, "step_timeout": STEP_TIMEOUT_CONFIG}
                ),
            }
        ),
        default_value={"multiprocess": {}},
    ),
    implementation="nbflow.execution.executors.multiprocess:multi_or_in_process",
    description="The default executor of a job: multiprocess unless config picks in_process.",
)
