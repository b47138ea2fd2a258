"""Jobs follow their definitions: an op, graph or resource redefined after the job was built.

In a notebook an op is edited by running its cell again, which binds the name ``scale`` to a
new definition while a job built in an earlier cell still holds the old one; a script run as
``__main__`` can do the same. Every entry point that runs or versions a job
(``execute_in_process``, ``execute_job``, ``list_versions``, ``reconstructable`` pointers,
the notebook views) first asks :func:`current_job` for the job as the definitions are now:

- A definition is *followed* when its function (an op's compute function, a graph's
  composition function, a resource's function) is defined at the top level of a module or
  notebook: its ``__qualname__`` has no dot (so not ``<locals>`` of a job factory, not a
  method) and its ``__globals__`` are that module's. Its *binding* is
  ``fn.__globals__[fn.__name__]``, the name it was defined under, as it is now.
- The binding is unchanged when it is made from the same function: the definition itself,
  the function, ``op.with_tags(...)``, ``op.alias(...)``, an asset of that op. A name that is
  no longer bound at all (``del``) is not followed.
- It was *redefined* when it is a definition of the same kind whose function has the same
  ``__module__`` and ``__qualname__``. The job is then rebuilt: ``@job``/``@graph`` functions
  run again (their calls find the names as they are now; definitions reached another way are
  substituted, nested graphs first), graphs made with ``GraphDefinition(...)`` get the new node
  definitions, ``resource_defs`` entries are replaced. The job's own name, tags, config,
  executor, hooks and version strategy are kept.
- Anything else is a :class:`~nbflow.errors.RedefinitionError`, raised before anything runs:
  the name now holds a plain function, another definition or a value, the job is an
  asset job (it has no composition function to run again), or the rebuilt job is invalid
  (the new op lost an input the job passes it). The message names the definition, where it
  was redefined (``file.py:12``; in IPython, ``Cell In[5], line 1`` once the notebook layer
  is imported: :mod:`nbflow.definitions.code_location`) and the fix.

:func:`redefinition_reasons` gives, for a rebuilt job, the steps each redefinition concerns,
with the reason ``op 'scale' redefined after job 'pipeline' was built`` (``list_versions``
adds it to those steps' rows).

Not followed: hooks, loggers, config mappings and executors; tags given to a copy with
``op.with_tags(...)`` are not carried over to the op that replaces it.

Cost: the followed definitions of a job are found once per job; each call then reads one dict
entry per definition and compares identities (well under a microsecond per op). Rebuilt jobs
are cached under the identities of the current bindings, so a notebook that redefines nothing
more rebuilds nothing more, and a cell re-run without edits rebuilds once.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nbflow.definitions._bindings import MISSING, Followed, Redefinition, followed_by, unchanged
from nbflow.definitions._rebuild import Rebuilder
from nbflow.definitions.job import JobDefinition

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "Redefinition",
    "current_job",
    "origin_job",
    "redefinition_reasons",
    "redefinitions",
]


@dataclass
class _State:
    """What :func:`current_job` remembers about one job (kept while the job lives)."""

    followed: tuple[Followed, ...]
    key: tuple[int, ...] | None = None
    bindings: tuple[Any, ...] = ()  # held so that the ids in ``key`` stay unique
    result: JobDefinition | None = None
    result_followed: tuple[Followed, ...] = ()


_states: weakref.WeakKeyDictionary[JobDefinition, _State] = weakref.WeakKeyDictionary()
_origins: weakref.WeakKeyDictionary[JobDefinition, weakref.ref[JobDefinition]] = (
    weakref.WeakKeyDictionary()
)
_found: weakref.WeakKeyDictionary[
    JobDefinition, tuple[tuple[Redefinition, ...], Mapping[str, tuple[str, ...]]]
] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def origin_job(job: JobDefinition) -> JobDefinition:
    """The job ``job`` was rebuilt from by :func:`current_job` (``job`` itself if it was not)."""
    ref = _origins.get(job)
    origin = ref() if ref is not None else None
    return origin if origin is not None else job


def redefinitions(job: JobDefinition) -> tuple[Redefinition, ...]:
    """The redefinitions a job returned by :func:`current_job` was rebuilt with."""
    found = _found.get(job)
    return found[0] if found is not None else ()


def redefinition_reasons(job: JobDefinition) -> Mapping[str, tuple[str, ...]]:
    """Step key → the redefinitions that concern it, as reasons; empty if none."""
    found = _found.get(job)
    return found[1] if found is not None else {}


def current_job(job: JobDefinition) -> JobDefinition:
    """``job`` as its definitions are bound now: itself, or a rebuilt copy (cached).

    Raises:
        RedefinitionError: a definition's name is bound to something the job cannot be
            rebuilt with; names the definition, where it was redefined, and the fix.
    """
    if not isinstance(job, JobDefinition):
        return job  # not a job: the caller reports it
    origin = origin_job(job)
    state = _states.get(origin)
    if state is None:
        state = _State(followed_by(origin))
        with _lock:
            state = _states.setdefault(origin, state)
    if unchanged(state.followed):
        return origin
    bindings = tuple(f.namespace.get(f.name, MISSING) for f in state.followed)
    key = tuple(map(id, bindings))
    result = state.result
    if key == state.key and result is not None and unchanged(state.result_followed):
        return result
    rebuilt = Rebuilder(origin).build()
    result = origin if rebuilt is None else rebuilt.job
    if rebuilt is not None:
        _origins[result] = weakref.ref(origin)
        _found[result] = (rebuilt.redefinitions, rebuilt.reasons)
    with _lock:
        state.key, state.bindings, state.result = key, bindings, result
        state.result_followed = followed_by(result) if result is not origin else ()
    return result
