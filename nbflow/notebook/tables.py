"""Version tables and run summaries as pandas DataFrames, shown with status colours.

:func:`version_table` is the seed's ``list_versions`` table, plus the reasons;
:func:`compare_configs` puts two run configs side by side (which step outputs change);
:func:`result_frame` is one row per step of a finished run (durations in human units, the time
a memoized step saved). Each returns a DataFrame
subclass that displays as a styled table in a notebook and is a plain DataFrame otherwise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nbflow.errors import MissingExtraError

try:
    import pandas as pd
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingExtraError.build("pandas", "notebook") from exc

from nbflow.definitions.redefinition import current_job
from nbflow.execution.engine.memo import compute_versions
from nbflow.execution.engine.plan import build_plan
from nbflow.execution.engine.run import in_process_resource_defs
from nbflow.execution.engine.run_config import resolve_run_config
from nbflow.execution.views.graph_dot import style_for
from nbflow.execution.views.list_versions import list_versions
from nbflow.notebook._result_rows import result_rows
from nbflow.notebook.durations import human_duration
from nbflow.versioning import explain

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from nbflow.execution.engine.result import ExecuteInProcessResult
    from nbflow.storage.instance import Instance
    from nbflow.versioning import VersionParts

VERSION_COLUMNS = ("Step Output", "Version", "Status of Output", "Reasons")
RESULT_COLUMNS = ("step", "status", "duration", "time_saved", "memoized", "version", "note")
_SHORT = 12


def _status_css(value: Any) -> str:
    if not isinstance(value, str):
        return ""
    style = style_for("pending" if value == "not run" else value)
    return (
        f"background-color: {style.fill}; color: {style.text}; "
        f"border-left: 3px solid {style.border}"
    )


def _short(value: Any) -> Any:
    if isinstance(value, str) and len(value) > _SHORT + 1:
        return value[:_SHORT] + "…"
    return value


class _StyledFrame(pd.DataFrame):  # type: ignore[misc]
    """A DataFrame that shows its status columns coloured (and long versions shortened)."""

    _status_columns: tuple[str, ...] = ()
    _version_columns: tuple[str, ...] = ()

    def styled(self) -> Any:
        """A pandas ``Styler`` with the status colours."""
        styler = self.style.hide(axis="index")
        status = [c for c in self._status_columns if c in self.columns]
        if status:
            apply: Callable[..., Any] = getattr(styler, "map", None) or styler.applymap
            styler = apply(_status_css, subset=status)
        versions = [c for c in self._version_columns if c in self.columns]
        if versions:
            styler = styler.format(_short, subset=versions)
        return styler.set_table_styles(
            [{"selector": "th, td", "props": "text-align: left; padding: 2px 8px;"}]
        )

    def _repr_html_(self) -> str | None:
        try:
            html: str = self.styled().to_html()
            return html
        except Exception:
            try:
                plain: str | None = super()._repr_html_()
                return plain
            except Exception:
                return None


class VersionTable(_StyledFrame):
    """What :func:`version_table` returns."""

    _status_columns = ("Status of Output",)
    _version_columns = ("Version",)


class ConfigComparison(_StyledFrame):
    """What :func:`compare_configs` returns."""


class ResultFrame(_StyledFrame):
    """What :func:`result_frame` returns."""

    _status_columns = ("status",)
    _version_columns = ("version",)


def version_table(
    job: Any,
    run_config: Mapping[str, Any] | None = None,
    instance: Instance | None = None,
    resources: Mapping[str, Any] | None = None,
) -> VersionTable:
    """The version of every step output of ``job``, whether it is stored, and why not.

    Columns: ``Step Output``, ``Version``, ``Status of Output`` (``stored`` or
    ``to-be-recomputed``) and ``Reasons`` (``; ``-separated). In a notebook the statuses are
    coloured and versions shortened; the frame holds the full versions.

    Raises:
        MissingVersionError: an op has no version and the job no version strategy.
    """
    rows = list_versions(job, run_config, instance, resources)
    return VersionTable(
        {
            "Step Output": [r.step_output for r in rows],
            "Version": [r.version for r in rows],
            "Status of Output": [r.status for r in rows],
            "Reasons": ["; ".join(r.reasons) for r in rows],
        },
        columns=list(VERSION_COLUMNS),
    )


def _version_parts(
    job: Any, run_config: Mapping[str, Any] | None, resources: Mapping[str, Any] | None
) -> dict[tuple[str, str], VersionParts]:
    job = current_job(job)
    plan = build_plan(job)
    resource_defs = in_process_resource_defs(job, resources)
    config = resolve_run_config(plan, resource_defs, run_config)
    return compute_versions(plan, plan, config, resource_defs)


def compare_configs(
    job: Any,
    config_a: Mapping[str, Any] | None,
    config_b: Mapping[str, Any] | None,
    names: Sequence[str] = ("a", "b"),
    instance: Instance | None = None,
    resources: Mapping[str, Any] | None = None,
) -> ConfigComparison:
    """Each step output's version and status under two run configs, side by side.

    Columns: ``Step Output``, ``Version (<a>)``, ``Status (<a>)``, ``Version (<b>)``,
    ``Status (<b>)``, ``Changes`` (whether the version differs) and ``Reasons`` (why it
    differs, e.g. ``config key 'tree_species' changed``).

    Example:
        >>> compare_configs(my_job, california, maryland, names=("california", "maryland"))
    """
    if len(names) != 2:
        raise ValueError(
            f"compare_configs got names={tuple(names)!r}; expected two names, one per config, "
            'e.g. names=("california", "maryland").'
        )
    a, b = (str(n) for n in names)
    rows_a = list_versions(job, config_a, instance, resources)
    rows_b = {r.step_output: r for r in list_versions(job, config_b, instance, resources)}
    parts_a = _version_parts(job, config_a, resources)
    parts_b = _version_parts(job, config_b, resources)
    data: dict[str, list[Any]] = {
        "Step Output": [],
        f"Version ({a})": [],
        f"Status ({a})": [],
        f"Version ({b})": [],
        f"Status ({b})": [],
        "Changes": [],
        "Reasons": [],
    }
    for row in rows_a:
        other = rows_b[row.step_output]
        step, _, output = row.step_output.rpartition(".")
        before, after = parts_a.get((step, output)), parts_b.get((step, output))
        changed = row.version != other.version
        reasons = explain(before, after) if before and after and changed else []
        for column, value in zip(
            data,
            (
                row.step_output,
                row.version,
                row.status,
                other.version,
                other.status,
                changed,
                "; ".join(reasons),
            ),
            strict=True,
        ):
            data[column].append(value)
    table = ConfigComparison(data)
    table._status_columns = (f"Status ({a})", f"Status ({b})")
    table._version_columns = (f"Version ({a})", f"Version ({b})")
    return table


def result_frame(result: ExecuteInProcessResult, instance: Instance | None = None) -> ResultFrame:
    """One row per step of ``result``: step, status, duration, time_saved, memoized, version,
    note.

    ``status`` is ``succeeded``, ``failed``, ``skipped``, ``memoized`` or ``not run``;
    ``duration`` reads in human units (``175 ms``, ``2.3 s``; the numbers are in
    ``result.step_summaries()``); ``time_saved`` is, for a memoized step, how long the run
    that stored the reused value took to compute it (known for runs shown in this process,
    or found in ``instance``'s run history); ``version`` is set for memoized runs
    (``name=version, ...`` when a step has several outputs); ``note`` says why a step failed
    or was skipped, how many attempts it took, or that a memoized step reused its stored
    value.

    Args:
        result: a finished run.
        instance: a persistent instance whose history holds the runs that stored the values
            (e.g. ``Instance.get()``); not needed for runs made in this process.
    """
    rows = result_rows(result, instance)
    return ResultFrame(
        {
            "step": [r.step for r in rows],
            "status": [r.status for r in rows],
            "duration": [human_duration(r.duration_ms) for r in rows],
            "time_saved": [human_duration(r.saved_ms) for r in rows],
            "memoized": [r.memoized for r in rows],
            "version": [r.version for r in rows],
            "note": [r.note for r in rows],
        },
        columns=list(RESULT_COLUMNS),
    )
