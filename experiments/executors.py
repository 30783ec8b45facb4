"""Where a sweep's runs execute, and how a sweep stops: executors, workers, Ctrl-C.

Executors are anything with the :mod:`concurrent.futures` interface:

* ``processes`` (default): a :class:`concurrent.futures.ProcessPoolExecutor`, one
  worker per core;
* ``serial``: one run after another in this process (debugging, benchmarks);
* Dask: ``dask="local"`` starts a ``distributed.LocalCluster`` on 127.0.0.1 with worker
  processes; ``dask="tcp://host:port"`` uses a running scheduler. Both go through
  ``Client.get_executor(pure=False)``.

Stopping (what a user at a terminal sees):

* The **first Ctrl-C** (or a SIGTERM from a job scheduler) asks the sweep to stop: no
  new run starts, runs that finish within :data:`GRACE_SECONDS` are still stored, then
  the workers are ended and the sweep returns (about a second in all). Every run
  finished before is already on disk.
* A **second Ctrl-C** ends the command at once: the workers are killed and the sweep
  unwinds (lock released), with one line and no traceback; should anything hang, the
  process ends itself two seconds later, or at a third Ctrl-C.
* Worker processes **die with their parent**, even if it is killed with SIGKILL: each
  worker asks the kernel for SIGKILL when its parent dies (``prctl(PR_SET_PDEATHSIG)``
  on Linux) and, where that is not available, watches its parent's pid once a second.

Workers of the process pool are started with SIGINT blocked, so a Ctrl-C at the
terminal (which the terminal sends to every process of the job) reaches only the
command, which decides what to do; a worker never dies half-way through writing a
traceback.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import signal
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from multiprocessing.context import SpawnContext, SpawnProcess
from typing import Any

EXECUTORS = ("processes", "serial")
#: How long runs in progress may take to finish after the first Ctrl-C (seconds).
GRACE_SECONDS = 1.0
#: Exit code of an interrupted command (128 + SIGINT, as shells report it).
EXIT_INTERRUPTED = 130
#: After the second Ctrl-C, the process ends itself this much later if still running.
QUIT_SECONDS = 2.0
#: How often the main loop looks at the stop flag while waiting for results (seconds).
POLL_SECONDS = 0.1


class ExecutorError(ValueError):
    """An executor cannot be opened (unknown name, unreachable scheduler); one line."""


class QuitNow(KeyboardInterrupt):
    """Raised in the main thread by a sweep's second Ctrl-C: unwinds at once (workers
    already killed), releasing the lock on the way; the user has been told."""


class Stopped(BaseException):
    """Raised inside a run in this process when the sweep is stopping (serial executor).

    A BaseException, so the ``except Exception`` that records a failing run lets it
    through: an interrupted run is not a failed one.
    """


# --- workers ---------------------------------------------------------------------------------
PR_SET_PDEATHSIG = 1


def _die_with_parent(parent_pid: int) -> None:
    """Make this process end when its parent does (Linux: the kernel sends SIGKILL)."""
    armed = False
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
            armed = libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
        except (OSError, AttributeError):
            armed = False
    if os.getppid() != parent_pid:  # the parent died before the request took effect
        os._exit(1)
    if not armed:

        def watch() -> None:
            while os.getppid() == parent_pid:
                time.sleep(1.0)
            os._exit(1)

        threading.Thread(target=watch, name="civic-sim-parent-watch", daemon=True).start()


def worker_init(parent_pid: int) -> None:
    """Initializer of every pool worker: ignore Ctrl-C, die with the parent."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent(parent_pid)


class _WorkerProcess(SpawnProcess):
    """A spawned worker started with SIGINT blocked (inherited through fork and exec), so
    a Ctrl-C during its start-up cannot kill it before :func:`worker_init` runs."""

    def start(self) -> None:  # noqa: D102 - multiprocessing's hook
        old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            super().start()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)


class _WorkerContext(SpawnContext):
    """The spawn start method (what Mesa selects anyway), with :class:`_WorkerProcess`."""

    Process = _WorkerProcess


def kill_workers(pool: Executor | None) -> None:
    """Kill the worker processes of a process pool at once (no-op for other executors).

    Python 3.14 has ``ProcessPoolExecutor.kill_workers()``; before it the processes are
    only reachable through the pool's ``_processes`` mapping.
    """
    if pool is None:
        return
    if hasattr(pool, "kill_workers") and getattr(pool, "_processes", None):
        pool.kill_workers()
        return
    for process in _processes_of(pool):
        with contextlib.suppress(Exception):
            process.kill()


#: The worker processes of pools that were shut down (``shutdown`` forgets them).
_KNOWN_PROCESSES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _processes_of(pool: Executor) -> list:
    """The worker processes of a process pool (none for other executors)."""
    live = getattr(pool, "_processes", None)
    if live:
        _KNOWN_PROCESSES[pool] = list(live.values())
    try:
        return list(_KNOWN_PROCESSES.get(pool, []))
    except TypeError:  # not weak-referenceable: not a process pool
        return []


@contextlib.contextmanager
def open_executor(
    kind: str = "processes", workers: int | None = None, dask: str | None = None
) -> Iterator[Executor | None]:
    """Open an executor for the runs (None means serial, in this process).

    Args:
        kind: ``processes`` or ``serial`` (ignored when ``dask`` is given).
        workers: Worker count (default: one per core).
        dask: ``"local"`` for a LocalCluster on 127.0.0.1, or a scheduler address.

    Raises:
        ExecutorError: For an unknown executor or an unreachable Dask scheduler.
    """
    workers = workers or os.cpu_count() or 1
    if dask:
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:  # the core install has no Dask (it is the extra "dask")
            raise ExecutorError(
                "--dask needs Dask, which is not installed: pip install 'civic-sim[dask]' "
                "(make setup installs it)"
            ) from None

        if dask == "local":
            cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
            )
            client = Client(cluster)
        else:
            cluster = None
            try:
                client = Client(dask, timeout=10)
            except (OSError, TimeoutError) as exc:
                raise ExecutorError(
                    f"--dask: cannot reach the scheduler at {dask!r}: {exc}"
                ) from None
        try:
            yield client.get_executor(pure=False)
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
        return
    if kind == "serial":
        yield None
        return
    if kind != "processes":
        raise ExecutorError(f"--executor must be one of {', '.join(EXECUTORS)}, got {kind!r}")
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=_WorkerContext(),
        initializer=worker_init,
        initargs=(os.getpid(),),
    )
    try:
        yield pool
    except BaseException:
        kill_workers(pool)
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    finally:
        _KNOWN_PROCESSES.pop(pool, None)
    pool.shutdown(wait=True, cancel_futures=True)


# --- stopping ---------------------------------------------------------------------------------
class Interrupt:
    """Ctrl-C and SIGTERM during a sweep: the first asks to stop, the second quits at once.

    Installed only in the main thread (Python delivers signals there); elsewhere the
    sweep runs without it.

    Args:
        say: Prints one line to the user.
        on_quit: Called before the process exits on the second signal (kill workers,
            release the folder's lock).
    """

    def __init__(self, say: Callable[[str], None], on_quit: Callable[[], None]):
        self.say = say
        self.on_quit = on_quit
        self.requested_at: float | None = None
        self.quitting = False
        self._saved: dict[int, Any] = {}

    @property
    def requested(self) -> bool:
        """Whether a stop was asked for."""
        return self.requested_at is not None

    def grace_left(self) -> float:
        """Seconds left for runs in progress to finish (0 once the grace is over)."""
        if self.requested_at is None:
            return float("inf")
        return max(0.0, GRACE_SECONDS - (time.monotonic() - self.requested_at))

    def check(self) -> None:
        """Raise :class:`Stopped` once a stop was asked for and the grace is over (called
        every simulated week of a run in this process)."""
        if self.requested_at is not None and self.grace_left() <= 0.0:
            raise Stopped

    def _handle(self, signum, _frame) -> None:
        if self.requested_at is None:
            self.requested_at = time.monotonic()
            self.say(
                "stopping: no new runs start; finished runs are kept (press Ctrl-C again "
                "to quit at once)"
            )
            return
        if self.quitting:
            os._exit(EXIT_INTERRUPTED)  # a third: no more waiting at all
        self.quitting = True
        self.say(
            "interrupted again: quitting now; finished runs are kept, rerun the same "
            "command to resume"
        )
        failsafe = threading.Timer(QUIT_SECONDS, os._exit, args=(EXIT_INTERRUPTED,))
        failsafe.daemon = True
        failsafe.start()
        self.on_quit()
        raise QuitNow

    def __enter__(self) -> Interrupt:
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                self._saved[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        for signum, handler in self._saved.items():
            signal.signal(signum, handler)
        self._saved.clear()


def _cancel_queued(pool: Executor, pending: set[Future]) -> None:
    """Cancel the runs not yet started.

    Through ``shutdown(cancel_futures=True)``, not ``Future.cancel()``: on Python 3.11 a
    process pool whose workers are then killed sets an exception on every pending
    future, and one cancelled from outside makes its manager thread die with
    ``InvalidStateError`` (fixed in 3.12); cancelled by the pool itself, they are
    removed first.
    """
    _processes_of(pool)  # remember the workers: shutdown forgets them
    try:
        pool.shutdown(wait=False, cancel_futures=True)
    except TypeError:  # an executor without cancel_futures
        for future in pending:
            future.cancel()


def results(
    pool: Executor | None,
    tasks: list,
    execute: Callable[..., Any],
    interrupt: Interrupt,
    failed: Callable[[Any, BaseException], Any],
) -> Iterator[Any]:
    """Results of the tasks in the order they finish, until done or stopped.

    Args:
        pool: The executor (None: run in this process).
        tasks: What to run.
        execute: ``execute(task)`` in a worker; ``execute(task, check=...)`` in this
            process, where ``check`` is called every week and raises :class:`Stopped`.
        interrupt: The stop flag.
        failed: Makes the result of a task whose worker crashed (the pool broke).

    Once a stop is asked for, no new task starts; tasks that finish within the grace
    period are still yielded, the rest are dropped (not failed: a rerun runs them).
    """
    if pool is None:
        for task in tasks:
            if interrupt.requested:
                return
            try:
                yield execute(task, check=interrupt.check)
            except Stopped:
                return
        return
    futures: dict[Future, Any] = {pool.submit(execute, task): task for task in tasks}
    pending = set(futures)
    while pending:
        if interrupt.requested:
            _cancel_queued(pool, pending)
            done, pending = wait(pending, timeout=interrupt.grace_left())
            for future in done:
                if not future.cancelled() and future.exception() is None:
                    yield future.result()
            return
        done, pending = wait(pending, timeout=POLL_SECONDS, return_when=FIRST_COMPLETED)
        for future in done:
            error = future.exception()
            if error is None:
                yield future.result()
            elif not interrupt.requested:
                yield failed(futures[future], error)
