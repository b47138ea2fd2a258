"""Jobs follow their definitions: an op, graph or resource redefined after the job was built.

In a notebook an op is edited by running its cell again, which binds the name ``scale`` to a
new definition while a job built in an earlier cell still holds the old one; a script run as
``__main__`` can do the same. Every entry point that runs or versions a job
(``execute_in_process``, ``execute_job``, ``list_versions``, the notebook views) first asks
:func:`current_job` for the job as the definitions are now:

- A definition is *followed* when its function (an op's compute function, a graph's
  composition function, a resource's function) is defined at the top level of a module or
  notebook: its ``__qualname__`` has no dot (so not ``<locals>`` of a job factory, not a
  method) and its ``__globals__`` are that module's. Its *binding* is
  ``fn.__globals__[fn.__name__]``, the name it was defined under, as it is now.
- The binding is unchanged when it is made from the same function: the definition itself,
  the function, ``op.with_tags(...)``, ``op.alias(...)``, an asset of that op. A name that is
  no longer bound at all (``del``) is not followed.
- It was *redefined* when it is a definition of the same kind whose function has the same
  ``__module__`` and ``__qualname__``. The job is then rebuilt: ``@job``/``@graph`` functions
  run again (their calls find the names as they are now; definitions reached another way are
  substituted, nested graphs first), graphs made with ``GraphDefinition(...)`` get the new node
  definitions, ``resource_defs`` entries are replaced. The job's own name, tags, config,
  executor, hooks and version strategy are kept.
- Anything else is a :class:`~nbflow.errors.RedefinitionError`, raised before anything runs:
  the name now holds a plain function, another kind of definition or a value, the job is an
  asset job (it has no composition function to run again), or the rebuilt job is invalid
  (the new op lost an input the job passes it). The message names the definition, where it
  was redefined (``file.py:12``; in IPython, ``Cell In[5], line 1`` when the notebook layer is
  loaded) and the fix.

:func:`redefinition_reasons` gives, for a rebuilt job, the steps each redefinition concerns,
with the reason ``op 'scale' redefined after job 'pipeline' was built`` (``list_versions``
adds it to those steps' rows).

Cost: the followed definitions of a job are found once per job; each call then reads one dict
entry per definition and compares identities (well under a microsecond per op). Rebuilt jobs
are cached under the identities of the current bindings, so a notebook that redefines nothing
more rebuilds nothing more, and a cell re-run without edits rebuilds once.
"""

from __future__ import annotations

import threading
import types
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from nbflow.definitions.asset import AssetsDefinition
from nbflow.definitions.composition import PendingNodeInvocation
from nbflow.definitions.dependency import DependencyDefinition, NodeInvocation
from nbflow.definitions.graph import GraphDefinition, compose_graph
from nbflow.definitions.io_manager import IOManagerDefinition
from nbflow.definitions.job import JobDefinition
from nbflow.definitions.node import NodeDefinition
from nbflow.definitions.op import OpDefinition
from nbflow.definitions.resource import ResourceDefinition
from nbflow.errors import InvalidDefinitionError, RedefinitionError

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

_MISSING = object()


# --- where code was defined ------------------------------------------------------------------


class LocationDescriber(Protocol):
    """Names places in user code for messages; the notebook layer registers one for cells."""

    def describe_code(self, filename: str, line: int) -> str | None:
        """``"Cell In[5], line 1"`` for code compiled from ``filename``, or ``None``."""

    def describe_binding(self, namespace: Mapping[str, Any], name: str) -> str | None:
        """Where ``name`` was last bound in ``namespace`` (e.g. ``"Cell In[6]"``), or ``None``."""


_describers: list[LocationDescriber] = []


def register_location_describer(describer: LocationDescriber) -> None:
    """Let ``describer`` name code locations in redefinition messages (newest asked first)."""
    if all(d is not describer for d in _describers):
        _describers.insert(0, describer)


def unregister_location_describer(describer: LocationDescriber) -> None:
    """Stop asking ``describer``."""
    _describers[:] = [d for d in _describers if d is not describer]


def code_location(fn: types.FunctionType) -> str:
    """Where ``fn`` was defined: a registered describer's name for it, else ``file:line``."""
    return _located(fn)[0]


def _located(fn: types.FunctionType) -> tuple[str, bool]:
    """(where ``fn`` was defined, whether a describer named it, e.g. as a notebook cell)."""
    code = fn.__code__
    for describer in list(_describers):
        try:
            text = describer.describe_code(code.co_filename, code.co_firstlineno)
        except Exception:  # a describer never stops a run
            text = None
        if text:
            return text, True
    return f"{code.co_filename}:{code.co_firstlineno}", False


def _binding_location(namespace: Mapping[str, Any], name: str) -> str | None:
    for describer in list(_describers):
        try:
            text = describer.describe_binding(namespace, name)
        except Exception:
            text = None
        if text:
            return text
    return None


# --- what a job follows ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Followed:
    """A definition of a job, the function it was made from, and where that name lives."""

    definition: Any
    function: types.FunctionType
    namespace: dict[str, Any]
    name: str
    kind: type
    label: str  # "op 'scale'", "graph 'inner'", "resource 'db'"
    same: object  # what the name held when first looked at, if made from the same function


def _top_level(fn: object) -> types.FunctionType | None:
    """``fn`` when it is a function defined at the top level of its own module, else None."""
    if not isinstance(fn, types.FunctionType):
        return None
    if fn.__qualname__ != fn.__name__ or fn.__name__.startswith("<"):
        return None  # nested (<locals>), a method, a lambda
    if fn.__globals__.get("__name__") != fn.__module__:
        return None  # functools.wraps copied the names of a function from another module
    return fn


def _follow(definition: Any, label: str | None = None) -> _Followed | None:
    """How to find ``definition``'s current binding, or ``None`` when it is not followed."""
    fn: object
    kind: type
    if isinstance(definition, OpDefinition):
        fn, kind, what = definition.compute_fn, OpDefinition, "op"
    elif isinstance(definition, GraphDefinition):
        fn, kind, what = definition.compose_fn, GraphDefinition, "graph"
    elif isinstance(definition, IOManagerDefinition):
        fn, kind, what = definition.resource_fn, IOManagerDefinition, "IO manager"
    elif isinstance(definition, ResourceDefinition):
        fn, kind, what = definition.resource_fn, ResourceDefinition, "resource"
    else:
        return None
    top = _top_level(fn)
    if top is None:
        return None
    label = label or f"{what} {definition.name!r}"
    bound = top.__globals__.get(top.__name__, _MISSING)
    same = bound if _function_of(bound, kind) is top else definition  # an asset, with_tags...
    return _Followed(definition, top, top.__globals__, top.__name__, kind, label, same)


def _followed_by(job: JobDefinition) -> tuple[_Followed, ...]:
    """Every followed definition of ``job``: ops and graphs at any depth, then resources."""
    found: list[_Followed] = []
    seen: set[int] = set()

    def visit(graph: GraphDefinition) -> None:
        for definition in graph.node_defs:
            if id(definition) in seen:
                continue
            seen.add(id(definition))
            followed = _follow(definition)
            if followed is not None:
                found.append(followed)
            if isinstance(definition, GraphDefinition):
                visit(definition)

    if job.defined_at is None:  # made from a graph (to_job): follow that graph too
        top = _follow(job.graph_def)
        if top is not None:
            found.append(top)
    visit(job.graph_def)
    for key, resource_def in job.resource_defs.items():
        followed = _follow(resource_def, _resource_label(resource_def, key))
        if followed is not None:
            found.append(followed)
    return tuple(found)


def _unchanged(followed: tuple[_Followed, ...]) -> bool:
    """The fast path: every binding is still what it was, the definition, its function, or
    unbound."""
    for f in followed:
        bound = f.namespace.get(f.name, _MISSING)
        if (
            bound is not f.same
            and bound is not f.definition
            and bound is not f.function
            and bound is not _MISSING
        ):
            return False
    return True


def _unwrapped(value: object, kind: type) -> object:
    """The definition of ``kind`` a binding carries: an alias's definition, an asset's op,
    a job's graph (``with_hooks`` copies and ``to_job`` jobs follow the ``@job``/``@graph``
    name they were made from)."""
    if isinstance(value, PendingNodeInvocation):
        value = value.definition
    if isinstance(value, AssetsDefinition) and kind is OpDefinition:
        value = value.op
    if isinstance(value, JobDefinition) and kind is GraphDefinition:
        value = value.graph_def
    return value


def _function_of(value: object, kind: type) -> object:
    value = _unwrapped(value, kind)
    if isinstance(value, OpDefinition):
        return value.compute_fn
    if isinstance(value, GraphDefinition):
        return value.compose_fn
    if isinstance(value, ResourceDefinition):
        return value.resource_fn
    return value


def _definition_in(value: object, kind: type) -> Any:
    value = _unwrapped(value, kind)
    return value if isinstance(value, kind) else None


def _describe_value(value: object) -> str:
    if isinstance(value, NodeDefinition | AssetsDefinition | ResourceDefinition):
        fn = _function_of(value, type(value))
        made_from = f" (from function {getattr(fn, '__qualname__', fn)!r})"
        if isinstance(value, AssetsDefinition):
            return f"asset {value.key.to_user_string()!r}{made_from}"
        if isinstance(value, ResourceDefinition):
            return f"a resource{made_from}"
        return f"{value.describe()}{made_from}"
    if isinstance(value, JobDefinition):
        return f"job {value.name!r}"
    if isinstance(value, types.FunctionType):
        return "a plain function"
    kind = type(value)
    module = "" if kind.__module__ == "builtins" else f"{kind.__module__}."
    return f"a value of type {module}{kind.__qualname__}"


def _kind_name(kind: type) -> str:
    return {
        OpDefinition: "an op",
        GraphDefinition: "a graph",
        IOManagerDefinition: "an IO manager",
    }.get(kind, "a resource")


# --- the result ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Redefinition:
    """A definition of a job that was replaced by the one its name is bound to now.

    Attributes:
        label: what was redefined: ``"op 'scale'"``, ``"graph 'inner'"``, ``"resource 'db'"``.
        location: where the new definition was made (``"Cell In[5], line 1"``, ``"f.py:12"``).
        old: the definition the job was built with.
        new: the definition it runs now.
    """

    label: str
    location: str
    old: Any
    new: Any

    def reason(self, job_name: str) -> str:
        """``"op 'scale' redefined after job 'pipeline' was built"``."""
        return f"{self.label} redefined after job {job_name!r} was built"


@dataclass(frozen=True, slots=True)
class _Rebuilt:
    redefinitions: tuple[Redefinition, ...]
    reasons: Mapping[str, tuple[str, ...]]


@dataclass
class _State:
    """What :func:`current_job` remembers about one job (kept while the job lives)."""

    followed: tuple[_Followed, ...]
    key: tuple[int, ...] | None = None
    bindings: tuple[Any, ...] = ()  # held so that the ids in ``key`` stay unique
    result: JobDefinition | None = None
    result_followed: tuple[_Followed, ...] = ()


_states: weakref.WeakKeyDictionary[JobDefinition, _State] = weakref.WeakKeyDictionary()
_origins: weakref.WeakKeyDictionary[JobDefinition, weakref.ref[JobDefinition]] = (
    weakref.WeakKeyDictionary()
)
_rebuilt: weakref.WeakKeyDictionary[JobDefinition, _Rebuilt] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def origin_job(job: JobDefinition) -> JobDefinition:
    """The job ``job`` was rebuilt from by :func:`current_job` (``job`` itself if it was not)."""
    ref = _origins.get(job)
    origin = ref() if ref is not None else None
    return origin if origin is not None else job


def redefinitions(job: JobDefinition) -> tuple[Redefinition, ...]:
    """The redefinitions a job returned by :func:`current_job` was rebuilt with."""
    found = _rebuilt.get(job)
    return found.redefinitions if found is not None else ()


def redefinition_reasons(job: JobDefinition) -> Mapping[str, tuple[str, ...]]:
    """Step key → the redefinitions that concern it, as reasons; empty if none."""
    found = _rebuilt.get(job)
    return found.reasons if found is not None else {}


def current_job(job: JobDefinition) -> JobDefinition:
    """``job`` as its definitions are bound now: itself, or a rebuilt copy (cached).

    Raises:
        RedefinitionError: a definition's name is bound to something the job cannot be
            rebuilt with; names the definition, where it was redefined, and the fix.
    """
    origin = origin_job(job)
    state = _states.get(origin)
    if state is None:
        state = _State(_followed_by(origin))
        with _lock:
            state = _states.setdefault(origin, state)
    if _unchanged(state.followed):
        return origin
    bindings = tuple(f.namespace.get(f.name, _MISSING) for f in state.followed)
    key = tuple(map(id, bindings))
    result = state.result
    if key == state.key and result is not None and _unchanged(state.result_followed):
        return result
    result = _Rebuilder(origin).build()
    with _lock:
        state.key, state.bindings, state.result = key, bindings, result
        state.result_followed = _followed_by(result) if result is not origin else ()
    return result


# --- rebuilding ------------------------------------------------------------------------------


class _Rebuilder:
    """Rebuilds one job against the current bindings, collecting every problem on the way."""

    def __init__(self, job: JobDefinition) -> None:
        self.job = job
        self.redefined: list[Redefinition] = []
        self.problems: list[str] = []
        self.final: dict[int, NodeDefinition] = {}  # id(definition) → what replaces it
        self.done: set[int] = set()
        self.marks: dict[int, list[str]] = {}  # id(definition in the new job) → reasons

    def build(self) -> JobDefinition:
        job = self.job
        if job.defined_at is None:  # made from a graph, which may be redefined itself
            graph: Any = self._node(job.graph_def)
        else:  # @job: its function's name holds the job, not a graph
            graph = self._resolve_graph(job.graph_def)
        resources = dict(job.resource_defs)
        redefined_keys: set[str] = set()
        for key, resource_def in job.resource_defs.items():
            followed = _follow(resource_def, _resource_label(resource_def, key))
            new = self._redefined(followed) if followed is not None else None
            if new is not None:
                resources[key] = new
                redefined_keys.add(key)
        if not self.redefined and not self.problems:
            return job
        if job.asset_layer is not None and self.redefined:
            self.problems += [
                f"{r.label} was redefined ({r.location}); a job of assets is not rebuilt with "
                "redefined assets (build it again from the current ones)."
                for r in self.redefined
            ]
        if not self.problems:
            rebuilt = self._copy(graph, resources)
            if rebuilt is not None:
                _origins[rebuilt] = weakref.ref(job)
                _rebuilt[rebuilt] = _Rebuilt(
                    tuple(self.redefined), self._reasons(rebuilt, redefined_keys)
                )
                return rebuilt
        compose = job.graph_def.compose_fn
        location, in_cell = (
            _located(compose) if isinstance(compose, types.FunctionType) else (None, False)
        )
        raise RedefinitionError.build(job.name, self.problems, location, in_cell)

    def _copy(
        self, graph: GraphDefinition, resources: Mapping[str, ResourceDefinition]
    ) -> JobDefinition | None:
        try:
            rebuilt = self.job._copy(graph_def=graph, resource_defs=resources)
        except InvalidDefinitionError as exc:
            self._no_longer_fits(exc)
            return None
        rebuilt.defined_at = self.job.defined_at
        return rebuilt

    def _redefined(self, followed: _Followed) -> Any:
        """The definition that replaced ``followed``, or ``None``; records problems."""
        bound = followed.namespace.get(followed.name, _MISSING)
        if bound is _MISSING or bound is followed.definition or bound is followed.function:
            return None
        fn = _function_of(bound, followed.kind)
        if fn is followed.function:
            return None
        old = followed.function
        if (
            isinstance(fn, types.FunctionType)
            and fn.__module__ == old.__module__
            and fn.__qualname__ == old.__qualname__
        ):
            where = code_location(fn)
            new = _definition_in(bound, followed.kind)
            if new is None:
                self.problems.append(
                    f"{followed.label} was redefined ({where}) as {_describe_value(bound)}, not "
                    f"as {_kind_name(followed.kind)}."
                )
                return None
            label = followed.label
            if isinstance(bound, AssetsDefinition):
                label = f"asset {bound.key.to_user_string()!r}"
            redefinition = Redefinition(label, where, followed.definition, new)
            self.redefined.append(redefinition)
            self.marks.setdefault(id(new), []).append(redefinition.reason(self.job.name))
            return new
        bound_at = _binding_location(followed.namespace, followed.name)
        if _definition_in(bound, followed.kind) is not None:
            why = "which is not a redefinition of it (a function of the same name and module)"
        else:
            why = f"not to {_kind_name(followed.kind)}"
        self.problems.append(
            f"the name {followed.name!r} of {followed.label} is now bound to "
            f"{_describe_value(bound)}{f' ({bound_at})' if bound_at else ''}, {why}, so the "
            "job would run a definition the code no longer has (use another name for the new "
            f"value, or define {followed.label} again)."
        )
        return None

    def _node(self, definition: NodeDefinition) -> NodeDefinition:
        """What replaces ``definition`` in the rebuilt job (itself when nothing changed).

        Both the old definition and the one its name holds now map to the result, so a
        composition function finds it whichever of the two it calls.
        """
        key = id(definition)
        if key in self.done:
            return self.final.get(key, definition)
        self.done.add(key)
        followed = _follow(definition)
        new = self._redefined(followed) if followed is not None else None
        target: NodeDefinition = definition if new is None else new
        if new is not None:
            self.done.add(id(new))
        if isinstance(target, GraphDefinition):
            target = self._resolve_graph(target)
        if new is not None and target is not new:
            self.final[id(new)] = target
            self.marks[id(target)] = self.marks.pop(id(new), [])
        if target is not definition:
            self.final[key] = target
        return target

    def _resolve_graph(self, graph: GraphDefinition) -> GraphDefinition:
        """``graph`` with its node definitions resolved; recomposed when any changed."""
        children = [self._node(d) for d in graph.node_defs]
        if self.problems or all(
            new is old for new, old in zip(children, graph.node_defs, strict=True)
        ):
            return graph  # unchanged, or the job fails anyway (composing would add noise)
        try:
            if graph.compose_fn is None:
                return self._rewired(graph)
            rebuilt = compose_graph(
                graph.compose_fn,
                graph.name,
                description=graph.description,
                ins=graph.declared_ins,
                out=graph.declared_outs,
                config=graph.config,
                tags=graph.tags,
                substitutions=self.final,
            )
        except Exception as exc:  # invalid now, or the composition function itself raised
            self._no_longer_fits(exc)
            return graph
        return rebuilt

    def _rewired(self, graph: GraphDefinition) -> GraphDefinition:
        """A graph built with ``GraphDefinition(...)``, with replaced node definitions."""
        final = self.final
        dependencies: dict[str | NodeInvocation, dict[str, DependencyDefinition]] = {}
        for name, node in graph.nodes.items():
            definition = final.get(id(node.definition), node.definition)
            invocation = NodeInvocation(
                name=definition.name,
                alias=None if name == definition.name else name,
                tags=dict(node.tags),
                hook_defs=node.hook_defs,
                retry_policy=node.retry_policy,
            )
            dependencies[invocation] = dict(graph.dependencies.get(name, {}))
        return GraphDefinition(
            name=graph.name,
            description=graph.description,
            node_defs=[final.get(id(d), d) for d in graph.node_defs],
            dependencies=dependencies,
            input_mappings=graph.input_mappings,
            output_mappings=graph.output_mappings,
            config=graph.config,
            tags=graph.tags,
            ins=graph.declared_ins,
            outs=graph.declared_outs,
            positional_inputs=graph.positional_inputs,
        )

    def _no_longer_fits(self, exc: BaseException) -> None:
        what = " and ".join(f"{r.label} ({r.location})" for r in self.redefined)
        were = "was" if len(self.redefined) == 1 else "were"
        if isinstance(exc, InvalidDefinitionError) and exc.problems:
            detail = " ".join(exc.problems)
        else:
            detail = f"{type(exc).__name__}: {exc}"
        self.problems.append(
            f"{what} {were} redefined, and job {self.job.name!r} no longer fits: {detail}"
        )

    def _reasons(
        self, rebuilt: JobDefinition, redefined_keys: set[str]
    ) -> dict[str, tuple[str, ...]]:
        """Step key → reasons of the redefinitions it runs: its op, a graph around it, a
        resource it uses or stores its outputs with."""
        by_label = {r.label: r.reason(self.job.name) for r in self.redefined}
        resources = _affected_resources(rebuilt, redefined_keys)
        reasons: dict[str, tuple[str, ...]] = {}
        top = rebuilt.graph_def
        around = tuple(self.marks.get(id(top), ()))  # a job made from a redefined graph
        for handle, op_def, inherited in _ops_with_marks(top, self.marks, "", around):
            found = list(inherited)
            used = set(op_def.required_resource_keys)
            used |= {out.io_manager_key for out in op_def.outs.values()}
            found += [by_label[resources[key]] for key in sorted(used & set(resources))]
            if found:
                reasons[handle] = tuple(dict.fromkeys(found))
        return reasons


def _resource_label(resource_def: ResourceDefinition, key: str) -> str:
    kind = "IO manager" if isinstance(resource_def, IOManagerDefinition) else "resource"
    return f"{kind} {key!r}"


def _affected_resources(job: JobDefinition, redefined_keys: set[str]) -> dict[str, str]:
    """Resource key → label of the redefined resource it is or depends on."""
    labels = {key: _resource_label(job.resource_defs[key], key) for key in redefined_keys}
    changed = True
    while changed:
        changed = False
        for key, resource_def in sorted(job.resource_defs.items()):
            if key in labels:
                continue
            for needed in sorted(resource_def.required_resource_keys):
                if needed in labels:
                    labels[key] = labels[needed]
                    changed = True
                    break
    return labels


def _ops_with_marks(
    graph: GraphDefinition,
    marks: Mapping[int, list[str]],
    prefix: str = "",
    inherited: tuple[str, ...] = (),
) -> Iterator[tuple[str, OpDefinition, tuple[str, ...]]]:
    for name in graph.topological_order:
        node = graph.nodes[name]
        here = inherited + tuple(marks.get(id(node.definition), ()))
        if isinstance(node.definition, GraphDefinition):
            yield from _ops_with_marks(node.definition, marks, f"{prefix}{name}.", here)
        elif isinstance(node.definition, OpDefinition):
            yield f"{prefix}{name}", node.definition, here
