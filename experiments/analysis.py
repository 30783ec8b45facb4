"""Analysis of a sweep: final-year outcomes, confidence intervals, paired differences, risk.

Everything here works on the store's long table (one row per run and week, with the
columns ``run_id``, ``point``, ``point_label``, ``strategy``, ``replicate``, ``step`` and
the metrics). Conventions:

* The *final year* is the last 52 weeks of a run (all weeks if it is shorter); a final-
  year outcome is the mean of the weekly metric over it, except cumulative unmet hours,
  which is the value at the last week.
* A 95% confidence interval of a mean over ``n`` replicates is
  ``mean +- t(0.975, n - 1) * sd / sqrt(n)`` (Student's t); it is undefined (NaN) for
  ``n < 2``.
* Paired differences: strategy minus baseline (``direct`` by default) on the same
  design point and the same replicate index, which share their random numbers.
* Risk: the share of replicates whose final-year unmet share is above a threshold, and
  the 90th percentile of the final-year unmet share. The threshold is a fixed number if
  given; otherwise the median final-year unmet share of the baseline strategy at the
  same design point ("how often does this strategy do worse than a typical run of the
  baseline?").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

FINAL_WEEKS = 52
KEYS = ["point", "point_label", "strategy"]


@dataclass(frozen=True)
class Outcome:
    """A final-year outcome of a run.

    Attributes:
        name: Column name in the per-run table.
        metric: Weekly metric it comes from.
        how: ``mean`` (over the final year) or ``last`` (value at the last week).
        label: Heading in the report.
        fmt: Number format in the report.
        lower_is_better: Direction of "better".
    """

    name: str
    metric: str
    how: str
    label: str
    fmt: str
    lower_is_better: bool = True


OUTCOMES = (
    Outcome("unmet_share", "unmet_share", "mean", "Unmet share (final year)", "{:.3f}"),
    Outcome(
        "cumulative_unmet_hours",
        "cumulative_unmet_hours",
        "last",
        "Cumulative unmet hours",
        "{:,.0f}",
    ),
    Outcome(
        "residents_with_unmet_need",
        "residents_with_unmet_need",
        "mean",
        "Residents with unmet need (final year)",
        "{:,.1f}",
    ),
    Outcome("spend_total", "spend_total", "mean", "Spend per week, GBP (final year)", "{:,.0f}"),
    Outcome(
        "cost_per_met_hour",
        "cost_per_met_hour",
        "mean",
        "Cost per met hour, GBP (final year)",
        "{:.2f}",
    ),
    Outcome(
        "active_volunteers",
        "active_volunteers",
        "mean",
        "Active volunteers (final year)",
        "{:,.1f}",
        lower_is_better=False,
    ),
)


def available_outcomes(frame: pd.DataFrame) -> list[Outcome]:
    """Return the outcomes whose metric the store kept."""
    return [o for o in OUTCOMES if o.metric in frame.columns]


def mean_ci(values, level: float = 0.95) -> tuple[float, float, float, int]:
    """Mean and t-distribution confidence interval.

    Args:
        values: Numbers (NaN ignored).
        level: Confidence level.

    Returns:
        ``(mean, low, high, n)``; low and high are NaN when ``n < 2``.
    """
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    n = int(x.size)
    if n == 0:
        return float("nan"), float("nan"), float("nan"), 0
    mean = float(x.mean())
    if n < 2:
        return mean, float("nan"), float("nan"), n
    half = float(stats.t.ppf(0.5 + level / 2, n - 1) * x.std(ddof=1) / np.sqrt(n))
    return mean, mean - half, mean + half, n


def final_year(frame: pd.DataFrame, weeks: int = FINAL_WEEKS) -> pd.DataFrame:
    """One row per run: the final-year outcomes.

    Returns:
        Columns ``run_id, point, point_label, strategy, replicate`` and one per outcome.
    """
    frame = frame.sort_values(["run_id", "step"])
    rows = []
    outcomes = available_outcomes(frame)
    for run_id, run in frame.groupby("run_id", sort=True):
        tail = run.tail(min(weeks, len(run)))
        row = {
            "run_id": run_id,
            "point": int(run["point"].iloc[0]),
            "point_label": run["point_label"].iloc[0],
            "strategy": run["strategy"].iloc[0],
            "replicate": int(run["replicate"].iloc[0]),
        }
        for o in outcomes:
            row[o.name] = float(
                tail[o.metric].mean() if o.how == "mean" else run[o.metric].iloc[-1]
            )
        rows.append(row)
    return pd.DataFrame(rows)


def summary_table(per_run: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Mean and CI of every outcome per design point and strategy.

    Returns:
        One row per (point, strategy) with ``n`` and ``<outcome>_mean``, ``_low``,
        ``_high`` columns.
    """
    names = [o.name for o in OUTCOMES if o.name in per_run.columns]
    rows = []
    for (point, label, strategy), group in per_run.groupby(KEYS, sort=False):
        row = {"point": point, "point_label": label, "strategy": strategy, "n": len(group)}
        for name in names:
            mean, low, high, _ = mean_ci(group[name], level)
            row[f"{name}_mean"], row[f"{name}_low"], row[f"{name}_high"] = mean, low, high
        rows.append(row)
    return pd.DataFrame(rows).sort_values(["point"], kind="stable").reset_index(drop=True)


def paired_frame(per_run: pd.DataFrame, baseline: str) -> pd.DataFrame:
    """Per-run outcomes joined with the baseline's on (point, replicate)."""
    base = per_run[per_run["strategy"] == baseline]
    others = per_run[per_run["strategy"] != baseline]
    return others.merge(
        base.drop(columns=["run_id", "point_label", "strategy"]),
        on=["point", "replicate"],
        suffixes=("", "_baseline"),
    )


def paired_differences(
    per_run: pd.DataFrame, baseline: str = "direct", level: float = 0.95
) -> pd.DataFrame:
    """Paired differences (strategy minus baseline) of every outcome, with CIs.

    Returns:
        One row per (point, strategy, outcome): ``pairs``, ``mean``, ``low``, ``high``
        and ``share_better`` (share of pairs in which the strategy did better).
    """
    pairs = paired_frame(per_run, baseline)
    names = [o for o in OUTCOMES if o.name in per_run.columns]
    rows = []
    for (point, label, strategy), group in pairs.groupby(KEYS, sort=False):
        for o in names:
            diff = group[o.name] - group[f"{o.name}_baseline"]
            mean, low, high, n = mean_ci(diff, level)
            better = (diff < 0) if o.lower_is_better else (diff > 0)
            rows.append(
                {
                    "point": point,
                    "point_label": label,
                    "strategy": strategy,
                    "baseline": baseline,
                    "outcome": o.name,
                    "pairs": n,
                    "mean": mean,
                    "low": low,
                    "high": high,
                    "share_better": float(better.mean()) if n else float("nan"),
                }
            )
    columns = [
        "point", "point_label", "strategy", "baseline", "outcome",
        "pairs", "mean", "low", "high", "share_better",
    ]  # fmt: skip
    if not rows:
        return pd.DataFrame(columns=columns)
    return pd.DataFrame(rows, columns=columns).sort_values("point", kind="stable")


def risk_table(
    per_run: pd.DataFrame,
    threshold: float | None = None,
    baseline: str = "direct",
    quantile: float = 0.9,
) -> pd.DataFrame:
    """Risk of a bad outcome per design point and strategy (final-year unmet share).

    Args:
        per_run: Output of :func:`final_year`.
        threshold: Fixed threshold; None for the baseline's median at each point.
        baseline: Baseline strategy (for the default threshold).
        quantile: Upper percentile reported.

    Returns:
        One row per (point, strategy): ``threshold``, ``n``, ``share_above``
        (replicates strictly above the threshold) and ``p90``.
    """
    rows = []
    for (point, label, strategy), group in per_run.groupby(KEYS, sort=False):
        if threshold is None:
            base = per_run[(per_run["point"] == point) & (per_run["strategy"] == baseline)]
            limit = float(base["unmet_share"].median()) if len(base) else float("nan")
        else:
            limit = float(threshold)
        values = group["unmet_share"].to_numpy(dtype=float)
        rows.append(
            {
                "point": point,
                "point_label": label,
                "strategy": strategy,
                "threshold": limit,
                "n": len(values),
                "share_above": float((values > limit).mean()),
                "p90": float(np.quantile(values, quantile)),
            }
        )
    return pd.DataFrame(rows).sort_values("point", kind="stable").reset_index(drop=True)


def _band(grouped, level: float) -> pd.DataFrame:
    out = grouped.agg(mean="mean", sd="std", n="count").reset_index()
    t = stats.t.ppf(0.5 + level / 2, np.maximum(out["n"] - 1, 1))
    half = np.where(out["n"] > 1, t * out["sd"].fillna(0.0) / np.sqrt(out["n"]), np.nan)
    out["low"] = out["mean"] - half
    out["high"] = out["mean"] + half
    return out.drop(columns=["sd"])


def over_time(frame: pd.DataFrame, metric: str = "unmet_share", level: float = 0.95):
    """Weekly mean and CI band of a metric per design point and strategy.

    Returns:
        Columns ``point, point_label, strategy, step, mean, n, low, high``.
    """
    grouped = frame.groupby(KEYS + ["step"], sort=True)[metric]
    return _band(grouped, level)


def paired_over_time(
    frame: pd.DataFrame, metric: str = "unmet_share", baseline: str = "direct", level=0.95
) -> pd.DataFrame:
    """Weekly paired difference (strategy minus baseline, same replicate) with CI band.

    Returns:
        Columns ``point, point_label, strategy, step, mean, n, low, high``.
    """
    cols = ["point", "replicate", "step", metric]
    base = frame.loc[frame["strategy"] == baseline, cols]
    others = frame.loc[frame["strategy"] != baseline, KEYS + ["replicate", "step", metric]]
    joined = others.merge(base, on=["point", "replicate", "step"], suffixes=("", "_base"))
    joined["diff"] = joined[metric] - joined[f"{metric}_base"]
    return _band(joined.groupby(KEYS + ["step"], sort=True)["diff"], level)


#: Spend lines of the budget split, in report order (weekly metric, label).
SPEND_LINES = (
    ("spend_paid_care", "paid care"),
    ("spend_coordinators", "coordinators"),
    ("spend_volunteer_support", "volunteer support"),
    ("spend_outreach", "outreach"),
    ("spend_grants", "grants"),
    ("facilitation_unspent", "facilitation unspent"),
)

#: Coordinator hours by task (weekly metric, label).
COORDINATOR_TASKS = (
    ("coordinator_hours_follow_up", "follow-up"),
    ("coordinator_hours_support", "volunteer support"),
    ("coordinator_hours_matching", "new matches"),
    ("coordinator_hours_development", "community development"),
)


def budget_split(frame: pd.DataFrame) -> pd.DataFrame:
    """Where the money went: each spend line as a share of the budget, over all weeks of
    all replicates, per design point and strategy; ``not spent`` is what remains of the
    budget (paid-care money no eligible resident needed). Columns the store lacks are
    left out."""
    lines = [(m, label) for m, label in SPEND_LINES if m in frame.columns]
    if "budget" not in frame.columns or not lines:
        return pd.DataFrame()
    sums = frame.groupby(KEYS, sort=False)[["budget", *[m for m, _ in lines]]].sum()
    out = pd.DataFrame(index=sums.index)
    for m, label in lines:
        out[label] = sums[m] / sums["budget"].where(sums["budget"] > 0)
    rest = 1.0 - out[[label for _, label in lines]].sum(axis=1)
    out["not spent"] = rest.where(rest.abs() > 1e-9, 0.0)  # no "-0.0%" from rounding
    return out.reset_index()


def coordinator_split(frame: pd.DataFrame) -> pd.DataFrame:
    """Coordinators' hours a week by task (mean over all weeks and replicates), per design
    point and strategy; strategies without coordinators are left out."""
    tasks = [(m, label) for m, label in COORDINATOR_TASKS if m in frame.columns]
    if "coordinator_hours" not in frame.columns or not tasks:
        return pd.DataFrame()
    means = frame.groupby(KEYS, sort=False)[["coordinator_hours", *[m for m, _ in tasks]]].mean()
    means = means[means["coordinator_hours"] > 0]
    return means.rename(columns=dict(tasks) | {"coordinator_hours": "hours a week"}).reset_index()
