"""Long sweeps on the process pool: a fresh pool per batch of runs, same data."""

from __future__ import annotations

import tomllib

import pandas as pd

from experiments import runner
from experiments import spec as specs
from experiments.store import Store

SPEC = """
name = "batches"
strategies = ["direct", "facilitator"]
replicates = 3
steps = 8
seed = 21
[fixed]
residents = 80
[design]
type = "points"
points = [{ scenario = "baseline" }, { scenario = "asset_rich" }]
"""


def test_batches_of_fresh_pools_give_the_serial_data(tmp_path, monkeypatch):
    spec = specs.parse_spec(tomllib.loads(SPEC))
    tasks = list(range(12))
    monkeypatch.setattr(runner, "WORKER_RUNS", 3)
    assert [len(b) for b in runner._batches(tasks, "processes", 2, None)] == [6, 6]
    assert runner._batches(tasks, "serial", 2, None) == [tasks]
    assert runner._batches(tasks, "processes", 2, "local") == [tasks]
    batched = runner.run_sweep(
        spec, str(tmp_path / "pool"), executor="processes", workers=2, progress=False
    )
    serial = runner.run_sweep(spec, str(tmp_path / "serial"), executor="serial", progress=False)
    assert batched.done == serial.done == 12 and not batched.failed

    def table(folder):
        frame = Store(folder).read_runs()
        return frame.sort_values(["run_id", "step"]).reset_index(drop=True)

    pd.testing.assert_frame_equal(table(tmp_path / "pool"), table(tmp_path / "serial"))
