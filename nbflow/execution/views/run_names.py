"""What a run is of, in the user's words: ``job 'etl'``, or ``assets numbers, total``.

Assets run without a job of the user's (``nbn.run([a, b])``, ``materialize_to_memory``,
a config form for assets) run in a job nbflow makes and names ``materialize``; what a
person reads (notebook text, DAG captions) names the assets instead of that job.
"""

from __future__ import annotations

from typing import Any

from nbflow.definitions.asset_job import MATERIALIZE_JOB_NAME

SHOWN = 4
"""Asset names listed at most (then ``and N more``)."""


def asset_names(job_def: Any) -> list[str] | None:
    """The step names of a job nbflow made to run assets, or ``None`` for a user's job."""
    if getattr(job_def, "name", None) != MATERIALIZE_JOB_NAME:
        return None
    if getattr(job_def, "asset_layer", None) is None:
        return None
    return list(job_def.graph_def.nodes)


def _assets_phrase(names: list[str]) -> str:
    listed = ", ".join(names[:SHOWN])
    more = f" and {len(names) - SHOWN} more" if len(names) > SHOWN else ""
    return f"asset{'s' if len(names) != 1 else ''} {listed}{more}"


def what_runs(job_def: Any) -> str:
    """``job 'etl'``, or ``assets numbers, total``."""
    names = asset_names(job_def)
    if names is None:
        return f"job {getattr(job_def, 'name', str(job_def))!r}"
    return _assets_phrase(names)


def caption(job_def: Any) -> str:
    """A drawing's caption: the job's name (``etl``), or ``assets numbers, total``."""
    names = asset_names(job_def)
    return getattr(job_def, "name", str(job_def)) if names is None else _assets_phrase(names)


__all__ = ["SHOWN", "asset_names", "caption", "what_runs"]
