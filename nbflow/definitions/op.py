"""Ops: the unit of computation. ``@op`` turns a function into an :class:`OpDefinition`."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, overload

from nbflow.config import Field, as_field
from nbflow.definitions._callables import check_name
from nbflow.definitions.annotations import typed_ins, typed_outs
from nbflow.definitions.composition import PendingNodeInvocation, current_recorder
from nbflow.definitions.node import NodeDefinition
from nbflow.definitions.specs import (
    DEFAULT_OUTPUT,
    NO_VALUE,
    In,
    Out,
    Output,
    is_checkable_type,
    type_name,
)
from nbflow.definitions.tags import tag_problems, warn_seed_tags
from nbflow.errors import (
    InvalidDefinitionError,
    InvalidInvocationError,
    TypeCheckError,
    did_you_mean,
)

if TYPE_CHECKING:
    from nbflow.definitions.policy import RetryPolicy

CONTEXT_PARAM_NAMES = frozenset({"context", "_context", "_", "ctx", "_ctx"})


def takes_context(param: inspect.Parameter | None) -> bool:
    """Whether a function's first parameter is the execution context."""
    if param is None or param.kind is inspect.Parameter.KEYWORD_ONLY:
        return False
    ann = param.annotation
    ann_name = ann if isinstance(ann, str) else getattr(ann, "__name__", "")
    return param.name in CONTEXT_PARAM_NAMES or str(ann_name).endswith("ExecutionContext")


class OpDefinition(NodeDefinition):
    """A user function plus everything nbflow needs to schedule, configure and version it.

    The function's first parameter is the execution context when it is named ``context``
    (or ``_context``, ``_``, ``ctx``) or annotated as one; every other parameter is an input.
    Annotations type the inputs and outputs that ``ins``/``outs`` leave untyped (see
    :mod:`nbflow.definitions.annotations`).
    """

    def __init__(
        self,
        name: str,
        compute_fn: Callable[..., Any],
        ins: Mapping[str, In] | None = None,
        outs: Out | Mapping[str, Out] | None = None,
        config_schema: Any = None,
        required_resource_keys: Iterable[str] | None = None,
        tags: Mapping[str, Any] | None = None,
        version: str | None = None,
        retry_policy: RetryPolicy | None = None,
        description: str | None = None,
    ) -> None:
        self.name = check_name("Op", name)
        self.compute_fn = compute_fn
        self.description = description
        self.tags = MappingProxyType(dict(tags or {}))
        self.config_schema = config_schema
        self.config_field: Field | None = None if config_schema is None else as_field(config_schema)
        self.required_resource_keys = frozenset(required_resource_keys or ())
        self.version = None if version is None else _valid_version(f"Op {name!r}", version)
        self.retry_policy = retry_policy
        self.is_generator = inspect.isgeneratorfunction(compute_fn)

        problems: list[str] = []
        signature = inspect.signature(compute_fn)
        params = list(signature.parameters.values())
        self.has_context = takes_context(params[0] if params else None)
        input_params = params[1:] if self.has_context else params
        resolved_ins = _resolve_ins(input_params, dict(ins or {}), problems)
        self.ins = MappingProxyType(typed_ins(compute_fn, input_params, resolved_ins))
        self.positional_inputs = tuple(n for n, spec in self.ins.items() if not spec.is_nothing)
        resolved_outs = _resolve_outs(outs, problems)
        self.outs = MappingProxyType(
            typed_outs(compute_fn, signature.return_annotation, resolved_outs, self.is_generator)
        )
        if not self.has_context and self.config_field:
            problems.append(
                "it declares config but its function takes no context. Fix: make `context` "
                f"the first parameter: def {name}(context, ...)."
            )
        problems += tag_problems(self.tags)
        if problems:
            raise InvalidDefinitionError.build(f"Op {name!r}", problems)
        warn_seed_tags(f"Op {name!r}", self.tags)

    @property
    def kind(self) -> str:
        return "op"

    @property
    def output_defs(self) -> Mapping[str, Out]:
        return self.outs

    def with_tags(self, **extra: Any) -> OpDefinition:
        """A copy of this op with extra tags."""
        clone = object.__new__(OpDefinition)
        clone.__dict__.update(self.__dict__)
        clone.tags = MappingProxyType({**self.tags, **extra})
        return clone

    def configured(
        self,
        config_or_config_fn: Any,
        name: str | None = None,
        config_schema: Any = None,
        description: str | None = None,
    ) -> OpDefinition:
        """A copy of this op with its config fixed, or derived from a new config.

        The config given here counts in the op's version exactly as run config would.

        Args:
            config_or_config_fn: the config, or a function of the new config returning it.
            name: the new op's name (keeps this op's name if not given).
            config_schema: schema of the new config a config function receives.
            description: replaces the description.

        Raises:
            DefinitionError: ``config_schema`` given with a fixed config, or a bad name.
            RunConfigValidationError: a fixed config does not fit this op's schema.
        """
        from nbflow.definitions.configured import configured_field  # loaded on first use

        new_name = self.name if name is None else check_name("Op", name)
        clone = object.__new__(OpDefinition)
        clone.__dict__.update(self.__dict__)
        clone.name = new_name
        clone.config_field = configured_field(
            self.config_field, config_or_config_fn, config_schema, f"op {new_name!r}"
        )
        clone.config_schema = config_schema if callable(config_or_config_fn) else None
        clone.description = description or self.description
        return clone

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        recorder = current_recorder()
        if recorder is not None:
            return recorder.invoke(PendingNodeInvocation(self), args, kwargs)
        return invoke_op_directly(self, args, kwargs)


def _valid_version(owner: str, version: str) -> str:
    from nbflow.versioning.strategy import validate_version  # versioning loads when used

    return validate_version(owner, version)


def _resolve_ins(
    params: list[inspect.Parameter], declared: dict[str, In], problems: list[str]
) -> dict[str, In]:
    ins: dict[str, In] = {}
    for param in params:
        if param.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
            problems.append(
                f"parameter {param.name!r} is *args/**kwargs; every op input must be a named "
                "parameter. Fix: list the inputs as parameters."
            )
            continue
        spec = declared.pop(param.name, None) or In()
        if param.default is not inspect.Parameter.empty and not spec.has_default_value:
            spec = replace(spec, default_value=param.default)
        ins[param.name] = spec
    for name, spec in declared.items():
        if spec.is_nothing:
            ins[name] = spec
    for extra in (k for k, v in declared.items() if not v.is_nothing):
        problems.append(
            f"ins has {extra!r}, which is not a parameter of the function."
            f"{did_you_mean(extra, [p.name for p in params])} Fix: add a parameter named "
            f"{extra!r} or remove it from ins."
        )
    return ins


def _resolve_outs(outs: Any, problems: list[str]) -> dict[str, Out]:
    if outs is None:
        return {DEFAULT_OUTPUT: Out()}
    if isinstance(outs, Out):
        return {DEFAULT_OUTPUT: outs}
    if isinstance(outs, Mapping):
        bad = [k for k, v in outs.items() if not isinstance(v, Out) or not str(k).isidentifier()]
        if bad:
            problems.append(
                f"out has entries {bad} that are not identifier names mapped to Out(). "
                "Fix: out={'a': Out(), 'b': Out()}."
            )
        return dict(outs)
    problems.append(f"out is {outs!r}; expected Out() or a dict of names to Out().")
    return {}


def is_op_context(value: Any) -> bool:
    """Whether ``value`` is an execution context that can be bound to an op."""
    return callable(getattr(value, "bind_to_op", None))


def check_value_type(owner: str, spec: In | Out, value: Any) -> str | None:
    """Return a problem message if ``value`` does not fit ``spec.python_type``, else None."""
    expected = spec.python_type
    if expected is None:
        return None
    try:
        if isinstance(value, expected):  # the per-value cost: one isinstance on the happy path
            return None
    except TypeError:  # not a class (``list[int]``, ``Any``): nothing to check against
        return None
    if not is_checkable_type(expected):
        return None
    problem = (
        f"{owner} expected a value of type {spec.type_label or type_name(expected)}, got "
        f"{type(value).__name__} {value!r:.60}."
    )
    if spec.type_label is None:
        return problem
    if isinstance(spec, In):
        fix = "pass a value of that type (correct the upstream op or input value)"
    else:
        fix = "return a value of that type"
    return f"{problem} Fix: {fix}, or change the annotation if it is wrong."


def invoke_op_directly(op_def: OpDefinition, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Call an op like a function (outside any run): bind the context, check inputs, run it."""
    rest = list(args)
    call_args: list[Any] = []
    if op_def.has_context:
        ctx = rest.pop(0) if rest else kwargs.pop("context", None)
        if not is_op_context(ctx):
            raise InvalidInvocationError(
                f"Op {op_def.name!r} takes a context as its first argument, got {ctx!r:.60}. "
                f"Fix: {op_def.name}(build_op_context(), ...)."
            )
        call_args.append(ctx.bind_to_op(op_def))
    context = call_args[0] if call_args else None
    inputs = _bind_inputs(op_def, rest, kwargs)
    result = op_def.compute_fn(*call_args, **inputs)
    if op_def.is_generator:
        from nbflow.definitions.user_events import (
            AssetMaterialization,
            AssetObservation,
            ExpectationResult,
        )

        values: dict[str, Any] = {}
        for item in result:
            if isinstance(item, Output):
                values[item.output_name] = item.value
                _note_metadata(context, item.output_name, item)
            elif context is not None and isinstance(
                item, (AssetMaterialization, AssetObservation, ExpectationResult)
            ):
                context.log_event(item)
        _check_outputs(op_def, values)
        ordered = tuple(values[name] for name in op_def.outs if name in values)
        return ordered[0] if len(ordered) == 1 else ordered
    _check_outputs(op_def, _returned_outputs(op_def, result))
    if isinstance(result, Output):
        _note_metadata(context, result.output_name, result)
        return result.value
    if isinstance(result, tuple) and len(result) == len(op_def.outs) > 1:
        for name, item in zip(op_def.outs, result, strict=True):
            _note_metadata(context, name, item)
    return result


def _note_metadata(context: Any, output_name: str, item: Any) -> None:
    """Keep an ``Output``'s metadata on the context of a direct call, as a run keeps it."""
    if context is not None and isinstance(item, Output) and item.metadata:
        context.merge_output_metadata(output_name, item.metadata)


def _returned_outputs(op_def: OpDefinition, result: Any) -> dict[str, Any]:
    """The values of each output in what a (non-generator) op returned, as a run reads them."""
    if isinstance(result, Output):
        return {result.output_name: result.value}
    names = list(op_def.outs)
    if len(names) == 1:
        return {names[0]: result}
    if isinstance(result, tuple) and len(result) == len(names) > 1:
        pairs = zip(names, result, strict=True)
        return {n: v.value if isinstance(v, Output) else v for n, v in pairs}
    return {}


def _check_outputs(op_def: OpDefinition, values: Mapping[str, Any]) -> None:
    """Raise the error a run would raise if an output value has the wrong type."""
    for name, value in values.items():
        spec = op_def.outs.get(name)
        if spec is None:  # an undeclared output: a run reports it; a direct call returns it
            continue
        problem = check_value_type(f"Output {op_def.name}.{name}", spec, value)
        if problem:
            raise TypeCheckError.build(problem, is_input=False)


def _bind_inputs(op_def: OpDefinition, args: list[Any], kwargs: dict[str, Any]) -> dict[str, Any]:
    names = op_def.positional_inputs
    problems: list[str] = []
    if len(args) > len(names):
        problems.append(f"it takes {len(names)} inputs {list(names)} but got {len(args)}.")
    bound = dict(zip(names, args, strict=False))
    for key, value in kwargs.items():
        if key not in op_def.ins:
            problems.append(f"unknown input {key!r}.{did_you_mean(key, names)}")
        elif key in bound:
            problems.append(f"input {key!r} given twice.")
        else:
            bound[key] = value
    for name, spec in op_def.ins.items():
        if name not in bound:
            if spec.default_value is NO_VALUE:
                problems.append(f"input {name!r} is missing.")
            else:
                bound[name] = spec.default_value
        else:
            msg = check_value_type(f"input {name!r}", spec, bound[name])
            if msg:
                problems.append(msg)
    if problems:
        raise InvalidInvocationError(
            f"Invoking op {op_def.name!r} failed:\n" + "\n".join(f"  - {p}" for p in problems)
        )
    return bound


@overload
def op(compute_fn: Callable[..., Any]) -> OpDefinition: ...


@overload
def op(
    compute_fn: None = None,
    *,
    name: str | None = None,
    description: str | None = None,
    ins: Mapping[str, In] | None = None,
    out: Out | Mapping[str, Out] | None = None,
    config_schema: Any = None,
    required_resource_keys: Iterable[str] | None = None,
    tags: Mapping[str, Any] | None = None,
    version: str | None = None,
    retry_policy: RetryPolicy | None = None,
    code_version: str | None = None,
) -> Callable[[Callable[..., Any]], OpDefinition]: ...


def op(
    compute_fn: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    description: str | None = None,
    ins: Mapping[str, In] | None = None,
    out: Out | Mapping[str, Out] | None = None,
    config_schema: Any = None,
    required_resource_keys: Iterable[str] | None = None,
    tags: Mapping[str, Any] | None = None,
    version: str | None = None,
    retry_policy: RetryPolicy | None = None,
    code_version: str | None = None,
) -> OpDefinition | Callable[[Callable[..., Any]], OpDefinition]:
    """Define an op from a function (``@op`` or ``@op(...)``).

    Args:
        name: node name; defaults to the function's name.
        description: defaults to the function's docstring.
        ins: extra information about inputs, keyed by parameter name.
        out: ``Out()`` for one output named ``result``, or a dict of several outputs (the
            function then returns a tuple in that order, or yields ``Output(value, name)``).
        config_schema: schema of ``ops.<name>.config`` in run config.
        required_resource_keys: resources the op reads from ``context.resources``.
        tags: free-form tags; ``nbflow/priority`` orders ready steps.
        version: code version for memoization; wins over the job's version strategy.
        retry_policy: how to retry the op when it raises.
        code_version: another name for ``version``.
    """
    if version is not None and code_version is not None and version != code_version:
        raise InvalidDefinitionError(
            f"Op got version={version!r} and code_version={code_version!r}; pass only one."
        )

    def decorate(fn: Callable[..., Any]) -> OpDefinition:
        return OpDefinition(
            name=name or fn.__name__,
            compute_fn=fn,
            ins=ins,
            outs=out,
            config_schema=config_schema,
            required_resource_keys=required_resource_keys,
            tags=tags,
            version=version if version is not None else code_version,
            retry_policy=retry_policy,
            description=description or inspect.getdoc(fn),
        )

    return decorate(compute_fn) if compute_fn is not None else decorate
