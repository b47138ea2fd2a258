"""A report shown as text (``str``, ``repr``) and, in a notebook, as HTML that falls back to
that text when drawing it fails (a repr must never raise into the notebook)."""

from __future__ import annotations

from html import escape


class TextReport:
    """Base of notebook reports: ``__str__`` gives the text, ``_html`` the HTML.

    Subclasses that are dataclasses pass ``repr=False`` so that their ``repr`` is this text.
    """

    __slots__ = ()

    def _html(self) -> str:
        raise NotImplementedError

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        try:
            return self._html()
        except Exception:  # a repr must never raise into the notebook
            return f"<pre>{escape(str(self))}</pre>"
