"""Load what a command names: the job (from a file or module), run-config YAML, tags."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from nbflow.cli.command_error import CommandError
from nbflow.config.merge import deep_merge
from nbflow.definitions.job import JobDefinition
from nbflow.errors import NbflowError, did_you_mean


def _add_user_folder(folder: Path) -> None:
    """Let user code import modules from ``folder`` without shadowing the standard library or
    nbflow's dependencies: what nbflow needs is imported first, and the folder is searched
    after the installed packages (a ``yaml.py`` or ``json.py`` there is not imported)."""
    import yaml  # noqa: F401  (loaded now, before the user's folder can shadow it)

    entry = str(folder.resolve())
    if entry not in sys.path:
        sys.path.append(entry)


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
                f"Loading {file} failed: it imports {exc.name!r}, which is not installed and not "
                f"beside the file. Fix: install it, or put {exc.name}.py next to {path.name}."
            ) from None
        return mod
    assert module is not None
    _add_user_folder(Path.cwd())
    try:
        return _run_user_code(lambda: importlib.import_module(module), module)
    except ModuleNotFoundError as exc:
        raise CommandError(f"Cannot import module {module!r}: {exc}.") from None


def _run_user_code(load: Any, where: str) -> Any:
    """Import user code; a failure there becomes one line naming the file and the error."""
    try:
        return load()
    except (ModuleNotFoundError, NbflowError):
        raise
    except SyntaxError as exc:
        raise CommandError(f"{where} has a syntax error at line {exc.lineno}: {exc.msg}.") from None
    except Exception as exc:
        raise CommandError(
            f"Loading {where} failed: {type(exc).__name__}: {_one_line(exc)}. "
            "Fix the error in that file."
        ) from None


def _one_line(exc: BaseException) -> str:
    """The first line of ``exc``'s message, at most 300 characters; never raises."""
    try:
        text = str(exc)
    except Exception:  # e.g. a message holding an int too long to print
        return "(its message cannot be shown)"
    first = text.strip().splitlines()[0] if text.strip() else ""
    return first if len(first) <= 300 else first[:299] + "…"


def load_job(file: str | None, module: str | None, job_name: str | None) -> JobDefinition:
    """Find the job to run in a file or module: the one named, or the only one there."""
    mod = _load_module(file, module)
    jobs = {v.name: v for v in vars(mod).values() if isinstance(v, JobDefinition)}
    where = file or module
    if job_name is not None:
        if job_name not in jobs:
            raise CommandError(
                f"No job named {job_name!r} in {where}.{did_you_mean(job_name, jobs)} "
                f"Jobs there: {sorted(jobs) or 'none'}."
            )
        return jobs[job_name]
    if len(jobs) != 1:
        raise CommandError(
            f"{where} has {len(jobs) or 'no'} jobs{': ' + ', '.join(sorted(jobs)) if jobs else ''}."
            " Fix: name one with -j JOB."
        )
    return next(iter(jobs.values()))


def load_run_config(paths: Sequence[str]) -> dict[str, Any]:
    """Merge YAML run-config files, later files winning."""
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
    return config


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


def target_args(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("-f", "--python-file", dest="file", help="Python file defining the job")
    where.add_argument("-m", "--module-name", dest="module", help="module defining the job")
    parser.add_argument("-j", "--job", help="job name (needed when several are defined)")
    parser.add_argument(
        "-c", "--config", action="append", default=[], help="run-config YAML (repeatable)"
    )
    parser.add_argument("--mode", help=argparse.SUPPRESS)  # accepted for legacy command lines


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return value
