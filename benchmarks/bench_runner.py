"""Overhead of the experiment runner against a plain loop over the model.

The same N short runs (same parameters, same seeds) are timed two ways, each in a
fresh Python process so both pay the interpreter and import start-up:

* ``civic-sim sweep SPEC --executor serial`` (spec parsing, validation of every design
  point, manifest, one Parquet file per run, written atomically);
* a plain loop: ``CivicModel(params, seed_sequence=...).run(steps)`` for each run.

Both use one core. The figure is the median over several repeats (running the two back
to back, so that background load hits both alike) of the ratio of the child processes'
CPU times (user + system), which other load on the machine disturbs far less than wall
time; the wall time is printed too. Target: overhead under 10%. The runs are short (a
quarter of a second each), so the sweep has 16 of them: with fewer, one process's
start-up noise outweighs the runner's own work.
"""

from __future__ import annotations

import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RESIDENTS = 1000
STEPS = 156
REPLICATES = 8
STRATEGIES = ("direct", "facilitator")
SEED = 2024
REPEATS = 5
TARGET = 0.10

SPEC = f"""
name = "bench_runner"
strategies = {list(STRATEGIES)!r}
replicates = {REPLICATES}
steps = {STEPS}
seed = {SEED}
[fixed]
residents = {RESIDENTS}
"""

PLAIN = f"""
import numpy as np
from model.civic_model import CivicModel
from model.parameters import Parameters
frames = []
for r in range({REPLICATES}):
    for strategy in {STRATEGIES!r}:
        params = Parameters.resolve(strategy=strategy, residents={RESIDENTS})
        model = CivicModel(params, seed_sequence=np.random.SeedSequence({SEED}, spawn_key=(r,)))
        frames.append(model.run({STEPS}))
"""


def _time(cmd: list[str]) -> tuple[float, float]:
    """Wall time and CPU time (user + system) of a child process, in seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise RuntimeError(f"{' '.join(cmd[:4])} ... exited with {proc.returncode}: {tail}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def measure(repeats: int = REPEATS) -> dict[str, float]:
    """Median wall and CPU times of the runner and of the plain loop (seconds)."""
    times: dict[str, list[tuple[float, float]]] = {"runner": [], "plain": []}
    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp) / "bench.toml"
        spec.write_text(SPEC)
        for k in range(repeats):
            out = Path(tmp) / f"out{k}"
            times["runner"].append(
                _time(
                    [sys.executable, "-m", "experiments.cli", "sweep", str(spec)]
                    + ["--out", str(out), "--executor", "serial", "--no-progress"]
                )
            )
            times["plain"].append(_time([sys.executable, "-c", PLAIN]))
    result = {}
    for name, pairs in times.items():
        result[f"{name}_wall"] = statistics.median(w for w, _ in pairs)
        result[f"{name}_cpu"] = statistics.median(c for _, c in pairs)
    # each repeat ran the two back to back: their ratio is the least disturbed figure
    result["cpu_ratio"] = statistics.median(
        r[1] / p[1] for r, p in zip(times["runner"], times["plain"], strict=True)
    )
    result["wall_ratio"] = statistics.median(
        r[0] / p[0] for r, p in zip(times["runner"], times["plain"], strict=True)
    )
    return result


def per_run_work(repeats: int = 20) -> dict[str, float]:
    """In-process cost of the runner's own work for one run (ms), and the run's (ms).

    Times the table building, the atomic Parquet write and the manifest rewrite that
    the runner adds to each run, against the model run itself.
    """
    from experiments import spec as specs
    from experiments.runner import build_model, prepare, run_frame
    from experiments.store import Store

    with tempfile.TemporaryDirectory() as tmp:
        spec_path = Path(tmp) / "bench.toml"
        spec_path.write_text(SPEC)
        spec = specs.load_spec(spec_path)
        store = Store(Path(tmp) / "out")
        manifest, tasks, _notes = prepare(spec, store)
        build_model(tasks[0]).run(STEPS)  # warm up: the first run in a process pays extra
        start = time.perf_counter()
        model = build_model(tasks[0])
        metrics = model.run(STEPS)
        model_ms = (time.perf_counter() - start) * 1000
        start = time.perf_counter()
        for _ in range(repeats):
            frame = run_frame(tasks[0], model, metrics)
            store.write_run(tasks[0].run_id, frame)
            store.write_manifest(manifest)
        work_ms = (time.perf_counter() - start) * 1000 / repeats
    return {"model": model_ms, "work": work_ms}


def main() -> None:
    """Print the runner's overhead over a plain loop."""
    runs = REPLICATES * len(STRATEGIES)
    t = measure()
    cpu_overhead = t["cpu_ratio"] - 1.0
    wall_overhead = t["wall_ratio"] - 1.0
    per_run_ms = (t["runner_cpu"] - t["plain_cpu"]) / runs * 1000
    print(
        f"runs: {runs} x ({RESIDENTS} residents, {STEPS} weeks), serial executor (one core), "
        f"median of {REPEATS} repeats, each in a fresh process"
    )
    print(
        f"plain loop over CivicModel.run: {t['plain_wall']:.2f} s wall, {t['plain_cpu']:.2f} s CPU"
    )
    print(
        f"civic-sim sweep (serial):       {t['runner_wall']:.2f} s wall, "
        f"{t['runner_cpu']:.2f} s CPU"
    )
    print(
        f"runner overhead per core (CPU time, median of paired repeats): {cpu_overhead:+.1%} "
        f"({per_run_ms:+.0f} ms per run) "
        f"[target < {TARGET:.0%}: {'met' if cpu_overhead < TARGET else 'NOT met'}]"
    )
    print(f"runner overhead (wall time, sensitive to other load): {wall_overhead:+.1%}")
    work = per_run_work()
    print(
        f"runner's own work per run (table, Parquet, manifest; in process): "
        f"{work['work']:.1f} ms = {work['work'] / work['model']:.1%} of one run "
        f"({work['model']:.0f} ms)"
    )
    print(
        f"throughput per core: runner {runs / t['runner_cpu']:.2f} runs/CPU-s, "
        f"plain {runs / t['plain_cpu']:.2f} runs/CPU-s"
    )


if __name__ == "__main__":
    main()
