"""Robustness across design points: each strategy's regret.

At every design point each strategy's final-year outcome (mean over replicates) is
compared with the best strategy's there. The *regret* of a strategy at a point is how
much worse it does than the best (zero for the best); over the design points a strategy
is robust when its mean and maximum regret are small and it is within a tolerance of the
best at most points (Savage's minimax regret, as used in robust decision making; see
Lempert, Popper and Bankes 2003). The tolerance is in the outcome's units: by default
:data:`DEFAULT_TOLERANCE` for the unmet share (half a percentage point) and
:data:`RELATIVE_TOLERANCE` of the mean best value for the other outcomes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from experiments import analysis

DEFAULT_TOLERANCE = 0.005
RELATIVE_TOLERANCE = 0.01


def regret_table(per_run: pd.DataFrame, tolerance: float | None = None) -> pd.DataFrame:
    """Mean and maximum regret of every strategy on every outcome (``robustness.csv``).

    Args:
        per_run: Final-year outcomes of every run.
        tolerance: Regret in unmet share still counted as "as good as the best"
            (default :data:`DEFAULT_TOLERANCE`).

    Returns:
        One row per (outcome, strategy): ``points`` (design points where every strategy
        has a result), ``tolerance``, ``mean_regret``, ``max_regret``,
        ``share_within_tolerance`` and ``share_best``.
    """
    tolerance = DEFAULT_TOLERANCE if tolerance is None else tolerance
    strategies = list(dict.fromkeys(per_run["strategy"]))
    rows = []
    for o in analysis.available_outcomes(per_run):
        means = per_run.pivot_table(index="point", columns="strategy", values=o.name)
        means = means.reindex(columns=strategies).dropna()
        if len(strategies) < 2 or not len(means):
            continue
        values = means.to_numpy(dtype=float)
        best = values.min(axis=1) if o.lower_is_better else values.max(axis=1)
        regret = (values - best[:, None]) * (1 if o.lower_is_better else -1)
        tol = (
            tolerance
            if o.name == "unmet_share"
            else RELATIVE_TOLERANCE * float(np.mean(np.abs(best)))
        )
        for j, strategy in enumerate(strategies):
            rows.append(
                {
                    "outcome": o.name,
                    "strategy": strategy,
                    "points": len(means),
                    "tolerance": tol,
                    "mean_regret": float(regret[:, j].mean()),
                    "max_regret": float(regret[:, j].max()),
                    "share_within_tolerance": float((regret[:, j] <= tol).mean()),
                    "share_best": float((regret[:, j] == 0).mean()),
                }
            )
    return pd.DataFrame(rows)


def section(table: pd.DataFrame) -> list[str]:
    """The report section on robustness (regret)."""
    if not len(table):
        return []
    out = ["", "## Robustness: regret across design points", ""]
    rows = table[table["outcome"] == "unmet_share"]
    if not len(rows):
        return []
    tol = float(rows["tolerance"].iloc[0])
    out.append(
        f"At each of the {int(rows['points'].iloc[0])} design points, a strategy's regret is "
        "how much higher its final-year unmet share (mean over replicates) is than the best "
        "strategy's there. A robust strategy has small mean and maximum regret and is within "
        f"{tol:g} (the tolerance) of the best at most points."
    )
    out.append("")
    out.append("| strategy | mean regret | max regret | within tolerance | best at |")
    out.append("|---|---|---|---|---|")
    for r in rows.sort_values("mean_regret").itertuples(index=False):
        out.append(
            f"| {r.strategy} | {r.mean_regret:.4f} | {r.max_regret:.4f} | "
            f"{r.share_within_tolerance:.0%} | {r.share_best:.0%} |"
        )
    best = rows.sort_values(["max_regret", "mean_regret"]).iloc[0]
    out += [
        "",
        f"Least maximum regret (the minimax-regret choice): **{best.strategy}**, never more "
        f"than {best.max_regret:.3f} above the best. Other outcomes: `robustness.csv`.",
        "",
    ]
    return out
