"""Dynamic outputs: an op output whose elements, each under a mapping key, are only known
once the op has run; downstream nodes are mapped over the elements and collected again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from nbflow.definitions.specs import DEFAULT_OUTPUT, Out
from nbflow.errors import DynamicOutputError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from nbflow.definitions.node import NodeDefinition

_KEY = re.compile(r"[A-Za-z0-9_]+")


@dataclass(frozen=True, slots=True)
class DynamicOut(Out):
    """Declares a dynamic output: the op yields one :class:`DynamicOutput` per element.

    In a graph, map downstream nodes over its elements with ``.map(fn)`` and gather their
    results into a list with ``.collect()``. It takes the arguments of :class:`Out`.
    """


@dataclass(frozen=True, slots=True)
class DynamicOutput:
    """One element of a dynamic output.

    Args:
        value: the element's value.
        mapping_key: names the element; letters, digits and ``_`` only, unique within the
            output. Mapped steps are keyed ``op[mapping_key]``.
        output_name: the dynamic output it belongs to.
        metadata: free-form information about the element.

    Raises:
        DynamicOutputError: the mapping key has other characters, or is empty.
    """

    value: Any
    mapping_key: str
    output_name: str = DEFAULT_OUTPUT
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        key = self.mapping_key
        if not isinstance(key, str) or not _KEY.fullmatch(key):
            raise DynamicOutputError(
                f"DynamicOutput mapping_key {key!r} is invalid: it must be a non-empty string of "
                "letters, digits and '_'. Fix: derive the key from the element, e.g. "
                "re.sub(r'\\W', '_', name)."
            )


def is_dynamic(spec: Out) -> bool:
    """Whether ``spec`` declares a dynamic output."""
    return isinstance(spec, DynamicOut)


def element_name(output_name: str, mapping_key: str) -> str:
    """The name a dynamic output's element is stored under: ``result[key]``."""
    return f"{output_name}[{mapping_key}]"


def split_element_name(name: str) -> tuple[str, str | None]:
    """``result[key]`` → ``("result", "key")``; a plain output name → ``(name, None)``."""
    if name.endswith("]") and "[" in name:
        base, _, key = name[:-1].partition("[")
        return base, key
    return name, None


def mapped_step_key(template_key: str, mapping_key: str) -> str:
    """The key of a mapped step: ``op[key]``."""
    return f"{template_key}[{mapping_key}]"


def out_spec(definition: NodeDefinition, output_name: str) -> Out:
    """The ``Out`` of output ``output_name`` of ``definition``, also for a dynamic output's
    element (``result[key]``)."""
    outs: Mapping[str, Out] = definition.outs
    spec = outs.get(output_name)
    return spec if spec is not None else outs[split_element_name(output_name)[0]]
