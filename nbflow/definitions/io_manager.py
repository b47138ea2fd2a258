"""IO managers: how op outputs are stored and loaded as inputs downstream."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, overload

from nbflow.config import Field
from nbflow.definitions.resource import ResourceDefinition
from nbflow.errors import DefinitionError, InvalidContextUseError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from nbflow.definitions.asset_key import AssetKey


class OutputContext:
    """What an IO manager knows about an output it stores (or checks for)."""

    __slots__ = (
        "asset_key",
        "config",
        "log",
        "metadata",
        "name",
        "op_def",
        "partition_key",
        "resource_config",
        "resources",
        "run_id",
        "step_key",
        "version",
    )

    def __init__(
        self,
        *,
        step_key: str,
        name: str,
        run_id: str = "",
        version: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        config: Any = None,
        resource_config: Any = None,
        resources: Any = None,
        op_def: Any = None,
        asset_key: AssetKey | None = None,
        partition_key: str | None = None,
        log: Any = None,
    ) -> None:
        self.step_key = step_key
        self.name = name
        self.run_id = run_id
        self.version = version
        self.metadata = dict(metadata or {})
        self.config = config
        self.resource_config = resource_config
        self.resources = resources
        self.op_def = op_def
        self.asset_key = asset_key
        self.partition_key = partition_key
        self.log = log

    @property
    def has_asset_key(self) -> bool:
        return self.asset_key is not None

    @property
    def has_partition_key(self) -> bool:
        return self.partition_key is not None

    def get_identifier(self) -> list[str]:
        """Path parts that name this output.

        Assets: their key parts (the last one ``name@version`` when versioned), then the
        partition key if any. Other outputs: ``[step, output, version]`` when versioned,
        else ``[run_id, step, output]``.
        """
        if self.asset_key is not None:
            *head, last = self.asset_key.path
            parts = [*head, f"{last}@{self.version}" if self.version else last]
            return [*parts, self.partition_key] if self.partition_key is not None else parts
        if self.version is not None:
            return [self.step_key, self.name, self.version]
        if not self.run_id:
            raise InvalidContextUseError(
                f"Output {self.step_key}.{self.name} has neither a version nor a run id, so it "
                "has no identifier. This context was built outside a run."
            )
        return [self.run_id, self.step_key, self.name]

    get_output_identifier = get_identifier

    def __repr__(self) -> str:
        return f"OutputContext({self.step_key}.{self.name}, version={self.version!r})"


class InputContext:
    """What an IO manager knows about an input it loads."""

    __slots__ = (
        "asset_key",
        "config",
        "log",
        "metadata",
        "name",
        "op_def",
        "partition_key",
        "resource_config",
        "resources",
        "step_key",
        "upstream_output",
    )

    def __init__(
        self,
        *,
        name: str,
        step_key: str,
        upstream_output: OutputContext | None,
        metadata: Mapping[str, Any] | None = None,
        config: Any = None,
        resource_config: Any = None,
        resources: Any = None,
        op_def: Any = None,
        asset_key: AssetKey | None = None,
        partition_key: str | None = None,
        log: Any = None,
    ) -> None:
        self.name = name
        self.step_key = step_key
        self.upstream_output = upstream_output
        self.metadata = dict(metadata or {})
        self.config = config
        self.resource_config = resource_config
        self.resources = resources
        self.op_def = op_def
        self.asset_key = asset_key
        self.partition_key = partition_key
        self.log = log

    @property
    def has_asset_key(self) -> bool:
        return self.asset_key is not None

    @property
    def has_partition_key(self) -> bool:
        return self.partition_key is not None

    def __repr__(self) -> str:
        return f"InputContext({self.step_key}.{self.name})"


class IOManager(ABC):
    """Stores op outputs (``handle_output``) and loads them as inputs (``load_input``)."""

    @abstractmethod
    def handle_output(self, context: OutputContext, obj: Any) -> None:
        """Store ``obj``, the value of the output ``context`` describes."""

    @abstractmethod
    def load_input(self, context: InputContext) -> Any:
        """Return the value for the input ``context`` describes."""


class MemoizableIOManager(IOManager):
    """An IO manager that can tell whether an output is already stored (for memoization)."""

    @abstractmethod
    def has_output(self, context: OutputContext) -> bool:
        """Whether a value for the output ``context`` describes (version included) is stored."""


def stays_in_process(manager: object) -> bool:
    """Whether what ``manager`` stores can be read only by the process that stored it (values
    in a dictionary, files at a ``memory://`` URL): it cannot serve steps run in other
    processes. A manager says so with a true ``process_local`` attribute."""
    return bool(getattr(manager, "process_local", False))


def writes_through(manager: object) -> bool:
    """Whether a value ``manager`` just stored may reach its consumers in the same process
    directly, without ``load_input``.

    A manager says so with a true ``write_through`` attribute: its ``load_input`` gives back
    a value equal to the one it was handed, so reading the file back would only cost time and
    memory. Consumers then receive the very object the producer returned, as with in-memory
    IO. Other managers (by default) always have ``load_input`` called.
    """
    return getattr(manager, "write_through", False) is True


def is_memoizable(manager: object) -> bool:
    """Whether ``manager`` can answer ``has_output`` (subclass or duck-typed)."""
    return isinstance(manager, MemoizableIOManager) or callable(
        getattr(manager, "has_output", None)
    )


class IOManagerDefinition(ResourceDefinition):
    """A resource definition whose value is an :class:`IOManager`."""

    @staticmethod
    def hardcoded_io_manager(
        value: IOManager, description: str | None = None
    ) -> IOManagerDefinition:
        """An IO manager definition that is always ``value``."""
        if not callable(getattr(value, "load_input", None)) or not callable(
            getattr(value, "handle_output", None)
        ):
            raise DefinitionError(
                f"hardcoded_io_manager needs an IO manager, got {value!r}. Fix: pass an "
                "object with handle_output(context, obj) and load_input(context)."
            )
        return IOManagerDefinition(lambda: value, description=description)


@overload
def io_manager(config_schema: Callable[..., Any]) -> IOManagerDefinition: ...


@overload
def io_manager(
    config_schema: Any = None,
    description: str | None = None,
    required_resource_keys: Iterable[str] | None = None,
    version: str | None = None,
) -> Callable[[Callable[..., Any]], IOManagerDefinition]: ...


def io_manager(
    config_schema: Any = None,
    description: str | None = None,
    required_resource_keys: Iterable[str] | None = None,
    version: str | None = None,
) -> IOManagerDefinition | Callable[[Callable[..., Any]], IOManagerDefinition]:
    """Define an IO manager from a function of an init context that returns an IOManager."""
    if callable(config_schema) and not isinstance(config_schema, type | Field):
        return IOManagerDefinition(config_schema)

    def decorate(fn: Callable[..., Any]) -> IOManagerDefinition:
        return IOManagerDefinition(
            fn,
            config_schema=config_schema,
            description=description or fn.__doc__,
            required_resource_keys=required_resource_keys,
            version=version,
        )

    return decorate
