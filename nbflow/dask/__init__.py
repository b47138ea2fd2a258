"""Run a job's steps on a Dask cluster: ``nbflow.dask.dask_executor`` (extra ``nbflowkit[dask]``).

Importing this package does not import dask; the executor imports ``dask.distributed`` when
a run starts and says how to install it when it is missing.
"""

from __future__ import annotations

from nbflow.config import Field, Noneable
from nbflow.definitions.executor import RETRIES_CONFIG, STEP_TIMEOUT_CONFIG, ExecutorDefinition

dask_executor = ExecutorDefinition(
    name="dask",
    config_schema={
        "address": Field(
            Noneable(str),
            default_value=None,
            description="Address of an existing Dask scheduler; none starts a LocalCluster.",
        ),
        "n_workers": Field(int, default_value=2, description="LocalCluster workers."),
        "threads_per_worker": Field(int, default_value=1, description="LocalCluster threads."),
        "processes": Field(
            bool, default_value=True, description="LocalCluster workers in processes."
        ),
        "max_concurrent": Field(
            int,
            default_value=0,
            description=(
                "Most steps on the cluster at once (so at most this many run); 0 submits "
                "every ready step and Dask queues them on its workers by priority."
            ),
        ),
        "retries": RETRIES_CONFIG,
        "step_timeout": STEP_TIMEOUT_CONFIG,
        "timeout": Field(
            float,
            default_value=60.0,
            description="Seconds to wait for the cluster to start or a worker to appear.",
        ),
    },
    implementation="nbflow.dask.executor:DaskExecutor",
    description="Runs steps on a dask.distributed cluster (a LocalCluster unless address=).",
)

__all__ = ["dask_executor"]
