"""The batch runner: expand a spec into runs, execute them, store each as it finishes.

Seeding (common random numbers): the experiment has one root entropy (the spec's
``seed``, or fresh entropy recorded in the manifest). Replicate ``r`` of *every* design
point and strategy uses ``SeedSequence(root, spawn_key=(r,))``, so two strategies'
replicate ``r`` face the same initial population and the same exogenous shocks, and
their difference is a paired comparison. ``civic-sim run --seed S --replicate R`` is
replicate ``R`` of a sweep with ``seed = S``; ``civic-sim run --from DIR RUN_ID`` repeats
one stored run exactly.

One writer per folder: a sweep takes the folder's lock (:mod:`experiments.lock`) before
it writes anything. Workers return the run's table; this process writes it (so remote
Dask workers need no shared disk) and updates the manifest. A run that raises is
recorded as failed with its traceback; the other runs go on. Rerunning the same sweep
skips the runs already done, and may add replicates (or strategies) to a finished
experiment; any other change to the spec is refused, naming the fields that differ.
Runs made by another version of the model (its source, its numerical packages or a
plugin, see :func:`experiments.store.model_fingerprint`) are never mixed with new ones:
the sweep refuses, or with ``rerun_changed`` moves them to ``DIR/superseded/`` and runs
them again. Likewise a sweep over plausible worlds whose ensemble file was regenerated
(``civic-sim calibrate``): with ``rerun_changed`` the old experiment (runs, manifest,
report) moves whole to ``DIR/superseded/ensemble-SHA/`` and the new worlds are run.
Executors and stopping (Ctrl-C) are in :mod:`experiments.executors`.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from experiments import spec as specs
from experiments.executors import (
    EXECUTORS,
    ExecutorError,
    Interrupt,
    kill_workers,
    open_executor,
    results,
)
from experiments.lock import LOCK_NAME, FolderLock, LockError
from experiments.store import (
    Store,
    columns_signature,
    explain_fingerprint_change,
    fingerprint_parts,
    git_commit,
    model_fingerprint,
    now,
    package_versions,
)

__all__ = ["EXECUTORS", "RunTask", "SweepError", "run_sweep", "task_from_folder"]

#: Metadata columns written in front of every run's metrics.
META_COLUMNS = ("point", "point_label", "strategy", "scenario", "replicate")
#: Prefix of the parameter columns in the store.
PARAM_PREFIX = "param_"
INT_METRICS = ("step", "year")
#: Spec fields that do not change a run's numbers: they may differ when a sweep resumes.
FREE_FIELDS = (
    "name",
    "description",
    "check",
    "baseline",
    "risk_threshold",
    "discovery_threshold",
    "regret_tolerance",
)
#: Digits of the design point and replicate in run ids (at least; the manifest keeps them).
MIN_DIGITS = 3
#: The manifest is rewritten after a run only if at least this many times the last
#: rewrite's duration has passed since it (and always when the sweep ends or stops): small
#: manifests are rewritten after every run, the large ones of Morris and Sobol designs
#: (thousands of runs) cost at most about 1/20 of the sweep's time. A run whose file was
#: written but not yet recorded (the process killed outright) is run again on resume: the
#: store reads only the runs the manifest calls done.
MANIFEST_SPACING = 20.0


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
    """What a worker sends back.

    Attributes:
        fingerprint: The model fingerprint of the process that made the run.
    """

    run_id: str
    status: str
    frame: pd.DataFrame | None = None
    wall_time: float = 0.0
    traceback: str | None = None
    fingerprint: str | None = None


def _prepare_report_reading(store: Store, manifest: dict[str, Any]) -> None:
    """Read the report's columns of a finished sweep once, so that the store caches them
    in one file (:meth:`Store.read_runs`) and the first ``civic-sim report`` reads that
    instead of one file per run. A few seconds at the end of a 2,000-run sweep; if the
    store cannot be read, the report will say why."""
    from experiments.analysis import report_columns

    try:
        store.read_runs(report_columns(store.columns(manifest)), manifest)
    except (OSError, ValueError, pa.ArrowException):
        return


@dataclass
class SweepSummary:
    """Counts of a sweep invocation.

    Attributes:
        total: Runs of the experiment.
        skipped: Runs already stored when this invocation started.
        done: Runs finished and stored now.
        failed: Run ids that failed now.
        interrupted: Whether a Ctrl-C (or SIGTERM) stopped the sweep early.
        notes: What the sweep said up front (resuming, replicates added, runs kept aside).
    """

    total: int = 0
    skipped: int = 0
    done: int = 0
    failed: list[str] = field(default_factory=list)
    out: str = ""
    wall_time: float = 0.0
    interrupted: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def stored(self) -> int:
        """Runs stored in the folder now."""
        return self.skipped + self.done


def run_id_for(
    point: int, strategy: str, replicate: int, digits: tuple[int, int] = (MIN_DIGITS, MIN_DIGITS)
) -> str:
    """Readable, sortable run identifier (``p003-facilitator-r007``)."""
    return f"p{point:0{digits[0]}d}-{strategy}-r{replicate:0{digits[1]}d}"


def id_digits(n_points: int, n_reps: int) -> tuple[int, int]:
    """Digits of the point and replicate numbers in the run ids of a new experiment."""
    return max(MIN_DIGITS, len(str(n_points - 1))), max(MIN_DIGITS, len(str(n_reps - 1)))


def plan_runs(
    spec: specs.Spec,
    root_entropy: int,
    points: list[dict[str, Any]],
    plugins: list[str] | None = None,
    digits: tuple[int, int] | None = None,
) -> list[RunTask]:
    """Every run of the experiment, ordered by replicate, then point, then strategy.

    Ordering by replicate first means an interrupted sweep has complete pairs early.

    Args:
        spec: The validated spec.
        root_entropy: The experiment's root entropy.
        points: The design points.
        plugins: Plugins given on the command line.
        digits: Digits of point and replicate in run ids (a folder's recorded ones, so
            ids stay the same when replicates are added).
    """
    varied = [n for n in spec.design.varied() if n not in ("scenario", "strategy")]
    fixed = [n for n in spec.fixed if n not in ("scenario", "strategy") and n not in varied]
    param_columns = varied + fixed
    digits = digits or id_digits(len(points), spec.replicates)
    tasks = []
    for r in range(spec.replicates):
        for i, point in enumerate(points):
            for strategy in spec.strategies:
                tasks.append(
                    RunTask(
                        run_id=run_id_for(i, strategy, r, digits),
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


_PLUGINS_LOADED: dict[tuple[str, ...], list[str]] = {}


def ensure_plugins(plugins: list[str]) -> list[str]:
    """Load plugins (entry points, ``CIVIC_SIM_PLUGINS`` and these) once per process.

    Returns:
        The keys of every plugin the list stands for (what the run's fingerprint counts).

    Raises:
        ValueError: If a plugin cannot be loaded.
    """
    key = tuple(plugins)
    if key not in _PLUGINS_LOADED:
        from model.plugins import load_plugin, plugin_names

        records = [load_plugin(name) for name in plugin_names(plugins)]
        _PLUGINS_LOADED[key] = [r.name for r in records if r is not None]
    return _PLUGINS_LOADED[key]


def run_fingerprint(task: RunTask) -> str:
    """The model fingerprint of one run in this process (its plugins loaded)."""
    return model_fingerprint(fingerprint_parts(ensure_plugins(task.plugins)))


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


def execute_run(task: RunTask, check: Callable[[], None] | None = None) -> RunResult:
    """Run one simulation; never raises an Exception (a failure comes back with its
    traceback).

    Args:
        task: The run.
        check: Called after every week (in this process: raises to stop the run).
    """
    start = time.perf_counter()
    try:
        model = build_model(task)
        progress = (lambda _week: check()) if check is not None else None
        metrics = model.run(task.steps, progress=progress)
        frame = run_frame(task, model, metrics)
        return RunResult(
            task.run_id, "done", frame, time.perf_counter() - start, None, run_fingerprint(task)
        )
    except Exception:  # noqa: BLE001 - a failing run is recorded, not fatal
        return RunResult(
            task.run_id, "failed", None, time.perf_counter() - start, traceback.format_exc()
        )


def _crashed(task: RunTask, error: BaseException) -> RunResult:
    text = "".join(traceback.format_exception(error))
    return RunResult(task.run_id, "failed", None, 0.0, text)


# --- what may change between invocations ----------------------------------------------------
_MISSING = object()


def _show(value: Any) -> str:
    if value is _MISSING:
        return "unset"
    text = json.dumps(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _differences(path: str, before: Any, after: Any) -> list[str]:
    if isinstance(before, dict) and isinstance(after, dict):
        keys = list(before) + [k for k in after if k not in before]
        out: list[str] = []
        for key in keys:
            out += _differences(
                f"{path}.{key}", before.get(key, _MISSING), after.get(key, _MISSING)
            )
        return out
    if before == after:
        return []
    return [f"{path} (stored {_show(before)}, now {_show(after)})"]


def spec_differences(stored: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """The fields that differ between a folder's spec and a new one, and would change
    the numbers: everything but :data:`FREE_FIELDS`; replicates may grow and strategies
    be added (the new runs are simply run), but not the reverse.

    Returns:
        One ``spec.<field> (stored X, now Y)`` per difference, in the spec's order.
    """
    out: list[str] = []
    for key in list(stored) + [k for k in new if k not in stored]:
        if key in FREE_FIELDS:
            continue
        before, after = stored.get(key, _MISSING), new.get(key, _MISSING)
        if key == "replicates" and isinstance(before, int) and isinstance(after, int):
            if after < before:
                out.append(
                    f"spec.replicates (stored {before}, now {after}: replicates can be "
                    "added to a finished experiment, not removed)"
                )
            continue
        if key == "strategies" and isinstance(before, list) and isinstance(after, list):
            if not set(before) <= set(after):
                gone = ", ".join(s for s in before if s not in after)
                out.append(
                    f"spec.strategies (stored {_show(before)}, now {_show(after)}: "
                    f"{gone} would be dropped; strategies can be added, not removed)"
                )
            continue
        out += _differences(f"spec.{key}", before, after)
    return out


def _supersede(store: Store, manifest: dict[str, Any], run_ids: list[str]) -> list[str]:
    """Move the files of runs made by another model version to ``superseded/`` (never
    overwritten); return a line per fingerprint moved."""
    runs = manifest["runs"]
    moved: dict[str, int] = {}
    for run_id in run_ids:
        entry = runs[run_id]
        old = str(entry.get("model_fingerprint"))
        source = store.run_path(run_id)
        if source.is_file():
            target = store.root / "superseded" / old / source.parent.name / source.name
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(source, target)
            with_parent = source.parent
            if with_parent.is_dir() and not any(with_parent.iterdir()):
                with_parent.rmdir()
            manifest.setdefault("superseded", []).append(
                {
                    "run_id": run_id,
                    "model_fingerprint": old,
                    "path": str(target.relative_to(store.root)),
                    "finished": entry.get("finished"),
                    "moved": now(),
                }
            )
            moved[old] = moved.get(old, 0) + 1
        entry["status"] = "pending"
    return [
        f"kept {n} runs of model {fp} aside in {store.root / 'superseded' / fp} "
        "(they are run again with the current model)"
        for fp, n in moved.items()
    ]


def ensemble_changed(stored: dict[str, Any], new: dict[str, Any]) -> bool:
    """Whether the only change between a folder's spec and a new one is the ensemble
    file of an ``ensemble`` design (regenerated by ``civic-sim calibrate``: other worlds,
    so another experiment, but the one the user means to run in this folder)."""
    before, after = stored.get("design", {}), new.get("design", {})
    if before.get("type") != "ensemble" or after.get("type") != "ensemble":
        return False
    if before.get("ensemble_sha256") == after.get("ensemble_sha256"):
        return False
    design_free = {k: v for k, v in stored.items() if k != "design"}
    return not spec_differences(design_free, {k: v for k, v in new.items() if k != "design"})


def _supersede_experiment(
    store: Store, manifest: dict[str, Any], sha: str | None, new_sha: str | None
) -> str:
    """Move a whole experiment (its runs, manifest, report and figures) to
    ``superseded/ensemble-SHA/``, where it stays a sweep folder ``civic-sim report`` can
    read; return the line that tells the user."""
    target = store.root / "superseded" / f"ensemble-{sha}"
    k = 2
    while target.exists():
        target = store.root / "superseded" / f"ensemble-{sha}-{k}"
        k += 1
    target.mkdir(parents=True)
    for entry in sorted(store.root.iterdir()):
        if entry.name in ("superseded", LOCK_NAME, store.tmp_dir.name):
            continue
        os.replace(entry, target / entry.name)
    done = sum(e.get("status") == "done" for e in manifest.get("runs", {}).values())
    return (
        f"the ensemble changed (sha256 {sha} -> {new_sha}): kept the {done} runs "
        f"over the old worlds, their manifest and report in {target} (civic-sim report "
        "reads it there); running the new worlds"
    )


def run_tasks(
    tasks: list[RunTask],
    *,
    executor: str = "processes",
    workers: int | None = None,
    dask: str | None = None,
    progress: bool = False,
) -> Iterator[RunResult]:
    """Run tasks on an executor and yield their results as they finish, storing nothing
    (for checks that read the tables at once, such as ``civic-sim calibrate --check``).
    A failed run comes back with ``status == "failed"`` and its traceback.

    Raises:
        KeyboardInterrupt: After Ctrl-C (no new run starts; the workers are ended).
    """
    from tqdm import tqdm

    size = max(1, min(workers or os.cpu_count() or 1, len(tasks)))
    opened: dict[str, Any] = {}
    interrupt = Interrupt(_say_on_stderr, lambda: kill_workers(opened.get("pool")))
    with interrupt, open_executor(executor, size, dask) as pool:
        opened["pool"] = pool
        with tqdm(total=len(tasks), unit="run", file=sys.stderr, disable=not progress) as bar:
            for result in results(pool, tasks, execute_run, interrupt, _crashed):
                bar.update(1)
                yield result
        if interrupt.requested:
            kill_workers(pool)
            raise KeyboardInterrupt


def strategy_titles(names: list[str]) -> dict[str, str]:
    """Each strategy's title as registered when the sweep runs (plugins included), for the
    manifest: the report reads them there instead of importing the model."""
    from experiments.headline import strategy_title

    return {name: strategy_title(name) for name in names}


def prepare(
    spec: specs.Spec,
    store: Store,
    plugins: list[str] | None = None,
    rerun_changed: bool = False,
    dry_run: bool = False,
    fresh_entropy: int | None = None,
) -> tuple[dict[str, Any], list[RunTask], list[str]]:
    """Validate the whole experiment and build (or reopen) its manifest (call it holding
    the folder's lock unless ``dry_run``: it may move superseded runs).

    Args:
        spec: The validated spec.
        store: The output folder.
        plugins: Plugins given on the command line.
        rerun_changed: Run again the finished runs made by another version of the model
            (another :func:`model_fingerprint`), keeping their files in ``superseded/``,
            instead of refusing to mix them; and if the ensemble file of an ``ensemble``
            design was regenerated (nothing else changed), move the whole old experiment
            to ``superseded/ensemble-SHA/`` and start the new one.
        dry_run: Check only (move nothing): what a sweep does before taking the lock,
            so that a bad spec fails before anything is written.
        fresh_entropy: Root entropy of a new seedless experiment (default: fresh from
            the operating system); the sweep passes the one its dry run checked.

    Returns:
        The manifest (not yet written), every run of the experiment, and notes for the
        user (replicates added, runs kept aside).

    Raises:
        specs.SpecError: If a design point's parameters are not allowed.
        SweepError: If the folder holds a different experiment (naming the fields that
            differ), or runs made by another version of the model (unless
            ``rerun_changed``).
    """
    try:
        manifest = store.read_manifest()
    except ValueError as exc:
        raise SweepError(f"--out: {exc}") from None
    try:
        plugin_keys = ensure_plugins(list(plugins or []) + list(spec.plugins))
    except ValueError as exc:
        raise SweepError(f"spec.plugins: {exc}") from None
    spec_dict = json.loads(json.dumps(spec.as_dict()))
    notes: list[str] = []
    stored_reps = spec.replicates
    if manifest is not None and ensemble_changed(manifest.get("spec", {}), spec_dict):
        before = manifest["spec"]["design"].get("ensemble_sha256")
        stored_points = [p.get("values") for p in manifest.get("points", [])]
        if stored_points == json.loads(json.dumps(spec.design.points)):
            # regenerated with the same worlds (the calibration is deterministic): the
            # runs stand; the manifest now names the new file
            notes.append(
                f"the ensemble file was regenerated with the same worlds (sha256 {before} -> "
                f"{spec_dict['design'].get('ensemble_sha256')}); the stored runs stand"
            )
            manifest.setdefault("spec_changes", []).append(
                {"at": now(), "before": manifest["spec"], "after": spec_dict}
            )
            manifest["spec"] = spec_dict
    if manifest is not None and ensemble_changed(manifest.get("spec", {}), spec_dict):
        before = manifest["spec"]["design"].get("ensemble_sha256")
        if not rerun_changed:
            raise SweepError(
                f"--out: {str(store.root)!r} holds runs over other plausible worlds (ensemble "
                f"sha256 {before}; {spec_dict['design'].get('file')} is now "
                f"{spec_dict['design'].get('ensemble_sha256')}: it was regenerated); use "
                "another folder, or add --rerun-changed to keep the old runs and their "
                "report in superseded/ and run the new worlds"
            )
        if not dry_run:
            notes.append(
                _supersede_experiment(
                    store, manifest, before, spec_dict["design"].get("ensemble_sha256")
                )
            )
        manifest = None
    if manifest is not None:
        differ = spec_differences(manifest.get("spec", {}), spec_dict)
        if differ:
            raise SweepError(
                f"--out: {str(store.root)!r} holds a different experiment: "
                + "; ".join(differ)
                + ". Use another folder, or put the spec back as it was"
            )
        stored_reps = manifest["spec"].get("replicates", spec.replicates)
        if spec.replicates > stored_reps:
            notes.append(
                f"adding replicates: {stored_reps} -> {spec.replicates} per strategy and "
                "design point; only the new runs are run"
            )
        added = [s for s in spec.strategies if s not in manifest["spec"].get("strategies", [])]
        if added:
            notes.append(f"adding strategies: {', '.join(added)}; only their runs are run")
        if manifest["spec"] != spec_dict:
            manifest.setdefault("spec_changes", []).append(
                {"at": now(), "before": manifest["spec"], "after": spec_dict}
            )
            manifest["spec"] = spec_dict
        root_entropy = int(manifest["root_entropy"])
    else:
        root_entropy = spec.seed if spec.seed is not None else fresh_entropy
        if root_entropy is None:
            root_entropy = int(np.random.SeedSequence().entropy)
    points = specs.expand_design(spec, root_entropy)
    resolved = specs.validate_points(spec, points)

    if manifest is None:
        manifest = {
            "format": 2,
            "created": now(),
            "spec": spec_dict,
            "spec_file": spec.source,
            "root_entropy": root_entropy,
            "root_entropy_source": "spec seed" if spec.seed is not None else "fresh",
            "seeding": "replicate r of every strategy and design point: "
            "numpy.random.SeedSequence(root_entropy, spawn_key=(r,))",
            "design_seed": specs.design_seed(spec, root_entropy),
            "points": [
                {"index": i, "label": specs.point_label(p), "values": p}
                for i, p in enumerate(points)
            ],
            "run_id_digits": list(id_digits(len(points), spec.replicates)),
            "runs": {},
        }
    digits = tuple(manifest.get("run_id_digits") or id_digits(len(points), stored_reps))
    manifest["run_id_digits"] = list(digits)
    tasks = plan_runs(spec, root_entropy, points, plugins, digits)

    parts = fingerprint_parts(plugin_keys)
    fingerprint = model_fingerprint(parts)
    known = manifest.setdefault("fingerprints", {})
    runs = manifest.setdefault("runs", {})
    stale = [
        e["run_id"]
        for e in runs.values()
        if e.get("status") == "done" and e.get("model_fingerprint") != fingerprint
    ]
    if stale and not rerun_changed:
        made_by = sorted({str(runs[k].get("model_fingerprint")) for k in stale})
        why = "; ".join(explain_fingerprint_change(known.get(fp), parts) for fp in made_by)
        raise SweepError(
            f"--out: {len(stale)} finished runs in {str(store.root)!r} were made by another "
            f"version of the model (fingerprint {', '.join(made_by)}; now {fingerprint}: "
            f"{why}), so new runs would not be comparable with them; use another folder, "
            "or add --rerun-changed to run them again (their files are kept in "
            "superseded/)"
        )
    if stale and not dry_run:
        notes += _supersede(store, manifest, stale)
    known[fingerprint] = parts
    manifest["versions"] = package_versions()
    manifest["git_commit"] = git_commit()
    manifest["model_fingerprint"] = fingerprint
    manifest["strategy_titles"] = strategy_titles(spec.strategies)
    from model.plugins import loaded_plugins

    manifest["plugins"] = [p.as_dict() for p in loaded_plugins() if p.name in plugin_keys]
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
    return manifest, tasks, notes


def _clear_tmp(store: Store) -> None:
    """Remove files a killed writer left half-written (only while holding the lock)."""
    if store.tmp_dir.is_dir():
        shutil.rmtree(store.tmp_dir, ignore_errors=True)


@dataclass
class SweepOptions:
    """How a sweep runs (see :func:`run_sweep`)."""

    executor: str = "processes"
    workers: int | None = None
    dask: str | None = None
    plugins: list[str] | None = None
    progress: bool = True
    rerun_changed: bool = False


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
    clear_stale_lock: bool = False,
    say: Callable[[str], None] | None = None,
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
        rerun_changed: Run again finished runs made by another version of the model
            (their files are kept in ``superseded/``).
        clear_stale_lock: Remove a lock left by a sweep that is no longer running.
        say: Prints a line to the user (default: stderr).

    Returns:
        What happened (done now, skipped as already done, failed run ids, interrupted).

    Raises:
        SweepError: If the folder is locked by another sweep (or by a stale lock), holds
            a different experiment, or runs of another model version.
    """
    start = time.perf_counter()
    options = SweepOptions(executor, workers, dask, plugins, progress, rerun_changed)
    say = say or _say_on_stderr
    store = Store(out)
    checked, _, _ = prepare(spec, store, plugins, rerun_changed, dry_run=True)  # no writes
    lock = FolderLock(store.root, clear_stale=clear_stale_lock)
    try:
        lock.acquire()
    except LockError as exc:
        raise SweepError(f"--out: {exc}") from None
    except OSError as exc:
        raise SweepError(f"--out: cannot write in {str(out)!r}: {exc.strerror or exc}") from None
    try:
        if lock.cleared is not None:
            say(f"cleared a stale lock ({lock.cleared.describe()})")
        _clear_tmp(store)
        manifest, tasks, notes = prepare(
            spec, store, plugins, rerun_changed, fresh_entropy=int(checked["root_entropy"])
        )
        runs = manifest["runs"]
        todo = [t for t in tasks if runs[t.run_id]["status"] != "done"]
        summary = SweepSummary(len(tasks), len(tasks) - len(todo), out=str(store.root))
        if summary.skipped and todo:
            notes.insert(0, f"resuming: {summary.skipped} of {summary.total} runs already stored")
        for line in notes:
            say(line)
        summary.notes = notes
        manifest["executor"] = f"dask {dask}" if dask else executor
        store.write_manifest(manifest)
        from experiments.sensitivity import write_sample_matrix

        write_sample_matrix(spec, store.root, manifest.get("design_seed"))
        if todo:
            _execute(spec.name, todo, store, manifest, summary, lock, options, say)
        if todo and summary.stored == summary.total and not summary.interrupted:
            _prepare_report_reading(store, manifest)
    finally:
        lock.release()
    summary.wall_time = time.perf_counter() - start
    return summary


def _say_on_stderr(line: str) -> None:
    from tqdm import tqdm

    tqdm.write(f"civic-sim: {line}", file=sys.stderr)
    sys.stderr.flush()


def _execute(name, todo, store, manifest, summary, lock, options: SweepOptions, say) -> None:
    """Run the tasks on the executor, storing each result as it comes; stop on Ctrl-C."""
    from tqdm import tqdm

    bar = tqdm(
        total=len(todo),
        desc=name,
        unit="run",
        file=sys.stderr,
        disable=not options.progress,
        dynamic_ncols=True,
    )
    bar.set_postfix(failed=0)
    opened: dict[str, Any] = {}

    saving = {"at": time.perf_counter(), "cost": 0.0, "unsaved": False}

    def save_manifest() -> None:
        began = time.perf_counter()
        store.write_manifest(manifest)
        saving.update(at=time.perf_counter(), cost=time.perf_counter() - began, unsaved=False)

    def quit_now() -> None:
        kill_workers(opened.get("pool"))
        if saving["unsaved"]:
            save_manifest()  # before the lock goes: the finished runs stay recorded
        lock.release()

    def say_now(line: str) -> None:
        # from a signal handler: straight to the file descriptor, since the handler may
        # run while the progress bar is half-way through writing to sys.stderr
        text = ("\n" if options.progress else "") + f"civic-sim: {line}\n"
        try:
            os.write(sys.stderr.fileno(), text.encode())
        except (OSError, ValueError, AttributeError):  # no real stderr (a notebook)
            say(line)

    interrupt = Interrupt(say_now, quit_now)
    try:
        with interrupt, open_executor(options.executor, options.workers, options.dask) as pool:
            opened["pool"] = pool
            for result in results(pool, todo, execute_run, interrupt, _crashed):
                _record(store, manifest, manifest["runs"][result.run_id], result, summary)
                saving["unsaved"] = True
                if time.perf_counter() - saving["at"] >= MANIFEST_SPACING * saving["cost"]:
                    save_manifest()
                if result.status != "done":
                    bar.set_postfix(failed=len(summary.failed))
                bar.update(1)
            if interrupt.requested:
                kill_workers(pool)
                summary.interrupted = True
    except ExecutorError as exc:
        raise SweepError(str(exc)) from None
    finally:
        if saving["unsaved"]:
            save_manifest()
        bar.close()


def _record(store, manifest, entry, result: RunResult, summary) -> None:
    """Store one result and record it in the manifest in memory (the caller rewrites the
    file, see :data:`MANIFEST_SPACING`); a run made by another model version than the
    sweep's is recorded as failed, not stored."""
    fingerprint = manifest["model_fingerprint"]
    entry["wall_time"] = round(result.wall_time, 4)
    entry["finished"] = now()
    entry["git_commit"] = manifest["git_commit"]
    entry["model_fingerprint"] = result.fingerprint or fingerprint
    if result.status == "done" and result.fingerprint not in (None, fingerprint):
        result.status = "failed"
        result.traceback = (
            f"this run was made by another version of the model (fingerprint "
            f"{result.fingerprint}; the sweep's is {fingerprint}): a file of model/, "
            "agents/ or a plugin changed while the sweep ran, so its numbers are not "
            "comparable with the others; rerun the sweep with --rerun-changed"
        )
    if result.status == "done":
        store.write_run(result.run_id, result.frame)
        entry["columns"] = columns_signature(result.frame)
        entry["status"] = "done"
        entry["traceback"] = None
        summary.done += 1
    else:
        entry["status"] = "failed"
        entry["traceback"] = result.traceback
        summary.failed.append(result.run_id)


# --- one stored run, again -------------------------------------------------------------------
def task_from_folder(folder: str | Path, run_id: str) -> tuple[RunTask, dict[str, Any]]:
    """Rebuild the task of one stored run from its folder's manifest (the same task the
    sweep ran: parameters, root entropy and spawn key, weeks, metrics and plugins).

    Returns:
        The task and the run's manifest entry.

    Raises:
        SweepError: If the folder is not a sweep folder or has no such run.
    """
    store = Store(folder)
    try:
        manifest = store.read_manifest()
    except ValueError as exc:
        raise SweepError(f"--from: {exc}") from None
    if manifest is None:
        raise SweepError(f"--from: {str(folder)!r} is not a sweep folder (no manifest.json)")
    entry = manifest.get("runs", {}).get(run_id)
    if entry is None:
        known = sorted(manifest.get("runs", {}))
        shown = ", ".join(known[:3]) + (" ..." if len(known) > 3 else "")
        raise SweepError(f"--from: {str(folder)!r} has no run {run_id!r} (its runs: {shown})")
    spec = specs.spec_from_dict(manifest["spec"])
    points = [p["values"] for p in manifest["points"]]
    digits = tuple(manifest.get("run_id_digits") or id_digits(len(points), spec.replicates))
    plugins = [p["name"] for p in manifest.get("plugins", [])]
    tasks = plan_runs(spec, int(manifest["root_entropy"]), points, digits=digits)
    for task in tasks:
        if task.run_id == run_id:
            task.plugins = plugins
            return task, entry
    raise SweepError(f"--from: run {run_id!r} is not part of the folder's spec")
