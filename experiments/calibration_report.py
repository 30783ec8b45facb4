"""The diagnostics report of a calibration: ``OUT/calibration.md`` and ``.html``.

What it says: the parameters and their prior ranges; the targets with the three parts of
their implausibility denominator; each wave's runs and the share of the prior box ruled
out after it; which targets rule out what (the share each rules out alone, and how much
each narrows each parameter); the emulators' leave-one-out checks; the ensemble (size,
marginal ranges against the prior, marginal and pairwise plots); the held-out targets
against the ensemble's predictions; and the command and commit that made it. The tables
are also written as CSV (``waves.csv``, ``targets.csv``, ``constraints.csv``,
``emulators.csv``, ``heldout.csv``).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from experiments import history_matching as hm  # noqa: E402
from experiments.report import HTML_TEMPLATE  # noqa: E402
from experiments.report import md_table as _table  # noqa: E402
from experiments.store import atomic_write_bytes  # noqa: E402


def _g(value: float) -> str:
    return "n/a" if not np.isfinite(value) else f"{value:.3g}"


def _pct(value: float) -> str:
    return "n/a" if not np.isfinite(value) else f"{100 * value:.0f}%"


def tables(calibration) -> dict[str, pd.DataFrame]:
    """The report's tables."""
    from experiments.calibrate import heldout_table

    match: hm.HistoryMatch = calibration.match
    spec = calibration.spec
    waves = pd.DataFrame(
        {
            "wave": [w.index for w in match.waves],
            "points": [len(w.unit) for w in match.waves],
            "runs": [len(w.unit) * spec.replicates * len(spec.scenarios) for w in match.waves],
            "share_ruled_out_after": match.share_ruled_out_by_wave(),
            "plausible_runs": [int((match.ensemble_wave == w.index).sum()) for w in match.waves],
        }
    )
    by_target = match.share_ruled_out_by_target()
    noise = match.waves[0].replicate_noise
    targets = pd.DataFrame(
        {
            "target": [o.name for o in match.observations],
            "value": [o.value for o in match.observations],
            "obs_sd": [o.obs_sd for o in match.observations],
            "discrepancy_sd": [o.discrepancy_sd for o in match.observations],
            "replicate_sd": np.sqrt(noise),
            "share_ruled_out_alone": [by_target[o.name] for o in match.observations],
        }
    )
    constraint = pd.DataFrame(match.constraint_table()).T
    constraint.index.name = "target"
    emulators = []
    for wave in match.waves:
        for (share, rms), o in zip(hm.loo_summary(wave), match.observations, strict=True):
            emulators.append(
                {"wave": wave.index, "target": o.name, "loo_beyond_3": share, "loo_rms": rms}
            )
    return {
        "waves": waves,
        "targets": targets,
        "constraints": constraint.reset_index(),
        "emulators": pd.DataFrame(emulators),
        "heldout": heldout_table(calibration),
    }


def plot_marginals(calibration, path: Path) -> Path:
    """Histogram of each parameter: the ensemble against the non-implausible region of the
    emulators and the uniform prior."""
    match = calibration.match
    names = match.box.names
    region = match.box.from_unit(match.prior_sample[match.prior_pass[-1]])
    members = calibration.ensemble
    cols = min(3, len(names))
    rows = int(np.ceil(len(names) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 2.9 * rows), squeeze=False)
    for ax, (j, name) in zip(axes.flat, enumerate(names), strict=False):
        lo, hi = match.box.low[j], match.box.high[j]
        bins = np.linspace(lo, hi, 16)
        ax.hist(region[:, j], bins=bins, density=True, alpha=0.4, label="non-implausible region")
        ax.hist(members[name], bins=bins, density=True, histtype="step", lw=2, label="ensemble")
        ax.axhline(1.0 / (hi - lo), color="grey", ls="--", lw=1, label="prior")
        ax.set_title(name, fontsize=9)
        ax.set_yticks([])
    for ax in axes.flat[len(names) :]:
        ax.set_visible(False)
    axes.flat[0].legend(fontsize=7)
    fig.suptitle("Calibrated parameters: prior, non-implausible region and ensemble", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def plot_pairs(calibration, path: Path) -> Path:
    """Pairwise scatter: wave-1 runs (grey), the non-implausible region's density
    (shading) and the ensemble members (dots)."""
    match = calibration.match
    names = match.box.names
    k = len(names)
    region = match.box.from_unit(match.prior_sample[match.prior_pass[-1]])
    first = match.box.from_unit(match.waves[0].unit)
    members = calibration.ensemble[list(names)].to_numpy(dtype=float)
    fig, axes = plt.subplots(k, k, figsize=(2.1 * k, 2.1 * k), squeeze=False)
    for i in range(k):
        for j in range(k):
            ax = axes[i, j]
            ax.set_xticks([])
            ax.set_yticks([])
            if i == j:
                ax.text(0.5, 0.5, names[i], ha="center", va="center", fontsize=7, wrap=True)
                continue
            if i < j:
                ax.set_visible(False)
                continue
            extent = [match.box.low[j], match.box.high[j], match.box.low[i], match.box.high[i]]
            if len(region) > 1:
                ax.hist2d(
                    region[:, j],
                    region[:, i],
                    bins=20,
                    range=[extent[:2], extent[2:]],
                    cmap="Blues",
                )
            ax.scatter(first[:, j], first[:, i], s=4, c="grey", alpha=0.5)
            ax.scatter(members[:, j], members[:, i], s=7, c="crimson")
            ax.set_xlim(extent[:2])
            ax.set_ylim(extent[2:])
    fig.suptitle("Pairs: region (blue), wave-1 runs (grey), ensemble (red)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def write_calibration_report(calibration) -> dict[str, Path]:
    """Write ``calibration.md``, ``calibration.html``, the figures and the CSV tables."""
    import markdown

    out: Path = calibration.out
    fig_dir = out / "figures"
    fig_dir.mkdir(parents=True, exist_ok=True)
    parts = tables(calibration)
    for name, table in parts.items():
        table.to_csv(out / f"{name}.csv", index=False)
    marginals = plot_marginals(calibration, fig_dir / "marginals.png")
    pairs = plot_pairs(calibration, fig_dir / "pairs.png")
    md = markdown_text(calibration, parts, [marginals, pairs])
    html = HTML_TEMPLATE.format(
        title=f"civic-sim calibration: {calibration.spec.name}",
        body=markdown.markdown(md, extensions=["tables"]),
    )
    atomic_write_bytes(out / "calibration.md", md.encode("utf-8"))
    atomic_write_bytes(out / "calibration.html", html.encode("utf-8"))
    return {"md": out / "calibration.md", "html": out / "calibration.html"}


def headline(calibration) -> list[str]:
    """The calibration in a few sentences (the CLI prints them too)."""
    match = calibration.match
    by_target = sorted(match.share_ruled_out_by_target().items(), key=lambda kv: -kv[1])
    strongest = ", ".join(f"{name} ({_pct(share)})" for name, share in by_target[:3])
    lines = [
        f"History matching ruled out {_pct(match.share_ruled_out)} of the prior range of "
        f"{len(match.box.names)} parameters in {len(match.waves)} waves; "
        f"{len(calibration.ensemble)} run parameter sets are plausible (the ensemble).",
        f"The targets that rule out most on their own: {strongest}.",
    ]
    held = tables_heldout(calibration)
    for row in held.itertuples():
        lines.append(
            f"Held out: {row.target} is {_g(row.value)} (band {_g(row.low)}-{_g(row.high)}); "
            f"the ensemble predicts {_g(row.ensemble_mean)} (5-95%: {_g(row.ensemble_p05)}-"
            f"{_g(row.ensemble_p95)}), {_pct(row.ensemble_in_band)} of members in band "
            f"(wave-1 prior runs: {_pct(row.prior_in_band)})."
        )
    return lines


def tables_heldout(calibration) -> pd.DataFrame:
    """The held-out table (see :func:`experiments.calibrate.heldout_table`)."""
    from experiments.calibrate import heldout_table

    return heldout_table(calibration)


def markdown_text(calibration, parts: dict[str, pd.DataFrame], figures: list[Path]) -> str:
    """The report as Markdown."""
    match = calibration.match
    spec = calibration.spec
    meta = calibration.meta
    lines = [f"# Calibration: {spec.name}", ""]
    if spec.description:
        lines += [spec.description, ""]
    lines += ["## In short", ""] + [f"- {s}" for s in headline(calibration)] + [""]
    lines += [
        "## How it was made",
        "",
        f"- Command: `{meta['command']}`; commit `{meta['git_commit']}`; model fingerprint "
        f"`{meta['model_fingerprint']}`.",
        f"- Runs: strategy `{spec.strategy}`, {spec.residents:,} residents, {spec.steps} weeks, "
        f"{spec.replicates} replicates per point (paired seeds, root {spec.seed}), scenarios "
        f"{', '.join(spec.scenarios)}.",
        f"- Implausibility cutoff {spec.cutoff:g} on the {spec.rule.replace('_', ' ')} over "
        f"targets; model discrepancy {spec.discrepancy:g} x obs_sd unless set per target; "
        "replicate noise = the between-seed variance of a run's statistic over the replicates "
        "averaged.",
        f"- Emulators: a Gaussian process per target (scikit-learn), refitted in each wave on "
        f"its runs; shares measured on {len(match.prior_sample):,} uniform prior points.",
        "",
        "## Parameters",
        "",
    ]
    rows = []
    members = calibration.ensemble
    for j, name in enumerate(match.box.names):
        q = np.quantile(members[name], [0.05, 0.5, 0.95])
        width = (q[2] - q[0]) / (match.box.high[j] - match.box.low[j])
        rows.append(
            [
                name,
                f"{_g(match.box.low[j])} - {_g(match.box.high[j])}",
                spec.range_source.get(name, ""),
                _g(q[1]),
                f"{_g(q[0])} - {_g(q[2])}",
                _pct(width),
            ]
        )
    lines += [
        _table(
            [
                "parameter",
                "prior",
                "range from",
                "ensemble median",
                "ensemble 5-95%",
                "of prior width",
            ],
            rows,
        ),
        "",
    ]
    lines += ["## Waves", ""]
    w = parts["waves"]
    lines += [
        _table(
            ["wave", "points", "runs", "prior ruled out after", "plausible runs"],
            [
                [r.wave, r.points, r.runs, _pct(r.share_ruled_out_after), r.plausible_runs]
                for r in w.itertuples()
            ],
        ),
        "",
    ]
    lines += match.notes and [f"- {n}" for n in match.notes] + [""] or []
    lines += [
        "## Which targets rule out what",
        "",
        "Share of the prior each target rules out on its own (wave-1 emulators) and the "
        "three parts of its implausibility denominator.",
        "",
    ]
    t = parts["targets"]
    lines += [
        _table(
            ["target", "value", "obs sd", "discrepancy sd", "replicate sd", "ruled out alone"],
            [
                [
                    r.target,
                    _g(r.value),
                    _g(r.obs_sd),
                    _g(r.discrepancy_sd),
                    _g(r.replicate_sd),
                    _pct(r.share_ruled_out_alone),
                ]
                for r in t.itertuples()
            ],
        ),
        "",
    ]
    lines += [
        "What each target leaves of each parameter: the central 90% of the prior points "
        "that target alone keeps, as a share of the prior width (100%: no constraint).",
        "",
    ]
    c = parts["constraints"]
    names = list(match.box.names)
    lines += [
        _table(
            ["target", *names],
            [[r["target"], *(_pct(r[n]) for n in names)] for _, r in c.iterrows()],
        ),
        "",
    ]
    lines += [
        "## Emulator checks",
        "",
        "Leave-one-out standardised errors of each emulator at its wave's runs: about "
        "5% or fewer beyond +-3 and a root mean square near 1 mean the emulator's "
        "uncertainty is honest.",
        "",
    ]
    e = parts["emulators"]
    lines += [
        _table(
            ["wave", "target", "beyond +-3", "RMS"],
            [[r.wave, r.target, _pct(r.loo_beyond_3), _g(r.loo_rms)] for r in e.itertuples()],
        ),
        "",
    ]
    h = parts["heldout"]
    lines += ["## Held-out targets (validation out of sample)", ""]
    if len(h):
        lines += [
            _table(
                [
                    "target",
                    "value",
                    "band",
                    "ensemble mean",
                    "ensemble 5-95%",
                    "members in band",
                    "prior runs in band",
                    "I of the mean",
                ],
                [
                    [
                        r.target,
                        _g(r.value),
                        f"{_g(r.low)} - {_g(r.high)}",
                        _g(r.ensemble_mean),
                        f"{_g(r.ensemble_p05)} - {_g(r.ensemble_p95)}",
                        _pct(r.ensemble_in_band),
                        _pct(r.prior_in_band),
                        _g(r.implausibility_of_mean),
                    ]
                    for r in h.itertuples()
                ],
            ),
            "",
        ]
    else:
        lines += ["No target was held back.", ""]
    lines += ["## Figures", ""]
    lines += [f"![{p.stem}](figures/{p.name})" for p in figures] + [""]
    return "\n".join(lines)
