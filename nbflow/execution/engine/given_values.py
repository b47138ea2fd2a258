"""Fingerprints of the values a run is given, taken once until a step starts.

A value given to a run (``input_values``, a fixed input value, run-config inputs, an input's
default) is fingerprinted wherever a step reading it is versioned: before the run is recorded,
again once the IO managers can tell what is stored, and again when a consumer is settled after
other steps ran. The same value read by several ops is the same object each time.

Only code that is handed a value can change it in place, and a run hands given values to
nothing but its steps. So while no step has started, a value is what it was when it was
fingerprinted, and the fingerprint is reused: by every op reading the value and by both
versionings before the run. Once a step has started (in this process or another, which may
write to shared memory), every value may have changed and is fingerprinted again when it is
next needed, once for all its consumers settled before the next step starts. A value that
nothing can change is not hashed again even then (see
:mod:`nbflow.versioning.immutable_arrays`).

Code that is not handed the value but reaches it another way, and changes it between the
versionings before the run (a resource that keeps a reference to the same array and changes
it when it is built), is not followed: such a change is seen by the next run.

Each entry holds the value itself, so its ``id()`` cannot be reused by another object while
the entry exists.
"""

from __future__ import annotations

from nbflow.versioning import fingerprint


class GivenValueFingerprints:
    """The fingerprints of one run's given values, valid until the next step starts."""

    def __init__(self) -> None:
        self.steps_started = 0
        """How many steps have started in the run; fingerprints are kept per count."""
        self._taken: dict[int, tuple[object, int, str]] = {}

    def of(self, value: object) -> str:
        """``fingerprint(value)``, computed once for each count of started steps.

        Raises:
            UnversionableValueError: the value has no stable fingerprint.
        """
        taken = self._taken.get(id(value))
        if taken is not None and taken[0] is value and taken[1] == self.steps_started:
            return taken[2]
        digest = fingerprint(value)
        self._taken[id(value)] = (value, self.steps_started, digest)
        return digest

    def step_started(self) -> None:
        """A step started: any given value may change from now on."""
        self.steps_started += 1
