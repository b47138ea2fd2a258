"""Partitions: a job or asset run for one slice of data at a time, named by a partition key."""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING

from nbflow.errors import DefinitionError, PartitionKeyError, did_you_mean

if TYPE_CHECKING:
    from collections.abc import Sequence


class PartitionsDefinition(ABC):
    """A set of partition keys."""

    @abstractmethod
    def get_partition_keys(self) -> Sequence[str]:
        """Every partition key, in order."""

    def describe_keys(self) -> str:
        keys = self.get_partition_keys()
        shown = ", ".join(map(repr, keys[:10]))
        return shown + (f", … ({len(keys)} in all)" if len(keys) > 10 else "")

    def validate_key(self, key: str | None) -> str:
        """Return ``key`` if it is one of this definition's keys; else raise PartitionKeyError."""
        if key is None:
            raise PartitionKeyError(
                f"This run is partitioned, but no partition key was given. Valid keys: "
                f"{self.describe_keys()}. Fix: pass partition_key=..."
            )
        if key not in self.get_partition_keys():
            raise PartitionKeyError(
                f"Unknown partition key {key!r}.{did_you_mean(key, self.get_partition_keys())} "
                f"Valid keys: {self.describe_keys()}."
            )
        return key


class StaticPartitionsDefinition(PartitionsDefinition):
    """A fixed list of partition keys."""

    def __init__(self, partition_keys: Sequence[str]) -> None:
        keys = list(partition_keys)
        dupes = sorted({k for k in keys if keys.count(k) > 1})
        bad = [k for k in keys if not isinstance(k, str) or not k]
        if not keys or dupes or bad:
            raise DefinitionError(
                "StaticPartitionsDefinition needs a non-empty list of distinct, non-empty string "
                f"keys; got {keys!r} (duplicates: {dupes}, invalid: {bad!r})."
            )
        unsafe = [k for k in keys if _unsafe_partition_key(k)]
        if unsafe:
            shown = ", ".join(repr(k[:40] + ("…" if len(k) > 40 else "")) for k in unsafe[:5])
            raise DefinitionError(
                f"StaticPartitionsDefinition has keys that cannot name a stored partition: "
                f"{shown}. A key names a file in storage, so it may not be '.' or '..', contain "
                f"'/', '\\' or NUL, be more than {MAX_PARTITION_KEY_BYTES} UTF-8 bytes, or "
                "hold lone surrogates. Fix: plain names, e.g. ['eu', 'us'] or ['2024-01']."
            )
        self._keys = tuple(keys)

    def get_partition_keys(self) -> Sequence[str]:
        return self._keys

    def __repr__(self) -> str:
        return f"StaticPartitionsDefinition({list(self._keys)!r})"


MAX_PARTITION_KEY_BYTES = 255
"""Longest partition key, in UTF-8 bytes (a key names a file in storage)."""


def _unsafe_partition_key(key: str) -> bool:
    """Whether ``key`` could name a place outside its folder or cannot be a file name."""
    if key in (".", "..") or any(c in key for c in "/\\\0"):
        return True
    try:
        return len(key.encode("utf-8")) > MAX_PARTITION_KEY_BYTES
    except UnicodeEncodeError:
        return True


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """The half-open time range ``[start, end)`` a time partition covers (timezone-aware)."""

    start: dt.datetime
    end: dt.datetime


def _zone(name: str) -> dt.tzinfo:
    if name == "UTC":
        return dt.UTC
    import zoneinfo

    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise DefinitionError(
            f"DailyPartitionsDefinition: timezone={name!r} is not a known time zone. "
            'Fix: an IANA name such as "UTC" or "Europe/Paris".'
        ) from None


class DailyPartitionsDefinition(PartitionsDefinition):
    """One partition per day from ``start_date`` up to (not including) ``end_date``.

    Args:
        start_date: first day, a ``date``/``datetime`` or a string in ``fmt``.
        end_date: day after the last one; defaults to today (the current day is not
            complete, so it is not a partition yet).
        fmt: how keys are written, ``"%Y-%m-%d"`` by default.
        timezone: the IANA time zone days start in (``"UTC"`` by default); time windows
            are timezone-aware datetimes in it.

    Raises:
        DefinitionError: a date is not in ``fmt``, ``end_date`` is not after ``start_date``,
            or ``timezone`` is not a known time zone.
    """

    def __init__(
        self,
        start_date: str | dt.date,
        end_date: str | dt.date | None = None,
        fmt: str = "%Y-%m-%d",
        timezone: str = "UTC",
    ) -> None:
        self.fmt = fmt
        self.timezone = timezone
        self._zone = _zone(timezone)
        self.start = self._day(start_date, "start_date")
        today = dt.datetime.now(self._zone).date()
        self.end = self._day(end_date, "end_date") if end_date is not None else today
        if self.end <= self.start:
            raise DefinitionError(
                f"DailyPartitionsDefinition: end_date {self.end} must be after start_date "
                f"{self.start}."
            )

    def _day(self, value: str | dt.date, name: str) -> dt.date:
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        try:
            return dt.datetime.strptime(value, self.fmt).date()
        except (TypeError, ValueError):
            raise DefinitionError(
                f"DailyPartitionsDefinition: {name}={value!r} is not a date in the format "
                f'{self.fmt!r}. Fix: e.g. {name}="2024-01-31".'
            ) from None

    def get_partition_keys(self) -> Sequence[str]:
        days = (self.end - self.start).days
        return [(self.start + dt.timedelta(days=i)).strftime(self.fmt) for i in range(days)]

    def describe_keys(self) -> str:
        keys = self.get_partition_keys()
        return f"{keys[0]} … {keys[-1]} ({len(keys)} days, format {self.fmt!r})"

    def time_window_for(self, key: str) -> TimeWindow:
        """The day partition ``key`` covers."""
        day = dt.datetime.strptime(self.validate_key(key), self.fmt).date()
        start = dt.datetime.combine(day, dt.time(), self._zone)
        end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), self._zone)
        return TimeWindow(start, end)

    def __repr__(self) -> str:
        return f"DailyPartitionsDefinition({self.start.isoformat()!r}, {self.end.isoformat()!r})"
