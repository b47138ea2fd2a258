"""Version strategies: how ops and resources without an explicit ``version=`` get a version.

Precedence is the caller's job: an explicit ``version=`` on an op or resource wins, then the
job's strategy. Definitions live in a higher layer, so contexts hold them as ``Any`` and this
module relies only on the attributes ``op_def.compute_fn`` and ``resource_def.resource_fn``.

One computation of versions (a run, a ``list_versions``) hands every context the same
``memo`` dict, so a strategy can share work across the ops of a job: the source-hash strategy
keeps its code walk there, so a helper shared by 500 ops is read once.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from nbflow.errors import InvalidVersionError, VersioningError

if TYPE_CHECKING:
    from nbflow.versioning.code_record import CodeRecord
    from nbflow.versioning.code_walk import CodeWalk

_VERSION_PATTERN = re.compile(r"[A-Za-z0-9_]+")


@dataclass(frozen=True, slots=True)
class OpVersionContext:
    """What a strategy may look at to version an op.

    Attributes:
        op_def: the op definition (has ``compute_fn``).
        op_config: the resolved config the op will run with.
        memo: scratch space shared by every context of one computation of versions.
    """

    op_def: Any
    op_config: Any
    memo: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class ResourceVersionContext:
    """What a strategy may look at to version a resource.

    Attributes:
        resource_def: the resource definition (has ``resource_fn``).
        resource_config: the resolved config the resource will be built with.
        memo: scratch space shared by every context of one computation of versions.
    """

    resource_def: Any
    resource_config: Any
    memo: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


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

    def describe_op_version(self, context: OpVersionContext) -> CodeRecord | None:
        """Return what the op's version is made of, to explain later why it changed.

        Stored with every output of the op; reasons then name the helper, global or package
        that changed instead of only "code changed". Called right after
        :meth:`get_op_version` with the same context.

        Args:
            context: the op definition and its resolved config.

        Returns:
            The record, or ``None`` (the default) when the strategy keeps none.
        """
        return None

    def get_resource_version(self, context: ResourceVersionContext) -> str | None:
        """Return the version of ``context.resource_def``, or ``None`` to leave it unversioned.

        An unversioned resource is left out of output versions (it is not memoized).

        Args:
            context: the resource definition and its resolved config.

        Returns:
            A version string, or ``None`` (the default).
        """
        return None


FOLLOW_TRANSITIVE = "transitive"
"""Follow helpers, globals, closures, defaults and decorators (the default)."""

FOLLOW_IMMEDIATE = "immediate"
"""Only the function's own body, as the seeds describe."""

_WALK = "nbflow.versioning.code_walk"


class SourceHashVersionStrategy(VersionStrategy):
    """Versions ops and resources by their source code and everything it reaches in user code.

    By default (``follow="transitive"``) a version covers what the result depends on in user
    code (:mod:`nbflow.versioning.code_walk`): the function's body (comments and formatting do
    not count), the helper functions and classes it reaches in the user's own modules and
    notebook cells (transitively), the values of plain-data globals and closure variables it
    reads, its default argument values and its decorators. Installed packages count by their
    distribution version, the standard library not at all. Globals that are not plain data
    (a connection, a model) count by their type only and are listed as "not tracked" in the
    reasons; globals the code modifies (a call log, a cache) are state and count by type only.

    ``follow="immediate"`` keeps the seeds' behaviour: only the function's own body counts;
    helpers, globals, closures and decorators do not.

    Args:
        follow: ``"transitive"`` (default) or ``"immediate"``.

    Raises:
        VersioningError: ``follow`` is neither.

    Examples:
        >>> SourceHashVersionStrategy(follow="immediate")
        SourceHashVersionStrategy(follow='immediate')
    """

    def __init__(self, follow: str = FOLLOW_TRANSITIVE) -> None:
        if follow not in (FOLLOW_TRANSITIVE, FOLLOW_IMMEDIATE):
            raise VersioningError(
                f"SourceHashVersionStrategy(follow={follow!r}) is not an option: expected "
                f"{FOLLOW_TRANSITIVE!r} (the body and what it reaches) or {FOLLOW_IMMEDIATE!r} "
                '(the body only).\nFix: pass follow="transitive" or follow="immediate".'
            )
        self.follow = follow

    def get_op_version(self, context: OpVersionContext) -> str:
        """Return the version of ``op_def.compute_fn``."""
        fn = _function(context.op_def, "compute_fn", "op")
        if self.follow == FOLLOW_IMMEDIATE:
            from nbflow.versioning.code_version import source_version

            return source_version(fn)
        return _walk(context.memo).record(fn).version

    def describe_op_version(self, context: OpVersionContext) -> CodeRecord | None:
        """Return the code record of ``op_def.compute_fn`` (``None`` when immediate)."""
        if self.follow == FOLLOW_IMMEDIATE:
            return None
        return _walk(context.memo).record(_function(context.op_def, "compute_fn", "op"))

    def get_resource_version(self, context: ResourceVersionContext) -> str:
        """Return the version of ``resource_def.resource_fn``."""
        fn = _function(context.resource_def, "resource_fn", "resource")
        if self.follow == FOLLOW_IMMEDIATE:
            from nbflow.versioning.code_version import source_version

            return source_version(fn)
        return _walk(context.memo).record(fn).version

    def __repr__(self) -> str:
        if self.follow == FOLLOW_TRANSITIVE:
            return "SourceHashVersionStrategy()"
        return f"SourceHashVersionStrategy(follow={self.follow!r})"


def _walk(memo: dict[str, Any]) -> CodeWalk:
    from nbflow.versioning.code_walk import CodeWalk  # reading code loads on first use

    walk = memo.get(_WALK)
    if not isinstance(walk, CodeWalk):
        walk = memo[_WALK] = CodeWalk()
    return walk


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
