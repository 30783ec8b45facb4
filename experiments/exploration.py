"""The report's exploration sections: sensitivity, scenario discovery and robustness.

Importing this module adds three section builders to the report
(:func:`experiments.report.add_section`), after *The experiment*; each decides whether
it applies to a sweep, writes its table in the report's folder and returns its section:

* **Which assumptions decide the answer** (:mod:`experiments.sensitivity`,
  ``sensitivity.csv``): Morris and Sobol' designs;
* **Where each strategy wins** (:mod:`experiments.discovery`, ``discovery.csv``): any
  design whose points vary numeric parameters, with at least
  :data:`experiments.discovery.MIN_CASES` points;
* **Robustness** (:mod:`experiments.robustness`, ``robustness.csv``): any design with
  two or more points and two or more strategies.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd

import experiments.sections  # noqa: F401 - the standard sections these are placed among
from experiments import discovery, robustness, sensitivity
from experiments.report import ReportContext, Section, add_section
from experiments.store import write_frame


def numeric_values(manifest: dict) -> pd.DataFrame:
    """One row per design point: ``point`` and each numeric parameter that varies."""
    rows = [{"point": p["index"], **p["values"]} for p in manifest.get("points", [])]
    table = pd.DataFrame(rows)
    keep = ["point"]
    for column in table.columns[1:]:
        values = table[column]
        numeric = values.map(lambda v: isinstance(v, int | float) and not isinstance(v, bool))
        if numeric.all() and values.nunique() > 1:
            keep.append(column)
    return table[keep]


#: What each section needs of the ``analysis`` extra (import name: what to call it).
NEEDS = {
    "sensitivity": {"SALib": "SALib"},
    "discovery": {"ema_workbench": "the EMA Workbench", "sklearn": "scikit-learn"},
}


def missing_extra(section: str) -> Section | None:
    """A one-paragraph section saying which package of the ``analysis`` extra is missing
    (a core install still writes the rest of the report), or None if all are there."""
    missing = [
        label
        for module, label in NEEDS[section].items()
        if importlib.util.find_spec(module) is None
    ]
    if not missing:
        return None
    title = {
        "sensitivity": "Which assumptions decide the answer",
        "discovery": "Where each strategy wins: scenario discovery",
    }[section]
    return Section(
        title,
        f"Not computed: this needs {' and '.join(missing)}, which "
        f"{'is' if len(missing) == 1 else 'are'} not installed. Install the analysis "
        "extra (`pip install 'civic-sim[analysis]'`; `make setup` installs it) and run "
        "`civic-sim report` again.",
    )


def as_section(lines: list[str], figures: list[Path]) -> Section | None:
    """A :class:`Section` from the Markdown lines of an analysis module (its ``## ``
    heading becomes the title; the figures are shown after the text)."""
    heading = next((i for i, line in enumerate(lines) if line.startswith("## ")), None)
    if heading is None:
        return None
    body = [line for line in lines[heading + 1 :] if not line.startswith("![")]
    return Section(lines[heading][3:].strip(), "\n".join(body).strip(), list(figures))


def sensitivity_section(ctx: ReportContext) -> Section | None:
    """Morris or Sobol' indices of every outcome and paired difference (those designs)."""
    if ctx.design_type not in ("morris", "sobol"):
        return None
    if (note := missing_extra("sensitivity")) is not None:
        return note
    manifest = ctx.manifest
    missing = sensitivity.missing_points(ctx.per_run, manifest)
    table = pd.DataFrame()
    if not missing:
        unit = sensitivity.unit_matrix(ctx.folder, manifest)
        table = sensitivity.sensitivity_table(ctx.per_run, manifest, unit, ctx.baseline)
        write_frame(table, ctx.out / "sensitivity.csv")
    figures = (
        sensitivity.plot(table, manifest, ctx.baseline, ctx.fig_dir / "sensitivity.png")
        if len(table)
        else []
    )
    return as_section(sensitivity.section(table, manifest, ctx.baseline, figures, missing), figures)


def discovery_section(ctx: ReportContext) -> Section | None:
    """PRIM boxes (and a CART cross-check) where each strategy beats the baseline."""
    values = numeric_values(ctx.manifest)
    strategies = ctx.strategies
    if len(strategies) < 2 or len(values.columns) < 2 or len(values) < discovery.MIN_CASES:
        return None
    if (note := missing_extra("discovery")) is not None:
        return note
    table, data = discovery.discovery_table(
        ctx.paired, values, strategies, ctx.baseline, ctx.discovery_threshold
    )
    write_frame(table, ctx.out / "discovery.csv")
    figures = discovery.plot(table, data, ctx.fig_dir / "discovery.png") if len(table) else []
    lines = discovery.section(table, values, ctx.baseline, ctx.discovery_threshold, figures)
    return as_section(lines, figures)


def robustness_section(ctx: ReportContext) -> Section | None:
    """Each strategy's regret against the best at every design point."""
    if len(ctx.strategies) < 2 or len(ctx.manifest.get("points", [])) < 2:
        return None
    table = robustness.regret_table(ctx.per_run, ctx.regret_tolerance)
    write_frame(table, ctx.out / "robustness.csv")
    return as_section(robustness.section(table), [])


add_section("sensitivity", sensitivity_section, after="experiment")
add_section("discovery", discovery_section, after="sensitivity")
add_section("robustness", robustness_section, after="discovery")
