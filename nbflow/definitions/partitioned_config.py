"""Partitioned config: a job's run config derived from the partition key a run targets.

``@job(config=my_partitioned_config)`` gives the job the config's partitions; running it with
``partition_key=...`` builds the run config (and extra run tags) from the key.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from nbflow.definitions.partitions import (
    DailyPartitionsDefinition,
    PartitionsDefinition,
    StaticPartitionsDefinition,
)
from nbflow.errors import DefinitionError, RunConfigValidationError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from nbflow.definitions.job import JobDefinition

ConfigFn = Callable[[str], Mapping[str, Any]]
TagsFn = Callable[[str], Mapping[str, str]]


class PartitionedConfig:
    """Run config (and tags) for each partition key of a partitions definition.

    Args:
        partitions_def: the partitions a run may target.
        run_config_for_partition_key_fn: the run config for a key.
        tags_for_partition_key_fn: extra run tags for a key (none if not given).
        decorated_fn: the user function a decorator wrapped, kept for reference.

    Raises:
        DefinitionError: ``partitions_def`` is not a partitions definition, or no config
            function is given.
    """

    def __init__(
        self,
        partitions_def: PartitionsDefinition,
        run_config_for_partition_key_fn: ConfigFn | None = None,
        tags_for_partition_key_fn: TagsFn | None = None,
        decorated_fn: Callable[..., Any] | None = None,
    ) -> None:
        if not isinstance(partitions_def, PartitionsDefinition):
            raise DefinitionError(
                f"PartitionedConfig: partitions_def is {partitions_def!r}, not a partitions "
                "definition. Fix: StaticPartitionsDefinition([...]) or DailyPartitionsDefinition."
            )
        if run_config_for_partition_key_fn is None:
            raise DefinitionError(
                "PartitionedConfig needs run_config_for_partition_key_fn, a function of the "
                "partition key returning run config."
            )
        self.partitions_def = partitions_def
        self.run_config_for_partition_key_fn = run_config_for_partition_key_fn
        self.tags_for_partition_key_fn = tags_for_partition_key_fn
        self.decorated_fn = decorated_fn

    def get_run_config_for_partition_key(self, partition_key: str) -> dict[str, Any]:
        """The run config for ``partition_key``.

        Raises:
            PartitionKeyError: the key is not one of the partitions.
            RunConfigValidationError: the function did not return a dict.
        """
        key = self.partitions_def.validate_key(partition_key)
        config = self.run_config_for_partition_key_fn(key)
        if not isinstance(config, dict):
            raise RunConfigValidationError.build(
                f"partition {key!r}",
                [
                    f"root: the partitioned config function returned {type(config).__name__} "
                    f"{config!r:.60}, not a dict. Fix: return run config such as "
                    '{"ops": {...}}.'
                ],
            )
        return config

    def get_tags_for_partition_key(self, partition_key: str) -> dict[str, str]:
        """The extra run tags for ``partition_key`` (empty without a tags function)."""
        key = self.partitions_def.validate_key(partition_key)
        if self.tags_for_partition_key_fn is None:
            return {}
        return dict(self.tags_for_partition_key_fn(key))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the decorated function itself (handy in tests)."""
        if self.decorated_fn is None:
            raise DefinitionError("This PartitionedConfig wraps no decorated function.")
        return self.decorated_fn(*args, **kwargs)

    def __repr__(self) -> str:
        return f"PartitionedConfig({self.partitions_def!r})"


def static_partitioned_config(
    partition_keys: Sequence[str],
    tags_for_partition_fn: TagsFn | None = None,
    tags_for_partition_key_fn: TagsFn | None = None,
) -> Callable[[ConfigFn], PartitionedConfig]:
    """Decorate a function of a partition key that returns run config, for a fixed key list.

    Example:
        >>> @static_partitioned_config(partition_keys=["us", "eu"])
        ... def region_config(partition_key: str) -> dict:
        ...     return {"ops": {"load": {"config": {"region": partition_key}}}}

    Args:
        partition_keys: the partition keys.
        tags_for_partition_fn: extra run tags for a key (an older name of the next one).
        tags_for_partition_key_fn: extra run tags for a key.

    Returns:
        A decorator turning the function into a :class:`PartitionedConfig`.
    """
    partitions = StaticPartitionsDefinition(partition_keys)
    tags_fn = tags_for_partition_key_fn or tags_for_partition_fn

    def decorate(fn: ConfigFn) -> PartitionedConfig:
        return PartitionedConfig(partitions, fn, tags_fn, decorated_fn=fn)

    return decorate


def daily_partitioned_config(
    start_date: str | dt.date,
    timezone: str | None = None,
    fmt: str | None = None,
    end_offset: int = 0,
    tags_for_partition_fn: Callable[[dt.datetime, dt.datetime], Mapping[str, str]] | None = None,
) -> Callable[[Callable[[dt.datetime, dt.datetime], Mapping[str, Any]]], PartitionedConfig]:
    """Decorate a function of a day's ``(start, end)`` that returns run config.

    One partition per day from ``start_date`` to today (not included; ``end_offset`` adds
    days past it). The function receives the day's time window as timezone-aware datetimes.

    Example:
        >>> @daily_partitioned_config(start_date="2024-01-01")
        ... def day_config(start, end):
        ...     return {"ops": {"load": {"config": {"day": start.strftime("%Y-%m-%d")}}}}

    Args:
        start_date: the first day (a date or a string in ``fmt``).
        timezone: the IANA time zone days start in (``"UTC"`` if not given).
        fmt: how keys are written (``"%Y-%m-%d"`` if not given).
        end_offset: how many days past today's start the partitions reach.
        tags_for_partition_fn: extra run tags for a day, a function of ``(start, end)``.

    Returns:
        A decorator turning the function into a :class:`PartitionedConfig`.

    Raises:
        DefinitionError: a bad date, format, time zone or ``end_offset``.
    """
    if not isinstance(end_offset, int) or end_offset < 0:
        raise DefinitionError(
            f"daily_partitioned_config: end_offset={end_offset!r}; expected a whole number >= 0."
        )
    zone = timezone or "UTC"
    first = DailyPartitionsDefinition(start_date, fmt=fmt or "%Y-%m-%d", timezone=zone)
    partitions = first
    if end_offset:
        end = first.end + dt.timedelta(days=end_offset)
        partitions = DailyPartitionsDefinition(first.start, end, fmt=first.fmt, timezone=zone)

    def decorate(fn: Callable[[dt.datetime, dt.datetime], Mapping[str, Any]]) -> PartitionedConfig:
        def config_for_key(key: str) -> Mapping[str, Any]:
            window = partitions.time_window_for(key)
            return fn(window.start, window.end)

        tags_for_key: TagsFn | None = None
        if tags_for_partition_fn is not None:
            day_tags = tags_for_partition_fn

            def tags_for_key(key: str) -> Mapping[str, str]:
                window = partitions.time_window_for(key)
                return day_tags(window.start, window.end)

        return PartitionedConfig(partitions, config_for_key, tags_for_key, decorated_fn=fn)

    return decorate


def partition_run_config(
    job_def: JobDefinition,
    partition_key: str | None,
    run_config: Mapping[str, Any] | None,
    tags: Mapping[str, Any] | None,
) -> tuple[Mapping[str, Any] | None, Mapping[str, Any] | None]:
    """The run config and run tags of a run of ``job_def`` for ``partition_key``.

    A job whose ``config`` is a :class:`PartitionedConfig` takes its run config from the key,
    unless run config is given (it wins); the key's tags go under the given tags. Other jobs,
    and runs without a key, keep both as given.

    Raises:
        PartitionKeyError: the key is not one of the job's partitions.
    """
    config = job_def.config
    if partition_key is None or not isinstance(config, PartitionedConfig):
        return run_config, tags
    derived = config.get_run_config_for_partition_key(partition_key)
    run_tags = {**config.get_tags_for_partition_key(partition_key), **(tags or {})}
    return (run_config if run_config else derived), run_tags
