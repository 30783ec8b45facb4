"""The community calibration targets (experiments/targets.toml) hold on replicate
averages of the baseline under today's policy (direct delivery)."""

from __future__ import annotations

import pytest

from experiments import targets
from model import CivicModel
from model.metrics import metric_names


def test_targets_file_is_valid_and_names_real_metrics():
    rows = targets.load_targets()
    assert {"volunteering rate (care-type roles)", "yearly volunteer attrition"} <= {
        t.name for t in rows
    }
    for t in rows:
        assert t.metric in metric_names() and (t.per is None or t.per in metric_names())
        assert t.source and t.note and t.obs_sd > 0


def test_a_broken_target_is_refused_by_field(tmp_path):
    path = tmp_path / "t.toml"
    path.write_text(
        '[[target]]\nname = "x"\nmetric = "share_lonely"\nstatistic = "median"\n'
        'window = "years 0-9"\nvalue = 0.1\nlow = 0.0\nhigh = 0.2\nobs_sd = 0.01\n'
        'note = "n"\nsource = "s"\n'
    )
    with pytest.raises(ValueError, match="target 1 \\(x\\): statistic must be one of"):
        targets.load_targets(path)


@pytest.mark.slow
def test_community_targets_are_in_band_on_replicate_averages():
    runs = {
        "direct": [
            CivicModel(strategy="direct", residents=1500, seed=seed).run(520) for seed in range(5)
        ]
    }
    table = targets.check(targets.load_targets(), runs)
    assert table["in band"].all(), "\n" + table.to_string()
