"""``civic-sim calibrate SPEC`` end to end on a tiny model, and its bad-input messages."""

from __future__ import annotations

import json
import textwrap

import pandas as pd
import pyarrow.parquet as pq
import pytest

from experiments import calibrate as cal
from experiments.cli import main
from experiments.ensemble import META_KEY, read_ensemble
from experiments.store import model_code_hash, model_fingerprint

TARGETS = """
[[target]]
name = "deaths"
metric = "deaths"
statistic = "yearly_rate"
window = "all"
value = {deaths}
low = 0.0
high = 1.0
obs_sd = 0.01
source = "a test"

[[target]]
name = "need"
metric = "share_with_any_need_standardised"
statistic = "mean"
window = "final_year"
value = 0.26
low = 0.0
high = 1.0
obs_sd = 0.05
source = "a test"

[[target]]
name = "care homes"
metric = "residents_in_care_homes"
denominator = "residents"
statistic = "ratio_of_means"
window = "final_year"
value = 0.025
low = 0.0
high = 0.5
obs_sd = 0.02
source = "a test"
"""


def write_spec(folder, deaths=0.05, parameters=None, metric=None, extra=""):
    targets = TARGETS.format(deaths=deaths)
    if metric:
        targets = targets.replace('metric = "deaths"', f'metric = "{metric}"')
    (folder / "targets.toml").write_text(targets)
    parameters = parameters or ('mortality_need_factor = "declared"\ncare_home_rate = [0.3, 3.0]\n')
    text = (
        textwrap.dedent(
            f"""
        name = "tiny"
        out = "{folder / "out"}"
        ensemble = "shipped.parquet"
        targets_file = "targets.toml"
        targets = ["deaths", "need"]
        holdout = ["care homes"]
        residents = 60
        steps = 104
        replicates = 2
        seed = 3
        {extra}
        [parameters]
        """
        )
        + parameters
        + textwrap.dedent(
            """
        [history_matching]
        points_per_wave = [8, 6]
        discrepancy = 1.0
        prior_sample = 4000
        candidates = 4000
        """
        )
    )
    path = folder / "cal.toml"
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory):
    folder = tmp_path_factory.mktemp("calibrate")
    spec = write_spec(folder)
    code = main(["calibrate", str(spec), "--executor", "serial", "--no-progress"])
    return folder, spec, code


def test_calibration_writes_the_ensemble_and_its_diagnostics(calibrated, capsys):
    folder, _, code = calibrated
    assert code == 0
    frame, meta = read_ensemble(folder / "out" / "ensemble.parquet")
    assert meta["model_fingerprint"] == model_fingerprint()
    assert meta["calibration"]["holdout"] == ["care homes"]
    assert list(frame.columns[:4]) == ["member", "weight", "wave", "max_implausibility"]
    assert {"mortality_need_factor", "care_home_rate", "target:care homes"} <= set(frame.columns)
    assert frame["weight"].sum() == pytest.approx(1.0)
    assert (frame["max_implausibility"] <= 3.0).all()
    assert frame["mortality_need_factor"].between(0.15, 0.6).all()
    # the shipped copy, relative to the spec file
    assert (folder / "shipped.parquet").is_file()
    report = (folder / "out" / "calibration.md").read_text()
    for heading in (
        "## Which targets rule out what",
        "## Emulator checks",
        "## Held-out targets",
        "## Waves",
    ):
        assert heading in report
    assert (folder / "out" / "figures" / "pairs.png").is_file()
    assert (folder / "out" / "heldout.csv").is_file()


def test_a_rerun_resumes_from_the_store(calibrated, capsys):
    folder, spec, _ = calibrated
    before = {
        wave: json.loads((folder / "out" / wave / "manifest.json").read_text())["runs"]
        for wave in ("wave-1", "wave-2")
    }
    assert main(["calibrate", str(spec), "--executor", "serial", "--no-progress"]) == 0
    for wave, runs in before.items():
        after = json.loads((folder / "out" / wave / "manifest.json").read_text())["runs"]
        assert {k: v["finished"] for k, v in after.items()} == {
            k: v["finished"] for k, v in runs.items()
        }  # no run made again: the waves asked for the same points


def test_unknown_metric_in_a_target_is_one_line_and_exit_2(tmp_path, capsys):
    spec = write_spec(tmp_path, metric="no_such_metric")
    assert main(["calibrate", str(spec)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "unknown metric 'no_such_metric'" in err
    assert not (tmp_path / "out").exists()


def test_a_parameter_without_a_declared_range_is_one_line_and_exit_2(tmp_path, capsys):
    # every scalar invented parameter declares a range since issue 12; the grid's width
    # (a setting) does not
    spec = write_spec(tmp_path, parameters='width = "declared"\n')
    assert main(["calibrate", str(spec)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "calibration.parameters.width" in err
    assert "declares no plausible range" in err


def test_bad_spec_fields(tmp_path):
    spec = write_spec(tmp_path, extra='holdout_typo = ["x"]')
    with pytest.raises(cal.CalibrationError, match=r"calibration\.holdout_typo: unknown key"):
        cal.load_calibration_spec(spec)
    spec = write_spec(tmp_path, parameters="care_home_rate = [3.0, 0.3]\n")
    with pytest.raises(cal.CalibrationError, match="low below high"):
        cal.load_calibration_spec(spec)
    spec = write_spec(tmp_path, parameters="care_home_rate = [0.3, 99.0]\n")
    with pytest.raises(cal.CalibrationError, match=r"care_home_rate\[1\]"):
        cal.load_calibration_spec(spec)


def test_an_empty_plausible_region_is_exit_2_and_keeps_the_runs(tmp_path, capsys):
    spec = write_spec(tmp_path, deaths=0.9)  # no parameter set kills 90% a year
    assert main(["calibrate", str(spec), "--executor", "serial", "--no-progress"]) == 2
    errors = [e for e in capsys.readouterr().err.splitlines() if e.startswith("civic-sim: error")]
    assert len(errors) == 1
    err = errors[0]
    assert "region is empty" in err or "no run parameter set is plausible" in err
    manifest = json.loads((tmp_path / "out" / "wave-1" / "manifest.json").read_text())
    assert sum(r["status"] == "done" for r in manifest["runs"].values()) == 8 * 2
    assert not (tmp_path / "out" / "ensemble.parquet").exists()


def test_an_ensemble_from_another_model_is_refused_by_sweep(calibrated, tmp_path, capsys):
    folder, _, _ = calibrated
    table = pq.read_table(folder / "out" / "ensemble.parquet")
    meta = json.loads(table.schema.metadata[META_KEY])
    assert meta["model_code"] == model_code_hash()
    # other numerical packages (another Python, another Mesa): the same model, accepted
    meta["model_fingerprint"] = "feedfacefeedface"
    table = table.replace_schema_metadata({META_KEY: json.dumps(meta).encode()})
    pq.write_table(table, tmp_path / "other_install.parquet")
    frame, _ = read_ensemble(tmp_path / "other_install.parquet")
    assert len(frame)
    # another model's code: refused
    meta["model_code"] = "feedfacefeedface"
    table = table.replace_schema_metadata({META_KEY: json.dumps(meta).encode()})
    pq.write_table(table, tmp_path / "old.parquet")
    (tmp_path / "s.toml").write_text(
        'strategies = ["direct", "facilitator"]\n[design]\ntype = "ensemble"\n'
        'file = "old.parquet"\n'
    )
    assert main(["sweep", str(tmp_path / "s.toml"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "spec.design.file" in err and "another version of the model" in err
    assert not (tmp_path / "o").exists()


def test_a_sweep_over_the_plausible_worlds_reports_both_uncertainties(calibrated, tmp_path):
    folder, _, _ = calibrated
    (tmp_path / "s.toml").write_text(
        textwrap.dedent(
            f"""
            strategies = ["direct", "facilitator"]
            replicates = 2
            steps = 52
            seed = 9
            [fixed]
            residents = 60
            [design]
            type = "ensemble"
            file = "{folder / "out" / "ensemble.parquet"}"
            sample = 3
            """
        )
    )
    out = tmp_path / "o"
    assert (
        main(
            [
                "sweep",
                str(tmp_path / "s.toml"),
                "--out",
                str(out),
                "--executor",
                "serial",
                "--no-progress",
            ]
        )
        == 0
    )
    assert main(["report", str(out)]) == 0
    report = (out / "report.md").read_text()
    assert report.index("## Over plausible worlds") < report.index("## The experiment")
    assert "P(better than direct)" in report
    table = pd.read_csv(out / "worlds.csv")
    assert list(table["strategy"]) == ["facilitator"]
    assert table.loc[0, "worlds"] == 3
    assert 0.0 <= table.loc[0, "p_beats_baseline"] <= 1.0
    assert table.loc[0, "low"] <= table.loc[0, "expected_difference"] <= table.loc[0, "high"]


def test_without_parameters_the_top_invented_ones_of_a_screening_are_taken(tmp_path):
    pd.DataFrame(
        {
            "method": "morris",
            "outcome": "unmet_share",
            "comparison": "direct",
            "parameter": [
                "budget_scale",
                "care_home_rate",
                "carer_uptake_rate",
                "mortality_need_factor",
                "spouse_carer_share",
            ],
            "rank": [1, 4, 2, 3, 5],
        }
    ).to_csv(tmp_path / "sensitivity.csv", index=False)
    spec = write_spec(tmp_path)
    text = spec.read_text().replace(
        '[parameters]\nmortality_need_factor = "declared"\ncare_home_rate = [0.3, 3.0]\n',
        f'[screening]\nfile = "{tmp_path / "sensitivity.csv"}"\ntop = 2\n',
    )
    spec.write_text(text)
    parsed = cal.load_calibration_spec(spec)
    # budget_scale ranks first but is not invented; then the two best invented ones
    assert list(parsed.ranges) == ["carer_uptake_rate", "mortality_need_factor"]
    assert parsed.ranges["mortality_need_factor"] == (0.15, 0.6)
    assert "screening rank 2" in parsed.range_source["carer_uptake_rate"]
    spec.write_text(
        text.replace(f'[screening]\nfile = "{tmp_path / "sensitivity.csv"}"\ntop = 2\n', "")
    )
    with pytest.raises(cal.CalibrationError, match="name the parameters to calibrate"):
        cal.load_calibration_spec(spec)
