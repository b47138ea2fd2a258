"""IO contexts: what an IO manager sees of an output it stores, finds or loads.

Every context of a run is built here, so the step that stores an output, the memo check that
asks whether it is stored, the step that loads it downstream and a result that loads it after
the run all describe it alike: its step and name, version, the ``Out``'s metadata, the run id,
the op, the asset key and the partition key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nbflow.definitions.dynamic import out_spec
from nbflow.definitions.io_manager import InputContext, OutputContext

if TYPE_CHECKING:
    from collections.abc import Mapping

    from nbflow.definitions.asset_key import AssetKey
    from nbflow.definitions.source_asset import SourceAsset
    from nbflow.execution.engine.log import RunLog
    from nbflow.execution.engine.plan import ExecutionPlan
    from nbflow.execution.engine.resources import Resources
    from nbflow.execution.engine.run_context import RunContext


@dataclass(frozen=True, slots=True)
class IOScope:
    """What every IO context of one run (or of one look at storage) shares.

    Attributes:
        plan: the plan whose steps the outputs belong to (op-selected steps included:
            outputs of steps left out are described from the whole job).
        resources: the resources the contexts carry (IO managers among them).
        run_id: the run's id; empty outside a run (``list_versions``).
        partition_key: the run's partition, if any.
        log: the run's log; each context gets its step's log from it.
    """

    plan: ExecutionPlan
    resources: Resources
    run_id: str = ""
    partition_key: str | None = None
    log: RunLog | None = None

    @classmethod
    def of_run(cls, run: RunContext) -> IOScope:
        """The scope of ``run``, with the resources it has built so far."""
        return cls(run.plan, run.resources, run.run_id, run.partition_key, run.log)

    def with_resources(self, resources: Resources) -> IOScope:
        """This scope with other resources (rebuilt ones, for a load after the run)."""
        return IOScope(self.plan, resources, self.run_id, self.partition_key, self.log)

    def asset_key_for(self, step_key: str) -> AssetKey | None:
        """The asset a step materializes, if it is an asset's step."""
        layer = self.plan.job_def.asset_layer
        return layer.asset_key_for(step_key) if layer is not None else None

    def step_log(self, step_key: str) -> RunLog | None:
        """The log of step ``step_key`` in this run (None outside a run)."""
        return self.log.for_step(step_key) if self.log is not None else None

    def io_manager_key(self, step_key: str, output_name: str) -> str:
        """The resource key of the IO manager of a step output."""
        return out_spec(self.plan.op_def_for(step_key), output_name).io_manager_key

    def io_manager(self, step_key: str, output_name: str) -> Any:
        """The IO manager of a step output, from this scope's resources."""
        return self.resources[self.io_manager_key(step_key, output_name)]

    def output(
        self, step_key: str, output_name: str, version: str | None, log: Any = None
    ) -> OutputContext:
        """The context of step output ``step_key.output_name`` at ``version``.

        ``log`` is the producing step's log (by default, from the run's).
        """
        op_def = self.plan.op_def_for(step_key)
        return OutputContext(
            step_key=step_key,
            name=output_name,
            run_id=self.plan.source_run_ids.get(step_key, self.run_id),
            version=version,
            metadata=out_spec(op_def, output_name).metadata,
            resources=self.resources,
            op_def=op_def,
            asset_key=self.asset_key_for(step_key),
            partition_key=self.partition_key,
            log=log if log is not None else self.step_log(step_key),
        )

    def source_asset_output(self, source: SourceAsset) -> OutputContext:
        """The context of a source asset's value, as if an output had stored it."""
        return OutputContext(
            step_key=source.key.to_user_string(),
            name="result",
            run_id=self.run_id,
            metadata=source.metadata,
            resources=self.resources,
            asset_key=source.key,
            partition_key=self.partition_key if source.partitions_def is not None else None,
        )

    def input(
        self,
        step_key: str,
        input_name: str,
        upstream: OutputContext | None,
        *,
        metadata: Mapping[str, Any] | None = None,
        log: Any = None,
    ) -> InputContext:
        """The context of loading ``upstream`` as input ``input_name`` of step ``step_key``.

        Args:
            step_key: the step that reads the value (the producing step itself when a
                result loads an output after the run).
            input_name: the input's name (the output's, for a result's load).
            upstream: the context of the output being read (``None``: an input manager
                supplies a value no output produced).
            metadata: the ``In``'s metadata.
            log: the reading step's log (by default, from the run's).
        """
        return InputContext(
            name=input_name,
            step_key=step_key,
            upstream_output=upstream,
            metadata=metadata,
            resources=self.resources,
            op_def=self.plan.op_def_for(step_key),
            asset_key=None if upstream is None else upstream.asset_key,
            partition_key=self.partition_key,
            log=log if log is not None else self.step_log(step_key),
        )


def run_output_context(
    run: RunContext, step_key: str, output_name: str, log: Any = None
) -> OutputContext:
    """The context of a step output of ``run`` at the version the run has for it now."""
    version = run.versions.get((step_key, output_name))
    return IOScope.of_run(run).output(step_key, output_name, version, log)
