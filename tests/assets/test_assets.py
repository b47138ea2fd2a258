"""Assets: @asset, materialize and materialize_to_memory (seed 003), partitions, selection."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from nbflow import (
    MEMOIZED_RUN_TAG,
    AssetIn,
    AssetKey,
    AssetMaterialization,
    DailyPartitionsDefinition,
    EventType,
    ExecuteInProcessResult,
    Field,
    Instance,
    IOManager,
    SourceAsset,
    StaticPartitionsDefinition,
    asset,
    define_asset_job,
    io_manager,
    materialize,
    materialize_to_memory,
    resource,
)
from nbflow.errors import (
    DefinitionError,
    InvalidDefinitionError,
    OutputNotFoundError,
    PartitionKeyError,
)
from nbflow.storage import clear_memoized_values


@pytest.fixture(autouse=True)
def _fresh_memory() -> None:
    clear_memoized_values()


def chain_assets(call_log: list[str], version: str | None = None) -> list[Any]:
    @asset(code_version=version)
    def raw() -> list[int]:
        call_log.append("raw")
        return [1, 2, 3]

    @asset(code_version=version, config_schema={"k": Field(int, default_value=2)})
    def scaled(context, raw: list[int]) -> list[int]:
        call_log.append("scaled")
        return [x * context.op_config["k"] for x in raw]

    @asset(code_version=version)
    def total(scaled: list[int]) -> int:
        call_log.append("total")
        return sum(scaled)

    return [raw, scaled, total]


# --- seed 003: materialize -------------------------------------------------------------------


def test_materialize_runs_in_process_and_stores_to_the_filesystem_by_default(
    call_log: list[str], tmp_path: Path
) -> None:
    instance = Instance.ephemeral()
    result = materialize(chain_assets(call_log), instance=instance)

    assert isinstance(result, ExecuteInProcessResult)
    assert result.success
    assert result.asset_value("total") == 12
    assert {e.pid for e in result.all_events} == {os.getpid()}
    stored = Path(instance.storage_dir)
    assert sorted(p.name for p in stored.iterdir()) == ["raw", "scaled", "total"]


def test_materialize_uses_run_config(call_log: list[str]) -> None:
    result = materialize(
        chain_assets(call_log), run_config={"ops": {"scaled": {"config": {"k": 10}}}}
    )
    assert result.asset_value("total") == 60


def test_materialize_fills_dependencies_from_source_assets(tmp_path: Path) -> None:
    class DictIOManager(IOManager):
        def __init__(self, values: dict[str, Any]) -> None:
            self.values = values

        def handle_output(self, context, obj):  # type: ignore[no-untyped-def]
            self.values[context.asset_key.to_user_string()] = obj

        def load_input(self, context):  # type: ignore[no-untyped-def]
            return self.values[context.upstream_output.asset_key.to_user_string()]

    store = {"warehouse/orders": [5, 7]}

    @io_manager
    def dict_io(_init):  # type: ignore[no-untyped-def]
        return DictIOManager(store)

    @asset(ins={"orders": AssetIn(key=["warehouse", "orders"])})
    def order_total(orders: list[int]) -> int:
        return sum(orders)

    result = materialize(
        [SourceAsset(["warehouse", "orders"]), order_total], resources={"io_manager": dict_io}
    )
    assert result.asset_value("order_total") == 12
    assert store["order_total"] == 12


def test_materialize_selection_loads_upstream_assets_from_storage(call_log: list[str]) -> None:
    assets = chain_assets(call_log)
    instance = Instance.ephemeral()
    materialize(assets, instance=instance)
    call_log.clear()

    result = materialize(assets, instance=instance, selection=[assets[2]])

    assert call_log == ["total"]
    assert result.asset_value("total") == 12


def test_selection_names_every_upstream_that_was_never_materialized(call_log: list[str]) -> None:
    assets = chain_assets(call_log)
    with pytest.raises(OutputNotFoundError, match="asset 'scaled', read by 'total'"):
        materialize(assets, selection=["total"])
    assert call_log == []


def test_unknown_selection_suggests_close_names(call_log: list[str]) -> None:
    with pytest.raises(
        InvalidDefinitionError,
        match=r"'totl' is not one of the assets given\. Did you mean 'total'",
    ):
        materialize(chain_assets(call_log), selection=["totl"])


def test_asset_materialization_events_carry_metadata() -> None:
    @asset
    def counted(context) -> list[int]:
        context.add_output_metadata({"rows": 3})
        return [1, 2, 3]

    result = materialize_to_memory([counted])
    [event] = result.filter_events(EventType.ASSET_MATERIALIZATION)
    assert isinstance(event.data, AssetMaterialization)
    assert event.data.asset_key == AssetKey("counted")
    assert event.data.metadata == {"rows": 3}
    assert result.asset_materializations_for_node("counted")[0].metadata == {"rows": 3}


# --- seed 003: materialize_to_memory --------------------------------------------------------


def test_materialize_to_memory_keeps_values_in_memory(call_log: list[str], tmp_path: Path) -> None:
    instance = Instance.ephemeral()
    result = materialize_to_memory(chain_assets(call_log), instance=instance)
    assert result.asset_value("scaled") == [2, 4, 6]
    assert result.asset_value(AssetKey("total")) == 12
    assert result.output_for_node("raw") == [1, 2, 3]
    assert not Path(instance.storage_dir).exists()


def test_materialize_to_memory_accepts_plain_objects_and_definitions_as_resources() -> None:
    @resource(config_schema={"base": int})
    def offset(init_context):  # type: ignore[no-untyped-def]
        return init_context.resource_config["base"]

    @asset(required_resource_keys={"factor", "offset"})
    def computed(context) -> int:
        return context.resources.factor * 10 + context.resources.offset

    result = materialize_to_memory(
        [computed],
        resources={"factor": 4, "offset": offset},
        run_config={"resources": {"offset": {"config": {"base": 2}}}},
    )
    assert result.asset_value("computed") == 42


def test_materialize_to_memory_refuses_resources_for_io_manager_keys(call_log: list[str]) -> None:
    with pytest.raises(InvalidDefinitionError, match=r"IO manager keys \['io_manager'\]"):
        materialize_to_memory(chain_assets(call_log), resources={"io_manager": object()})


def test_a_resource_conflicting_with_an_asset_resource_names_both() -> None:
    @asset(resource_defs={"db": resource(lambda _: "asset db")}, required_resource_keys={"db"})
    def uses_db(context) -> str:
        return str(context.resources.db)

    with pytest.raises(
        InvalidDefinitionError,
        match="resource 'db' is given to the run and also defined on asset 'uses_db'",
    ):
        materialize_to_memory([uses_db], resources={"db": "run db"})
    assert materialize_to_memory([uses_db]).asset_value("uses_db") == "asset db"


# --- definitions -----------------------------------------------------------------------------


def test_keys_prefixes_ins_and_deps(call_log: list[str]) -> None:
    @asset(key_prefix=["lake"])
    def events() -> list[str]:
        call_log.append("events")
        return ["a", "b"]

    @asset(name="count", key_prefix="lake", ins={"events": AssetIn(key_prefix="lake")})
    def count_events(events: list[str]) -> int:
        call_log.append("count")
        return len(events)

    @asset(deps=[count_events])
    def announce() -> str:
        call_log.append("announce")
        return "done"

    assert events.key == AssetKey(["lake", "events"])
    assert count_events.key == AssetKey(["lake", "count"])
    result = materialize_to_memory([announce, count_events, events])
    assert result.asset_value(["lake", "count"]) == 2
    assert call_log.index("announce") > call_log.index("count")


def test_group_metadata_description_and_code_version() -> None:
    @asset(group_name="finance", metadata={"owner": "ana"}, code_version="3")
    def ledger() -> int:
        """The general ledger."""
        return 1

    assert ledger.group_name == "finance"
    assert ledger.metadata == {"owner": "ana"}
    assert ledger.description == "The general ledger."
    assert ledger.code_version == "3"


def test_an_asset_reading_an_unknown_asset_is_a_definition_error() -> None:
    @asset
    def orphan(missing: int) -> int:
        return missing

    with pytest.raises(
        InvalidDefinitionError,
        match="reads 'missing', which is neither an asset nor a source asset",
    ):
        materialize_to_memory([orphan])


@pytest.mark.parametrize(
    "key",
    [["..", "etc"], ["a", "b/c"], ["/abs"], ["."], ["x\\y"]],
    ids=["dotdot", "slash", "absolute", "dot", "backslash"],
)
def test_asset_keys_can_never_escape_the_storage_folder(key: list[str], tmp_path: Path) -> None:
    with pytest.raises(DefinitionError, match="could name a place outside the storage folder"):
        AssetKey(key)
    assert list(tmp_path.iterdir()) == []


def test_define_asset_job_runs_its_selection(call_log: list[str]) -> None:
    job = define_asset_job("nightly", selection=chain_assets(call_log))
    result = job.execute_in_process()
    assert result.asset_value("total") == 12
    assert call_log == ["raw", "scaled", "total"]


# --- partitions ------------------------------------------------------------------------------


def test_static_partitions_give_the_partition_key() -> None:
    regions = StaticPartitionsDefinition(["eu", "us"])

    @asset(partitions_def=regions)
    def sales(context) -> str:
        return f"sales-{context.partition_key}"

    assert materialize_to_memory([sales], partition_key="us").asset_value("sales") == "sales-us"
    with pytest.raises(
        PartitionKeyError, match=r"Unknown partition key 'asia'.*Valid keys: 'eu', 'us'"
    ):
        materialize_to_memory([sales], partition_key="asia")


def test_daily_partitions_give_the_time_window() -> None:
    days = DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-01-31")

    @asset(partitions_def=days)
    def daily(context) -> tuple[str, int, int]:
        window = context.partition_time_window
        return context.partition_key, window.start.day, window.end.day

    result = materialize_to_memory([daily], partition_key="2024-01-07")
    assert result.asset_value("daily") == ("2024-01-07", 7, 8)
    with pytest.raises(PartitionKeyError, match=r"Valid keys: 2024-01-01 … 2024-01-30 \(30 days"):
        materialize_to_memory([daily], partition_key="2024-02-01")


def test_partitioned_assets_are_stored_per_partition(tmp_path: Path) -> None:
    regions = StaticPartitionsDefinition(["eu", "us"])

    @asset(partitions_def=regions)
    def sales(context) -> str:
        return context.partition_key

    instance = Instance.ephemeral()
    for key in ("eu", "us"):
        materialize([sales], instance=instance, partition_key=key)
    stored = Path(instance.storage_dir) / "sales"
    assert sorted(p.name for p in stored.iterdir()) == ["eu", "us"]


# --- versioning applies to assets ----------------------------------------------------------


def test_second_materialize_to_memory_reruns_only_changed_assets_and_downstream(
    call_log: list[str],
) -> None:
    assets = chain_assets(call_log, version="1")
    tags = {MEMOIZED_RUN_TAG: "true"}
    materialize_to_memory(assets, tags=tags)
    assert call_log == ["raw", "scaled", "total"]

    call_log.clear()
    again = materialize_to_memory(assets, tags=tags)
    assert call_log == []
    assert again.asset_value("total") == 12  # loaded from the memoized store

    call_log.clear()
    changed = materialize_to_memory(
        assets, tags=tags, run_config={"ops": {"scaled": {"config": {"k": 3}}}}
    )
    assert call_log == ["scaled", "total"]
    assert changed.asset_value("total") == 18


def test_memoized_partitions_do_not_share_values(call_log: list[str]) -> None:
    regions = StaticPartitionsDefinition(["eu", "us"])

    @asset(partitions_def=regions, code_version="1")
    def sales(context) -> str:
        call_log.append(context.partition_key)
        return context.partition_key

    tags = {MEMOIZED_RUN_TAG: "true"}
    assert (
        materialize_to_memory([sales], partition_key="eu", tags=tags).asset_value("sales") == "eu"
    )
    assert (
        materialize_to_memory([sales], partition_key="us", tags=tags).asset_value("sales") == "us"
    )
    assert (
        materialize_to_memory([sales], partition_key="eu", tags=tags).asset_value("sales") == "eu"
    )
    assert call_log == ["eu", "us"]


def test_io_manager_key_picks_the_io_manager_that_stores_the_asset() -> None:
    stored: dict[str, Any] = {}

    class Recording(IOManager):
        def handle_output(self, context, obj):  # type: ignore[no-untyped-def]
            stored[context.asset_key.to_user_string()] = obj

        def load_input(self, context):  # type: ignore[no-untyped-def]
            return stored[context.upstream_output.asset_key.to_user_string()]

    @io_manager
    def recording(_init):  # type: ignore[no-untyped-def]
        return Recording()

    @asset(io_manager_key="warehouse")
    def kept() -> int:
        return 7

    @asset
    def doubled(kept: int) -> int:
        return kept * 2

    result = materialize([kept, doubled], resources={"warehouse": recording})
    assert stored == {"kept": 7}
    assert result.asset_value("doubled") == 14


def test_daily_time_windows_are_timezone_aware_in_utc_by_default() -> None:
    import datetime as dt
    import zoneinfo

    utc = DailyPartitionsDefinition(start_date="2024-03-30", end_date="2024-04-02")
    window = utc.time_window_for("2024-03-31")
    assert window.start == dt.datetime(2024, 3, 31, tzinfo=dt.UTC)
    assert window.end - window.start == dt.timedelta(days=1)

    paris = DailyPartitionsDefinition("2024-03-30", "2024-04-02", timezone="Europe/Paris")
    window = paris.time_window_for("2024-03-31")  # the day clocks go forward: 23 hours
    assert window.start.tzinfo == zoneinfo.ZoneInfo("Europe/Paris")
    assert window.end.astimezone(dt.UTC) - window.start.astimezone(dt.UTC) == dt.timedelta(hours=23)

    with pytest.raises(DefinitionError, match="is not a known time zone"):
        DailyPartitionsDefinition("2024-01-01", "2024-01-02", timezone="Mars/Olympus")


def test_an_input_of_a_prefixed_asset_reads_the_asset_of_that_name_under_its_prefix() -> None:
    @asset(key_prefix=["shop"])
    def orders() -> list[int]:
        return [3, 5]

    @asset(key_prefix=["shop"])
    def revenue(orders: list[int]) -> int:
        return sum(orders)

    result = materialize_to_memory([orders, revenue])

    assert result.asset_value(["shop", "revenue"]) == 8


def test_an_unprefixed_asset_of_that_name_wins_over_the_prefixed_one() -> None:
    @asset(key_prefix=["shop"], name="orders")
    def shop_orders() -> list[int]:
        return [3, 5]

    @asset
    def orders() -> list[int]:
        return [100]

    @asset(key_prefix=["shop"])
    def revenue(orders: list[int]) -> int:
        return sum(orders)

    result = materialize_to_memory([shop_orders, orders, revenue])

    assert result.asset_value(["shop", "revenue"]) == 100
