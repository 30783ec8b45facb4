"""Figures of a sweep (matplotlib, Agg backend, PNG files).

Each function takes a table from :mod:`experiments.analysis` and writes one or more
PNG files, returning their paths. Design points are drawn as panels, at most
:data:`PANELS_PER_FIGURE` per figure.
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

PANELS_PER_FIGURE = 12
WEEKS_PER_YEAR = 52


def _colors(strategies: list[str]) -> dict[str, str]:
    cycle = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    return {s: cycle[i % len(cycle)] for i, s in enumerate(strategies)}


def _panels(points: list[tuple[int, str]], path: Path, draw, ylabel: str, title: str):
    """Lay design points out as panels over as many figures as needed."""
    paths = []
    chunks = [points[i : i + PANELS_PER_FIGURE] for i in range(0, len(points), PANELS_PER_FIGURE)]
    for k, chunk in enumerate(chunks):
        cols = min(3, len(chunk))
        rows = math.ceil(len(chunk) / cols)
        fig, axes = plt.subplots(
            rows, cols, figsize=(4.6 * cols, 3.3 * rows), squeeze=False, sharey=True
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
        handles, labels = axes.flat[0].get_legend_handles_labels()
        if handles:
            fig.legend(handles, labels, loc="upper right", fontsize=8)
        suffix = f" ({k + 1}/{len(chunks)})" if len(chunks) > 1 else ""
        fig.suptitle(title + suffix, fontsize=11)
        fig.tight_layout(rect=(0, 0, 0.92, 0.95))
        out = path if len(chunks) == 1 else path.with_name(f"{path.stem}_{k + 1}{path.suffix}")
        fig.savefig(out, dpi=110)
        plt.close(fig)
        paths.append(out)
    return paths


def _points(table: pd.DataFrame) -> list[tuple[int, str]]:
    pts = table[["point", "point_label"]].drop_duplicates().sort_values("point")
    return [(int(p), str(lbl)) for p, lbl in pts.itertuples(index=False)]


def plot_over_time(band: pd.DataFrame, path: Path, ylabel: str, title: str) -> list[Path]:
    """Mean and 95% band per strategy over time, one panel per design point.

    Args:
        band: Output of :func:`experiments.analysis.over_time`.
        path: PNG file (numbered when more than one figure is needed).
        ylabel: Label of the y axis.
        title: Figure title.
    """
    colors = _colors(list(dict.fromkeys(band["strategy"])))

    def draw(ax, point):
        for strategy, g in band[band["point"] == point].groupby("strategy", sort=False):
            years = g["step"] / WEEKS_PER_YEAR
            ax.plot(years, g["mean"], color=colors[strategy], label=strategy, lw=1.4)
            ax.fill_between(years, g["low"], g["high"], color=colors[strategy], alpha=0.2, lw=0)

    return _panels(_points(band), path, draw, ylabel, title)


def plot_paired_over_time(diff: pd.DataFrame, path: Path, baseline: str) -> list[Path]:
    """Paired difference (strategy minus baseline) over time with 95% band."""
    colors = _colors(list(dict.fromkeys(diff["strategy"])))

    def draw(ax, point):
        ax.axhline(0.0, color="black", lw=0.8)
        for strategy, g in diff[diff["point"] == point].groupby("strategy", sort=False):
            years = g["step"] / WEEKS_PER_YEAR
            ax.plot(years, g["mean"], color=colors[strategy], label=strategy, lw=1.4)
            ax.fill_between(years, g["low"], g["high"], color=colors[strategy], alpha=0.2, lw=0)

    return _panels(
        _points(diff),
        path,
        draw,
        f"unmet share minus {baseline}",
        f"Paired difference in unmet share vs {baseline} (same replicate), 95% CI",
    )


def plot_crossover(
    paired: pd.DataFrame, points: pd.DataFrame, varied: list[str], path: Path, baseline: str
) -> list[Path]:
    """Final-year paired difference in unmet share against the varied parameters.

    Below zero the strategy leaves less need unmet than the baseline. The first varied
    parameter is the x axis; a second one is shown as separate lines (few values) or
    as colour.

    Args:
        paired: Output of :func:`experiments.analysis.paired_differences`.
        points: One row per design point: ``point`` and the varied parameter values.
        varied: Numeric parameters the design varies (first is the x axis).
        path: PNG file.
        baseline: The baseline strategy's name.
    """
    rows = paired[paired["outcome"] == "unmet_share"].merge(points, on="point")
    strategies = list(dict.fromkeys(rows["strategy"]))
    x = varied[0]
    second = varied[1] if len(varied) > 1 else None
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
        if second is not None and g[second].nunique() <= 8:
            for value, h in g.groupby(second):
                err = [h["mean"] - h["low"], h["high"] - h["mean"]]
                ax.errorbar(
                    h[x], h["mean"], yerr=err, marker="o", ms=4, capsize=2,
                    label=f"{second}={value:g}",
                )  # fmt: skip
            ax.legend(fontsize=8)
        elif second is not None:
            sc = ax.scatter(g[x], g["mean"], c=g[second], cmap="viridis", s=25)
            fig.colorbar(sc, ax=ax, label=second)
        else:
            err = [g["mean"] - g["low"], g["high"] - g["mean"]]
            ax.errorbar(g[x], g["mean"], yerr=err, marker="o", ms=4, capsize=2)
        ax.set_xlabel(x)
        ax.set_title(f"{strategy} minus {baseline}", fontsize=10)
        ax.grid(alpha=0.3)
    axes[0, 0].set_ylabel("final-year unmet share difference")
    fig.suptitle(
        f"Final-year unmet share minus {baseline}, paired, 95% CI (below 0: less need unmet)",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return [path]
