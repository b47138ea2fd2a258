"""Every exception and warning nbflow raises, under one root, with its wording built here.

Each message says what happened (names quoted), what was expected, and how to fix it.
Families follow the phases of a run: definition, config, versioning, storage, execution.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence


def did_you_mean(name: str, options: Iterable[str]) -> str:
    """``" Did you mean 'x'?"`` for close matches of ``name`` in ``options``, else ``""``."""
    import difflib

    close = difflib.get_close_matches(name, list(options), n=3, cutoff=0.6)
    return f" Did you mean {', '.join(map(repr, close))}?" if close else ""


def _bullets(problems: Sequence[str]) -> str:
    return "\n".join(f"  - {p}" for p in problems)


class NbflowError(Exception):
    """Root of every error nbflow raises on purpose."""


class NbflowWarning(UserWarning):
    """Root of every warning nbflow emits."""


# --- definitions -----------------------------------------------------------------------------


class DefinitionError(NbflowError):
    """A definition (op, graph, job, resource, asset) is invalid; raised before anything runs."""


class InvalidDefinitionError(DefinitionError, ValueError):
    """One or more problems in a graph or job definition, reported together."""

    def __init__(self, message: str, problems: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.problems = list(problems)

    @classmethod
    def build(cls, what: str, problems: Sequence[str]) -> InvalidDefinitionError:
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        return cls(f"{what} is invalid ({count}):\n{_bullets(problems)}", problems)


class ConfigSchemaError(DefinitionError, TypeError):
    """A config schema is not something nbflow can turn into a config type."""


class InvalidInvocationError(DefinitionError, TypeError):
    """An op or graph was called with arguments that do not fit its definition."""


# --- config ----------------------------------------------------------------------------------


class RunConfigValidationError(NbflowError, ValueError):
    """Run config does not fit the job's config schema; lists every problem with its path."""

    def __init__(self, message: str, problems: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.problems = list(problems)

    @classmethod
    def build(cls, target: str, problems: Sequence[str]) -> RunConfigValidationError:
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        return cls(
            f"Run config for {target} is invalid ({count}):\n{_bullets(problems)}\n"
            "Fix the values at the paths above; nothing was run.",
            problems,
        )


# --- versioning ------------------------------------------------------------------------------


class VersioningError(NbflowError):
    """A version could not be computed."""


class MissingVersionError(VersioningError):
    """Memoization is on but an op (or resource) has no version and no strategy gives one."""

    @classmethod
    def for_ops(cls, job_name: str, op_names: Sequence[str]) -> MissingVersionError:
        plural = len(op_names) > 1
        names = ", ".join(map(repr, op_names))
        return cls(
            f"Job {job_name!r} runs memoized, but {'ops' if plural else 'op'} {names} "
            f"{'have' if plural else 'has'} no version.\n"
            'Fix: give each op a version (@op(version="1")), or give the job a version strategy '
            "(@job(version_strategy=SourceHashVersionStrategy())), or turn memoization off with "
            'tags={MEMOIZED_RUN_TAG: "false"}.'
        )


class InvalidVersionError(VersioningError, ValueError):
    """A version string has characters outside ``[A-Za-z0-9_]``."""

    @classmethod
    def build(cls, owner: str, version: object) -> InvalidVersionError:
        return cls(
            f"{owner} has version {version!r}, but versions must be non-empty strings of letters, "
            'digits and underscores.\nFix: pass a version such as "v2" or "2024_06_01".'
        )


class UnversionableValueError(VersioningError, TypeError):
    """A value (input, config, default) has no stable fingerprint."""


class SourceUnavailableError(VersioningError):
    """SourceHashVersionStrategy cannot find the source of a function."""


# --- storage ---------------------------------------------------------------------------------


class StorageError(NbflowError):
    """Reading or writing stored outputs or run records failed."""


class NonMemoizableIOManagerError(StorageError, TypeError):
    """Memoization is on, but an output's IO manager cannot say whether it has an output."""

    @classmethod
    def build(
        cls, key: str, manager: object, outputs: Sequence[str]
    ) -> NonMemoizableIOManagerError:
        return cls(
            f"Memoization is on, but IO manager {key!r} ({type(manager).__name__}) used by "
            f"{', '.join(map(repr, outputs))} is not memoizable: it has no has_output().\n"
            "Fix: subclass MemoizableIOManager and implement has_output(context), use "
            "versioned_filesystem_io_manager or fs_io_manager, or run with "
            'tags={MEMOIZED_RUN_TAG: "false"}.'
        )


class OutputNotFoundError(StorageError, LookupError):
    """An output that should be stored is not there."""


class UnsafeStorageKeyError(StorageError, ValueError):
    """A storage key would escape its storage folder."""


class OutOfProcessStorageError(StorageError, TypeError):
    """An executor that runs steps in other processes was given an in-memory IO manager."""

    @classmethod
    def build(cls, executor: str, offenders: Sequence[str]) -> OutOfProcessStorageError:
        return cls(
            f"The {executor!r} executor runs steps in other processes, but outputs "
            f"{', '.join(offenders)} use an in-memory IO manager: values kept in one process's "
            "memory cannot reach the steps that need them.\nFix: use fs_io_manager (the "
            "default for execute_job) or another IO manager that stores values outside the "
            "process, or run with job.execute_in_process()."
        )


# --- execution -------------------------------------------------------------------------------


class ExecutionError(NbflowError):
    """Something went wrong while a run was going on."""


class OpError(ExecutionError):
    """User code in an op raised; the original exception is ``__cause__`` and ``user_exception``."""

    def __init__(self, message: str, step_key: str, user_exception: BaseException) -> None:
        super().__init__(message)
        self.step_key = step_key
        self.user_exception = user_exception

    @classmethod
    def wrap(cls, step_key: str, exc: BaseException) -> OpError:
        err = cls(
            f"Error in op {step_key!r}: {type(exc).__name__}: {exc}",
            step_key=step_key,
            user_exception=exc,
        )
        err.__cause__ = exc
        return err


class ResourceInitError(ExecutionError):
    """A resource raised while it was being set up."""

    @classmethod
    def wrap(cls, key: str, exc: BaseException) -> ResourceInitError:
        err = cls(f"Resource {key!r} failed to initialise: {type(exc).__name__}: {exc}")
        err.__cause__ = exc
        return err


class OutputError(ExecutionError, TypeError):
    """An op produced outputs that do not match its declared outputs."""


class InvalidContextUseError(ExecutionError):
    """A context method was used in a way its contract forbids."""


class ResultLookupError(ExecutionError, LookupError):
    """A result was asked for a node, output or event it does not have."""


class PartitionKeyError(ExecutionError, KeyError):
    """A partition key is missing or not one of the partitions definition's keys."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else ""


class ReconstructionError(ExecutionError):
    """A job cannot be rebuilt in another process."""

    @classmethod
    def not_module_scoped(cls, what: str, reason: str) -> ReconstructionError:
        return cls(
            f"reconstructable() cannot rebuild {what} in another process: {reason}. It needs "
            "a @job or a function returning a job, defined at the top level of an importable "
            "module or script.\nFix: move the definition to module scope, or use "
            "build_reconstructable_job(module, function, args, kwargs) to name your own "
            "reconstructor."
        )

    @classmethod
    def interactive(cls, name: str) -> ReconstructionError:
        return cls(
            f"reconstructable() cannot rebuild {name!r}: it was defined interactively (a REPL "
            "or notebook cell), so no file or module can rebuild it in another process.\n"
            "Fix: use nbflow.notebook.reconstructable(job), which snapshots the defining cells "
            "into an importable module, or pass the job itself to execute_job (it is then sent "
            "by value with cloudpickle)."
        )

    @classmethod
    def unbound_job(cls, name: str) -> ReconstructionError:
        return cls(
            f"reconstructable() got job {name!r}, which was not made by @job (it came from "
            "GraphDefinition.to_job() or JobDefinition(...)), so nbflow cannot tell where it "
            "is defined.\nFix: wrap it in a module-scoped function and pass that function:\n"
            f"    def define_{name}():\n        return my_graph.to_job()\n"
            f"    reconstructable(define_{name})"
        )

    @classmethod
    def not_json(cls, where: str, value: object, exc: BaseException) -> ReconstructionError:
        return cls(
            f"{where} is {type(value).__name__} {value!r:.60}, which is not JSON-serializable "
            f"({exc}). Reconstructor arguments travel to other processes as JSON.\nFix: pass "
            "strings, numbers, booleans, None, lists and dicts of those only."
        )

    @classmethod
    def unserializable(cls, job_name: str, problems: Sequence[str]) -> ReconstructionError:
        count = f"{len(problems)} part{'s' if len(problems) != 1 else ''}"
        return cls(
            f"Job {job_name!r} cannot be sent to step processes: cloudpickle failed on {count}:"
            f"\n{_bullets(problems)}\nFix: define these at module scope in an importable module "
            "and pass reconstructable(...) or build_reconstructable_job(...) to execute_job; or "
            "stop them capturing unpicklable objects (locks, open files, connections): create "
            "such objects inside the op or in a resource."
        )


class StepProcessError(ExecutionError):
    """The process (or Dask worker) running a step died before the step finished."""

    @classmethod
    def from_exit(cls, step_key: str, exitcode: int | None) -> StepProcessError:
        if exitcode is None:
            how = "did not exit when asked and was killed"
        elif exitcode < 0:
            import signal

            try:
                name = signal.Signals(-exitcode).name
            except ValueError:
                name = f"signal {-exitcode}"
            how = f"was killed by signal {name} ({-exitcode})"
        else:
            how = f"exited with code {exitcode}"
        return cls(
            f"The process running step {step_key!r} {how} before the step finished. Only this "
            "step failed; its outputs were not stored.\nFix: look for crashes in native code, "
            "os._exit() or sys.exit() calls, or the out-of-memory killer in the op."
        )

    @classmethod
    def worker_died(cls, step_key: str, detail: str) -> StepProcessError:
        return cls(
            f"The Dask worker running step {step_key!r} died before the step finished "
            f"({detail}). Only this step failed and it was not re-run.\nFix: look for crashes "
            "in native code, os._exit() calls or memory limits in the op."
        )

    @classmethod
    def remote(cls, step_key: str, error: object) -> StepProcessError:
        return cls(f"Step {step_key!r} failed in its process: {error}")


class RetryRequested(Exception):
    """Raise inside an op to ask for the step to be retried.

    Args:
        max_retries: how many retries this request allows in all.
        seconds_to_wait: delay before the retry.
    """

    def __init__(self, max_retries: int = 1, seconds_to_wait: float | None = None) -> None:
        super().__init__(f"Retry requested (max_retries={max_retries})")
        self.max_retries = max_retries
        self.seconds_to_wait = seconds_to_wait


class MissingExtraError(NbflowError, ImportError):
    """An optional dependency is not installed."""

    @classmethod
    def build(cls, package: str, extra: str) -> MissingExtraError:
        return cls(
            f"This feature needs {package!r}, which is not installed.\n"
            f'Fix: pip install "nbflow[{extra}]"'
        )
