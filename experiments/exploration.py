"""The report's exploration sections: sensitivity, scenario discovery and robustness.

:func:`sections` decides which apply to a sweep, writes their tables
(``sensitivity.csv``, ``discovery.csv``, ``robustness.csv``) and figures, and returns
their Markdown:

* **Which assumptions decide the answer** (:mod:`experiments.sensitivity`): Morris and
  Sobol' designs;
* **Where each strategy wins** (:mod:`experiments.discovery`): any design whose points
  vary numeric parameters, with at least :data:`experiments.discovery.MIN_CASES` points;
* **Robustness** (:mod:`experiments.robustness`): any design with two or more points and
  two or more strategies.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from experiments import discovery, robustness, sensitivity


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


def sections(
    folder: Path,
    manifest: dict,
    per_run: pd.DataFrame,
    paired: pd.DataFrame,
    baseline: str,
    discovery_threshold: float | None = None,
    regret_tolerance: float | None = None,
) -> tuple[list[str], list[Path]]:
    """Compute, write and describe the exploration sections of a sweep's report.

    Args:
        folder: The sweep folder (tables are written here, figures in ``figures/``).
        manifest: The sweep's manifest.
        per_run: Final-year outcomes of every run.
        paired: Paired differences per design point (``analysis.paired_differences``).
        baseline: The baseline strategy.
        discovery_threshold: Win threshold of scenario discovery (default: the spec's
            ``report.discovery_threshold``, else "the 95% CI below zero").
        regret_tolerance: Robustness tolerance in unmet share (default: the spec's
            ``report.regret_tolerance``, else 0.005).

    Returns:
        The Markdown lines and the figure paths.
    """
    spec = manifest["spec"]
    if discovery_threshold is None:
        discovery_threshold = spec.get("discovery_threshold")
    if regret_tolerance is None:
        regret_tolerance = spec.get("regret_tolerance")
    fig_dir = folder / "figures"
    lines: list[str] = []
    figures: list[Path] = []

    if spec["design"]["type"] in ("morris", "sobol"):
        missing = sensitivity.missing_points(per_run, manifest)
        table = pd.DataFrame()
        if not missing:
            unit = sensitivity.unit_matrix(folder, manifest)
            table = sensitivity.sensitivity_table(per_run, manifest, unit, baseline)
            table.to_csv(folder / "sensitivity.csv", index=False)
        figs = (
            sensitivity.plot(table, manifest, baseline, fig_dir / "sensitivity.png")
            if len(table)
            else []
        )
        lines += sensitivity.section(table, manifest, baseline, figs, missing)
        figures += figs

    values = numeric_values(manifest)
    strategies = spec["strategies"]
    if len(strategies) > 1 and len(values.columns) > 1 and len(values) >= discovery.MIN_CASES:
        table, data = discovery.discovery_table(
            paired, values, strategies, baseline, discovery_threshold
        )
        table.to_csv(folder / "discovery.csv", index=False)
        figs = discovery.plot(table, data, fig_dir / "discovery.png") if len(table) else []
        lines += discovery.section(table, values, baseline, discovery_threshold, figs)
        figures += figs

    if len(strategies) > 1 and len(manifest.get("points", [])) > 1:
        table = robustness.regret_table(per_run, regret_tolerance)
        table.to_csv(folder / "robustness.csv", index=False)
        lines += robustness.section(table)
    return lines, figures
