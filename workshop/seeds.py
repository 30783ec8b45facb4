"""A band over several seeds, computed in the background, so the room sees chance.

One run is one possible neighbourhood. To show what is chance and what is the strategy,
the side-by-side view can run the same settings and the same pair of strategies on
other seeds (other neighbourhoods under the same rules) and shade, week by week, the
range the lines take there. The runs happen in a separate process (one for the whole
server, shared by every session, first come first served), so they use the machine's
other core and never slow the page; each seed is its own task, so the band fills in as
seeds finish, and cancelling drops the seeds not yet started.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor

import numpy as np

#: Seeds in a band (other than the one on screen); ``CIVIC_SIM_BAND_SEEDS`` overrides it
#: (the browser tests use 2).
BAND_SEEDS = int(os.environ.get("CIVIC_SIM_BAND_SEEDS", "8"))

#: The band's range: these quantiles of the seeds' values each week.
BAND_QUANTILES = (0.1, 0.9)

_executor: ProcessPoolExecutor | None = None
_executor_lock = threading.Lock()


def _init_worker(server_pid: int) -> None:
    """Start-up of the band's process: load plugins; end when the server has gone.

    A server stopped by a signal (``kill``, a closed terminal) leaves no pool to shut its
    worker down, so the worker watches its parent and exits once it has gone. (Not
    ``prctl(PR_SET_PDEATHSIG)``: that fires when the *thread* that started the worker
    ends, and here that is whichever page handler first asked for a band.)
    """
    from model.plugins import load_plugins

    def watch() -> None:
        while os.getppid() == server_pid:
            time.sleep(1.0)
        os._exit(0)

    if os.getppid() != server_pid:  # the server died while this process started
        os._exit(0)
    threading.Thread(target=watch, name="civic-sim-band-watch", daemon=True).start()
    load_plugins()


def executor() -> ProcessPoolExecutor:
    """The server's one background process for bands (started on first use)."""
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_worker,
                initargs=(os.getpid(),),
            )
        return _executor


def shutdown() -> None:
    """Stop the background process (tests and server shutdown)."""
    global _executor
    with _executor_lock:
        if _executor is not None:
            _executor.shutdown(wait=False, cancel_futures=True)
            _executor = None


def run_seed(
    kwargs: Mapping[str, object], strategies: Sequence[str], weeks: int, columns: Sequence[str]
) -> dict[str, dict[str, np.ndarray]]:
    """Run one seed for each strategy and return the weekly columns (in the worker).

    Args:
        kwargs: ``CivicModel`` keyword arguments (with the seed).
        strategies: Strategy names, run on the same seed.
        weeks: Weeks to run.
        columns: Metric columns to return.

    Returns:
        Strategy name to column name to one value a week.
    """
    from model.civic_model import CivicModel

    out = {}
    for strategy in strategies:
        model = CivicModel(**{**kwargs, "strategy": strategy})
        for _ in range(weeks):
            model.step()
        data = model.datacollector.model_vars
        steps = np.asarray(data["step"], dtype=float)
        keep = steps >= 1
        out[strategy] = {c: np.asarray(data[c], dtype=float)[keep] for c in columns if c in data}
    return out


class SeedBand:
    """Runs of the current settings on other seeds, collected as they finish.

    Args:
        kwargs: ``CivicModel`` keyword arguments of the run on screen.
        strategies: The pair of strategies.
        weeks: Weeks to run (the horizon).
        columns: Metric columns to keep.
        seeds: The seeds to run (by default the :data:`BAND_SEEDS` after the run's own).
        on_update: Called (from a background thread) after each seed finishes.
        submit: Submits a task (``executor().submit`` by default; tests may pass another).
    """

    def __init__(
        self,
        kwargs: Mapping[str, object],
        strategies: Sequence[str],
        weeks: int,
        columns: Sequence[str],
        *,
        seeds: Sequence[int] | None = None,
        on_update: Callable[[], None] = lambda: None,
        submit: Callable[..., Future] | None = None,
    ):
        base = int(kwargs["seed"])
        self.seeds = (
            list(seeds) if seeds is not None else [base + k for k in range(1, BAND_SEEDS + 1)]
        )
        self.strategies = tuple(strategies)
        self.weeks = weeks
        self.results: dict[int, dict[str, dict[str, np.ndarray]]] = {}
        self.cancelled = False
        self.failed = ""
        self._on_update = on_update
        self._lock = threading.Lock()
        submit = submit or executor().submit
        self._futures = []
        for seed in self.seeds:
            future = submit(
                run_seed, {**kwargs, "seed": seed}, self.strategies, weeks, tuple(columns)
            )
            future.add_done_callback(lambda f, seed=seed: self._done(seed, f))
            self._futures.append(future)

    def _done(self, seed: int, future: Future) -> None:
        try:
            result = future.result()
        except CancelledError:
            return
        except Exception as exc:  # noqa: BLE001 - shown on the page, never raised there
            self.failed = f"a seed failed: {exc}"
            return
        with self._lock:
            if self.cancelled:
                return
            self.results[seed] = result
        self._on_update()

    def cancel(self) -> None:
        """Stop: seeds not yet started are dropped, a running one is ignored when done."""
        with self._lock:
            self.cancelled = True
        for future in self._futures:
            future.cancel()

    @property
    def done(self) -> int:
        """Seeds finished."""
        return len(self.results)

    @property
    def finished(self) -> bool:
        """Whether every seed has finished."""
        return self.done == len(self.seeds)

    def range(self, strategy: str, column: str) -> tuple[np.ndarray, np.ndarray] | None:
        """The band (low, high quantiles each week) of one strategy's column, or None
        before two seeds have finished."""
        with self._lock:
            runs = [r[strategy][column] for r in self.results.values() if column in r[strategy]]
        return _quantiles(runs)

    def difference_range(self, column: str) -> tuple[np.ndarray, np.ndarray] | None:
        """The band of B minus A (paired on each seed) of one column, or None."""
        a, b = self.strategies
        with self._lock:
            runs = [r[b][column] - r[a][column] for r in self.results.values()]
        return _quantiles(runs)

    def last_year_differences(self, column: str) -> list[float]:
        """B minus A of a column's last-year mean, one per finished seed."""
        a, b = self.strategies
        with self._lock:
            return [
                float(np.mean(r[b][column][-52:]) - np.mean(r[a][column][-52:]))
                for r in self.results.values()
            ]


def _quantiles(runs: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray] | None:
    if len(runs) < 2:
        return None
    n = min(len(r) for r in runs)
    stack = np.vstack([r[:n] for r in runs])
    lo, hi = np.quantile(stack, BAND_QUANTILES, axis=0)
    return lo, hi
