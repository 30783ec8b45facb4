"""Overhead of the experiment runner against a plain loop over the model.

The same N short runs (same parameters, same seeds) are timed two ways, each in a
fresh Python process so both pay the interpreter and import start-up:

* ``civic-sim sweep SPEC --executor serial`` (spec parsing, validation of every design
  point, manifest, one Parquet file per run, written atomically);
* a plain loop: ``CivicModel(params, seed_sequence=...).run(steps)`` for each run.

Both use one core. The figure is the median over several repeats (alternating the two
so that background load hits both alike). Target: overhead under 10%.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RESIDENTS = 1000
STEPS = 156
REPLICATES = 4
STRATEGIES = ("direct", "facilitator")
SEED = 2024
REPEATS = 3
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


def _time(cmd: list[str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise RuntimeError(f"{' '.join(cmd[:4])} ... exited with {proc.returncode}: {tail}")
    return time.perf_counter() - start


def measure(repeats: int = REPEATS) -> dict[str, float]:
    """Median wall times of the runner and of the plain loop (seconds)."""
    runner_times, plain_times = [], []
    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp) / "bench.toml"
        spec.write_text(SPEC)
        for k in range(repeats):
            out = Path(tmp) / f"out{k}"
            runner_times.append(
                _time(
                    [sys.executable, "-m", "experiments.cli", "sweep", str(spec)]
                    + ["--out", str(out), "--executor", "serial", "--no-progress"]
                )
            )
            plain_times.append(_time([sys.executable, "-c", PLAIN]))
    return {"runner": statistics.median(runner_times), "plain": statistics.median(plain_times)}


def main() -> None:
    """Print the runner's overhead over a plain loop."""
    runs = REPLICATES * len(STRATEGIES)
    times = measure()
    overhead = times["runner"] / times["plain"] - 1.0
    per_run_ms = (times["runner"] - times["plain"]) / runs * 1000
    print(
        f"runs: {runs} x ({RESIDENTS} residents, {STEPS} weeks), serial executor, 1 core, "
        f"median of {REPEATS} repeats, each in a fresh process"
    )
    print(f"plain loop over CivicModel.run: {times['plain']:.2f} s")
    print(f"civic-sim sweep (serial):       {times['runner']:.2f} s")
    print(
        f"runner overhead: {overhead:+.1%} ({per_run_ms:+.0f} ms per run) "
        f"[target < {TARGET:.0%}: {'met' if overhead < TARGET else 'NOT met'}]"
    )
    print(
        f"throughput per core: runner {runs / times['runner']:.2f} runs/s, "
        f"plain {runs / times['plain']:.2f} runs/s"
    )


if __name__ == "__main__":
    main()
