"""Reading a 2,000-run store and writing its report.

The store is built once in a scratch folder: 8 real runs (2 strategies x 2 scenarios x
2 replicates, 200 residents, 520 weeks, every metric kept), each copied with its own
replicate number until there are 2,000 run files (so the number, size and columns of
the files are those of a real 2,000-run sweep; only the values repeat). Then, each in a
fresh process and the median of three:

* reading the report's columns with ``Store.read_runs`` (one ``pyarrow.dataset`` call),
  against the per-file loop it replaced (``pandas.read_parquet`` of every file, then
  ``concat``);
* ``analysis.final_year`` (grouped operations) on that table;
* the whole ``civic-sim report`` (``write_report``: tables, intervals, figures, files),
  twice: as the first report of a sweep that finished (the sweep's last step read the
  report's columns once, so the store keeps them in one cache file; that step is timed
  too), and with no cache at all (a sweep interrupted, or a folder copied without its
  ``cache/``), which reads every run file.

Target: the whole report in a few seconds (under 5 s on an idle 2-core machine).
"""

from __future__ import annotations

import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

RUNS = 2000
TARGET_S = 5.0

BUILD = r"""
import sys
from pathlib import Path
from experiments import spec as specs
from experiments.runner import execute_run, prepare
from experiments.store import Store, columns_signature, now
out = Path(sys.argv[1])
spec_path = out.parent / "bench_report.toml"
spec_path.write_text('''name = "bench_report"
strategies = ["direct", "facilitator"]
replicates = 500
steps = 520
seed = 11
[fixed]
residents = 200
[design]
type = "points"
points = [{ scenario = "baseline" }, { scenario = "austerity" }]
''')
store = Store(out)
manifest, tasks, _notes = prepare(specs.load_spec(spec_path), store)
frames = {}
for task in tasks:
    key = (task.point, task.strategy, task.replicate % 2)
    if key not in frames:
        result = execute_run(task)
        assert result.status == "done", result.traceback
        frames[key] = result.frame
    frame = frames[key].copy()
    frame["replicate"] = task.replicate
    store.write_run(task.run_id, frame)
    manifest["runs"][task.run_id].update(status="done", finished=now(), wall_time=1.0,
        model_fingerprint=manifest["model_fingerprint"], git_commit=manifest["git_commit"],
        columns=columns_signature(frame))  # as the runner records a finished run
store.write_manifest(manifest)
"""

TIME = r"""
import json, sys, time
import pandas as pd
from experiments import analysis
from experiments.report import write_report
from experiments.store import Store
folder, what = sys.argv[1], sys.argv[2]
store = Store(folder)
columns = ["point", "point_label", "strategy", "replicate", "step"]
columns += [o.metric for o in analysis.OUTCOMES]
start = time.perf_counter()
if what == "loop":
    frames = []
    for run_id in sorted(store.done_run_ids()):
        frame = pd.read_parquet(store.run_path(run_id), columns=columns)
        frame.insert(0, "run_id", run_id)
        frames.append(frame)
    frame = pd.concat(frames, ignore_index=True)
elif what == "read":
    frame = store.read_runs(columns)
elif what == "final_year":
    frame = store.read_runs(columns)
    start = time.perf_counter()
    analysis.final_year(frame)
elif what == "warm":
    from experiments.runner import _prepare_report_reading
    _prepare_report_reading(store, store.read_manifest())
else:
    write_report(folder)
print(json.dumps({"seconds": time.perf_counter() - start}))
"""


def _seconds(folder: Path, what: str) -> tuple[float, float]:
    """Wall seconds of the timed step, and CPU seconds of the whole child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(
        [sys.executable, "-c", TIME, str(folder), what], capture_output=True, text=True, check=True
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return json.loads(out.stdout.strip().splitlines()[-1])["seconds"], cpu


def main() -> None:
    """Build the store, then print the reading and report times."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "store"
        subprocess.run([sys.executable, "-c", BUILD, str(folder)], check=True)
        files = len(list(folder.glob("runs/run_id=*/part.parquet")))
        size = sum(f.stat().st_size for f in folder.rglob("*.parquet")) / 2**20
        print(f"store: {files} runs of 520 weeks, {size:.0f} MiB (8 real runs, copied)")
        wall, cpu = {}, {}
        for what in ("loop", "read", "final_year", "report", "warm", "report_cached"):
            runs = []
            for _ in range(3):
                if what != "report_cached":  # everything else reads the run files
                    shutil.rmtree(folder / "cache", ignore_errors=True)
                if what == "report_cached" and not (folder / "cache").is_dir():
                    _seconds(folder, "warm")
                runs.append(_seconds(folder, what.removesuffix("_cached")))
            wall[what] = statistics.median(w for w, _ in runs)
            cpu[what] = statistics.median(c for _, c in runs)
        print(
            f"reading the report's columns: Store.read_runs (pyarrow.dataset, one call) "
            f"{wall['read']:.2f} s; per-file pandas loop {wall['loop']:.2f} s (median of 3; "
            f"CPU of the whole process incl. imports {cpu['read']:.1f} s vs {cpu['loop']:.1f} s)"
        )
        print(f"final_year on {files} runs: {wall['final_year']:.2f} s (median of 3)")
        for what, title in (
            ("report_cached", "after the sweep (its last step cached the report's columns)"),
            ("report", "with no cache (every run file read)"),
        ):
            ok = wall[what] < TARGET_S
            print(
                f"civic-sim report of {files} runs, {title}: {wall[what]:.2f} s median of 3, "
                f"process CPU {cpu[what]:.1f} s (target < {TARGET_S:.0f} s) -> "
                f"{'PASS' if ok else 'MISS'}"
            )
        print(
            f"the sweep's last step, reading and caching the report's columns: "
            f"{wall['warm']:.2f} s (median of 3)"
        )


if __name__ == "__main__":
    main()
