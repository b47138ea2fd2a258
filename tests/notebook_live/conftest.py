"""A spy in place of IPython's ``display``: records every output and each of its updates."""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field
from typing import Any

import pytest

from nbflow.notebook import live


@dataclass
class Output:
    """One displayed output: what was shown first, then every update, in order."""

    display_id: str
    shown: list[Any] = field(default_factory=list)

    @property
    def last(self) -> Any:
        return self.shown[-1]

    @property
    def updates(self) -> int:
        return len(self.shown) - 1


class SpyHandle:
    def __init__(self, spy: DisplaySpy, output: Output) -> None:
        self.spy = spy
        self.output = output
        self.display_id = output.display_id

    def update(self, obj: Any, raw: bool = False, **kwargs: Any) -> None:
        with self.spy.lock:
            self.output.shown.append(obj)


class DisplaySpy:
    """Stands in for ``IPython.display.display`` (thread-safe), keeping outputs in order."""

    def __init__(self) -> None:
        self.outputs: list[Output] = []
        self.lock = threading.Lock()
        self._ids = itertools.count()

    def __call__(self, obj: Any, raw: bool = False, display_id: Any = None, **kwargs: Any) -> Any:
        with self.lock:
            output = Output(f"spy-{next(self._ids)}", [obj])
            self.outputs.append(output)
        return SpyHandle(self, output) if display_id else None

    def views(self) -> list[Output]:
        """The outputs that are live views (HTML bundles)."""
        return [
            o for o in self.outputs if isinstance(o.shown[0], dict) and "text/html" in o.shown[0]
        ]

    def view(self) -> Output:
        (found,) = self.views()
        return found


@pytest.fixture
def display_spy(monkeypatch: pytest.MonkeyPatch) -> DisplaySpy:
    """Live views display through the spy, as if in a notebook."""
    spy = DisplaySpy()
    monkeypatch.setattr(live, "display", spy)
    monkeypatch.setattr(live, "in_ipython", lambda: True)
    # redraw every interval even on a busy machine (where drawings slow down and the view
    # would space its redraws out); test_slow_drawings_are_redrawn_less_often tests that
    monkeypatch.setattr(live, "DRAW_SHARE", 0.0)
    return spy
