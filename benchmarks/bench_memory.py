"""Memory of a sweep worker over 200 runs: it must stay flat (no model outlives its run).

A fresh process does what a process-pool worker of ``civic-sim sweep`` does: it calls
the runner's ``execute_run`` for one run after another (here 200 runs of 1,000 residents
over 52 weeks, two strategies) and keeps nothing but the returned tables' sizes. Its
resident set size (RSS, from ``/proc/self/statm``) is read after each run, with no
explicit ``gc.collect()``: what a worker sees. Target: the RSS after run 200 within
10 MB of the RSS after run 50 (the first runs load and compile code and warm caches).
"""

from __future__ import annotations

import json
import subprocess
import sys

RUNS = 200
RESIDENTS = 1000
STEPS = 52
CHECKPOINTS = (1, 10, 50, 100, 150, 200)
TARGET_MB = 10.0

CHILD = f"""
import json, os, tempfile
from pathlib import Path
from experiments import spec as specs
from experiments.runner import execute_run, prepare
from experiments.store import Store

page = os.sysconf("SC_PAGE_SIZE")
def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * page / 2**20

with tempfile.TemporaryDirectory() as tmp:
    path = Path(tmp) / "memory.toml"
    path.write_text(
        'name = "memory"\\nstrategies = ["direct", "facilitator"]\\n'
        'replicates = {RUNS // 2}\\nsteps = {STEPS}\\nseed = 7\\n'
        '[fixed]\\nresidents = {RESIDENTS}\\n'
    )
    _manifest, tasks, _notes = prepare(specs.load_spec(path), Store(Path(tmp) / "out"))
    rss, rows = {{}}, 0
    for i, task in enumerate(tasks[:{RUNS}], start=1):
        result = execute_run(task)
        assert result.status == "done", result.traceback
        rows += len(result.frame)
        del result
        if i in {CHECKPOINTS!r}:
            rss[i] = rss_mb()
print(json.dumps({{"rss": rss, "rows": rows}}))
"""


def measure() -> dict:
    """RSS (MiB) of one worker-like process after each checkpoint run."""
    out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, check=True)
    data = json.loads(out.stdout.strip().splitlines()[-1])
    data["rss"] = {int(k): v for k, v in data["rss"].items()}
    return data


def main() -> None:
    """Print the worker's memory over 200 runs."""
    data = measure()
    rss = data["rss"]
    shown = ", ".join(f"run {k}: {v:.0f}" for k, v in sorted(rss.items()))
    growth = rss[RUNS] - rss[50]
    print(
        f"sweep worker, {RUNS} runs ({RESIDENTS} residents, {STEPS} weeks, execute_run one "
        f"after another in one process): RSS MiB {shown}"
    )
    print(
        f"growth from run 50 to run {RUNS}: {growth:+.1f} MiB ({growth / 150 * 1024:+.0f} KiB "
        f"per run) (target within {TARGET_MB:.0f} MiB) -> "
        f"{'PASS' if abs(growth) <= TARGET_MB else 'MISS'}"
    )


if __name__ == "__main__":
    main()
