"""``OpExecutionContext``: what an op sees of its run, and ``HookContext`` for hooks."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from nbflow.definitions.specs import DEFAULT_OUTPUT
from nbflow.definitions.user_events import AssetMaterialization, AssetObservation, ExpectationResult
from nbflow.errors import InvalidContextUseError, PartitionKeyError, did_you_mean

if TYPE_CHECKING:
    from nbflow.definitions.job import JobDefinition
    from nbflow.definitions.op import OpDefinition
    from nbflow.definitions.partitions import TimeWindow
    from nbflow.execution.engine.log import RunLog
    from nbflow.execution.engine.resources import Resources
    from nbflow.storage.instance import Instance
    from nbflow.storage.run import Run

USER_EVENT_TYPES = (AssetMaterialization, AssetObservation, ExpectationResult)


class RunView(Protocol):
    """The parts of a run a context reads."""

    @property
    def run_id(self) -> str: ...
    @property
    def job_def(self) -> JobDefinition | None: ...
    @property
    def job_name(self) -> str | None: ...
    @property
    def tags(self) -> Mapping[str, str]: ...
    @property
    def instance(self) -> Instance: ...
    @property
    def resources(self) -> Resources: ...
    @property
    def log(self) -> RunLog: ...
    @property
    def partition_key(self) -> str | None: ...
    @property
    def run_config(self) -> Mapping[str, Any]: ...
    @property
    def run(self) -> Run | None: ...


class OpExecutionContext:
    """The context an op receives as its first argument."""

    __slots__ = (
        "_events",
        "_log",
        "_mapping_key",
        "_op_def",
        "_output_metadata",
        "_run",
        "_step_key",
        "op_config",
        "retry_number",
    )

    def __init__(
        self,
        run: RunView,
        step_key: str,
        op_def: OpDefinition,
        op_config: Any,
        retry_number: int = 0,
        mapping_key: str | None = None,
    ) -> None:
        self._run = run
        self._step_key = step_key
        self._op_def = op_def
        self.op_config = op_config
        self.retry_number = retry_number
        self._mapping_key = mapping_key
        self._events: list[Any] = []
        self._output_metadata: dict[str, dict[str, Any]] = {}
        self._log: RunLog | None = None

    # --- who and where -------------------------------------------------------------------
    @property
    def solid_config(self) -> Any:
        return self.op_config

    @property
    def log(self) -> RunLog:
        if self._log is None:
            self._log = self._run.log.for_step(self._step_key)
        return self._log

    @property
    def resources(self) -> Resources:
        return self._run.resources

    @property
    def run_id(self) -> str:
        return self._run.run_id

    @property
    def run(self) -> Run | None:
        return self._run.run

    pipeline_run = run

    @property
    def run_config(self) -> Mapping[str, Any]:
        return self._run.run_config

    @property
    def job_name(self) -> str | None:
        return self._run.job_name

    pipeline_name = job_name

    @property
    def job_def(self) -> JobDefinition | None:
        return self._run.job_def

    pipeline_def = job_def

    @property
    def op_def(self) -> OpDefinition:
        return self._op_def

    solid_def = op_def

    @property
    def step_key(self) -> str:
        return self._step_key

    node_handle = step_key
    op_handle = step_key

    @property
    def instance(self) -> Instance:
        return self._run.instance

    @property
    def step_launcher(self) -> None:
        return None

    @property
    def pdb(self) -> Any:
        import pdb

        return pdb.Pdb()

    # --- tags and partitions -------------------------------------------------------------
    def get_tag(self, key: str) -> str | None:
        return self._run.tags.get(key)

    def has_tag(self, key: str) -> bool:
        return key in self._run.tags

    @property
    def has_partition_key(self) -> bool:
        return self._run.partition_key is not None

    @property
    def partition_key(self) -> str:
        key = self._run.partition_key
        if key is None:
            raise PartitionKeyError(
                f"Op {self._op_def.name!r} asked for context.partition_key, but this run is not "
                "partitioned. Fix: give the job a partitions_def and run it with partition_key=..."
            )
        return key

    def asset_partition_key_for_output(self, output_name: str = DEFAULT_OUTPUT) -> str:
        return self.partition_key

    def asset_partitions_time_window_for_output(
        self, output_name: str = DEFAULT_OUTPUT
    ) -> TimeWindow:
        """The time range of the partition output ``output_name`` is stored for (the run's
        partition: see :attr:`partition_time_window`)."""
        return self.partition_time_window

    @property
    def partition_time_window(self) -> TimeWindow:
        """The time range of this run's partition (time-based partitions only)."""
        key = self.partition_key
        job_def = self._run.job_def
        partitions = job_def.partitions_def if job_def is not None else None
        window_for = getattr(partitions, "time_window_for", None)
        if window_for is None:
            raise PartitionKeyError(
                f"Op {self._op_def.name!r} asked for context.partition_time_window, but the "
                f"run's partitions ({partitions!r}) are not time-based. Fix: use "
                "DailyPartitionsDefinition, or read context.partition_key."
            )
        window: TimeWindow = window_for(key)
        return window

    def get_mapping_key(self) -> str | None:
        """The mapping key of an upstream dynamic output this execution is for, else None."""
        return self._mapping_key

    # --- events and metadata -------------------------------------------------------------
    def log_event(self, event: AssetMaterialization | AssetObservation | ExpectationResult) -> None:
        """Record an AssetMaterialization, AssetObservation or ExpectationResult."""
        if not isinstance(event, USER_EVENT_TYPES):
            raise InvalidContextUseError(
                f"context.log_event got {type(event).__name__}; expected AssetMaterialization, "
                "AssetObservation or ExpectationResult."
            )
        self._events.append(event)

    def consume_events(self) -> Iterator[Any]:
        """Pop and yield the events logged since the last call."""
        events, self._events = self._events, []
        yield from events

    def add_output_metadata(
        self,
        metadata: Mapping[str, Any],
        output_name: str | None = None,
        mapping_key: str | None = None,
    ) -> None:
        """Attach ``metadata`` to an output (the only one, when the op has one)."""
        outs = self._op_def.outs
        if not isinstance(metadata, Mapping):
            raise InvalidContextUseError(
                f"add_output_metadata got {type(metadata).__name__} {metadata!r:.60}; expected a "
                'dict such as {"rows": 10}.'
            )
        if output_name is None:
            if len(outs) != 1:
                raise InvalidContextUseError(
                    f"Op {self._op_def.name!r} has outputs {list(outs)}; add_output_metadata "
                    "needs output_name= to say which."
                )
            output_name = next(iter(outs))
        elif output_name not in outs:
            raise InvalidContextUseError(
                f"Op {self._op_def.name!r} has no output {output_name!r}."
                f"{did_you_mean(output_name, outs)} Its outputs: {list(outs)}."
            )
        if output_name in self._output_metadata:
            raise InvalidContextUseError(
                f"Metadata was already added to output {output_name!r} of op "
                f"{self._op_def.name!r}; add it once per output, all keys together."
            )
        self._output_metadata[output_name] = dict(metadata)

    def output_metadata(self, output_name: str) -> dict[str, Any]:
        return self._output_metadata.get(output_name, {})

    def get_output_metadata(
        self, output_name: str, mapping_key: str | None = None
    ) -> Mapping[str, Any] | None:
        """The metadata attached to an output so far, or None if there is none.

        Args:
            output_name: the output's name.
            mapping_key: accepted for compatibility; nbflow keeps one metadata dict per output.

        Returns:
            What ``add_output_metadata`` attached; after a direct call, merged with the
            metadata of the ``Output`` objects the op returned or yielded.
        """
        del mapping_key
        return self._output_metadata.get(output_name)

    def merge_output_metadata(self, output_name: str, metadata: Mapping[str, Any]) -> None:
        """Merge the metadata an ``Output`` carried into the output's (its keys win)."""
        if metadata:
            self._output_metadata[output_name] = {
                **self._output_metadata.get(output_name, {}),
                **metadata,
            }

    def __repr__(self) -> str:
        return f"<OpExecutionContext {self._step_key} run={self._run.run_id[:8]}>"


class HookContext:
    """What a hook function receives."""

    def __init__(
        self,
        *,
        step_key: str,
        op_def: OpDefinition,
        hook_name: str,
        resources: Resources,
        log: RunLog,
        run_id: str,
        job_name: str,
        op_config: Any,
        op_exception: BaseException | None = None,
        op_output_values: Mapping[str, Any] | None = None,
    ) -> None:
        self.step_key = step_key
        self.op = op_def
        self.op_def = op_def
        self.hook_name = hook_name
        self.resources = resources
        self.log = log
        self.run_id = run_id
        self.job_name = job_name
        self.op_config = op_config
        self.op_exception = op_exception
        self.op_output_values = dict(op_output_values or {})
