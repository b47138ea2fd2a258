"""Memoized execution: a version for every step output, and the steps already stored.

Versions are computed in topological order before anything runs (ARCHITECTURE §3):
step output version = H(op version, resolved op config, required resource versions,
input versions, output name). Deliberately left out of versions: tags, retry policies,
the executor, the IO manager chosen, hooks, and node aliases beyond the step key.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from nbflow.definitions.dynamic import out_spec
from nbflow.definitions.io_manager import is_memoizable
from nbflow.definitions.resource_keys import op_input_manager_keys
from nbflow.definitions.specs import NO_VALUE
from nbflow.errors import (
    InvalidDefinitionError,
    MissingVersionError,
    NonMemoizableIOManagerError,
    OutputNotFoundError,
    UnversionableValueError,
    UnversionedInputError,
)
from nbflow.execution.engine.given_values import GivenValueFingerprints
from nbflow.execution.engine.io_contexts import IOScope
from nbflow.execution.engine.resources import resource_order
from nbflow.execution.engine.run_config import unwrap_input_value
from nbflow.execution.engine.stored_outputs import stored_versions
from nbflow.storage.manifests import (
    VALUE_FINGERPRINT_KEY,
    manifest_of_version,
    manifest_store_for,
)
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
    from nbflow.execution.engine.plan import ExecutionPlan, Step, StepInput
    from nbflow.execution.engine.resources import Resources
    from nbflow.execution.engine.run_config import ResolvedRunConfig
    from nbflow.execution.engine.run_context import RunContext
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
    fingerprint_of: Callable[[object], str] = fingerprint,
) -> dict[str, str | None]:
    """Versions of ``keys`` and what they depend on; ``None`` for unversioned resources.

    A resource's version covers its own version, its config and the versions of the
    resources it needs; it is ``None`` when any of those has none. A resource that is a fixed
    value and has no version of its own is versioned by ``fingerprint_of`` its value.
    ``memo`` is the strategy's scratch space for this computation (shared with the ops'
    contexts).
    """
    memo = {} if memo is None else memo
    versions: dict[str, str | None] = {}
    for key in resource_order(resource_defs, keys):
        definition = resource_defs[key]
        resource_config = config.resource_config(key)
        own = definition.version
        if own is None and definition.fixed_value is not NO_VALUE:
            try:
                own = fingerprint_of(definition.fixed_value)
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


def fixed_value_keys(resource_defs: Mapping[str, ResourceDefinition], keys: set[str]) -> set[str]:
    """Those of ``keys`` whose version comes from a value given as the resource (it has no
    version of its own), or from a resource they need that is such a key."""
    found: set[str] = set()
    for key in resource_order(resource_defs, keys):
        definition = resource_defs[key]
        if (
            definition.version is None and definition.fixed_value is not NO_VALUE
        ) or not found.isdisjoint(definition.required_resource_keys):
            found.add(key)
    return found


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
    data_of: Callable[[StepOutput, str], str | None],
    given_fingerprint: Callable[[object], str],
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
    if step_input.fan_in or step_input.collects is not None:
        return _fan_in_version(step_input.fan_in, parts, data_of)
    if upstream is None:
        given = config.input_values(step.key)
        name = step_input.name
        if step_input.value is not NO_VALUE:
            return VALUE_SOURCE, _fingerprint(step, name, step_input.value, given_fingerprint)
        if name in given:
            value = unwrap_input_value(given[name])
            return VALUE_SOURCE, _fingerprint(step, name, value, given_fingerprint)
        upstream = step_input.cut_upstream
        if upstream is None:
            default = step_input.spec.default_value
            return VALUE_SOURCE, _fingerprint(step, name, default, given_fingerprint)
    version = parts[upstream].version
    return f"{upstream[0]}.{upstream[1]}", data_of(upstream, version) or version


def _fan_in_version(
    handles: tuple[StepOutput, ...],
    parts: Mapping[StepOutput, VersionParts],
    data_of: Callable[[StepOutput, str], str | None],
) -> tuple[str, str]:
    """A fan-in input's source and version: the upstream versions combined in order."""
    versions = [data_of(up, parts[up].version) or parts[up].version for up in handles]
    source = ", ".join(f"{up[0]}.{up[1]}" for up in handles)
    return source, hash_parts("nbflow.fan_in.v1", *versions)[:40]


def _upstream_unversioned(step_input: StepInput, parts: Mapping[StepOutput, VersionParts]) -> bool:
    if step_input.fan_in:
        return any(up not in parts for up in step_input.fan_in)
    upstream = step_input.upstream or step_input.cut_upstream
    return upstream is not None and upstream not in parts


def _fingerprint(
    step: Step, input_name: str, value: Any, given_fingerprint: Callable[[object], str]
) -> str:
    try:
        return given_fingerprint(value)
    except UnversionableValueError as exc:
        raise UnversionableValueError(f"Input {step.key}.{input_name}: {exc}") from exc


def _no_data(upstream: StepOutput, version: str) -> str | None:
    return None


class Versioner:
    """Computes the version parts of step outputs for one run (see :func:`compute_versions`).

    An input read from an upstream output is versioned by the fingerprint of the upstream's
    value when one is known (``data_of``), else by the upstream output's version: so a step
    whose upstream re-ran but produced an equal value keeps its version (early cutoff).
    """

    def __init__(
        self,
        plan: ExecutionPlan,
        full_plan: ExecutionPlan,
        config: ResolvedRunConfig,
        resource_defs: Mapping[str, ResourceDefinition],
        partition_key: str | None = None,
    ) -> None:
        self._plan = plan
        self._full_plan = full_plan
        self._config = config
        self._partition_key = partition_key
        self._strategy = _strategy(plan.job_def)
        needed = {
            k
            for step in full_plan.steps.values()
            for k in step.op_def.required_resource_keys | op_input_manager_keys(step.op_def)
        }
        self._memo: dict[str, Any] = {}  # the strategy's scratch: shared helpers read once
        self.given_values = GivenValueFingerprints()
        self._version_resources = functools.partial(
            resource_versions, resource_defs, config, self._strategy, memo=self._memo,
            fingerprint_of=self.given_values.of,
        )  # fmt: skip
        self._resources = self._version_resources(needed)
        # resources versioned by a value given as the resource, which a step's op may change
        # in place like any given value: only they are versioned again (for the steps reading
        # them) once code ran since (see given_values)
        self._fixed = fixed_value_keys(resource_defs, needed)
        self._resources_taken = self.given_values.code_runs
        self._op_versions: dict[str, tuple[str | None, CodeRecord | None]] = {}
        self._config_cache: dict[str, tuple[tuple[str, str], ...]] = {}
        self._data_versions: dict[AssetKey, str | None] = {}
        # step key -> given_values.code_runs when its given values were fingerprinted
        self._given_taken: dict[str, int] = {}
        # step key -> (input and resource versions, parts) last built: versioning a step again
        # with the same ones (before the run and as it starts, or re-versioning) builds nothing
        self._built: dict[
            str,
            tuple[
                tuple[dict[str, tuple[str, str]], dict[str, str | None]],
                dict[StepOutput, VersionParts],
            ],
        ] = {}

    def compute(
        self, data_of: Callable[[StepOutput, str], str | None] = _no_data
    ) -> dict[StepOutput, VersionParts]:
        """The version parts of every step output of the job (without op selection).

        Raises:
            MissingVersionError: naming every op without a version.
            UnversionableValueError: an input value has no stable fingerprint.
        """
        parts: dict[StepOutput, VersionParts] = {}
        missing: list[str] = []
        for key, full_step in self._full_plan.steps.items():
            step = self._plan.steps.get(key, full_step)
            if self._op_version(step)[0] is None:
                missing.append(step.op_def.name)
                continue
            if missing and any(_upstream_unversioned(i, parts) for i in step.inputs):
                continue  # an upstream op has no version: reported below, with every such op
            parts.update(self.step_parts(step, parts, data_of))
        if missing:
            raise MissingVersionError.for_ops(self._plan.job_def.name, sorted(set(missing)))
        return parts

    def step_parts(
        self,
        step: Step,
        parts: Mapping[StepOutput, VersionParts],
        data_of: Callable[[StepOutput, str], str | None],
    ) -> dict[StepOutput, VersionParts]:
        """The version parts of ``step``'s outputs, given those of every upstream output."""
        op_version, code = self._op_version(step)
        assert op_version is not None, "compute() reports ops without a version"
        given = self.given_values
        required = step.op_def.required_resource_keys
        reads_fixed = not self._fixed.isdisjoint(required)
        if reads_fixed and self._resources_taken != given.code_runs:
            self._resources.update(self._version_resources(self._fixed))
            self._resources_taken = given.code_runs
        resources = {k: self._resources[k] for k in required}
        inputs = {
            i.name: self._managed_input_version(step, i)
            or _input_version(step, i, self._config, parts, self._observed, data_of, given.of)
            for i in step.inputs
            if not (i.spec.is_nothing and not i.upstreams and i.cut_upstream is None)
        }
        if reads_fixed or any(source == VALUE_SOURCE for source, _ in inputs.values()):
            self._given_taken[step.key] = given.code_runs
        known = self._built.get(step.key)
        if known is not None and known[0] == (inputs, resources):
            return dict(known[1])  # the same parts (the rest is fixed per run)
        config = self._config_fingerprints(step.key)
        built = {
            (step.key, output_name): VersionParts.build(
                op_version=op_version,
                output_name=output_name,
                config=config,
                resources=resources,
                inputs=inputs,
                code=code,
            )
            for output_name in step.op_def.outs
        }
        self._built[step.key] = ((inputs, resources), built)
        return dict(built)

    def given_values_may_have_changed(self, step: Step) -> bool:
        """Whether ``step`` reads given values and code that may change them (a step, a
        user's resource) ran since they were fingerprinted for it."""
        taken = self._given_taken.get(step.key)
        return taken is not None and taken != self.given_values.code_runs

    def _managed_input_version(self, step: Step, step_input: StepInput) -> tuple[str, str] | None:
        """The version of a root input an input manager supplies (``None``: not such an input).

        Raises:
            UnversionedInputError: the input manager has no version.
        """
        key = step_input.spec.input_manager_key
        if key is None or step_input.upstream is not None or step_input.cut_upstream is not None:
            return None
        if step_input.value is not NO_VALUE or step_input.name in self._config.input_values(
            step.key
        ):
            return None
        version = self._resources.get(key)
        if version is None:
            raise UnversionedInputError.build(step.key, step_input.name, key)
        return f"input manager {key!r}", version

    def _op_version(self, step: Step) -> tuple[str | None, CodeRecord | None]:
        if step.key not in self._op_versions:
            op_config = self._config.op_config(step.key)
            found = _op_version(step, op_config, self._strategy, self._memo)
            self._op_versions[step.key] = found
        return self._op_versions[step.key]

    def _config_fingerprints(self, step_key: str) -> tuple[tuple[str, str], ...]:
        op_config = self._config.op_config(step_key)
        cache_key = canonical(op_config)
        fingerprints = self._config_cache.get(cache_key)
        if fingerprints is None:
            fingerprints = config_fingerprints(op_config)
            if self._partition_key is not None:
                partition = fingerprint(self._partition_key)
                fingerprints = (*fingerprints, (PARTITION_PART, partition))
            self._config_cache[cache_key] = fingerprints
        return fingerprints

    def _observed(self, source: SourceAsset) -> str | None:
        """The source's data version, observed once per run."""
        if source.key not in self._data_versions:
            self._data_versions[source.key] = source.observe(self._partition_key)
        return self._data_versions[source.key]


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
    values where given, and from the stored upstream versions otherwise. Inputs from
    upstream outputs are versioned by the upstream versions here; :class:`Versioner` can
    use the fingerprints of stored values instead.

    Raises:
        MissingVersionError: naming every op without a version.
        UnversionableValueError: an input value has no stable fingerprint.
    """
    return Versioner(plan, full_plan, config, resource_defs, partition_key).compute()


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


def stored_steps(scope: IOScope, versions: Mapping[StepOutput, str]) -> dict[str, dict[str, str]]:
    """Steps of ``scope.plan`` whose every output is stored at its version in ``versions``:
    step key → {output: version}."""
    check_memoizable(scope.plan, scope.resources)
    stored: dict[str, dict[str, str]] = {}
    for step in scope.plan.steps.values():
        wanted = {name: versions[(step.key, name)] for name in step.op_def.outs}
        found = stored_versions(scope, step.key, wanted)
        if found is not None:
            stored[step.key] = found
    return stored


def check_cut_inputs_stored(run: RunContext) -> None:
    """Before any step runs: every input an op selection cut off must be stored (or given).

    Raises:
        OutputNotFoundError: naming every upstream output or asset that was never stored.
    """
    missing: list[str] = []
    scope = IOScope.of_run(run)
    for step in run.plan.steps.values():
        given = run.config.input_values(step.key)
        for step_input in step.inputs:
            cut = step_input.cut_upstream
            if cut is None or step_input.name in given or not step.loads_cut_inputs:
                continue
            upstream = scope.output(*cut, run.versions.get(cut))
            manager = scope.io_manager(*cut)
            if is_memoizable(manager) and not manager.has_output(upstream):
                what = (
                    f"asset {upstream.asset_key.to_user_string()!r}"
                    if upstream.asset_key is not None
                    else f"output '{cut[0]}.{cut[1]}'"
                )
                source = run.plan.source_run_ids.get(cut[0])
                stored_by = f" (output of run {source!r})" if source else ""
                missing.append(f"{what}{stored_by}, read by {step.key!r}")
    if missing and run.plan.source_run_ids:
        raise OutputNotFoundError(
            "These outputs of the re-executed run are not stored, so the selected steps "
            "cannot read them:\n" + "\n".join(f"  - {m}" for m in missing) + "\nFix: "
            "re-execute runs whose IO managers keep outputs (execute_job stores them in files "
            "by default; execute_in_process keeps them in memory), or include those steps."
        )
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
    return manifest_store_for(manager, instance.manifests, step.op_def)


def stored_value_fingerprints(
    plan: ExecutionPlan, resources: Resources, instance: Instance
) -> Callable[[StepOutput, str], str | None]:
    """Looks up the value fingerprint recorded in the manifest of a stored output version."""
    found: dict[tuple[StepOutput, str], str | None] = {}

    def data_of(output: StepOutput, version: str) -> str | None:
        if (output, version) not in found:
            step_key, name = output
            op_def = plan.op_def_for(step_key)
            manager = resources[out_spec(op_def, name).io_manager_key]
            store = manifest_store_for(manager, instance.manifests, op_def)
            manifest = manifest_of_version(store, step_key, name, version)
            value = None if manifest is None else manifest.get(VALUE_FINGERPRINT_KEY)
            found[(output, version)] = value if isinstance(value, str) else None
        return found[(output, version)]

    return data_of


class RunVersions:
    """The versions of one memoized run, revised as steps produce values (early cutoff).

    Before the run, inputs are versioned by the value fingerprints recorded with stored
    upstream outputs. When an upstream step runs, its consumers are versioned again from the
    fingerprints of the values it just produced: if those equal the stored ones, the
    consumers' versions do not change and they stay memoized.
    """

    def __init__(
        self, versioner: Versioner, stored: Callable[[StepOutput, str], str | None]
    ) -> None:
        self._versioner = versioner
        self._stored = stored
        self.produced: dict[StepOutput, str | None] = {}  # output → its value's fingerprint
        self._revised: set[StepOutput] = set()  # outputs whose version changed during the run

    def initial(self) -> dict[StepOutput, VersionParts]:
        """Every output's version parts, inputs versioned by stored value fingerprints."""
        return self._versioner.compute(self._stored)

    def code_ran(self) -> None:
        """Code that may change values given to the run ran (a step started, a user's
        resource was built)."""
        self._versioner.given_values.code_ran()

    def _data_of(self, output: StepOutput, version: str) -> str | None:
        if output in self.produced:
            return self.produced[output]
        return self._stored(output, version)

    def revise(self, run: RunContext, step: Step) -> str | None:
        """Re-version ``step`` if an upstream output was produced (or re-versioned) in this
        run, or if it reads values given to the run and a step started since they were
        fingerprinted (its op may have changed them in place), and settle whether it is
        memoized; returns the note a memoized step's skip event carries, if any."""
        upstream = {up for i in step.inputs for up in i.upstreams}
        pending = step.key in run.pending_versions
        only_given = not pending and not any(
            up in self.produced or up in self._revised for up in upstream
        )
        if only_given and not self._versioner.given_values_may_have_changed(step):
            return None
        revised = self._versioner.step_parts(step, run.version_parts, self._data_of)
        changed = {k for k, p in revised.items() if p.version != run.versions.get(k)}
        if only_given and not changed:
            return None  # the given values are as they were: what is stored is settled
        self._revised.update(changed)
        run.set_version_parts(revised)
        wanted = {name: parts.version for (_, name), parts in revised.items()}
        versions = stored_versions(IOScope.of_run(run), step.key, wanted)
        if versions is None:
            run.memoized.pop(step.key, None)
            return None
        run.memoized[step.key] = versions
        reran = sorted({output[0] for output in upstream if output in self.produced})
        if not reran:
            return None
        names = ", ".join(repr(key) for key in reran)
        unchanged = "its value is" if len(reran) == 1 else "their values are"
        return f"upstream {names} re-ran; {unchanged} unchanged"
