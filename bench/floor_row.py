"""One line of the "against hand-written floors" table of RESULTS.md.

A benchmark that compares nbflow with what a user could write by hand prints, besides its own
JSON, one ``{"floor_row": {...}}`` line per comparison through :func:`emit`;
``bench/floors.py`` runs those benchmarks and gathers the lines into the table.
"""

from __future__ import annotations

import json


def emit(
    comparison: str,
    nbflow: float,
    floor: float,
    unit: str,
    floor_name: str,
    target: float | None = None,
    higher_is_better: bool = False,
    note: str = "",
) -> None:
    """Print one comparison: nbflow's figure and the floor's, in ``unit``.

    ``target``: the largest factor (nbflow over the floor, or the floor over nbflow when
    ``higher_is_better``) the comparison's budget allows; ``None`` when it has none.
    """
    factor = floor / nbflow if higher_is_better else nbflow / floor
    row = {
        "comparison": comparison,
        "nbflow": nbflow,
        "floor": floor,
        "unit": unit,
        "floor_name": floor_name,
        "factor": factor,
        "target": target,
        "met": None if target is None else factor <= target,
        "note": note,
    }
    print(json.dumps({"floor_row": row}), flush=True)
