"""Strategy comparisons over plausible worlds (a sweep whose design type is ``ensemble``).

Each design point is one plausible world (an ensemble member, a calibrated parameter set)
crossed with one combination of the design's factors (for instance a scenario). In each
world every strategy ran on the same replicate seeds, so the world's effect of a strategy
is the mean over replicates of the paired difference ``strategy - baseline``.

Over the worlds, with the members' weights:

* **probability of beating the baseline**: the weighted share of worlds in which the
  strategy's mean paired difference is better (lower unmet share);
* **expected difference**: the weighted mean of the worlds' effects;
* **interval with both uncertainties**: a two-level bootstrap (worlds drawn by weight
  with replacement, then each drawn world's replicate differences with replacement),
  2,000 resamples from a fixed seed: the 95% percentile interval of the expected
  difference and of the probability. Replicate noise alone would be the within-world
  resampling; drawing the worlds adds the parameter uncertainty;
* **spread over worlds**: the 5th and 95th percentiles of the worlds' effects (how much
  the answer itself varies across plausible worlds).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

RESAMPLES = 2000
SEED = 20261201


def world_effects(per_run: pd.DataFrame, design: dict, baseline: str, outcome: str):
    """Paired differences per world, factor combination and strategy.

    Args:
        per_run: Final-year outcomes of every run (:func:`experiments.analysis.final_year`).
        design: The manifest's ``spec.design`` (type ``ensemble``).
        baseline: The strategy compared against.
        outcome: The outcome column.

    Returns:
        One row per (combo, world, strategy, replicate): ``combo``, ``world`` (member),
        ``weight``, ``strategy``, ``replicate``, ``difference``.
    """
    combos = int(design.get("combos", 1))
    members = design["members"]
    weights = design["weights"]
    base = per_run[per_run["strategy"] == baseline][["point", "replicate", outcome]]
    others = per_run[per_run["strategy"] != baseline][["point", "strategy", "replicate", outcome]]
    paired = others.merge(base, on=["point", "replicate"], suffixes=("", "_base"))
    paired["difference"] = paired[outcome] - paired[f"{outcome}_base"]
    index = paired["point"] // combos
    paired["combo"] = paired["point"] % combos
    paired["world"] = [members[i] for i in index]
    paired["weight"] = [weights[i] for i in index]
    return paired[["combo", "world", "weight", "strategy", "replicate", "difference"]]


def summarise(effects: pd.DataFrame, lower_is_better: bool = True) -> pd.DataFrame:
    """Probability of beating the baseline and the expected difference, per combo and
    strategy, with two-level bootstrap intervals (see the module docstring)."""
    rows = []
    sign = 1.0 if lower_is_better else -1.0
    for (combo, strategy), group in effects.groupby(["combo", "strategy"], sort=True):
        by_world = [g["difference"].to_numpy(float) for _, g in group.groupby("world", sort=True)]
        weights = group.groupby("world", sort=True)["weight"].first().to_numpy(float)
        weights = weights / weights.sum()
        means = np.array([d.mean() for d in by_world])
        beats = sign * means < 0
        rng = np.random.default_rng(SEED)
        expected, probability = np.empty(RESAMPLES), np.empty(RESAMPLES)
        for b in range(RESAMPLES):
            drawn = rng.choice(len(by_world), size=len(by_world), p=weights)
            resampled = np.array(
                [rng.choice(by_world[w], size=len(by_world[w])).mean() for w in drawn]
            )
            expected[b] = resampled.mean()
            probability[b] = np.mean(sign * resampled < 0)
        # replicate noise alone: the worlds fixed, only their replicates resampled
        noise = np.empty(RESAMPLES)
        for b in range(RESAMPLES):
            noise[b] = np.sum(
                weights * np.array([rng.choice(d, size=len(d)).mean() for d in by_world])
            )
        rows.append(
            {
                "combo": int(combo),
                "strategy": strategy,
                "worlds": len(by_world),
                "replicates": int(np.median([len(d) for d in by_world])),
                "p_beats_baseline": float(np.sum(weights * beats)),
                "p_low": float(np.quantile(probability, 0.025)),
                "p_high": float(np.quantile(probability, 0.975)),
                "expected_difference": float(np.sum(weights * means)),
                "low": float(np.quantile(expected, 0.025)),
                "high": float(np.quantile(expected, 0.975)),
                "noise_low": float(np.quantile(noise, 0.025)),
                "noise_high": float(np.quantile(noise, 0.975)),
                "world_p05": float(_weighted_quantile(means, weights, 0.05)),
                "world_p95": float(_weighted_quantile(means, weights, 0.95)),
            }
        )
    return pd.DataFrame(rows)


def _weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    if not len(values):
        return math.nan
    order = np.argsort(values)
    cumulative = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cumulative, q * cumulative[-1])])


def combo_labels(design: dict) -> list[str]:
    """Labels of the factor combinations, in point order (``scenario=baseline``...)."""
    from itertools import product

    factors = design.get("factors") or {}
    if not factors:
        return ["all worlds"]
    return [
        ", ".join(f"{k}={v}" for k, v in zip(factors, combo, strict=True))
        for combo in product(*factors.values())
    ]


def section(per_run: pd.DataFrame, manifest: dict, baseline: str) -> tuple[list[str], pd.DataFrame]:
    """The report section "Over plausible worlds" (Markdown lines) and its table."""
    from experiments.report import md_table as _table

    design = manifest["spec"]["design"]
    effects = world_effects(per_run, design, baseline, "unmet_share")
    table = summarise(effects)
    labels = combo_labels(design)
    table.insert(1, "factors", [labels[c] for c in table["combo"]])
    short = design.get("file", "").rsplit("/", 1)[-1]
    lines = [
        "## Over plausible worlds (parameter uncertainty)",
        "",
        f"Every strategy ran in each of {len(design['members'])} plausible worlds of the "
        f"calibrated ensemble `{short}` (sha256 {design.get('ensemble_sha256')}, made at "
        f"commit `{design.get('ensemble_commit')}` by `{design.get('ensemble_command')}`; "
        f"calibrated: {', '.join(design.get('calibrated_parameters', []))}), on the same "
        "replicate seeds. Final-year unmet share, strategy minus "
        f"{baseline}: negative is better. *P(better)* is the weighted share of worlds in "
        "which the strategy leaves less need unmet; the interval of the expected "
        "difference includes parameter uncertainty (worlds resampled) and replicate noise "
        "(runs resampled); the noise-only interval keeps the worlds fixed."
        + (
            " The worlds carry unequal weights (the ensemble's importance weights, or how "
            "often each was drawn from it), and every share and mean here is weighted."
            if len(set(design["weights"])) > 1
            else ""
        ),
        "",
    ]
    rows = []
    for r in table.itertuples():
        rows.append(
            [
                r.factors,
                r.strategy,
                f"{100 * r.p_beats_baseline:.0f}% [{100 * r.p_low:.0f}, {100 * r.p_high:.0f}]",
                f"{r.expected_difference:+.4f} [{r.low:+.4f}, {r.high:+.4f}]",
                f"[{r.noise_low:+.4f}, {r.noise_high:+.4f}]",
                f"{r.world_p05:+.4f} to {r.world_p95:+.4f}",
                f"{r.worlds} x {r.replicates}",
            ]
        )
    lines.append(
        _table(
            [
                "worlds in",
                "strategy",
                f"P(better than {baseline})",
                "expected difference [95%, both uncertainties]",
                "replicate noise only",
                "5-95% over worlds",
                "worlds x replicates",
            ],
            rows,
        )
    )
    lines.append("")
    lines += headline_sentences(table, baseline)
    return lines, table


def headline_sentences(table: pd.DataFrame, baseline: str) -> list[str]:
    """One plain sentence per strategy and factor combination."""
    out = []
    for r in table.itertuples():
        if r.high < 0:
            verdict = "leaves less need unmet"
        elif r.low > 0:
            verdict = "leaves more need unmet"
        else:
            verdict = "is not distinguishable from"
        tail = f" {baseline}" if verdict.startswith("is not") else f" than {baseline}"
        out.append(
            f"- {r.factors}: {r.strategy} {verdict}{tail} over the plausible worlds "
            f"(better in {100 * r.p_beats_baseline:.0f}% of them; expected difference "
            f"{r.expected_difference:+.4f}, 95% {r.low:+.4f} to {r.high:+.4f})."
        )
    return out


def worlds_section(ctx):
    """The report section of a sweep over plausible worlds (design type ``ensemble``),
    with ``worlds.csv``; None for any other design or a single strategy.

    Args:
        ctx: The report's :class:`experiments.report.ReportContext`.
    """
    from experiments.report import Section
    from experiments.store import write_frame

    if ctx.design_type != "ensemble" or len(ctx.strategies) < 2:
        return None
    lines, table = section(ctx.per_run, ctx.manifest, ctx.baseline)
    write_frame(table, ctx.out / "worlds.csv")
    return Section(lines[0][3:].strip(), "\n".join(lines[1:]).strip())


def _register() -> None:
    import experiments.sections  # noqa: F401 - the headline this section follows
    from experiments.report import add_section

    add_section("worlds", worlds_section, after="headline")


_register()
