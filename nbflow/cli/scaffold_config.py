"""``nbflow job scaffold-config``: a job's run config as YAML to fill in.

Every field the job can be configured with is written: defaults filled in, required fields
left empty and marked ``# REQUIRED``, optional fields without a default commented out, each
with its type and description in a comment.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from nbflow.cli.loading import load_job
from nbflow.cli.options import check_where
from nbflow.config import Field, Permissive, Selector, Shape, as_field
from nbflow.config.types import AnyType
from nbflow.definitions.config_mapping import ConfigMapping
from nbflow.execution.engine.plan import build_plan
from nbflow.execution.engine.run import in_process_resource_defs
from nbflow.execution.engine.run_config import UNDECLARED_OP_CONFIG, run_config_schema

if TYPE_CHECKING:
    from types import SimpleNamespace

    from nbflow.definitions.job import JobDefinition

SECTIONS = ("ops", "resources", "loggers")
_INDENT = "  "


def job_config_schema(job_def: JobDefinition) -> Shape:
    """The part of ``job_def``'s run-config schema a user fills in (a config mapping's own
    schema when the job has one)."""
    if isinstance(job_def.config, ConfigMapping):
        schema = job_def.config.config_schema
        found = as_field(schema).config_type if schema is not None else Shape({})
        return found if isinstance(found, Shape) else Shape({"config": Field(found)})
    full = run_config_schema(build_plan(job_def), in_process_resource_defs(job_def))
    return Shape({k: f for k, f in full.fields.items() if k in SECTIONS})


def _scalar(value: Any) -> str:
    """``value`` as one line of YAML (JSON is YAML)."""
    return json.dumps(value, default=str)


def _comment(field: Field, *marks: str) -> str:
    words = [*marks, field.config_type.type_name]
    text = " ".join(words)
    if field.description:
        text += f": {field.description}"
    return f"  # {text}"


def _is_group(field: Field) -> bool:
    return isinstance(field.config_type, (Shape, Permissive)) and not isinstance(
        field.config_type, Selector
    )


def _is_output_config(name: str, field: Field) -> bool:
    """An op's ``outputs`` entry (any config, rarely given): left out of the skeleton."""
    return name == "outputs" and isinstance(field.config_type, AnyType) and not field.is_required


def _lines(shape: Shape | Permissive, depth: int) -> list[str]:
    lines: list[str] = []
    pad = _INDENT * depth
    for name, field in shape.fields.items():
        if field is UNDECLARED_OP_CONFIG or _is_output_config(name, field):
            continue
        if _is_group(field):
            assert isinstance(field.config_type, (Shape, Permissive))
            inner = _lines(field.config_type, depth + 1)
            if all(line.lstrip().startswith("#") for line in inner):
                # nothing to give here: the group stays commented out, or a YAML null
                # would stand where a mapping is expected
                lines += [f"{pad}# {name}:", *inner] if inner else []
            else:
                lines += [f"{pad}{name}:", *inner]
            continue
        if field.has_default_value:
            lines.append(f"{pad}{name}: {_scalar(field.default_value)}{_comment(field)}")
        elif field.is_required:
            lines.append(f"{pad}{name}:{_comment(field, 'REQUIRED')}")
        else:
            lines.append(f"{pad}# {name}:{_comment(field, 'optional')}")
    return lines


def scaffold_yaml(job_def: JobDefinition) -> str:
    """The YAML run-config skeleton of ``job_def`` (see the module docstring)."""
    schema = job_config_schema(job_def)
    body = _lines(schema, 0)
    header = f"# Run config of job {job_def.name!r}: fill in the REQUIRED fields."
    if not body:
        return f"# Job {job_def.name!r} has nothing to configure.\n{{}}\n"
    return "\n".join([header, *body]) + "\n"


def cmd_job_scaffold_config(args: SimpleNamespace) -> int:
    check_where(args.file, args.module)
    print(scaffold_yaml(load_job(args.file, args.module, args.job)), end="")
    return 0
