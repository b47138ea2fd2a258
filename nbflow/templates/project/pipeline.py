"""The project's job: clean a list of readings, scale them and summarise them.

Run it from this folder, on its default readings or on those of config.yaml:

    nbflow job execute -f pipeline.py
    nbflow job execute -f pipeline.py -c config.yaml

Run it twice: the second run finds every output stored with the same version and runs nothing
(memoization). Change `factor` in config.yaml, or edit `scale` below, and only the steps that
depend on the change run again; `nbflow job list_versions -f pipeline.py -c config.yaml
--reasons` says why.
"""

from __future__ import annotations

from nbflow import Field, OpExecutionContext, SourceHashVersionStrategy, job, op


@op(
    config_schema={
        "readings": Field(
            [float], default_value=[0.5, 1.0, -1.0, 2.5], description="The raw measurements."
        )
    }
)
def load(context: OpExecutionContext) -> list[float]:
    """The raw readings, from run config."""
    readings: list[float] = context.op_config["readings"]
    return readings


@op
def clean(readings: list[float]) -> list[float]:
    """The readings without negative values (a sensor's error code)."""
    return [value for value in readings if value >= 0]


@op(config_schema={"factor": Field(float, default_value=1.0)})
def scale(context: OpExecutionContext, readings: list[float]) -> list[float]:
    """Each reading multiplied by the configured factor."""
    factor: float = context.op_config["factor"]
    return [factor * value for value in readings]


@op
def summarize(context: OpExecutionContext, readings: list[float]) -> dict[str, float]:
    """Count, mean and maximum of the readings."""
    summary = {
        "count": float(len(readings)),
        "mean": sum(readings) / len(readings) if readings else 0.0,
        "max": max(readings, default=0.0),
    }
    context.log.info(f"summary: {summary}")
    return summary


@job(version_strategy=SourceHashVersionStrategy(), description="Clean, scale and summarise.")
def readings_report() -> None:
    summarize(scale(clean(load())))
