"""Exact reruns: ``civic-sim run --from DIR RUN_ID``, ``--seed S --replicate R``, and the
ordinary files every command writes (umask; a read-only folder)."""

from __future__ import annotations

import json
import os
import platform
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments import spec as specs
from experiments.reproduce import compare_runs
from experiments.runner import run_sweep

CLI = [sys.executable, "-m", "experiments.cli"]
SPEC = """
name = "again"
strategies = ["direct", "facilitator"]
replicates = 3
steps = 60
seed = 31337
[fixed]
residents = 150
[design]
type = "latin_hypercube"
samples = 2
[design.ranges]
civic_potential = [0.2, 0.8]
"""


@pytest.fixture(scope="module")
def sweep(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("again")
    (folder / "spec.toml").write_text(SPEC)
    out = folder / "out"
    summary = run_sweep(
        specs.load_spec(folder / "spec.toml"), str(out), executor="serial", progress=False
    )
    assert summary.done == 12
    return out


def cli(*args, cwd=None, umask=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        CLI + [str(a) for a in args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        preexec_fn=(lambda: os.umask(umask)) if umask is not None else None,
    )


def test_run_from_reproduces_a_stored_run_bit_for_bit(sweep, tmp_path):
    run_id = "p001-facilitator-r002"
    out_file = tmp_path / "again.parquet"
    done = cli("run", "--from", sweep, run_id, "--out", out_file, "--no-progress")
    assert done.returncode == 0, done.stderr
    assert "identical to the stored run, bit for bit: 60 weeks x" in done.stdout
    assert "replicate 2 of root entropy 31337" in done.stdout
    stored = pd.read_parquet(sweep / "runs" / f"run_id={run_id}" / "part.parquet")
    again = pd.read_parquet(out_file)
    pd.testing.assert_frame_equal(again, stored, check_exact=True)


def test_run_from_says_when_the_stored_result_differs(sweep, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(sweep, copy)
    path = copy / "runs" / "run_id=p000-direct-r000" / "part.parquet"
    frame = pd.read_parquet(path)
    frame.loc[10, "unmet_share"] += 1e-9  # one number, in the ninth decimal
    frame.to_parquet(path, index=False)
    done = cli("run", "--from", copy, "p000-direct-r000", "--no-progress")
    assert done.returncode == 1
    assert "DIFFERS from the stored run in 1 columns: unmet_share" in done.stderr


def _stored_copy(sweep, tmp_path, run_id):
    """A copy of the sweep folder, and the path and table of one of its stored runs."""
    copy = tmp_path / "copy"
    shutil.copytree(sweep, copy)
    path = copy / "runs" / f"run_id={run_id}" / "part.parquet"
    return copy, path, pd.read_parquet(path)


def test_run_from_tells_last_bit_differences_from_real_ones(sweep, tmp_path):
    """A float that differs in its last bits (as on another CPU) is the same run; a count
    or a float beyond 1e-12 is not."""
    copy, path, frame = _stored_copy(sweep, tmp_path, "p001-direct-r000")
    manifest = json.loads((copy / "manifest.json").read_text())
    assert manifest["versions"]["cpu"].startswith(platform.machine())
    share = frame["unmet_share"].to_numpy()
    frame["unmet_share"] = np.nextafter(share, 2.0)  # one unit in the last place, every week
    frame.to_parquet(path, index=False)
    done = cli("run", "--from", copy, "p001-direct-r000", "--no-progress")
    assert done.returncode == 0, done.stderr
    assert "the same events as the stored run (60 weeks x" in done.stdout
    assert "every count identical; 1 float columns differ only in their last bits" in done.stdout
    assert "unmet_share), as a run on another CPU or numpy/glibc build does (this machine: " in (
        done.stdout
    )
    count = next(c for c in frame.columns if pd.api.types.is_integer_dtype(frame[c]))
    frame.loc[5, count] += 1
    frame.to_parquet(path, index=False)
    done = cli("run", "--from", copy, "p001-direct-r000", "--no-progress")
    assert done.returncode == 1
    assert f"DIFFERS from the stored run in 1 columns: {count}" in done.stderr


def test_compare_runs_sorts_columns_into_identical_last_bits_and_different():
    stored = pd.DataFrame({"n": [1, 2], "x": [0.5, 0.0], "y": [1.0, 2.0], "z": [3.0, 4.0]})
    again = stored.assign(x=[np.nextafter(0.5, 1.0), 1e-300], z=[3.0, 4.0 + 1e-9])
    found = compare_runs(stored, again.drop(columns="n").assign(m=[1, 2]))
    assert found.differ == ["m", "n", "z"] and found.last_bits == ["x"]
    assert found.largest == pytest.approx(2.0**-52)  # one ulp of 0.5, relative
    assert compare_runs(stored, stored.copy()).identical


def test_run_seed_and_replicate_is_the_sweep_replicate(sweep, tmp_path):
    manifest = json.loads((sweep / "manifest.json").read_text())
    entry = manifest["runs"]["p000-direct-r001"]
    civic = entry["parameters"]["civic_potential"]
    common = [
        "run",
        "--strategy",
        "direct",
        "--residents",
        "150",
        "--steps",
        "60",
        "--set",
        f"civic_potential={civic!r}",
        "--no-progress",
    ]
    as_replicate = tmp_path / "r1.parquet"
    done = cli(*common, "--seed", "31337", "--replicate", "1", "--out", as_replicate)
    assert done.returncode == 0, done.stderr
    assert "as replicate 1 of a sweep with seed = 31337" in done.stdout
    stored = pd.read_parquet(sweep / entry["path"])
    mine = pd.read_parquet(as_replicate)
    expected = stored[mine.columns].reset_index(drop=True)
    pd.testing.assert_frame_equal(mine, expected, check_dtype=False, check_exact=True)
    # --seed alone is SeedSequence(S), as CivicModel(seed=S): another run (documented)
    plain = tmp_path / "plain.parquet"
    assert cli(*common, "--seed", "31337", "--out", plain).returncode == 0
    assert not pd.read_parquet(plain)["unmet_share"].equals(mine["unmet_share"])


@pytest.mark.parametrize(
    "args, message",
    [
        (["--from", "{sweep}", "p999-direct-r000"], "has no run 'p999-direct-r000'"),
        (["--from", "{sweep}", "p000-direct-r000", "--seed", "3"], "--seed cannot be combined"),
        (["--from", "/nonexistent", "x"], "is not a sweep folder"),
        (["--replicate", "2"], "--replicate needs --seed"),
    ],
)
def test_run_from_and_replicate_mistakes_are_one_line(sweep, args, message):
    done = cli("run", *[a.format(sweep=sweep) for a in args], "--no-progress")
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert message in done.stderr


# --- ordinary files ---------------------------------------------------------------------------
def _modes(folder: Path) -> dict[str, int]:
    return {
        str(p.relative_to(folder)): stat.S_IMODE(p.stat().st_mode)
        for p in folder.rglob("*")
        if p.is_file()
    }


@pytest.mark.parametrize("umask, expected", [(0o022, 0o644), (0o077, 0o600)])
def test_every_file_follows_the_umask(tmp_path, umask, expected):
    spec = tmp_path / "spec.toml"
    spec.write_text(SPEC.replace("replicates = 3", "replicates = 1").replace("60", "8"))
    out = tmp_path / "out"
    sweep = cli("sweep", spec, "--out", out, "--executor", "serial", "--no-progress", umask=umask)
    assert sweep.returncode == 0, sweep.stderr
    assert cli("report", out, umask=umask).returncode == 0
    for name in ("run.parquet", "run.csv"):
        done = cli(
            "run",
            "--residents",
            "60",
            "--steps",
            "3",
            "--seed",
            "1",
            "--out",
            tmp_path / name,
            "--no-progress",
            umask=umask,
        )
        assert done.returncode == 0, done.stderr
    modes = _modes(out) | {n: _modes(tmp_path)[n] for n in ("run.parquet", "run.csv")}
    kinds = {Path(name).suffix for name in modes}
    assert {".json", ".parquet", ".md", ".html", ".csv", ".png"} <= kinds
    wrong = {name: oct(mode) for name, mode in modes.items() if mode != expected}
    assert not wrong, f"umask {oct(umask)}: expected {oct(expected)}, got {wrong}"


def _read_only_command(folder: Path, *args) -> list[str]:
    """A command that sees ``folder`` read-only: a read-only bind mount in a private mount
    namespace when run as root (root ignores file modes), else the folder's mode."""
    command = CLI + [str(a) for a in args]
    if os.geteuid() != 0:
        folder.chmod(0o555)
        return command
    script = 'mount --bind "$0" "$0" && mount -o remount,ro,bind "$0" && exec "$@"'
    return [
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        script,
        str(folder),
        *command,
    ]


def test_report_on_a_read_only_folder_is_one_line_and_out_writes_elsewhere(sweep, tmp_path):
    if os.geteuid() == 0 and shutil.which("unshare") is None:
        pytest.skip("running as root without unshare: no way to make a folder read-only")
    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    shutil.copytree(sweep, folder / "sweep")
    target = folder / "sweep"
    probe = subprocess.run(_read_only_command(target, "list", "metrics"), capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"cannot make a read-only mount here: {probe.stderr.decode()[-200:]}")
    before = _modes(target)
    done = subprocess.run(
        _read_only_command(target, "report", target), capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "report: cannot write in" in done.stderr and "use --out DIR" in done.stderr
    elsewhere = tmp_path / "elsewhere"
    done = subprocess.run(
        _read_only_command(target, "report", target, "--out", elsewhere),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert (elsewhere / "report.html").is_file() and (elsewhere / "summary.csv").is_file()
    assert "figures/" in (elsewhere / "report.md").read_text()
    target.chmod(0o755)
    assert _modes(target) == before  # nothing was written in the sweep's folder
