"""The diagnostics report of a calibration: ``OUT/calibration.md`` and ``.html``.

What it says: the parameters and their prior ranges; the targets with the three parts of
their implausibility denominator; each wave's runs and the share of the prior box ruled
out after it; which targets rule out what (the share each rules out alone, and how much
each narrows each parameter); the emulators' leave-one-out checks; the ensemble (size,
marginal ranges against the prior, marginal and pairwise plots); with ABC-SMC, its
populations (epsilon, proposals simulated, acceptance rate, effective sample size) and
the weighted posterior against the history-matching ensemble; the held-out targets
against each ensemble's predictions; and the command and commit that made it. The tables
are also written as CSV (``waves.csv``, ``targets.csv``, ``constraints.csv``,
``emulators.csv``, ``heldout.csv``, and ``abc.csv`` with ABC-SMC).
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
    if np.isinf(value):
        return "inf"
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
    parts = {}
    if calibration.abc is not None:
        parts["abc"] = abc_table(calibration)
    return {
        **parts,
        "waves": waves,
        "targets": targets,
        "constraints": constraint.reset_index(),
        "emulators": pd.DataFrame(emulators),
        "heldout": heldout_table(calibration),
    }


def abc_table(calibration) -> pd.DataFrame:
    """ABC-SMC's populations: epsilon, proposals simulated, runs, acceptance, ESS."""
    result = calibration.abc
    spec = calibration.spec
    runs_each = (spec.abc.replicates or spec.replicates) * len(spec.scenarios)
    return pd.DataFrame(
        {
            "population": [p.t for p in result.populations],
            "epsilon": [p.epsilon for p in result.populations],
            "proposals_simulated": [p.evaluations for p in result.populations],
            "runs": [p.evaluations * runs_each for p in result.populations],
            "batches": [p.batches for p in result.populations],
            "accepted": [p.accepted for p in result.populations],
            "acceptance_rate": [p.acceptance_rate for p in result.populations],
            "effective_sample_size": [p.ess for p in result.populations],
        }
    )


def plot_marginals(calibration, path: Path) -> Path:
    """Histogram of each parameter: the ensemble against the non-implausible region of the
    emulators and the uniform prior."""
    match = calibration.match
    names = match.box.names
    region = match.box.from_unit(match.prior_sample[match.prior_pass[-1]])
    members = calibration.history_ensemble
    if members is None:
        members = calibration.ensemble
    refined = calibration.ensemble if calibration.abc is not None else None
    cols = min(3, len(names))
    rows = int(np.ceil(len(names) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 2.9 * rows), squeeze=False)
    for ax, (j, name) in zip(axes.flat, enumerate(names), strict=False):
        lo, hi = match.box.low[j], match.box.high[j]
        bins = np.linspace(lo, hi, 16)
        ax.hist(region[:, j], bins=bins, density=True, alpha=0.4, label="non-implausible region")
        ax.hist(
            members[name],
            bins=bins,
            density=True,
            histtype="step",
            lw=2,
            label="history-matching ensemble" if refined is not None else "ensemble",
        )
        if refined is not None:
            ax.hist(
                refined[name],
                bins=bins,
                weights=refined["weight"],
                density=True,
                histtype="step",
                lw=2,
                color="crimson",
                label="ABC-SMC posterior (weighted)",
            )
        ax.axhline(1.0 / (hi - lo), color="grey", ls="--", lw=1, label="prior")
        ax.set_title(name, fontsize=9)
        ax.set_yticks([])
    for ax in axes.flat[len(names) :]:
        ax.set_visible(False)
    axes.flat[0].legend(fontsize=7)
    fig.suptitle(
        "Calibrated parameters: prior, non-implausible region and ensemble"
        + (" and ABC-SMC posterior" if refined is not None else ""),
        fontsize=11,
    )
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
    shown = calibration.history_ensemble
    if shown is None:
        shown = calibration.ensemble
    members = shown[list(names)].to_numpy(dtype=float)
    refined = calibration.ensemble if calibration.abc is not None else None
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
            if refined is not None:
                size = 4 + 400 * refined["weight"].to_numpy(dtype=float)
                ax.scatter(refined[names[j]], refined[names[i]], s=size, c="darkorange", alpha=0.6)
            ax.set_xlim(extent[:2])
            ax.set_ylim(extent[2:])
    fig.suptitle(
        "Pairs: region (blue), wave-1 runs (grey), history-matching ensemble (red)"
        + ("; ABC-SMC particles (orange, size = weight)" if refined is not None else ""),
        fontsize=10,
    )
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
        f"{len(match.ensemble_unit)} run parameter sets are plausible (the "
        + ("history-matching ensemble)." if calibration.abc is not None else "ensemble)."),
        f"The targets that rule out most on their own: {strongest}.",
    ]
    result = calibration.abc
    if result is not None:
        last = result.populations[-1]
        lines.append(
            f"ABC-SMC (pyabc {result.pyabc_version}) refined the plausible region in "
            f"{len(result.populations)} populations of {result.settings.population_size} "
            f"({result.evaluations} parameter sets simulated): final epsilon {_g(last.epsilon)}, "
            f"acceptance {_pct(last.acceptance_rate)}, effective sample size {result.ess:.1f}; "
            f"stopped: {result.stopped}. The ensemble is its last population, with "
            "importance weights."
        )
    held = tables_heldout(calibration)
    for row in held.itertuples():
        which = f"the {row.ensemble} ensemble" if result is not None else "the ensemble"
        lines.append(
            f"Held out: {row.target} is {_g(row.value)} (band {_g(row.low)}-{_g(row.high)}); "
            f"{which} predicts {_g(row.ensemble_mean)} (5-95%: {_g(row.ensemble_p05)}-"
            f"{_g(row.ensemble_p95)}), {_pct(row.ensemble_in_band)} of members in band "
            f"(wave-1 prior runs: {_pct(row.prior_in_band)})."
        )
    return lines


def tables_heldout(calibration) -> pd.DataFrame:
    """The held-out table (see :func:`experiments.calibrate.heldout_table`)."""
    from experiments.calibrate import heldout_table

    return heldout_table(calibration)


def abc_lines(calibration, table: pd.DataFrame) -> list[str]:
    """The section on the ABC-SMC refinement (Markdown lines)."""
    result = calibration.abc
    settings = result.settings
    schedule = (
        "thresholds " + ", ".join(f"{e:g}" for e in settings.epsilon)
        if isinstance(settings.epsilon, list)
        else f"each threshold the weighted {settings.alpha:g} quantile of the last "
        "population's distances"
        + (
            ", the first infinite (population 0 is a sample of the prior region)"
            if settings.initial_epsilon == float("inf")
            else f", the first {settings.initial_epsilon}"
        )
    )
    lines = [
        "## ABC-SMC refinement",
        "",
        f"pyabc {result.pyabc_version} ran ABC-SMC inside the history-matched region: prior "
        "uniform on the region every wave's emulators keep; distance the standardised "
        f"{settings.distance} over the {len(calibration.spec.targets)} calibration targets "
        "(each difference over sqrt(obs_sd^2 + discrepancy^2), as in the implausibility); "
        f"{schedule}; proposals from pyabc's multivariate normal kernel (scale "
        f"{settings.kernel_scale:g}); every proposal simulated with "
        f"{settings.replicates or calibration.spec.replicates} replicates through the runner "
        "and store (`abc/population-T/batch-B`). The ensemble is the last population, with "
        f"its importance weights (effective sample size {result.ess:.1f} of "
        f"{len(result.weights)}). Stopped: {result.stopped}.",
        "",
        _table(
            [
                "population",
                "epsilon",
                "proposals simulated",
                "runs",
                "batches",
                "accepted",
                "acceptance rate",
                "effective sample size",
            ],
            [
                [
                    r.population,
                    _g(r.epsilon),
                    r.proposals_simulated,
                    r.runs,
                    r.batches,
                    r.accepted,
                    _pct(r.acceptance_rate),
                    f"{r.effective_sample_size:.1f}",
                ]
                for r in table.itertuples()
            ],
        ),
        "",
    ]
    if result.calibration_evaluations:
        lines += [
            f"pyabc's calibration sample of the first epsilon took "
            f"{result.calibration_evaluations} more parameter sets.",
            "",
        ]
    return lines


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
    members = calibration.history_ensemble
    if members is None:
        members = calibration.ensemble
    refined = calibration.ensemble if calibration.abc is not None else None
    for j, name in enumerate(match.box.names):
        q = np.quantile(members[name], [0.05, 0.5, 0.95])
        width = (q[2] - q[0]) / (match.box.high[j] - match.box.low[j])
        row = [
            name,
            f"{_g(match.box.low[j])} - {_g(match.box.high[j])}",
            spec.range_source.get(name, ""),
            _g(q[1]),
            f"{_g(q[0])} - {_g(q[2])}",
            _pct(width),
        ]
        if refined is not None:
            from experiments.abc import weighted_quantile

            r = weighted_quantile(refined[name], refined["weight"], [0.05, 0.5, 0.95])
            row += [
                f"{_g(r[1])} [{_g(r[0])} - {_g(r[2])}]",
                _pct((r[2] - r[0]) / (match.box.high[j] - match.box.low[j])),
            ]
        rows.append(row)
    header = [
        "parameter",
        "prior",
        "range from",
        "ensemble median",
        "ensemble 5-95%",
        "of prior width",
    ]
    if refined is not None:
        header[3:5] = ["history matching median", "history matching 5-95%"]
        header += ["ABC-SMC median [5-95%]", "ABC of prior width"]
    lines += [_table(header, rows), ""]
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
    if calibration.abc is not None:
        lines += abc_lines(calibration, parts["abc"])
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
                    "ensemble",
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
                        r.ensemble,
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
