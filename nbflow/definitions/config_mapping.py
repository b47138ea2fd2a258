"""``ConfigMapping``: a simpler config schema for a job, mapped onto the full run config."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping


@dataclass(frozen=True, eq=False)
class ConfigMapping:
    """Users give config matching ``config_schema``; ``config_fn`` turns it into run config."""

    config_fn: Callable[[Any], Mapping[str, Any]]
    config_schema: Any = None
    description: str | None = None
