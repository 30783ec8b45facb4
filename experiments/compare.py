"""``civic-sim report --compare DIR_A DIR_B``: two experiments on the same seeds.

The typical use is a student's changed rule against the shipped one: the same spec swept
twice, once plain (A) and once with the plugin or edited rule (B). Because replicate r
of both runs on the same seeds, run r of B minus run r of A is a paired difference that
isolates the change. If the two sweeps have different root entropies the comparison is
unpaired (Welch's interval), and says so. The design points must be the same.

Writes, in ``out``: ``report.md``, a self-contained ``report.html``, ``comparison.csv``
(every outcome, design point and strategy) and ``figures/``.
"""

from __future__ import annotations

import json
from pathlib import Path

from experiments import analysis, plots
from experiments.headline import comparison_sentence, point_words, strategy_title
from experiments.report import (
    ReportContext,
    Section,
    md_table,
    render_markdown,
    signed,
    write_document,
)
from experiments.runner import spec_differences
from experiments.sections import period_words, tolerance_note, uncertainty_note
from experiments.store import explain_fingerprint_change, write_frame


def _points_key(manifest: dict) -> list[str]:
    return [json.dumps(p["values"], sort_keys=True) for p in manifest["points"]]


def _what_differs(a: ReportContext, b: ReportContext) -> list[str]:
    ma, mb = a.manifest, b.manifest
    lines = []
    fa, fb = ma.get("model_fingerprint"), mb.get("model_fingerprint")
    if fa == fb:
        lines.append(f"- Model: the same (fingerprint `{fa}`).")
    else:
        parts_a = ma.get("fingerprints", {}).get(fa)
        parts_b = mb.get("fingerprints", {}).get(fb)
        why = explain_fingerprint_change(parts_a, parts_b) if parts_b else "not recorded"
        lines.append(f"- Model: fingerprint `{fa}` (A) and `{fb}` (B): {why}.")
    for label, m in (("A", ma), ("B", mb)):
        plugins = ", ".join(f"`{p['module']}`" for p in m.get("plugins", [])) or "none"
        lines.append(f"- {label}: git commit `{m.get('git_commit')}`, plugins: {plugins}.")
    differ = spec_differences(ma["spec"], mb["spec"])
    if differ:
        lines.append("- Spec fields that differ: " + "; ".join(differ) + ".")
    else:
        lines.append("- Spec: the same design, weeks and fixed parameters.")
    return lines


def write_comparison(
    folder_a: str | Path,
    folder_b: str | Path,
    out: str | Path,
    threshold: float | None = None,
) -> dict[str, Path]:
    """Write the comparison B minus A of two sweeps.

    Args:
        folder_a: The reference sweep (the shipped rule, say).
        folder_b: The changed sweep.
        out: Folder to write in.
        threshold: Unused by the comparison (kept for the CLI's common options).

    Returns:
        Paths of the files written (``md``, ``html``, ``csv``, ``figures``).

    Raises:
        ValueError: If a folder holds no finished runs, or the design points differ.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    a, b = ReportContext(folder_a, out), ReportContext(folder_b, out)
    if _points_key(a.manifest) != _points_key(b.manifest):
        raise ValueError(
            f"{str(folder_a)!r} and {str(folder_b)!r} have different design points; a "
            "comparison needs the same design (the same spec, with the change in a plugin "
            "or the model)"
        )
    same_seeds = int(a.manifest["root_entropy"]) == int(b.manifest["root_entropy"])
    table = analysis.paired_between(a.per_run, b.per_run, paired=same_seeds)
    if not len(table):
        raise ValueError("the two sweeps have no strategy with finished runs in common")
    name_a, name_b = Path(folder_a).name or str(folder_a), Path(folder_b).name or str(folder_b)
    colors = plots.strategy_colors(
        list(dict.fromkeys(list(b.strategies) + list(table["strategy"])))
    )

    lines = []
    if not same_seeds:
        lines.append(
            "> **The two sweeps ran on different seeds** (root entropies "
            f"{a.manifest['root_entropy']} and {b.manifest['root_entropy']}), so they are "
            "compared unpaired, with much wider intervals. Give both specs the same `seed` "
            "to compare in pairs."
        )
        lines.append("")
    lines.append(
        f"**B** (`{name_b}`) against **A** (`{name_a}`). {period_words(b.spec['steps'])}, "
        "per strategy, on "
        + ("the same residents and events:" if same_seeds else "different random numbers:")
    )
    lines.append("")
    values = {p["index"]: p["values"] for p in b.manifest["points"]}
    titles = b.manifest.get("strategy_titles")
    for (point, strategy), rows in table.groupby(["point", "strategy"], sort=False):
        lines.append(
            f"- **In {point_words(values[point])}, under {strategy_title(strategy, titles)}, B "
            f"instead of A:** {comparison_sentence(rows)}"
        )
    lines += ["", tolerance_note(), "", uncertainty_note(b)]
    sections = [Section("In short", "\n".join(lines))]
    sections.append(Section("What differs between A and B", "\n".join(_what_differs(a, b))))

    if same_seeds:
        band = analysis.between_over_time(a.frame, b.frame, "unmet_share")
        figures = plots.plot_paired_over_time(
            band, b.fig_dir / "comparison_over_time.png", "A", colors
        )
        sections.append(
            Section(
                "B minus A over time",
                "Unmet share of B minus that of A in the same replicate (same seed), "
                "percentage points, mean and 95% CI, per strategy.",
                figures,
            )
        )
    labels = {o.name: o for o in analysis.OUTCOMES}
    rows_md = []
    for r in table.itertuples(index=False):
        o = labels[r.outcome]
        ci = (
            f"{signed(o.fmt, r.mean)} [{signed(o.fmt, r.low)}, {signed(o.fmt, r.high)}]"
            if r.low == r.low
            else signed(o.fmt, r.mean)
        )
        rows_md.append(
            [
                r.point_label,
                r.strategy,
                o.label,
                o.fmt.format(r.baseline_level),
                o.fmt.format(r.strategy_level),
                ci,
                r.verdict,
            ]
        )
    sections.append(
        Section(
            "Every outcome",
            ("Paired" if same_seeds else "Unpaired")
            + " difference B minus A, mean [95% CI].\n\n"
            + md_table(["point", "strategy", "outcome", "A", "B", "B minus A", "verdict"], rows_md),
        )
    )
    write_frame(table, out / "comparison.csv")
    title = f"civic-sim comparison: {name_b} against {name_a}"
    md = render_markdown(title, "", sections, out)
    paths = write_document(out, md, title)
    paths["csv"] = out / "comparison.csv"
    paths["figures"] = [f for s in sections for f in s.figures]
    return paths
