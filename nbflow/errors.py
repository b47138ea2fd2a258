"""Every exception and warning nbflow raises, under one root, with its wording built here.

Each message says what happened (names quoted), what was expected, and how to fix it.
Families follow the phases of a run: definition, config, versioning, storage, execution.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence


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


class InvalidSubsetError(InvalidDefinitionError):
    """An op or asset selection names nothing in the job, or cannot be satisfied by it."""


class ConfigSchemaError(DefinitionError, TypeError):
    """A config schema is not something nbflow can turn into a config type."""


class InvalidInvocationError(DefinitionError, TypeError):
    """An op or graph was called with arguments that do not fit its definition."""


class NodeNotFoundError(DefinitionError, LookupError):
    """A graph or job was asked for a node it does not have."""

    @classmethod
    def build(cls, owner: str, name: str, available: Sequence[str]) -> NodeNotFoundError:
        return cls(
            f"{owner} has no node {name!r}.{did_you_mean(name, available)} Its nodes are "
            f"{list(available)}. Fix: name a node it has (``outer.inner`` for one inside a graph)."
        )


class RedefinitionError(DefinitionError):
    """A job uses definitions that were redefined (or rebound) after it was built, and it
    cannot be rebuilt with the current ones; raised before anything runs."""

    def __init__(self, message: str, job_name: str, problems: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.job_name = job_name
        self.problems = list(problems)

    @classmethod
    def build(
        cls, job_name: str, problems: Sequence[str], job_location: str | None, in_cell: bool
    ) -> RedefinitionError:
        where = f" ({job_location})" if job_location else ""
        code = "cell" if in_cell else "code"
        unique = list(dict.fromkeys(problems))
        return cls(
            f"Job {job_name!r} was not run: definitions it uses changed after it was built, and "
            f"it cannot be rebuilt with the current ones:\n{_bullets(unique)}\n"
            f"Fix: re-run the {code} that builds {job_name!r}{where}, changed to fit the new "
            "definitions if needed; or restore the previous definitions.",
            job_name,
            unique,
        )


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


class UnversionedInputError(VersioningError):
    """Memoization is on but an input an input manager supplies has no version."""

    @classmethod
    def build(cls, step_key: str, input_name: str, manager_key: str) -> UnversionedInputError:
        return cls(
            f"Input {step_key}.{input_name} is loaded by input manager {manager_key!r}, which "
            "has no version, so a memoized run cannot tell whether the value changed.\n"
            'Fix: give the input manager a version (@input_manager(version="1")), or give the '
            "job a version strategy that versions resources, or turn memoization off with "
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


class MemoizationOffError(VersioningError):
    """A memo plan was asked for a job that does not run memoized."""

    @classmethod
    def build(cls, job_name: str, tag: str, tag_value: str | None) -> MemoizationOffError:
        why = (
            f"its tags set {tag}={tag_value!r}"
            if tag_value is not None
            else f"it has no version strategy and no {tag} tag"
        )
        return cls(
            f"Job {job_name!r} does not run memoized ({why}), so there is no plan to show: "
            "every step would run.\n"
            "Fix: give the job a version strategy (@job(version_strategy="
            "SourceHashVersionStrategy())), or turn memoization on with "
            f'tags={{MEMOIZED_RUN_TAG: "true"}} on the job (or pass them to the plan) and a '
            'version on every op (@op(version="1")).'
        )


class NotAJobError(NbflowError, TypeError):
    """Something other than a job was given where only a job will do."""

    @classmethod
    def build(cls, what: str, given: object) -> NotAJobError:
        name = getattr(given, "name", None)
        got = type(given).__name__ + (f" {name!r}" if isinstance(name, str) else "")
        return cls(
            f"{what} needs a job, but got {got}.\n"
            "Fix: pass a job (@job, or graph.to_job(version_strategy=SourceHashVersionStrategy()))."
        )


class InvalidArgumentError(NbflowError, TypeError, ValueError):
    """An entry point (``execute_in_process``, ``execute_job``, ``materialize``...) was given
    an argument of the wrong type or form; raised before anything runs or is recorded."""

    def __init__(self, message: str, problems: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.problems = list(problems)

    @classmethod
    def build(cls, entry_point: str, problems: Sequence[str]) -> InvalidArgumentError:
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        return cls(
            f"{entry_point}() was given invalid arguments ({count}):\n{_bullets(problems)}\n"
            "Fix the arguments above; nothing was run or recorded.",
            problems,
        )


class SourceChangedError(SourceUnavailableError):
    """A function's source file changed after its module was imported: the code on disk is not
    the code that would run, so no version can describe it (reload the module or restart)."""


# --- storage ---------------------------------------------------------------------------------


class StorageError(NbflowError):
    """Reading or writing stored outputs or run records failed."""


class ValueNotKeptWarning(NbflowWarning):
    """A memoized output could not be pickled: it serves its own run only, and its step
    runs again next time."""


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


class CorruptOutputError(StorageError):
    """A stored output is damaged: emptied, truncated or changed since it was written."""

    @classmethod
    def build(cls, what: str, path: str, problem: str, moved_to: str) -> CorruptOutputError:
        return cls(
            f"Stored output {what} at {path} is damaged: {problem}. It was not loaded; the "
            f"file was moved aside to {moved_to}, and the step that produced it will be "
            "recomputed.\nFix: run the job again (a memoized run recomputes that step)."
        )


class ValueWriteError(StorageError):
    """A value written behind the run (its file written after its step ended) could not be
    stored."""

    @classmethod
    def build(cls, what: Sequence[str], path: str, error: BaseException) -> ValueWriteError:
        outputs = ", ".join(what)
        return cls(
            f"Could not store the value of {outputs} at {path}: {type(error).__name__}: "
            f"{error}. Expected a storage folder nbflow can write, with "
            "free space. The run failed; the value was not stored and no manifest was recorded "
            "for it, so the next run computes it again.\nFix: free space on that disk, or make "
            "the storage folder writable, then run the job again."
        )


class UnsafeStorageKeyError(StorageError, ValueError):
    """A storage key would escape its storage folder."""


class StorageUrlError(StorageError, ValueError):
    """A storage folder was given as a URL (``s3://...``) to a store of local folders."""

    @classmethod
    def build(cls, base_dir: str) -> StorageUrlError:
        return cls(
            f"base_dir {base_dir!r} is a URL, but FilesystemIOManager stores in local folders "
            "only: it would be read as a folder named after the URL. Nothing was stored.\n"
            "Fix: use UrlIOManager(base_dir) for a URL (fs_io_manager and "
            "versioned_filesystem_io_manager choose it for a URL base_dir), or give a local "
            "folder."
        )


class StorageBackendError(StorageError, ImportError):
    """A storage URL's scheme has no usable fsspec backend (not installed, or unknown)."""

    @classmethod
    def build(cls, base_dir: str, problem: str, package: str) -> StorageBackendError:
        return cls(
            f"base_dir {base_dir!r} is stored through fsspec, but its backend cannot be "
            f"loaded: {problem}. Nothing ran and nothing was stored.\n"
            f'Fix: pip install "{package}" (in every environment that runs steps), or give '
            "a local folder."
        )

    @classmethod
    def unknown(cls, base_dir: str, protocol: str) -> StorageBackendError:
        return cls(
            f"base_dir {base_dir!r} has the scheme {protocol!r}, which fsspec does not know "
            "(no installed package registers it). Nothing ran and nothing was stored.\n"
            "Fix: check the URL's spelling (s3://, gs://, memory://, file:// ...), or install "
            "the fsspec backend that provides that scheme."
        )


class OutOfProcessStorageError(StorageError, TypeError):
    """An executor that runs steps in other processes was given an in-memory IO manager."""

    @classmethod
    def build(cls, executor: str, offenders: Sequence[str]) -> OutOfProcessStorageError:
        return cls(
            f"The {executor!r} executor runs steps in other processes, but outputs "
            f"{', '.join(offenders)} use an IO manager that keeps values in this process (in "
            "memory, or at a memory:// URL): values kept in one process's memory cannot reach "
            "the steps that need them.\nFix: use fs_io_manager (the default for execute_job) "
            "or another IO manager that stores values outside the process (a folder, s3://...), "
            "or run with job.execute_in_process()."
        )


# --- execution -------------------------------------------------------------------------------


class RunIdInUseError(StorageError, ValueError):
    """A run was started with the id of a run the instance has recorded already."""

    @classmethod
    def build(cls, run_id: str, where: str) -> RunIdInUseError:
        return cls(
            f"Run id {run_id!r} is already used by a run recorded in {where}; nothing ran "
            "and that run's record was left as it was. Expected a new id for every run. "
            "Fix: leave run_id out (nbflow makes a unique one), or pass a new id, e.g. "
            "str(uuid.uuid4())."
        )


class ExecutionError(NbflowError):
    """Something went wrong while a run was going on."""


class LogLevelError(ExecutionError, ValueError):
    """``$NBFLOW_LOG_LEVEL`` names no logging level."""

    @classmethod
    def build(cls, variable: str, value: str) -> LogLevelError:
        return cls(
            f"{variable}={value!r} is not a logging level. Fix: set it to DEBUG, INFO, WARNING, "
            f"ERROR or CRITICAL (or a number such as 10), or unset it for INFO."
        )


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


class DynamicOutputError(OutputError, ValueError):
    """A dynamic output was produced wrongly: a bad or repeated mapping key, or a plain
    ``Output`` where ``DynamicOutput`` objects were expected."""


class TypeCheckError(OutputError):
    """A value given to an input, or returned for an output, does not fit its declared type."""

    @classmethod
    def build(cls, problem: str, *, is_input: bool) -> TypeCheckError:
        """The error for one type-check ``problem``, with a fix line if it has none."""
        if "Fix:" not in problem:
            fix = (
                "pass a value of that type (correct the upstream op or input value)"
                if is_input
                else "return a value of that type"
            )
            problem = f"{problem} Fix: {fix}, or change the declared type if it is wrong."
        return cls(problem)


class InvalidContextUseError(ExecutionError):
    """A context method was used in a way its contract forbids."""


class ResultLookupError(ExecutionError, LookupError):
    """A result was asked for a node, output or event it does not have."""


class PartitionKeyError(ExecutionError, KeyError):
    """A partition key is missing or not one of the partitions definition's keys."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else ""


class ReexecutionError(ExecutionError, LookupError):
    """A run cannot be re-executed: its parent run is unknown, of another job, not failed
    (for ``from_failure``), or did not store the outputs the re-execution needs."""


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


class InvalidTimeoutError(InvalidDefinitionError):
    """A step or run time limit is not a positive number of seconds."""

    @classmethod
    def for_value(cls, where: str, value: object) -> InvalidTimeoutError:
        shown = repr(value)
        if len(shown) > 60:
            shown = shown[:57] + "..."
        return cls(
            f"{where} is {shown}, but a time limit must be a positive number of seconds.\n"
            f'Fix: give a number above 0 such as 30 or "2.5" (a string is read as a number), '
            "or leave it out for no limit."
        )


class StepTimeoutError(ExecutionError):
    """A step ran longer than its time limit (``nbflow/timeout`` tag, ``step_timeout``
    executor config, or the run's ``timeout``)."""

    @classmethod
    def build(cls, step_key: str, limit: float, source: str, how: str) -> StepTimeoutError:
        return cls(
            f"Step {step_key!r} ran longer than its time limit of {limit:g} s ({source}) and "
            f"{how}.\nFix: make the op faster, or "
            f'raise the limit (e.g. @op(tags={{"nbflow/timeout": "{2 * limit:g}"}}) or '
            "execution config step_timeout)."
        )


class RunTimeoutError(ExecutionError):
    """A run went on longer than ``execute_job(timeout=...)``."""

    @classmethod
    def build(cls, job_name: str, limit: float, ended: Sequence[str]) -> RunTimeoutError:
        stopped = f" Steps ended while running: {list(ended)}." if ended else ""
        return cls(
            f"Run of {job_name!r} reached its time limit of {limit:g} s (execute_job(timeout="
            f"{limit:g})): no further step started and the run failed.{stopped}\nFix: give "
            "a larger timeout=, or leave it out for no limit."
        )


class DaskMainReimportError(ReconstructionError):
    """A restarted Dask worker re-imported a script that runs a job when imported."""

    @classmethod
    def build(cls, script: str) -> DaskMainReimportError:
        return cls(
            f"A restarted Dask worker re-imported the script {script!r}, which runs a job "
            'when it is imported (it has no `if __name__ == "__main__":` guard), so the '
            "worker could not start and the run could not go on.\nFix: put the code that "
            'runs the job under `if __name__ == "__main__":`.'
        )


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


class MaxRetriesExceededError(ExecutionError):
    """An op raised :class:`RetryRequested` again after the retries it asked for were used."""

    @classmethod
    def build(cls, step_key: str, request: RetryRequested, retries: int) -> MaxRetriesExceededError:
        return cls(
            f"Step {step_key!r} raised RetryRequested(max_retries={request.max_retries}) after "
            f"{retries} retr{'y' if retries == 1 else 'ies'}: no retry is left, so it failed. "
            "Fix: raise RetryRequested with a larger max_retries, or let the op succeed or "
            "fail on its last attempt (context.retry_number says which attempt it is)."
        )


class Failure(Exception):
    """Raise inside an op to fail its step on purpose, with a description and metadata.

    The step's ``STEP_FAILURE`` data carries both (``failure_data.user_failure_data``).

    Args:
        description: why the step failed (also the exception's message).
        metadata: facts about the failure, kept with the failure event.
        allow_retries: ``False`` fails the step at once, whatever its retry policy;
            ``None`` or ``True`` lets the policy retry it as for any error.
    """

    def __init__(
        self,
        description: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        allow_retries: bool | None = None,
    ) -> None:
        super().__init__(description or "")
        self.description = description
        self.metadata = dict(metadata or {})
        self.allow_retries = allow_retries


# --- notebooks (run by nbflow.notebook through papermill) ------------------------------------


class NotebookError(NbflowError):
    """A notebook cannot be read, parameterized or started."""


class NotebookNotFoundError(NotebookError, FileNotFoundError):
    """The notebook file to run does not exist."""

    @classmethod
    def build(cls, given: str, resolved: str) -> NotebookNotFoundError:
        where = "" if given == resolved else f" (given as {given!r})"
        return cls(
            f"Notebook {resolved!r}{where} does not exist; expected an .ipynb file.\n"
            "Fix: check the path (relative paths are taken from the current working directory)."
        )


class InvalidNotebookError(NotebookError, ValueError):
    """A file is not a Jupyter notebook nbflow can read."""

    @classmethod
    def build(cls, path: str, reason: str) -> InvalidNotebookError:
        return cls(
            f"Cannot read notebook {path!r}: {reason}. Expected a Jupyter notebook (nbformat 4 "
            "JSON).\nFix: open and re-save it in Jupyter, or pass the path of another notebook."
        )


class NotebookParameterError(NotebookError, ValueError):
    """Notebook parameters cannot be injected (bad names, or two sources for one name)."""

    @classmethod
    def bad_names(cls, notebook: str, names: Sequence[str]) -> NotebookParameterError:
        """``names``: each bad name, already quoted and followed by why, e.g. ``"'x y' (...)"``."""
        return cls(
            f"Notebook {notebook!r} got parameter name(s) {', '.join(names)} that are not "
            "Python identifiers a notebook can take; parameters become variables in the "
            "notebook, so each must be an identifier that Python's NFKC normalisation leaves "
            "unchanged and that is not a keyword, a builtin or a dunder name. Nothing was run.\n"
            "Fix: use names such as 'alpha' or 'n_rows' (ASCII letters, digits, underscores)."
        )

    @classmethod
    def unpicklable(cls, notebook: str, name: str, exc: BaseException) -> NotebookParameterError:
        return cls(
            f"Notebook {notebook!r}: parameter {name!r} cannot be sent to the kernel: it is not "
            f"plain data and cloudpickle failed on it ({type(exc).__name__}: {exc}).\nFix: pass "
            "plain data (numbers, strings, lists, dicts) or a picklable object; open "
            "connections, locks and files cannot cross into another process."
        )

    @classmethod
    def clash(cls, op_name: str, name: str, sources: Sequence[str]) -> NotebookParameterError:
        return cls(
            f"Notebook op {op_name!r} would inject parameter {name!r} twice (from "
            f"{' and '.join(sources)}).\nFix: rename the input, the config key or the resource "
            "so that every parameter name is given once."
        )


class KernelNotFoundError(NotebookError, LookupError):
    """The Jupyter kernel asked for is not installed."""

    @classmethod
    def build(cls, kernel_name: str, installed: Sequence[str]) -> KernelNotFoundError:
        listed = ", ".join(map(repr, installed)) if installed else "none"
        return cls(
            f"No Jupyter kernel named {kernel_name!r} is installed (installed kernels: "
            f"{listed}).{did_you_mean(kernel_name, installed)}\nFix: pass kernel_name= one of "
            "those, or install it: python -m ipykernel install --sys-prefix --name "
            f"{kernel_name}"
        )


class NotebookParameterWarning(NbflowWarning):
    """Parameters meet a notebook that does not declare them (or has no parameters cell)."""


class NotebookRunError(ExecutionError):
    """A cell of a notebook run by nbflow raised; the executed notebook is kept at output_path.

    Attributes:
        notebook_path: the notebook that was run.
        output_path: the executed notebook, outputs and traceback included.
        cell_index: index of the failing cell in the executed notebook (papermill's count:
            the injected parameters cell included, papermill's error banners not), or None
            when the kernel failed outside any cell.
        exec_count: the failing cell's execution count (``In [n]``), if any.
        ename: the exception's class name, e.g. ``"ZeroDivisionError"``.
        evalue: the exception's message.
        traceback: the traceback lines, as the kernel sent them (ANSI colours included).
        source: the failing cell's source.
    """

    def __init__(
        self,
        message: str,
        *,
        notebook_path: str,
        output_path: str,
        cell_index: int | None,
        exec_count: int | None,
        ename: str,
        evalue: str,
        traceback: Sequence[str] = (),
        source: str = "",
    ) -> None:
        super().__init__(message)
        self.notebook_path = notebook_path
        self.output_path = output_path
        self.cell_index = cell_index
        self.exec_count = exec_count
        self.ename = ename
        self.evalue = evalue
        self.traceback = list(traceback)
        self.source = source

    def __reduce__(self) -> tuple[object, ...]:
        fields = {k: v for k, v in vars(self).items() if not k.startswith("_")}
        return (_rebuild_notebook_run_error, (str(self), fields))

    @classmethod
    def build(
        cls,
        *,
        notebook_path: str,
        output_path: str,
        cell_index: int | None,
        exec_count: int | None,
        ename: str,
        evalue: str,
        traceback: Sequence[str] = (),
        source: str = "",
    ) -> NotebookRunError:
        where = "while starting or talking to its kernel"
        if cell_index is not None:
            count = f", In [{exec_count}]" if exec_count is not None else ""
            number, line = _failing_line(source, traceback, exec_count)
            at = f", line {number}" if number is not None else ""
            shown = f": {line[:60]!r}" if line else ""
            where = f"in cell {cell_index}{count}{at}{shown}"
        return cls(
            f"Notebook {notebook_path!r} failed {where} with {ename}: {evalue}\n"
            f"The executed notebook, with the traceback, is at {output_path!r}.\n"
            "Fix: open it to see the failing cell, then fix the notebook or its parameters "
            "and run again.",
            notebook_path=notebook_path,
            output_path=output_path,
            cell_index=cell_index,
            exec_count=exec_count,
            ename=ename,
            evalue=evalue,
            traceback=traceback,
            source=source,
        )


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_CELL_FRAME = re.compile(r"Cell In\s*\[(\d*)\],\s*line (\d+)")


def _failing_line(
    source: str, traceback: Sequence[str], exec_count: int | None
) -> tuple[int | None, str]:
    """The number and text of the failing cell's line that raised, read from the kernel's
    traceback (IPython's ``Cell In[n], line k`` frames); else no number and the cell's
    first line."""
    lines = source.splitlines()
    for match in _CELL_FRAME.finditer(_ANSI.sub("", "\n".join(traceback))):
        count, number = match.group(1), int(match.group(2))
        if (exec_count is None or count == str(exec_count)) and 1 <= number <= len(lines):
            return number, lines[number - 1].strip()
    return None, next((line.strip() for line in lines if line.strip()), "")


def _rebuild_notebook_run_error(message: str, fields: dict[str, object]) -> NotebookRunError:
    err = NotebookRunError.__new__(NotebookRunError)
    Exception.__init__(err, message)
    vars(err).update(fields)
    return err


class MissingExtraError(NbflowError, ImportError):
    """An optional dependency is not installed."""

    @classmethod
    def build(cls, package: str, extra: str) -> MissingExtraError:
        return cls(
            f"This feature needs {package!r}, which is not installed.\n"
            f'Fix: pip install "nbflowkit[{extra}]"'
        )


class GraphViewError(NbflowError, TypeError):
    """An object was given where a job, graph, list of assets, plan or run result was expected."""

    @classmethod
    def not_viewable(cls, obj: object) -> GraphViewError:
        return cls(
            f"Cannot draw {type(obj).__name__} {obj!r:.80}: expected a JobDefinition, a "
            "GraphDefinition, a list of @asset definitions, an ExecutionPlan or an "
            "ExecuteInProcessResult.\nFix: pass the job (my_job, not my_job()) or the result of "
            "my_job.execute_in_process()."
        )


class RenderError(NbflowError, ValueError):
    """A DAG could not be written in the format asked for."""

    @classmethod
    def unknown_format(cls, given: str, known: Sequence[str]) -> RenderError:
        return cls(
            f"Cannot render a graph as {given!r}: expected a path ending in, or one of, "
            f"{', '.join(repr(k) for k in known)}.{did_you_mean(given.lstrip('.'), known)}\n"
            'Fix: render(job, "dag.svg"), render(job, "dag.png") or render(job, "dot").'
        )

    @classmethod
    def no_png_renderer(cls) -> RenderError:
        return cls(
            "Cannot write a PNG: it needs Graphviz, and neither the `dot` program nor pygraphviz "
            "is available (the built-in layout only writes SVG).\n"
            "Fix: install Graphviz (apt-get install graphviz, brew install graphviz, conda install "
            'graphviz) or pip install "nbflowkit[graphviz]"; or write an SVG instead.'
        )


class GraphFilterError(NbflowError, ValueError):
    """``show_graph``'s ``focus``, ``depth`` or ``only`` names no part of the graph."""

    @classmethod
    def unknown_focus(cls, name: str, keys: Sequence[str]) -> GraphFilterError:
        return cls(
            f"Cannot focus the graph on {name!r}: no step has that name.{did_you_mean(name, keys)}"
            f"\nSteps: {', '.join(keys[:12])}{' …' if len(keys) > 12 else ''}.\n"
            'Fix: pass a step key or op name, e.g. show_graph(job, focus="scale", depth=2).'
        )

    @classmethod
    def ambiguous_focus(cls, name: str, keys: Sequence[str]) -> GraphFilterError:
        return cls(
            f"Cannot focus the graph on {name!r}: {len(keys)} steps have that name "
            f"({', '.join(keys[:6])}).\nFix: pass the full step key, e.g. focus={keys[0]!r}."
        )

    @classmethod
    def bad_depth(cls, depth: object) -> GraphFilterError:
        return cls(
            f"Cannot show the graph with depth={depth!r}: expected a whole number of steps, "
            "0 or more, or None for everything up and down.\n"
            'Fix: show_graph(job, focus="scale", depth=2).'
        )

    @classmethod
    def unknown_only(cls, only: str, known: Sequence[str]) -> GraphFilterError:
        return cls(
            f"Cannot show only {only!r}: expected one of {', '.join(repr(k) for k in known)}."
            f"{did_you_mean(str(only), known)}\n"
            'Fix: show_graph(job, only="changed") for the steps a memoized run would re-run.'
        )


class LiveRunError(NbflowError, ValueError):
    """``nbflow.notebook.run`` / ``config_form`` got something they cannot run, or a bad option."""

    @classmethod
    def not_runnable(cls, obj: object, what: str = "run") -> LiveRunError:
        return cls(
            f"Cannot {what} {type(obj).__name__} {obj!r:.80}: expected a JobDefinition, a "
            "GraphDefinition, a reconstructable job or a list of @asset definitions.\n"
            "Fix: pass the job itself (my_job, not my_job()), or the list of assets."
        )

    @classmethod
    def bad_executor(cls, given: object, choices: Sequence[str]) -> LiveRunError:
        names = [str(c) for c in choices]
        hint = did_you_mean(given, names) if isinstance(given, str) else ""
        return cls(
            f"Unknown executor={given!r}: expected one of {', '.join(map(repr, names))}.{hint}\n"
            'Fix: executor="in_process" runs steps here (execute_in_process); executor="job" '
            "uses the job's own executor (execute_job), e.g. multiprocess or Dask."
        )

    @classmethod
    def unsupported(cls, option: str, where: str, fix: str) -> LiveRunError:
        return cls(f"{option} cannot be used {where}.\nFix: {fix}")


# --- notebook-defined jobs: snapshot modules written by nbflow.notebook -----------------------


class SnapshotError(ReconstructionError):
    """A notebook-defined job cannot be written as a module; the message names the cause."""

    @classmethod
    def not_bound(cls, job_name: str) -> SnapshotError:
        return cls(
            f"Cannot snapshot job {job_name!r}: no name in the notebook refers to it, so nbflow "
            "cannot tell which cell defines it.\nFix: assign it in a cell (my_job = ...) or "
            "define it with @job, and pass that job."
        )

    @classmethod
    def unsupported(cls, job_name: str, name: str, what: str, path: str) -> SnapshotError:
        return cls(
            f"Cannot snapshot job {job_name!r} into a module: it uses the notebook global "
            f"{name!r}{path}, which is {what}: not a definition, an import or a plain "
            "literal, so it cannot be re-created in another process.\nFix: create it inside "
            "the op, make it a resource (@resource, then context.resources), or move it into a "
            "module file and import it from there."
        )

    @classmethod
    def no_source(cls, job_name: str, name: str, path: str, why: str) -> SnapshotError:
        return cls(
            f"Cannot snapshot job {job_name!r} into a module: no source was found for the "
            f"notebook global {name!r}{path} ({why}).\nFix: define it in a notebook cell with "
            "one plain statement (def, class or name = ...), or move it into a module file and "
            "import it from there."
        )

    @classmethod
    def stale(cls, job_name: str, part: str) -> SnapshotError:
        return cls(
            f"Cannot snapshot job {job_name!r}: its {part} comes from an earlier run of a cell "
            "that has been edited or re-run since, so a module of the current cells would run "
            f"different code than the job you have.\nFix: re-run the cell that builds job "
            f"{job_name!r}, then run it again."
        )


class RunHistoryError(NbflowError, ValueError):
    """The run history (``nbflow.notebook.runs``, run reports) was asked for something bad."""

    @classmethod
    def bad_argument(cls, name: str, given: object, expected: str) -> RunHistoryError:
        return cls(f"{name}={given!r:.80} cannot be used: expected {expected}.")


class RunNotFoundError(RunHistoryError, LookupError):
    """No recorded run has the id given (or more than one starts with it)."""

    @classmethod
    def build(cls, run_id: str, where: str, matches: Sequence[str] = ()) -> RunNotFoundError:
        """``matches``: the ids starting with ``run_id`` (up to 6: more than 5 says so)."""
        if matches:
            count = "more than 5" if len(matches) > 5 else str(len(matches))
            listed = ", ".join(matches[:5]) + (", ..." if len(matches) > 5 else "")
            return cls(
                f"Run id prefix {run_id!r} matches {count} runs in {where} ({listed}). "
                "Fix: give more characters of the run id."
            )
        return cls(
            f"No run with id {run_id!r} (or an id starting with it) in {where}. "
            "Fix: copy an id from `nbflow runs list` or nbflow.notebook.runs(), or read the "
            "instance the run was recorded in (NBFLOW_HOME, or instance=Instance.local(path))."
        )


# --- project scaffolding ---------------------------------------------------------------------


class ProjectDirectoryError(NbflowError, FileExistsError):
    """``nbflow new DIR`` (``nbflow.scaffold.create_project``) was given a folder it cannot use."""

    @classmethod
    def not_empty(cls, directory: str, entries: Sequence[str]) -> ProjectDirectoryError:
        """``entries``: a few of the names already in ``directory``."""
        listed = ", ".join(entries[:5]) + (", ..." if len(entries) > 5 else "")
        return cls(
            f"Cannot create a project in {directory!r}: the folder is not empty ({listed}). "
            "A new project is written only into a new or empty folder, so that nothing of "
            "yours is overwritten.\nFix: give a new folder name, e.g. `nbflow new my-project`."
        )

    @classmethod
    def not_a_folder(cls, directory: str) -> ProjectDirectoryError:
        return cls(
            f"Cannot create a project in {directory!r}: it is a file, not a folder.\n"
            "Fix: give the name of a new folder."
        )
