"""Plain words for a council officer: what a strategy changes, in levels and points.

A paired difference from :func:`experiments.analysis.paired_differences` becomes a
sentence such as "1.6 percentage points less of the needed care hours go unmet (61% to
59%)": the change in percentage points with both levels, the people affected as well as
the hours, and the money. A difference within the outcome's tolerance is "the same", not
"better"; a difference whose interval includes zero is "no clear difference".
"""

from __future__ import annotations

import math

import pandas as pd

from experiments.analysis import OUTCOMES, mean_ci, verdict

#: The outcomes a headline speaks of, in the order it speaks of them.
HEADLINE_OUTCOMES = ("unmet_share", "residents_with_unmet_need", "spend_total")


def strategy_title(name: str, titles: dict[str, str] | None = None) -> str:
    """A strategy's title (``Facilitator hub``), or its name if it is not registered.

    Args:
        name: The strategy's name.
        titles: The titles a sweep recorded (its manifest's ``strategy_titles``); the
            model's registry is looked up (and the model imported) only without them.
    """
    if titles and name in titles:
        return titles[name]
    try:
        from model.strategies import strategy_classes

        cls = strategy_classes().get(name)
    except ImportError:  # pragma: no cover - the model package is always there
        cls = None
    return (getattr(cls, "title", None) or name) if cls is not None else name


def point_words(values: dict) -> str:
    """A design point in words: ``the baseline scenario``, ``civic_potential 0.3``."""
    if not values:
        return "the default setting"
    parts = []
    for name, value in values.items():
        if name == "scenario":
            parts.append(f"the {value} scenario")
        else:
            text = f"{value:.3g}" if isinstance(value, float) else str(value)
            parts.append(f"{name} {text}")
    return ", ".join(parts)


def _pct(share: float, decimals: int) -> str:
    return f"{100 * share:.{decimals}f}%"


def _gbp(amount: float) -> str:
    return f"£{amount:,.0f}"


def _interval(low: float, high: float, scale: float, unit: str, fmt: str = "{:+.1f}") -> str:
    if math.isnan(low):
        return "too few replicates for an interval"
    return f"95% CI {fmt.format(scale * low)} to {fmt.format(scale * high)}{unit}"


def unmet_sentence(row) -> str:
    """The unmet share of needed hours, in percentage points with both levels."""
    a, b = row.baseline_level, row.strategy_level
    points = 100 * abs(row.mean)
    decimals = 0 if points >= 3 else 1
    levels = f"{_pct(a, decimals)} to {_pct(b, decimals)}"
    ci = _interval(row.low, row.high, 100, " points")
    tol = 100 * row.tolerance
    if row.verdict in ("better", "worse"):
        word = "less" if row.mean < 0 else "more"
        return (
            f"{points:.1f} percentage points {word} of the needed care hours go unmet "
            f"({levels}; {ci})"
        )
    if row.verdict == "same":
        return (
            f"the same share of the needed care hours goes unmet ({_pct(a, 0)}; the "
            f"difference, {100 * row.mean:+.1f} points, is within the {tol:g}-point tolerance)"
        )
    if row.verdict == "small":
        word = "less" if row.mean < 0 else "more"
        return (
            f"slightly {word} of the needed care hours go unmet ({levels}; {points:.1f} "
            f"points, below the {tol:g}-point tolerance; {ci})"
        )
    return f"no clear difference in the share of needed care hours unmet ({levels}; {ci})"


def _count(x: float, sign: bool = False) -> str:
    """A number of people: whole from 10 up, else with one decimal (a mean over weeks)."""
    decimals = 0 if abs(x) >= 10 else 1
    return f"{x:+,.{decimals}f}" if sign else f"{x:,.{decimals}f}"


def people_sentence(row) -> str:
    """Residents with some unmet need: how many more or fewer, with both levels."""
    a, b, n = row.baseline_level, row.strategy_level, abs(row.mean)
    if row.verdict in ("better", "worse"):
        word = "fewer" if row.mean < 0 else "more"
        return f"{_count(n)} {word} residents have some unmet need ({_count(a)} to {_count(b)})"
    if row.verdict == "same":
        return f"about as many residents have some unmet need ({_count(a)})"
    if row.verdict == "small":
        word = "fewer" if row.mean < 0 else "more"
        return (
            f"slightly {word} residents have some unmet need ({_count(a)} to {_count(b)}; "
            f"{_count(n)}, below the tolerance of {_count(row.tolerance)})"
        )
    if math.isnan(row.low):
        ci = "too few replicates for an interval"
    else:
        ci = f"95% CI {_count(row.low, True)} to {_count(row.high, True)}"
    return (
        f"no clear difference in the residents with some unmet need ({_count(a)} and "
        f"{_count(b)}; {ci})"
    )


def cost_sentence(row) -> str:
    """The council's weekly spend: the same, or how much more or less."""
    a, b = row.baseline_level, row.strategy_level
    if row.verdict in ("same", "small"):
        return f"the same spend ({_gbp(a)} a week)"
    if row.verdict in ("better", "worse"):
        word = "less" if row.mean < 0 else "more"
        return f"the council spends {_gbp(abs(row.mean))} {word} a week ({_gbp(a)} to {_gbp(b)})"
    return f"spend {_gbp(a)} and {_gbp(b)} a week (no clear difference)"


SENTENCES = {
    "unmet_share": unmet_sentence,
    "residents_with_unmet_need": people_sentence,
    "spend_total": cost_sentence,
}


def comparison_sentence(rows: pd.DataFrame) -> str:
    """One sentence from the paired rows of one design point and strategy (any of the
    :data:`HEADLINE_OUTCOMES` present)."""
    by_outcome = {r.outcome: r for r in rows.itertuples(index=False)}
    parts = [SENTENCES[o](by_outcome[o]) for o in HEADLINE_OUTCOMES if o in by_outcome]
    text = "; ".join(parts)
    return text[:1].upper() + text[1:] + "." if text else ""


def pooled(per_pair: pd.DataFrame, outcome: str, level: float = 0.95) -> dict:
    """The average paired difference over every design point (all pairs pooled)."""
    o = next(o for o in OUTCOMES if o.name == outcome)
    diff = per_pair[outcome] - per_pair[f"{outcome}_baseline"]
    mean, low, high, n = mean_ci(diff, level)
    base = float(per_pair[f"{outcome}_baseline"].mean())
    tol = o.tolerance_at(base)
    return {
        "outcome": outcome,
        "mean": mean,
        "low": low,
        "high": high,
        "pairs": n,
        "baseline_level": base,
        "strategy_level": float(per_pair[outcome].mean()),
        "tolerance": tol,
        "verdict": verdict(mean, low, high, tol, o.lower_is_better),
    }


def verdict_counts(paired: pd.DataFrame, strategy: str) -> str:
    """``clearly less unmet need at 12 of 40 points, more at 3, the same at 20, unclear
    at 5`` for the unmet share of one strategy."""
    rows = paired[(paired["outcome"] == "unmet_share") & (paired["strategy"] == strategy)]
    counts = rows["verdict"].value_counts()
    n = len(rows)
    same = counts.get("same", 0) + counts.get("small", 0)
    return (
        f"clearly less need unmet at {counts.get('better', 0)} of {n} design points, clearly "
        f"more at {counts.get('worse', 0)}, the same (within the tolerance) at {same}, not "
        f"clear at {counts.get('unclear', 0)}"
    )
