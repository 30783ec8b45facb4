"""The civic-sim command line: run, list, and one clear line for every bad input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from experiments.cli import main
from model.civic_model import CivicModel

CLI = [sys.executable, "-m", "experiments.cli"]


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_run_writes_metrics_and_prints_first_and_last_year(tmp_path, capsys):
    out = tmp_path / "run.parquet"
    code, stdout, stderr = run_cli(
        capsys,
        *("run", "--strategy", "facilitator", "--scenario", "asset_rich"),
        *("--residents", "200", "--steps", "70", "--seed", "5"),
        *("--set", "budget_scale=1.2", "--out", str(out), "--check"),
    )
    assert code == 0, stderr
    frame = pd.read_parquet(out)
    assert len(frame) == 70
    assert frame["step"].tolist() == list(range(1, 71))
    # the same run made directly through the model API gives the same table
    direct = CivicModel(
        strategy="facilitator", scenario="asset_rich", residents=200, seed=5, budget_scale=1.2
    ).run(70)
    pd.testing.assert_frame_equal(frame, direct, check_dtype=False)
    # the printed table holds the first- and last-year means of the file
    lines = {line.split("  ")[0].strip(): line.split() for line in stdout.splitlines()}
    unmet = lines["Unmet share of needed hours"]
    assert float(unmet[-2]) == pytest.approx(frame["unmet_share"].head(52).mean(), abs=6e-4)
    assert float(unmet[-1]) == pytest.approx(frame["unmet_share"].tail(52).mean(), abs=6e-4)
    vols = lines["Active volunteers"]
    assert float(vols[-1].replace(",", "")) == pytest.approx(
        frame["active_volunteers"].tail(52).mean(), abs=0.51
    )
    assert "70/70" in stderr  # the progress bar went to stderr


def test_set_may_name_strategy_scenario_and_seed(capsys):
    code, out, err = run_cli(
        capsys,
        *("run", "--residents", "60", "--steps", "2", "--no-progress"),
        *("--set", "strategy=hybrid", "--set", "scenario=austerity", "--set", "seed=11"),
    )
    assert code == 0, err
    assert out.startswith("hybrid / austerity, 60 residents, 2 weeks, seed 11")


def test_run_writes_csv(tmp_path, capsys):
    out = tmp_path / "sub" / "run.csv"
    code, _, stderr = run_cli(
        capsys, "run", "--residents", "100", "--steps", "5", "--seed", "1", "--out", str(out)
    )
    assert code == 0, stderr
    frame = pd.read_csv(out)
    assert len(frame) == 5 and "unmet_share" in frame.columns


def test_list_shows_everything(capsys):
    from model.metrics import metric_names
    from model.parameters import PARAMETER_FIELDS
    from model.scenarios import scenario_names
    from model.strategies import strategy_classes

    code, out, _ = run_cli(capsys, "list")
    assert code == 0
    for name, cls in strategy_classes().items():
        assert name in out and cls.title in out
    for name in scenario_names():
        assert name in out
    assert "civic_potential=0.8" in out  # what asset_rich sets
    for name in PARAMETER_FIELDS:
        assert name in out
    assert "a number from 0 to 1" in out  # the allowed range of civic_potential
    for name in metric_names():
        assert name in out


def test_list_parameters_shows_each_source_or_invented_range(capsys):
    from model.parameters import PARAMETER_FIELDS

    code, out, _ = run_cli(capsys, "list", "parameters")
    assert code == 0
    assert out.count("source: ") == len(PARAMETER_FIELDS)
    flat = " ".join(out.split())
    assert "source: Perissinotto, Stijacic Cenzer & Covinsky 2012" in flat  # loneliness
    assert "source: Huss et al. 2008" in flat  # prevention
    assert "source: invented, informed by evidence; plausible 0.14-0.96" in flat  # unmet need
    # the declared plausible range, for the parameters that have one
    assert "kind: data; plausible 0.23 to 1.07 (the 95% CI of Perissinotto" in flat
    assert "kind: invented; plausible 2 to 14 (a DBS check" in flat  # pipeline weeks


def test_list_one_section(capsys):
    code, out, _ = run_cli(capsys, "list", "scenarios")
    assert code == 0
    assert "austerity" in out and "Parameters" not in out and "Metrics" not in out


BAD_INPUTS = [
    (["run", "--strategy", "nope"], "strategy"),
    (["run", "--scenario", "nope"], "scenario"),
    (["run", "--set", "nope=1"], "nope"),
    (["run", "--set", "civic_potential=1.5"], "civic_potential"),
    (["run", "--set", "residents=many"], "residents"),
    (["run", "--set", "civic_potential"], "--set"),
    (["run", "--set", "=3"], "--set"),
    (["run", "--residents", "5"], "residents"),
    (["run", "--residents", "lots"], "residents"),
    (["run", "--steps", "abc"], "--steps"),
    (["run", "--steps", "0"], "--steps"),
    (["run", "--out", "metrics.txt"], "--out"),
    (["run", "--out", "/proc/no/such/dir/run.csv"], "--out"),
    (["sweep", "experiments/specs/tiny.toml", "--out", "/proc/tiny"], "--out"),
    (["run", "--set", "share_coordinators=0.9"], "share_coordinators"),
    (["list", "things"], "things"),
    (["frobnicate"], "frobnicate"),
    ([], "command"),
    (["sweep", "/nonexistent/spec.toml"], "spec"),
    (["sweep", "experiments/specs/tiny.toml", "--executor", "threads"], "--executor"),
    (["sweep", "experiments/specs/tiny.toml", "--dask", "nowhere"], "--dask"),
    (["sweep", "experiments/specs/tiny.toml", "--workers", "0"], "--workers"),
    (["report", "/nonexistent/folder"], "report"),
    (["report", "/tmp", "--threshold", "2"], "--threshold"),
    (["--plugin", "no_such_plugin_module", "list"], "no_such_plugin_module"),
    (["list", "--plugin", "/nonexistent/plugin.py"], "plugin"),
]


@pytest.mark.parametrize("argv, field", BAD_INPUTS, ids=[" ".join(a) for a, _ in BAD_INPUTS])
def test_bad_input_is_one_line_and_exit_2(argv, field, capsys, monkeypatch):
    monkeypatch.chdir(Path(__file__).resolve().parent.parent)
    code, out, err = run_cli(capsys, *argv)
    assert code == 2
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert "Traceback" not in err
    assert err.startswith("civic-sim: error: ")
    assert field in err


def test_bad_spec_field_is_named(tmp_path, capsys):
    spec = tmp_path / "bad.toml"
    spec.write_text('name = "bad"\n[design]\ntype = "latin_hypercube"\nsamples = 3\n'
                    "[design.ranges]\ncivic_potential = [0.1, 1.5]\n")  # fmt: skip
    code, _, err = run_cli(capsys, "sweep", str(spec), "--out", str(tmp_path / "out"))
    assert code == 2
    assert err.count("\n") == 1
    assert "spec.design.ranges.civic_potential[1]: must be a number from 0 to 1" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "argv, field",
    [
        (["run", "--strategy", "nope", "--steps", "3"], "strategy"),
        (["run", "--set", "civic_potential=7"], "civic_potential"),
        (["run", "--out", "x.json"], "--out"),
    ],
)
def test_console_script_bad_input(argv, field, tmp_path):
    """The real process: exit code 2 and exactly one line on stderr, no traceback."""
    proc = subprocess.run(CLI + argv, capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert "Traceback" not in proc.stderr and field in proc.stderr
    assert proc.stdout == ""


def test_console_script_run_with_plugin(tmp_path):
    plugin = tmp_path / "extra_metric.py"
    plugin.write_text(
        "from model.metrics import register_metric\n"
        "register_metric('twice_unmet', lambda m: 2 * m.cumulative_unmet_hours,\n"
        "                'Twice the cumulative unmet hours (test plugin)', replace=True)\n"
    )
    out = tmp_path / "run.parquet"
    proc = subprocess.run(
        CLI
        + ["--plugin", str(plugin), "run", "--residents", "100", "--steps", "4"]
        + ["--seed", "2", "--out", str(out), "--no-progress"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    frame = pd.read_parquet(out)
    assert (frame["twice_unmet"] == 2 * frame["cumulative_unmet_hours"]).all()


def test_plugins_before_and_after_the_command_are_both_loaded(tmp_path):
    for name in ("first_metric", "second_metric"):
        (tmp_path / f"{name}.py").write_text(
            "from model.metrics import register_metric\n"
            f"register_metric('{name}', lambda m: 0.0, 'plugin metric {name}', replace=True)\n"
        )
    proc = subprocess.run(
        CLI
        + ["--plugin", str(tmp_path / "first_metric.py"), "list", "metrics"]
        + ["--plugin", str(tmp_path / "second_metric.py")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "plugin metric first_metric" in proc.stdout
    assert "plugin metric second_metric" in proc.stdout
