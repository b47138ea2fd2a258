"""Run config: the schema a job's run config must fit, and the resolved config a run reads.

The schema follows the job's structure: ``ops`` (per node ``config``, ``inputs``,
``outputs``; nested graphs nest under ``ops``), ``resources`` (per key ``config``),
``execution`` and ``loggers``.
"""

from __future__ import annotations

import copy
import functools
import weakref
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from nbflow.config import Any as AnyConfig
from nbflow.config import Field, Permissive, Shape, resolve_config
from nbflow.config.merge import deep_merge
from nbflow.definitions.config_mapping import ConfigMapping
from nbflow.definitions.graph import GraphDefinition
from nbflow.definitions.op import OpDefinition
from nbflow.errors import RunConfigValidationError
from nbflow.execution.engine.graph_run_config import root_inputs_as_op_inputs, root_mapping_config

if TYPE_CHECKING:
    from nbflow.definitions.executor import ExecutorDefinition
    from nbflow.definitions.job import JobDefinition
    from nbflow.definitions.resource import ResourceDefinition
    from nbflow.execution.engine.plan import ExecutionPlan, Step


def _in_plan(plan: ExecutionPlan, handle: str) -> bool:
    return handle in plan.steps or any(k.startswith(handle + ".") for k in plan.steps)


def _optional(field: Field) -> Field:
    return field if not field.is_required else Field(field.config_type, is_required=False)


_ConfigInputs = tuple[tuple[str, bool], ...]  # (input name, required) for inputs from config

_OP_FIELDS: weakref.WeakKeyDictionary[OpDefinition, dict[_ConfigInputs, Field]] = (
    weakref.WeakKeyDictionary()
)
"""The config field of each node of an op with ``config_schema``, by the inputs config feeds."""


UNDECLARED_OP_CONFIG = Field(AnyConfig, is_required=False)
"""The config field of an op declared without ``config_schema``: any config, none needed."""


def _op_field(step: Step | None, op_def: OpDefinition) -> Field:
    """The config field of one op node; one object for every node of the same op config
    and inputs (a large job holds a few, not one per node)."""
    loads_cut = step is not None and step.loads_cut_inputs
    config_inputs = tuple(
        (
            i.name,
            not i.spec.has_default_value
            and i.spec.input_manager_key is None
            and not (i.cut_upstream is not None and loads_cut),
        )
        for i in (step.inputs if step is not None else ())
        if i.from_config and not i.spec.is_nothing
    )
    if op_def.config_field is None:
        return _undeclared_field(config_inputs)
    fields = _OP_FIELDS.setdefault(op_def, {})
    field = fields.get(config_inputs)
    if field is None:
        field = fields[config_inputs] = _node_field(op_def.config_field, config_inputs)
    return field


@functools.lru_cache(maxsize=256)
def _undeclared_field(config_inputs: _ConfigInputs) -> Field:
    """The field of every node of ops declared without ``config_schema`` that config feeds
    these inputs: it depends on them alone, so thousands of such ops (assets, say) share a
    few fields."""
    return _node_field(UNDECLARED_OP_CONFIG, config_inputs)


def _node_field(config: Field, config_inputs: _ConfigInputs) -> Field:
    fields: dict[str, Field] = {"outputs": Field(AnyConfig, is_required=False), "config": config}
    if config_inputs:
        inputs = {name: Field(AnyConfig, is_required=req) for name, req in config_inputs}
        fields["inputs"] = Field(Shape(inputs))
    return Field(Shape(fields))


def _graph_shape(graph: GraphDefinition, prefix: str, plan: ExecutionPlan) -> Shape:
    fields: dict[str, Field] = {}
    for name, node in graph.nodes.items():
        handle = prefix + name
        definition = node.definition
        if isinstance(definition, GraphDefinition):
            field = Field(Shape({"ops": Field(_graph_shape(definition, handle + ".", plan))}))
        else:
            assert isinstance(definition, OpDefinition)
            field = _op_field(plan.steps.get(handle), definition)
        fields[name] = field if _in_plan(plan, handle) else _optional(field)
    return Shape(fields)


def _resources_shape(resource_defs: Mapping[str, ResourceDefinition]) -> Shape:
    return Shape(
        {
            key: Field(Shape({"config": res.config_field}) if res.config_field else Shape({}))
            for key, res in resource_defs.items()
        }
    )


def run_config_schema(
    plan: ExecutionPlan,
    resource_defs: Mapping[str, ResourceDefinition],
    executor_def: ExecutorDefinition | None = None,
) -> Shape:
    """The schema of run config for ``plan``'s job with ``resource_defs``.

    ``executor_def`` replaces the job's executor (``execute_in_process`` runs in process).
    """
    job_def = plan.job_def
    loggers = Shape(
        {
            key: Field(Shape({"config": d.config_field}) if d.config_field else Shape({}))
            for key, d in job_def.logger_defs.items()
        }
    )
    execution_field = (executor_def or job_def.executor_def).config_field
    return Shape(
        {
            "ops": Field(_graph_shape(job_def.graph_def, "", plan)),
            "resources": Field(_resources_shape(resource_defs)),
            "execution": Field(
                Permissive({"config": execution_field} if execution_field else {}),
                is_required=False,
            ),
            "loggers": Field(loggers),
        }
    )


def _legacy_keys(run_config: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """Older run config says ``solids`` where today's says ``ops``."""
    if run_config and "solids" in run_config and "ops" not in run_config:
        renamed = dict(run_config)
        renamed["ops"] = renamed.pop("solids")
        return renamed
    return run_config


def apply_job_config(job_def: JobDefinition, run_config: Mapping[str, Any] | None) -> Any:
    """Run config after the job's own ``config`` (defaults, or a ConfigMapping) is applied,
    and after each nested graph's ``config`` is applied to the ops inside it.

    Raises:
        RunConfigValidationError: config given to a config mapping does not fit its schema.
    """
    run_config = _legacy_keys(run_config)
    config = job_def.config
    rest: dict[str, Any] = {}
    if config is None and job_def.graph_def.config is not None:
        config = _graph_config_as_job_config(job_def.graph_def.config)
        run_config, rest = root_mapping_config(job_def.graph_def, run_config or {})
    if isinstance(config, ConfigMapping):
        target = f"job {job_def.name!r} (its config mapping)"
        given: Any = {**rest, **_map_config(config, run_config or {}, ("root",), target)}
    elif isinstance(config, Mapping):
        given = deep_merge(config, run_config or {})
    else:
        given = copy.copy(run_config) if run_config is not None else {}
    given = root_inputs_as_op_inputs(job_def.graph_def, given, job_def.name)
    if isinstance(given, Mapping) and isinstance(given.get("ops") or {}, Mapping):
        ops = _apply_graph_configs(job_def.graph_def, given.get("ops") or {}, ())
        if ops or "ops" in given:
            given = {**given, "ops": ops}
    return given


def _graph_config_as_job_config(config: ConfigMapping | Mapping[str, Any]) -> Any:
    if isinstance(config, ConfigMapping):
        return ConfigMapping(
            config_fn=lambda c: {
                "ops": _mapped_dict(config.config_fn(c), ("root",), "the graph's config mapping")
            },
            config_schema=config.config_schema,
            receive_processed_config_values=config.receive_processed_config_values,
        )
    return {"ops": dict(config)}


def _map_config(mapping: ConfigMapping, given: Any, path: tuple[str, ...], target: str) -> Any:
    given = mapping.config_for_fn(given, root=path, target=target)
    return _mapped_dict(mapping.config_fn(given), path, target)


def _mapped_dict(mapped: Any, path: tuple[str, ...], target: str) -> dict[str, Any]:
    """What a config mapping returned, as a dict; raises if it is not one."""
    if not isinstance(mapped, Mapping):
        raise RunConfigValidationError.build(
            target,
            [
                f"{':'.join(path)}: the config mapping returned {type(mapped).__name__} "
                f"{mapped!r:.60}, not a dict. Fix: make config_fn return a dict of op config."
            ],
        )
    return dict(mapped)


def _apply_graph_configs(
    graph: GraphDefinition, ops: Mapping[str, Any], path: tuple[str, ...]
) -> dict[str, Any]:
    """Fold each nested graph's ``config`` (defaults or a mapping) into its inner ops' config."""
    result = dict(ops)
    for name, node in graph.nodes.items():
        inner = node.definition
        if not isinstance(inner, GraphDefinition):
            continue
        entry = dict(result.get(name) or {})
        inner_ops: Mapping[str, Any] = entry.get("ops") or {}
        where = (*path, name)
        if isinstance(inner.config, ConfigMapping):
            mapped = _map_config(
                inner.config,
                entry.pop("config", None),
                ("root", "ops", *":ops:".join(where).split(":"), "config"),
                f"graph {':'.join(where)!r} (its config mapping)",
            )
            inner_ops = deep_merge(mapped, inner_ops)
        elif isinstance(inner.config, Mapping):
            inner_ops = deep_merge(inner.config, inner_ops)
        if inner_ops or name in result:
            entry["ops"] = _apply_graph_configs(inner, inner_ops, where)
            result[name] = entry
    return result


class ResolvedRunConfig:
    """Validated run config with defaults filled in, and fast look-ups for steps."""

    def __init__(self, resolved: Mapping[str, Any]) -> None:
        self.value = resolved

    def _node(self, handle: str) -> Mapping[str, Any]:
        node: Mapping[str, Any] = self.value.get("ops") or {}
        parts = handle.split(".")
        for part in parts[:-1]:
            node = (node.get(part) or {}).get("ops") or {}
        return node.get(parts[-1].partition("[")[0]) or {}  # a mapped step: ``op[key]``

    def op_config(self, handle: str) -> Any:
        return self._node(handle).get("config")

    def input_values(self, handle: str) -> Mapping[str, Any]:
        return self._node(handle).get("inputs") or {}

    def resource_config(self, key: str) -> Any:
        return ((self.value.get("resources") or {}).get(key) or {}).get("config")

    def logger_config(self, key: str) -> Any:
        return ((self.value.get("loggers") or {}).get(key) or {}).get("config")

    @property
    def execution(self) -> Mapping[str, Any]:
        return self.value.get("execution") or {}


def unwrap_input_value(value: Any) -> Any:
    """Input values in run config may be written as ``{"value": v}`` or as ``v`` itself."""
    if isinstance(value, Mapping) and len(value) == 1 and "value" in value:
        return value["value"]
    return value


def _executor_config_as_config(given: Any, executor_name: str, job_name: str) -> Any:
    """Seed 003's ``execution: {<executor>: {config: ...}}`` as ``execution: {config: ...}``."""
    execution = given.get("execution") if isinstance(given, Mapping) else None
    named = execution.get(executor_name) if isinstance(execution, Mapping) else None
    if not isinstance(named, Mapping) or not isinstance(execution, Mapping):
        return given
    if "config" in execution:
        raise RunConfigValidationError.build(
            f"job {job_name!r}",
            [f"execution.config and execution.{executor_name}.config are both given; keep one."],
        )
    rest = {k: v for k, v in execution.items() if k != executor_name}
    return {**given, "execution": {**rest, "config": named.get("config")}}


def _without_foreign_execution(
    given: Any, executor_def: ExecutorDefinition, job_executor_def: ExecutorDefinition
) -> Any:
    """Drop ``execution`` config that does not fit ``executor_def``, which replaces the job's
    executor (``execute_in_process`` ignores the job's executor and its config), but fits
    the job's own executor; config that fits neither is kept, so its problems are reported."""
    execution = given.get("execution") if isinstance(given, Mapping) else None
    if not isinstance(execution, Mapping):
        return given
    config = {k: v for k, v in execution.items() if k == "config"}
    for definition in (executor_def, job_executor_def):
        field = definition.config_field
        fits = Shape({"config": field} if field else {})
        if not resolve_config(fits, config)[1]:
            return given if definition is executor_def else _drop_execution(given)
    return given


def _drop_execution(given: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in given.items() if k != "execution"}


def resolve_run_config(
    plan: ExecutionPlan,
    resource_defs: Mapping[str, ResourceDefinition],
    run_config: Mapping[str, Any] | None,
    executor_def: ExecutorDefinition | None = None,
) -> ResolvedRunConfig:
    """Validate ``run_config`` for ``plan`` and return it resolved; raises listing every problem."""
    job_def = plan.job_def
    chosen = executor_def or job_def.executor_def
    given = _executor_config_as_config(
        apply_job_config(job_def, run_config), chosen.name, job_def.name
    )
    if executor_def is not None:
        given = _without_foreign_execution(given, executor_def, job_def.executor_def)
    schema = run_config_schema(plan, resource_defs, executor_def)
    resolved, problems = resolve_config(schema, given)
    if problems:
        raise RunConfigValidationError.build(f"job {job_def.name!r}", problems)
    assert isinstance(resolved, Mapping)
    return ResolvedRunConfig(resolved)
