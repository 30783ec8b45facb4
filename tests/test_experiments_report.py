"""The report's numbers, checked against a direct computation from the store."""

from __future__ import annotations

import base64
import json
import re
import shutil
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from experiments import analysis, plots
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


def test_report_shows_where_the_money_and_coordinators_time_went(sweep):
    out, _paths = sweep
    md = (out / "report.md").read_text()
    assert "## Where the money went" in md and "## Coordinators' week" in md
    split = pd.read_csv(out / "budget_split.csv")
    frame = pd.read_parquet(out / "runs")
    lines = ["care homes", "paid care", "coordinators", "volunteer support", "outreach"]
    lines += ["grants", "carer support", "facilitation unspent", "not spent"]
    for _, row in split.iterrows():
        runs = frame[(frame.point == row["point"]) & (frame.strategy == row["strategy"])]
        assert row["coordinators"] == pytest.approx(
            runs.spend_coordinators.sum() / runs.budget.sum()
        )
        assert row[lines].sum() == pytest.approx(1.0)
    assert set(split.strategy) == {"direct", "facilitator", "hybrid"}
    hours = pd.read_csv(out / "coordinator_hours.csv")
    assert set(hours.strategy) == {"facilitator", "hybrid"}  # direct employs none
    tasks = ["follow-up", "volunteer support", "new matches", "community development"]
    assert hours[tasks].sum(axis=1).to_numpy() == pytest.approx(hours["hours a week"].to_numpy())


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


# --- a report a council officer reads ----------------------------------------------------------
def _section(md: str, title: str) -> str:
    return md.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_the_headline_comes_first_in_plain_words_with_levels(sweep):
    out, _ = sweep
    md = (out / "report.md").read_text()
    assert md.split("\n## ")[1].startswith("In short")  # the officer's summary first
    head = _section(md, "In short")
    paired = pd.read_csv(out / "paired.csv")
    bullets = [line for line in head.splitlines() if line.startswith("- **In the ")]
    assert len(bullets) == 4  # 2 design points x 2 strategies against direct
    for row in paired[paired.outcome == "unmet_share"].itertuples():
        scenario = "baseline" if row.point == 0 else "asset_poor"
        title = {"facilitator": "Facilitator hub", "hybrid": "Hybrid"}[row.strategy]
        line = next(b for b in bullets if f"the {scenario} scenario, {title} instead" in b)
        line = line.lower()
        points = 100 * abs(row.mean)
        digits = 0 if points >= 3 else 1
        levels = f"{100 * row.baseline_level:.{digits}f}% to {100 * row.strategy_level:.{digits}f}%"
        if row.verdict in ("better", "worse"):
            word = "less" if row.mean < 0 else "more"
            assert f"{points:.1f} percentage points {word} of the needed care hours" in line
            assert levels in line
        elif row.verdict == "same":
            assert "the same share of the needed care hours goes unmet" in line
        elif row.verdict == "small":
            word = "less" if row.mean < 0 else "more"
            assert f"slightly {word} of the needed care hours go unmet ({levels}" in line
            assert "below the 0.5-point tolerance" in line
        else:
            assert f"no clear difference in the share of needed care hours unmet ({levels}" in (
                line
            )
        assert "residents" in line and "some unmet need" in line  # people, not only hours
        assert "£" in line and "a week" in line  # and money
    assert "percentage points of unmet share" in head and "**no difference**" in head
    assert "show only the model's own randomness" in head
    assert "leave out the uncertainty of the parameters" in head
    assert "Warning: only 4 replicates" in head  # fewer than five


def test_spend_differences_below_the_tolerance_are_no_difference(sweep):
    out, _ = sweep
    paired = pd.read_csv(out / "paired.csv")
    spend = paired[paired.outcome == "spend_total"]
    # the strategies get the same budget, but direct delivery leaves what it cannot use on
    # eligible need unspent (docs/ODD.md section 8), so spend can differ: a difference is
    # 'same' exactly when its whole interval lies within the tolerance
    within = (spend["low"].abs() < spend["tolerance"]) & (spend["high"].abs() < spend["tolerance"])
    assert ((spend["verdict"] == "same") == within).all()
    assert (spend.loc[within, "share_better"] == 0).all()


@pytest.mark.parametrize(
    "mean, low, high, tolerance, lower_is_better, expected",
    [
        (-0.02, -0.03, -0.01, 0.005, True, "better"),
        (0.02, 0.01, 0.03, 0.005, True, "worse"),
        (0.02, 0.01, 0.03, 0.005, False, "better"),
        (0.001, -0.002, 0.004, 0.005, True, "same"),  # the whole interval is within it
        (0.004, 0.003, 0.005, 0.005, True, "same"),
        (0.003, 0.001, 0.0055, 0.005, True, "small"),  # excludes 0, but below tolerance
        (0.003, -0.001, 0.007, 0.005, True, "unclear"),
        (-0.02, -0.05, 0.01, 0.005, True, "unclear"),  # includes zero
        (1e-12, float("nan"), float("nan"), 0.005, True, "same"),  # one pair
        (0.02, float("nan"), float("nan"), 0.005, True, "unclear"),
    ],
)
def test_verdicts(mean, low, high, tolerance, lower_is_better, expected):
    assert analysis.verdict(mean, low, high, tolerance, lower_is_better) == expected


def test_replicate_warning_only_under_five():
    from experiments import sections

    class Ctx:
        replicates = (5, 6)

    assert sections.replicate_warning(Ctx()) is None
    Ctx.replicates = (2, 2)
    assert "Warning: only 2 replicates" in sections.replicate_warning(Ctx())


def test_report_html_is_self_contained(sweep, tmp_path):
    out, paths = sweep
    html = (out / "report.html").read_text()
    assert 'src="figures/' not in html
    images = re.findall(r'<img alt="[^"]*" src="data:image/png;base64,([^"]+)"', html)
    assert len(images) == len(paths["figures"]) >= 2
    assert base64.b64decode(images[0])[:8] == b"\x89PNG\r\n\x1a\n"
    moved = tmp_path / "emailed.html"  # alone, away from figures/
    shutil.copy(out / "report.html", moved)
    assert moved.read_text() == html


class _Figures:
    """Collects the matplotlib figures the plotting functions make."""

    def __init__(self, monkeypatch):
        self.figures = []
        monkeypatch.setattr(plots.plt, "close", self.figures.append)

    def line_colors(self) -> list[dict[str, str]]:
        from matplotlib.colors import to_hex

        out = []
        for fig in self.figures:
            colors: dict[str, set] = {}
            for ax in fig.axes:
                for line in ax.get_lines():
                    if not line.get_label().startswith("_"):
                        colors.setdefault(line.get_label(), set()).add(to_hex(line.get_color()))
            for legend in fig.legends:
                for handle, text in zip(legend.legend_handles, legend.get_texts(), strict=True):
                    colors.setdefault(text.get_text(), set()).add(to_hex(handle.get_color()))
            out.append(colors)
        return out


def test_one_colour_per_strategy_in_every_figure(sweep, tmp_path, monkeypatch):
    out, _ = sweep
    figures = _Figures(monkeypatch)
    write_report(out, out=tmp_path / "again")
    expected = plots.strategy_colors(["direct", "facilitator", "hybrid"])
    assert expected == {"direct": "#0072B2", "facilitator": "#D55E00", "hybrid": "#009E73"}
    seen = figures.line_colors()
    assert len(seen) >= 2
    for colors in seen:
        strategies = {k: v for k, v in colors.items() if k in expected}
        assert strategies, colors
        for strategy, found in strategies.items():
            assert found == {expected[strategy].lower()}, (strategy, found)
    # the legend names each strategy once
    for fig in figures.figures:
        for legend in fig.legends:
            names = [t.get_text() for t in legend.get_texts()]
            assert len(names) == len(set(names))
    # a strategy keeps its colour whatever the order of the spec
    assert plots.strategy_colors(["hybrid", "direct", "mine"])["direct"] == "#0072B2"


LHS_SPEC = """
name = "lhs_report"
strategies = ["direct", "facilitator"]
replicates = 2
steps = 20
seed = 5
[fixed]
residents = 100
[design]
type = "latin_hypercube"
samples = 12
[design.ranges]
civic_potential = [0.1, 0.9]
budget_scale = [0.6, 1.4]
safety_net_share = [0.2, 0.8]
"""


def test_latin_hypercube_report_has_one_effect_panel_per_parameter(tmp_path, monkeypatch):
    (tmp_path / "spec.toml").write_text(LHS_SPEC)
    out = tmp_path / "out"
    run_sweep(specs.load_spec(tmp_path / "spec.toml"), str(out), executor="serial", progress=False)
    figures = _Figures(monkeypatch)
    paths = write_report(out)
    names = {p.name for p in paths["figures"]}
    assert "effects.png" in names and "crossover.png" not in names
    effects = next(
        f
        for f in figures.figures  # (the scenario-discovery figure has no suptitle)
        if f._suptitle is not None and "Effect of each parameter" in f._suptitle.get_text()
    )
    panels = [ax for ax in effects.axes if ax.get_visible()]
    assert sorted(ax.get_xlabel() for ax in panels) == [
        "budget_scale",
        "civic_potential",
        "safety_net_share",
    ]
    from matplotlib.colors import to_hex

    for ax in panels:  # one binned line per strategy, not one line per sampled value
        drawn = [to_hex(line.get_color()) for line in ax.get_lines()]
        assert drawn.count(plots.strategy_colors(["facilitator"])["facilitator"].lower()) == 1
        assert len(drawn) == 2  # and the zero line
    md = (out / "report.md").read_text()
    assert "partial dependence" in md
    assert "Design seed (Latin hypercube sample): " in md
    head = _section(md, "In short")
    assert "averaged over the 12 design points" in head and "of 12 design points" in head


def test_effect_table_is_the_mean_over_the_other_parameters():
    points = pd.DataFrame({"point": range(6), "a": [1, 1, 1, 2, 2, 2], "b": [0, 1, 2, 0, 1, 2]})
    paired = pd.DataFrame(
        {
            "point": range(6),
            "strategy": "facilitator",
            "outcome": "unmet_share",
            "mean": [0.1, 0.2, 0.3, -0.1, 0.0, 0.4],
        }
    )
    table = plots.effect_table(paired, points, "a", exact=True)
    assert table["x"].tolist() == [1.0, 2.0]
    assert table["mean"].tolist() == pytest.approx([0.2, 0.1])
    mean, low, high, n = analysis.mean_ci([-0.1, 0.0, 0.4])
    assert (table["low"][1], table["high"][1], table["points"][1]) == pytest.approx((low, high, n))


# --- civic-sim report --compare ----------------------------------------------------------------
COMPARE_SPEC = """
name = "{name}"
strategies = ["direct", "facilitator"]
replicates = 3
steps = 40
seed = {seed}
[fixed]
residents = 150
budget_scale = {budget}
"""


@pytest.fixture(scope="module")
def two_sweeps(tmp_path_factory):
    folder = tmp_path_factory.mktemp("compare")
    outs = {}
    for name, seed, budget in (("before", 7, 1.0), ("after", 7, 1.3), ("elsewhere", 8, 1.3)):
        path = folder / f"{name}.toml"
        path.write_text(COMPARE_SPEC.format(name=name, seed=seed, budget=budget))
        outs[name] = folder / name
        run_sweep(specs.load_spec(path), str(outs[name]), executor="serial", progress=False)
    return outs


def test_compare_pairs_two_sweeps_on_the_same_seeds(two_sweeps, tmp_path):
    from experiments.cli import main

    a, b = two_sweeps["before"], two_sweeps["after"]
    assert main(["report", "--compare", str(a), str(b)]) == 0
    out = b / "comparison"
    table = pd.read_csv(out / "comparison.csv")
    ya, yb = direct_final_year(a), direct_final_year(b)
    for row in table[table.outcome == "unmet_share"].itertuples():
        xa = ya[ya.strategy == row.strategy].set_index("replicate")["unmet_share"]
        xb = yb[yb.strategy == row.strategy].set_index("replicate")["unmet_share"]
        diffs = (xb - xa).to_numpy()
        mean, low, high, n = analysis.mean_ci(diffs)
        assert (row.mean, row.low, row.high, row.pairs) == pytest.approx((mean, low, high, n))
        assert row.baseline_level == pytest.approx(xa.mean())
    md = (out / "report.md").read_text()
    head = _section(md, "In short")
    assert "under Facilitator hub, B instead of A:" in head
    assert "under Direct delivery, B instead of A:" in head
    differs = _section(md, "What differs between A and B")
    assert "spec.fixed.budget_scale (stored 1.0, now 1.3)" in differs
    assert "Model: the same" in differs
    assert "data:image/png;base64," in (out / "report.html").read_text()


def test_compare_on_different_seeds_is_unpaired_and_says_so(two_sweeps, tmp_path):
    from experiments.compare import write_comparison

    a, b = two_sweeps["before"], two_sweeps["elsewhere"]
    write_comparison(a, b, tmp_path)
    md = (tmp_path / "report.md").read_text()
    assert "ran on different seeds" in md and "compared unpaired" in md
    table = pd.read_csv(tmp_path / "comparison.csv")
    ya, yb = direct_final_year(a), direct_final_year(b)
    row = table[(table.outcome == "unmet_share") & (table.strategy == "direct")].iloc[0]
    xa = ya[ya.strategy == "direct"]["unmet_share"].to_numpy()
    xb = yb[yb.strategy == "direct"]["unmet_share"].to_numpy()
    ci = stats.ttest_ind(xb, xa, equal_var=False).confidence_interval(0.95)
    assert (row["mean"], row["low"], row["high"]) == pytest.approx(
        (xb.mean() - xa.mean(), ci.low, ci.high)
    )


def test_compare_refuses_different_designs(two_sweeps, tmp_path, capsys):
    from experiments.cli import main

    other = tmp_path / "points.toml"
    other.write_text(
        COMPARE_SPEC.format(name="pts", seed=7, budget=1.0)
        + '[design]\ntype = "points"\npoints = [{ civic_potential = 0.3 }]\n'
    )
    run_sweep(specs.load_spec(other), str(tmp_path / "pts"), executor="serial", progress=False)
    code = main(["report", "--compare", str(two_sweeps["before"]), str(tmp_path / "pts")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "different design points" in err


def test_headline_sentences_in_plain_words():
    from experiments.headline import comparison_sentence

    def row(outcome, a, b, low, high, tolerance, verdict):
        return {
            "outcome": outcome,
            "baseline_level": a,
            "strategy_level": b,
            "mean": b - a,
            "low": low,
            "high": high,
            "tolerance": tolerance,
            "verdict": verdict,
        }

    rows = pd.DataFrame(
        [
            row("unmet_share", 0.61, 0.594, -0.028, -0.004, 0.005, "better"),
            row("residents_with_unmet_need", 422.0, 425.0, 0.8, 5.2, 4.22, "small"),
            row("spend_total", 26800.0, 26800.0 + 1e-9, 0.0, 1e-9, 134.0, "same"),
        ]
    )
    assert comparison_sentence(rows) == (
        "1.6 percentage points less of the needed care hours go unmet (61.0% to 59.4%; 95% "
        "CI -2.8 to -0.4 points); slightly more residents have some unmet need (422 to 425; "
        "3.0, below the tolerance of 4.2); the same spend (£26,800 a week)."
    )
    rows = pd.DataFrame(
        [
            row("unmet_share", 0.40, 0.45, 0.03, 0.07, 0.005, "worse"),
            row("residents_with_unmet_need", 300.0, 280.0, -30.0, -10.0, 3.0, "better"),
            row("spend_total", 20000.0, 21000.0, 900.0, 1100.0, 100.0, "worse"),
        ]
    )
    assert comparison_sentence(rows) == (
        "5.0 percentage points more of the needed care hours go unmet (40% to 45%; 95% CI "
        "+3.0 to +7.0 points); 20 fewer residents have some unmet need (300 to 280); the "
        "council spends £1,000 more a week (£20,000 to £21,000)."
    )
    unclear = pd.DataFrame([row("unmet_share", 0.5, 0.49, -0.03, 0.01, 0.005, "unclear")])
    assert comparison_sentence(unclear) == (
        "No clear difference in the share of needed care hours unmet (50.0% to 49.0%; 95% CI "
        "-3.0 to +1.0 points)."
    )


def test_the_report_reads_strategy_titles_from_the_manifest_without_the_model(sweep, tmp_path):
    """The sweep records each strategy's title; writing the report (in a fresh process)
    then never imports the model, which costs about a second of a report."""
    import subprocess
    import sys

    out, _paths = sweep
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["strategy_titles"] == {
        "direct": "Direct delivery", "facilitator": "Facilitator hub", "hybrid": "Hybrid"
    }  # fmt: skip
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    code = (
        "import sys; from experiments.report import write_report; "
        f"write_report({str(copy)!r}); print('model.civic_model' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "False"
    assert "Facilitator hub instead of Direct delivery" in (copy / "report.md").read_text()
