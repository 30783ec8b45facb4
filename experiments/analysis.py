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
  baseline?"). The share gets a Wilson score interval, the percentile a percentile
  bootstrap interval (2,000 resamples from a fixed seed, so a report is reproducible).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

FINAL_WEEKS = 52
KEYS = ["point", "point_label", "strategy"]
#: Resamples and seed of the bootstrap intervals of the risk table's percentile.
BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 20240601


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
    """One row per run: the final-year outcomes (grouped operations, no loop over runs).

    Returns:
        Columns ``run_id, point, point_label, strategy, replicate`` and one per outcome,
        in ``run_id`` order.
    """
    outcomes = available_outcomes(frame)
    means = [o.metric for o in outcomes if o.how == "mean"]
    needed = ["run_id", "step", "point", "point_label", "strategy", "replicate"]
    needed += list(dict.fromkeys(o.metric for o in outcomes))
    frame = frame[needed].sort_values(["run_id", "step"], kind="stable", ignore_index=True)
    from_end = frame.groupby("run_id", sort=False).cumcount(ascending=False)
    last_week = frame[from_end == 0].set_index("run_id")  # one row per run, in order
    # over the last `weeks` rows of each run (all of them if it is shorter)
    mean = frame[from_end < weeks].groupby("run_id", sort=True)[means].mean()
    out = last_week[["point", "point_label", "strategy", "replicate"]].astype(
        {"point": int, "replicate": int}
    )
    for o in outcomes:
        out[o.name] = (mean[o.metric] if o.how == "mean" else last_week[o.metric]).astype(float)
    return out.reset_index()


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


def wilson_interval(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a share ``k / n`` (NaN for ``n = 0``).

    Unlike the normal approximation it stays inside 0-1 and is sensible at 0 or n of n,
    which is where a risk share of a few replicates often is.
    """
    if n == 0:
        return float("nan"), float("nan")
    ci = stats.binomtest(int(k), int(n)).proportion_ci(confidence_level=level, method="wilson")
    return float(ci.low), float(ci.high)


def bootstrap_quantile_interval(
    values, quantile: float, level: float = 0.95, resamples: int = BOOTSTRAP_RESAMPLES
) -> tuple[float, float]:
    """Percentile-bootstrap interval of a quantile of ``values`` (NaN for fewer than 2).

    The resampling generator is seeded with :data:`BOOTSTRAP_SEED`, so the same store
    always gives the same report.
    """
    x = np.asarray(values, dtype=float)
    if x.size < 2:
        return float("nan"), float("nan")
    if np.ptp(x) == 0:
        return float(x[0]), float(x[0])
    result = stats.bootstrap(
        (x,),
        lambda sample, axis: np.quantile(sample, quantile, axis=axis),
        confidence_level=level,
        n_resamples=resamples,
        method="percentile",
        vectorized=True,
        rng=np.random.default_rng(BOOTSTRAP_SEED),
    )
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def risk_table(
    per_run: pd.DataFrame,
    threshold: float | None = None,
    baseline: str = "direct",
    quantile: float = 0.9,
    level: float = 0.95,
) -> pd.DataFrame:
    """Risk of a bad outcome per design point and strategy (final-year unmet share).

    Args:
        per_run: Output of :func:`final_year`.
        threshold: Fixed threshold; None for the baseline's median at each point.
        baseline: Baseline strategy (for the default threshold).
        quantile: Upper percentile reported.
        level: Confidence level of the intervals.

    Returns:
        One row per (point, strategy): ``threshold``, ``n``, ``share_above`` (replicates
        strictly above the threshold) with its Wilson interval ``share_above_low`` and
        ``share_above_high``, and ``p90`` with its percentile-bootstrap interval
        ``p90_low`` and ``p90_high``.
    """
    rows = []
    for (point, label, strategy), group in per_run.groupby(KEYS, sort=False):
        if threshold is None:
            base = per_run[(per_run["point"] == point) & (per_run["strategy"] == baseline)]
            limit = float(base["unmet_share"].median()) if len(base) else float("nan")
        else:
            limit = float(threshold)
        values = group["unmet_share"].to_numpy(dtype=float)
        above = int((values > limit).sum())
        share_low, share_high = wilson_interval(above, len(values), level)
        p90_low, p90_high = bootstrap_quantile_interval(values, quantile, level)
        rows.append(
            {
                "point": point,
                "point_label": label,
                "strategy": strategy,
                "threshold": limit,
                "n": len(values),
                "share_above": above / len(values),
                "share_above_low": share_low,
                "share_above_high": share_high,
                "p90": float(np.quantile(values, quantile)),
                "p90_low": p90_low,
                "p90_high": p90_high,
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
    ("spend_care_homes", "care homes"),
    ("spend_paid_care", "paid care"),
    ("spend_coordinators", "coordinators"),
    ("spend_volunteer_support", "volunteer support"),
    ("spend_outreach", "outreach"),
    ("spend_grants", "grants"),
    ("spend_carer_support", "carer support"),
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
    budget (home-care money no eligible resident needed; negative when the care-home
    places alone cost more than the budget). Columns the store lacks are left out."""
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
