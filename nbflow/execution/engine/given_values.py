"""Fingerprints of the values a run is given, taken once until code that may change them runs.

A value given to a run (``input_values``, a fixed input value, run-config inputs, an input's
default, a value given as a resource without a version of its own) is fingerprinted wherever
a step reading it is versioned: before the run is recorded, again once the IO managers can
tell what is stored, and again when a consumer is settled after other steps ran. The same
value read by several ops is the same object each time.

Between those moments, the code that could change a value in place is the run's steps (their
ops are handed it) and user code building the run's resources (which may hold a reference to
the same object). While neither has run, a value is what it was when it was fingerprinted,
and the fingerprint is reused: by every op reading the value and by both versionings before
the run. Once a step has started (in this process or another, which may write to shared
memory) or a user's resource was built, every value may have changed and is fingerprinted
again when it is next needed, once for all the consumers settled before such code runs
again. A value that nothing can change is not hashed again even then (see
:mod:`nbflow.versioning.immutable_arrays`).

Each entry holds the value itself, so its ``id()`` cannot be reused by another object while
the entry exists.
"""

from __future__ import annotations

from nbflow.versioning import fingerprint


class GivenValueFingerprints:
    """The fingerprints of one run's given values, valid until code that may change them runs."""

    def __init__(self) -> None:
        self.code_runs = 0
        """How many times code that may change given values ran; fingerprints are kept per
        count."""
        self._taken: dict[int, tuple[object, int, str]] = {}

    def of(self, value: object) -> str:
        """``fingerprint(value)``, computed once for each count of :attr:`code_runs`.

        Raises:
            UnversionableValueError: the value has no stable fingerprint.
        """
        taken = self._taken.get(id(value))
        if taken is not None and taken[0] is value and taken[1] == self.code_runs:
            return taken[2]
        digest = fingerprint(value)
        self._taken[id(value)] = (value, self.code_runs, digest)
        return digest

    def code_ran(self) -> None:
        """Code that may change given values ran (a step started, a user's resource was
        built): fingerprint them again when next needed."""
        self.code_runs += 1
