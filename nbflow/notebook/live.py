"""Live runs: a job's DAG re-coloured per step and a progress bar, while the run goes on.

:func:`run` runs a job (graph, reconstructable job or list of assets) and shows, updated as
its events arrive, the DAG with each step's status (running, succeeded, failed, memoized,
skipped), a progress bar of the finished steps such as ``5/12 steps done · 2 running · 1 memoized``
and, under the DAG,
each step's last 20 ``context.log`` lines with their level (and, for runs in step processes,
what the step printed; see :mod:`nbflow.notebook.step_logs`). When the run ends
the display is replaced by its final state (``succeeded``, ``failed``, ``canceled``, or
``invalid config`` when the run config does not fit): the progress bar, the coloured DAG and the
summary table of :func:`nbflow.notebook.show_result` (with failed steps' tracebacks) and the
log panel. It is one output updated in place
(``display(..., display_id=True)`` then ``update``), so a saved notebook keeps the final state
and renders without widgets (nbconvert, GitHub).

The run happens in a worker thread while the cell waits for it (ops that must run in the
main thread, e.g. to set signal handlers, need ``execute_in_process`` itself). Events reach
the view from every executor: in-process; multiprocess streams them from its step
processes; Dask delivers a step's events when it ends. The view redraws at most every
``interval`` seconds, and only when something changed, so big runs are barely slowed down;
a run that ends within the first interval is drawn once, finished.

Cancel:
    * :func:`run`: interrupt the kernel (Jupyter's ■ button, or ``I, I``). The run is asked to
      stop and the cell waits for it to end ``CANCELED``; a second interrupt stops waiting (the
      run still stops, in the background).
    * :func:`start`: returns at once with a :class:`LiveRun`; a Cancel button (ipywidgets)
      sits above the view, and ``live.cancel()`` does the same from code.

In-process runs stop between steps (the running step finishes first); the multiprocess
executor stops its step processes; the Dask executor cancels its tasks. Steps that did not
run are skipped (``run canceled``) and the run's status is ``CANCELED``.

Examples:
    >>> import nbflow.notebook as nbn
    >>> result = nbn.run(my_job)                                   # waits, returns the result
    >>> result = nbn.run(my_job, executor="job")                   # the job's own executor
    >>> live = nbn.start(my_job, run_config); ...; live.cancel()    # in the background
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, replace
from html import escape
from typing import TYPE_CHECKING, Any, Protocol

from nbflow.errors import MissingExtraError, RunConfigValidationError

try:
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.display import display
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingExtraError.build("IPython", "notebook") from exc

from nbflow.events import EventType
from nbflow.execution.engine.run_context import request_cancel
from nbflow.execution.engine.step_states import StepStates
from nbflow.execution.views.graph_dot import style_for
from nbflow.execution.views.graph_view import (
    FAILED,
    MEMOIZED,
    PENDING,
    RUNNING,
    SKIPPED,
    SOURCE,
    SUCCEEDED,
    GraphView,
)
from nbflow.notebook._live_target import RunOptions, RunTarget, run_target
from nbflow.notebook._summarize import summarize
from nbflow.notebook.dag import MAX_NODES, describe, draw_svg
from nbflow.notebook.dag_html import dag_html
from nbflow.notebook.step_logs import step_logs_html
from nbflow.notebook.summary import ResultDisplay, result_html
from nbflow.storage.instance import Instance
from nbflow.storage.run import RunStatus

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from types import ModuleType

    from nbflow.events import Event
    from nbflow.execution.engine.result import ExecuteInProcessResult

    SurfaceFactory = Callable[[Mapping[str, str], bool], "Surface"]
    """Makes a surface showing a first bundle (``final``: it is the finished run's)."""

INTERVAL = 0.15
"""Seconds between redraws of a live view (it redraws only when new events came in)."""

DRAW_SHARE = 4.0
"""After a redraw that took ``t`` seconds, the next one waits at least ``DRAW_SHARE * t``."""

_DONE = (SUCCEEDED, MEMOIZED, SKIPPED, FAILED)
_BAR_ORDER = _DONE  # the bar fills with finished steps only; running ones are counted apart
INVALID_CONFIG = "invalid config"
"""The final state of a run whose run config did not fit (nothing ran)."""
_RUN_END = {
    EventType.RUN_SUCCESS: "succeeded",
    EventType.RUN_FAILURE: "failed",
    EventType.RUN_CANCELED: "canceled",
}
_STATE_STYLE = {
    "starting": PENDING,
    "running": RUNNING,
    "canceling": SKIPPED,
    "canceled": SKIPPED,
    "succeeded": SUCCEEDED,
    "failed": FAILED,
    INVALID_CONFIG: FAILED,
}


def optional_widgets() -> ModuleType | None:
    """``ipywidgets``, or ``None`` when it is not installed."""
    try:
        import ipywidgets
    except ImportError:
        return None
    module: ModuleType = ipywidgets
    return module


# --- where a view is shown -------------------------------------------------------------------


class Surface(Protocol):
    """Where a live view shows its state: a display output, a widget, or nothing."""

    def show(self, bundle: Mapping[str, str], final: bool) -> None: ...


class DisplaySurface:
    """One notebook output, updated in place (``display_id``); the saved notebook keeps it."""

    def __init__(self, bundle: Mapping[str, str], final: bool = False) -> None:
        self.handle = display(dict(bundle), raw=True, display_id=True)  # type: ignore[no-untyped-call]

    def show(self, bundle: Mapping[str, str], final: bool) -> None:
        self.handle.update(dict(bundle), raw=True)


class WidgetSurface:
    """An ``ipywidgets.HTML`` whose value is the view (used inside other widgets)."""

    def __init__(self, widgets: ModuleType, bundle: Mapping[str, str]) -> None:
        self.html = widgets.HTML(value=bundle.get("text/html", ""))
        self.html.add_class("nbflow-live-widget")

    def show(self, bundle: Mapping[str, str], final: bool) -> None:
        self.html.value = bundle.get("text/html", "")


class PlainSurface:
    """Outside IPython: nothing while running, the final text once."""

    def __init__(self, bundle: Mapping[str, str], final: bool = False) -> None:
        self.show(bundle, final)

    def show(self, bundle: Mapping[str, str], final: bool) -> None:
        if final:
            print(bundle.get("text/plain", ""))


def in_ipython() -> bool:
    """Whether an IPython shell (a notebook kernel, or the terminal) is running."""
    return bool(InteractiveShell.initialized())


# --- the view --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Progress:
    """Where a run is: the DAG with statuses, the run's state, when it started and ended."""

    view: GraphView
    state: str = "starting"  # running, canceling, succeeded, failed, canceled, invalid config
    started: float | None = None
    ended: float | None = None


class LiveView:
    """A run's DAG and progress, as of the events received so far.

    Feed it events with :meth:`on_event` (any thread); :meth:`refresh` redraws when new ones
    came in; :meth:`finish` shows the final state.

    Attributes:
        view: the DAG before the run (every step pending).
        events: the events received so far.
        updates: how many times the surface was redrawn (the first drawing excluded).
        hint: a note shown while the run goes on (e.g. how to cancel it).
    """

    def __init__(
        self,
        view: GraphView,
        *,
        max_nodes: int | None = MAX_NODES,
        engine: str | None = None,
        hint: str = "",
    ) -> None:
        self.view = view
        self.events: list[Event] = []
        self.updates = 0
        self.max_nodes = max_nodes
        self.engine = engine
        self.hint = hint
        self.canceling = False
        self.surface: Surface | None = None
        self._surface_for: SurfaceFactory | None = None
        self._total = sum(1 for n in view.nodes if n.kind != SOURCE)
        self._drawn = -1  # events drawn by the last refresh
        self._progress = Progress(view)
        self._states = StepStates()  # the steps' states after the events folded so far
        self._folded = 0  # events folded into _progress
        self._began = time.time()
        self._lock = threading.Lock()
        self._final = False

    def on_event(self, event: Event) -> None:
        """Take one event of the run (cheap; safe from any thread)."""
        self.events.append(event)

    def attach(self, surface_for: SurfaceFactory, *, now: bool = True) -> Surface | None:
        """Show the view on a surface made by ``surface_for(bundle, final)``.

        With ``now=False`` the surface is made at the first redraw (or the final state),
        so a run that ends within one interval is drawn once, in its final state.
        """
        with self._lock:
            self._surface_for = surface_for
            if now and self.surface is None:
                self.surface = surface_for(self.bundle(), False)
                self._drawn = len(self.events)
        return self.surface

    # what the view shows

    def _fold(self, before: Progress, events: Sequence[Event], states: StepStates) -> Progress:
        """``before`` moved on by ``events`` (the events that came after it); ``states`` is
        the fold of the events before them, and takes these in too."""
        if not events:
            return before
        states.update(events)
        view = self.view.with_step_states(states)  # a launched step shows as running
        state, started, ended = before.state, before.started, before.ended
        for event in events:
            kind = event.event_type
            if kind is EventType.RUN_START:
                started = event.timestamp
                state = "running" if state == "starting" else state
            elif kind is EventType.RUN_CANCELING and state != "canceled":
                state = "canceling"
            elif kind in _RUN_END:
                state, ended = _RUN_END[kind], event.timestamp
        return Progress(view, state, started, ended)

    def progress(self) -> Progress:
        """Where the run is, after every event received so far (computed incrementally)."""
        seen = len(self.events)
        if seen > self._folded:
            self._progress = self._fold(
                self._progress, self.events[self._folded : seen], self._states
            )
            self._folded = seen
        return self._progress

    def current(self) -> GraphView:
        """The DAG with each step's status after the events received so far."""
        return self.progress().view

    def counts(self, view: GraphView | None = None) -> dict[str, int]:
        """How many steps have each status (source assets left out)."""
        counts: dict[str, int] = {}
        for node in (view or self.current()).nodes:
            if node.kind != SOURCE:
                counts[node.status] = counts.get(node.status, 0) + 1
        return counts

    def progress_text(self, counts: Mapping[str, int]) -> str:
        """``5/12 steps done · 2 running · 1 memoized``: finished steps, then the running ones
        and how many of the finished were memoized, skipped or failed."""
        done = sum(counts.get(s, 0) for s in _DONE)
        parts = [f"{done}/{self._total} steps done"]
        parts += [f"{counts[s]} {s}" for s in (RUNNING, *_DONE[1:]) if counts.get(s)]
        return " · ".join(parts)

    def _state(self, progress: Progress) -> str:
        if progress.state in ("starting", "running") and self.canceling:
            return "canceling"
        return progress.state

    def progress_html(self, progress: Progress, counts: Mapping[str, int]) -> str:
        """The progress bar, the counts, the run's state and how long it has taken."""
        state = self._state(progress)
        total = max(self._total, 1)
        segments = "".join(
            f'<div title="{counts[s]} {s}" style="width:{100 * counts[s] / total:.2f}%;'
            f'background:{style_for(s).border}"></div>'
            for s in _BAR_ORDER
            if counts.get(s)
        )
        bar = (
            '<div style="flex:none;width:220px;height:10px;background:#e5e7eb;border-radius:5px;'
            f'overflow:hidden;display:flex">{segments}</div>'
        )
        style = style_for(_STATE_STYLE.get(state, PENDING))
        pill = (
            f'<span style="background:{style.fill};border:1px solid {style.border};'
            f'color:{style.text};border-radius:9px;padding:0 7px">{escape(state)}</span>'
        )
        note = ""
        if self.hint and state in ("starting", "running"):
            note = f'<span style="color:#6b7280">{escape(self.hint)}</span>'
        elapsed = (progress.ended or time.time()) - (progress.started or self._began)
        return (
            '<div style="display:flex;align-items:center;gap:8px;flex-wrap:wrap;margin:2px 0">'
            f"{bar}<b>{escape(self.progress_text(counts))}</b>{pill}"
            f'<span style="color:#6b7280">{max(0.0, elapsed):.1f} s</span>{note}</div>'
        )

    def _dag_html(self, view: GraphView) -> str:
        try:
            shown = summarize(view, self.max_nodes) if self.max_nodes else view
            drawing = draw_svg(shown, self.engine)
        except Exception as exc:  # drawing never breaks the view
            return f'<div style="color:#6b7280">(DAG not drawn: {escape(type(exc).__name__)})</div>'
        return dag_html(drawing.svg, shown, drawing.note, interactive=False)

    def bundle(self) -> dict[str, str]:
        """The current state as a display bundle (``text/html`` and ``text/plain``)."""
        progress = self.progress()
        counts = self.counts(progress.view)
        logs = step_logs_html(self._states.seen(), progress.started)
        html = (
            f'<div class="nbflow-live">{self.progress_html(progress, counts)}'
            f"{self._dag_html(progress.view)}{logs}</div>"
        )
        text = f"{self.view.title}: {self.progress_text(counts)} ({self._state(progress)})"
        return {"text/html": html, "text/plain": text}

    def final_bundle(
        self, result: ExecuteInProcessResult | None, error: BaseException | None
    ) -> dict[str, str]:
        """The finished run: progress bar, then the result's summary and DAG (or the error).

        It always ends in a final state: the run's (succeeded, failed, canceled), else
        ``invalid config`` when the run config did not fit, or ``failed`` for any other
        error raised before or during the run.
        """
        progress, states = self.progress(), self._states
        if result is not None and len(result.all_events) != self._folded:
            states = StepStates()
            progress = self._fold(Progress(self.view), result.all_events, states)
        if progress.state not in _RUN_END.values():
            state = _error_state(error) if result is None else _RUN_END[_end_of(result)]
            progress = replace(progress, state=state, ended=progress.ended or time.time())
        counts = self.counts(progress.view)
        head = self.progress_html(progress, counts)
        if result is not None:
            try:
                body = result_html(result, max_nodes=self.max_nodes, engine=self.engine)
                text = repr(ResultDisplay(result))
            except Exception as exc:  # a summary that cannot be made still leaves the DAG
                body = (
                    self._dag_html(progress.view) + f"<div>(no summary: {escape(repr(exc))})</div>"
                )
                text = repr(result)
        else:
            message = f"{type(error).__name__}: {error}" if error is not None else "no result"
            if isinstance(error, KeyboardInterrupt):
                message = "the run was interrupted before it ended"
            body = (
                '<pre style="white-space:pre-wrap;color:#7f1d1d;background:#fee2e2;'
                f'padding:6px;margin:4px 0">{escape(message)}</pre>{self._dag_html(progress.view)}'
            )
            text = f"{self.view.title} ({progress.state}): {message}\n{describe(progress.view)}"
        logs = step_logs_html(states.seen(), progress.started)
        html = f'<div class="nbflow-live nbflow-live-final">{head}{body}{logs}</div>'
        return {"text/html": html, "text/plain": text}

    # redrawing

    def refresh(self, force: bool = False) -> bool:
        """Redraw when events came in since the last drawing (or when ``force``)."""
        with self._lock:
            if self._final or self._surface_for is None:
                return False
            seen = len(self.events)
            if self.surface is None:
                self.surface = self._surface_for(self.bundle(), False)
            elif seen != self._drawn or force:
                self.surface.show(self.bundle(), final=False)
                self.updates += 1
            else:
                return False
            self._drawn = seen
            return True

    def finish(
        self, result: ExecuteInProcessResult | None, error: BaseException | None = None
    ) -> None:
        """Show the final state (once)."""
        with self._lock:
            if self._final:
                return
            self._final = True
            if self._surface_for is None:
                return
            bundle = self.final_bundle(result, error)
            if self.surface is None:
                self.surface = self._surface_for(bundle, True)
            else:
                self.surface.show(bundle, final=True)
                self.updates += 1


def _end_of(result: ExecuteInProcessResult) -> EventType:
    """How ``result``'s run ended, as the event that says so."""
    if result.run.status is RunStatus.CANCELED:
        return EventType.RUN_CANCELED
    return EventType.RUN_SUCCESS if result.success else EventType.RUN_FAILURE


def _error_state(error: BaseException | None) -> str:
    """The final state shown for a run that raised ``error`` (or returned no result)."""
    if isinstance(error, RunConfigValidationError):
        return INVALID_CONFIG
    if isinstance(error, KeyboardInterrupt):
        return "canceled"
    return "failed"


# --- the run ---------------------------------------------------------------------------------


class LiveRun:
    """A run going on in a worker thread, shown by a :class:`LiveView`.

    Made by :func:`start` (and used by :func:`run`). ``cancel()`` asks the run to stop,
    ``wait()`` returns its result once the final state is shown.
    """

    def __init__(
        self,
        target: RunTarget,
        view: LiveView,
        instance: Instance | None = None,
        interval: float = INTERVAL,
    ) -> None:
        self.view = view
        self.interval = interval
        self.instance = instance if instance is not None else Instance.ephemeral()
        self._call = target.call
        self._planned_id = str(uuid.uuid4())  # the run gets it, so its events reach the view
        self._finished = threading.Event()  # the run returned or raised
        self._closed = threading.Event()  # ... and its final state is shown
        self._result: ExecuteInProcessResult | None = None
        self._error: BaseException | None = None
        self._run_id: str | None = None
        self._cancel_wanted = False
        self._cancel_sent = False
        self._on_done: list[Callable[[LiveRun], None]] = []
        self._worker = threading.Thread(target=self._work, name="nbflow-live-run", daemon=True)

    @property
    def run_id(self) -> str | None:
        """The run's id, once the run has been recorded."""
        return self._run_id

    @property
    def result(self) -> ExecuteInProcessResult | None:
        """The result, once the run has ended (``None`` before, or if it raised)."""
        return self._result if self._closed.is_set() else None

    @property
    def error(self) -> BaseException | None:
        """What the run raised, once it has ended."""
        return self._error if self._closed.is_set() else None

    def done(self) -> bool:
        """Whether the run has ended and its final state is shown."""
        return self._closed.is_set()

    def add_done_callback(self, callback: Callable[[LiveRun], None]) -> None:
        """Call ``callback(self)`` once the final state is shown (at once if it is already)."""
        self._on_done.append(callback)
        if self._closed.is_set():
            callback(self)

    def cancel(self) -> None:
        """Ask the run to stop (see the module's notes); returns at once. Safe from any thread."""
        if self._finished.is_set():
            return
        self._cancel_wanted = True
        self.view.canceling = True
        self._apply_cancel()

    def wait(self, timeout: float | None = None) -> ExecuteInProcessResult:
        """The result, once the run has ended and its final state is shown.

        Raises:
            TimeoutError: the run did not end within ``timeout`` seconds.
            Exception: whatever the run raised (invalid run config; with
                ``raise_on_error=True``, a step's error).
        """
        if not self._closed.wait(timeout):
            raise TimeoutError(
                f"The run has not ended after {timeout} s (it goes on). Fix: wait longer, or "
                "call .cancel() first."
            )
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result

    def __repr__(self) -> str:
        state = "done" if self.done() else "running"
        return f"<LiveRun {self.view.view.title} {state}>"

    # internals

    def _on_event(self, event: Event) -> None:
        """Listener of the run's events (see ``Instance.add_event_listener``)."""
        if self._run_id is None:
            self._run_id = event.run_id
            self._apply_cancel()
        self.view.on_event(event)

    def _apply_cancel(self) -> None:
        if self._cancel_wanted and not self._cancel_sent and self._run_id is not None:
            self._cancel_sent = request_cancel(self._run_id)

    def _work(self) -> None:
        self.instance.add_event_listener(self._planned_id, self._on_event)
        try:
            self._result = self._call(self.instance, self._planned_id)
        except BaseException as exc:  # shown, then raised again by wait()
            self._error = exc
        finally:
            self.instance.remove_event_listener(self._planned_id, self._on_event)
            self._finished.set()

    def _begin(self) -> None:
        self._worker.start()

    def _pump(self, foreground: bool = False) -> None:
        """Redraw until the run ends, then show the final state.

        In the foreground, a KeyboardInterrupt (the kernel's interrupt) cancels the run; a
        second one stops waiting (a background thread keeps the view going).
        """
        interrupts = 0
        pause = self.interval
        while True:
            try:
                if self._finished.wait(pause):
                    break
                self._apply_cancel()
                began = time.monotonic()
                if self.view.refresh():  # slow drawings (big DAGs) are redrawn less often
                    pause = max(self.interval, DRAW_SHARE * (time.monotonic() - began))
            except KeyboardInterrupt:
                if not foreground:
                    raise
                interrupts += 1
                self.cancel()
                if interrupts > 1:
                    self._pump_in_background()
                    raise
                self.view.refresh(force=True)
        self._close()

    def _pump_in_background(self) -> None:
        threading.Thread(target=self._pump, name="nbflow-live-view", daemon=True).start()

    def _close(self) -> None:
        try:
            self.view.finish(self._result, self._error)
        finally:
            self._closed.set()
            for callback in self._on_done:
                try:
                    callback(self)
                except Exception:  # a callback must not hide the result
                    pass


def _prepare(
    target: Any,
    run_config: Mapping[str, Any] | None,
    *,
    instance: Instance | None = None,
    interval: float = INTERVAL,
    max_nodes: int | None = MAX_NODES,
    engine: str | None = None,
    hint: str = "",
    **run_options: Any,
) -> LiveRun:
    planned = run_target(target, RunOptions(run_config=run_config, **run_options))
    view = LiveView(planned.view, max_nodes=max_nodes, engine=engine, hint=hint)
    return LiveRun(planned, view, instance, interval)


def _notebook_surface(bundle: Mapping[str, str], final: bool) -> Surface:
    """A display output in IPython; elsewhere, the final text printed once."""
    return DisplaySurface(bundle) if in_ipython() else PlainSurface(bundle, final)


def _launch(live: LiveRun) -> None:
    """Start the run and the thread that redraws its view."""
    live._begin()
    threading.Thread(target=live._pump, name="nbflow-live-view", daemon=True).start()


def run(
    job_or_assets: Any,
    run_config: Mapping[str, Any] | None = None,
    *,
    executor: str = "in_process",
    instance: Instance | None = None,
    tags: Mapping[str, Any] | None = None,
    op_selection: Sequence[str] | None = None,
    raise_on_error: bool = False,
    resources: Mapping[str, Any] | None = None,
    input_values: Mapping[str, Any] | None = None,
    partition_key: str | None = None,
    interval: float = INTERVAL,
    max_nodes: int | None = MAX_NODES,
    engine: str | None = None,
) -> ExecuteInProcessResult:
    """Run a job showing its DAG and progress live; return the result.

    Interrupting the kernel cancels the run (see the module's notes); the cell then waits for
    the run to end ``CANCELED`` and returns its result.

    Args:
        job_or_assets: a ``JobDefinition``, ``GraphDefinition``, reconstructable job, or a
            list of ``@asset`` definitions (run with ``materialize_to_memory``).
        run_config: the run config.
        executor: ``"in_process"`` (``execute_in_process``, values in memory) or ``"job"``
            (``execute_job``: the job's own executor, e.g. multiprocess or Dask).
        instance: where the run and its events are kept (ephemeral by default).
        tags: run tags (``MEMOIZED_RUN_TAG`` switches memoization).
        op_selection: op selection queries, as for ``execute_in_process``.
        raise_on_error: raise a step's error instead of returning a failed result.
        resources, input_values, partition_key: as for ``execute_in_process`` (in-process
            only; ``resources`` and ``partition_key`` also for assets).
        interval: seconds between redraws (redraws happen only when something changed).
        max_nodes: bigger DAGs are drawn summarised; ``None`` draws every step.
        engine: where the drawing chain starts (``dot``, ``pygraphviz``, ``builtin``).

    Returns:
        ExecuteInProcessResult: as the entry point returns it (``result.run.status`` is
        ``CANCELED`` after a cancel).

    Raises:
        LiveRunError: ``job_or_assets`` cannot be run, or an option does not apply.
        RunConfigValidationError: the run config does not fit (shown in the view too).
    """
    live = _prepare(
        job_or_assets,
        run_config,
        executor=executor,
        instance=instance,
        tags=tags,
        op_selection=op_selection,
        raise_on_error=raise_on_error,
        resources=resources,
        input_values=input_values,
        partition_key=partition_key,
        interval=interval,
        max_nodes=max_nodes,
        engine=engine,
        hint="interrupt the kernel (■) to cancel",
    )
    live.view.attach(_notebook_surface, now=False)  # a quick run is drawn once, finished
    live._begin()
    live._pump(foreground=True)
    return live.wait()


def start(
    job_or_assets: Any,
    run_config: Mapping[str, Any] | None = None,
    *,
    executor: str = "in_process",
    instance: Instance | None = None,
    tags: Mapping[str, Any] | None = None,
    op_selection: Sequence[str] | None = None,
    raise_on_error: bool = False,
    resources: Mapping[str, Any] | None = None,
    input_values: Mapping[str, Any] | None = None,
    partition_key: str | None = None,
    interval: float = INTERVAL,
    max_nodes: int | None = MAX_NODES,
    engine: str | None = None,
    display_view: bool = True,
) -> LiveRun:
    """Start a run in the background, shown live with a Cancel button; return at once.

    The arguments are those of :func:`run`. ``live.wait()`` returns the result;
    ``live.cancel()`` or the Cancel button (when ipywidgets is installed) stops the run.
    With ``display_view=False`` nothing is displayed: put ``live.widget()`` where you want it.
    """
    live = _prepare(
        job_or_assets,
        run_config,
        executor=executor,
        instance=instance,
        tags=tags,
        op_selection=op_selection,
        raise_on_error=raise_on_error,
        resources=resources,
        input_values=input_values,
        partition_key=partition_key,
        interval=interval,
        max_nodes=max_nodes,
        engine=engine,
        hint="",
    )
    if display_view:
        _display_with_cancel_button(live)
    _launch(live)
    return live


def _display_with_cancel_button(live: LiveRun) -> None:
    """Display a Cancel button (if ipywidgets is there) and the view, as notebook outputs.

    When the run ends the button's output is emptied, so the saved notebook shows the
    final view only.
    """
    widgets = optional_widgets()
    if widgets is None or not in_ipython():
        live.view.attach(_notebook_surface)
        return
    button = cancel_button(widgets, live)
    controls = display(button, display_id=True)  # type: ignore[no-untyped-call]
    live.view.attach(DisplaySurface)

    def remove_button(_: LiveRun) -> None:
        button.disabled = True
        controls.update({"text/plain": ""}, raw=True)
        button.close()

    live.add_done_callback(remove_button)


def cancel_button(widgets: ModuleType, live: LiveRun) -> Any:
    """An ipywidgets Button that cancels ``live`` (disabled once clicked)."""
    button = widgets.Button(
        description="Cancel run", icon="stop", button_style="warning", tooltip="Cancel the run"
    )

    def clicked(_: Any) -> None:
        button.disabled = True
        button.description = "Canceling…"
        live.cancel()

    button.on_click(clicked)
    return button


def start_in_widget(
    widgets: ModuleType, job_or_assets: Any, run_config: Mapping[str, Any] | None, **options: Any
) -> tuple[LiveRun, Any]:
    """Start a background run whose view lives in widgets: ``(live, VBox[Cancel, HTML])``.

    ``options`` are those of :func:`start`. The config form uses it; widget values may be
    changed from the run's threads.
    """
    live = _prepare(job_or_assets, run_config, **options)
    surface = live.view.attach(lambda bundle, final: WidgetSurface(widgets, bundle))
    assert isinstance(surface, WidgetSurface)
    button = cancel_button(widgets, live)
    box = widgets.VBox([button, surface.html])

    def hide_button(_: LiveRun) -> None:
        button.disabled = True
        button.layout.display = "none"

    live.add_done_callback(hide_button)
    _launch(live)
    return live, box


__all__ = ["DRAW_SHARE", "INTERVAL", "INVALID_CONFIG", "LiveRun", "LiveView", "run", "start"]
