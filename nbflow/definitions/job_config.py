"""Eager check of the run config a job is built with (``to_job(config={...})``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from nbflow.config import resolve_config
from nbflow.definitions.graph import GraphDefinition

if TYPE_CHECKING:
    from nbflow.definitions.op import OpDefinition


def op_config_problems(graph: GraphDefinition, ops: Any, path: tuple[str, ...] = ()) -> list[str]:
    """Problems with the ``config`` of each op in ``ops`` (the job config's ``ops`` entry).

    Only ops the config names are checked (run config may give the others); ops inside a
    graph that has its own ``config`` are left to that graph's config.

    Args:
        graph: the job's graph (or a nested graph when recursing).
        ops: the value given under ``ops`` for ``graph``.
        path: node names from the job's graph down to ``graph``.

    Returns:
        Problem strings with their run-config paths; empty when every op config fits.
    """
    if not isinstance(ops, Mapping):
        return []
    problems: list[str] = []
    for name, node in graph.nodes.items():
        entry = ops.get(name)
        if not isinstance(entry, Mapping):
            continue
        where = (*path, name)
        inner = node.definition
        if isinstance(inner, GraphDefinition):
            if inner.config is None:
                problems += op_config_problems(inner, entry.get("ops") or {}, where)
            continue
        op_def: OpDefinition = inner  # type: ignore[assignment]
        if op_def.config_field is None:
            continue
        root = ("root", "ops", *":ops:".join(where).split(":"), "config")
        if "config" not in entry:
            if op_def.config_field.is_required:
                problems.append(f"{':'.join(root[:-1])}: missing required field 'config'.")
            continue
        problems += resolve_config(op_def.config_field.config_type, entry["config"], root=root)[1]
    return problems
