"""The standard sections of a sweep's report, headline first.

Each builder takes the :class:`experiments.report.ReportContext` and returns a
:class:`experiments.report.Section`, or None when it has nothing to say for this
experiment. Importing this module registers them, in order, in
:data:`experiments.report.SECTIONS`.
"""

from __future__ import annotations

import math

from experiments import analysis, plots
from experiments.headline import (
    comparison_sentence,
    point_words,
    pooled,
    strategy_title,
    verdict_counts,
)
from experiments.report import (
    MIN_REPLICATES,
    ReportContext,
    Section,
    add_section,
    ci_text,
    md_table,
    signed,
)
from experiments.store import LOCK_FILE

#: Up to this many design points the headline has one line per point; beyond, it gives
#: the average over the design and counts of points.
HEADLINE_POINTS = 8


def period_words(steps: int) -> str:
    """Which weeks the outcomes are over: ``Final year (the last 52 of 520 weeks)``."""
    if steps > analysis.FINAL_WEEKS:
        return f"Final year (the last {analysis.FINAL_WEEKS} of {steps} weeks)"
    return f"Over all {steps} weeks of each run (shorter than the usual final year)"


def uncertainty_note(ctx: ReportContext) -> str:
    """Which uncertainty the intervals include (and which they leave out)."""
    n_min, n_max = ctx.replicates
    reps = f"{n_min}" if n_min == n_max else f"{n_min} to {n_max}"
    varied = ctx.numeric_varied
    if varied:
        how_much = (
            f"This design varies {', '.join(f'`{n}`' for n in varied)}: *Effect of each "
            "parameter* shows how much the answer depends on them; every other parameter "
            "stays at its value."
        )
    else:
        how_much = (
            "A design that varies the parameters (a Latin hypercube, say) shows how much "
            "the answer depends on them."
        )
    return (
        f"The 95% intervals show only the model's own randomness: which residents fall "
        f"ill, die, arrive or volunteer, over **{reps} replicates** per strategy and design "
        "point, compared in pairs on the same random numbers. They leave out the "
        "uncertainty of the parameters (many are invented or calibrated to national "
        "figures; see `civic-sim list parameters`) and of the model's structure: a "
        f"difference can be clear here and still depend on an assumption. {how_much}"
    )


def tolerance_note() -> str:
    """The stated tolerance below which a difference is "no difference"."""
    names = {o.name: o for o in analysis.OUTCOMES}
    return (
        "A difference smaller than "
        f"{names['unmet_share'].describe_tolerance()} of unmet share, "
        f"{names['residents_with_unmet_need'].describe_tolerance()} for residents, or "
        f"{names['spend_total'].describe_tolerance()} for spend counts as **no "
        "difference** (said as *slightly* when it is clearly there); a difference whose "
        "interval includes zero is **not clear**."
    )


def replicate_warning(ctx: ReportContext) -> str | None:
    """A warning when there are fewer than five replicates."""
    n_min = ctx.replicates[0]
    if n_min >= MIN_REPLICATES:
        return None
    return (
        f"> **Warning: only {n_min} replicate{'s' if n_min != 1 else ''} per strategy and "
        f"design point.** With fewer than {MIN_REPLICATES}, intervals are wide and "
        "unreliable (and with one there are none). Raise `replicates` in the spec and run "
        "the sweep again: only the new runs are run."
    )


def _unfinished_warning(ctx: ReportContext) -> str | None:
    runs = ctx.manifest["runs"]
    done = sum(r["status"] == "done" for r in runs.values())
    if done == len(runs):
        return None
    return (
        f"> **Only {done} of {len(runs)} runs are finished**; this report uses those. Run "
        "the same `civic-sim sweep` command again to finish the others."
    )


def headline(ctx: ReportContext) -> Section | None:
    """The council officer's summary: each strategy against the baseline in plain words."""
    paired = ctx.paired
    lines: list[str] = [w for w in (replicate_warning(ctx), _unfinished_warning(ctx)) if w]
    if lines:
        lines.append("")
    titles = ctx.manifest.get("strategy_titles")
    base = strategy_title(ctx.baseline, titles)
    others = [s for s in ctx.strategies if s != ctx.baseline and s in set(paired["strategy"])]
    if not len(paired) or not others:
        lines.append(
            f"Only one strategy ({base}) has finished runs, so there is nothing to compare."
        )
    elif len(ctx.manifest["points"]) <= HEADLINE_POINTS:
        lines.append(
            f"{period_words(ctx.spec['steps'])}, each strategy against **{base}** on the "
            "same residents and events:"
        )
        lines.append("")
        values = {p["index"]: p["values"] for p in ctx.manifest["points"]}
        for point in sorted(set(paired["point"])):
            for strategy in others:
                rows = paired[(paired["point"] == point) & (paired["strategy"] == strategy)]
                if len(rows):
                    lines.append(
                        f"- **In {point_words(values[point])}, {strategy_title(strategy, titles)} "
                        f"instead of {base}:** {comparison_sentence(rows)}"
                    )
    else:
        n_points = len(ctx.manifest["points"])
        lines.append(
            f"{period_words(ctx.spec['steps'])}, each strategy against **{base}**, averaged "
            f"over the {n_points} design points (see *Effect of each parameter* for where "
            "it changes):"
        )
        lines.append("")
        import pandas as pd

        for strategy in others:
            pairs = ctx.pairs[ctx.pairs["strategy"] == strategy]
            rows = pd.DataFrame(
                [
                    pooled(pairs, o)
                    for o in ("unmet_share", "residents_with_unmet_need", "spend_total")
                    if o in pairs
                ]
            )
            lines.append(
                f"- **{strategy_title(strategy, titles)} instead of {base}:** "
                f"{comparison_sentence(rows)} Per design point: "
                f"{verdict_counts(paired, strategy)}."
            )
    lines += ["", tolerance_note(), "", uncertainty_note(ctx)]
    return Section("In short", "\n".join(lines))


def experiment(ctx: ReportContext) -> Section:
    """What was run: strategies, design, runs, seeds, code and plugins."""
    manifest, spec = ctx.manifest, ctx.spec
    runs = manifest["runs"]
    done = sum(r["status"] == "done" for r in runs.values())
    failed = [k for k, r in runs.items() if r["status"] == "failed"]
    pending = len(runs) - done - len(failed)
    n_min, n_max = ctx.replicates
    reps = f"{n_min}" if n_min == n_max else f"{n_min} to {n_max}"
    out = [
        f"- Strategies: {', '.join(spec['strategies'])}; baseline for paired comparisons: "
        f"**{ctx.baseline}**.",
        f"- Design: {spec['design']['type']}, {len(manifest['points'])} design point(s); "
        f"{spec['steps']} weeks per run.",
        f"- Runs: {len(runs)} planned, {done} finished, {len(failed)} failed, {pending} not "
        f"run. Replicates per strategy and design point in this report: **{reps}** (of "
        f"{spec['replicates']} planned).",
        f"- Seeds: root entropy **{manifest['root_entropy']}** "
        f"({manifest.get('root_entropy_source', '')}); replicate r of every strategy and "
        "design point uses `SeedSequence(root, spawn_key=(r,))` (common random numbers, so "
        "strategies are compared in pairs). One run again: `civic-sim run --from "
        f"{ctx.folder} RUN_ID`."
        + (
            f" Design seed ({_design_kind(spec)} sample): {manifest['design_seed']}."
            if manifest.get("design_seed") is not None
            else ""
        ),
        code_line(manifest),
    ]
    plugins = manifest.get("plugins", [])
    if plugins:
        shown = ", ".join(f"`{p['module']}` (sha256 {p['sha256'][:12]})" for p in plugins)
        out.append(f"- Plugins: {shown}.")
    out.append(
        "- Final year = the last 52 weeks of each run (outcomes are means over it, except "
        "cumulative unmet hours, the total at the end). Intervals are 95% confidence "
        "intervals of the mean over replicates (Student's t)."
    )
    if failed:
        shown = ", ".join(failed[:10]) + (" ..." if len(failed) > 10 else "")
        out.append(f"- **Failed runs** (excluded; tracebacks in manifest.json): {shown}")
    if ctx.many_points:
        sample = " and `sample_matrix.csv`" if (ctx.folder / "sample_matrix.csv").exists() else ""
        out += [
            "",
            f"{len(manifest['points'])} design points: their values are in `manifest.json`"
            f"{sample}; per-point tables are in the CSV files, and figures over time pool "
            "all points.",
        ]
    else:
        out += ["", "Design points:", ""]
        out.append(
            md_table(
                ["point", "values"], [[str(p["index"]), p["label"]] for p in manifest["points"]]
            )
        )
    return Section("The experiment", "\n".join(out))


_DESIGN_KINDS = {"latin_hypercube": "Latin hypercube", "morris": "Morris", "sobol": "Sobol'"}


def _design_kind(spec: dict) -> str:
    """The sampled design's name in words (``Sobol'``), for the seed of its sample."""
    kind = spec.get("design", {}).get("type", "")
    return _DESIGN_KINDS.get(kind, kind.replace("_", " "))


def code_line(manifest: dict) -> str:
    """The report's line on the code and environment that made the runs."""
    v = manifest.get("versions", {})
    line = (
        f"- Code: civic-sim {v.get('civic-sim', '?')}, git commit "
        f"`{manifest.get('git_commit')}`, model fingerprint "
        f"`{manifest.get('model_fingerprint')}`; Python {v.get('python', '?')}, mesa "
        f"{v.get('mesa', '?')}, numpy {v.get('numpy', '?')}, numba {v.get('numba', '?')}, "
        f"pandas {v.get('pandas', '?')}."
    )
    if v.get("cpu"):
        line += f" CPU: {v['cpu']}."
    lock = v.get(LOCK_FILE)
    if lock:
        line += f" Lock file `{LOCK_FILE}`: {lock} (`make setup` installs from it)."
    return line


def over_time(ctx: ReportContext) -> Section:
    """Unmet share over time per strategy, one panel per design point."""
    band = analysis.over_time(ctx.timeline, "unmet_share")
    figures = plots.plot_over_time(
        band,
        ctx.fig_dir / "unmet_share_over_time.png",
        "unmet share of needed hours",
        "Unmet share over time: mean and 95% CI over replicates",
        ctx.colors,
    )
    text = "Mean and 95% CI over replicates, per strategy."
    if ctx.many_points:
        text += " All design points are pooled: each point's replicate is one run of the band."
    return Section("Unmet share over time", text, figures)


def paired_over_time(ctx: ReportContext) -> Section | None:
    """The paired difference from the baseline over time."""
    diff = analysis.paired_over_time(ctx.timeline, "unmet_share", ctx.baseline)
    if not len(diff):
        return None
    figures = plots.plot_paired_over_time(
        diff, ctx.fig_dir / "paired_difference_over_time.png", ctx.baseline, ctx.colors
    )
    return Section(
        f"Paired difference vs {ctx.baseline} over time",
        f"Unmet share of each strategy minus that of {ctx.baseline} in the same replicate "
        "(same seed), in percentage points, mean and 95% CI. Below zero the strategy "
        "leaves less need unmet.",
        figures,
    )


def effects(ctx: ReportContext) -> Section | None:
    """How the difference from the baseline depends on the varied numeric parameters."""
    varied = ctx.numeric_varied
    if not varied or not len(ctx.paired):
        return None
    points = ctx.points[["point", *varied]]
    grid = ctx.design_type == "full_factorial"
    if grid and len(varied) <= 2:
        figures = plots.plot_crossover(
            ctx.paired, points, varied, ctx.fig_dir / "crossover.png", ctx.baseline, ctx.colors
        )
        text = (
            f"Final-year paired difference in unmet share (strategy minus {ctx.baseline}, "
            f"percentage points) against {varied[0]}"
            + (
                f", one line per level of {varied[1]} (light: low, dark: high)"
                if len(varied) > 1
                else ""
            )
            + ", with 95% CIs. Below zero the strategy leaves less need unmet."
        )
    else:
        figures = plots.plot_effects(
            ctx.paired,
            points,
            varied,
            ctx.fig_dir / "effects.png",
            ctx.baseline,
            ctx.colors,
            exact=grid,
        )
        how = "at each value" if grid else "in quantile bins of the sampled values"
        text = (
            "For each varied parameter, the final-year paired difference in unmet share "
            f"(strategy minus {ctx.baseline}, percentage points) {how}, averaged over the "
            "other parameters (partial dependence); dots are single design points. Where "
            "a line crosses zero, the parameter decides which strategy leaves less need "
            "unmet."
        )
    return Section("Effect of each parameter", text, figures)


def summary(ctx: ReportContext) -> Section | None:
    """Mean and CI of every outcome per strategy and design point (in ``summary.csv``
    only for a design of many points)."""
    if ctx.many_points:
        return None
    table = ctx.summary
    outcomes = [o for o in analysis.OUTCOMES if f"{o.name}_mean" in table.columns]
    rows = []
    for r in table.itertuples(index=False):
        r = r._asdict()
        rows.append(
            [r["point_label"], r["strategy"], str(r["n"])]
            + [
                ci_text(o.fmt, r[f"{o.name}_mean"], r[f"{o.name}_low"], r[f"{o.name}_high"])
                for o in outcomes
            ]
        )
    body = "Mean [95% CI] over replicates.\n\n" + md_table(
        ["point", "strategy", "n"] + [o.label for o in outcomes], rows
    )
    return Section("Summary per strategy and design point", body)


def paired_table(ctx: ReportContext) -> Section | None:
    """Paired differences of every outcome, with the tolerance's verdict (in
    ``paired.csv`` only for a design of many points)."""
    if not len(ctx.paired) or ctx.many_points:
        return None
    labels = {o.name: o for o in analysis.OUTCOMES}
    rows = []
    for r in ctx.paired.itertuples(index=False):
        o = labels[r.outcome]
        ci = (
            f"{signed(o.fmt, r.mean)} [{signed(o.fmt, r.low)}, {signed(o.fmt, r.high)}]"
            if not math.isnan(r.low)
            else signed(o.fmt, r.mean)
        )
        shares = f"{r.share_better:.0%} / {r.share_same:.0%} / {r.share_worse:.0%}"
        rows.append([r.point_label, r.strategy, o.label, str(r.pairs), ci, r.verdict, shares])
    body = (
        f"Strategy minus {ctx.baseline}, paired by replicate (same seed): mean [95% CI]. "
        "*Verdict*: better or worse when the interval excludes zero and the difference is "
        "at least the tolerance, same when the whole interval is within the tolerance, "
        "small when the interval excludes zero but the difference is below the tolerance "
        "(counted as neither better nor worse), else unclear. *Pairs* gives the shares of "
        "pairs in which the strategy did better / the same (within the tolerance) / worse; "
        "better means less unmet need, cost and spend, more volunteers.\n\n"
        + md_table(
            [
                "point",
                "strategy",
                "outcome",
                "pairs",
                "difference",
                "verdict",
                "pairs better / same / worse",
            ],
            rows,
        )
    )
    return Section(f"Paired differences vs {ctx.baseline}", body)


def risk(ctx: ReportContext) -> Section | None:
    """Share of replicates above a threshold of unmet share, and the 90th percentile (in
    ``risk.csv`` only for a design of many points)."""
    if ctx.many_points:
        return None
    if ctx.threshold is None:
        text = (
            "Risk is the share of replicates whose final-year unmet share is above a "
            f"threshold: here the median final-year unmet share of **{ctx.baseline}** at the "
            f"same design point (so {ctx.baseline} itself sits near 50% by construction; set "
            "a fixed level with `civic-sim report --threshold 0.6` or "
            "`[report] risk_threshold` in the spec). P90 is the 90th percentile of the "
            "final-year unmet share over replicates."
        )
    else:
        text = (
            "Risk is the share of replicates whose final-year unmet share is above the "
            f"fixed threshold **{ctx.threshold:g}**. P90 is the 90th percentile of the "
            "final-year unmet share over replicates."
        )
    text += (
        "\n\nShare above: the share of replicates, with its 95% Wilson score interval. P90: "
        "with a 95% percentile-bootstrap interval (2,000 resamples, fixed seed); with few "
        "replicates an interval of an upper percentile is rough."
    )
    rows = [
        [
            r.point_label,
            r.strategy,
            str(r.n),
            f"{r.threshold:.3f}",
            ci_text("{:.0%}", r.share_above, r.share_above_low, r.share_above_high),
            ci_text("{:.3f}", r.p90, r.p90_low, r.p90_high),
        ]
        for r in ctx.risk.itertuples(index=False)
    ]
    header = ["point", "strategy", "n", "threshold", "share above [95% CI]"]
    table = md_table([*header, "P90 unmet share [95% CI]"], rows)
    return Section("Risk", text + "\n\n" + table)


def money(ctx: ReportContext) -> Section | None:
    """The effective split of the budget per strategy: what each line really spent."""
    split = ctx.budget_split
    if not len(split):
        return None
    lines = [c for c in split.columns if c not in analysis.KEYS]
    text = (
        "Each line's spend as a share of the budget, over every week of every replicate. "
        "Care-home places are paid first (a duty). Facilitation money a line cannot use is "
        "re-planned by the built-in strategies (support, grants and carer support beyond "
        "what volunteers, businesses and carers can take go to coordinators and outreach) "
        "or, for a strategy that does not, reported as 'facilitation unspent'; 'not spent' "
        "is home-care money no eligible resident needed. Nothing moves between lines "
        "unreported."
    )
    rows = [
        [r["point_label"], r["strategy"]] + [f"{r[c]:.1%}" for c in lines]
        for _, r in split.iterrows()
    ]
    return Section(
        "Where the money went", text + "\n\n" + md_table(["point", "strategy", *lines], rows)
    )


def coordinators(ctx: ReportContext) -> Section | None:
    """The coordinators' week by task, per strategy that employs them."""
    hours = ctx.coordinator_hours
    if not len(hours):
        return None
    tasks = [c for c in hours.columns if c not in analysis.KEYS and c != "hours a week"]
    text = (
        "Coordinators' hours a week by task (mean over weeks and replicates): they follow "
        "up live brokered pairings first, then support volunteers, then broker new "
        "matches; what is left goes into community development, which works like outreach."
    )
    rows = [
        [r["point_label"], r["strategy"], f"{r['hours a week']:.0f}"]
        + [f"{r[c]:.0f} ({r[c] / r['hours a week']:.0%})" for c in tasks]
        for _, r in hours.iterrows()
    ]
    table = md_table(["point", "strategy", "hours a week", *tasks], rows)
    return Section("Coordinators' week", text + "\n\n" + table)


def files(ctx: ReportContext) -> Section:
    """What else is in the folder."""
    return Section(
        "Files",
        "`per_run.csv` (final-year outcomes of every run), `summary.csv`, `paired.csv`, "
        "`risk.csv`, `budget_split.csv`, `coordinator_hours.csv` (the tables above at full "
        "precision), `runs/` (weekly data, Parquet), "
        "`manifest.json` (spec, seeds, parameters, plugins, status and timing of every run); "
        "where they apply, `sensitivity.csv`, `discovery.csv`, `robustness.csv` and "
        "`sample_matrix.csv`. `report.html` is self-contained (figures embedded): it can be "
        "emailed as it is.",
    )


for _key, _builder in (
    ("headline", headline),
    ("experiment", experiment),
    ("over_time", over_time),
    ("paired_over_time", paired_over_time),
    ("effects", effects),
    ("summary", summary),
    ("paired", paired_table),
    ("risk", risk),
    ("money", money),
    ("coordinators", coordinators),
    ("files", files),
):
    add_section(_key, _builder)
