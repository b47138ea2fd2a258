"""Building a run's resources in dependency order, and tearing them down after it."""

from __future__ import annotations

import contextlib
import inspect
import time
from typing import TYPE_CHECKING, Any

from nbflow.definitions.topological import topological_order
from nbflow.errors import InvalidDefinitionError, ResourceInitError, did_you_mean
from nbflow.events import ErrorInfo, EventType, ResourceInitData, StepFailureData

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping

    from nbflow.definitions.resource import ResourceDefinition


class Resources:
    """The resources available to an op: ``context.resources.db`` or ``context.resources["db"]``."""

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, Any]) -> None:
        object.__setattr__(self, "_values", dict(values))

    def __getattr__(self, key: str) -> Any:
        try:
            return self._values[key]
        except KeyError:
            raise AttributeError(
                f"No resource {key!r} here.{did_you_mean(key, self._values)} Available: "
                f"{sorted(self._values)}. Fix: list it in the op's required_resource_keys and "
                "give the job a resource with that key."
            ) from None

    def __getitem__(self, key: str) -> Any:
        return getattr(self, key)

    def __contains__(self, key: object) -> bool:
        return key in self._values

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __setattr__(self, key: str, value: Any) -> None:
        raise AttributeError("Resources are read-only.")

    def _asdict(self) -> dict[str, Any]:
        return dict(self._values)

    def __repr__(self) -> str:
        return f"Resources({', '.join(sorted(self._values))})"


class InitResourceContext:
    """What a resource function receives: its config, the resources it needs, the run."""

    def __init__(
        self,
        *,
        resource_config: Any,
        resource_def: ResourceDefinition,
        resources: Resources,
        instance: Any = None,
        run_id: str | None = None,
        log: Any = None,
    ) -> None:
        self.resource_config = resource_config
        self.resource_def = resource_def
        self.resources = resources
        self.instance = instance
        self.run_id = run_id
        self.log = log


def resource_order(
    resource_defs: Mapping[str, ResourceDefinition], needed: Iterable[str]
) -> list[str]:
    """``needed`` keys and everything they need, dependencies first; rejects cycles."""
    problems: list[str] = []
    upstream: dict[str, list[str]] = {}
    pending = sorted(set(needed), reverse=True)
    while pending:
        key = pending.pop()
        if key in upstream:
            continue
        definition = resource_defs.get(key)
        if definition is None:
            problems.append(
                f"resource {key!r} is needed but not provided.{did_you_mean(key, resource_defs)}"
            )
            upstream[key] = []
            continue
        upstream[key] = sorted(definition.required_resource_keys)
        pending.extend(reversed(upstream[key]))
    order, cycles = topological_order(upstream)
    for cycle in cycles:
        problems.append(f"resources depend on each other in a cycle: {' → '.join(cycle)}")
    if problems:
        raise InvalidDefinitionError.build("Resources", problems)
    return order


def _enter(value: Any, stack: contextlib.ExitStack) -> Any:
    if isinstance(value, contextlib.AbstractContextManager) and isinstance(
        value, contextlib.ContextDecorator
    ):
        return stack.enter_context(value)
    return value


def runs_user_code(definition: ResourceDefinition) -> bool:
    """Whether building ``definition`` calls code outside nbflow (a user's resource function).

    Only functions defined in nbflow's own modules count as nbflow's; anything else
    (including a callable object without a module) is taken for user code.
    """
    module = getattr(definition.resource_fn, "__module__", None) or ""
    return module != "nbflow" and not module.startswith("nbflow.")


def build_resources(
    resource_defs: Mapping[str, ResourceDefinition],
    configs: Mapping[str, Any],
    needed: Iterable[str],
    stack: contextlib.ExitStack,
    *,
    instance: Any = None,
    run_id: str | None = None,
    log: Any = None,
    report: Callable[[EventType, str, Any], object] | None = None,
) -> Resources:
    """Build ``needed`` resources (and their dependencies) in order; teardown via ``stack``.

    A generator resource runs to its ``yield`` now and past it when ``stack`` closes; a
    resource function returning a ``@contextmanager`` object is entered likewise.
    ``report(event_type, message, data)`` hears RESOURCE_INIT_STARTED, then
    RESOURCE_INIT_SUCCESS (each resource's time) or RESOURCE_INIT_FAILURE.
    """
    order = resource_order(resource_defs, needed)
    listed = f"[{', '.join(order)}]"
    if report is not None and order:
        report(
            EventType.RESOURCE_INIT_STARTED,
            f"Starting initialization of resources {listed}.",
            ResourceInitData(tuple(order)),
        )
    built: dict[str, Any] = {}
    init_ms: dict[str, float] = {}
    for key in order:
        started = time.perf_counter()
        definition = resource_defs[key]
        context = InitResourceContext(
            resource_config=configs.get(key),
            resource_def=definition,
            resources=Resources({k: built[k] for k in definition.required_resource_keys}),
            instance=instance,
            run_id=run_id,
            log=log,
        )
        fn = definition.resource_fn
        args = (context,) if definition.takes_context else ()
        try:
            if inspect.isgeneratorfunction(fn):
                built[key] = stack.enter_context(contextlib.contextmanager(fn)(*args))
            else:
                built[key] = _enter(fn(*args), stack)
        except Exception as exc:
            error = ResourceInitError.wrap(key, exc)
            if report is not None:
                failure = StepFailureData(ErrorInfo.from_exception(error), user_failure=True)
                report(EventType.RESOURCE_INIT_FAILURE, str(error), failure)
            raise error from exc
        init_ms[key] = round((time.perf_counter() - started) * 1000, 3)
    if report is not None and order:
        report(
            EventType.RESOURCE_INIT_SUCCESS,
            f"Finished initialization of resources {listed}.",
            ResourceInitData(tuple(order), init_ms),
        )
    return Resources(built)
