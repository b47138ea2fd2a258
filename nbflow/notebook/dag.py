"""Draw a job's DAG: inline in a notebook (:func:`show_graph`) or to a file (:func:`render`).

Drawing goes down a chain and never fails: the Graphviz ``dot`` program, else pygraphviz
(``pip install "nbflowkit[graphviz]"``), else nbflow's built-in layered layout. A degraded
drawing carries a one-line note; nothing is ever printed to stderr. Set
``NBFLOW_RENDERER`` to ``pygraphviz`` or ``builtin`` to start the chain further down.

Inline, a DAG is HTML (:mod:`nbflow.notebook.dag_html`): the SVG fitted to the output's width,
zoomable, pannable and searchable, with a legend of the statuses shown; the plain SVG stays in
the output as the ``image/svg+xml`` fallback.

Examples:
    >>> import nbflow.notebook as nbn
    >>> nbn.show_graph(my_job)                      # displays inline
    >>> nbn.show_graph(my_job, focus="scale", depth=2)  # scale, 2 steps up and down
    >>> nbn.show_graph(my_job, only="changed")      # what a memoized run would re-run
    >>> nbn.render(result, "run.svg")               # statuses of a finished run
    >>> nbn.render(my_job, "dot")                   # the DOT source, as text
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nbflow.errors import RenderError
from nbflow.execution.views.graph_dot import to_dot
from nbflow.execution.views.graph_view import GraphView, graph_view
from nbflow.execution.views.svg_layout import layout_svg
from nbflow.notebook._summarize import summarize
from nbflow.notebook.dag_filters import NEEDS_VERSIONS, around, check_only, only_statuses
from nbflow.notebook.dag_html import dag_html

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from nbflow.storage.instance import Instance

ENGINES = ("dot", "pygraphviz", "builtin")
RENDERER_ENV = "NBFLOW_RENDERER"
DOT_TIMEOUT_S = 10.0
MAX_NODES = 200
FORMATS = ("svg", "png", "dot")
TEXT_ROWS = 30


@dataclass(frozen=True, slots=True)
class Drawing:
    """An SVG drawing, the engine that made it, and a note when it is degraded (else ``""``)."""

    svg: str
    engine: str
    note: str = ""


def draw_svg(view: GraphView, engine: str | None = None) -> Drawing:
    """Draw ``view`` as SVG with the best engine available; never raises.

    Args:
        view: what to draw.
        engine: where to start the chain (``dot``, ``pygraphviz`` or ``builtin``); defaults
            to ``$NBFLOW_RENDERER``, else ``dot``.
    """
    start = _start(engine)
    problems: list[str] = []
    # a wide, shallow graph reads better left to right
    rankdir = wide_rankdir(view) or "TB"
    source = _dot_source(view, problems, rankdir)
    if source is not None and start == "dot":
        data = _with_dot(source, "svg", problems)
        if data is not None:
            return Drawing(_svg_text(data), "dot")
    if source is not None and start in ("dot", "pygraphviz"):
        data = _with_pygraphviz(source, "svg", problems)
        if data is not None:
            return Drawing(_svg_text(data), "pygraphviz")
    note = ""
    if start != "builtin":
        note = (
            f"Simple layout: {'; '.join(problems)}. For a better drawing install Graphviz "
            "(apt-get install graphviz, brew install graphviz) or "
            'pip install "nbflowkit[graphviz]".'
        )
    caption = " ".join(t for t in (view.note, note) if t)
    try:
        return Drawing(layout_svg(view, caption, rankdir), "builtin", note)
    except Exception as exc:  # the last resort must not fail either
        return Drawing(_placeholder(view, f"{type(exc).__name__}: {exc}"), "none", note)


def _start(engine: str | None) -> str:
    chosen = (engine or os.environ.get(RENDERER_ENV) or "dot").strip().lower()
    if chosen in ("auto", "graphviz", ""):
        chosen = "dot"
    return chosen if chosen in ENGINES else "dot"


WIDE_RATIO = 2.5  # nodes in the widest layer per layer before a graph is drawn left to right


def wide_rankdir(view: GraphView) -> str | None:
    """``"LR"`` when ``view`` is much wider than deep (say a fan of 60 ops from one source):
    drawn top to bottom it would be a thin strip; ``None`` otherwise."""
    if len(view.nodes) < 12:
        return None
    index = {n.key: i for i, n in enumerate(view.nodes)}
    layer = [0] * len(view.nodes)
    for _ in range(2):  # nodes come in topological order; a second pass covers the rest
        for edge in view.edges:
            s, t = index.get(edge.source), index.get(edge.target)
            if s is not None and t is not None and layer[t] <= layer[s]:
                layer[t] = layer[s] + 1
    widths: dict[int, int] = {}
    for n in layer:
        widths[n] = widths.get(n, 0) + 1
    return "LR" if max(widths.values()) > WIDE_RATIO * len(widths) else None


def _dot_source(view: GraphView, problems: list[str], rankdir: str = "TB") -> str | None:
    try:
        return to_dot(view, rankdir)
    except Exception as exc:
        problems.append(f"could not write DOT ({type(exc).__name__}: {exc})")
        return None


def _with_dot(source: str, fmt: str, problems: list[str]) -> bytes | None:
    """Run the ``dot`` program; ``None`` (and a problem noted) when it is missing or fails."""
    program = shutil.which("dot")
    if program is None:
        problems.append("no Graphviz `dot` program on PATH")
        return None
    try:
        done = subprocess.run(
            [program, f"-T{fmt}"],
            input=source.encode("utf-8"),
            capture_output=True,
            timeout=DOT_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        problems.append(f"`dot` took longer than {DOT_TIMEOUT_S:g} s")
        return None
    except (OSError, subprocess.SubprocessError) as exc:
        problems.append(f"`dot` could not start ({exc})")
        return None
    if done.returncode != 0 or not done.stdout:
        said = done.stderr.decode("utf-8", "replace").strip().splitlines()
        problems.append(f"`dot` failed ({said[0] if said else f'exit code {done.returncode}'})")
        return None
    return done.stdout


def _with_pygraphviz(source: str, fmt: str, problems: list[str]) -> bytes | None:
    """Lay out in-process with pygraphviz; ``None`` (and a problem noted) when unavailable."""
    try:
        import pygraphviz
    except ImportError:
        problems.append("pygraphviz is not installed")
        return None
    except Exception as exc:
        problems.append(f"pygraphviz failed to load ({type(exc).__name__})")
        return None
    try:
        with warnings.catch_warnings(), _stderr_silenced():
            warnings.simplefilter("ignore")
            data = pygraphviz.AGraph(string=source).draw(format=fmt, prog="dot")
    except Exception as exc:
        problems.append(f"pygraphviz failed ({type(exc).__name__}: {str(exc)[:120]})")
        return None
    if not isinstance(data, bytes) or not data:
        problems.append("pygraphviz returned nothing")
        return None
    return data


@contextmanager
def _stderr_silenced() -> Iterator[None]:
    """Send file descriptor 2 to the null device while Graphviz's C libraries run.

    pygraphviz's bundled fontconfig writes a warning about the system's font configuration
    straight to stderr on first use (on Debian 12 ``FONTCONFIG_FILE`` does not stop it, as
    it still scans its own template folder); in a notebook that lands in the cell's output.
    """
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):
        yield
        return
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, 2)
        finally:
            os.close(null)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _svg_text(data: bytes) -> str:
    return data.decode("utf-8", "replace")


def _placeholder(view: GraphView, why: str) -> str:
    from xml.sax.saxutils import escape

    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="420" height="40">'
        f'<text x="8" y="24" font-size="12">{escape(view.title)}: could not be drawn '
        f"({escape(why[:200])})</text></svg>"
    )


# --- turning objects into views ----------------------------------------------------------------


def as_view(
    obj: Any,
    run_config: Mapping[str, Any] | None = None,
    instance: Instance | None = None,
    *,
    with_versions: bool = False,
    resources: Mapping[str, Any] | None = None,
    title: str | None = None,
) -> GraphView:
    """A :class:`GraphView` of ``obj``: a view, a DagDisplay, or anything ``graph_view`` takes."""
    if isinstance(obj, GraphView):
        return obj
    if isinstance(obj, DagDisplay):
        return obj.view
    return graph_view(
        obj,
        run_config,
        instance,
        with_versions=with_versions,
        resources=resources,
        title=title,
    )


def describe(view: GraphView, note: str = "") -> str:
    """A plain-text account of ``view``: its size, statuses, and one line per node."""
    counts = ", ".join(f"{n} {status}" for status, n in view.status_counts().items())
    lines = [f"{view.title}: {len(view.nodes)} nodes ({counts or 'empty'})"]
    width = max((len(n.key) for n in view.nodes[:TEXT_ROWS]), default=0)
    for node in view.nodes[:TEXT_ROWS]:
        lines.append(f"  {node.key.ljust(width)}  {node.status}")
    if len(view.nodes) > TEXT_ROWS:
        lines.append(f"  … {len(view.nodes) - TEXT_ROWS} more")
    lines += [t for t in (view.note, note) if t]
    return "\n".join(lines)


class DagDisplay:
    """A DAG shown inline: HTML (``text/html``: the SVG inline, fitted to the output's width,
    zoomable, searchable, with a legend), the SVG alone (``image/svg+xml``, the fallback) and
    a ``text/plain`` account.

    Made by :func:`show_graph`. The view is built at once, so a wrong argument raises where it
    is passed; drawing happens when the notebook displays it and never raises.

    Attributes:
        view: the full :class:`GraphView`.
        shown: the view drawn: cut to ``focus`` / ``only`` if asked, and summarised when it
            has more than ``max_nodes`` nodes.
    """

    def __init__(
        self,
        obj: Any,
        run_config: Mapping[str, Any] | None = None,
        instance: Instance | None = None,
        *,
        with_versions: bool = False,
        resources: Mapping[str, Any] | None = None,
        title: str | None = None,
        max_nodes: int | None = MAX_NODES,
        engine: str | None = None,
        focus: str | None = None,
        depth: int | None = None,
        only: str | None = None,
    ) -> None:
        check_only(only)
        if only in NEEDS_VERSIONS and not isinstance(obj, GraphView | DagDisplay):
            from nbflow.execution.engine.result import ExecuteInProcessResult

            with_versions = with_versions or not isinstance(obj, ExecuteInProcessResult)
        self.view = as_view(
            obj,
            run_config,
            instance,
            with_versions=with_versions,
            resources=resources,
            title=title,
        )
        part = self.view
        if focus is not None:
            part = around(part, focus, depth)
        if only is not None:
            part = only_statuses(part, only)
        self.shown = summarize(part, max_nodes) if max_nodes else part
        self.engine = engine
        self._drawing: Drawing | None = None

    @property
    def source(self) -> str:
        """The DOT source of the drawn view."""
        return to_dot(self.shown)

    def drawing(self) -> Drawing:
        """The SVG drawing (made once, then kept)."""
        if self._drawing is None:
            self._drawing = draw_svg(self.shown, self.engine)
        return self._drawing

    @property
    def svg(self) -> str:
        return self.drawing().svg

    def html(self, *, interactive: bool = True) -> str:
        """The inline HTML: the drawing fitted to the output, with its legend (and, with
        ``interactive``, the zoom/pan/search script)."""
        drawing = self.drawing()
        return dag_html(drawing.svg, self.shown, drawing.note, interactive=interactive)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        bundle: dict[str, str] = {}
        note = ""
        try:
            drawing = self.drawing()
            bundle["image/svg+xml"] = drawing.svg
            note = drawing.note
            bundle["text/html"] = self.html()
        except Exception as exc:
            note = note or f"(could not draw the graph: {type(exc).__name__})"
        try:
            bundle["text/plain"] = describe(self.shown, note)
        except Exception:
            bundle["text/plain"] = f"<DAG {getattr(self.view, 'title', '?')}>"
        return bundle

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the drawing to ``path`` (``.svg``, ``.png`` or ``.dot``)."""
        written = render(self, path)
        assert isinstance(written, Path)
        return written

    def __repr__(self) -> str:
        try:
            return describe(self.shown)
        except Exception:
            return "<DagDisplay>"


def show_graph(
    obj: Any,
    run_config: Mapping[str, Any] | None = None,
    instance: Instance | None = None,
    *,
    with_versions: bool = False,
    resources: Mapping[str, Any] | None = None,
    title: str | None = None,
    max_nodes: int | None = MAX_NODES,
    engine: str | None = None,
    focus: str | None = None,
    depth: int | None = None,
    only: str | None = None,
) -> DagDisplay:
    """The DAG of a job, graph, asset list, plan or run result, displayed inline.

    Inline it fits the output's width; the ``+``, ``-`` and ``Fit`` buttons, Ctrl + wheel
    and dragging zoom and pan, the search box highlights steps by name, hovering shows a
    step's details, and a legend lists the statuses shown.

    Args:
        obj: what to draw; a result shows each step's outcome.
        run_config: run config for ``with_versions``.
        instance: where stored versions are looked up.
        with_versions: colour steps ``stored`` / ``to-be-recomputed`` (memoized jobs).
        resources: extra resources, as for ``list_versions``.
        title: the caption (the job's name by default).
        max_nodes: bigger graphs are summarised (nested graphs and chains collapsed);
            ``None`` draws everything.
        engine: where to start the drawing chain (``dot``, ``pygraphviz``, ``builtin``).
        focus: draw only this step (a step key or op name) and its neighbourhood.
        depth: with ``focus``, how many steps up and down to keep (``None``: all).
        only: ``"changed"`` (the steps whose stored output is out of date, so a memoized
            run re-runs them; for a run, those that ran), ``"runs"`` (every step that runs
            or ran) or ``"failed"`` (failed and skipped steps). For a job, ``"changed"`` and
            ``"runs"`` look the versions up (``with_versions``).

    Raises:
        GraphFilterError: ``focus`` names no step (or several), a bad ``depth`` or ``only``.
    """
    return DagDisplay(
        obj,
        run_config,
        instance,
        with_versions=with_versions,
        resources=resources,
        title=title,
        max_nodes=max_nodes,
        engine=engine,
        focus=focus,
        depth=depth,
        only=only,
    )


def render(
    obj: Any,
    path_or_format: str | os.PathLike[str],
    *,
    run_config: Mapping[str, Any] | None = None,
    instance: Instance | None = None,
    with_versions: bool = False,
    max_nodes: int | None = None,
    engine: str | None = None,
) -> Path | str | bytes:
    """Write the DAG of ``obj`` to a file, or return it in a format.

    Args:
        obj: a job, graph, asset list, plan, run result, :class:`GraphView` or
            :class:`DagDisplay`.
        path_or_format: a path ending in ``.svg``, ``.png`` or ``.dot`` (written, and the
            :class:`~pathlib.Path` returned), or one of ``"svg"``, ``"dot"`` (text returned)
            and ``"png"`` (bytes returned).
        run_config, instance, with_versions: as for :func:`show_graph`.
        max_nodes: summarise graphs bigger than this; everything is drawn by default.
        engine: where to start the drawing chain.

    Raises:
        RenderError: an unknown format, or a PNG without Graphviz (``dot`` or pygraphviz).
    """
    text = os.fspath(path_or_format)
    fmt = text.lower().lstrip(".") if text.lower().lstrip(".") in FORMATS else None
    path = None if fmt is not None else Path(text)
    if path is not None:
        fmt = path.suffix.lower().lstrip(".")
        if fmt not in FORMATS:
            raise RenderError.unknown_format(path.suffix or text, FORMATS)
    if isinstance(obj, DagDisplay):
        view = obj.shown if max_nodes is None else summarize(obj.view, max_nodes)
        engine = engine or obj.engine
    else:
        view = as_view(obj, run_config, instance, with_versions=with_versions)
        view = summarize(view, max_nodes) if max_nodes else view
    data: str | bytes
    if fmt == "dot":
        data = to_dot(view)
    elif fmt == "svg":
        data = draw_svg(view, engine).svg
    else:
        data = _png(view)
    if path is None:
        return data
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data, encoding="utf-8")
    return path


def _png(view: GraphView) -> bytes:
    """PNG needs Graphviz: the ``dot`` program, else pygraphviz (whatever the engine choice)."""
    source = to_dot(view)
    problems: list[str] = []
    data = _with_dot(source, "png", problems)
    if data is None:
        data = _with_pygraphviz(source, "png", problems)
    if data is None:
        raise RenderError.no_png_renderer()
    return data
