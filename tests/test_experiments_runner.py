"""The batch runner: paired seeding, resume after a kill, executors agree, failures isolated."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments import spec as specs
from experiments.runner import build_model, plan_runs, run_sweep
from experiments.store import Store

CLI = [sys.executable, "-m", "experiments.cli"]
SWEEP_SPEC = """
name = "resume"
strategies = ["direct", "facilitator"]
replicates = 10
steps = 150
seed = 4242
[fixed]
residents = 200
[design]
type = "points"
points = [{ scenario = "baseline" }]
"""
N_RUNS = 20


def sorted_runs(folder: Path) -> pd.DataFrame:
    frame = Store(folder).read_runs()
    return frame.sort_values(["run_id", "step"]).reset_index(drop=True)


def write_spec(folder: Path, text: str, name: str = "spec.toml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The uninterrupted sweep, serial, in this process."""
    folder = tmp_path_factory.mktemp("reference")
    spec = specs.load_spec(write_spec(folder, SWEEP_SPEC))
    summary = run_sweep(spec, str(folder / "out"), executor="serial", progress=False)
    assert summary.done == N_RUNS and not summary.failed
    return sorted_runs(folder / "out")


def test_replicates_share_population_and_shocks_across_strategies():
    spec = specs.parse_spec(
        tomllib.loads(
            'strategies = ["direct", "facilitator"]\nreplicates = 2\nsteps = 1\n'
            "[fixed]\nresidents = 3000\n"
        )
    )
    tasks = {(t.strategy, t.replicate): t for t in plan_runs(spec, 77, [{}])}
    assert tasks[("direct", 1)].spawn_key == tasks[("facilitator", 1)].spawn_key == (1,)
    models = {key: build_model(task) for key, task in tasks.items()}

    def people(model):
        r = model.residents
        live = r.live[np.argsort(r.person_id[r.live])]
        return {c: getattr(r, c)[live].copy() for c in ("person_id", "age", "x", "y", "level")}

    before = {key: people(m) for key, m in models.items()}
    for r in (0, 1):
        for column, values in before[("direct", r)].items():
            np.testing.assert_array_equal(values, before[("facilitator", r)][column], column)
    # another replicate is another population
    assert not np.array_equal(before[("direct", 0)]["age"], before[("direct", 1)]["age"])

    for m in models.values():
        m.step()
    for r in (0, 1):
        d, f = models[("direct", r)], models[("facilitator", r)]
        assert d.week.deaths == f.week.deaths and d.week.arrivals == f.week.arrivals
        dead_d = set(before[("direct", r)]["person_id"]) - set(people(d)["person_id"])
        dead_f = set(before[("facilitator", r)]["person_id"]) - set(people(f)["person_id"])
        assert dead_d == dead_f and len(dead_d) == d.week.deaths
        after_d, after_f = people(d), people(f)
        arrived_d = np.isin(after_d["person_id"], before[("direct", r)]["person_id"], invert=True)
        arrived_f = np.isin(
            after_f["person_id"], before[("facilitator", r)]["person_id"], invert=True
        )
        np.testing.assert_array_equal(after_d["age"][arrived_d], after_f["age"][arrived_f])
    assert models[("direct", 0)].week.deaths + models[("direct", 1)].week.deaths > 0


def test_resume_after_sigkill_gives_the_uninterrupted_data(tmp_path, reference):
    spec_path = write_spec(tmp_path, SWEEP_SPEC)
    out = tmp_path / "out"
    cmd = CLI + ["sweep", str(spec_path), "--out", str(out), "--workers", "2", "--no-progress"]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if len(list((out / "runs").glob("*/part.parquet"))) >= 3:
                break
            time.sleep(0.02)
        assert proc.poll() is None, "the sweep ended before it could be killed"
        os.killpg(proc.pid, signal.SIGKILL)  # the sweep and its worker processes
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
    manifest = json.loads((out / "manifest.json").read_text())  # never half-written
    done_before = sum(r["status"] == "done" for r in manifest["runs"].values())
    assert 0 < done_before < N_RUNS

    rerun = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert f"{N_RUNS} runs" in rerun.stdout
    already = int(rerun.stdout.split(" already done")[0].split()[-1])
    assert already >= done_before
    manifest = json.loads((out / "manifest.json").read_text())
    assert all(r["status"] == "done" for r in manifest["runs"].values())
    assert len(manifest["runs"]) == N_RUNS
    resumed = sorted_runs(out)
    assert len(resumed) == N_RUNS * 150
    pd.testing.assert_frame_equal(resumed, reference)

    # a third invocation has nothing to do and changes nothing
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and f"{N_RUNS} already done" in again.stdout
    pd.testing.assert_frame_equal(sorted_runs(out), reference)


def test_dask_local_cluster_gives_the_same_data(tmp_path, reference):
    spec_path = write_spec(tmp_path, SWEEP_SPEC)
    out = tmp_path / "out"
    proc = subprocess.run(
        CLI + ["sweep", str(spec_path), "--out", str(out), "--dask", "local", "--workers", "2"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["executor"] == "dask local"
    pd.testing.assert_frame_equal(sorted_runs(out), reference)


FLAKY_PLUGIN = '''
"""A strategy that fails in week 3 (to test that one failing run is isolated)."""
from model.strategies import DirectDelivery, register_strategy


@register_strategy
class Flaky(DirectDelivery):
    name = "flaky"
    title = "Flaky"
    description = "Direct delivery that raises in week 3."

    def after_week(self, model):
        if model.steps == 3:
            raise RuntimeError("flaky strategy broke in week 3")
'''


@pytest.mark.parametrize("how", ["spec", "cli"])
def test_a_failing_run_is_recorded_and_the_others_finish(tmp_path, how):
    (tmp_path / "flaky_plugin.py").write_text(FLAKY_PLUGIN)
    plugins = 'plugins = ["flaky_plugin.py"]\n' if how == "spec" else ""
    spec_path = write_spec(
        tmp_path,
        'name = "flaky"\nstrategies = ["direct", "flaky"]\nreplicates = 2\nsteps = 6\n'
        f"seed = 3\n{plugins}[fixed]\nresidents = 100\n",
    )
    out = tmp_path / "out"
    cmd = CLI + (["--plugin", str(tmp_path / "flaky_plugin.py")] if how == "cli" else [])
    cmd += ["sweep", str(spec_path), "--out", str(out), "--workers", "2", "--no-progress"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stderr
    assert "2 done now" in proc.stdout and "2 failed" in proc.stdout
    assert "failed runs:" in proc.stderr and "Traceback" not in proc.stderr
    runs = json.loads((out / "manifest.json").read_text())["runs"]
    for run in runs.values():
        if run["strategy"] == "flaky":
            assert run["status"] == "failed"
            assert "RuntimeError: flaky strategy broke in week 3" in run["traceback"]
            assert not (out / run["path"]).exists()
        else:
            assert run["status"] == "done" and run["traceback"] is None
            assert len(pd.read_parquet(out / run["path"])) == 6
    if how == "cli":
        return
    # rerunning retries only the failed runs
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert again.returncode == 1
    assert "2 already done" in again.stdout and "2 failed" in again.stdout


def test_a_changed_spec_does_not_mix_into_an_old_folder(tmp_path, capsys):
    from experiments.cli import main

    text = 'name = "x"\nreplicates = 1\nsteps = 2\nseed = 1\n[fixed]\nresidents = 50\n'
    spec_path = write_spec(tmp_path, text)
    out = tmp_path / "out"
    argv = ["sweep", str(spec_path), "--out", str(out), "--executor", "serial", "--no-progress"]
    assert main(argv) == 0
    capsys.readouterr()
    write_spec(tmp_path, text.replace("replicates = 1", "replicates = 2"))
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "holds a different experiment" in err and err.count("\n") == 1


def test_fresh_root_entropy_is_recorded_and_reused(tmp_path):
    text = 'name = "fresh"\nreplicates = 2\nsteps = 2\n[fixed]\nresidents = 50\n'
    spec = specs.load_spec(write_spec(tmp_path, text))
    out = tmp_path / "out"
    run_sweep(spec, str(out), executor="serial", progress=False)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["root_entropy_source"] == "fresh" and manifest["root_entropy"] > 2**64
    run = manifest["runs"]["p000-direct-r001"]
    assert run["spawn_key"] == [1] and run["parameters"]["residents"] == 50
    assert set(manifest["versions"]) >= {"mesa", "numpy", "pandas", "civic-sim"}
    assert "git_commit" in manifest and isinstance(run["wall_time"], float)
    # a rerun reuses the recorded entropy (and therefore skips everything)
    summary = run_sweep(spec, str(out), executor="serial", progress=False)
    assert summary.skipped == 2 and summary.done == 0
    assert (
        json.loads((out / "manifest.json").read_text())["root_entropy"] == manifest["root_entropy"]
    )


def test_runs_of_another_model_version_are_not_mixed_in(tmp_path):
    text = 'name = "versions"\nreplicates = 2\nsteps = 3\nseed = 8\n[fixed]\nresidents = 50\n'
    spec_path = write_spec(tmp_path, text)
    out = tmp_path / "out"
    run_sweep(specs.load_spec(spec_path), str(out), executor="serial", progress=False)
    manifest_path = out / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    now = manifest["model_fingerprint"]
    assert all(r["model_fingerprint"] == now for r in manifest["runs"].values())
    # pretend one run was made before a change to the model
    manifest["runs"]["p000-direct-r001"]["model_fingerprint"] = "0123456789abcdef"
    manifest_path.write_text(json.dumps(manifest))
    cmd = CLI + ["sweep", str(spec_path), "--out", str(out), "--no-progress"]
    refused = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "1 finished runs" in refused.stderr and "another version of the model" in refused.stderr
    assert "--rerun-changed" in refused.stderr
    again = subprocess.run(cmd + ["--rerun-changed"], capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert "1 done now, 1 already done" in again.stdout
    runs = json.loads(manifest_path.read_text())["runs"].values()
    assert all(r["model_fingerprint"] == now for r in runs)


def test_store_keeps_chosen_metrics_and_parameter_columns(tmp_path):
    text = (
        'name = "lhs"\nstrategies = ["direct", "hybrid"]\nreplicates = 1\nsteps = 3\nseed = 5\n'
        'metrics = ["unmet_share", "active_volunteers"]\n[fixed]\nresidents = 60\n'
        '[design]\ntype = "latin_hypercube"\nsamples = 3\n[design.ranges]\n'
        "civic_potential = [0.2, 0.8]\nactivity_places = [1, 5]\n"
    )
    spec = specs.load_spec(write_spec(tmp_path, text))
    out = tmp_path / "out"
    run_sweep(spec, str(out), executor="serial", progress=False)
    frame = sorted_runs(out)
    meta = ["run_id", "point", "point_label", "strategy", "scenario", "replicate"]
    params = ["param_civic_potential", "param_activity_places", "param_residents"]
    assert list(frame.columns) == meta + params + ["step", "unmet_share", "active_volunteers"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["design_seed"] == specs.design_seed(spec, 5)
    for point in manifest["points"]:
        rows = frame[frame.point == point["index"]]
        assert len(rows) == 2 * 3
        assert (rows.param_civic_potential == point["values"]["civic_potential"]).all()
        assert (rows.param_activity_places == point["values"]["activity_places"]).all()
        assert 0.2 <= point["values"]["civic_potential"] <= 0.8
    assert frame["param_activity_places"].dtype == np.int64 and frame["step"].dtype == np.int64
