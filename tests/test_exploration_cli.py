"""From the command line: a Morris sweep's report ranks the assumptions; a Latin
hypercube's report has the discovery boxes and the robustness table."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from experiments import report
from experiments.cli import main

CLI = [sys.executable, "-m", "experiments.cli"]
pytest.importorskip("ema_workbench")

MORRIS = """
name = "morris_small"
strategies = ["direct", "facilitator"]
replicates = 2
steps = 20
seed = 4
[fixed]
residents = 100
[design]
type = "morris"
trajectories = 4
levels = 4
seed = 9
[design.ranges]
civic_potential = [0.1, 0.9]
budget_scale = [0.5, 3.0]
contagion_cap = [4, 16]
"""

LHS = """
name = "lhs_small"
strategies = ["direct", "facilitator"]
replicates = 2
steps = 20
seed = 4
[fixed]
residents = 100
[design]
type = "latin_hypercube"
samples = 12
seed = 3
[design.ranges]
civic_potential = [0.1, 0.9]
budget_scale = [0.5, 3.0]
[report]
regret_tolerance = 0.01
"""


def sweep_and_report(tmp_path, text):
    spec = tmp_path / "spec.toml"
    spec.write_text(text)
    out = tmp_path / "out"
    done = subprocess.run(
        # serial: the process pool is tested in test_experiments_runner.py, and starting
        # its workers would be most of this small sweep's time
        CLI + ["sweep", str(spec), "--out", str(out), "--no-progress", "--executor", "serial"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    shown = subprocess.run(CLI + ["report", str(out)], capture_output=True, text=True, timeout=600)
    assert shown.returncode == 0, shown.stderr
    assert "Traceback" not in shown.stderr and "Warning" not in shown.stderr
    return out


def test_morris_sweep_and_report_rank_the_assumptions(tmp_path):
    out = sweep_and_report(tmp_path, MORRIS)
    manifest = json.loads((out / "manifest.json").read_text())
    assert len(manifest["points"]) == 4 * (3 + 1)
    matrix = pd.read_csv(out / "sample_matrix.csv")
    assert list(matrix["point"]) == list(range(16))
    assert set(matrix["contagion_cap"]) <= {4, 8, 12, 16}
    for p in manifest["points"]:  # the design index of each point is its row
        assert matrix.loc[p["index"], "budget_scale"] == pytest.approx(p["values"]["budget_scale"])
    table = pd.read_csv(out / "sensitivity.csv")
    assert set(table["parameter"]) == {"civic_potential", "budget_scale", "contagion_cap"}
    assert {"direct", "facilitator", "facilitator - direct"} <= set(table["comparison"])
    assert {"mu", "mu_star", "sigma", "mu_star_conf", "mu_star_noise", "noise_share"} <= set(
        table.columns
    )
    assert table.groupby(["outcome", "comparison"]).size().eq(3).all()
    md = (out / "report.md").read_text()
    assert "## Which assumptions decide the answer" in md
    assert "1. `" in md and "mu*" in md
    assert f"Design seed (Morris sample): {manifest['design_seed']}." in md
    assert (out / "figures" / "sensitivity.png").exists()


def test_latin_hypercube_report_has_discovery_and_robustness(tmp_path, monkeypatch):
    out = sweep_and_report(tmp_path, LHS)
    md = (out / "report.md").read_text()
    assert "## Where each strategy wins: scenario discovery" in md
    assert "## Robustness: regret across design points" in md
    discovery = pd.read_csv(out / "discovery.csv")
    assert set(discovery["question"]) == {"wins", "loses"}
    assert discovery["cases"].eq(12).all()
    robustness = pd.read_csv(out / "robustness.csv")
    unmet = robustness[robustness["outcome"] == "unmet_share"].set_index("strategy")
    assert set(unmet.index) == {"direct", "facilitator"}
    assert (unmet["tolerance"] == 0.01).all()
    # every point has a best strategy; two are both best where they are within the tolerance
    assert 1.0 - 1e-9 <= unmet["share_best"].sum() <= 2.0 + 1e-9
    assert not (out / "sensitivity.csv").exists()
    # with many design points the report pools them instead of listing each
    monkeypatch.setattr(report, "MANY_POINTS", 5)
    report.write_report(out)
    md = (out / "report.md").read_text()
    assert "12 design points: their values are in `manifest.json`" in md
    assert "## Summary per strategy and design point" not in md
    assert "## Robustness" in md


@pytest.mark.parametrize(
    "flag, message",
    [
        (["--discovery-threshold", "3"], "--discovery-threshold must be a number from -1 to 1"),
        (["--regret-tolerance", "-1"], "--regret-tolerance must be a number from 0 to 1"),
    ],
)
def test_report_flags_are_checked(tmp_path, capsys, flag, message):
    (tmp_path / "manifest.json").write_text("{}")
    code = main(["report", str(tmp_path), *flag])
    _, err = capsys.readouterr()
    assert code == 2 and err.count("\n") == 1 and message in err


def test_list_parameters_shows_kind_and_range(capsys):
    assert main(["list", "parameters"]) == 0
    out = capsys.readouterr().out
    assert "kind: invented; plausible 0.1 to 0.9 (no direct measure" in out  # civic_potential
    assert "kind: lever; plausible 0.5 to 3 (" in out  # budget_scale
    assert "kind: data; plausible 20 to 28.53 (" in out  # care_hour_price


def test_report_settings_may_change_when_a_sweep_resumes():
    from experiments.runner import spec_differences

    stored = {"steps": 52, "discovery_threshold": -0.01, "regret_tolerance": 0.01}
    changed = {"steps": 52, "discovery_threshold": -0.02}
    assert spec_differences(stored, changed) == []
    assert spec_differences(stored, {**changed, "steps": 104}) != []
