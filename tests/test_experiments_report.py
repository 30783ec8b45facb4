"""The report's numbers, checked against a direct computation from the store."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from experiments import analysis
from experiments import spec as specs
from experiments.report import write_report
from experiments.runner import run_sweep

SPEC = """
name = "tiny_report"
description = "Report test."
strategies = ["direct", "facilitator", "hybrid"]
replicates = 4
steps = 60
seed = 99
[fixed]
residents = 200
[design]
type = "points"
points = [{ scenario = "baseline" }, { scenario = "asset_poor" }]
"""


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    (folder / "spec.toml").write_text(SPEC)
    spec = specs.load_spec(folder / "spec.toml")
    out = folder / "out"
    summary = run_sweep(spec, str(out), executor="serial", progress=False)
    assert summary.done == 24
    paths = write_report(out)
    return out, paths


def direct_final_year(out: Path) -> pd.DataFrame:
    """Final-year outcomes computed straight from the Parquet files with pandas."""
    frame = pd.read_parquet(out / "runs")
    frame["run_id"] = frame["run_id"].astype(str)
    rows = []
    for run_id, run in frame.groupby("run_id"):
        run = run.sort_values("step")
        last = run[run["step"] > run["step"].max() - 52]
        rows.append(
            {
                "run_id": run_id,
                "point": run["point"].iloc[0],
                "strategy": run["strategy"].iloc[0],
                "replicate": run["replicate"].iloc[0],
                "unmet_share": last["unmet_share"].mean(),
                "volunteers": last["active_volunteers"].mean(),
                "cumulative": run["cumulative_unmet_hours"].iloc[-1],
            }
        )
    return pd.DataFrame(rows)


def test_summary_means_and_cis_match_the_store(sweep):
    out, _ = sweep
    mine = direct_final_year(out)
    summary = pd.read_csv(out / "summary.csv")
    assert len(summary) == 6 and (summary["n"] == 4).all()
    for row in summary.itertuples():
        values = mine[(mine.point == row.point) & (mine.strategy == row.strategy)]
        x = values["unmet_share"].to_numpy()
        half = stats.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x))
        assert row.unmet_share_mean == pytest.approx(x.mean(), rel=1e-12)
        assert row.unmet_share_low == pytest.approx(x.mean() - half, rel=1e-9)
        assert row.unmet_share_high == pytest.approx(x.mean() + half, rel=1e-9)
        assert row.active_volunteers_mean == pytest.approx(values["volunteers"].mean())
        assert row.cumulative_unmet_hours_mean == pytest.approx(values["cumulative"].mean())


def test_paired_differences_match_the_store(sweep):
    out, _ = sweep
    mine = direct_final_year(out).set_index(["point", "strategy", "replicate"])
    paired = pd.read_csv(out / "paired.csv")
    unmet = paired[paired.outcome == "unmet_share"]
    assert set(unmet.strategy) == {"facilitator", "hybrid"} and len(unmet) == 4
    for row in unmet.itertuples():
        diffs = np.array(
            [
                mine.loc[(row.point, row.strategy, r), "unmet_share"]
                - mine.loc[(row.point, "direct", r), "unmet_share"]
                for r in range(4)
            ]
        )
        half = stats.t.ppf(0.975, 3) * diffs.std(ddof=1) / 2.0
        assert row.pairs == 4
        assert row.mean == pytest.approx(diffs.mean(), abs=1e-12)
        assert row.low == pytest.approx(diffs.mean() - half, abs=1e-12)
        assert row.high == pytest.approx(diffs.mean() + half, abs=1e-12)
        # better / worse only by at least the tolerance (half a percentage point)
        assert row.tolerance == 0.005
        assert row.share_better == pytest.approx((diffs <= -0.005).mean())
        assert row.share_worse == pytest.approx((diffs >= 0.005).mean())
        assert row.share_same == pytest.approx((abs(diffs) < 0.005).mean())


def test_risk_uses_the_direct_median_by_default(sweep):
    out, _ = sweep
    mine = direct_final_year(out)
    risk = pd.read_csv(out / "risk.csv")
    for row in risk.itertuples():
        base = mine[(mine.point == row.point) & (mine.strategy == "direct")]["unmet_share"]
        values = mine[(mine.point == row.point) & (mine.strategy == row.strategy)]["unmet_share"]
        assert row.threshold == pytest.approx(base.median())
        assert row.share_above == pytest.approx((values > base.median()).mean())
        assert row.p90 == pytest.approx(np.quantile(values, 0.9))


def test_fixed_risk_threshold(sweep, tmp_path):
    out, _ = sweep
    write_report(out, threshold=0.5)
    risk = pd.read_csv(out / "risk.csv")
    mine = direct_final_year(out)
    assert (risk["threshold"] == 0.5).all()
    for row in risk.itertuples():
        values = mine[(mine.point == row.point) & (mine.strategy == row.strategy)]["unmet_share"]
        assert row.share_above == pytest.approx((values > 0.5).mean())
    assert "fixed threshold **0.5**" in (out / "report.md").read_text()
    write_report(out)  # back to the default for the other tests


def test_report_text_states_numbers_seeds_and_figures(sweep):
    out, paths = sweep
    md = (out / "report.md").read_text()
    html = (out / "report.html").read_text()
    manifest = json.loads((out / "manifest.json").read_text())
    assert f"root entropy **{manifest['root_entropy']}**" in md and "99" in md
    assert "**4**" in md  # replicates per strategy and design point
    summary = pd.read_csv(out / "summary.csv")
    for row in summary.itertuples():
        cell = f"{row.unmet_share_mean:.3f} [{row.unmet_share_low:.3f}, {row.unmet_share_high:.3f}]"
        assert cell in md
    assert "<table>" in html and "<img" in html
    for figure in paths["figures"]:
        assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"figures/{figure.name}" in md
    names = {p.name for p in paths["figures"]}
    assert {"unmet_share_over_time.png", "paired_difference_over_time.png"} <= names


def test_store_reads_with_pandas_and_duckdb(sweep):
    out, _ = sweep
    frame = pd.read_parquet(out / "runs")
    assert len(frame) == 24 * 60 and frame["run_id"].nunique() == 24
    assert {"point", "strategy", "scenario", "replicate", "param_residents"} <= set(frame.columns)
    rows = duckdb.sql(
        f"select run_id, count(*) as n, avg(unmet_share) as u from read_parquet("
        f"'{out}/runs/*/*.parquet', hive_partitioning = true) group by run_id"
    ).df()
    assert len(rows) == 24 and (rows["n"] == 60).all()
    means = frame.groupby(frame["run_id"].astype(str))["unmet_share"].mean()
    for row in rows.itertuples():
        assert row.u == pytest.approx(means[row.run_id])


def test_over_time_band_and_paired_band():
    frame = pd.DataFrame(
        {
            "point": 0,
            "point_label": "p",
            "strategy": ["direct"] * 6 + ["facilitator"] * 6,
            "replicate": [0, 0, 1, 1, 2, 2] * 2,
            "step": [1, 2] * 6,
            "unmet_share": [0.5, 0.6, 0.4, 0.5, 0.6, 0.7, 0.4, 0.5, 0.4, 0.3, 0.5, 0.6],
        }
    )
    band = analysis.over_time(frame)
    row = band[(band.strategy == "direct") & (band.step == 1)].iloc[0]
    mean, low, high, n = analysis.mean_ci([0.5, 0.4, 0.6])
    assert (row["mean"], row["low"], row["high"], row["n"]) == pytest.approx((mean, low, high, n))
    assert high - mean == pytest.approx(stats.t.ppf(0.975, 2) * 0.1 / np.sqrt(3))
    diff = analysis.paired_over_time(frame)
    step2 = diff[diff.step == 2].iloc[0]
    assert step2["mean"] == pytest.approx(np.mean([-0.1, -0.2, -0.1]))
    assert analysis.mean_ci([1.0])[1] != analysis.mean_ci([1.0])[1]  # NaN for n = 1
