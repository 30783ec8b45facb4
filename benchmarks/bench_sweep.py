"""A screening sweep's throughput and the share of its time spent outside the model.

A small Morris screening (SALib, two trajectories over every invented parameter one at
a time, so 2 x (k + 1) design points x 1 strategy: 160 runs of 1,000 residents over ten
years with today's 79 invented parameters, runs like those of the shipped screening
spec, which groups the parameters) is run the way a user runs one: ``civic-sim sweep``
with the default process pool (one worker per core), in a fresh process. Then the same
runs (same parameters, same seeds) run in a plain loop over ``CivicModel(...).run(...)``
in one fresh process. Both are
measured in CPU time of the whole process tree (user + system), which other load on the
machine disturbs far less than wall time:

* **runs per second**: runs / wall time of the sweep (and per CPU-second);
* **share outside the model**: 1 - plain loop CPU / sweep CPU, i.e. what the sweep
  spends on anything but building and running models (spec, design, pickling, worker
  start-up, Parquet files, manifest). Target: under 10%.

The report of the sweep (``civic-sim report``, with the Morris analysis, scenario
discovery and robustness) is timed too. Median of :data:`REPEATS` repeats.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.bench_runner import _time

RESIDENTS = 1000
STEPS = 520
STRATEGIES = ("direct",)
SEED = 7
REPEATS = 2
TARGET = 0.10

SPEC = f"""
name = "bench_sweep"
strategies = {list(STRATEGIES)!r}
replicates = 1
steps = {STEPS}
seed = {SEED}
[fixed]
residents = {RESIDENTS}
[design]
type = "morris"
trajectories = 2
levels = 4
seed = 3
ranges = "invented"
"""

PLAIN = """
import json, sys
import numpy as np
from model.civic_model import CivicModel
from model.parameters import Parameters
runs = json.load(open(sys.argv[1]))["runs"].values()
for run in runs:
    params = Parameters.resolve(**run["parameters"])
    sequence = np.random.SeedSequence({seed}, spawn_key=tuple(run["spawn_key"]))
    CivicModel(params, seed_sequence=sequence).run(run["steps"])
"""


def measure(repeats: int = REPEATS) -> dict[str, float]:
    """Median wall/CPU of the sweep, the plain loop and the report; their ratios."""
    sweep, plain, report, runs = [], [], [], 0
    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp) / "bench.toml"
        spec.write_text(SPEC)
        loop = Path(tmp) / "plain.py"
        loop.write_text(PLAIN.format(seed=SEED))
        for k in range(repeats):
            out = Path(tmp) / f"out{k}"
            cli = [sys.executable, "-m", "experiments.cli"]
            sweep.append(_time(cli + ["sweep", str(spec), "--out", str(out), "--no-progress"]))
            plain.append(_time([sys.executable, str(loop), str(out / "manifest.json")]))
            report.append(_time(cli + ["report", str(out)]))
            import json

            runs = len(json.loads((out / "manifest.json").read_text())["runs"])
    shares = [1 - p[1] / s[1] for s, p in zip(sweep, plain, strict=True)]
    return {
        "runs": runs,
        "sweep_wall": statistics.median(w for w, _ in sweep),
        "sweep_cpu": statistics.median(c for _, c in sweep),
        "plain_cpu": statistics.median(c for _, c in plain),
        "report_wall": statistics.median(w for w, _ in report),
        "outside_share": statistics.median(shares),
    }


def main() -> None:
    """Print the screening sweep's runs per second and its share outside the model."""
    start = time.perf_counter()
    t = measure()
    print(
        f"Morris screening sweep: {t['runs']} runs x ({RESIDENTS} residents, {STEPS} weeks), "
        f"process pool, median of {REPEATS} repeats"
    )
    print(
        f"sweep: {t['sweep_wall']:.1f} s wall = {t['runs'] / t['sweep_wall']:.1f} runs/s; "
        f"{t['sweep_cpu']:.1f} CPU-s = {t['runs'] / t['sweep_cpu']:.2f} runs per CPU-second"
    )
    print(f"plain loop over CivicModel.run (same runs): {t['plain_cpu']:.1f} CPU-s")
    print(
        f"share of the sweep's CPU time outside the model: {t['outside_share']:.1%} "
        f"[target < {TARGET:.0%}: {'met' if t['outside_share'] < TARGET else 'NOT met'}]"
    )
    print(f"report (Morris, discovery, robustness): {t['report_wall']:.1f} s wall")
    print(f"({time.perf_counter() - start:.0f} s in all)")


if __name__ == "__main__":
    main()
