"""Checks on the arguments of the public run entry points, made before anything runs.

``execute_in_process``, ``execute_job``, ``materialize`` and ``materialize_to_memory`` call
:func:`check_run_arguments` first, so a wrong type or form (``run_config=5``,
``op_selection="a"``, ``run_id=5``, tags that are not JSON...) is one
:class:`~nbflow.errors.InvalidArgumentError` listing every offender, raised before the run is
recorded and before any op, resource or IO manager runs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

from nbflow.config._problems import safe_repr
from nbflow.definitions.asset import AssetsDefinition
from nbflow.definitions.asset_key import AssetKey
from nbflow.errors import InvalidArgumentError
from nbflow.storage.instance import Instance

MAX_KEY_BYTES = 255
"""Longest run id, partition key or tag key, in UTF-8 bytes (a file name's usual limit)."""

MAX_CONFIG_DEPTH = 100
"""Deepest nesting of dicts and lists a run config may have."""


def _got(value: object) -> str:
    return f"{safe_repr(value)} ({type(value).__name__})"


def text_problem(name: str, value: object, example: str) -> str | None:
    """A problem with a name-like string argument (run id, partition key), or ``None``.

    It must be a non-empty ``str`` of at most :data:`MAX_KEY_BYTES` UTF-8 bytes (no lone
    surrogates, which cannot be stored).
    """
    if not isinstance(value, str):
        return f"{name} must be a str, got {_got(value)}. Fix: {name}={example}."
    if not value:
        return f"{name} is empty. Fix: {name}={example}, or leave it out."
    try:
        size = len(value.encode("utf-8"))
    except UnicodeEncodeError:
        return (
            f"{name} {safe_repr(value)} holds characters that are not valid UTF-8 (lone "
            f"surrogates), so it cannot be stored. Fix: {name}={example}."
        )
    if size > MAX_KEY_BYTES:
        return (
            f"{name} is {size:,} bytes long, more than {MAX_KEY_BYTES}. "
            f"Fix: a shorter {name}, e.g. {name}={example}."
        )
    return None


def _run_config_problems(run_config: object) -> list[str]:
    if not isinstance(run_config, Mapping):
        return [
            f"run_config must be a dict, got {_got(run_config)}. "
            'Fix: run_config={"ops": {"my_op": {"config": {...}}}}, or leave it out.'
        ]
    # An explicit stack, not recursion: the depth of the value is what is being checked.
    stack: list[tuple[object, int]] = [(run_config, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_CONFIG_DEPTH:
            return [
                f"run_config is nested more than {MAX_CONFIG_DEPTH} levels deep (or contains "
                "itself). Fix: flatten the config, or pass large data as a resource."
            ]
        if isinstance(value, Mapping):
            stack.extend((item, depth + 1) for item in value.values())
        elif isinstance(value, (list, tuple)):
            stack.extend((item, depth + 1) for item in value)
    return []


def _op_selection_problems(op_selection: object) -> list[str]:
    if isinstance(op_selection, str):
        return [
            f"op_selection must be a list of queries, got the str {safe_repr(op_selection)} "
            "(a str is not read as one query per character). "
            f"Fix: op_selection=[{safe_repr(op_selection)}]."
        ]
    if not isinstance(op_selection, (list, tuple, set, frozenset)):
        return [
            f"op_selection must be a list of str queries, got {_got(op_selection)}. "
            'Fix: op_selection=["my_op", "*downstream_op"].'
        ]
    bad = [item for item in op_selection if not isinstance(item, str) or not item.strip()]
    if bad:
        shown = ", ".join(_got(item) for item in bad[:5])
        return [
            f"op_selection entries must be non-empty str queries; got {shown}. "
            'Fix: op_selection=["my_op", "*downstream_op"].'
        ]
    return []


def _tag_value_problem(key: str, value: object) -> str | None:
    if isinstance(value, str):
        text = value
    else:
        try:
            text = json.dumps(value, allow_nan=False, sort_keys=True)  # as the run stores it
        except (TypeError, ValueError, RecursionError):
            return (
                f"tags[{safe_repr(key)}] is {_got(value)}, which is not a str and cannot be "
                'written as JSON. Fix: pass str values, e.g. tags={"team": "data"}.'
            )
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return (
            f"tags[{safe_repr(key)}] holds characters that are not valid UTF-8 (lone "
            "surrogates), so it cannot be stored. Fix: a plain str value."
        )
    return None


def _tags_problems(tags: object) -> list[str]:
    if not isinstance(tags, Mapping):
        return [
            f'tags must be a dict of str to str, got {_got(tags)}. Fix: tags={{"team": "data"}}.'
        ]
    problems: list[str] = []
    for key, value in tags.items():
        if not isinstance(key, str) or text_problem("tag key", key, '"team"') is not None:
            problems.append(
                f"tags key {_got(key)} is not a non-empty str of at most {MAX_KEY_BYTES} UTF-8 "
                'bytes. Fix: tags={"team": "data"}.'
            )
            continue
        value_problem = _tag_value_problem(key, value)
        if value_problem is not None:
            problems.append(value_problem)
    return problems


def _str_keyed_problems(name: str, value: object, example: str) -> list[str]:
    if not isinstance(value, Mapping):
        return [f"{name} must be a dict, got {_got(value)}. Fix: {name}={example}."]
    bad = [key for key in value if not isinstance(key, str)]
    if bad:
        return [
            f"{name} keys must be str, got {', '.join(_got(k) for k in bad[:5])}. "
            f"Fix: {name}={example}."
        ]
    return []


def selection_problems(name: str, selection: object, *, check_items: bool = True) -> list[str]:
    """Problems with an asset selection: a list of assets, ``AssetKey`` objects or ``"a/b"``.

    With ``check_items=False`` only the container is checked (a list, not a str).
    """
    if isinstance(selection, (str, bytes)) or not isinstance(selection, Iterable):
        example = safe_repr(selection) if isinstance(selection, str) else '"a/b"'
        return [
            f"{name} must be a list of assets or asset keys, got {_got(selection)}. "
            f"Fix: {name}=[{example}]."
        ]
    bad = [
        item
        for item in (selection if check_items else ())
        if not isinstance(item, (str, AssetKey, AssetsDefinition)) or item == ""
    ]
    if bad:
        return [
            f'{name} entries must be assets, AssetKey objects or non-empty "a/b" strings; '
            f'got {", ".join(_got(item) for item in bad[:5])}. Fix: {name}=["a/b"].'
        ]
    return []


def check_run_arguments(
    entry_point: str,
    *,
    run_config: object = None,
    instance: object = None,
    partition_key: object = None,
    op_selection: object = None,
    run_id: object = None,
    tags: object = None,
    raise_on_error: object = True,
    input_values: object = None,
    resources: object = None,
    asset_selection: tuple[str, object] | None = None,
) -> None:
    """Check the arguments of a run entry point; ``None`` means "not given" for each.

    Args:
        entry_point: the function's name, e.g. ``"execute_in_process"``.
        run_config: a dict, at most :data:`MAX_CONFIG_DEPTH` levels deep.
        instance: an :class:`~nbflow.storage.instance.Instance`.
        partition_key: a str (whether the job has that partition is checked later).
        op_selection: a list (tuple, set) of non-empty str queries; never a bare str.
        run_id: a non-empty str of at most :data:`MAX_KEY_BYTES` bytes.
        tags: a dict with str keys and str (or JSON-encodable) values.
        raise_on_error: a bool.
        input_values: a dict with str keys.
        resources: a dict with str keys.
        asset_selection: ``(argument name, value)`` of an asset selection, if the entry point
            takes one.

    Raises:
        InvalidArgumentError: listing every argument at fault.
    """
    problems: list[str] = []
    if run_config is not None:
        problems += _run_config_problems(run_config)
    if instance is not None and not isinstance(instance, Instance):
        problems.append(
            f"instance must be an nbflow Instance, got {_got(instance)}. "
            "Fix: instance=Instance.get(), Instance.local(path) or Instance.ephemeral()."
        )
    if partition_key is not None:
        problems += [p for p in [text_problem("partition_key", partition_key, '"2024-01-01"')] if p]
    if op_selection is not None:
        problems += _op_selection_problems(op_selection)
    if run_id is not None:
        problems += [p for p in [text_problem("run_id", run_id, '"nightly-2024-01-01"')] if p]
    if tags is not None:
        problems += _tags_problems(tags)
    if not isinstance(raise_on_error, bool):
        problems.append(
            f"raise_on_error must be True or False, got {_got(raise_on_error)}. "
            "Fix: raise_on_error=False to get a failed result instead of an exception."
        )
    if input_values is not None:
        problems += _str_keyed_problems("input_values", input_values, '{"x": 1}')
    if resources is not None:
        problems += _str_keyed_problems("resources", resources, '{"db": my_resource}')
    if asset_selection is not None and asset_selection[1] is not None:
        problems += selection_problems(*asset_selection)
    if problems:
        raise InvalidArgumentError.build(entry_point, problems)
