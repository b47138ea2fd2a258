"""Notebooks as ops: ``define_notebook_op`` runs a notebook as a step of a job.

Parameters the notebook gets, by name (each name given once, else the step fails):

- every op input, with the value the step received;
- the op config: each key of a dict config, or ``config`` for any other config value;
- every required resource, as its value (it must be plain data or picklable, since the
  notebook runs in its own kernel process).

The notebook hands values back with ``nbflow.notebook.yield_result(value, output_name)``;
each declared output takes the value yielded under its name.

Version: the op's ``version`` is the notebook's code version (see
``nbflow.notebook.code_version``), read from the file each time a run asks for it (a
``stat`` while the file is unchanged). So memoization covers notebooks: re-saving one with
outputs or editing its markdown reuses stored outputs, editing code runs it again, and an
op defined once in a long-lived kernel still sees edits made after its definition.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from nbflow.definitions.op import OpDefinition
from nbflow.definitions.specs import Out, Output
from nbflow.definitions.user_events import AssetMaterialization
from nbflow.errors import InvalidDefinitionError, NotebookParameterError, OutputError
from nbflow.notebook.code_version import notebook_code_version, resolve_notebook
from nbflow.notebook.runner import run_notebook
from nbflow.storage.fs import safe_join

if TYPE_CHECKING:
    from nbflow.definitions.specs import In
    from nbflow.execution.engine.context import OpExecutionContext
    from nbflow.notebook.runner import NotebookRun


class NotebookOpDefinition(OpDefinition):
    """An op whose computation is a notebook run; its version is the notebook's code hash.

    Attributes:
        notebook_path: the notebook (absolute).
        kernel_name: the Jupyter kernel it runs with (None: ``"python3"``).
        output_notebook_dir: where executed notebooks go (None: the instance's storage
            folder, ``<storage>/notebooks/<run_id>/<step_key>.ipynb``).
    """

    def __init__(
        self,
        *,
        notebook_path: str,
        kernel_name: str | None,
        output_notebook_dir: str | None,
        **op_kwargs: Any,
    ) -> None:
        self.notebook_path = notebook_path
        self.kernel_name = kernel_name
        self.output_notebook_dir = output_notebook_dir
        super().__init__(**op_kwargs)

    @property
    def version(self) -> str:
        """The notebook's current code version (re-read when the file changes)."""
        return notebook_code_version(self.notebook_path)

    @version.setter
    def version(self, value: str | None) -> None:
        if value is not None:
            raise InvalidDefinitionError(
                f"Notebook op {self.name!r} got version={value!r}, but its version is the hash "
                "of its notebook's code cells.\nFix: leave version unset."
            )

    def with_tags(self, **extra: Any) -> NotebookOpDefinition:
        """A copy of this op with extra tags."""
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        clone.tags = MappingProxyType({**self.tags, **extra})
        return clone

    def __repr__(self) -> str:
        return f"<NotebookOpDefinition {self.name!r} {self.notebook_path}>"


def define_notebook_op(
    path: str | os.PathLike[str],
    name: str | None = None,
    ins: Mapping[str, In] | None = None,
    outs: Mapping[str, Out] | None = None,
    config_schema: Any = None,
    required_resource_keys: Iterable[str] | None = None,
    kernel_name: str | None = None,
    output_notebook_dir: str | os.PathLike[str] | None = None,
) -> NotebookOpDefinition:
    """An op that runs the notebook at ``path`` with its inputs and config as parameters.

    Args:
        path: the notebook; it must exist now (relative paths are resolved now, too).
        name: the op's name; default the notebook's file name without ``.ipynb``, with
            characters other than letters, digits and ``_`` replaced by ``_``.
        ins: the op's inputs, each injected as a parameter of the same name.
        outs: the op's outputs; default ``{"result": Out()}``. The notebook yields each with
            ``yield_result(value, output_name=...)``; a required output it does not yield
            fails the step.
        config_schema: schema of the op's config; a dict config's keys become parameters.
        required_resource_keys: resources injected as parameters of the same names.
        kernel_name: the Jupyter kernel; default ``"python3"``.
        output_notebook_dir: where executed notebooks are kept; default the run instance's
            storage folder.

    Returns:
        A :class:`NotebookOpDefinition`; use it in graphs and jobs like any op.

    Raises:
        NotebookNotFoundError: no notebook at ``path``.
        InvalidDefinitionError: a bad name, an input named like a resource, ...

    Executed notebooks go to ``<output_notebook_dir>/<run_id>/<step_key>.ipynb`` (a run id
    or step key that would leave that folder fails the step with ``UnsafeStorageKeyError``
    before the notebook runs); their path
    is in each output's metadata (``executed_notebook``) and in an ``AssetMaterialization``
    of ``notebooks/<op name>``. Without ``output_notebook_dir`` they go to the instance's
    storage folder, which for an ephemeral instance (the default of ``execute_in_process``)
    is a temporary folder removed with the instance.

    Examples:
        ::

            clean = define_notebook_op("clean.ipynb", ins={"raw": In()})

            @job
            def pipeline():
                report(clean(load()))
    """
    notebook = resolve_notebook(path)
    op_name = name or _name_from(notebook)
    declared_ins = dict(ins or {})
    resource_keys = tuple(sorted(required_resource_keys or ()))
    both = sorted(set(declared_ins) & set(resource_keys))
    if both:
        raise NotebookParameterError.clash(op_name, both[0], ["an input", "a resource"])
    settings = _Settings(
        notebook=str(notebook),
        kernel_name=kernel_name,
        output_dir=None if output_notebook_dir is None else str(Path(output_notebook_dir)),
        resource_keys=resource_keys,
    )
    return NotebookOpDefinition(
        notebook_path=settings.notebook,
        kernel_name=kernel_name,
        output_notebook_dir=settings.output_dir,
        name=op_name,
        compute_fn=_compute_fn(settings, list(declared_ins)),
        ins=declared_ins,
        outs=dict(outs) if outs is not None else {"result": Out()},
        config_schema=config_schema,
        required_resource_keys=resource_keys,
        tags={"nbflow/kind": "notebook"},
        description=f"Runs notebook {notebook.name}",
    )


def _name_from(notebook: Path) -> str:
    cleaned = "".join(c if c.isalnum() or c == "_" else "_" for c in notebook.stem)
    return cleaned if cleaned[:1].isalpha() or cleaned[:1] == "_" else f"nb_{cleaned}"


class _Settings:
    """What a notebook op's compute function needs; plain data, so it pickles."""

    __slots__ = ("kernel_name", "notebook", "output_dir", "resource_keys")

    def __init__(
        self,
        notebook: str,
        kernel_name: str | None,
        output_dir: str | None,
        resource_keys: tuple[str, ...],
    ) -> None:
        self.notebook = notebook
        self.kernel_name = kernel_name
        self.output_dir = output_dir
        self.resource_keys = resource_keys

    def __getstate__(self) -> tuple[Any, ...]:
        return (self.notebook, self.kernel_name, self.output_dir, self.resource_keys)

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        self.notebook, self.kernel_name, self.output_dir, self.resource_keys = state


def _compute_fn(settings: _Settings, input_names: list[str]) -> Any:
    def compute(context: OpExecutionContext, **inputs: Any) -> Iterator[Any]:
        yield from _run_step(settings, context, inputs)

    positional = inspect.Parameter.POSITIONAL_OR_KEYWORD
    params = [inspect.Parameter("context", positional)]
    params.extend(inspect.Parameter(n, positional) for n in input_names)
    compute.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    return compute


def _parameters(
    settings: _Settings, context: OpExecutionContext, inputs: Mapping[str, Any]
) -> dict[str, Any]:
    params: dict[str, Any] = {}
    sources: dict[str, str] = {}

    def add(name: str, value: Any, source: str) -> None:
        if name in params:
            raise NotebookParameterError.clash(context.op_def.name, name, [sources[name], source])
        params[name] = value
        sources[name] = source

    for name, value in inputs.items():
        add(name, value, f"input {name!r}")
    config = context.op_config
    if isinstance(config, Mapping):
        for key, value in config.items():
            add(str(key), value, f"config key {key!r}")
    elif config is not None:
        add("config", config, "the op config")
    for key in settings.resource_keys:
        add(key, context.resources[key], f"resource {key!r}")
    return params


def _output_path(settings: _Settings, context: OpExecutionContext) -> Path:
    """``<base>/<run_id>/<step_key>.ipynb``, joined like the IO managers join storage keys.

    Raises:
        UnsafeStorageKeyError: the run id or step key would leave the folder (``..``, a
            path separator, NUL, an absolute path); raised before the notebook runs.
    """
    base = settings.output_dir or os.path.join(context.instance.local_storage_dir, "notebooks")
    attempt = f".attempt{context.retry_number + 1}" if context.retry_number else ""
    name = f"{context.step_key}{attempt}.ipynb"
    return safe_join(Path(base).expanduser().absolute(), [str(context.run_id), name])


def _run_step(
    settings: _Settings, context: OpExecutionContext, inputs: Mapping[str, Any]
) -> Iterator[Any]:
    run = run_notebook(
        settings.notebook,
        _parameters(settings, context, inputs),
        output_path=_output_path(settings, context),
        kernel_name=settings.kernel_name,
    )
    metadata = _metadata(run)
    context.log_event(
        AssetMaterialization(
            ["notebooks", context.op_def.name],
            description=f"Executed notebook {Path(run.notebook_path).name}",
            metadata=metadata,
        )
    )
    outs = context.op_def.outs
    missing = [n for n, spec in outs.items() if spec.is_required and n not in run.results]
    if missing:
        raise OutputError(
            f"Notebook {run.notebook_path!r} (op {context.op_def.name!r}) did not yield "
            f"output(s) {missing}; it yielded {sorted(run.results) or 'nothing'}. Executed "
            f"notebook: {run.output_path!r}.\nFix: add a cell calling "
            f"nbflow.notebook.yield_result(value, output_name={missing[0]!r}), or declare "
            "the output Out(is_required=False)."
        )
    for output_name in outs:
        if output_name in run.results:
            context.add_output_metadata(metadata, output_name=output_name)
            yield Output(run.results[output_name], output_name)


def _metadata(run: NotebookRun) -> dict[str, Any]:
    return {
        "notebook_path": run.notebook_path,
        "executed_notebook": run.output_path,
        "kernel": run.kernel_name,
        "kernel_display_name": str(run.kernel.get("display_name", "")),
        "notebook_code_version": run.code_version,
        "duration_s": round(run.duration_s, 3),
    }
