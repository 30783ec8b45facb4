"""``civic-sim calibrate SPEC`` end to end on a tiny model, and its bad-input messages."""

from __future__ import annotations

import json
import shutil
import sys
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


ABC = "\n[abc]\npopulations = 2\npopulation_size = 6\nreplicates = 1\n"


def finished_runs(folder):
    return {
        str(p.relative_to(folder)): {
            k: v["finished"] for k, v in json.loads(p.read_text())["runs"].items()
        }
        for p in sorted(folder.glob("**/manifest.json"))
    }


def test_abc_smc_refines_inside_the_region_through_the_store(calibrated, tmp_path, capsys):
    folder, spec, _ = calibrated
    out = tmp_path / "out"
    for wave in ("wave-1", "wave-2"):  # history matching's runs, made once
        shutil.copytree(folder / "out" / wave, out / wave)
    text = spec.read_text().replace(f'out = "{folder / "out"}"', f'out = "{out}"')
    (tmp_path / "targets.toml").write_text((folder / "targets.toml").read_text())
    abc_spec = tmp_path / "cal_abc.toml"
    abc_spec.write_text(text.replace('ensemble = "shipped.parquet"', "") + ABC)
    waves = finished_runs(out)
    assert main(["calibrate", str(abc_spec), "--executor", "serial", "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "ABC-SMC (pyabc" in printed
    runs = finished_runs(out)
    assert {k: v for k, v in runs.items() if k.startswith("wave-")} == waves  # resumed
    batches = [k for k in runs if k.startswith("abc/")]
    assert batches[0] == "abc/population-0/batch-1/manifest.json"
    assert all(len(v) for v in runs.values())
    frame, meta = read_ensemble(out / "ensemble.parquet")
    assert meta["method"].startswith("ABC-SMC")
    assert [p["t"] for p in meta["abc"]["populations"]] == [0, 1]
    assert len(frame) == 6
    assert frame["weight"].sum() == pytest.approx(1.0)
    assert (frame["population"] == 1).all()
    assert frame["mortality_need_factor"].between(0.15, 0.6).all()
    assert frame["care_home_rate"].between(0.3, 3.0).all()
    assert "target:care homes" in frame.columns  # held-out values come along
    history, _ = read_ensemble(out / "ensemble-history-matching.parquet")
    assert "wave" in history.columns and len(history) >= 1
    report = (out / "calibration.md").read_text()
    assert "## ABC-SMC refinement" in report
    assert "| history matching |" in report and "| ABC-SMC |" in report  # held out, both
    table = pd.read_csv(out / "abc.csv")
    assert list(table["population"]) == [0, 1]
    assert table.loc[0, "acceptance_rate"] == 1.0
    assert (table["effective_sample_size"] <= 6 + 1e-9).all()

    # a calibration killed during its last batch: that batch's runs are gone; a rerun
    # makes only them again and finds the same ensemble
    last = out / sorted(b for b in batches)[-1].rsplit("/", 1)[0]
    shutil.rmtree(last)
    before = {k: v for k, v in finished_runs(out).items()}
    assert main(["calibrate", str(abc_spec), "--executor", "serial", "--no-progress"]) == 0
    after = finished_runs(out)
    assert {k: after[k] for k in before} == before  # nothing else ran again
    again, _ = read_ensemble(out / "ensemble.parquet")
    pd.testing.assert_frame_equal(again, frame)


def test_bad_abc_fields(tmp_path):
    for table, message in (
        ("popsize = 3", r"calibration\.abc\.popsize: unknown key"),
        ("alpha = 1.5", r"calibration\.abc\.alpha: must be a number above 0 to 1"),
        ("epsilon = [1.0, 2.0]", r"calibration\.abc\.epsilon: a schedule must be"),
        ('epsilon = "median"', r"calibration\.abc\.epsilon: must be \"quantile\""),
        ("population_size = 2", r"calibration\.abc\.population_size: must be an integer"),
        ('distance = "manhattan"', r"calibration\.abc\.distance: must be euclidean or max"),
        ("epsilon = [3.0, 2.0]\npopulations = 3", r"calibration\.abc\.populations: is 3"),
        ("initial_epsilon = -1", r"calibration\.abc\.initial_epsilon: must be a positive"),
    ):
        spec = write_spec(tmp_path)
        spec.write_text(spec.read_text() + f"\n[abc]\n{table}\n")
        with pytest.raises(cal.CalibrationError, match=message):
            cal.load_calibration_spec(spec)


@pytest.mark.parametrize(
    ("module", "label", "abc"), [("sklearn", "scikit-learn", ""), ("pyabc", "pyabc", ABC)]
)
def test_without_the_analysis_extra_one_line_names_it(
    tmp_path, capsys, monkeypatch, module, label, abc
):
    spec = write_spec(tmp_path)
    spec.write_text(spec.read_text() + abc)
    monkeypatch.setitem(sys.modules, module, None)  # import raises ImportError
    assert main(["calibrate", str(spec), "--executor", "serial", "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert f"needs {label}, which is not installed" in err
    assert "pip install 'civic-sim[analysis]'" in err and "make setup" in err
    assert not (tmp_path / "out").exists()  # nothing started


def test_a_spec_extends_another(tmp_path):
    base = write_spec(tmp_path)  # targets.toml and shipped.parquet relative to it
    sub = tmp_path / "more"
    sub.mkdir()
    child = sub / "abc.toml"
    child.write_text(
        'extends = "../cal.toml"\nname = "tiny_abc"\nensemble = ""\n'
        '[parameters]\ncarer_uptake_rate = "declared"\n'
        "[history_matching]\ncutoff = 2.5\n" + ABC
    )
    parent, spec = cal.load_calibration_spec(base), cal.load_calibration_spec(child)
    assert spec.name == "tiny_abc" and spec.ensemble is None and parent.ensemble
    assert spec.targets_file == parent.targets_file  # the base's path, from the base
    assert list(spec.ranges) == [*parent.ranges, "carer_uptake_rate"]  # tables merge
    assert spec.cutoff == 2.5 and spec.points_per_wave == parent.points_per_wave
    assert spec.abc.population_size == 6 and parent.abc is None
    (tmp_path / "loop.toml").write_text('extends = "loop.toml"\n')
    with pytest.raises(cal.CalibrationError, match=r"calibration\.extends: .*\(a cycle\)"):
        cal.load_calibration_spec(tmp_path / "loop.toml")
    (tmp_path / "gone.toml").write_text('extends = "nothere.toml"\n')
    with pytest.raises(cal.CalibrationError, match=r"calibration\.extends: cannot read"):
        cal.load_calibration_spec(tmp_path / "gone.toml")


def test_a_grouped_screening_offers_the_members_of_its_highest_groups(tmp_path):
    pd.DataFrame(
        {
            "method": "morris",
            "outcome": "unmet_share",
            "comparison": "direct",
            "parameter": ["care_home_admission", "mortality_need_factor", "family_care"],
            "members": [
                "care_home_rate;care_home_level_ratio",
                "mortality_need_factor",
                "spouse_carer_share;carer_uptake_rate",
            ],
            "group_size": [2, 1, 2],
            "rank": [1, 2, 3],
        }
    ).to_csv(tmp_path / "sensitivity.csv", index=False)
    spec = write_spec(tmp_path)
    spec.write_text(
        spec.read_text().replace(
            '[parameters]\nmortality_need_factor = "declared"\ncare_home_rate = [0.3, 3.0]\n',
            f'[screening]\nfile = "{tmp_path / "sensitivity.csv"}"\ntop = 4\n',
        )
    )
    parsed = cal.load_calibration_spec(spec)
    # a group ranks each of its members; ties keep the group's order
    assert list(parsed.ranges) == [
        "care_home_rate",
        "care_home_level_ratio",
        "mortality_need_factor",
        "spouse_carer_share",
    ]
