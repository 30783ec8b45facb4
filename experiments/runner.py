"""The batch runner: expand a spec into runs, execute them, store each as it finishes.

Seeding (common random numbers): the experiment has one root entropy (the spec's
``seed``, or fresh entropy recorded in the manifest). Replicate ``r`` of *every* design
point and strategy uses ``SeedSequence(root, spawn_key=(r,))``, so two strategies'
replicate ``r`` face the same initial population and the same exogenous shocks, and
their difference is a paired comparison.

Executors are anything with the :mod:`concurrent.futures` interface:

* ``processes`` (default): :class:`concurrent.futures.ProcessPoolExecutor`, one worker
  per core;
* ``serial``: runs one after another in this process (debugging, benchmarks);
* Dask: ``dask="local"`` starts a ``distributed.LocalCluster`` on 127.0.0.1 with worker
  processes; ``dask="tcp://host:port"`` uses a running scheduler. Both go through
  ``Client.get_executor(pure=False)``.

Every executor gives the same results: a run depends only on its parameters and seed.
Workers return the run's table; this process writes it (so remote Dask workers need no
shared disk) and updates the manifest. A run that raises is recorded as failed with its
traceback; the other runs go on. Rerunning the same sweep skips the runs already done.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
import traceback
from collections.abc import Iterator
from concurrent.futures import Executor, as_completed
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from experiments import spec as specs
from experiments.store import (
    Store,
    ensure_writable_folder,
    git_commit,
    model_fingerprint,
    now,
    package_versions,
)

#: Metadata columns written in front of every run's metrics.
META_COLUMNS = ("point", "point_label", "strategy", "scenario", "replicate")
#: Prefix of the parameter columns in the store.
PARAM_PREFIX = "param_"
INT_METRICS = ("step", "year")
#: The manifest is rewritten after a run only if at least this many times the last
#: rewrite's duration has passed since it (and always at the end): small manifests are
#: rewritten after every run, the large ones of Morris and Sobol designs (thousands of
#: runs) cost at most about 1/20 of the sweep's time.
MANIFEST_SPACING = 20.0
#: The process pool is replaced by a fresh one after this many runs per worker, so
#: memory that finished models (or a plugin) fail to release cannot pile up over a sweep
#: of thousands of runs; a fresh worker costs about 2.5 CPU-seconds, under 4% of 250
#: runs. (``max_tasks_per_child`` would do this per worker, but deadlocks on Python 3.11.)
WORKER_RUNS = 250


def _batches(tasks: list[RunTask], executor: str, workers: int | None, dask: str | None):
    """The runs in batches, each for a fresh process pool (one batch otherwise)."""
    if dask or executor != "processes":
        return [tasks]
    size = WORKER_RUNS * (workers or os.cpu_count() or 1)
    return [tasks[i : i + size] for i in range(0, len(tasks), size)]


class SweepError(ValueError):
    """A user-level problem with a sweep (not with a single run); one line."""


@dataclass
class RunTask:
    """Everything a worker needs for one run (plain, picklable data).

    Attributes:
        run_id: Identifier (``p003-facilitator-r007``): design point, strategy, replicate.
        point: Index of the design point.
        point_label: Short label of the design point.
        strategy: Strategy name.
        replicate: Replicate index ``r``.
        overrides: Parameter overrides passed to ``Parameters.resolve``.
        root_entropy: The experiment's root entropy.
        steps: Weeks to run.
        metrics: Metric columns kept (None: all).
        param_columns: Parameter names written as ``param_<name>`` columns.
        plugins: Plugin modules or paths the worker loads first.
        check: Verify invariants every week.
    """

    run_id: str
    point: int
    point_label: str
    strategy: str
    replicate: int
    overrides: dict[str, Any]
    root_entropy: int
    steps: int
    metrics: list[str] | None = None
    param_columns: list[str] = field(default_factory=list)
    plugins: list[str] = field(default_factory=list)
    check: bool = False

    @property
    def spawn_key(self) -> tuple[int]:
        """Spawn key of the run's SeedSequence: the replicate index."""
        return (self.replicate,)

    def seed_sequence(self) -> np.random.SeedSequence:
        """``SeedSequence(root, spawn_key=(r,))``, the same for every strategy and point."""
        return np.random.SeedSequence(self.root_entropy, spawn_key=self.spawn_key)


@dataclass
class RunResult:
    """What a worker sends back."""

    run_id: str
    status: str
    frame: pd.DataFrame | None = None
    wall_time: float = 0.0
    traceback: str | None = None


@dataclass
class SweepSummary:
    """Counts of a sweep invocation."""

    total: int = 0
    skipped: int = 0
    done: int = 0
    failed: list[str] = field(default_factory=list)
    out: str = ""
    wall_time: float = 0.0


def run_id_for(point: int, strategy: str, replicate: int, n_points: int, n_reps: int) -> str:
    """Readable, sortable run identifier."""
    pw = max(3, len(str(n_points - 1)))
    rw = max(3, len(str(n_reps - 1)))
    return f"p{point:0{pw}d}-{strategy}-r{replicate:0{rw}d}"


def plan_runs(
    spec: specs.Spec,
    root_entropy: int,
    points: list[dict[str, Any]],
    plugins: list[str] | None = None,
) -> list[RunTask]:
    """Every run of the experiment, ordered by replicate, then point, then strategy.

    Ordering by replicate first means an interrupted sweep has complete pairs early.
    """
    varied = [n for n in spec.design.varied() if n not in ("scenario", "strategy")]
    fixed = [n for n in spec.fixed if n not in ("scenario", "strategy") and n not in varied]
    param_columns = varied + fixed
    tasks = []
    for r in range(spec.replicates):
        for i, point in enumerate(points):
            for strategy in spec.strategies:
                tasks.append(
                    RunTask(
                        run_id=run_id_for(i, strategy, r, len(points), spec.replicates),
                        point=i,
                        point_label=specs.point_label(point),
                        strategy=strategy,
                        replicate=r,
                        overrides=specs.resolve_point(spec, point, strategy),
                        root_entropy=root_entropy,
                        steps=spec.steps,
                        metrics=spec.metrics,
                        param_columns=param_columns,
                        plugins=list(plugins or []) + list(spec.plugins),
                        check=spec.check,
                    )
                )
    return tasks


_PLUGINS_LOADED: set[tuple[str, ...]] = set()


def ensure_plugins(plugins: list[str]) -> None:
    """Load plugins (entry points, ``CIVIC_SIM_PLUGINS`` and these) once per process."""
    key = tuple(plugins)
    if key not in _PLUGINS_LOADED:
        from model.plugins import load_plugins

        load_plugins(plugins)
        _PLUGINS_LOADED.add(key)


def build_model(task: RunTask):
    """Build the CivicModel of one run (plugins loaded first)."""
    from model.civic_model import CivicModel
    from model.parameters import Parameters

    ensure_plugins(task.plugins)
    params = Parameters.resolve(**task.overrides)
    return CivicModel(params, seed_sequence=task.seed_sequence(), check=task.check)


def run_frame(task: RunTask, model, metrics: pd.DataFrame) -> pd.DataFrame:
    """Make the stored table of one run: metadata and parameter columns, then metrics."""
    keep = list(metrics.columns) if task.metrics is None else list(task.metrics)
    if "step" not in keep:
        keep.insert(0, "step")
    p = model.p
    n = len(metrics)
    columns: dict[str, Any] = {
        "point": np.full(n, task.point, dtype=np.int64),
        "point_label": [task.point_label] * n,
        "strategy": [task.strategy] * n,
        "scenario": [p.scenario] * n,
        "replicate": np.full(n, task.replicate, dtype=np.int64),
    }
    for name in task.param_columns:
        value = getattr(p, name)
        if isinstance(value, tuple):
            value = ",".join(f"{v:g}" for v in value)
        columns[PARAM_PREFIX + name] = [value] * n
    for column in keep:
        dtype = np.int64 if column in INT_METRICS else np.float64
        columns[column] = metrics[column].to_numpy(dtype=dtype)
    return pd.DataFrame(columns)


def execute_run(task: RunTask) -> RunResult:
    """Run one simulation; never raises (a failure comes back with its traceback)."""
    start = time.perf_counter()
    try:
        model = build_model(task)
        metrics = model.run(task.steps)
        frame = run_frame(task, model, metrics)
        return RunResult(task.run_id, "done", frame, time.perf_counter() - start)
    except Exception:  # noqa: BLE001 - a failing run is recorded, not fatal
        return RunResult(
            task.run_id, "failed", None, time.perf_counter() - start, traceback.format_exc()
        )


# --- executors ----------------------------------------------------------------------------
EXECUTORS = ("processes", "serial")


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
        SweepError: For an unknown executor or an unreachable Dask scheduler.
    """
    workers = workers or os.cpu_count() or 1
    if dask:
        from dask.distributed import Client, LocalCluster

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
                raise SweepError(f"--dask: cannot reach the scheduler at {dask!r}: {exc}") from None
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
        raise SweepError(f"--executor must be one of {', '.join(EXECUTORS)}, got {kind!r}")
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(max_workers=workers)
    try:
        yield pool
    except BaseException:
        # interrupted: do not wait for the queued runs (a rerun resumes them)
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


def _results(executor: Executor | None, tasks: list[RunTask]) -> Iterator[RunResult]:
    """Results in the order they finish."""
    if executor is None:
        for task in tasks:
            yield execute_run(task)
        return
    futures = {executor.submit(execute_run, task): task for task in tasks}
    for future in as_completed(futures):
        task = futures[future]
        try:
            yield future.result()
        except Exception:  # noqa: BLE001 - a crashed worker fails its run, not the sweep
            yield RunResult(task.run_id, "failed", None, 0.0, traceback.format_exc())


# --- the sweep ----------------------------------------------------------------------------
def prepare(
    spec: specs.Spec, store: Store, plugins: list[str] | None = None, rerun_changed: bool = False
) -> tuple[dict[str, Any], list[RunTask]]:
    """Validate the whole experiment and build (or reopen) its manifest.

    Args:
        spec: The validated spec.
        store: The output folder.
        plugins: Plugins given on the command line.
        rerun_changed: Run again the finished runs made by another version of the model
            (another :func:`model_fingerprint`) instead of refusing to mix them.

    Returns:
        The manifest (not yet written) and every run of the experiment.

    Raises:
        specs.SpecError: If a design point's parameters are not allowed.
        SweepError: If the folder holds a different experiment, or runs made by another
            version of the model (unless ``rerun_changed``).
    """
    try:
        manifest = store.read_manifest()
    except ValueError as exc:
        raise SweepError(f"--out: {exc}") from None
    spec_dict = json.loads(json.dumps(spec.as_dict()))
    if manifest is not None:
        if manifest.get("spec") != spec_dict:
            raise SweepError(
                f"--out: {str(store.root)!r} holds a different experiment (its manifest's "
                "spec differs); use another folder or delete it"
            )
        root_entropy = int(manifest["root_entropy"])
    else:
        root_entropy = spec.seed if spec.seed is not None else int(np.random.SeedSequence().entropy)
    points = specs.expand_design(spec, root_entropy)
    resolved = specs.validate_points(spec, points)
    tasks = plan_runs(spec, root_entropy, points, plugins)

    if manifest is None:
        manifest = {
            "format": 1,
            "created": now(),
            "spec": spec_dict,
            "spec_file": spec.source,
            "root_entropy": root_entropy,
            "root_entropy_source": "spec seed" if spec.seed is not None else "fresh",
            "design_seed": specs.design_seed(spec, root_entropy),
            "points": [
                {"index": i, "label": specs.point_label(p), "values": p}
                for i, p in enumerate(points)
            ],
            "runs": {},
        }
    fingerprint = model_fingerprint()
    runs = manifest.setdefault("runs", {})
    stale = [
        e["run_id"]
        for e in runs.values()
        if e.get("status") == "done" and e.get("model_fingerprint") != fingerprint
    ]
    if stale and not rerun_changed:
        made_by = sorted({str(runs[k].get("model_fingerprint")) for k in stale})
        raise SweepError(
            f"--out: {len(stale)} finished runs in {str(store.root)!r} were made by another "
            f"version of the model (fingerprint {', '.join(made_by)}; now {fingerprint}), "
            "so new runs would not be comparable with them; use another folder, delete "
            "it, or add --rerun-changed to run them again"
        )
    manifest["versions"] = package_versions()
    manifest["git_commit"] = git_commit()
    manifest["model_fingerprint"] = fingerprint
    manifest["plugins"] = sorted({p for t in tasks for p in t.plugins})
    for task in tasks:
        entry = runs.get(task.run_id)
        if (
            entry is None
            or entry.get("status") != "done"
            or entry.get("model_fingerprint") != fingerprint
            or not store.has_run(task.run_id)
        ):
            runs[task.run_id] = {
                "run_id": task.run_id,
                "point": task.point,
                "point_label": task.point_label,
                "strategy": task.strategy,
                "replicate": task.replicate,
                "spawn_key": list(task.spawn_key),
                "steps": task.steps,
                "parameters": resolved[task.point][task.strategy],
                "status": "pending",
                "wall_time": None,
                "traceback": None,
                "path": str(store.run_path(task.run_id).relative_to(store.root)),
            }
    return manifest, tasks


def run_sweep(
    spec: specs.Spec,
    out: str,
    *,
    executor: str = "processes",
    workers: int | None = None,
    dask: str | None = None,
    plugins: list[str] | None = None,
    progress: bool = True,
    rerun_changed: bool = False,
) -> SweepSummary:
    """Run every unfinished run of an experiment and store the results.

    Args:
        spec: The validated spec (plugins loaded, names checked).
        out: Output folder.
        executor: ``processes`` or ``serial``.
        workers: Worker count (default one per core).
        dask: ``"local"`` or a Dask scheduler address (overrides ``executor``).
        plugins: Plugins given on the command line (workers load them too).
        progress: Show a tqdm progress bar on stderr.
        rerun_changed: Run again finished runs made by another version of the model.

    Returns:
        What happened (done now, skipped as already done, failed run ids).
    """
    from tqdm import tqdm

    start = time.perf_counter()
    store = Store(out)
    manifest, tasks = prepare(spec, store, plugins, rerun_changed)
    try:
        ensure_writable_folder(store.root)
    except ValueError as exc:
        raise SweepError(f"--out: {exc}") from None
    runs = manifest["runs"]
    todo = [t for t in tasks if runs[t.run_id]["status"] != "done"]
    summary = SweepSummary(total=len(tasks), skipped=len(tasks) - len(todo), out=str(out))
    manifest["executor"] = f"dask {dask}" if dask else executor
    store.write_manifest(manifest)
    from experiments.sensitivity import write_sample_matrix

    write_sample_matrix(spec, store.root, manifest.get("design_seed"))
    if not todo:
        summary.wall_time = time.perf_counter() - start
        return summary

    bar = tqdm(
        total=len(todo),
        desc=spec.name,
        unit="run",
        file=sys.stderr,
        disable=not progress,
        dynamic_ncols=True,
    )
    bar.set_postfix(failed=0)
    written_at, write_cost, unsaved = time.perf_counter(), 0.0, False
    try:
        for batch in _batches(todo, executor, workers, dask):
            with open_executor(executor, workers, dask) as pool:
                for result in _results(pool, batch):
                    entry = runs[result.run_id]
                    entry["wall_time"] = round(result.wall_time, 4)
                    entry["finished"] = now()
                    entry["git_commit"] = manifest["git_commit"]
                    entry["model_fingerprint"] = manifest["model_fingerprint"]
                    if result.status == "done":
                        store.write_run(result.run_id, result.frame)
                        entry["status"] = "done"
                        entry["traceback"] = None
                        summary.done += 1
                    else:
                        entry["status"] = "failed"
                        entry["traceback"] = result.traceback
                        summary.failed.append(result.run_id)
                        bar.set_postfix(failed=len(summary.failed))
                    unsaved = True
                    if time.perf_counter() - written_at >= MANIFEST_SPACING * write_cost:
                        began = time.perf_counter()
                        store.write_manifest(manifest)
                        written_at, unsaved = time.perf_counter(), False
                        write_cost = written_at - began
                    bar.update(1)
    finally:
        if unsaved:
            store.write_manifest(manifest)
        bar.close()
    summary.wall_time = time.perf_counter() - start
    return summary
