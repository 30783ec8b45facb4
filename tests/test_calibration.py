"""The calibration targets (experiments/targets.toml) and ``civic-sim calibrate``."""

import math
import textwrap

import numpy as np
import pandas as pd
import pytest

from experiments import calibration
from experiments.calibration import TargetError, load_targets, parse_targets
from experiments.cli import main
from model.metrics import metric_names

TINY = """
[check]
residents = 200
replicates = 2
steps = 52
seed = 7

[[target]]
name = "care homes"
metric = "residents_in_care_homes"
denominator = "residents"
statistic = "ratio_of_means"
window = "final_year"
value = 0.025
low = 0.0
high = 0.5
obs_sd = 0.01
source = "a test"
"""


def _target(**changes):
    entry = {
        "name": "t",
        "metric": "deaths",
        "statistic": "yearly_rate",
        "window": "all",
        "value": 0.04,
        "low": 0.03,
        "high": 0.05,
        "obs_sd": 0.005,
        "source": "s",
    }
    entry.update(changes)
    return {"target": [{k: v for k, v in entry.items() if v is not None}]}


def test_the_shipped_targets_are_valid_and_cover_the_care_system():
    targets = load_targets()
    names = {t.name for t in targets.targets}
    assert len(names) == len(targets.targets) >= 15
    for t in targets.targets:
        assert t.metric in metric_names()
        assert t.low <= t.value <= t.high and t.obs_sd > 0 and t.source
    metrics = {t.metric for t in targets.targets}
    for needed in (
        "share_with_any_need_standardised",
        "share_with_unmet_need_standardised",
        "residents_in_care_homes",
        "long_term_clients_this_year",
        "mean_package_hours",
        "deaths",
        "share_aged_85_plus",
        "met_hours_family",
        "volunteering_rate",
        "volunteer_quits",
        "share_lonely",
        "active_volunteers",
    ):
        assert needed in metrics
    assert set(targets.scenarios) == {"baseline", "ageing_wave", "steady_state"}


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"metric": "no_such_metric"}, "target[0] 't'.metric: unknown metric 'no_such_metric'"),
        ({"statistic": "median"}, "target[0] 't'.statistic: must be one of mean,"),
        ({"window": "last_week"}, "target[0] 't'.window: must be one of final_year"),
        ({"low": 0.06}, "target[0] 't': needs low <= value <= high"),
        ({"obs_sd": 0}, "target[0] 't'.obs_sd: must be above 0"),
        ({"obs_sd": None}, "target[0] 't': missing obs_sd"),
        ({"scenario": "mars"}, "target[0] 't'.scenario: must be one of"),
        ({"colour": "red"}, "target[0] 't': unknown key(s) colour"),
        ({"value": "high"}, "target[0] 't'.value: must be a number"),
    ],
)
def test_bad_targets_are_named(changes, message):
    with pytest.raises(TargetError) as err:
        parse_targets(_target(**changes))
    assert str(err.value).startswith(message)


def test_statistics_give_known_answers():
    weeks = pd.DataFrame(
        {
            "deaths": [1.0] * 104,
            "residents": [52.0] * 104,
            "count": np.r_[np.full(52, 10.0), np.full(52, 11.0)],
            "running": np.tile(np.arange(1.0, 53.0), 2),
        }
    )
    stats = calibration.STATISTICS
    assert stats["yearly_rate"](weeks, "deaths", None) == pytest.approx(1.0)
    assert stats["ratio_of_means"](weeks, "deaths", "residents") == pytest.approx(1 / 52)
    assert stats["relative_change"](weeks, "count", None) == pytest.approx(0.1)
    assert stats["yearly_growth"](weeks, "count", None) == pytest.approx(0.1)
    assert stats["change"](weeks, "count", None) == pytest.approx(1.0)
    assert stats["change"](weeks, "count", "residents") == pytest.approx(1 / 52)
    longer = pd.concat([weeks.assign(count=5.0), weeks])
    last_two = calibration.WINDOWS["final_two_years"](longer)
    assert last_two["count"].tolist() == weeks["count"].tolist()
    assert stats["year_end_ratio"](weeks, "running", "residents") == pytest.approx(1.0)
    assert stats["share_of_sums"](weeks, "deaths", "residents") == pytest.approx(1 / 52)
    assert math.isnan(stats["relative_change"](weeks.assign(count=0.0), "count", None))


def test_calibrate_lists_the_targets(capsys):
    assert main(["calibrate"]) == 0
    out = capsys.readouterr().out
    assert "older residents living in a care home" in out and "ONS" in out


def test_calibrate_bad_targets_file_is_one_line_and_exit_2(tmp_path, capsys):
    path = tmp_path / "targets.toml"
    path.write_text(TINY.replace('"residents_in_care_homes"', '"care_homes_galore"'))
    assert main(["calibrate", "--check", "--targets", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "target[0] 'care homes'.metric: unknown metric 'care_homes_galore'" in err[0]
    assert main(["calibrate", "--targets", str(tmp_path / "none.toml")]) == 2
    assert main(["calibrate", "--set", "care_home_fee=-3"]) == 2
    assert "care_home_fee" in capsys.readouterr().err


def test_calibrate_check_prints_the_table(tmp_path, capsys):
    path = tmp_path / "targets.toml"
    path.write_text(textwrap.dedent(TINY))
    out_csv = tmp_path / "table.csv"
    code = main(
        [
            "calibrate", "--check", "--targets", str(path), "--executor", "serial",
            "--set", "burn_in_weeks=26", "--no-progress", "--out", str(out_csv),
        ]
    )  # fmt: skip
    assert code == 0
    out = capsys.readouterr().out
    header = out.splitlines()[0]
    for column in ("target", "source", "band", "model", "in band"):
        assert column in header
    assert "care homes" in out and "| yes" in out and "1 of 1 targets in band" in out
    table = pd.read_csv(out_csv)
    assert table.loc[0, "in_band"] and len(table.loc[0, "replicates"].split()) == 2
    # a band the model misses gives exit code 1 and says so
    path.write_text(TINY.replace("low = 0.0", "low = 0.4").replace("0.025", "0.45"))
    assert main(["calibrate", "--check", "--targets", str(path), "--executor", "serial",
                 "--set", "burn_in_weeks=26", "--no-progress"]) == 1  # fmt: skip
    assert "| NO" in capsys.readouterr().out


@pytest.mark.slow
def test_every_shipped_target_is_in_band_on_replicate_averages():
    """The calibration check users run: every target of experiments/targets.toml, at ward
    scale, on the check's replicates (the steady start and the ageing wave included)."""
    table = calibration.run_check(load_targets())
    missed = table.loc[~table["in_band"], ["target", "low", "high", "model_mean"]]
    assert missed.empty, "\n" + missed.to_string()
