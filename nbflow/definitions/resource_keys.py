"""Which resources an op uses: the one place that derives resource keys from definitions.

An op uses the resources its code reads (``required_resource_keys``) and the IO managers its
outputs are stored with. Steps add what they load and their hooks
(:meth:`nbflow.execution.engine.plan.ExecutionPlan.resource_keys`); what those resources need
in turn is added when they are built, in dependency order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nbflow.definitions.op import OpDefinition


def op_resource_keys(op_def: OpDefinition, *, io_managers_only: bool = False) -> set[str]:
    """The resources ``op_def`` uses by itself.

    Args:
        op_def: the op.
        io_managers_only: only the IO managers of its outputs, not what its code reads.

    Returns:
        A new set of resource keys.
    """
    keys = {out.io_manager_key for out in op_def.outs.values()}
    if not io_managers_only:
        keys.update(op_def.required_resource_keys)
        keys.update(op_input_manager_keys(op_def))
    return keys


def op_input_manager_keys(op_def: OpDefinition) -> set[str]:
    """The input managers that load ``op_def``'s inputs (``In(input_manager_key=...)``)."""
    return {spec.input_manager_key for spec in op_def.ins.values() if spec.input_manager_key}
