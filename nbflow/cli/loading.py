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


def _load_module(file: str | None, module: str | None) -> Any:
    if file:
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {file}. Fix: pass the path of a Python file.")
        sys.path.insert(0, str(path.parent.resolve()))
        spec = importlib.util.spec_from_file_location(path.stem, path)
        assert spec is not None and spec.loader is not None
        mod = importlib.util.module_from_spec(spec)
        sys.modules[path.stem] = mod
        loader = spec.loader
        _run_user_code(lambda: loader.exec_module(mod), file)
        return mod
    assert module is not None
    sys.path.insert(0, str(Path.cwd()))
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
            f"Loading {where} failed: {type(exc).__name__}: {exc}. Fix the error in that file."
        ) from None


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
            text = Path(path).read_text()
        except OSError as exc:
            raise CommandError(f"Cannot read config file {path}: {exc.strerror}.") from None
        try:
            loaded = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            raise CommandError(f"Config file {path} is not valid YAML: {exc}") from None
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
    if not isinstance(tags, dict):
        raise CommandError('--tags must be a JSON object, e.g. \'{"a": "1"}\'.')
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
