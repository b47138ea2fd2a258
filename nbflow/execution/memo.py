"""Memoized execution: a version for every step output, and the steps already stored.

Versions are computed in topological order before anything runs (ARCHITECTURE §3):
step output version = H(op version, resolved op config, required resource versions,
input versions, output name). Deliberately left out of versions: tags, retry policies,
the executor, the IO manager chosen, hooks, and node aliases beyond the step key.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nbflow.definitions.io_manager import OutputContext, is_memoizable
from nbflow.definitions.specs import NO_VALUE
from nbflow.errors import (
    InvalidDefinitionError,
    MissingVersionError,
    NonMemoizableIOManagerError,
    OutputNotFoundError,
    UnversionableValueError,
)
from nbflow.execution.resources import resource_order
from nbflow.execution.run_config import unwrap_input_value
from nbflow.execution.step import upstream_output_context
from nbflow.storage.manifests import manifest_store_for
from nbflow.versioning import (
    SOURCE_ASSET_SOURCE,
    VALUE_SOURCE,
    OpVersionContext,
    ResourceVersionContext,
    VersionParts,
    VersionStrategy,
    canonical,
    config_fingerprints,
    fingerprint,
    hash_parts,
    validate_version,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from nbflow.definitions.asset_key import AssetKey
    from nbflow.definitions.job import JobDefinition
    from nbflow.definitions.resource import ResourceDefinition
    from nbflow.definitions.source_asset import SourceAsset
    from nbflow.execution.plan import ExecutionPlan, Step, StepInput
    from nbflow.execution.resources import Resources
    from nbflow.execution.run_config import ResolvedRunConfig
    from nbflow.execution.run_context import RunContext
    from nbflow.storage.instance import Instance
    from nbflow.storage.manifests import ManifestStore
    from nbflow.versioning import CodeRecord

MEMOIZED_RUN_TAG = "nbflow/is_memoized_run"
"""Run tag turning memoization on (``"true"``) or off (``"false"``) for one run."""

StepOutput = tuple[str, str]

PARTITION_PART = "@partition"
"""Name of the version part holding a partitioned run's partition key."""


def memoization_enabled(job_def: JobDefinition, tags: Mapping[str, str]) -> bool:
    """On when run tags say ``"true"``, or the job has a version strategy and no ``"false"``."""
    value = tags.get(MEMOIZED_RUN_TAG)
    if value is None:
        return job_def.version_strategy is not None
    lowered = str(value).strip().lower()
    if lowered not in ("true", "false"):
        raise InvalidDefinitionError(
            f'Tag {MEMOIZED_RUN_TAG}={value!r} is invalid: expected "true" or "false".'
        )
    return lowered == "true"


def _strategy(job_def: JobDefinition) -> VersionStrategy | None:
    strategy = job_def.version_strategy
    return strategy if isinstance(strategy, VersionStrategy) else None


def resource_versions(
    resource_defs: Mapping[str, ResourceDefinition],
    config: ResolvedRunConfig,
    strategy: VersionStrategy | None,
    keys: set[str],
    memo: dict[str, Any] | None = None,
) -> dict[str, str | None]:
    """Versions of ``keys`` and what they depend on; ``None`` for unversioned resources.

    A resource's version covers its own version, its config and the versions of the
    resources it needs; it is ``None`` when any of those has none. ``memo`` is the
    strategy's scratch space for this computation (shared with the ops' contexts).
    """
    memo = {} if memo is None else memo
    versions: dict[str, str | None] = {}
    for key in resource_order(resource_defs, keys):
        definition = resource_defs[key]
        resource_config = config.resource_config(key)
        own = definition.version
        if own is None and definition.fixed_value is not NO_VALUE:
            try:
                own = fingerprint(definition.fixed_value)
            except UnversionableValueError:
                own = None
        if own is None and strategy is not None:
            found = strategy.get_resource_version(
                ResourceVersionContext(definition, resource_config, memo)
            )
            own = None if found is None else validate_version(f"Resource {key!r}", found)
        deps = [(k, versions[k]) for k in sorted(definition.required_resource_keys)]
        if own is None or any(v is None for _, v in deps):
            versions[key] = None
            continue
        parts = [own, canonical(resource_config)] + [f"{k}={v}" for k, v in deps]
        versions[key] = hash_parts("nbflow.resource.v1", *parts)[:40]
    return versions


def _op_version(
    step: Step, op_config: Any, strategy: VersionStrategy | None, memo: dict[str, Any]
) -> tuple[str | None, CodeRecord | None]:
    """The op's version and, when the strategy describes it, its code record."""
    op_def = step.op_def
    if op_def.version is not None:
        return op_def.version, None
    if strategy is None:
        return None, None
    context = OpVersionContext(op_def, op_config, memo)
    found = strategy.get_op_version(context)
    version = validate_version(f"Op {op_def.name!r}", found)
    return version, strategy.describe_op_version(context)


def _input_version(
    step: Step,
    step_input: StepInput,
    config: ResolvedRunConfig,
    parts: Mapping[StepOutput, VersionParts],
    observed: Callable[[SourceAsset], str | None],
) -> tuple[str, str]:
    upstream = step_input.upstream
    source = step_input.source_asset
    if source is not None:
        key = source.key.to_user_string()
        data_version = observed(source)
        if data_version is None:  # not observable: versioned by its key alone
            version = hash_parts("nbflow.source_asset.v1", key)[:40]
        else:
            version = hash_parts("nbflow.source_asset.v2", key, data_version)[:40]
        return SOURCE_ASSET_SOURCE.format(key=key), version
    if upstream is None:
        given = config.input_values(step.key)
        if step_input.value is not NO_VALUE:
            return VALUE_SOURCE, _fingerprint(step, step_input.name, step_input.value)
        if step_input.name in given:
            value = unwrap_input_value(given[step_input.name])
            return VALUE_SOURCE, _fingerprint(step, step_input.name, value)
        upstream = step_input.cut_upstream
        if upstream is None:
            default = step_input.spec.default_value
            return VALUE_SOURCE, _fingerprint(step, step_input.name, default)
    return f"{upstream[0]}.{upstream[1]}", parts[upstream].version


def _upstream_unversioned(step_input: StepInput, parts: Mapping[StepOutput, VersionParts]) -> bool:
    upstream = step_input.upstream or step_input.cut_upstream
    return upstream is not None and upstream not in parts


def _fingerprint(step: Step, input_name: str, value: Any) -> str:
    try:
        return fingerprint(value)
    except UnversionableValueError as exc:
        raise UnversionableValueError(f"Input {step.key}.{input_name}: {exc}") from exc


def compute_versions(
    plan: ExecutionPlan,
    full_plan: ExecutionPlan,
    config: ResolvedRunConfig,
    resource_defs: Mapping[str, ResourceDefinition],
    partition_key: str | None = None,
) -> dict[StepOutput, VersionParts]:
    """The version parts of every step output of ``full_plan`` (the job without selection).

    A partitioned run versions every output with its partition key too (as the config
    part ``PARTITION_PART``), so partitions never share stored outputs.

    Steps of ``plan`` (an op selection of it) take their cut inputs from run config
    values where given, and from the stored upstream versions otherwise.

    Raises:
        MissingVersionError: naming every op without a version.
        UnversionableValueError: an input value has no stable fingerprint.
    """
    job_def = plan.job_def
    strategy = _strategy(job_def)
    needed = {k for step in full_plan.steps.values() for k in step.op_def.required_resource_keys}
    memo: dict[str, Any] = {}  # the strategy's scratch space: shared helpers are read once
    res_versions = resource_versions(resource_defs, config, strategy, needed, memo)
    parts: dict[StepOutput, VersionParts] = {}
    missing: list[str] = []
    config_cache: dict[str, tuple[tuple[str, str], ...]] = {}
    data_versions: dict[AssetKey, str | None] = {}

    def observed(source: SourceAsset) -> str | None:
        """The source's data version, observed once per run."""
        if source.key not in data_versions:
            data_versions[source.key] = source.observe(partition_key)
        return data_versions[source.key]
    for key, full_step in full_plan.steps.items():
        step = plan.steps.get(key, full_step)
        op_config = config.op_config(key)
        op_version, code = _op_version(step, op_config, strategy, memo)
        if op_version is None:
            missing.append(step.op_def.name)
            continue
        if missing and any(_upstream_unversioned(i, parts) for i in step.inputs):
            continue  # an upstream op has no version: reported below, with every such op
        cache_key = canonical(op_config)
        fingerprints = config_cache.get(cache_key)
        if fingerprints is None:
            fingerprints = config_fingerprints(op_config)
            if partition_key is not None:
                fingerprints = (*fingerprints, (PARTITION_PART, fingerprint(partition_key)))
            config_cache[cache_key] = fingerprints
        resources = {k: res_versions[k] for k in step.op_def.required_resource_keys}
        inputs = {
            i.name: _input_version(step, i, config, parts, observed)
            for i in step.inputs
            if not (i.spec.is_nothing and i.upstream is None and i.cut_upstream is None)
        }
        for output_name in step.op_def.outs:
            parts[(key, output_name)] = VersionParts.build(
                op_version=op_version,
                output_name=output_name,
                config=fingerprints,
                resources=resources,
                inputs=inputs,
                code=code,
            )
    if missing:
        raise MissingVersionError.for_ops(job_def.name, sorted(set(missing)))
    return parts


def output_context(
    plan: ExecutionPlan,
    step: Step,
    output_name: str,
    version: str,
    resources: Resources,
    partition_key: str | None = None,
) -> OutputContext:
    """The context an IO manager sees for a versioned step output (asset key included)."""
    layer = plan.job_def.asset_layer
    return OutputContext(
        step_key=step.key,
        name=output_name,
        version=version,
        resources=resources,
        op_def=step.op_def,
        asset_key=layer.asset_key_for(step.key) if layer is not None else None,
        partition_key=partition_key,
    )


def check_memoizable(plan: ExecutionPlan, resources: Resources) -> None:
    """Refuse, naming them, IO managers that cannot say whether an output is stored."""
    offenders: dict[str, list[str]] = {}
    for step in plan.steps.values():
        for name, out in step.op_def.outs.items():
            if not is_memoizable(resources[out.io_manager_key]):
                offenders.setdefault(out.io_manager_key, []).append(f"{step.key}.{name}")
    if offenders:
        key, outputs = next(iter(offenders.items()))
        raise NonMemoizableIOManagerError.build(key, resources[key], outputs)


def stored_steps(
    plan: ExecutionPlan,
    parts: Mapping[StepOutput, VersionParts],
    resources: Resources,
    partition_key: str | None = None,
) -> dict[str, dict[str, str]]:
    """Steps whose every output is stored with its version: step key → {output: version}."""
    check_memoizable(plan, resources)
    stored: dict[str, dict[str, str]] = {}
    for step in plan.steps.values():
        versions: dict[str, str] = {}
        for name, out in step.op_def.outs.items():
            version = parts[(step.key, name)].version
            context = output_context(plan, step, name, version, resources, partition_key)
            if not resources[out.io_manager_key].has_output(context):
                break
            versions[name] = version
        else:
            stored[step.key] = versions
    return stored


def check_cut_inputs_stored(run: RunContext) -> None:
    """Before any step runs: every input an op selection cut off must be stored (or given).

    Raises:
        OutputNotFoundError: naming every upstream output or asset that was never stored.
    """
    missing: list[str] = []
    for step in run.plan.steps.values():
        given = run.config.input_values(step.key)
        for step_input in step.inputs:
            cut = step_input.cut_upstream
            if cut is None or step_input.name in given or not step.loads_cut_inputs:
                continue
            upstream = upstream_output_context(run, *cut)
            manager = run.resources[upstream.op_def.outs[cut[1]].io_manager_key]
            if is_memoizable(manager) and not manager.has_output(upstream):
                what = (
                    f"asset {upstream.asset_key.to_user_string()!r}"
                    if upstream.asset_key is not None
                    else f"output '{cut[0]}.{cut[1]}'"
                )
                missing.append(f"{what}, read by {step.key!r}")
    if missing:
        raise OutputNotFoundError(
            "These upstream values were never stored, so the selected steps cannot read "
            "them:\n" + "\n".join(f"  - {m}" for m in missing) + "\nFix: run (or materialize) "
            "them first, or include them in the selection. Values are found by version: give "
            "the upstream ops the same config as when they were stored."
        )


def manifest_store(
    step: Step, output_name: str, resources: Resources, instance: Instance
) -> ManifestStore:
    """Where the manifest of a step output lives: with its IO manager, else the instance."""
    manager = resources[step.op_def.outs[output_name].io_manager_key]
    return manifest_store_for(manager, instance.manifests)
