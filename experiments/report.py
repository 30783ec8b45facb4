"""The report of a sweep: ``report.md``, ``report.html``, figures and CSV tables.

``write_report(DIR)`` reads the store and manifest, computes the tables of
:mod:`experiments.analysis`, draws the figures of :mod:`experiments.plots` into
``DIR/figures/`` and writes:

* ``DIR/report.md`` and ``DIR/report.html`` (the same content);
* ``DIR/per_run.csv`` (final-year outcomes of every run), ``DIR/summary.csv``,
  ``DIR/paired.csv`` and ``DIR/risk.csv`` (the tables at full precision);
* for a design of type ``ensemble`` (plausible worlds of a calibration), first the
  section of :mod:`experiments.worlds` and ``DIR/worlds.csv``.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from experiments import analysis, plots
from experiments.store import LOCK_FILE, Store, atomic_write_bytes

HTML_TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: sans-serif; max-width: 80em; margin: 2em auto; padding: 0 1em;
       line-height: 1.4; }}
table {{ border-collapse: collapse; font-size: 0.85em; margin: 1em 0; }}
th, td {{ border: 1px solid #ccc; padding: 0.25em 0.5em; text-align: right; }}
th {{ background: #f3f3f3; }}
td:first-child, th:first-child {{ text-align: left; }}
img {{ max-width: 100%; }}
code {{ background: #f6f6f6; }}
</style></head><body>
{body}
</body></html>
"""


def _ci(fmt: str, mean: float, low: float, high: float) -> str:
    if math.isnan(mean):
        return "n/a"
    if math.isnan(low):
        return fmt.format(mean)
    return f"{fmt.format(mean)} [{fmt.format(low)}, {fmt.format(high)}]"


def _signed(fmt: str, value: float) -> str:
    text = fmt.format(value)
    return text if text.startswith("-") else "+" + text


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c).replace("|", "/") for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _numeric_varied(manifest: dict) -> list[str]:
    points = manifest.get("points", [])
    names: list[str] = []
    for p in points:
        for k, v in p["values"].items():
            if k not in names and isinstance(v, int | float) and not isinstance(v, bool):
                names.append(k)
    return [n for n in names if len({p["values"].get(n) for p in points}) > 1]


def write_report(
    folder: str | Path, threshold: float | None = None, baseline: str | None = None
) -> dict[str, Path]:
    """Write the report of the sweep stored in ``folder``.

    Args:
        folder: The sweep's output folder.
        threshold: Risk threshold of the final-year unmet share (default: the spec's
            ``report.risk_threshold``, else the baseline's median at each design point).
        baseline: Strategy the others are compared with (default: the spec's).

    Returns:
        Paths of the files written (``md``, ``html``, ``figures``...).

    Raises:
        ValueError: If the folder holds no finished runs or the baseline is unknown.
    """
    folder = Path(folder)
    store = Store(folder)
    manifest = store.read_manifest()
    if manifest is None:
        raise ValueError(f"{str(folder)!r} has no manifest.json")
    spec = manifest["spec"]
    baseline = baseline or spec.get("baseline") or "direct"
    if baseline not in spec["strategies"]:
        raise ValueError(
            f"baseline must be one of {', '.join(spec['strategies'])}, got {baseline!r}"
        )
    if threshold is None:
        threshold = spec.get("risk_threshold")
    held = store.columns(manifest)
    if "unmet_share" not in held:
        raise ValueError("the store does not hold the metric 'unmet_share'")
    # only what the report uses: far less to read than every metric of every run
    needed = ["point", "point_label", "strategy", "replicate", "step"]
    needed += [o.metric for o in analysis.OUTCOMES if o.metric in held]
    frame = store.read_runs(list(dict.fromkeys(needed)), manifest)

    per_run = analysis.final_year(frame)
    summary = analysis.summary_table(per_run)
    paired = analysis.paired_differences(per_run, baseline)
    risk = analysis.risk_table(per_run, threshold, baseline)
    band = analysis.over_time(frame, "unmet_share")
    diff = analysis.paired_over_time(frame, "unmet_share", baseline)

    fig_dir = folder / "figures"
    fig_dir.mkdir(parents=True, exist_ok=True)
    figures = plots.plot_over_time(
        band,
        fig_dir / "unmet_share_over_time.png",
        "unmet share of needed hours",
        "Unmet share over time: mean and 95% CI over replicates",
    )
    paired_figures = (
        plots.plot_paired_over_time(diff, fig_dir / "paired_difference_over_time.png", baseline)
        if len(diff)
        else []
    )
    varied = _numeric_varied(manifest)
    crossover = []
    if varied and len(paired):
        pts = pd.DataFrame([{"point": p["index"], **p["values"]} for p in manifest["points"]])
        crossover = plots.plot_crossover(
            paired, pts[["point", *varied]], varied, fig_dir / "crossover.png", baseline
        )

    for name, table in (
        ("per_run", per_run),
        ("summary", summary),
        ("paired", paired),
        ("risk", risk),
    ):
        table.to_csv(folder / f"{name}.csv", index=False)

    md = _markdown(
        manifest, folder, per_run, summary, paired, risk, threshold, baseline,
        figures, paired_figures, crossover,
    )  # fmt: skip
    if spec["design"]["type"] == "ensemble" and len(spec["strategies"]) > 1:
        from experiments import worlds

        lines, table = worlds.section(per_run, manifest, baseline)
        table.to_csv(folder / "worlds.csv", index=False)
        at = md.find("## The experiment")
        md = md[:at] + "\n".join(lines) + "\n\n" + md[at:]
    import markdown

    html = HTML_TEMPLATE.format(
        title=f"civic-sim report: {spec['name']}",
        body=markdown.markdown(md, extensions=["tables"]),
    )
    atomic_write_bytes(folder / "report.md", md.encode("utf-8"), store.tmp_dir)
    atomic_write_bytes(folder / "report.html", html.encode("utf-8"), store.tmp_dir)
    return {
        "md": folder / "report.md",
        "html": folder / "report.html",
        "figures": figures + paired_figures + crossover,
    }


def _markdown(
    manifest, folder, per_run, summary, paired, risk, threshold, baseline,
    figures, paired_figures, crossover,
) -> str:  # fmt: skip
    spec = manifest["spec"]
    runs = manifest["runs"]
    done = sum(r["status"] == "done" for r in runs.values())
    failed = [k for k, r in runs.items() if r["status"] == "failed"]
    pending = len(runs) - done - len(failed)
    outcomes = [o for o in analysis.OUTCOMES if f"{o.name}_mean" in summary.columns]
    n_min = int(summary["n"].min()) if len(summary) else 0
    n_max = int(summary["n"].max()) if len(summary) else 0
    reps = f"{n_min}" if n_min == n_max else f"{n_min} to {n_max}"
    out = [f"# civic-sim report: {spec['name']}", ""]
    if spec.get("description"):
        out += [spec["description"], ""]
    out += [
        "## The experiment",
        "",
        f"- Strategies: {', '.join(spec['strategies'])}; baseline for paired "
        f"comparisons: **{baseline}**.",
        f"- Design: {spec['design']['type']}, {len(manifest['points'])} design point(s); "
        f"{spec['steps']} weeks per run.",
        f"- Runs: {len(runs)} planned, {done} finished, {len(failed)} failed, "
        f"{pending} not run. Replicates per strategy and design point in this report: "
        f"**{reps}** (of {spec['replicates']} planned).",
        f"- Seeds: root entropy **{manifest['root_entropy']}** "
        f"({manifest.get('root_entropy_source', '')}); replicate r of every strategy and "
        "design point uses `SeedSequence(root, spawn_key=(r,))` (common random numbers, "
        "so strategies are compared in pairs)."
        + (
            f" Latin hypercube seed: {manifest['design_seed']}."
            if manifest.get("design_seed") is not None
            else ""
        ),
        _code_line(manifest),
        "- Final year = the last 52 weeks of each run (outcomes are means over it, except "
        "cumulative unmet hours, the total at the end). Intervals are 95% confidence "
        "intervals of the mean over replicates (Student's t).",
    ]
    if failed:
        shown = ", ".join(failed[:10]) + (" ..." if len(failed) > 10 else "")
        out.append(f"- **Failed runs** (excluded; tracebacks in manifest.json): {shown}")
    out += ["", "### Design points", ""]
    out.append(
        _table(
            ["point", "values"],
            [[str(p["index"]), p["label"]] for p in manifest["points"]],
        )
    )

    out += _headlines(paired, baseline)
    out += ["", "## Unmet share over time", ""]
    out += [f"![unmet share over time](figures/{p.name})" for p in figures]
    if paired_figures:
        out += ["", f"## Paired difference vs {baseline} over time", ""]
        out.append(
            f"Unmet share of each strategy minus that of {baseline} in the same replicate "
            "(same seed), mean and 95% CI. Below zero the strategy leaves less need unmet."
        )
        out.append("")
        out += [f"![paired difference](figures/{p.name})" for p in paired_figures]

    out += ["", "## Summary per strategy and design point", ""]
    out.append("Mean [95% CI] over replicates.")
    out.append("")
    header = ["point", "strategy", "n"] + [o.label for o in outcomes]
    rows = []
    for r in summary.itertuples(index=False):
        r = r._asdict()
        rows.append(
            [r["point_label"], r["strategy"], str(r["n"])]
            + [
                _ci(o.fmt, r[f"{o.name}_mean"], r[f"{o.name}_low"], r[f"{o.name}_high"])
                for o in outcomes
            ]
        )
    out.append(_table(header, rows))

    if len(paired):
        out += ["", f"## Paired differences vs {baseline}", ""]
        out.append(
            f"Strategy minus {baseline}, paired by replicate (same seed): mean [95% CI]; "
            "'better' is the share of pairs in which the strategy did better (lower unmet "
            "need, cost and spend; more volunteers)."
        )
        out.append("")
        rows = []
        labels = {o.name: o for o in analysis.OUTCOMES}
        for r in paired.itertuples(index=False):
            o = labels[r.outcome]
            ci = (
                f"{_signed(o.fmt, r.mean)} [{_signed(o.fmt, r.low)}, {_signed(o.fmt, r.high)}]"
                if not math.isnan(r.low)
                else _signed(o.fmt, r.mean)
            )
            rows.append(
                [r.point_label, r.strategy, o.label, str(r.pairs), ci, f"{r.share_better:.0%}"]
            )
        out.append(_table(["point", "strategy", "outcome", "pairs", "difference", "better"], rows))

    out += ["", "## Risk", ""]
    if threshold is None:
        out.append(
            "Risk is the share of replicates whose final-year unmet share is above a "
            f"threshold: here the median final-year unmet share of **{baseline}** at the "
            f"same design point (so {baseline} itself sits near 50% by construction; set "
            "a fixed level with `civic-sim report --threshold 0.6` or "
            "`[report] risk_threshold` in the spec). P90 is the 90th percentile of the "
            "final-year unmet share over replicates."
        )
    else:
        out.append(
            "Risk is the share of replicates whose final-year unmet share is above the "
            f"fixed threshold **{threshold:g}**. P90 is the 90th percentile of the "
            "final-year unmet share over replicates."
        )
    out.append("")
    out.append(
        "Share above: the share of replicates, with its 95% Wilson score interval. P90: with "
        "a 95% percentile-bootstrap interval (2,000 resamples, fixed seed); with few "
        "replicates an interval of an upper percentile is rough."
    )
    out.append("")
    rows = [
        [r.point_label, r.strategy, str(r.n), f"{r.threshold:.3f}",
         _ci("{:.0%}", r.share_above, r.share_above_low, r.share_above_high),
         _ci("{:.3f}", r.p90, r.p90_low, r.p90_high)]
        for r in risk.itertuples(index=False)
    ]  # fmt: skip
    header = ["point", "strategy", "n", "threshold", "share above [95% CI]"]
    out.append(_table([*header, "P90 unmet share [95% CI]"], rows))
    if crossover:
        out += ["", "## Where does facilitation overtake the baseline?", ""]
        out.append(
            f"Final-year paired difference in unmet share (strategy minus {baseline}) "
            "against the varied parameters, with 95% CIs. Below zero the strategy leaves "
            "less need unmet."
        )
        out.append("")
        out += [f"![crossover](figures/{p.name})" for p in crossover]
    out += [
        "",
        "## Files",
        "",
        "`per_run.csv` (final-year outcomes of every run), `summary.csv`, `paired.csv`, "
        "`risk.csv` (the tables above at full precision), `runs/` (weekly data, Parquet), "
        "`manifest.json` (spec, seeds, parameters, status and timing of every run).",
        "",
    ]
    return "\n".join(out)


def _code_line(manifest: dict) -> str:
    """The report's line on the code and environment that made the runs."""
    v = manifest.get("versions", {})
    line = (
        f"- Code: civic-sim {v.get('civic-sim', '?')}, git commit "
        f"`{manifest.get('git_commit')}`; Python {v.get('python', '?')}, mesa "
        f"{v.get('mesa', '?')}, numpy {v.get('numpy', '?')}, numba {v.get('numba', '?')}, "
        f"pandas {v.get('pandas', '?')}."
    )
    lock = v.get(LOCK_FILE)
    if lock:
        line += f" Lock file `{LOCK_FILE}`: {lock} (`make setup` installs from it)."
    return line


def _headlines(paired: pd.DataFrame, baseline: str) -> list[str]:
    """One sentence per design point and strategy on the final-year unmet share."""
    rows = paired[paired["outcome"] == "unmet_share"] if len(paired) else paired
    if not len(rows):
        return []
    out = ["", "## Headlines", ""]
    out.append(
        f"Final-year unmet share, each strategy against {baseline} on the same seeds "
        "(a difference counts as clear when its 95% CI excludes zero):"
    )
    out.append("")
    for r in rows.itertuples(index=False):
        if math.isnan(r.low):
            verdict = "too few pairs for a CI"
        elif r.high < 0:
            verdict = "clearly **lower** (better)"
        elif r.low > 0:
            verdict = "clearly **higher** (worse)"
        else:
            verdict = "no clear difference"
        out.append(
            f"- {r.point_label}: {r.strategy} {_signed('{:.3f}', r.mean)} "
            f"[{_signed('{:.3f}', r.low)}, {_signed('{:.3f}', r.high)}] vs {baseline}: "
            f"{verdict}; better in {round(r.share_better * r.pairs)} of {r.pairs} pairs."
        )
    return out
