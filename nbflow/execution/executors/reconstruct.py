"""Reconstructable jobs: how another process rebuilds a job without running the user's script.

A :class:`ReconstructableJob` names where a job comes from — a module (or a file) and an
attribute: a ``@job`` or a function returning a job, called with JSON-serializable arguments.
Step processes and Dask workers import that and nothing else.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import inspect
import json
import os
import sys
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nbflow.definitions.job import JobDefinition
from nbflow.definitions.redefinition import current_job
from nbflow.errors import ReconstructionError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping, Sequence
    from types import ModuleType

    from nbflow.execution.executors.module_source import ModuleSource

_state = threading.local()


@contextlib.contextmanager
def loading_job() -> Iterator[None]:
    """Marks this thread as rebuilding a job (so a script that runs a job on import is caught)."""
    _state.loading = getattr(_state, "loading", 0) + 1
    try:
        yield
    finally:
        _state.loading -= 1


def is_loading_job() -> bool:
    """Whether this thread is importing the module of a job it rebuilds."""
    return bool(getattr(_state, "loading", 0))


@dataclass(frozen=True)
class ReconstructableJob:
    """Where to find a job in another process: ``module`` or ``file_path``, plus ``attribute``.

    ``attribute`` names a ``JobDefinition`` or a function that returns one when called with
    ``args`` and ``kwargs`` (JSON values). ``working_directory`` is put on ``sys.path`` first.
    With ``module_source`` (the text of module ``module_name``), the module is made from that
    text in memory instead: nothing is read from disk, so the process may be on another
    machine. Build it with :func:`reconstructable` or :func:`build_reconstructable_job`.
    """

    attribute: str
    module_name: str | None = None
    file_path: str | None = None
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    working_directory: str | None = None
    op_selection: tuple[str, ...] | None = None
    """Set by :meth:`get_subset`: the rebuilt job is that subset of the job."""
    module_source: ModuleSource | None = None
    """The text of ``module_name``, sent along for processes that cannot read its file."""

    def __post_init__(self) -> None:
        source = self.module_source
        if source is not None and source.module_name != self.module_name:
            raise ReconstructionError(
                f"A ReconstructableJob for module {self.module_name!r} was given the source "
                f"of module {source.module_name!r}. Fix: pass ModuleSource.of(module_name, "
                "text) for the module it names."
            )

    def get_subset(self, *, op_selection: Sequence[str] | None = None) -> ReconstructableJob:
        """A pointer to the subset of this job that ``op_selection`` selects (see
        ``JobDefinition.get_subset``); ``None`` returns the pointer itself."""
        if op_selection is None:
            return self
        return replace(self, op_selection=tuple(op_selection))

    def describe(self) -> str:
        where = self.module_name or self.file_path
        return f"{where}:{self.attribute}"

    def get_definition(self) -> JobDefinition:
        """Import the module (or file) and return the job it defines, with the definitions
        the module binds now (an op the module redefines after building the job is used).

        Raises:
            ReconstructionError: the module, attribute or job cannot be found or built.
        """
        with loading_job():
            module = self._import()
            target = getattr(module, self.attribute, None)
            if target is None:
                raise ReconstructionError(
                    f"Cannot rebuild job {self.describe()!r}: {self.attribute!r} is not defined "
                    f"in {module.__name__!r}. Fix: check the name, and that the definition is "
                    "at the module's top level."
                )
            value = target
            if not isinstance(target, JobDefinition):
                if not callable(target):
                    raise ReconstructionError(
                        f"Cannot rebuild job {self.describe()!r}: it is "
                        f"{type(target).__name__}, expected a JobDefinition or a function "
                        "returning one."
                    )
                value = target(*self.args, **dict(self.kwargs))
            elif self.args or self.kwargs:
                raise ReconstructionError(
                    f"{self.describe()!r} is a job, so it takes no reconstructable_args or "
                    "reconstructable_kwargs. Fix: name a function that builds the job instead."
                )
        if not isinstance(value, JobDefinition):
            hint = " Fix: return graph.to_job()." if hasattr(value, "to_job") else ""
            raise ReconstructionError(
                f"Reconstructor {self.describe()!r} returned {type(value).__name__}, expected "
                f"a JobDefinition.{hint}"
            )
        return current_job(value).get_subset(op_selection=self.op_selection)

    def _import(self) -> ModuleType:
        if self.module_source is not None:
            try:
                return self.module_source.install()
            except Exception as exc:
                raise ReconstructionError(
                    f"Cannot rebuild job {self.describe()!r}: running the source of module "
                    f"{self.module_name!r} sent with it raised {type(exc).__name__}: {exc}. "
                    "Fix: make sure the modules it imports are installed here (same "
                    "libraries and versions as where the job was defined)."
                ) from exc
        directory = self.working_directory
        if directory and directory not in sys.path:
            sys.path.insert(0, directory)
        try:
            if self.module_name is not None:
                try:
                    return importlib.import_module(self.module_name)
                except ModuleNotFoundError as exc:
                    if exc.name != self.module_name:
                        raise
                    # A long-lived process (a Dask worker) may have listed the folder before
                    # the module's file was written there: look again once.
                    importlib.invalidate_caches()
                    return importlib.import_module(self.module_name)
            assert self.file_path is not None
            return _import_file(self.file_path)
        except ReconstructionError:
            raise
        except Exception as exc:
            raise ReconstructionError(
                f"Cannot rebuild job {self.describe()!r}: importing it raised "
                f"{type(exc).__name__}: {exc}. Fix: make sure the module imports cleanly in a "
                "fresh Python process (same working directory and sys.path)."
            ) from exc


def _import_file(path: str) -> ModuleType:
    """Import a Python file once per process under a name derived from its path."""
    main = sys.modules.get("__main__")
    main_file = getattr(main, "__file__", None)
    if main is not None and main_file and os.path.abspath(main_file) == os.path.abspath(path):
        return main  # this process runs that script: never run it a second time
    digest = hashlib.sha256(os.path.abspath(path).encode()).hexdigest()[:16]
    name = f"_nbflow_job_file_{digest}"
    module = sys.modules.get(name)
    if module is not None:
        return module
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ReconstructionError(
            f"Cannot rebuild a job from {path!r}: it is not a Python file that can be imported."
        )
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def _import_root(module: ModuleType, name: str) -> str:
    """The ``sys.path`` folder module ``name`` is imported from (the cwd when unknown)."""
    file = getattr(module, "__file__", None)
    if not file:
        return os.getcwd()
    folder = Path(file).resolve().parent
    depth = name.count(".") + (Path(file).stem == "__init__")
    for _ in range(depth):
        folder = folder.parent
    return os.fspath(folder)


def _locate(module_name: str, qualname: str, target: object, what: str) -> ReconstructableJob:
    """Point at ``target``, found as ``qualname`` at the top level of ``module_name``."""
    if "<lambda>" in qualname:
        raise ReconstructionError.not_module_scoped(what, "it is a lambda")
    if "<locals>" in qualname:
        raise ReconstructionError.not_module_scoped(
            what, f"it is defined inside a function ({qualname})"
        )
    if "." in qualname:
        raise ReconstructionError.not_module_scoped(what, f"it is defined in a class ({qualname})")
    module = sys.modules.get(module_name)
    if module is None:
        raise ReconstructionError.not_module_scoped(what, f"module {module_name!r} is not loaded")
    if module_name == "__main__":
        spec_name = getattr(module.__spec__, "name", None)
        if spec_name:  # python -m package.module
            module_name = spec_name
        elif not getattr(module, "__file__", None):
            raise ReconstructionError.interactive(qualname)
    if getattr(module, qualname, None) is not target:
        attribute = next((k for k, v in vars(module).items() if v is target), None)
        if attribute is None:
            raise ReconstructionError.not_module_scoped(
                what, f"module {module.__name__!r} has no top-level name bound to it"
            )
        qualname = attribute
    if module_name == "__main__":  # a script: rebuilt by importing its file (guard it!)
        return ReconstructableJob(
            attribute=qualname,
            file_path=os.path.abspath(module.__file__),  # type: ignore[type-var]
            working_directory=os.getcwd(),
        )
    return ReconstructableJob(
        attribute=qualname,
        module_name=module_name,
        working_directory=_import_root(module, module_name),
    )


def reconstructable(target: JobDefinition | Callable[..., JobDefinition]) -> ReconstructableJob:
    """Point at a job so that other processes can rebuild it by importing its module.

    Args:
        target: a ``@job`` defined at module scope, or a module-scoped function that returns
            a job (needed for jobs made with ``GraphDefinition.to_job()``).

    Raises:
        ReconstructionError: ``target`` is a lambda, nested in a function or class, a
            ``to_job()`` value, or was defined in a REPL or notebook cell.

    Examples:
        >>> def define_my_job():
        ...     return my_graph.to_job()
        >>> reconstructable(define_my_job)  # doctest: +SKIP
    """
    if isinstance(target, JobDefinition):
        if target.defined_at is None:
            raise ReconstructionError.unbound_job(target.name)
        job_module, job_qualname = target.defined_at
        return _locate(job_module, job_qualname, target, f"job {target.name!r}")
    if not callable(target):
        raise ReconstructionError(
            f"reconstructable() got {type(target).__name__} {target!r:.60}; expected a @job or "
            "a module-scoped function that returns a JobDefinition."
        )
    module_name: str | None = getattr(target, "__module__", None)
    function_name: str | None = getattr(target, "__qualname__", None)
    if module_name is None or function_name is None:
        raise ReconstructionError.not_module_scoped(
            repr(target), "it has no __module__ or __qualname__ (not a plain function)"
        )
    pointer = _locate(module_name, function_name, target, f"function {function_name!r}")
    _check_builds_a_job(target, function_name)
    return pointer


def _check_builds_a_job(target: Callable[..., Any], name: str) -> None:
    """Refuse, before any run, a reconstructor that needs arguments or builds no job."""
    try:
        signature = inspect.signature(target)
    except (TypeError, ValueError):
        return  # a builtin or C function: found out when the job is rebuilt
    required = [
        p.name
        for p in signature.parameters.values()
        if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
    if required:
        raise ReconstructionError(
            f"reconstructable() got function {name!r}, which needs arguments "
            f"({', '.join(required)}): another process calls it with none.\nFix: give them "
            "defaults, or use build_reconstructable_job(module, function, "
            "reconstructable_args=..., reconstructable_kwargs=...)."
        )
    if is_loading_job():
        return  # being rebuilt: the caller checks what it returns
    with loading_job():
        value = target()
    if not isinstance(value, JobDefinition):
        hint = " Fix: return graph.to_job()." if hasattr(value, "to_job") else ""
        raise ReconstructionError(
            f"reconstructable() got function {name!r}, which returned "
            f"{type(value).__name__}; expected it to return a JobDefinition.{hint}"
        )


_pointer_providers: list[Callable[[JobDefinition], ReconstructableJob | None]] = []

INTERACTIVE_POINTER_MODULE = "nbflow.notebook.reconstruct"
"""Module that registers the pointer provider for jobs defined in IPython/Jupyter cells.

Imported by name (see tests/test_string_imports.py), and only when such a
job is run by an executor that starts other processes, so the core never imports IPython.
"""


def register_job_pointer_provider(
    provider: Callable[[JobDefinition], ReconstructableJob | None],
) -> None:
    """Let a higher layer point at jobs that :func:`reconstructable` cannot reach.

    ``provider(job)`` returns a :class:`ReconstructableJob`, or ``None`` when it does not
    apply (the job then travels by value). ``nbflow.notebook`` registers one that snapshots
    notebook cells into a module. Registering the same provider again is a no-op.
    """
    if provider not in _pointer_providers:
        _pointer_providers.append(provider)


def _defined_interactively(job_def: JobDefinition) -> bool:
    """Whether ``job_def`` comes from the cells of an IPython session (a Jupyter kernel)."""
    main = sys.modules.get("__main__")
    if "IPython" not in sys.modules or main is None or getattr(main, "__file__", None):
        return False
    if job_def.defined_at is not None and job_def.defined_at[0] == "__main__":
        return True
    return any(
        getattr(getattr(node.definition, "compute_fn", None), "__module__", None) == "__main__"
        for _, node in job_def.graph_def.iter_ops()
    )


def interactive_job_pointer(job_def: JobDefinition) -> ReconstructableJob | None:
    """A pointer for a job defined in notebook cells, from a registered provider, or ``None``.

    ``None`` (the job is then sent by value with cloudpickle) outside IPython, for jobs
    defined in modules, and when no provider can snapshot the job (the provider says why).
    """
    if not _defined_interactively(job_def):
        return None
    if not _pointer_providers:
        with contextlib.suppress(ImportError):
            importlib.import_module(INTERACTIVE_POINTER_MODULE)
    for provider in list(_pointer_providers):
        pointer = provider(job_def)
        if pointer is not None:
            return pointer
    return None


def _check_json(where: str, value: Any) -> None:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ReconstructionError.not_json(where, value, exc) from None


def build_reconstructable_job(
    reconstructor_module_name: str,
    reconstructor_function_name: str,
    reconstructable_args: Sequence[Any] | None = None,
    reconstructable_kwargs: Mapping[str, Any] | None = None,
    reconstructor_working_directory: str | None = None,
    module_source: ModuleSource | None = None,
) -> ReconstructableJob:
    """Name your own way to rebuild a job: ``module.function(*args, **kwargs)``.

    For jobs ``reconstructable`` cannot reach: made by factories, in nested scopes, with
    lambdas, or in notebooks (the notebook layer snapshots cells into a module and uses this).

    Args:
        reconstructor_module_name: importable module holding the function.
        reconstructor_function_name: top-level function returning a ``JobDefinition``.
        reconstructable_args: positional arguments; JSON-serializable values only.
        reconstructable_kwargs: keyword arguments; JSON-serializable values only.
        reconstructor_working_directory: folder put on ``sys.path`` before importing
            (default: the current working directory).
        module_source: the module's text (``ModuleSource.of(name, text)``): other
            processes make the module from it and read nothing from disk.

    Raises:
        ReconstructionError: an argument is not JSON-serializable (named in the message).
    """
    args = tuple(reconstructable_args or ())
    kwargs = dict(reconstructable_kwargs or {})
    for index, value in enumerate(args):
        _check_json(f"reconstructable_args[{index}]", value)
    for key, value in kwargs.items():
        if not isinstance(key, str):
            raise ReconstructionError.not_json(
                f"reconstructable_kwargs key {key!r}", key, TypeError("keys must be strings")
            )
        _check_json(f"reconstructable_kwargs[{key!r}]", value)
    return ReconstructableJob(
        attribute=reconstructor_function_name,
        module_name=reconstructor_module_name,
        args=args,
        kwargs=kwargs,
        working_directory=reconstructor_working_directory or os.getcwd(),
        module_source=module_source,
    )
