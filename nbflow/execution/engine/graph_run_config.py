"""The seed system's run-config shapes for a job's root graph, read into nbflow's own.

- The root graph's config mapping takes its config under ``{"ops": {"config": ...}}`` (as a
  nested graph's takes it under ``{"ops": {"g": {"config": ...}}}``); nbflow also takes that
  config at the top level of the run config.
- The root graph's own inputs take values under ``{"inputs": {"x": {"value": ...}}}``; they
  become the inputs of the ops the graph input feeds (through nested graphs too).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nbflow.config.merge import deep_merge
from nbflow.definitions.config_mapping import ConfigMapping
from nbflow.definitions.graph import GraphDefinition
from nbflow.errors import RunConfigValidationError


def root_mapping_config(
    graph: GraphDefinition, run_config: Mapping[str, Any]
) -> tuple[Any, dict[str, Any]]:
    """What the root graph's config mapping receives, and the rest of the run config.

    The seed shape ``{"ops": {"config": X}, "resources": ...}`` gives ``X`` and keeps the
    resources; any other run config is the mapping's config as a whole.
    """
    ops = run_config.get("ops")
    seed_shape = (
        isinstance(graph.config, ConfigMapping)
        and isinstance(ops, Mapping)
        and set(ops) == {"config"}
        and "config" not in graph.nodes
    )
    if not seed_shape:
        return run_config, {}
    assert isinstance(ops, Mapping)
    return ops["config"], {k: v for k, v in run_config.items() if k != "ops"}


def root_inputs_as_op_inputs(graph: GraphDefinition, run_config: Any, job_name: str) -> Any:
    """``run_config`` with top-level ``inputs`` of the root graph moved to the ops they feed.

    Raises:
        RunConfigValidationError: an input named there is not an input of the graph.
    """
    if not isinstance(run_config, Mapping) or not graph.input_mappings:
        return run_config
    given = run_config.get("inputs")
    if not isinstance(given, Mapping):
        return run_config
    known = sorted({m.graph_input_name for m in graph.input_mappings})
    unknown = [name for name in given if name not in known]
    if unknown:
        raise RunConfigValidationError.build(
            f"job {job_name!r}",
            [
                f"root:inputs: {name!r} is not an input of graph {graph.name!r} (its inputs: "
                f"{', '.join(known)}). Fix: give a value for one of those."
                for name in unknown
            ],
        )
    ops: dict[str, Any] = {}
    for name, value in given.items():
        ops = deep_merge(ops, _feeding(graph, name, value))
    rest = {k: v for k, v in run_config.items() if k != "inputs"}
    return {**rest, "ops": deep_merge(ops, rest.get("ops") or {})}


def _feeding(graph: GraphDefinition, graph_input: str, value: Any) -> dict[str, Any]:
    """Op config giving ``value`` to every op input the graph input feeds."""
    ops: dict[str, Any] = {}
    for mapping in graph.input_mappings:
        if mapping.graph_input_name != graph_input:
            continue
        node = mapping.mapped_node_name
        inner = graph.nodes[node].definition
        if isinstance(inner, GraphDefinition):
            entry = {"ops": _feeding(inner, mapping.mapped_node_input_name, value)}
        else:
            entry = {"inputs": {mapping.mapped_node_input_name: value}}
        ops = deep_merge(ops, {node: entry})
    return ops
