"""How a step produces a dynamic output: each element is stored as ``name[key]`` (versioned
from the step's version and the key), then the list of mapping keys as ``name`` itself.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from nbflow.definitions.dynamic import DynamicOutput, is_dynamic, split_element_name
from nbflow.definitions.specs import Out, Output
from nbflow.errors import DynamicOutputError

if TYPE_CHECKING:
    from nbflow.definitions.op import OpDefinition
    from nbflow.execution.engine.run_context import RunContext


def returns_dynamic_outputs(op_def: OpDefinition, result: Any) -> bool:
    """Whether a (non-generator) op returned a list of ``DynamicOutput`` for its only output."""
    outs = list(op_def.outs.values())
    return (
        len(outs) == 1
        and is_dynamic(outs[0])
        and isinstance(result, list)
        and all(isinstance(item, DynamicOutput) for item in result)
    )


def element_spec(op_def: OpDefinition, name: str) -> Out | None:
    """The ``Out`` of a dynamic output's element ``name[key]``; None for other names."""
    base, key = split_element_name(name)
    spec = op_def.outs.get(base)
    return spec if key is not None and spec is not None and is_dynamic(spec) else None


def version_element(run: RunContext, step_key: str, name: str) -> None:
    """Give element ``name[key]`` version parts: its output's, under the element's name."""
    base, key = split_element_name(name)
    parts = run.version_parts.get((step_key, base))
    if key is not None and parts is not None and (step_key, name) not in run.version_parts:
        run.set_version_parts({(step_key, name): replace(parts, output_name=name)})


class DynamicElements:
    """The elements a step yields for its dynamic outputs, checked as they come."""

    def __init__(self, op_def: OpDefinition) -> None:
        self._op_def = op_def
        self._keys: dict[str, list[str]] = {
            name: [] for name, spec in op_def.outs.items() if is_dynamic(spec)
        }

    def add(self, item: DynamicOutput) -> Output:
        """The ``Output`` that stores ``item``.

        Raises:
            DynamicOutputError: the output is not dynamic, or the mapping key is repeated.
        """
        keys = self._keys.get(item.output_name)
        if keys is None:
            raise DynamicOutputError(
                f"Op {self._op_def.name!r} yielded DynamicOutput for output "
                f"{item.output_name!r}, which is not declared with DynamicOut. Fix: declare "
                f"out={{{item.output_name!r}: DynamicOut()}}, or yield Output(value, name)."
            )
        if item.mapping_key in keys:
            raise DynamicOutputError(
                f"Op {self._op_def.name!r} yielded mapping_key {item.mapping_key!r} twice for "
                f"dynamic output {item.output_name!r}. Fix: give each element its own key."
            )
        keys.append(item.mapping_key)
        name = f"{item.output_name}[{item.mapping_key}]"
        return Output(item.value, name, item.metadata)

    def check_plain(self, item: Output) -> None:
        """Refuse a plain ``Output`` for a dynamic output.

        Raises:
            DynamicOutputError: naming the fix.
        """
        if item.output_name in self._keys:
            raise DynamicOutputError(
                f"Op {self._op_def.name!r} produced Output(...) for dynamic output "
                f"{item.output_name!r}. Fix: yield DynamicOutput(value, mapping_key=...) for "
                "each element (or return a list of them)."
            )

    def key_lists(self) -> list[Output]:
        """One output per dynamic output: its mapping keys, in the order yielded."""
        return [Output(list(keys), name) for name, keys in self._keys.items()]
