"""``create_project``: the files of a new nbflow project (``nbflow new DIR``)."""

from __future__ import annotations

from pathlib import Path

_JOBS = '''"""The jobs of this project: `nbflow job execute -f jobs.py -c config.yaml`."""

from nbflow import Field, job, op


@op(config_schema={"name": Field(str, default_value="world")})
def greet(context) -> str:
    """A greeting for the configured name."""
    return f"Hello, {context.op_config['name']}!"


@op
def shout(greeting: str) -> str:
    """The greeting, louder."""
    return greeting.upper()


@job
def hello():
    shout(greet())
'''

_CONFIG = """ops:
  greet:
    config:
      name: nbflow
"""

_README = """# {name}

An nbflow project.

    nbflow job list -f jobs.py
    nbflow job execute -f jobs.py -c config.yaml
"""

FILES = {"jobs.py": _JOBS, "config.yaml": _CONFIG}


def create_project(directory: str | Path) -> list[Path]:
    """Write a new project into ``directory`` (created if missing): a job module, its run
    config and a README. Returns the files written."""
    root = Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in {**FILES, "README.md": _README.format(name=root.resolve().name)}.items():
        path = root / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
