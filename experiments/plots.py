"""Figures of a sweep (matplotlib, Agg backend, PNG files).

Each function takes a table from :mod:`experiments.analysis` and writes one or more
PNG files, returning their paths. Design points are drawn as panels, at most
:data:`PANELS_PER_FIGURE` per figure.

Every figure gives a strategy the same colour (:func:`strategy_colors`): the shipped
strategies have fixed colours from the Okabe-Ito palette (readable with the common
kinds of colour blindness), others take the next free colour in the spec's order.
Legends list strategies once, outside the panels.
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.colors import to_rgb  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

PANELS_PER_FIGURE = 12
WEEKS_PER_YEAR = 52
#: Okabe & Ito (2008) palette, without yellow (too pale on white).
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
#: Fixed colours of the shipped strategies, in every figure of every report.
FIXED_COLORS = {"direct": PALETTE[0], "facilitator": PALETTE[1], "hybrid": PALETTE[2]}
#: Most bins of a parameter in a partial-dependence panel of a sampled design.
MAX_BINS = 8


def strategy_colors(strategies: list[str]) -> dict[str, str]:
    """One colour per strategy: fixed for the shipped ones, then the palette in order."""
    colors = {s: FIXED_COLORS[s] for s in strategies if s in FIXED_COLORS}
    free = [c for c in PALETTE if c not in colors.values()]
    for i, s in enumerate(s for s in strategies if s not in colors):
        colors[s] = free[i % len(free)] if free else PALETTE[i % len(PALETTE)]
    return colors


def _strategy_legend(fig, colors: dict[str, str], shown: list[str]) -> None:
    handles = [Line2D([0], [0], color=colors[s], lw=2.5, label=s) for s in shown]
    if handles:
        fig.legend(
            handles=handles,
            loc="upper right",
            fontsize=9,
            title="strategy",
            title_fontsize=9,
            frameon=False,
        )


def _panels(
    points: list[tuple[int, str]],
    path: Path,
    draw,
    ylabel: str,
    title: str,
    colors: dict[str, str],
    shown: list[str],
):
    """Lay design points out as panels over as many figures as needed."""
    paths = []
    chunks = [points[i : i + PANELS_PER_FIGURE] for i in range(0, len(points), PANELS_PER_FIGURE)]
    for k, chunk in enumerate(chunks):
        cols = min(3, len(chunk))
        rows = math.ceil(len(chunk) / cols)
        fig, axes = plt.subplots(
            rows, cols, figsize=(4.6 * cols + 1.4, 3.3 * rows), squeeze=False, sharey=True
        )
        for ax, (point, label) in zip(axes.flat, chunk, strict=False):
            draw(ax, point)
            ax.set_title(label, fontsize=9)
            ax.set_xlabel("year")
            ax.grid(alpha=0.3)
        for ax in axes.flat[len(chunk) :]:
            ax.set_visible(False)
        for ax in axes[:, 0]:
            ax.set_ylabel(ylabel)
        _strategy_legend(fig, colors, shown)
        suffix = f" ({k + 1}/{len(chunks)})" if len(chunks) > 1 else ""
        fig.suptitle(title + suffix, fontsize=11)
        fig.tight_layout(rect=(0, 0, 1 - 1.3 / (4.6 * cols + 1.4), 0.95))
        out = path if len(chunks) == 1 else path.with_name(f"{path.stem}_{k + 1}{path.suffix}")
        fig.savefig(out, dpi=110)
        plt.close(fig)
        paths.append(out)
    return paths


def _points(table: pd.DataFrame) -> list[tuple[int, str]]:
    pts = table[["point", "point_label"]].drop_duplicates().sort_values("point")
    return [(int(p), str(lbl)) for p, lbl in pts.itertuples(index=False)]


def plot_over_time(
    band: pd.DataFrame, path: Path, ylabel: str, title: str, colors: dict[str, str]
) -> list[Path]:
    """Mean and 95% band per strategy over time, one panel per design point.

    Args:
        band: Output of :func:`experiments.analysis.over_time`.
        path: PNG file (numbered when more than one figure is needed).
        ylabel: Label of the y axis.
        title: Figure title.
        colors: Colour of each strategy (:func:`strategy_colors`).
    """
    shown = [s for s in colors if s in set(band["strategy"])]

    def draw(ax, point):
        for strategy, g in band[band["point"] == point].groupby("strategy", sort=False):
            years = g["step"] / WEEKS_PER_YEAR
            ax.plot(years, g["mean"], color=colors[strategy], label=strategy, lw=1.4)
            ax.fill_between(years, g["low"], g["high"], color=colors[strategy], alpha=0.2, lw=0)

    return _panels(_points(band), path, draw, ylabel, title, colors, shown)


def plot_paired_over_time(
    diff: pd.DataFrame, path: Path, baseline: str, colors: dict[str, str], scale: float = 100.0
) -> list[Path]:
    """Paired difference (strategy minus baseline) over time with 95% band, in
    percentage points of unmet share (``scale`` 100)."""
    shown = [s for s in colors if s in set(diff["strategy"])]

    def draw(ax, point):
        ax.axhline(0.0, color="black", lw=0.8)
        for strategy, g in diff[diff["point"] == point].groupby("strategy", sort=False):
            years = g["step"] / WEEKS_PER_YEAR
            ax.plot(years, scale * g["mean"], color=colors[strategy], label=strategy, lw=1.4)
            ax.fill_between(
                years, scale * g["low"], scale * g["high"], color=colors[strategy], alpha=0.2, lw=0
            )

    return _panels(
        _points(diff),
        path,
        draw,
        f"points of unmet share vs {baseline}",
        f"Unmet share minus {baseline} (same replicate), percentage points, 95% CI; "
        "below 0: less need unmet",
        colors,
        shown,
    )


def _shades(color: str, n: int) -> list[tuple[float, float, float]]:
    """``n`` shades of one colour, light to dark (levels of a second parameter)."""
    rgb = np.array(to_rgb(color))
    if n == 1:
        return [tuple(rgb)]
    out = []
    for t in np.linspace(0.55, -0.25, n):
        mixed = rgb + (1 - rgb) * t if t > 0 else rgb * (1 + t)
        out.append(tuple(np.clip(mixed, 0, 1)))
    return out


def plot_crossover(
    paired: pd.DataFrame,
    points: pd.DataFrame,
    varied: list[str],
    path: Path,
    baseline: str,
    colors: dict[str, str],
) -> list[Path]:
    """Final-year paired difference in unmet share against two factors of a grid design.

    The first varied parameter is the x axis; the second's levels are shades of the
    strategy's colour (light = low), with a legend of the levels. For designs that vary
    one parameter, or more than two, or sample them, see :func:`plot_effects`.

    Args:
        paired: Output of :func:`experiments.analysis.paired_differences`.
        points: One row per design point: ``point`` and the varied parameter values.
        varied: The numeric parameters (first is the x axis, second the shades).
        path: PNG file.
        baseline: The baseline strategy's name.
        colors: Colour of each strategy.
    """
    rows = paired[paired["outcome"] == "unmet_share"].merge(points, on="point")
    strategies = [s for s in colors if s in set(rows["strategy"])]
    x, second = varied[0], varied[1] if len(varied) > 1 else None
    fig, axes = plt.subplots(
        1,
        len(strategies),
        figsize=(max(8.0, 5.5 * len(strategies)), 4.2),
        squeeze=False,
        sharey=True,
    )
    for ax, strategy in zip(axes.flat, strategies, strict=True):
        g = rows[rows["strategy"] == strategy].sort_values(x)
        ax.axhline(0.0, color="black", lw=0.8)
        levels = sorted(g[second].unique()) if second else [None]
        for value, shade in zip(levels, _shades(colors[strategy], len(levels)), strict=True):
            h = g if value is None else g[g[second] == value]
            err = [100 * (h["mean"] - h["low"]), 100 * (h["high"] - h["mean"])]
            label = strategy if value is None else f"{second} = {value:g}"
            ax.errorbar(
                h[x],
                100 * h["mean"],
                yerr=err,
                marker="o",
                ms=4,
                capsize=2,
                color=shade,
                label=label,
            )
        ax.legend(fontsize=8, title=f"{strategy} minus {baseline}", title_fontsize=8)
        ax.set_xlabel(x)
        ax.grid(alpha=0.3)
    axes[0, 0].set_ylabel("final-year unmet share difference (points)")
    fig.suptitle(
        f"Final-year unmet share minus {baseline}, paired, 95% CI (below 0: less need unmet)",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return [path]


def effect_table(
    paired: pd.DataFrame, points: pd.DataFrame, name: str, exact: bool, outcome="unmet_share"
) -> pd.DataFrame:
    """Partial dependence of the paired difference on one parameter: the mean over the
    other parameters of the per-point differences, by value (grid designs) or by
    quantile bin (sampled designs, whose other parameters are spread evenly over each
    bin), with a 95% t-interval over the design points in the bin.

    Returns:
        Columns ``strategy, x, mean, low, high, points``.
    """
    rows = paired[paired["outcome"] == outcome].merge(points[["point", name]], on="point")
    if rows.empty:
        return pd.DataFrame(columns=["strategy", "x", "mean", "low", "high", "points"])
    if exact:
        rows["bin"] = rows[name]
    else:
        n_points = rows["point"].nunique()
        bins = int(min(MAX_BINS, max(2, n_points // 5)))
        rows["bin"] = pd.qcut(rows[name], bins, labels=False, duplicates="drop")
    from experiments.analysis import mean_ci

    out = []
    for (strategy, _b), g in rows.groupby(["strategy", "bin"], sort=True):
        mean, low, high, n = mean_ci(g["mean"])
        out.append(
            {
                "strategy": strategy,
                "x": float(g[name].mean()),
                "mean": mean,
                "low": low,
                "high": high,
                "points": n,
            }
        )
    return pd.DataFrame(out).sort_values(["strategy", "x"]).reset_index(drop=True)


def plot_effects(
    paired: pd.DataFrame,
    points: pd.DataFrame,
    varied: list[str],
    path: Path,
    baseline: str,
    colors: dict[str, str],
    exact: bool,
) -> list[Path]:
    """One panel per varied parameter: how the final-year paired difference in unmet
    share (strategy minus baseline, percentage points) changes with that parameter,
    averaged over the others (partial dependence).

    Dots are design points (each the mean over its replicates); the line and band are
    the mean and 95% interval per value (grid designs) or per quantile bin (sampled
    designs, such as the Latin hypercube).

    Args:
        paired: Output of :func:`experiments.analysis.paired_differences`.
        points: One row per design point: ``point`` and the varied parameter values.
        varied: The numeric parameters the design varies.
        path: PNG file.
        baseline: The baseline strategy's name.
        colors: Colour of each strategy.
        exact: Group by exact values (a grid) instead of quantile bins.
    """
    unmet = paired[paired["outcome"] == "unmet_share"].merge(points, on="point")
    strategies = [s for s in colors if s in set(unmet["strategy"])]
    cols = min(3, len(varied))
    rows_n = math.ceil(len(varied) / cols)
    fig, axes = plt.subplots(
        rows_n, cols, figsize=(4.4 * cols + 1.4, 3.4 * rows_n), squeeze=False, sharey=True
    )
    for ax, name in zip(axes.flat, varied, strict=False):
        ax.axhline(0.0, color="black", lw=0.8)
        table = effect_table(paired, points, name, exact)
        for strategy in strategies:
            dots = unmet[unmet["strategy"] == strategy]
            ax.scatter(dots[name], 100 * dots["mean"], s=9, color=colors[strategy], alpha=0.35)
            line = table[table["strategy"] == strategy]
            ax.plot(line["x"], 100 * line["mean"], color=colors[strategy], lw=2)
            ax.fill_between(
                line["x"],
                100 * line["low"],
                100 * line["high"],
                color=colors[strategy],
                alpha=0.18,
                lw=0,
            )
        ax.set_xlabel(name)
        ax.grid(alpha=0.3)
    for ax in axes.flat[len(varied) :]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_ylabel(f"unmet share minus {baseline} (points)")
    _strategy_legend(fig, colors, strategies)
    grouping = "by value" if exact else "by quantile bin"
    fig.suptitle(
        f"Effect of each parameter on the final-year difference from {baseline}, averaged "
        f"over the others ({grouping}; dots: design points; band: 95% CI)",
        fontsize=10,
    )
    fig.tight_layout(rect=(0, 0, 1 - 1.3 / (4.4 * cols + 1.4), 0.93))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return [path]
