"""Namespaces of process-wide stores: which op a kept value or manifest belongs to.

Values and manifests kept for the life of the process are found by step key, output and
version. Two jobs can have steps of the same name with the same explicit ``version=`` and
still be different ops; the namespace keeps them apart, while the same op used in two jobs
(or a job rebuilt from the same definitions) keeps sharing its values.
"""

from __future__ import annotations

from typing import Any, Final

NO_NAMESPACE: Final = ""
"""The namespace of values stored or looked up without an op (a bare ``OutputContext``)."""


def op_namespace(op_def: Any) -> str:
    """``module:qualname#name`` of an op: its compute function's home and the op's name.

    Stable across processes (no ids or addresses); ``NO_NAMESPACE`` when ``op_def`` is
    ``None``.
    """
    if op_def is None:
        return NO_NAMESPACE
    fn = getattr(op_def, "compute_fn", None)
    module = getattr(fn, "__module__", None) or type(fn).__module__
    qualname = getattr(fn, "__qualname__", None) or type(fn).__qualname__
    return f"{module}:{qualname}#{getattr(op_def, 'name', '')}"
