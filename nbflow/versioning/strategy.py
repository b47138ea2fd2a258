"""Version strategies: how ops and resources without an explicit ``version=`` get a version.

Precedence is the caller's job: an explicit ``version=`` on an op or resource wins, then the
job's strategy. Definitions live in a higher layer, so contexts hold them as ``Any`` and this
module relies only on the attributes ``op_def.compute_fn`` and ``resource_def.resource_fn``.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from nbflow.errors import InvalidVersionError, VersioningError
from nbflow.versioning.code_version import source_version

_VERSION_PATTERN = re.compile(r"[A-Za-z0-9_]+")


@dataclass(frozen=True, slots=True)
class OpVersionContext:
    """What a strategy may look at to version an op.

    Attributes:
        op_def: the op definition (has ``compute_fn``).
        op_config: the resolved config the op will run with.
    """

    op_def: Any
    op_config: Any


@dataclass(frozen=True, slots=True)
class ResourceVersionContext:
    """What a strategy may look at to version a resource.

    Attributes:
        resource_def: the resource definition (has ``resource_fn``).
        resource_config: the resolved config the resource will be built with.
    """

    resource_def: Any
    resource_config: Any


class VersionStrategy(ABC):
    """Derives versions for ops (required) and resources (optional).

    Giving a job a strategy turns memoization on for it: steps whose outputs are already stored
    under their current version are skipped.
    """

    @abstractmethod
    def get_op_version(self, context: OpVersionContext) -> str:
        """Return the version of ``context.op_def``.

        Args:
            context: the op definition and its resolved config.

        Returns:
            A non-empty string of letters, digits and underscores.
        """

    def get_resource_version(self, context: ResourceVersionContext) -> str | None:
        """Return the version of ``context.resource_def``, or ``None`` to leave it unversioned.

        An unversioned resource is left out of output versions (it is not memoized).

        Args:
            context: the resource definition and its resolved config.

        Returns:
            A version string, or ``None`` (the default).
        """
        return None


class SourceHashVersionStrategy(VersionStrategy):
    """Versions ops and resources by the immediate source code of their functions.

    Only the body of the op's compute function (or the resource's function) counts; comments
    and formatting do not, decorators do not, functions it calls do not.
    """

    def get_op_version(self, context: OpVersionContext) -> str:
        """Return :func:`~nbflow.versioning.source_version` of ``op_def.compute_fn``."""
        return source_version(_function(context.op_def, "compute_fn", "op"))

    def get_resource_version(self, context: ResourceVersionContext) -> str:
        """Return :func:`~nbflow.versioning.source_version` of ``resource_def.resource_fn``."""
        return source_version(_function(context.resource_def, "resource_fn", "resource"))

    def __repr__(self) -> str:
        return "SourceHashVersionStrategy()"


def _function(definition: object, attribute: str, kind: str) -> Any:
    fn = getattr(definition, attribute, None)
    if not callable(fn):
        raise VersioningError(
            f"SourceHashVersionStrategy cannot version {kind} definition "
            f"{type(definition).__name__!r}: it has no callable {attribute!r}.\n"
            f"Fix: pass a {kind} definition, or give the {kind} an explicit version=."
        )
    return fn


def validate_version(owner: str, version: object) -> str:
    """Return ``version`` if it is a valid version string, else raise.

    Args:
        owner: how the owner reads in the message, e.g. ``"Op 'emit_tree'"``.
        version: the value given as a version.

    Returns:
        ``version`` as a plain ``str``.

    Raises:
        InvalidVersionError: ``version`` is not a non-empty str of ``[A-Za-z0-9_]``.

    Examples:
        >>> validate_version("Op 'emit_tree'", "v2")
        'v2'
    """
    if not isinstance(version, str) or _VERSION_PATTERN.fullmatch(version) is None:
        raise InvalidVersionError.build(owner, version)
    return str.__str__(version)
