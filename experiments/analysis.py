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
* Tolerance: a difference smaller than an outcome's tolerance (half a percentage point
  of unmet share; 1% of the baseline's level for counts, 0.5% for money) is *no
  difference*: it counts neither as better nor as worse. :func:`verdict` puts a paired
  difference and its interval into one of ``better``, ``worse``, ``same`` (the whole
  interval within the tolerance), ``small`` (clearly not zero, but below the tolerance)
  or ``unclear``.
* Risk: the share of replicates whose final-year unmet share is above a threshold, and
  the 90th percentile of the final-year unmet share. The threshold is a fixed number if
  given; otherwise the median final-year unmet share of the baseline strategy at the
  same design point ("how often does this strategy do worse than a typical run of the
  baseline?"). The share gets a Wilson score interval, the percentile a percentile
  bootstrap interval (2,000 resamples from a fixed seed, so a report is reproducible).
"""

from __future__ import annotations

import math
import warnings
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
        tolerance: Differences smaller than this are "no difference": an absolute amount
            (``relative`` false) or a share of the baseline's level.
        relative: Whether ``tolerance`` is a share of the baseline's level.
    """

    name: str
    metric: str
    how: str
    label: str
    fmt: str
    lower_is_better: bool = True
    tolerance: float = 0.01
    relative: bool = True

    def tolerance_at(self, level: float) -> float:
        """The tolerance in the outcome's units, where the baseline's level is ``level``."""
        if not self.relative:
            return self.tolerance
        return self.tolerance * abs(level) if math.isfinite(level) else float("nan")

    def describe_tolerance(self) -> str:
        """``0.5 percentage points`` or ``1% of the baseline's level``."""
        if self.name.endswith("_share") and not self.relative:
            return f"{self.tolerance * 100:g} percentage points"
        if not self.relative:
            return self.fmt.format(self.tolerance)
        return f"{self.tolerance:.1%}".replace(".0%", "%") + " of the baseline's level"


OUTCOMES = (
    Outcome(
        "unmet_share",
        "unmet_share",
        "mean",
        "Unmet share (final year)",
        "{:.3f}",
        tolerance=0.005,
        relative=False,
    ),
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
    Outcome(
        "spend_total",
        "spend_total",
        "mean",
        "Spend per week, GBP (final year)",
        "{:,.0f}",
        tolerance=0.005,
    ),
    Outcome(
        "cost_per_met_hour",
        "cost_per_met_hour",
        "mean",
        "Cost per met hour, GBP (final year)",
        "{:.2f}",
        tolerance=0.005,
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


def verdict(mean: float, low: float, high: float, tolerance: float, lower_is_better: bool) -> str:
    """Put a paired difference into words a reader can act on.

    Returns:
        ``"better"`` or ``"worse"`` when the interval excludes zero and the mean is at
        least the tolerance; ``"same"`` when the whole interval lies within the
        tolerance (or, with no interval, the mean does); ``"small"`` when the interval
        excludes zero but the mean is below the tolerance (a real difference too small
        to count: neither better nor worse, but said); else ``"unclear"``.
    """
    if math.isnan(mean):
        return "unclear"
    if math.isnan(low):
        if abs(mean) < tolerance:
            return "same"
        return "unclear"
    if -tolerance <= low and high <= tolerance:
        return "same"
    if high < 0 or low > 0:
        if abs(mean) < tolerance:
            return "small"
        lower = high < 0
        return "better" if lower == lower_is_better else "worse"
    return "unclear"


def paired_differences(
    per_run: pd.DataFrame, baseline: str = "direct", level: float = 0.95
) -> pd.DataFrame:
    """Paired differences (strategy minus baseline) of every outcome, with CIs.

    Returns:
        One row per (point, strategy, outcome): ``pairs``, ``mean``, ``low``, ``high``;
        the baseline's and the strategy's mean levels; the ``tolerance`` (in the
        outcome's units); ``share_better``, ``share_worse`` and ``share_same`` (shares of
        pairs in which the strategy did better or worse by at least the tolerance, or
        neither) and the ``verdict`` (see :func:`verdict`).
    """
    pairs = paired_frame(per_run, baseline)
    names = [o for o in OUTCOMES if o.name in per_run.columns]
    rows = []
    for (point, label, strategy), group in pairs.groupby(KEYS, sort=False):
        for o in names:
            base = group[f"{o.name}_baseline"]
            diff = group[o.name] - base
            mean, low, high, n = mean_ci(diff, level)
            base_level = float(base.mean())
            tol = o.tolerance_at(base_level)
            gain = -diff if o.lower_is_better else diff
            better = (gain >= tol) & (gain > 0)
            worse = (gain <= -tol) & (gain < 0)
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
                    "baseline_level": base_level,
                    "strategy_level": float(group[o.name].mean()),
                    "tolerance": tol,
                    "share_better": float(better.mean()) if n else float("nan"),
                    "share_worse": float(worse.mean()) if n else float("nan"),
                    "share_same": float((~better & ~worse).mean()) if n else float("nan"),
                    "verdict": verdict(mean, low, high, tol, o.lower_is_better),
                }
            )
    columns = [
        "point", "point_label", "strategy", "baseline", "outcome", "pairs", "mean", "low",
        "high", "baseline_level", "strategy_level", "tolerance", "share_better",
        "share_worse", "share_same", "verdict",
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


#: The columns of the store that name a run's week.
RUN_KEYS = ("point", "point_label", "strategy", "replicate", "step")


def report_columns(held: list[str]) -> list[str]:
    """The columns the report reads, of those a store ``held``: the run keys, the
    metrics of :data:`OUTCOMES`, the budget and coordinator hours and their splits (far
    less than every metric of every run)."""
    wanted = [*RUN_KEYS, *(o.metric for o in OUTCOMES)]
    wanted += ["budget", "coordinator_hours"]
    wanted += [metric for metric, _ in SPEND_LINES + COORDINATOR_TASKS]
    return [c for c in dict.fromkeys(wanted) if c in held or c in RUN_KEYS]


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
    out["not spent"] = 1.0 - out[[label for _, label in lines]].sum(axis=1)
    out = out.mask(out.abs() < 1e-9, 0.0)  # no "-0.0%" from rounding
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


def paired_between(
    a: pd.DataFrame, b: pd.DataFrame, paired: bool = True, level: float = 0.95
) -> pd.DataFrame:
    """Differences of every outcome between two experiments (B minus A), per design point
    and strategy: paired by replicate when both ran on the same seeds, else unpaired
    (Welch's interval for a difference of means).

    Args:
        a: Per-run final-year outcomes of experiment A (:func:`final_year`).
        b: The same of experiment B (same design points and strategies).
        paired: Whether replicate r of A and of B share their seeds.
        level: Confidence level.

    Returns:
        The columns of :func:`paired_differences`, with ``baseline`` = ``"A"``.
    """
    rows = []
    names = [o for o in OUTCOMES if o.name in a.columns and o.name in b.columns]
    for (point, label, strategy), group_b in b.groupby(KEYS, sort=False):
        group_a = a[(a["point"] == point) & (a["strategy"] == strategy)]
        if group_a.empty:
            continue
        joined = group_b.merge(group_a, on="replicate", suffixes=("", "_a")) if paired else None
        for o in names:
            if paired:
                diff = joined[o.name] - joined[f"{o.name}_a"]
                mean, low, high, n = mean_ci(diff, level)
                base_level = float(joined[f"{o.name}_a"].mean())
                new_level = float(joined[o.name].mean())
            else:
                xb, xa = group_b[o.name].to_numpy(float), group_a[o.name].to_numpy(float)
                base_level, new_level = float(xa.mean()), float(xb.mean())
                mean, n = new_level - base_level, min(len(xa), len(xb))
                low = high = float("nan")
                if len(xa) > 1 and len(xb) > 1 and (xa.std() > 0 or xb.std() > 0):
                    with warnings.catch_warnings():  # near-equal values (the same spend)
                        warnings.simplefilter("ignore", RuntimeWarning)
                        test = stats.ttest_ind(xb, xa, equal_var=False)
                        ci = test.confidence_interval(level)
                    low, high = float(ci.low), float(ci.high)
                elif len(xa) > 1 and len(xb) > 1:
                    low = high = mean
            tol = o.tolerance_at(base_level)
            rows.append(
                {
                    "point": point,
                    "point_label": label,
                    "strategy": strategy,
                    "baseline": "A",
                    "outcome": o.name,
                    "pairs": n,
                    "mean": mean,
                    "low": low,
                    "high": high,
                    "baseline_level": base_level,
                    "strategy_level": new_level,
                    "tolerance": tol,
                    "verdict": verdict(mean, low, high, tol, o.lower_is_better),
                }
            )
    return pd.DataFrame(rows)


def between_over_time(
    a: pd.DataFrame, b: pd.DataFrame, metric: str = "unmet_share", level: float = 0.95
) -> pd.DataFrame:
    """Weekly difference B minus A of a metric, paired by replicate, with a CI band.

    Returns:
        Columns ``point, point_label, strategy, step, mean, n, low, high``.
    """
    cols = ["point", "strategy", "replicate", "step", metric]
    joined = b[KEYS + ["replicate", "step", metric]].merge(
        a[cols], on=["point", "strategy", "replicate", "step"], suffixes=("", "_a")
    )
    joined["diff"] = joined[metric] - joined[f"{metric}_a"]
    return _band(joined.groupby(KEYS + ["step"], sort=True)["diff"], level)
