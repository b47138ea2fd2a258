"""A form for a job's run config, built from its config schema, with a Run button.

:func:`config_form` shows one widget per config field of the job's ops (nested graphs
nest) and resources, pre-filled with defaults; required fields are marked ``*`` and each
field's description is its tooltip. As values change, the run config is checked with
``validate_run_config`` and every problem is listed under the form, and next to its field.
The Run button is enabled while the config is valid; it runs the job in the background
with the live view (:func:`nbflow.notebook.start`) shown below the form, with a Cancel
button. Once the run ends, its outputs are listed under the view (see
:mod:`nbflow.notebook.run_outputs`), with how to get them in code: ``form.result()``.

Examples:
    >>> import nbflow.notebook as nbn
    >>> form = nbn.config_form(my_job)
    >>> form                      # displays the form
    >>> form.run_config           # the config the widgets say, e.g. to pass to execute_job
    >>> form.fields["ops.emit.config.n"].value = 3
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from html import escape
from typing import TYPE_CHECKING, Any

from nbflow.errors import LiveRunError, MissingExtraError, RunConfigValidationError

try:
    import ipywidgets as widgets
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingExtraError.build("ipywidgets", "notebook") from exc

from nbflow.config import Field, Shape, as_field
from nbflow.config.merge import deep_merge
from nbflow.definitions.asset_job import build_asset_job
from nbflow.definitions.config_mapping import ConfigMapping
from nbflow.definitions.redefinition import current_job
from nbflow.execution.engine.plan import build_plan
from nbflow.execution.engine.run import in_process_resource_defs, validate_run_config
from nbflow.execution.engine.run_config import UNDECLARED_OP_CONFIG, run_config_schema
from nbflow.execution.views.run_names import asset_names, what_runs
from nbflow.notebook._form_fields import (
    LEFT_OUT,
    Group,
    Leaf,
    ParseProblem,
    header,
    is_group,
    make_leaf,
    start_value,
    tooltip,
)
from nbflow.notebook._live_target import as_assets, job_of
from nbflow.notebook.live import LiveRun, start_in_widget
from nbflow.notebook.run_outputs import outputs_html

if TYPE_CHECKING:
    from nbflow.definitions.job import JobDefinition
    from nbflow.execution.engine.result import ExecuteInProcessResult

SECTIONS = ("ops", "resources", "loggers")
"""The parts of run config the form shows (``execution`` comes from ``run_config=``)."""

_SKIPPED_OP_KEYS = ("outputs",)
_MISSING = re.compile(r"^missing required field '([^']+)'")
_INDENT = "0 0 0 18px"


def _title(job: JobDefinition) -> str:
    if asset_names(job) is None:
        return f"<code>{escape(job.name)}</code>"
    return escape(what_runs(job))


def _copied(config: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _copied(v) if isinstance(v, Mapping) else v for k, v in config.items()}


def _without(config: Mapping[str, Any], paths: list[tuple[str, ...]]) -> dict[str, Any]:
    """``config`` without the values at ``paths`` (the fields the form shows)."""
    kept = _copied(config)
    for path in paths:
        node: Any = kept
        for key in path[:-1]:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node.pop(path[-1], None)
    return kept


def _split_problem(problem: str) -> tuple[tuple[str, ...], str]:
    """``root:ops:a:config:n: expected Int, got 'x' (str)`` → (("ops","a","config","n"), msg)."""
    where, sep, message = problem.partition(": ")
    if not sep:
        return (), problem
    parts: list[str] = []
    for part in where.split(":"):
        head, bracket, rest = part.partition("[")
        parts.append(head)
        if bracket:
            parts.append("[" + rest)
    if parts and parts[0] == "root":
        parts = parts[1:]
    return tuple(parts), message


def _field_of(problem: str) -> tuple[str, ...]:
    """The path of the field a problem is about (a missing field's own path)."""
    path, message = _split_problem(problem)
    missing = _MISSING.match(message)
    return (*path, missing.group(1)) if missing else path


class ConfigForm:
    """Widgets for a job's run config, its problems, a Run button and the live run below.

    Attributes:
        job: the job the form configures (for a list of assets, the job that runs them).
        fields: the input widget of each field by dotted path (``"ops.emit.config.n"``).
        widget: the whole form (an ``ipywidgets.VBox``); displaying the form shows it.
        problems_html: the ``HTML`` widget that lists the problems.
        run_button: runs the job with the config (disabled while the config is invalid).
        output: where the live view of the last run appears, then (once it ended) its
            outputs.
        last_run: the :class:`LiveRun` of the last click (``None`` before).
    """

    def __init__(
        self,
        target: Any,
        *,
        run_config: Mapping[str, Any] | None = None,
        **run_options: Any,
    ) -> None:
        self.target = target
        assets = as_assets(target)
        job = build_asset_job("materialize", assets) if assets is not None else job_of(target)
        if job is None:
            raise LiveRunError.not_runnable(target, "build a config form for")
        self.job: JobDefinition = current_job(job)  # with ops redefined in later cells
        self.base_config: dict[str, Any] = dict(run_config or {})
        self.run_options = run_options
        self.last_run: LiveRun | None = None
        self.problems: list[str] = []
        self._mapped = isinstance(job.config, ConfigMapping)
        start = self.base_config
        if isinstance(job.config, Mapping):
            start = deep_merge(job.config, start)
        self.root = self._build(start)
        self.fields: dict[str, Any] = {".".join(leaf.path): leaf.widget for leaf in self.leaves}
        self._unshown = _without(self.base_config, [leaf.path for leaf in self.leaves])
        self.problems_html = widgets.HTML(value="")
        self.run_button = widgets.Button(
            description="Run", icon="play", button_style="primary", tooltip="Run the job"
        )
        self.run_button.on_click(lambda _: self.run())
        self.output = widgets.VBox([])
        title = widgets.HTML(
            value=f"<b>Run config for {_title(self.job)}</b>"
            + ("" if self.leaves else " — the job has nothing to configure")
        )
        self.widget = widgets.VBox(
            [title, self.root.box, self.problems_html, self.run_button, self.output]
        )
        self.widget.add_class("nbflow-config-form")
        for leaf in self.leaves:
            leaf.widget.observe(self._changed, names="value")
        self.validate()

    # building

    @property
    def leaves(self) -> list[Leaf]:
        return self.root.leaves()

    def _schema(self) -> Shape:
        if self._mapped:
            mapping = self.job.config
            assert isinstance(mapping, ConfigMapping)
            schema = mapping.config_schema
            found = as_field(schema).config_type if schema is not None else Shape({})
            return found if isinstance(found, Shape) else Shape({"config": Field(found)})
        plan = build_plan(self.job)
        full = run_config_schema(plan, in_process_resource_defs(self.job))
        return Shape({k: f for k, f in full.fields.items() if k in SECTIONS})

    def _build(self, start: Mapping[str, Any]) -> Group:
        root = self._group((), self._schema(), start, depth=0)
        root.box = root.box or widgets.VBox([])
        return root

    def _group(self, path: tuple[str, ...], shape: Shape, start: Any, depth: int) -> Group:
        group = Group(path)
        rows: list[Any] = []
        for name, fld in shape.fields.items():
            if (
                not self._mapped
                and len(path) >= 2
                and path[0] == "ops"
                and name in (_SKIPPED_OP_KEYS)
            ):
                continue
            if fld is UNDECLARED_OP_CONFIG:
                continue  # the op declares no config: nothing to fill in
            here = (*path, name)
            given, value = start_value(start, name)
            if is_group(fld.config_type):
                assert isinstance(fld.config_type, Shape)
                child = self._group(here, fld.config_type, value if given else {}, depth + 1)
                if not child.children:
                    continue  # nothing to configure in there
                caption = header(widgets, name, tooltip(name, fld), fld.is_required)
                child.box = widgets.VBox(
                    [caption, child.box], layout=widgets.Layout(margin=_INDENT if depth else "0")
                )
                group.children[name] = child
                rows.append(child.box)
            else:
                leaf = make_leaf(widgets, here, fld, (given, value))
                group.children[name] = leaf
                rows.append(leaf.row)
        group.box = widgets.VBox(rows)
        return group

    # reading

    def _collect(self, group: Group, problems: list[str]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for name, child in group.children.items():
            if isinstance(child, Group):
                value = self._collect(child, problems)
                if value:
                    found[name] = value
                continue
            try:
                parsed = child.value()
            except ParseProblem as exc:
                problems.append(f"{':'.join(('root', *child.path))}: {exc}")
                continue
            if parsed is not LEFT_OUT:
                found[name] = parsed
        return found

    def _read(self) -> tuple[dict[str, Any], list[str]]:
        problems: list[str] = []
        values = self._collect(self.root, problems)
        return deep_merge(self._unshown, values), problems

    @property
    def run_config(self) -> dict[str, Any]:
        """The run config the widgets say (fields left empty are left out)."""
        return self._read()[0]

    @property
    def valid(self) -> bool:
        """Whether the run config fits the job (as of the last change)."""
        return not self.problems

    def validate(self) -> list[str]:
        """Check the run config, show the problems, enable or disable Run; the problems."""
        config, problems = self._read()
        unreadable = {_field_of(p) for p in problems}
        try:
            validate_run_config(self.job, config)
        except RunConfigValidationError as exc:
            # a field that cannot be read is reported once, as unreadable
            problems += [p for p in exc.problems if _field_of(p) not in unreadable]
        except Exception as exc:  # e.g. a config mapping's function raised
            problems.append(f"root: {type(exc).__name__}: {exc}")
        self.problems = problems
        self._show_problems()
        self._update_button()
        return problems

    def _show_problems(self) -> None:
        by_leaf: dict[tuple[str, ...], list[str]] = {}
        leaves = {leaf.path: leaf for leaf in self.leaves}
        items = []
        for problem in self.problems:
            path, message = _split_problem(problem)
            target = _field_of(problem)
            while target and target not in leaves:
                target = target[:-1]
            if target:
                by_leaf.setdefault(target, []).append(message)
            shown = ":".join(path) or "run config"
            items.append(f"<li><code>{escape(shown)}</code>: {escape(message)}</li>")
        for path, leaf in leaves.items():
            messages = by_leaf.get(path)
            leaf.error.value = (
                f'<span style="color:#b91c1c;font-size:11px">{escape("; ".join(messages))}</span>'
                if messages
                else ""
            )
        if not items:
            self.problems_html.value = ""
            return
        count = f"{len(items)} problem{'s' if len(items) != 1 else ''}"
        self.problems_html.value = (
            '<div class="nbflow-config-problems" style="color:#7f1d1d;background:#fee2e2;'
            f'border-radius:4px;padding:4px 8px;margin:4px 0"><b>{count}</b>'
            f'<ul style="margin:2px 0">{"".join(items)}</ul></div>'
        )

    def _update_button(self) -> None:
        running = self.last_run is not None and not self.last_run.done()
        self.run_button.disabled = running or not self.valid
        self.run_button.description = "Running…" if running else "Run"
        self.run_button.tooltip = (
            "A run is going on"
            if running
            else "Fix the problems listed first"
            if not self.valid
            else "Run the job"
        )

    def _changed(self, change: Any) -> None:
        self.validate()

    # running

    def run(self) -> LiveRun | None:
        """Run the job with the form's config (what the Run button does); ``None`` when the
        config is invalid or a run is going on."""
        self.validate()
        if self.run_button.disabled:
            return None
        try:
            live, box = start_in_widget(widgets, self.target, self.run_config, **self.run_options)
        except Exception as exc:  # a refused option, an unrunnable target: say so
            self.problems = [f"root: {type(exc).__name__}: {exc}"]
            self._show_problems()
            return None
        self.last_run = live
        self.output.children = (box,)
        self._update_button()
        live.add_done_callback(lambda _: self._update_button())
        live.add_done_callback(self._show_outputs)
        return live

    def _show_outputs(self, live: LiveRun) -> None:
        """Under the finished run's view: its outputs, and how to get the result in code."""
        if live is not self.last_run:
            return
        shown = widgets.HTML(value=outputs_html(live.result, live.error))
        shown.add_class("nbflow-form-outputs")
        self.output.children = (*self.output.children[:1], shown)

    def result(self, timeout: float | None = None) -> ExecuteInProcessResult | None:
        """The result of the last run, waiting for it (``None`` when nothing was run)."""
        return None if self.last_run is None else self.last_run.wait(timeout)

    # display

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    def __repr__(self) -> str:
        count = len(self.problems)
        state = "valid" if self.valid else f"{count} problem{'s' if count != 1 else ''}"
        name = self.job.name if asset_names(self.job) is None else what_runs(self.job)
        return f"<ConfigForm {name}: {len(self.leaves)} fields, {state}>"


def config_form(
    job: Any,
    *,
    run_config: Mapping[str, Any] | None = None,
    executor: str = "in_process",
    instance: Any = None,
    tags: Mapping[str, Any] | None = None,
    **run_options: Any,
) -> ConfigForm:
    """A form for ``job``'s run config with a Run button that runs it with the live view.

    Args:
        job: a ``JobDefinition``, ``GraphDefinition``, reconstructable job or list of assets.
        run_config: starting values; parts the form does not show (``execution``) are kept
            and sent with every run.
        executor, instance, tags, **run_options: how the Run button runs the job (those of
            :func:`nbflow.notebook.run`).

    Raises:
        LiveRunError: ``job`` cannot be run.
        MissingExtraError: ipywidgets is not installed.
    """
    return ConfigForm(
        job,
        run_config=run_config,
        executor=executor,
        instance=instance,
        tags=tags,
        **run_options,
    )


__all__ = ["ConfigForm", "config_form"]
