"""Partitions: a job or asset run for one slice of data at a time, named by a partition key."""

from __future__ import annotations

from abc import ABC, abstractmethod
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
        self._keys = tuple(keys)

    def get_partition_keys(self) -> Sequence[str]:
        return self._keys

    def __repr__(self) -> str:
        return f"StaticPartitionsDefinition({list(self._keys)!r})"
