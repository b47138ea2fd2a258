"""Plain-text pipe tables, as the command line prints them."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """``| a | b |`` rows under a header, with a ``|---|---|`` rule between."""
    widths = [max(len(str(c)) for c in col) for col in zip(headers, *rows, strict=False)]
    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"

    def fmt(cells: Sequence[str]) -> str:
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    return "\n".join([fmt(headers), rule, *(fmt(r) for r in rows)])
