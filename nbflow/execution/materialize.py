"""``materialize`` and ``materialize_to_memory``: run a set of assets as one in-process job."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from nbflow.definitions.asset import AssetsDefinition
from nbflow.definitions.asset_job import MATERIALIZE_JOB_NAME, build_asset_job, split_assets
from nbflow.definitions.asset_key import AssetKey
from nbflow.definitions.resource import ResourceDefinition, as_resource_definition
from nbflow.definitions.specs import DEFAULT_IO_MANAGER_KEY, DEFAULT_OUTPUT
from nbflow.errors import InvalidArgumentError, InvalidDefinitionError, did_you_mean
from nbflow.execution.engine.entry_arguments import check_run_arguments, selection_problems
from nbflow.execution.engine.run import execute_in_process
from nbflow.storage.fs import instance_files_io_manager
from nbflow.storage.memory import mem_io_manager

if TYPE_CHECKING:
    from nbflow.definitions.source_asset import SourceAsset
    from nbflow.execution.engine.result import ExecuteInProcessResult
    from nbflow.storage.instance import Instance
    from nbflow.versioning import VersionStrategy

AssetSelection = Iterable[AssetsDefinition | AssetKey | str]


def _io_manager_keys(
    assets: Sequence[AssetsDefinition], sources: Sequence[SourceAsset]
) -> set[str]:
    keys = {a.op.outs[DEFAULT_OUTPUT].io_manager_key for a in assets}
    return keys | {s.io_manager_key for s in sources} | {DEFAULT_IO_MANAGER_KEY}


def _selected_nodes(
    assets: Sequence[AssetsDefinition], selection: AssetSelection | None
) -> list[str] | None:
    if selection is None:
        return None
    by_key = {a.key: a for a in assets}
    nodes: list[str] = []
    problems: list[str] = []
    for item in selection:
        key = (
            item.key
            if isinstance(item, AssetsDefinition)
            else item
            if isinstance(item, AssetKey)
            else AssetKey(item.split("/"))
        )
        if key not in by_key:
            known = [k.to_user_string() for k in by_key]
            problems.append(
                f"{key.to_user_string()!r} is not one of the assets given."
                f"{did_you_mean(key.to_user_string(), known)}"
            )
        else:
            nodes.append(by_key[key].node_name)
    if problems:
        raise InvalidDefinitionError.build("selection", problems)
    return nodes


def _check_arguments(
    entry_point: str,
    assets: object,
    run_config: object,
    instance: object,
    partition_key: object,
    resources: object,
    selection: object,
    tags: object,
    raise_on_error: object,
    run_id: object,
) -> None:
    """Refuse arguments of the wrong type or form before anything is built or run."""
    problems = selection_problems("assets", assets, check_items=False)
    if problems:
        raise InvalidArgumentError.build(entry_point, problems)
    check_run_arguments(
        entry_point,
        run_config=run_config,
        instance=instance,
        partition_key=partition_key,
        resources=resources,
        tags=tags,
        raise_on_error=raise_on_error,
        run_id=run_id,
        asset_selection=("selection", selection),
    )


def _run(
    assets: Iterable[AssetsDefinition | SourceAsset],
    resource_defs: Mapping[str, ResourceDefinition],
    run_config: Mapping[str, Any] | None,
    instance: Instance | None,
    partition_key: str | None,
    selection: AssetSelection | None,
    tags: Mapping[str, Any] | None,
    raise_on_error: bool,
    version_strategy: VersionStrategy | None = None,
    run_id: str | None = None,
) -> ExecuteInProcessResult:
    computed, _ = split_assets(assets)
    job = build_asset_job(
        MATERIALIZE_JOB_NAME,
        assets,
        resource_defs=resource_defs,
        version_strategy=version_strategy,
    )
    return execute_in_process(
        job,
        run_config=run_config,
        instance=instance,
        partition_key=partition_key,
        op_selection=_selected_nodes(computed, selection),
        tags=tags,
        raise_on_error=raise_on_error,
        run_id=run_id,
    )


def materialize(
    assets: Iterable[AssetsDefinition | SourceAsset],
    run_config: Mapping[str, Any] | None = None,
    instance: Instance | None = None,
    partition_key: str | None = None,
    resources: Mapping[str, Any] | None = None,
    selection: AssetSelection | None = None,
    tags: Mapping[str, Any] | None = None,
    raise_on_error: bool = True,
    version_strategy: VersionStrategy | None = None,
    run_id: str | None = None,
) -> ExecuteInProcessResult:
    """Materialize ``assets`` in this process, stored on disk by default.

    Values go to the instance's storage folder, in ``fs_io_manager``'s files, unless
    ``resources`` (or the assets) provide an ``io_manager``; a value pickle cannot store
    serves its own run only (with a warning). With ``selection``, only those
    assets run; the upstream assets they read are loaded from storage.

    Args:
        assets: ``@asset`` definitions, and ``SourceAsset`` objects for data they read.
        run_config: run config (``ops.<asset node>.config`` etc.).
        instance: where the run and its events are kept; ephemeral by default.
        partition_key: the partition to materialize, for partitioned assets.
        resources: resources by key, as definitions or plain objects.
        selection: the assets to run (``AssetsDefinition``, ``AssetKey`` or ``"a/b"``).
        tags: run tags (``MEMOIZED_RUN_TAG`` switches memoization).
        raise_on_error: re-raise the first op error instead of returning a failed result.
        version_strategy: versions assets without a ``code_version`` (e.g.
            ``SourceHashVersionStrategy()``) and turns memoization on: assets whose stored
            outputs have the same version are not run again.
        run_id: the id of the run (a new one by default); see
            ``Instance.add_event_listener`` to watch its events.
    """
    _check_arguments(
        "materialize",
        assets,
        run_config,
        instance,
        partition_key,
        resources,
        selection,
        tags,
        raise_on_error,
        run_id,
    )
    given = {k: as_resource_definition(v) for k, v in (resources or {}).items()}
    defaults: dict[str, ResourceDefinition] = {}
    computed, _ = split_assets(assets)
    if DEFAULT_IO_MANAGER_KEY not in given and all(
        DEFAULT_IO_MANAGER_KEY not in a.resource_defs for a in computed
    ):
        defaults[DEFAULT_IO_MANAGER_KEY] = instance_files_io_manager
    return _run(
        assets,
        {**defaults, **given},
        run_config,
        instance,
        partition_key,
        selection,
        tags,
        raise_on_error,
        version_strategy,
        run_id,
    )


def materialize_to_memory(
    assets: Iterable[AssetsDefinition | SourceAsset],
    run_config: Mapping[str, Any] | None = None,
    instance: Instance | None = None,
    resources: Mapping[str, Any] | None = None,
    partition_key: str | None = None,
    selection: AssetSelection | None = None,
    tags: Mapping[str, Any] | None = None,
    raise_on_error: bool = True,
    version_strategy: VersionStrategy | None = None,
    run_id: str | None = None,
) -> ExecuteInProcessResult:
    """Materialize ``assets`` in this process with every value kept in memory.

    Every IO manager key the assets use is served by the in-memory IO manager, so
    providing a resource for one of those keys is refused. Resources may be plain
    objects or resource definitions; a resource that conflicts with one defined on an
    asset is an error naming both. Repeated calls in one process reuse memoized values
    when the assets are versioned (``code_version``, or ``version_strategy`` such as
    ``SourceHashVersionStrategy()``: then editing one asset's cell and calling again runs
    that asset and what is downstream of it only). ``run_id`` names the run (see
    ``Instance.add_event_listener`` to watch its events); a new id by default.
    """
    _check_arguments(
        "materialize_to_memory",
        assets,
        run_config,
        instance,
        partition_key,
        resources,
        selection,
        tags,
        raise_on_error,
        run_id,
    )
    computed, sources = split_assets(assets)
    io_keys = _io_manager_keys(computed, sources)
    refused = sorted(k for k in (resources or {}) if k in io_keys)
    if refused:
        raise InvalidDefinitionError(
            f"materialize_to_memory got resources for IO manager keys {refused}, but every IO "
            "manager is replaced by the in-memory one here. Fix: drop them, or call "
            "materialize(...) to use your IO managers."
        )
    given = {k: as_resource_definition(v) for k, v in (resources or {}).items()}
    memory = dict.fromkeys(io_keys, mem_io_manager)
    stripped = [_without_io_managers(a, io_keys) for a in computed]
    return _run(
        [*stripped, *sources],
        {**given, **memory},
        run_config,
        instance,
        partition_key,
        selection,
        tags,
        raise_on_error,
        version_strategy,
        run_id,
    )


def _without_io_managers(item: AssetsDefinition, io_keys: set[str]) -> AssetsDefinition:
    if not io_keys & set(item.resource_defs):
        return item
    return AssetsDefinition(
        key=item.key,
        op=item.op,
        keys_by_input_name=item.keys_by_input_name,
        partitions_def=item.partitions_def,
        group_name=item.group_name,
        resource_defs={k: v for k, v in item.resource_defs.items() if k not in io_keys},
        metadata=item.metadata,
    )
