"""The batch runner: paired seeding, resume after a kill, executors agree, failures isolated."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import socket
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

    # the killed sweep's lock is left behind: reported as stale, cleared only on request
    refused = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1, refused.stderr
    assert "stale lock" in refused.stderr and "--clear-stale-lock" in refused.stderr
    assert f"pid {proc.pid} on host" in refused.stderr
    rerun = subprocess.run(
        cmd + ["--clear-stale-lock"], capture_output=True, text=True, timeout=300
    )
    assert rerun.returncode == 0, rerun.stderr
    assert f"{N_RUNS} runs" in rerun.stdout
    already = int(rerun.stdout.split(" already done")[0].split()[-1])
    assert already >= done_before
    said = rerun.stderr.splitlines()
    assert said[0].startswith(f"civic-sim: cleared a stale lock (pid {proc.pid} on host")
    assert said[1] == f"civic-sim: resuming: {already} of {N_RUNS} runs already stored"
    assert not (out / "sweep.lock").exists()
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


def test_a_changed_spec_is_refused_naming_the_fields_that_differ(tmp_path, capsys):
    from experiments.cli import main

    text = 'name = "x"\nreplicates = 2\nsteps = 2\nseed = 1\n[fixed]\nresidents = 50\n'
    spec_path = write_spec(tmp_path, text)
    out = tmp_path / "out"
    argv = ["sweep", str(spec_path), "--out", str(out), "--executor", "serial", "--no-progress"]
    assert main(argv) == 0
    capsys.readouterr()
    before = (out / "manifest.json").read_bytes()
    write_spec(tmp_path, text.replace("steps = 2", "steps = 3").replace("= 50", "= 60"))
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "holds a different experiment" in err
    assert "spec.steps (stored 2, now 3)" in err
    assert "spec.fixed.residents (stored 50, now 60)" in err
    write_spec(tmp_path, text.replace("replicates = 2", "replicates = 1"))
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "spec.replicates (stored 2, now 1" in err and "not removed" in err
    assert (out / "manifest.json").read_bytes() == before  # nothing was written
    # a change that does not touch the numbers is taken
    write_spec(tmp_path, text.replace('name = "x"', 'name = "x"\ndescription = "now with words"'))
    assert main(argv) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["spec"]["description"] == "now with words"


def test_replicates_added_to_a_finished_experiment_run_only_the_new_ones(tmp_path, capsys):
    from experiments.cli import main

    text = (
        'name = "grow"\nstrategies = ["direct", "facilitator"]\nreplicates = 2\nsteps = 20\n'
        "seed = 77\n[fixed]\nresidents = 80\n"
    )
    out = tmp_path / "out"
    spec_path = write_spec(tmp_path, text)
    argv = ["sweep", str(spec_path), "--out", str(out), "--executor", "serial", "--no-progress"]
    assert main(argv) == 0
    capsys.readouterr()
    first = {p: p.stat().st_mtime_ns for p in (out / "runs").glob("*/part.parquet")}
    assert len(first) == 4
    write_spec(tmp_path, text.replace("replicates = 2", "replicates = 3"))
    assert main(argv) == 0
    said = capsys.readouterr()
    assert "2 done now, 4 already done" in said.out
    assert "resuming: 4 of 6 runs already stored" in said.err
    assert "adding replicates: 2 -> 3" in said.err
    for path, mtime in first.items():
        assert path.stat().st_mtime_ns == mtime  # the old runs were not touched
    # the grown experiment equals one planned with three replicates from the start
    fresh = tmp_path / "fresh"
    assert (
        main(
            ["sweep", str(spec_path), "--out", str(fresh), "--executor", "serial", "--no-progress"]
        )
        == 0
    )
    pd.testing.assert_frame_equal(sorted_runs(out), sorted_runs(fresh))
    ids = json.loads((out / "manifest.json").read_text())["runs"]
    assert sorted(ids) == sorted(json.loads((fresh / "manifest.json").read_text())["runs"])


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
        "civic_potential = [0.2, 0.8]\nlocal_ties = [1, 5]\n"
    )
    spec = specs.load_spec(write_spec(tmp_path, text))
    out = tmp_path / "out"
    run_sweep(spec, str(out), executor="serial", progress=False)
    frame = sorted_runs(out)
    meta = ["run_id", "point", "point_label", "strategy", "scenario", "replicate"]
    params = ["param_civic_potential", "param_local_ties", "param_residents"]
    assert list(frame.columns) == meta + params + ["step", "unmet_share", "active_volunteers"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["design_seed"] == specs.design_seed(spec, 5)
    for point in manifest["points"]:
        rows = frame[frame.point == point["index"]]
        assert len(rows) == 2 * 3
        assert (rows.param_civic_potential == point["values"]["civic_potential"]).all()
        assert (rows.param_local_ties == point["values"]["local_ties"]).all()
        assert 0.2 <= point["values"]["civic_potential"] <= 0.8
    assert frame["param_local_ties"].dtype == np.int64 and frame["step"].dtype == np.int64


# --- interruption: Ctrl-C, a second Ctrl-C, SIGKILL of the parent ---------------------------
def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (read from /proc)."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2 :].split()
        parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    out, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def _stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def processes(pids: list[int]) -> list[tuple[int, str]]:
    """The processes as (pid, start tick), so a pid reused later is not mistaken."""
    return [(pid, stat[19]) for pid in pids if (stat := _stat(pid)) is not None]


def running(process: tuple[int, str]) -> bool:
    stat = _stat(process[0])
    return stat is not None and stat[19] == process[1] and stat[0] != "Z"


def still_running(children: list[tuple[int, str]], seconds: float = 5.0) -> list[int]:
    """The children still running after waiting up to ``seconds`` for them to end."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and any(running(c) for c in children):
        time.sleep(0.05)
    return [c[0] for c in children if running(c)]


def start_sweep(spec_path: Path, out: Path, *extra: str) -> subprocess.Popen:
    cmd = CLI + ["sweep", str(spec_path), "--out", str(out), "--workers", "2", "--no-progress"]
    return subprocess.Popen(
        cmd + list(extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal job
    )


def wait_for_runs(proc: subprocess.Popen, out: Path, n: int) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and proc.poll() is None:
        if len(list((out / "runs").glob("*/part.parquet"))) >= n:
            return
        time.sleep(0.02)
    raise AssertionError(f"the sweep ended (or stalled) before {n} runs were stored")


def stored_done(out: Path) -> tuple[int, int]:
    manifest = json.loads((out / "manifest.json").read_text())
    done = sum(r["status"] == "done" for r in manifest["runs"].values())
    return done, len(list((out / "runs").glob("*/part.parquet")))


pytestmark_linux = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")


@pytestmark_linux
def test_first_ctrl_c_stops_within_about_a_second_and_keeps_finished_runs(tmp_path, reference):
    spec_path = write_spec(tmp_path, SWEEP_SPEC)
    out = tmp_path / "out"
    proc = start_sweep(spec_path, out)
    wait_for_runs(proc, out, 3)
    children = processes(descendants(proc.pid))
    assert len(children) >= 2  # the workers (and multiprocessing's resource tracker)
    pressed = time.monotonic()
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal sends on Ctrl-C: the whole job
    _, err = proc.communicate(timeout=60)
    took = time.monotonic() - pressed
    assert proc.returncode == 130, err
    # about a second: one of grace for runs in progress, then the workers are ended
    # (measured 0.4-1.6 s on 2 cores shared with other jobs)
    assert took < 4.0, f"stopping took {took:.1f} s"
    assert "Traceback" not in err and "KeyboardInterrupt" not in err and "leaked" not in err
    lines = err.splitlines()
    assert lines[0].startswith("civic-sim: stopping: no new runs start")
    done, files = stored_done(out)
    assert done == files and 3 <= done < N_RUNS
    assert lines[-1].startswith(f"sweep resume interrupted: {done} of {N_RUNS} runs stored")
    assert not still_running(children)  # within a moment of the command's end
    assert not (out / "sweep.lock").exists()

    # the rerun says so up front, and ends with the uninterrupted data
    rerun = subprocess.run(
        CLI + ["sweep", str(spec_path), "--out", str(out), "--no-progress"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert rerun.returncode == 0, rerun.stderr
    assert rerun.stderr.splitlines()[0] == (
        f"civic-sim: resuming: {done} of {N_RUNS} runs already stored"
    )
    pd.testing.assert_frame_equal(sorted_runs(out), reference)


@pytestmark_linux
def test_a_second_ctrl_c_quits_at_once_without_a_traceback(tmp_path):
    spec_path = write_spec(tmp_path, SWEEP_SPEC)
    out = tmp_path / "out"
    proc = start_sweep(spec_path, out)
    wait_for_runs(proc, out, 2)
    children = processes(descendants(proc.pid))
    os.killpg(proc.pid, signal.SIGINT)
    time.sleep(0.2)
    pressed = time.monotonic()
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    took = time.monotonic() - pressed
    assert proc.returncode == 130, err
    assert took < 3.0, f"quitting took {took:.1f} s"
    assert err.splitlines() == [
        "civic-sim: stopping: no new runs start; finished runs are kept (press Ctrl-C again "
        "to quit at once)",
        "civic-sim: interrupted again: quitting now; finished runs are kept, rerun the same "
        "command to resume",
    ]
    assert not still_running(children)
    assert not (out / "sweep.lock").exists()
    done, files = stored_done(out)  # the manifest is whole and matches the files
    assert done <= files and done >= 2


@pytestmark_linux
def test_workers_die_with_a_killed_parent(tmp_path):
    spec_path = write_spec(tmp_path, SWEEP_SPEC)
    out = tmp_path / "out"
    proc = start_sweep(spec_path, out)
    try:
        wait_for_runs(proc, out, 1)
        children = processes(descendants(proc.pid))
        assert len(children) >= 2
        killed = time.monotonic()
        os.kill(proc.pid, signal.SIGKILL)  # the parent only, not its process group
        proc.wait(timeout=30)
        alive = still_running(children, 10.0)  # measured: gone within 0.1 s
        assert not alive, f"still running {time.monotonic() - killed:.1f} s later: {alive}"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=30)


# --- one writer per folder --------------------------------------------------------------------
SEEDLESS_SPEC = """
name = "two_writers"
strategies = ["direct", "facilitator"]
replicates = 3
steps = 520
[fixed]
residents = 300
"""
# Long enough (several seconds of runs) that the two sweeps certainly overlap even on a loaded
# machine: with a short sweep the first could finish before the second started, and the
# second would then find a finished folder and rightly succeed.


def _first_to_exit(procs: list[subprocess.Popen], timeout: float) -> subprocess.Popen:
    """The first of ``procs`` to exit (polling), within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for p in procs:
            if p.poll() is not None:
                return p
        time.sleep(0.05)
    raise AssertionError(f"neither sweep exited within {timeout} s")


def test_two_sweeps_started_at_once_into_one_folder_one_is_refused(tmp_path):
    spec_path = write_spec(tmp_path, SEEDLESS_SPEC)  # fresh entropy: the case that corrupted
    out = tmp_path / "out"
    cmd = CLI + [
        "sweep",
        str(spec_path),
        "--out",
        str(out),
        "--executor",
        "serial",
        "--no-progress",
    ]
    procs = [
        subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    try:
        # the refused sweep exits within seconds, while the winner is still running
        finished = _first_to_exit(procs, timeout=120)
        loser_out, loser_err = finished.communicate(timeout=30)
        winner = next(p for p in procs if p is not finished)
        assert winner.poll() is None, "the sweeps did not overlap: make the spec longer"
        winner.communicate(timeout=300)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.communicate(timeout=30)
    assert finished.returncode == 2, loser_err
    assert winner.returncode == 0
    err = loser_err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "is being written by another sweep" in err
    assert f"pid {winner.pid} on host" in err and "started" in err
    manifest = json.loads((out / "manifest.json").read_text())
    assert all(r["status"] == "done" for r in manifest["runs"].values())
    # every stored run is the one the manifest's entropy gives
    from experiments.runner import execute_run

    spec = specs.load_spec(spec_path)
    points = [p["values"] for p in manifest["points"]]
    for task in plan_runs(spec, int(manifest["root_entropy"]), points)[::3]:  # one per 3
        stored = pd.read_parquet(out / manifest["runs"][task.run_id]["path"])
        again = execute_run(task).frame
        np.testing.assert_array_equal(stored["unmet_share"], again["unmet_share"], task.run_id)
    assert not (out / "sweep.lock").exists()


def test_a_live_lock_is_never_cleared(tmp_path):
    from experiments.lock import FolderLock, LockError

    first = FolderLock(tmp_path / "out")
    first.acquire()
    try:
        for clear in (False, True):
            with pytest.raises(LockError, match="being written by another sweep .pid"):
                FolderLock(tmp_path / "out", clear_stale=clear).acquire()
        holder = FolderLock(tmp_path / "out").holder()
        assert holder.pid == os.getpid() and not holder.is_stale()
    finally:
        first.release()
    assert not (tmp_path / "out" / "sweep.lock").exists()


def test_a_lock_from_a_reused_pid_or_another_boot_is_stale(tmp_path):
    from experiments.lock import Holder

    here = Holder(pid=os.getpid(), host=socket.gethostname(), started="then")
    assert here.is_stale() is False
    # the same pid, but a process that started at another time: the pid was reused
    reused = Holder(pid=os.getpid(), host=here.host, started="then", start_tick=1)
    assert reused.is_stale() is True
    rebooted = Holder(pid=os.getpid(), host=here.host, started="then", boot_id="another")
    assert rebooted.is_stale() is True
    elsewhere = Holder(pid=1, host=here.host + "-elsewhere", started="then")
    assert elsewhere.is_stale() is None


# --- plugins are part of the recorded model ---------------------------------------------------
EDITABLE_PLUGIN = '''
"""A strategy whose safety net is a module constant (edited between kill and resume)."""
from model.strategies import SpendPlan, Strategy, register_strategy

SAFETY = {safety}


@register_strategy
class Netted(Strategy):
    name = "netted"
    title = "Netted"
    description = "A safety net set in the plugin; coordinators with the rest."

    def plan(self, model, budget):
        return SpendPlan(
            paid_care=budget * SAFETY, eligibility_floor=4, coordinators=budget * (1 - SAFETY)
        )
'''
PLUGIN_SPEC = """
name = "plugin_resume"
strategies = ["direct", "netted"]
replicates = 8
steps = 150
seed = 99
plugins = ["netted.py"]
[fixed]
residents = 200
"""


@pytestmark_linux
def test_a_plugin_edited_between_kill_and_resume_is_not_mixed_in(tmp_path):
    plugin = tmp_path / "netted.py"
    plugin.write_text(EDITABLE_PLUGIN.format(safety=0.5))
    spec_path = write_spec(tmp_path, PLUGIN_SPEC)
    out = tmp_path / "out"
    proc = start_sweep(spec_path, out)
    try:
        wait_for_runs(proc, out, 2)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=30)
    before = json.loads((out / "manifest.json").read_text())
    done_before = [k for k, r in before["runs"].items() if r["status"] == "done"]
    assert 0 < len(done_before) < 16
    recorded = {Path(p["name"]).name: p["sha256"] for p in before["plugins"]}
    assert recorded["netted.py"] == hashlib.sha256(plugin.read_bytes()).hexdigest()

    plugin.write_text(EDITABLE_PLUGIN.format(safety=0.6))  # the student edits the rule
    cmd = CLI + ["sweep", str(spec_path), "--out", str(out), "--executor", "serial"]
    cmd += ["--no-progress", "--clear-stale-lock"]
    refused = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    err = refused.stderr.splitlines()[-1]
    assert f"{len(done_before)} finished runs" in err and "another version of the model" in err
    assert "plugin netted.py changed (sha256" in err and "--rerun-changed" in err
    assert json.loads((out / "manifest.json").read_text())["runs"] == before["runs"]

    again = subprocess.run(cmd + ["--rerun-changed"], capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    assert "16 done now, 0 already done" in again.stdout
    assert f"kept {len(done_before)} runs of model {before['model_fingerprint']} aside" in (
        again.stderr
    )
    after = json.loads((out / "manifest.json").read_text())
    assert len({r["model_fingerprint"] for r in after["runs"].values()}) == 1
    assert after["model_fingerprint"] != before["model_fingerprint"]
    kept = out / "superseded" / before["model_fingerprint"]
    assert sorted(p.parent.name.removeprefix("run_id=") for p in kept.glob("*/part.parquet")) == (
        sorted(done_before)
    )
    assert {s["run_id"] for s in after["superseded"]} == set(done_before)


def test_after_a_stop_runs_that_finish_within_the_grace_are_kept():
    from concurrent.futures import ThreadPoolExecutor

    from experiments import executors

    interrupt = executors.Interrupt(lambda line: None, lambda: None)

    def job(seconds):
        time.sleep(seconds)
        return seconds

    pool = ThreadPoolExecutor(max_workers=3)
    try:
        started = time.monotonic()
        stream = executors.results(pool, [0.05, 0.6, 4.0], job, interrupt, lambda t, e: None)
        first = next(stream)
        interrupt.requested_at = time.monotonic()  # Ctrl-C after the first run finished
        rest = list(stream)
        took = time.monotonic() - started
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    assert first == 0.05
    assert rest == [0.6]  # finished within the grace; the 4-second run is dropped
    assert took < executors.GRACE_SECONDS + 0.6


def test_a_stop_ends_a_run_in_this_process_after_the_grace():
    from experiments import executors

    interrupt = executors.Interrupt(lambda line: None, lambda: None)
    weeks = []

    def execute(task, check):
        for week in range(10_000):
            if week == 3:
                interrupt.requested_at = time.monotonic() - executors.GRACE_SECONDS
            check()
            weeks.append(week)
        return task

    assert list(executors.results(None, ["a", "b"], execute, interrupt, None)) == []
    assert weeks == [0, 1, 2]  # stopped in the week the grace ran out; "b" never started
