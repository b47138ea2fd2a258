"""Memoized execution: what runs again, what is reused, and how the run says so.

Every behaviour is proven with a call log (redun-style, STYLE §2.9): the op bodies append
their names, so a test sees exactly which steps ran. Versioned in-memory values live for
the whole process, so each test starts from ``clear_memoized_values()``.
"""

from __future__ import annotations

import importlib
import linecache
import pickle
from typing import TYPE_CHECKING, Any

import pytest

from nbflow import (
    MEMOIZED_RUN_TAG,
    EventType,
    Field,
    InputContext,
    Instance,
    IOManager,
    JobDefinition,
    MemoizableIOManager,
    OpVersionContext,
    OutputContext,
    ResourceDefinition,
    ResourceVersionContext,
    SourceHashVersionStrategy,
    StaticPartitionsDefinition,
    VersionStrategy,
    graph,
    io_manager,
    job,
    list_versions,
    op,
    resource,
    versioned_filesystem_io_manager,
)
from nbflow.errors import (
    InvalidDefinitionError,
    InvalidVersionError,
    MissingVersionError,
    NonMemoizableIOManagerError,
    UnversionableValueError,
)
from nbflow.events import StepSkippedData
from nbflow.storage import clear_memoized_values

seed_002: Any = importlib.import_module("seed_002")

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

MEMOIZED = {MEMOIZED_RUN_TAG: "true"}
ALL_FOUR = ["source", "middle", "sink", "independent"]


@pytest.fixture(autouse=True)
def fresh_memo() -> Iterator[None]:
    """Forget versioned in-memory values before and after each test."""
    clear_memoized_values()
    yield
    clear_memoized_values()


def run_and_take(
    job_def: JobDefinition, call_log: list[str], **kwargs: Any
) -> tuple[list[str], Any]:
    """Run ``job_def`` and return (the op bodies that ran, the result); empties the log."""
    result = job_def.execute_in_process(**kwargs)
    assert result.success
    ran = list(call_log)
    call_log.clear()
    return ran, result


def skipped_steps(result: Any) -> dict[str, StepSkippedData]:
    return {e.step_key: e.data for e in result.get_step_skipped_events()}


# --- the chain used for seed 001's four re-run conditions --------------------------------------
#
#   source -> middle -> sink        independent
#
# `middle` has config and needs resource `db`; `independent` is connected to nothing.


def chain_job(
    call_log: list[str],
    *,
    versioned_ops: bool = True,
    db_version: str | None = "r1",
    strategy: VersionStrategy | None = None,
    tags: dict[str, str] | None = None,
) -> JobDefinition:
    version = "1" if versioned_ops else None

    @resource(version=db_version)
    def db(_init: Any) -> int:
        return 100

    @op(version=version)
    def source() -> int:
        call_log.append("source")
        return 1

    @op(
        version=version,
        config_schema={"factor": Field(int, default_value=2)},
        required_resource_keys={"db"},
    )
    def middle(context: Any, x: int) -> int:
        call_log.append("middle")
        return x * context.op_config["factor"] + context.resources.db

    @op(version=version)
    def sink(y: int) -> int:
        call_log.append("sink")
        return y + 1

    @op(version=version)
    def independent() -> str:
        call_log.append("independent")
        return "i"

    @job(
        resource_defs={"db": db},
        version_strategy=strategy,
        tags=MEMOIZED if tags is None else tags,
    )
    def chain() -> None:
        sink(middle(source()))
        independent()

    return chain


def factor(n: int) -> dict[str, Any]:
    return {"ops": {"middle": {"config": {"factor": n}}}}


class TableStrategy(VersionStrategy):
    """Versions ops (and resources) from a table the test edits between runs."""

    def __init__(self, ops: dict[str, str], resources: dict[str, str | None] | None = None):
        self.ops = ops
        self.resources = resources or {}

    def get_op_version(self, context: OpVersionContext) -> str:
        return self.ops[context.op_def.name]

    def get_resource_version(self, context: ResourceVersionContext) -> str | None:
        return self.resources.get(context.resource_def.name)


class TestSeed001RerunConditions:
    """Seed 001: ops re-run only when an upstream version, their config, a required
    resource's version or the strategy's value for them changes.

    With early cutoff, a consumer of a re-run op stays memoized when the re-run produced the
    value that was stored before (the ops below return the same values whatever their version).
    """

    def test_unchanged_job_runs_once_then_nothing(self, call_log: list[str]) -> None:
        chain = chain_job(call_log)

        first, result1 = run_and_take(chain, call_log)
        second, result2 = run_and_take(chain, call_log)

        assert first == ALL_FOUR
        assert second == []
        assert result1.output_for_node("sink") == result2.output_for_node("sink") == 103

    def test_upstream_version_change_reruns_it_and_its_unchanged_value_cuts_off_downstream(
        self, call_log: list[str]
    ) -> None:
        strategy = TableStrategy({"source": "1", "middle": "1", "sink": "1", "independent": "1"})
        chain = chain_job(call_log, versioned_ops=False, strategy=strategy)
        run_and_take(chain, call_log)

        strategy.ops["source"] = "2"
        reasons = {r.step_output: r.reasons for r in list_versions(chain)}
        ran, result = run_and_take(chain, call_log)
        after = {r.step_output: r.status for r in list_versions(chain)}

        assert reasons["source.result"] == ("code changed (op version 1 → 2)",)
        assert reasons["middle.result"] == ("upstream 'source.result' changed",)
        assert reasons["sink.result"] == ("upstream 'middle.result' changed",)
        assert reasons["independent.result"] == ()
        assert ran == ["source"]  # it returned 1 again: middle and sink stay memoized
        skipped = skipped_steps(result)
        assert skipped["middle"].detail == "upstream 'source' re-ran; its value is unchanged"
        assert skipped["sink"].memoized and skipped["sink"].detail == ""
        assert result.output_for_node("sink") == 103
        assert set(after.values()) == {"stored"}

    def test_config_change_reruns_the_op_and_downstream_only(self, call_log: list[str]) -> None:
        chain = chain_job(call_log)
        run_and_take(chain, call_log, run_config=factor(2))

        ran, result = run_and_take(chain, call_log, run_config=factor(3))
        again, _ = run_and_take(chain, call_log, run_config=factor(3))
        reverted, back = run_and_take(chain, call_log, run_config=factor(2))

        assert ran == ["middle", "sink"]
        assert result.output_for_node("sink") == 1 * 3 + 100 + 1
        assert again == []
        assert reverted == []
        assert back.output_for_node("sink") == 1 * 2 + 100 + 1

    def test_config_default_and_explicit_equal_value_share_a_version(
        self, call_log: list[str]
    ) -> None:
        chain = chain_job(call_log)
        run_and_take(chain, call_log)  # factor defaults to 2

        ran, _ = run_and_take(chain, call_log, run_config=factor(2))

        assert ran == []

    def test_resource_version_change_reruns_ops_that_need_it(self, call_log: list[str]) -> None:
        run_and_take(chain_job(call_log, db_version="r1"), call_log)

        ran, _ = run_and_take(chain_job(call_log, db_version="r2"), call_log)
        reverted, _ = run_and_take(chain_job(call_log, db_version="r1"), call_log)

        assert ran == ["middle"]  # the same value again: sink is cut off
        assert reverted == []

    def test_hardcoded_resource_is_versioned_by_its_value(self, call_log: list[str]) -> None:
        def build(value: int) -> JobDefinition:
            @op(version="1", required_resource_keys={"factor"})
            def scaled(context: Any) -> int:
                call_log.append("scaled")
                return context.resources.factor

            @op(version="1")
            def plain() -> int:
                call_log.append("plain")
                return 2

            @job(
                resource_defs={"factor": ResourceDefinition.hardcoded_resource(value)},
                tags=MEMOIZED,
            )
            def uses_value() -> None:
                scaled()
                plain()

            return uses_value

        first, _ = run_and_take(build(10), call_log)
        same, _ = run_and_take(build(10), call_log)
        changed, result = run_and_take(build(11), call_log)

        assert first == ["scaled", "plain"]
        assert same == []
        assert changed == ["scaled"]
        assert result.output_for_node("scaled") == 11

    def test_strategy_value_change_reruns_that_op_and_downstream(self, call_log: list[str]) -> None:
        strategy = TableStrategy({"source": "1", "middle": "1", "sink": "1", "independent": "1"})
        chain = chain_job(call_log, versioned_ops=False, strategy=strategy)
        first, _ = run_and_take(chain, call_log)

        strategy.ops["middle"] = "2"
        ran, _ = run_and_take(chain, call_log)
        strategy.ops["middle"] = "1"
        reverted, _ = run_and_take(chain, call_log)

        assert first == ALL_FOUR  # a strategy alone turns memoization on
        assert ran == ["middle"]  # the same value again: sink is cut off
        assert reverted == []

    def test_strategy_resource_version_change_reruns_ops_that_need_it(
        self, call_log: list[str]
    ) -> None:
        strategy = TableStrategy(
            {"source": "1", "middle": "1", "sink": "1", "independent": "1"}, {"db": "a"}
        )
        chain = chain_job(call_log, versioned_ops=False, db_version=None, strategy=strategy)
        run_and_take(chain, call_log)

        strategy.resources["db"] = "b"
        ran, _ = run_and_take(chain, call_log)

        assert ran == ["middle"]  # the same value again: sink is cut off

    def test_explicit_op_version_wins_over_the_strategy(self, call_log: list[str]) -> None:
        strategy = TableStrategy({"source": "1", "middle": "1", "sink": "1", "independent": "1"})
        chain = chain_job(call_log, versioned_ops=True, strategy=strategy)
        run_and_take(chain, call_log)

        strategy.ops["middle"] = "2"  # ignored: middle has version="1"
        ran, _ = run_and_take(chain, call_log)

        assert ran == []

    def test_changing_a_sink_reruns_only_the_sink(self, call_log: list[str]) -> None:
        strategy = TableStrategy({"source": "1", "middle": "1", "sink": "1", "independent": "1"})
        chain = chain_job(call_log, versioned_ops=False, strategy=strategy)
        run_and_take(chain, call_log)

        strategy.ops["sink"] = "2"
        ran, _ = run_and_take(chain, call_log)

        assert ran == ["sink"]


def test_resource_version_covers_the_resources_it_needs(call_log: list[str]) -> None:
    def build(settings_version: str) -> JobDefinition:
        @resource(version=settings_version)
        def settings(_init: Any) -> str:
            return settings_version

        @resource(version="1", required_resource_keys={"settings"})
        def client(init: Any) -> str:
            return f"client({init.resources.settings})"

        @op(version="1", required_resource_keys={"client"})
        def fetch(context: Any) -> str:
            call_log.append("fetch")
            return context.resources.client

        @op(version="1")
        def local() -> int:
            call_log.append("local")
            return 1

        @job(resource_defs={"settings": settings, "client": client}, tags=MEMOIZED)
        def fetching() -> None:
            fetch()
            local()

        return fetching

    first, _ = run_and_take(build("a"), call_log)
    changed, result = run_and_take(build("b"), call_log)
    rows = {r.step_output: r for r in list_versions(build("c"))}

    assert first == ["fetch", "local"]
    assert changed == ["fetch"]
    assert result.output_for_node("fetch") == "client(b)"
    assert rows["fetch.result"].reasons == ("resource 'client' changed",)


def test_failed_run_keeps_what_succeeded(call_log: list[str]) -> None:
    attempts = {"n": 0}

    @op(version="1")
    def good() -> int:
        call_log.append("good")
        return 1

    @op(version="1")
    def flaky(x: int) -> int:
        call_log.append("flaky")
        attempts["n"] += 1
        if attempts["n"] == 1:
            raise RuntimeError("first attempt fails")
        return x + 1

    @op(version="1")
    def after(y: int) -> int:
        call_log.append("after")
        return y * 10

    @job(tags=MEMOIZED)
    def flaky_job() -> None:
        after(flaky(good()))

    failed = flaky_job.execute_in_process(raise_on_error=False)
    first = list(call_log)
    call_log.clear()
    ran, result = run_and_take(flaky_job, call_log)

    assert not failed.success
    assert first == ["good", "flaky"]
    assert ran == ["flaky", "after"]
    assert result.output_for_node("after") == 20


def test_in_memory_store_keeps_the_newest_versions_per_output(call_log: list[str]) -> None:
    from nbflow.storage.kept_values import MAX_VERSIONS_PER_OUTPUT

    chain = chain_job(call_log)
    for n in range(MAX_VERSIONS_PER_OUTPUT + 1):
        run_and_take(chain, call_log, run_config=factor(n))

    newest, _ = run_and_take(chain, call_log, run_config=factor(MAX_VERSIONS_PER_OUTPUT))
    oldest, _ = run_and_take(chain, call_log, run_config=factor(0))

    assert newest == []
    assert oldest == ["middle", "sink"]  # evicted, so computed again


def test_partitions_of_a_memoized_job_are_not_mixed_up(call_log: list[str]) -> None:
    # An op may read context.partition_key, so one partition's stored output is not
    # another's: running partition "b" after "a" must run the op and return "b".
    @op(version="1")
    def by_partition(context: Any) -> str:
        call_log.append(context.partition_key)
        return f"data for {context.partition_key}"

    @job(partitions_def=StaticPartitionsDefinition(["a", "b"]), tags=MEMOIZED)
    def partitioned() -> None:
        by_partition()

    ran_a, result_a = run_and_take(partitioned, call_log, partition_key="a")
    ran_b, result_b = run_and_take(partitioned, call_log, partition_key="b")
    again_a, _ = run_and_take(partitioned, call_log, partition_key="a")

    assert ran_a == ["a"]
    assert result_a.output_for_node("by_partition") == "data for a"
    assert result_b.output_for_node("by_partition") == "data for b"
    assert ran_b == ["b"]
    assert again_a == []


# --- SourceHashVersionStrategy with functions defined like notebook cells -----------------------

_CELL_COUNTER = [0]


def define_in_cell(source: str, name: str, namespace: dict[str, Any]) -> Any:
    """Compile ``source`` as a notebook cell would be: registered in linecache, then exec'd."""
    _CELL_COUNTER[0] += 1
    filename = f"<nbflow-test-cell-{_CELL_COUNTER[0]}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), namespace)
    return namespace[name]


LOAD_V1 = """
@op
def load():
    call_log.append("load")
    return 10
"""
LOAD_V2 = """
@op
def load():
    call_log.append("load")
    return 20
"""
LOAD_V1_REFORMATTED = """
@op
def load():
    # the same code, with a comment and different spacing
    call_log.append( "load" )

    return 10
"""


class TestSourceHashStrategy:
    @staticmethod
    def cell_job(call_log: list[str], load_source: str) -> JobDefinition:
        load = define_in_cell(load_source, "load", {"op": op, "call_log": call_log})

        @op
        def double(x: int) -> int:
            call_log.append("double")
            return x * 2

        @op
        def unrelated() -> str:
            call_log.append("unrelated")
            return "u"

        @job(version_strategy=SourceHashVersionStrategy())
        def cells() -> None:
            double(load())
            unrelated()

        return cells

    def test_editing_an_op_reruns_it_and_downstream_and_reverting_reuses(
        self, call_log: list[str]
    ) -> None:
        first, _ = run_and_take(self.cell_job(call_log, LOAD_V1), call_log)
        same, _ = run_and_take(self.cell_job(call_log, LOAD_V1), call_log)
        edited, result = run_and_take(self.cell_job(call_log, LOAD_V2), call_log)
        reverted, back = run_and_take(self.cell_job(call_log, LOAD_V1), call_log)

        assert first == ["load", "double", "unrelated"]
        assert same == []
        assert edited == ["load", "double"]
        assert result.output_for_node("double") == 40
        assert reverted == []
        assert back.output_for_node("double") == 20

    def test_comments_and_formatting_do_not_rerun(self, call_log: list[str]) -> None:
        run_and_take(self.cell_job(call_log, LOAD_V1), call_log)

        ran, _ = run_and_take(self.cell_job(call_log, LOAD_V1_REFORMATTED), call_log)

        assert ran == []

    def test_list_versions_says_the_code_changed(self, call_log: list[str]) -> None:
        run_and_take(self.cell_job(call_log, LOAD_V1), call_log)

        rows = {r.step_output: r for r in list_versions(self.cell_job(call_log, LOAD_V2))}

        assert rows["load.result"].status == "to-be-recomputed"
        assert rows["load.result"].reasons == ("op body changed",)
        assert rows["double.result"].reasons == ("upstream 'load.result' changed",)
        assert rows["unrelated.result"].status == "stored"
        assert call_log == []  # list_versions runs nothing

    def test_editing_a_resource_reruns_ops_that_need_it(self, call_log: list[str]) -> None:
        def build(resource_body: str) -> JobDefinition:
            source = f"@resource\ndef store(_):\n    return {resource_body}\n"
            store = define_in_cell(source, "store", {"resource": resource})

            @op(required_resource_keys={"store"})
            def reader(context: Any) -> Any:
                call_log.append("reader")
                return context.resources.store

            @op
            def loner() -> int:
                call_log.append("loner")
                return 0

            @job(resource_defs={"store": store}, version_strategy=SourceHashVersionStrategy())
            def with_store() -> None:
                reader()
                loner()

            return with_store

        first, _ = run_and_take(build("'a'"), call_log)
        edited, result = run_and_take(build("'b'"), call_log)
        reverted, _ = run_and_take(build("'a'"), call_log)

        assert first == ["reader", "loner"]
        assert edited == ["reader"]
        assert result.output_for_node("reader") == "b"
        assert reverted == []


MODULE_V1 = """
from nbflow import op


@op
def produce():
    return 10
"""


def test_editing_and_reloading_a_module_reruns_its_op(
    call_log: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib
    import sys

    monkeypatch.setattr(sys, "dont_write_bytecode", True)  # no stale .pyc between rewrites
    monkeypatch.syspath_prepend(str(tmp_path))
    module_file = tmp_path / "memo_reload_ops.py"
    module_file.write_text(MODULE_V1)
    module = importlib.import_module("memo_reload_ops")

    @op
    def consume(x: int) -> int:
        call_log.append("consume")
        return x + 1

    def build() -> JobDefinition:
        produce = module.produce

        @op
        def watch(x: int) -> int:
            call_log.append("watch")
            return x

        @job(version_strategy=SourceHashVersionStrategy())
        def reloading() -> None:
            watch(consume(produce()))

        return reloading

    try:
        first, _ = run_and_take(build(), call_log)
        module_file.write_text(MODULE_V1.replace("return 10", "return 2000"))
        module = importlib.reload(module)
        edited, result = run_and_take(build(), call_log)
        module_file.write_text(MODULE_V1)
        module = importlib.reload(module)
        reverted, back = run_and_take(build(), call_log)
    finally:
        sys.modules.pop("memo_reload_ops", None)

    assert first == ["consume", "watch"]
    assert edited == ["consume", "watch"]
    assert {s.step_key: s.status for s in result.step_summaries()} == dict.fromkeys(
        ["produce", "consume", "watch"], "succeeded"
    )
    assert result.output_for_node("consume") == 2001
    assert reverted == []
    assert back.output_for_node("consume") == 11


# --- switching memoization on and off with tags ------------------------------------------------


class TestMemoizedRunTag:
    def test_tag_false_runs_everything_even_with_a_strategy(self, call_log: list[str]) -> None:
        chain = chain_job(
            call_log, versioned_ops=False, strategy=SourceHashVersionStrategy(), tags={}
        )
        run_and_take(chain, call_log)

        ran, result = run_and_take(chain, call_log, tags={MEMOIZED_RUN_TAG: "false"})

        assert ran == ALL_FOUR
        assert result.get_step_skipped_events() == []

    def test_job_tag_false_runs_everything_with_a_strategy(self, call_log: list[str]) -> None:
        chain = chain_job(
            call_log,
            versioned_ops=False,
            strategy=SourceHashVersionStrategy(),
            tags={MEMOIZED_RUN_TAG: "false"},
        )

        first, _ = run_and_take(chain, call_log)
        second, _ = run_and_take(chain, call_log)

        assert first == second == ALL_FOUR

    def test_run_tag_true_memoizes_a_job_without_strategy(self, call_log: list[str]) -> None:
        chain = chain_job(call_log, tags={})  # every op has version="1"

        first, _ = run_and_take(chain, call_log, tags={MEMOIZED_RUN_TAG: "true"})
        second, _ = run_and_take(chain, call_log, tags={MEMOIZED_RUN_TAG: "true"})

        assert first == ALL_FOUR
        assert second == []

    def test_without_tag_or_strategy_nothing_is_memoized(self, call_log: list[str]) -> None:
        chain = chain_job(call_log, tags={})

        first, _ = run_and_take(chain, call_log)
        second, _ = run_and_take(chain, call_log)

        assert first == second == ALL_FOUR

    def test_run_tag_false_overrides_job_tag_true(self, call_log: list[str]) -> None:
        chain = chain_job(call_log, tags={MEMOIZED_RUN_TAG: "true"})
        run_and_take(chain, call_log)

        ran, _ = run_and_take(chain, call_log, tags={MEMOIZED_RUN_TAG: "false"})
        memoized, _ = run_and_take(chain, call_log)

        assert ran == ALL_FOUR
        assert memoized == []

    def test_run_tag_true_overrides_job_tag_false(self, call_log: list[str]) -> None:
        chain = chain_job(call_log, tags={MEMOIZED_RUN_TAG: "false"})
        run_and_take(chain, call_log, tags={MEMOIZED_RUN_TAG: "true"})

        ran, _ = run_and_take(chain, call_log, tags={MEMOIZED_RUN_TAG: "true"})
        unmemoized, _ = run_and_take(chain, call_log)

        assert ran == []
        assert unmemoized == ALL_FOUR

    def test_the_run_records_the_tag_that_decided(self, call_log: list[str]) -> None:
        chain = chain_job(call_log, tags={MEMOIZED_RUN_TAG: "true"})

        _, result = run_and_take(chain, call_log, tags={MEMOIZED_RUN_TAG: "false"})

        assert result.run.tags[MEMOIZED_RUN_TAG] == "false"

    @pytest.mark.parametrize("value", ["yes", "1", "on", ""], ids=["yes", "one", "on", "empty"])
    def test_invalid_tag_value_is_a_clear_error(self, call_log: list[str], value: str) -> None:
        chain = chain_job(call_log, tags={})

        with pytest.raises(
            InvalidDefinitionError,
            match=rf"Tag nbflow/is_memoized_run={value!r} is invalid: "
            r'expected "true" or "false"',
        ):
            chain.execute_in_process(tags={MEMOIZED_RUN_TAG: value})
        assert call_log == []


# --- in-memory memoization inside one process ---------------------------------------------------


class TestInProcessMemoization:
    def test_second_run_of_unchanged_job_executes_nothing(
        self, call_log: list[str], tmp_instance: Instance
    ) -> None:
        @op
        def raw() -> int:
            call_log.append("raw")
            return 2

        @op
        def doubled(raw: int) -> int:
            call_log.append("doubled")
            return raw * 2

        @job(version_strategy=SourceHashVersionStrategy())
        def pipeline() -> None:
            doubled(raw())

        for instance in (tmp_instance, Instance.ephemeral(), None):
            result = pipeline.execute_in_process(instance=instance)
            assert result.output_for_node("doubled") == 4
        assert call_log == ["raw", "doubled"]

    def test_clearing_memoized_values_reruns_everything(self, call_log: list[str]) -> None:
        chain = chain_job(call_log)
        run_and_take(chain, call_log)

        clear_memoized_values()
        ran, _ = run_and_take(chain, call_log)

        assert ran == ALL_FOUR

    def test_job_level_input_values_are_versioned(self, call_log: list[str]) -> None:
        @op(version="1")
        def double(n: int) -> int:
            call_log.append("double")
            return n * 2

        @op(version="1")
        def other() -> int:
            call_log.append("other")
            return 0

        def build(n: Any) -> JobDefinition:
            @job(tags=MEMOIZED, input_values={"n": n})
            def with_input(n: int) -> None:  # type: ignore[no-redef]
                double(n)
                other()

            return with_input

        first, _ = run_and_take(build(3), call_log)
        same, _ = run_and_take(build(3), call_log)
        changed, result = run_and_take(build(4), call_log)

        assert first == ["double", "other"]
        assert same == []
        assert changed == ["double"]
        assert result.output_for_node("double") == 8

    def test_run_input_values_are_versioned(self, call_log: list[str]) -> None:
        @op(version="1")
        def double(n: Any) -> Any:
            call_log.append("double")
            return n * 2

        @graph
        def doubling(n: Any) -> None:
            double(n)

        doubling_job = doubling.to_job(tags=MEMOIZED, input_values={"n": 1})

        default, _ = run_and_take(doubling_job, call_log)
        given, result = run_and_take(doubling_job, call_log, input_values={"n": 5})
        given_again, _ = run_and_take(doubling_job, call_log, input_values={"n": 5})
        as_float, float_result = run_and_take(doubling_job, call_log, input_values={"n": 5.0})

        assert default == ["double"]
        assert given == ["double"]
        assert result.output_for_node("double") == 10
        assert given_again == []
        assert as_float == ["double"]  # 5 and 5.0 are different values
        assert isinstance(float_result.output_for_node("double"), float)

    def test_run_config_input_values_are_versioned(self, call_log: list[str]) -> None:
        @op(version="1")
        def double(n: int) -> int:
            call_log.append("double")
            return n * 2

        @job(tags=MEMOIZED)
        def from_config() -> None:
            double()

        def inputs(n: Any) -> dict[str, Any]:
            return {"ops": {"double": {"inputs": {"n": n}}}}

        first, _ = run_and_take(from_config, call_log, run_config=inputs(3))
        same, _ = run_and_take(from_config, call_log, run_config=inputs(3))
        wrapped, _ = run_and_take(from_config, call_log, run_config=inputs({"value": 3}))
        changed, result = run_and_take(from_config, call_log, run_config=inputs(4))

        assert first == ["double"]
        assert same == []
        assert wrapped == []  # {"value": 3} is how run config spells 3
        assert changed == ["double"]
        assert result.output_for_node("double") == 8

    def test_input_default_value_is_versioned(self, call_log: list[str]) -> None:
        def build(default: int) -> JobDefinition:
            @op(version="1")
            def add(n: int = default) -> int:
                call_log.append("add")
                return n + 1

            @job(tags=MEMOIZED)
            def defaults() -> None:
                add()

            return defaults

        first, _ = run_and_take(build(1), call_log)
        same, _ = run_and_take(build(1), call_log)
        changed, _ = run_and_take(build(2), call_log)

        assert (first, same, changed) == (["add"], [], ["add"])


# --- op selection and full runs share stored outputs -------------------------------------------


def dogs_and_trees(call_log: list[str], **job_kwargs: Any) -> JobDefinition:
    return seed_002.dogs_and_trees(call_log, **job_kwargs)


def dog_tree_config(tree: str, dog: str = "poodle") -> dict[str, Any]:
    return {
        "ops": {
            "emit_dog": {"config": {"dog_breed": dog}},
            "emit_tree": {"config": {"tree_species": tree}},
        }
    }


class TestOpSelection:
    def test_selected_run_reuses_outputs_of_a_full_run(self, call_log: list[str]) -> None:
        my_job = dogs_and_trees(call_log)
        run_and_take(my_job, call_log, run_config=dog_tree_config("douglas_fir"))

        ran, result = run_and_take(
            my_job,
            call_log,
            run_config=dog_tree_config("douglas_fir"),
            op_selection=["emit_sentence"],
        )

        assert ran == []
        assert list(skipped_steps(result)) == ["emit_sentence"]
        assert skipped_steps(result)["emit_sentence"].memoized
        assert result.output_for_node("emit_sentence").endswith("douglas_fir is a species of tree.")

    def test_selected_downstream_of_a_changed_op_loads_the_stored_upstream(
        self, call_log: list[str]
    ) -> None:
        my_job = dogs_and_trees(call_log)
        run_and_take(my_job, call_log, run_config=dog_tree_config("douglas_fir"))

        ran, result = run_and_take(
            my_job, call_log, run_config=dog_tree_config("red_maple"), op_selection=["emit_tree*"]
        )
        loaded = [
            e.data.name
            for e in result.filter_events(EventType.LOADED_INPUT)
            if e.step_key == "emit_sentence"
        ]
        full, _ = run_and_take(my_job, call_log, run_config=dog_tree_config("red_maple"))

        assert ran == ["emit_tree", "emit_sentence"]
        assert loaded == ["dog_breed", "tree_species"]  # dog_breed from the first run's store
        assert result.output_for_node("emit_sentence") == (
            "poodle is a breed of dog, while red_maple is a species of tree."
        )
        assert full == []

    def test_selected_op_reruns_when_its_cut_upstream_changed(self, call_log: list[str]) -> None:
        my_job = dogs_and_trees(call_log)
        run_and_take(my_job, call_log, run_config=dog_tree_config("douglas_fir"))
        run_and_take(
            my_job, call_log, run_config=dog_tree_config("oak"), op_selection=["emit_tree"]
        )

        ran, result = run_and_take(
            my_job, call_log, run_config=dog_tree_config("oak"), op_selection=["emit_sentence"]
        )

        assert ran == ["emit_sentence"]
        assert result.output_for_node("emit_sentence").endswith("oak is a species of tree.")

    def test_cut_inputs_given_by_value_are_versioned(self, call_log: list[str]) -> None:
        my_job = dogs_and_trees(call_log)

        def given(tree: str) -> dict[str, Any]:
            return {
                "ops": {"emit_sentence": {"inputs": {"dog_breed": "pug", "tree_species": tree}}}
            }

        first, _ = run_and_take(
            my_job, call_log, run_config=given("elm"), op_selection=["emit_sentence"]
        )
        same, _ = run_and_take(
            my_job, call_log, run_config=given("elm"), op_selection=["emit_sentence"]
        )
        changed, result = run_and_take(
            my_job, call_log, run_config=given("ash"), op_selection=["emit_sentence"]
        )

        assert (first, same, changed) == (["emit_sentence"], [], ["emit_sentence"])
        assert result.output_for_node("emit_sentence").startswith("pug is a breed of dog")


# --- the result of a memoized run --------------------------------------------------------------


def _fs_resources() -> dict[str, Any]:
    return {"resource_defs": {"io_manager": versioned_filesystem_io_manager}}


def _fs_config(tmp_path: Path) -> dict[str, Any]:
    return {"resources": {"io_manager": {"config": {"base_dir": str(tmp_path / "store")}}}}


@pytest.mark.parametrize("storage", ["memory", "filesystem"], ids=["memory", "filesystem"])
class TestMemoizedResult:
    @staticmethod
    def setup_job(
        call_log: list[str], storage: str, tmp_path: Path
    ) -> tuple[JobDefinition, dict[str, Any]]:
        job_kwargs = _fs_resources() if storage == "filesystem" else {}
        config = dog_tree_config("douglas_fir")
        if storage == "filesystem":
            config.update(_fs_config(tmp_path))
        return dogs_and_trees(call_log, **job_kwargs), config

    def test_output_for_node_of_a_memoized_step_returns_the_stored_value(
        self, call_log: list[str], storage: str, tmp_path: Path
    ) -> None:
        my_job, config = self.setup_job(call_log, storage, tmp_path)
        run_and_take(my_job, call_log, run_config=config)

        ran, result = run_and_take(my_job, call_log, run_config=config)

        assert ran == []
        assert result.output_for_node("emit_dog") == "poodle"
        assert result.output_for_node("emit_tree") == "douglas_fir"
        assert result.output_for_node("emit_sentence") == (
            "poodle is a breed of dog, while douglas_fir is a species of tree."
        )

    def test_memoized_steps_emit_one_skipped_event_with_their_version(
        self, call_log: list[str], storage: str, tmp_path: Path
    ) -> None:
        my_job, config = self.setup_job(call_log, storage, tmp_path)
        run_and_take(my_job, call_log, run_config=config)
        versions = {r.step_output: r.version for r in list_versions(my_job, config)}

        _, result = run_and_take(my_job, call_log, run_config=config)

        skipped = result.get_step_skipped_events()
        assert [e.step_key for e in skipped] == ["emit_dog", "emit_tree", "emit_sentence"]
        for event in skipped:
            version = versions[f"{event.step_key}.result"]
            assert event.data == StepSkippedData("memoized", {"result": version})
            assert event.data.memoized
            assert "memoized" in event.message
            assert version[:8] in event.message
        assert result.filter_events(EventType.STEP_START) == []
        assert [s.status for s in result.step_summaries()] == ["memoized"] * 3

    def test_partly_memoized_run_reports_each_step(
        self, call_log: list[str], storage: str, tmp_path: Path
    ) -> None:
        my_job, config = self.setup_job(call_log, storage, tmp_path)
        run_and_take(my_job, call_log, run_config=config)
        config["ops"]["emit_tree"]["config"]["tree_species"] = "red_maple"

        ran, result = run_and_take(my_job, call_log, run_config=config)

        assert ran == ["emit_tree", "emit_sentence"]
        assert list(skipped_steps(result)) == ["emit_dog"]
        statuses = {s.step_key: s.status for s in result.step_summaries()}
        assert statuses == {
            "emit_dog": "memoized",
            "emit_tree": "succeeded",
            "emit_sentence": "succeeded",
        }
        assert result.output_for_node("emit_dog") == "poodle"


def test_output_for_node_loads_a_memoized_value_through_the_io_manager(
    call_log: list[str], tmp_path: Path
) -> None:
    config = {
        **dog_tree_config("douglas_fir"),
        **_fs_config(tmp_path),
    }
    my_job = dogs_and_trees(call_log, **_fs_resources())
    run_and_take(my_job, call_log, run_config=config)
    [dog_row] = [r for r in list_versions(my_job, config) if r.step_output == "emit_dog.result"]
    stored = tmp_path / "store" / "emit_dog" / "result" / dog_row.version
    stored.write_bytes(pickle.dumps("value from storage"))

    _, result = run_and_take(my_job, call_log, run_config=config)

    assert result.output_for_node("emit_dog") == "value from storage"


def test_output_for_node_uses_a_custom_memoizable_io_manager(call_log: list[str]) -> None:
    store: dict[tuple[str, str, str], Any] = {}
    loads: list[tuple[str, str, str | None]] = []

    class DictIOManager(MemoizableIOManager):
        def handle_output(self, context: OutputContext, obj: Any) -> None:
            assert context.version is not None
            store[(context.step_key, context.name, context.version)] = obj

        def load_input(self, context: InputContext) -> Any:
            upstream = context.upstream_output
            assert upstream is not None and upstream.version is not None
            loads.append((upstream.step_key, upstream.name, upstream.version))
            return store[(upstream.step_key, upstream.name, upstream.version)]

        def has_output(self, context: OutputContext) -> bool:
            assert context.version is not None
            return (context.step_key, context.name, context.version) in store

    @io_manager
    def dict_io_manager(_init: Any) -> DictIOManager:
        return DictIOManager()

    @op(version="1")
    def answer() -> int:
        call_log.append("answer")
        return 42

    @job(resource_defs={"io_manager": dict_io_manager}, tags=MEMOIZED)
    def answering() -> None:
        answer()

    run_and_take(answering, call_log)
    [version] = [key[2] for key in store]

    ran, result = run_and_take(answering, call_log)
    value = result.output_for_node("answer")
    value_again = result.output_for_node("answer")

    assert ran == []
    assert value == value_again == 42
    assert loads == [("answer", "result", version)]  # loaded once, then kept


# --- errors ---------------------------------------------------------------------------------


class TestErrors:
    def test_missing_version_names_the_op_and_both_fixes_before_anything_runs(
        self, call_log: list[str], tmp_instance: Instance
    ) -> None:
        @op(version="1")
        def versioned() -> int:
            call_log.append("versioned")
            return 1

        @op
        def unversioned() -> int:
            call_log.append("unversioned")
            return 2

        @job(tags=MEMOIZED)
        def half_versioned() -> None:
            versioned()
            unversioned()

        with pytest.raises(
            MissingVersionError,
            match=r"(?s)Job 'half_versioned' runs memoized, but op 'unversioned' has no version\."
            r".*@op\(version=\"1\"\).*version_strategy=SourceHashVersionStrategy\(\)",
        ):
            half_versioned.execute_in_process(instance=tmp_instance)
        assert call_log == []
        assert tmp_instance.get_runs() == []  # raised before the run started

    def test_missing_versions_of_several_ops_are_named_together(self, call_log: list[str]) -> None:
        chain = chain_job(call_log, versioned_ops=False)

        with pytest.raises(
            MissingVersionError,
            match=r"ops 'independent', 'middle', 'sink', 'source' have no version",
        ):
            chain.execute_in_process()
        assert call_log == []

    def test_missing_version_is_no_error_when_memoization_is_off(self, call_log: list[str]) -> None:
        chain = chain_job(call_log, versioned_ops=False, tags={})

        ran, _ = run_and_take(chain, call_log)

        assert ran == ALL_FOUR

    @pytest.mark.parametrize(
        "version", ["1.0-beta", "v 2", "", "ä"], ids=["dash-dot", "space", "empty", "non-ascii"]
    )
    def test_invalid_op_version_is_refused_at_definition(self, version: str) -> None:
        with pytest.raises(
            InvalidVersionError,
            match=rf"Op 'beta' has version {version!r}, but versions must be non-empty strings "
            r"of letters, digits and underscores",
        ):

            @op(version=version)
            def beta() -> int:
                return 1

    def test_invalid_resource_version_is_refused_at_definition(self) -> None:
        with pytest.raises(InvalidVersionError, match=r"Resource 'db' has version '1\.0-beta'"):

            @resource(version="1.0-beta")
            def db(_init: Any) -> int:
                return 1

    def test_invalid_version_from_a_strategy_names_the_op(self, call_log: list[str]) -> None:
        strategy = TableStrategy(
            {"source": "1", "middle": "1.0-beta", "sink": "1", "independent": "1"}
        )
        chain = chain_job(call_log, versioned_ops=False, strategy=strategy)

        with pytest.raises(InvalidVersionError, match=r"Op 'middle' has version '1\.0-beta'"):
            chain.execute_in_process()
        assert call_log == []

    def test_non_memoizable_io_manager_is_named_with_the_fix(self, call_log: list[str]) -> None:
        class PlainIOManager(IOManager):
            def handle_output(self, context: OutputContext, obj: Any) -> None:
                call_log.append("handle_output")

            def load_input(self, context: InputContext) -> Any:
                return None

        @io_manager
        def plain_io_manager(_init: Any) -> PlainIOManager:
            return PlainIOManager()

        @op(version="1")
        def answer() -> int:
            call_log.append("answer")
            return 42

        @job(resource_defs={"io_manager": plain_io_manager}, tags=MEMOIZED)
        def plain() -> None:
            answer()

        pattern = (
            r"(?s)Memoization is on, but IO manager 'io_manager' \(PlainIOManager\) used by "
            r"'answer\.result' is not memoizable: it has no has_output\(\)\..*"
            r"Fix: subclass MemoizableIOManager and implement has_output\(context\)"
        )
        with pytest.raises(NonMemoizableIOManagerError, match=pattern):
            plain.execute_in_process()
        with pytest.raises(NonMemoizableIOManagerError, match=pattern):
            plain.execute_in_process(raise_on_error=False)
        assert call_log == []
        assert plain.execute_in_process(tags={MEMOIZED_RUN_TAG: "false"}).success

    def test_resource_without_version_is_left_out_and_reported(self, call_log: list[str]) -> None:
        chain = chain_job(call_log, db_version=None)

        first, _ = run_and_take(chain, call_log)
        second, _ = run_and_take(chain, call_log)
        rows = {r.step_output: r for r in list_versions(chain)}

        assert first == ALL_FOUR
        assert second == []  # not an error, and the rest is still memoized
        assert rows["middle.result"].status == "stored"
        assert rows["middle.result"].reasons == (
            "resource 'db' has no version and is not memoized",
        )
        assert rows["source.result"].reasons == ()

    def test_unversionable_input_value_names_the_input(self, call_log: list[str]) -> None:
        @op(version="1")
        def consume(thing: Any) -> str:
            call_log.append("consume")
            return "ok"

        @graph
        def consuming(thing: Any) -> None:
            consume(thing)

        with pytest.raises(
            UnversionableValueError,
            match=r"(?s)Input consume\.thing: .*no stable fingerprint for values of type 'object'"
            r".*register_fingerprint",
        ):
            consuming.to_job(tags=MEMOIZED).execute_in_process(input_values={"thing": object()})
        assert call_log == []
        not_memoized = consuming.to_job().execute_in_process(input_values={"thing": object()})
        assert not_memoized.output_for_node("consume") == "ok"


def test_version_strategy_must_be_a_version_strategy() -> None:
    with pytest.raises(Exception, match=r"not a VersionStrategy"):

        @job(version_strategy="source")  # type: ignore[arg-type]
        def wrong() -> None:
            pass


def test_an_unversioned_op_upstream_of_versioned_ones_is_named_not_a_key_error() -> None:
    from nbflow import MEMOIZED_RUN_TAG, job, op
    from nbflow.errors import MissingVersionError

    @op
    def unversioned() -> int:
        return 1

    @op(version="1")
    def versioned(x: int) -> int:
        return x

    @job(tags={MEMOIZED_RUN_TAG: "true"})
    def mixed() -> None:
        versioned(unversioned())

    with pytest.raises(MissingVersionError, match="op 'unversioned' has no version"):
        mixed.execute_in_process()
