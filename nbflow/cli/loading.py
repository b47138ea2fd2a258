"""Load what a command names: the job (from a file or module), run-config YAML, tags."""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import sys
import sysconfig
import traceback
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from nbflow.cli.command_error import CommandError
from nbflow.config.merge import deep_merge
from nbflow.definitions.asset import AssetsDefinition
from nbflow.definitions.job import JobDefinition
from nbflow.errors import NbflowError, did_you_mean

_NOT_USER_CODE = tuple(
    {str(Path(__file__).resolve().parents[1])}
    | {sysconfig.get_path(name) for name in ("stdlib", "platstdlib", "purelib", "platlib")}
)
"""Folders whose frames are not the user's: nbflow's, the standard library, installed packages."""


def _add_user_folder(folder: Path) -> None:
    """Let user code import modules from ``folder`` without shadowing the standard library or
    nbflow's dependencies: what nbflow needs is imported first, and the folder is searched
    after the installed packages (a ``yaml.py`` or ``json.py`` there is not imported)."""
    import yaml  # noqa: F401  (loaded now, before the user's folder can shadow it)

    entry = str(folder.resolve())
    if entry not in sys.path:
        sys.path.append(entry)


_loaded: dict[str, Any] = {}
"""Modules this process loaded for a command, by absolute file path or module name: a job
rebuilt in this process (:mod:`nbflow.cli.job_pointer`) does not run the user's file again."""


def load_module(file: str | None, module: str | None) -> Any:
    """The module of a ``-f FILE`` or ``-m MODULE`` option, loaded once per process.

    Raises:
        CommandError: the file is missing, or importing it fails (one line: file, line, error).
    """
    key = os.path.abspath(file) if file else str(module)
    if key not in _loaded:
        _loaded[key] = _load_module(file, module)
    return _loaded[key]


def _load_module(file: str | None, module: str | None) -> Any:
    if file:
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {file}. Fix: pass the path of a Python file.")
        _add_user_folder(path.parent)
        spec = importlib.util.spec_from_file_location(path.stem, path)
        assert spec is not None and spec.loader is not None
        mod = importlib.util.module_from_spec(spec)
        sys.modules[path.stem] = mod
        loader = spec.loader
        try:
            _run_user_code(lambda: loader.exec_module(mod), file)
        except ModuleNotFoundError as exc:
            raise CommandError(
                f"{_at(exc)}Loading {file} failed: it imports {exc.name!r}, "
                "which is not installed and not beside the file. Fix: install it, or put "
                f"{exc.name}.py next to {path.name}."
            ) from None
        return mod
    assert module is not None
    _add_user_folder(Path.cwd())
    try:
        return _run_user_code(lambda: importlib.import_module(module), module)
    except ModuleNotFoundError as exc:
        raise CommandError(f"{_at(exc)}Cannot import module {module!r}: {exc}.") from None


def _run_user_code(load: Any, where: str) -> Any:
    """Import user code; a failure there becomes one line naming the file, the line and the
    error (the deepest line of the user's code the traceback passes through)."""
    try:
        return load()
    except (ModuleNotFoundError, NbflowError):
        raise
    except SyntaxError as exc:
        place = f"{exc.filename or where}:{exc.lineno}" if exc.lineno else where
        raise CommandError(
            f"{place}: syntax error: {exc.msg}. Fix the error in that file."
        ) from None
    except Exception as exc:
        raise CommandError(
            f"{_at(exc)}Loading {where} failed: {type(exc).__name__}: "
            f"{_one_line(exc)}. Fix the error in that file."
        ) from None


def _failing_line(exc: BaseException) -> str | None:
    """``file:line`` of the deepest traceback frame in the user's code (not in nbflow, the
    standard library or installed packages), else ``None``."""
    place = None
    for frame, line in traceback.walk_tb(exc.__traceback__):
        filename = frame.f_code.co_filename
        if not filename.startswith("<") and not filename.startswith(_NOT_USER_CODE):
            place = f"{filename}:{line}"
    return place


def _at(exc: BaseException) -> str:
    """``"<file>:<line>: "`` of :func:`_failing_line`, or nothing."""
    place = _failing_line(exc)
    return f"{place}: " if place else ""


def _one_line(exc: BaseException) -> str:
    """The first line of ``exc``'s message, at most 300 characters; never raises."""
    try:
        text = str(exc)
    except Exception:  # e.g. a message holding an int too long to print
        return "(its message cannot be shown)"
    first = text.strip().splitlines()[0] if text.strip() else ""
    return first if len(first) <= 300 else first[:299] + "…"


def jobs_in(mod: Any) -> dict[str, tuple[str, JobDefinition]]:
    """The jobs a module defines at its top level: job name -> (attribute, job)."""
    return {
        value.name: (attribute, value)
        for attribute, value in vars(mod).items()
        if isinstance(value, JobDefinition)
    }


def load_job(file: str | None, module: str | None, job_name: str | None) -> JobDefinition:
    """Find the job to run in a file or module: the one named, or the only one there."""
    return load_job_attribute(file, module, job_name)[1]


def load_job_attribute(
    file: str | None, module: str | None, job_name: str | None
) -> tuple[str, JobDefinition]:
    """The job :func:`load_job` finds, with the top-level name it is bound to."""
    mod = load_module(file, module)
    jobs = jobs_in(mod)
    where = file or module
    if job_name is not None:
        if job_name not in jobs:
            raise CommandError(
                f"No job named {job_name!r} in {where}.{did_you_mean(job_name, jobs)} "
                f"Jobs there: {sorted(jobs) or 'none'}."
            )
        return jobs[job_name]
    if not jobs and any(isinstance(v, AssetsDefinition) for v in vars(mod).values()):
        raise CommandError(
            f"{where} has no jobs, only assets. Fix: materialize them with "
            f"`nbflow asset materialize {'-f' if file else '-m'} {where} --select KEYS`, or "
            "define a job of them with define_asset_job(...)."
        )
    if len(jobs) != 1:
        raise CommandError(
            f"{where} has {len(jobs) or 'no'} jobs{': ' + ', '.join(sorted(jobs)) if jobs else ''}."
            " Fix: name one with -j JOB."
        )
    return next(iter(jobs.values()))


def parse_config_json(text: str | None) -> dict[str, Any]:
    """The run config of ``--config-json`` (a JSON object), ``{}`` when not given."""
    if not text:
        return {}
    try:
        config = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise CommandError(
            f"--config-json is not valid JSON: {str(exc)[:200]}. "
            'Fix: a JSON object, e.g. \'{"ops": {"my_op": {"config": {"n": 3}}}}\'.'
        ) from None
    if not isinstance(config, dict):
        raise CommandError(
            f"--config-json must be a JSON object (a mapping), got {type(config).__name__}. "
            'Fix: e.g. \'{"ops": {"my_op": {"config": {"n": 3}}}}\'.'
        )
    return config


def load_run_config(paths: Sequence[str], config_json: str | None = None) -> dict[str, Any]:
    """Merge YAML run-config files, later files winning, then ``--config-json`` over them."""
    import yaml

    config: dict[str, Any] = {}
    for path in paths:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"Cannot read config file {path}: {exc.strerror}.") from None
        except UnicodeDecodeError as exc:
            raise CommandError(
                f"Config file {path} is not UTF-8 text (byte {exc.start} cannot be decoded). "
                "Fix: save it as UTF-8."
            ) from None
        try:
            loaded = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            raise CommandError(f"Config file {path} is not valid YAML: {exc}") from None
        except (ValueError, OverflowError, RecursionError) as exc:  # e.g. an int of 5,000 digits
            raise CommandError(
                f"Config file {path} holds a value that cannot be read: "
                f"{type(exc).__name__}: {str(exc)[:200]}. Fix: shorten that value, or give "
                "very large numbers as strings."
            ) from None
        if not isinstance(loaded, Mapping):
            raise CommandError(f"Config file {path} must hold a mapping at the top level.")
        config = deep_merge(config, loaded)
    return deep_merge(config, parse_config_json(config_json))


def parse_tags(text: str | None) -> dict[str, str]:
    if not text:
        return {}
    try:
        tags = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CommandError(f'--tags must be a JSON object, e.g. \'{{"a": "1"}}\': {exc}') from None
    except (ValueError, RecursionError) as exc:  # an int of 5,000 digits, deep nesting
        raise CommandError(
            f"--tags cannot be read: {type(exc).__name__}: {str(exc)[:200]}. "
            'Fix: a flat JSON object of strings, e.g. \'{"a": "1"}\'.'
        ) from None
    if not isinstance(tags, dict):
        raise CommandError('--tags must be a JSON object, e.g. \'{"a": "1"}\'.')
    nested = sorted(k for k, v in tags.items() if isinstance(v, (dict, list)))
    if nested:
        raise CommandError(
            f"--tags values must be strings (or numbers), but {nested} "
            'hold a JSON object or list. Fix: e.g. \'{"a": "1"}\'.'
        )
    return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in tags.items()}
