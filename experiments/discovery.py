"""Scenario discovery: where in parameter space does a strategy beat the baseline?

For a sweep whose design varies numeric parameters (Latin hypercube, Morris, Sobol' or a
full factorial), each design point is a *case*. A case is *of interest* when the
strategy wins there: the mean paired difference in final-year unmet share (strategy
minus baseline, same replicate seeds) has its 95% confidence interval below zero, or,
with a user-set threshold, when the mean difference is below that threshold. The
opposite question (where the baseline wins) is asked too.

Two methods describe the cases of interest as boxes (ranges of a few parameters):

* **PRIM** (Friedman and Fisher 1999; Bryant and Lempert 2010), from the EMA
  Workbench: peel the parameter space towards the cases of interest, then choose on the
  peeling trajectory the box with the highest *coverage* (share of all cases of interest
  inside the box) among those with at least :data:`DENSITY_TARGET` *density* (share of
  the cases inside the box that are of interest); if none reaches it, the densest box.
  Restrictions that add less than :data:`PRUNE_DENSITY` to the density are dropped, so
  the box names only the parameters that matter.
* **CART** (scikit-learn's decision tree, depth 3) as a cross-check: of the leaves that
  predict "of interest" (sibling leaves that predict the same are merged), the one with
  the highest coverage at that density (else the densest), stated as a box the same way.
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

DENSITY_TARGET = 0.8
PRUNE_DENSITY = 0.02
MASS_MIN = 0.05
PEEL_ALPHA = 0.05
MAX_BOXES = 2
MIN_CASES = 10
MIN_OF_INTEREST = 3


@dataclass
class Box:
    """A box of parameter space.

    Attributes:
        limits: ``{parameter: (low, high)}`` of the restricted parameters only.
        coverage: Share of all cases of interest inside the box.
        density: Share of the cases inside the box that are of interest.
        mass: Share of all cases inside the box.
        cases: Cases inside the box.
        of_interest: Cases of interest inside the box.
    """

    limits: dict[str, tuple[float, float]] = field(default_factory=dict)
    coverage: float = float("nan")
    density: float = float("nan")
    mass: float = float("nan")
    cases: int = 0
    of_interest: int = 0


def box_stats(x: pd.DataFrame, y: np.ndarray, limits: dict) -> Box:
    """Coverage, density and mass of a box over the cases ``x`` with labels ``y``."""
    inside = np.ones(len(x), dtype=bool)
    for name, (low, high) in limits.items():
        inside &= (x[name].to_numpy() >= low) & (x[name].to_numpy() <= high)
    total = int(y.sum())
    hits = int(y[inside].sum())
    n = int(inside.sum())
    return Box(
        limits=dict(limits),
        coverage=hits / total if total else float("nan"),
        density=hits / n if n else float("nan"),
        mass=n / len(x) if len(x) else float("nan"),
        cases=n,
        of_interest=hits,
    )


def _restricted(box_lim: pd.DataFrame, full: pd.DataFrame) -> dict[str, tuple[float, float]]:
    out = {}
    for name in box_lim.columns:
        low, high = float(box_lim[name].iloc[0]), float(box_lim[name].iloc[1])
        if low > float(full[name].iloc[0]) or high < float(full[name].iloc[1]):
            out[name] = (low, high)
    return out


def prune(x: pd.DataFrame, y: np.ndarray, box: Box) -> Box:
    """Drop, one at a time, the restriction whose removal costs the least density,
    while that cost is below :data:`PRUNE_DENSITY`."""
    limits = dict(box.limits)
    while len(limits) > 1:
        best = None
        for name in limits:
            trial = box_stats(x, y, {k: v for k, v in limits.items() if k != name})
            loss = box_stats(x, y, limits).density - trial.density
            if loss < PRUNE_DENSITY and (best is None or loss < best[0]):
                best = (loss, name)
        if best is None:
            break
        limits.pop(best[1])
    return box_stats(x, y, limits)


def prim_boxes(x: pd.DataFrame, y: np.ndarray, max_boxes: int = MAX_BOXES) -> list[Box]:
    """PRIM boxes (EMA Workbench) around the cases of interest, best first.

    Works with the EMA Workbench 2.x (Python 3.11; ``threshold`` argument) and 3.x
    (Python 3.12 and later).
    """
    import logging
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "ipyparallel not installed": not needed here
        from ema_workbench.analysis import prim

    logging.getLogger("EMA").setLevel(logging.WARNING)
    x = x.astype(float).reset_index(drop=True)
    kwargs = {"peel_alpha": PEEL_ALPHA, "mass_min": MASS_MIN}
    if "threshold" in inspect.signature(prim.Prim.__init__).parameters:
        # 2.x counts y >= threshold as of interest, and returns the whole space unless
        # the *last* peel's density reaches it: a tiny threshold marks exactly the 1s
        # and keeps every trajectory (the box is chosen on it here, as with 3.x)
        kwargs["threshold"] = 1e-6
    finder = prim.Prim(x, y.astype(int), **kwargs)
    full = pd.DataFrame({c: [x[c].min(), x[c].max()] for c in x.columns})
    boxes = []
    for _ in range(max_boxes):
        try:
            found = finder.find_box()
        except Exception:  # noqa: BLE001 - PRIM stops when no cases of interest remain
            break
        if found is None:
            break
        trajectory = found.peeling_trajectory
        if len(trajectory) < 2:
            break
        dense = trajectory[trajectory["density"] >= DENSITY_TARGET]
        i = int(dense["coverage"].idxmax()) if len(dense) else int(trajectory["density"].idxmax())
        limits = _restricted(found.box_lims[i], full)
        if not limits:
            break
        box = prune(x, y, box_stats(x, y, limits))
        if boxes and box.density < DENSITY_TARGET:
            break
        found.select(i)
        boxes.append(box)
    return boxes


def cart_box(x: pd.DataFrame, y: np.ndarray, depth: int = 3) -> Box | None:
    """A box from a scikit-learn decision tree: among its leaves that predict "of
    interest" (siblings predicting the same merged into their parent), the one with the
    highest coverage at :data:`DENSITY_TARGET` density, else the densest."""
    from sklearn.tree import DecisionTreeClassifier

    leaf_min = max(MIN_OF_INTEREST, int(math.ceil(MASS_MIN * len(x))))
    tree = DecisionTreeClassifier(max_depth=depth, min_samples_leaf=leaf_min, random_state=0)
    tree.fit(x.to_numpy(dtype=float), y.astype(int))
    t = tree.tree_

    def predicted(node: int) -> int | None:
        """The class every leaf under ``node`` predicts, or None if they differ."""
        if t.children_left[node] == -1:
            return int(np.argmax(t.value[node][0]))
        left, right = predicted(t.children_left[node]), predicted(t.children_right[node])
        return left if left == right else None

    candidates: list[Box] = []

    def walk(node: int, limits: dict):
        label = predicted(node)
        if label is not None:
            if label == 1 and limits and len(tree.classes_) > 1:
                candidates.append(box_stats(x, y, limits))
            return
        name = x.columns[t.feature[node]]
        cut = float(t.threshold[node])
        low, high = limits.get(name, (-math.inf, math.inf))
        walk(t.children_left[node], {**limits, name: (low, min(high, cut))})
        walk(t.children_right[node], {**limits, name: (max(low, cut), high)})

    walk(0, {})
    if not candidates:
        return None
    dense = [b for b in candidates if b.density >= DENSITY_TARGET]
    if dense:
        return max(dense, key=lambda b: b.coverage)
    return max(candidates, key=lambda b: (b.density, b.coverage))


def cases(
    paired: pd.DataFrame, values: pd.DataFrame, strategy: str, threshold: float | None
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """The cases of one strategy: parameter values and who wins at each point.

    Args:
        paired: :func:`experiments.analysis.paired_differences` output.
        values: One row per design point: ``point`` and the numeric varied parameters.
        strategy: The non-baseline strategy.
        threshold: Win when the mean difference is below it; None: when the 95% CI is
            below zero (the mean below zero if there are too few pairs for a CI).

    Returns:
        ``(x, wins, loses)``: the parameters of each case, and two boolean arrays.
    """
    rows = paired[(paired["strategy"] == strategy) & (paired["outcome"] == "unmet_share")]
    rows = rows.merge(values, on="point").sort_values("point")
    x = rows[[c for c in values.columns if c != "point"]].reset_index(drop=True)
    mean, low, high = (rows[c].to_numpy(dtype=float) for c in ("mean", "low", "high"))
    if threshold is not None:
        return x, mean < threshold, mean > abs(threshold)
    no_ci = np.isnan(low)
    wins = np.where(no_ci, mean < 0, high < 0)
    loses = np.where(no_ci, mean > 0, low > 0)
    return x, wins, loses


def discovery_table(
    paired: pd.DataFrame,
    values: pd.DataFrame,
    strategies: list[str],
    baseline: str,
    threshold: float | None = None,
) -> tuple[pd.DataFrame, dict]:
    """PRIM and CART boxes for every strategy against the baseline (``discovery.csv``).

    Returns:
        The table (one row per strategy, question, method, box and restricted
        parameter; a box without restrictions has an empty ``parameter``) and, per
        strategy, the cases (for the figure).
    """
    rows = []
    data = {}
    for strategy in strategies:
        if strategy == baseline:
            continue
        x, wins, loses = cases(paired, values, strategy, threshold)
        mine = paired[(paired["strategy"] == strategy) & (paired["outcome"] == "unmet_share")]
        pairs_per_point = int(mine["pairs"].min()) if len(mine) else 0
        if len(x) < MIN_CASES:
            continue
        data[strategy] = (x, wins)
        for question, y, winner in (("wins", wins, strategy), ("loses", loses, baseline)):
            base = {
                "strategy": strategy,
                "baseline": baseline,
                "question": question,
                "winner": winner,
                "cases": len(x),
                "cases_of_interest": int(y.sum()),
                "share_of_interest": float(y.mean()),
                "pairs_per_point": int(pairs_per_point),
            }
            found = []
            if y.sum() >= MIN_OF_INTEREST and y.sum() < len(y):
                found = [("prim", i, b) for i, b in enumerate(prim_boxes(x, y), start=1)]
                box = cart_box(x, y)
                if box is not None:
                    found.append(("cart", 1, box))
            if not found:
                rows.append({**base, "method": "", "box": 0, "parameter": ""})
            for method, i, box in found:
                stats = {
                    "method": method,
                    "box": i,
                    "coverage": box.coverage,
                    "density": box.density,
                    "mass": box.mass,
                    "box_cases": box.cases,
                    "box_of_interest": box.of_interest,
                }
                for name, (low, high) in box.limits.items():
                    rows.append({**base, **stats, "parameter": name, "low": low, "high": high})
    return pd.DataFrame(rows), data


def _bound_text(name: str, low: float, high: float, full: tuple[float, float]) -> str:
    lo_cut = np.isfinite(low) and low > full[0]
    hi_cut = np.isfinite(high) and high < full[1]
    if lo_cut and hi_cut:
        return f"`{name}` is between {low:.3g} and {high:.3g}"
    if lo_cut:
        return f"`{name}` is above {low:.3g}"
    if hi_cut:
        return f"`{name}` is below {high:.3g}"
    return f"`{name}` is anywhere"


def box_sentence(group: pd.DataFrame, full: dict[str, tuple[float, float]]) -> str:
    """Plain words for one box: where, density, coverage."""
    first = group.iloc[0]
    where = " and ".join(
        _bound_text(r.parameter, r.low, r.high, full[r.parameter])
        for r in group.itertuples(index=False)
    )
    verb = "wins" if first.question == "wins" else "does worse"
    who = first.strategy
    return (
        f"{who} {verb} against {first.baseline} where {where}: in "
        f"{first.density:.0%} of such cases ({int(first.box_of_interest)} of "
        f"{int(first.box_cases)}), covering {first.coverage:.0%} of all the cases where it "
        f"{'wins' if first.question == 'wins' else 'does worse'}"
    )


def section(
    table: pd.DataFrame,
    values: pd.DataFrame,
    baseline: str,
    threshold: float | None,
    figures: list[Path],
) -> list[str]:
    """The report section "Where each strategy wins" (scenario discovery)."""
    out = ["", "## Where each strategy wins: scenario discovery", ""]
    if threshold is not None:
        rule = (
            f"its mean paired difference in final-year unmet share is below {threshold:g} "
            f"(and *does worse* when it is above {abs(threshold):g})"
        )
    else:
        rule = (
            "the 95% CI of its paired difference in final-year unmet share lies below zero "
            "(and *does worse* when the interval lies above zero)"
        )
    out.append(
        f"Each design point is a case; a strategy *wins* at a point when {rule}. "
        "PRIM (EMA Workbench) finds the "
        "box of parameter space holding most of the wins at high density; a decision tree "
        "(CART, scikit-learn) is the cross-check. Density: the share of cases inside the "
        "box where it wins; coverage: the share of all its wins that fall inside the box."
    )
    if threshold is None and len(table) and (table["pairs_per_point"] < 2).any():
        out.append(
            "With one pair per design point there is no CI: a strategy wins where its "
            "difference is below zero."
        )
    out.append("")
    if not len(table):
        return out + ["Too few design points for scenario discovery.", ""]
    full = {c: (float(values[c].min()), float(values[c].max())) for c in values if c != "point"}
    for (strategy, question), part in table.groupby(["strategy", "question"], sort=False):
        first = part.iloc[0]
        out.append(
            f"**{strategy} {'wins' if question == 'wins' else 'does worse'}** against "
            f"{baseline} at {int(first.cases_of_interest)} of {int(first.cases)} design "
            f"points ({first.share_of_interest:.0%})."
        )
        boxes = part[part["method"] != ""]
        if not len(boxes):
            out += ["", "- no box (too few or too many such cases)", ""]
            continue
        out.append("")
        if not (boxes["method"] == "prim").any() and first.share_of_interest >= DENSITY_TARGET:
            out.append(
                f"- PRIM: that is {first.share_of_interest:.0%} of all points, already above "
                f"the {DENSITY_TARGET:.0%} density asked of a box, so no box is needed."
            )
        for (method, i), group in boxes.groupby(["method", "box"], sort=False):
            tag = f"PRIM box {i}" if method == "prim" else "CART cross-check"
            out.append(f"- {tag}: {box_sentence(group, full)}.")
        out.append("")
    out += [f"![scenario discovery](figures/{p.name})" for p in figures]
    out += ["", "Boxes with their limits, coverage and density: `discovery.csv`.", ""]
    return out


def plot(table: pd.DataFrame, data: dict, path: Path) -> list[Path]:
    """Cases over the two parameters of each strategy's first PRIM box, box drawn."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    panels = []
    for strategy, (x, wins) in data.items():
        rows = table[
            (table["strategy"] == strategy)
            & (table["question"] == "wins")
            & (table["method"] == "prim")
            & (table["box"] == 1)
        ]
        names = list(rows["parameter"])[:2]
        for extra in x.columns:
            if len(names) >= 2:
                break
            if extra not in names:
                names.append(extra)
        if len(names) < 2:
            continue
        panels.append((strategy, x, wins, names, rows))
    if not panels:
        return []
    fig, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 5), squeeze=False)
    for ax, (strategy, x, wins, names, rows) in zip(axes.flat, panels, strict=True):
        a, b = names
        ax.scatter(x.loc[~wins, a], x.loc[~wins, b], s=14, c="#bbbbbb", label="does not win")
        ax.scatter(x.loc[wins, a], x.loc[wins, b], s=14, c="#d62728", label=f"{strategy} wins")
        limits = {r.parameter: (r.low, r.high) for r in rows.itertuples(index=False)}
        if limits:
            (x0, x1) = limits.get(a, (x[a].min(), x[a].max()))
            (y0, y1) = limits.get(b, (x[b].min(), x[b].max()))
            ax.add_patch(
                Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, lw=2, ec="k", label="PRIM box")
            )
        ax.set_xlabel(a)
        ax.set_ylabel(b)
        ax.set_title(f"where {strategy} wins (unmet share)", fontsize=10)
        ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return [path]
