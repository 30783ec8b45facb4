"""Global sensitivity analysis with SALib: Morris screening and Sobol' indices.

Sampling. A ``morris`` or ``sobol`` design (:mod:`experiments.spec`) is drawn by SALib in
the unit cube and mapped onto each parameter's ``[low, high]``. The design index of a
point is its row in that sample matrix, which is kept next to the results as
``sample_matrix.csv`` (parameter values and unit coordinates). Integer parameters stay
on their grid: a Morris design only accepts integer ranges whose span is a multiple of
``levels - 1`` (every level is then a whole number); a Sobol' coordinate ``u`` maps to
``low + floor(u * (high - low + 1))``, each whole number equally likely.

Groups. A Morris design with ``[design.groups]`` passes SALib's ``groups``: the
parameters of a group change together at each step of a trajectory (each in its own
random direction), so a trajectory has (groups + 1) points and the indices rank the
groups (Campolongo, Cariboni and Saltelli 2007). A group's ``mu_star`` is the mean
absolute change of the outcome when all its members move; with members moving in
random directions it is at least about the largest member's own ``mu_star``, so an
influential parameter is not hidden by its group, but which member it is stays
unresolved. ``mu`` averages the members' signed effects; ``sigma`` is defined only for
a group of one (SALib). ``sensitivity.csv`` then names the group in ``parameter`` and
lists its members in ``members``.

Analysis. For each outcome of :data:`experiments.analysis.OUTCOMES`, the quantity
analysed at a design point is the mean over replicates of either one strategy's
final-year outcome or the paired difference (strategy minus baseline, same replicate
seed). Morris gives ``mu``, ``mu_star``, ``sigma`` and a bootstrap interval of
``mu_star``; Sobol' gives first-order (``S1``) and total (``ST``) indices with
bootstrap intervals (and ``S2`` with ``second_order``).

Replicate noise. The replicate mean still carries the run-to-run noise of a stochastic
model. With two or more replicates the noise is measured from a *contrast* of the
replicates that has the same variance as the noise in their mean but no signal
(``y_1 - mean(y_2..y_R)``, scaled): Morris's ``mu_star`` of that contrast
(``mu_star_noise``) is what a parameter with no effect would score, and
``noise_share`` is the share of the variance of the analysed quantity over the design
points that is replicate noise. Replicate r has the same seed at every design point, so
part of its noise is a shift of every point alike (replicate 1's world has, say, more
frail residents than replicate 0's, wherever the parameters are); that part is no
variance over the design and cannot be mistaken for an effect, so the noise is measured
by the contrast's variance over the points, not its mean square. A parameter's effect
is told apart from noise when ``mu_star - mu_star_conf`` exceeds ``mu_star_noise``
(Morris), or when ``ST`` exceeds ``ST_noise``, the total index of the contrast on the
outcome's variance scale, by more than their combined intervals (Sobol': noise acts like
an interaction with every parameter and adds about its share of the variance to each
total index).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments import analysis

SAMPLE_MATRIX = "sample_matrix.csv"
UNIT_PREFIX = "u:"
CONF_LEVEL = 0.95
RESAMPLES = 200
#: Seed of SALib's bootstrap (fixed, so a report is the same every time it is written).
BOOTSTRAP_SEED = 20240601


# --- the design ----------------------------------------------------------------------------
def _is_integer(low: Any, high: Any) -> bool:
    return isinstance(low, int) and isinstance(high, int) and not isinstance(low, bool)


def salib_problem(names: list[str], groups: list[str] | None = None) -> dict[str, Any]:
    """SALib's problem description in the unit cube (the mapping onto ranges is ours).

    Args:
        names: The parameters, in the order of the sample's columns.
        groups: The group of each parameter (SALib's ``groups``), or None.
    """
    problem = {"num_vars": len(names), "names": list(names), "bounds": [[0.0, 1.0]] * len(names)}
    if groups is not None:
        problem["groups"] = list(groups)
    return problem


def require_salib() -> None:
    """Raise a one-line :class:`experiments.spec.SpecError` if SALib (the ``analysis``
    extra) is not installed."""
    import importlib.util

    if importlib.util.find_spec("SALib") is None:
        from experiments.spec import SpecError

        raise SpecError(
            "spec.design.type: morris and sobol designs need SALib, which is not "
            "installed: pip install 'civic-sim[analysis]' (make setup installs it)"
        )


def unit_sample(design, seed: int | None) -> np.ndarray:
    """The design's sample matrix in the unit cube, one row per design point.

    Args:
        design: A :class:`experiments.spec.Design` of type ``morris`` or ``sobol``.
        seed: Seed of SALib's sampler.
    """
    require_salib()
    if design.type == "morris":
        from SALib.sample import morris

        problem = salib_problem(list(design.ranges), design.factor_groups())

        return morris.sample(problem, design.trajectories, num_levels=design.levels, seed=seed)
    if design.type == "sobol":
        from SALib.sample import sobol

        problem = salib_problem(list(design.ranges))
        return sobol.sample(
            problem, design.base_samples, calc_second_order=design.second_order, seed=seed
        )
    raise ValueError(f"no SALib sample for a {design.type!r} design")


def to_values(design, unit: np.ndarray) -> list[dict[str, Any]]:
    """Map unit coordinates onto the design's ranges (integers stay whole numbers)."""
    points = []
    for row in unit:
        point = {}
        for (name, (low, high)), u in zip(design.ranges.items(), row, strict=True):
            u = float(u)
            if _is_integer(low, high):
                if design.type == "morris":
                    value = int(round(low + u * (high - low)))
                else:
                    value = low + min(int(math.floor(u * (high - low + 1))), high - low)
            else:
                value = float(low + u * (high - low))
            point[name] = value
        points.append(point)
    return points


def design_points(design, seed: int | None) -> list[dict[str, Any]]:
    """The design points of a Morris or Sobol' design, in the order of the sample rows."""
    return to_values(design, unit_sample(design, seed))


def sample_matrix(design, seed: int | None) -> pd.DataFrame:
    """The sample matrix as a table: ``point``, each parameter's value, ``u:<name>``."""
    unit = unit_sample(design, seed)
    values = pd.DataFrame(to_values(design, unit))
    units = pd.DataFrame(unit, columns=[UNIT_PREFIX + n for n in design.ranges])
    table = pd.concat([values, units], axis=1)
    table.insert(0, "point", np.arange(len(table)))
    return table


def write_sample_matrix(spec, folder: Path, seed: int | None) -> Path | None:
    """Write ``sample_matrix.csv`` for a Morris or Sobol' design (others: nothing)."""
    if spec.design.type not in ("morris", "sobol"):
        return None
    from experiments.store import atomic_write_bytes

    path = Path(folder) / SAMPLE_MATRIX
    if not path.exists():
        text = sample_matrix(spec.design, seed).to_csv(index=False, float_format="%.17g")
        atomic_write_bytes(path, text.encode("utf-8"))
    return path


def design_from_manifest(manifest: dict):
    """Rebuild the :class:`experiments.spec.Design` recorded in a manifest."""
    from experiments.spec import Design

    d = manifest["spec"]["design"]
    design = Design(type=d["type"])
    design.ranges = {k: tuple(v) for k, v in d.get("ranges", {}).items()}
    design.ranges_from = d.get("ranges_from")
    design.trajectories = d.get("trajectories", 0)
    design.levels = d.get("levels", 4)
    design.groups = {k: list(v) for k, v in d.get("groups", {}).items()}
    design.base_samples = d.get("base_samples", 0)
    design.second_order = d.get("second_order", False)
    design.seed = d.get("seed")
    return design


def unit_matrix(folder: Path, manifest: dict) -> np.ndarray:
    """The stored unit sample matrix (drawn again from the recorded seed if missing)."""
    design = design_from_manifest(manifest)
    path = Path(folder) / SAMPLE_MATRIX
    if path.exists():
        table = pd.read_csv(path)
        return table[[UNIT_PREFIX + n for n in design.ranges]].to_numpy(dtype=float)
    return unit_sample(design, manifest.get("design_seed"))


# --- what is analysed ----------------------------------------------------------------------
def noise_contrast(values: np.ndarray) -> np.ndarray:
    """Per row, a contrast of the replicates with the variance of their mean's noise.

    ``k * (y_1 - mean(y_2, ..., y_R))`` with ``k = sqrt(R - 1) / R`` has variance
    ``sigma^2 / R`` for independent replicates of variance ``sigma^2`` and no signal.

    Args:
        values: ``(points, R)`` replicate outcomes, ``R >= 2``.
    """
    r = values.shape[1]
    k = math.sqrt(r - 1) / r
    return k * (values[:, 0] - values[:, 1:].mean(axis=1))


def point_matrices(
    per_run: pd.DataFrame, outcome: str, strategy: str, baseline: str | None, n_points: int
) -> np.ndarray | None:
    """``(points, replicates)`` of an outcome (or of the paired difference from baseline).

    Replicates missing at some points (an unfinished sweep) are NaN there; None if no
    replicate is present at every point.
    """
    rows = per_run[per_run["strategy"] == strategy][["point", "replicate", outcome]]
    table = rows.pivot_table(index="point", columns="replicate", values=outcome)
    if baseline is not None:
        base = per_run[per_run["strategy"] == baseline][["point", "replicate", outcome]]
        table = table - base.pivot_table(index="point", columns="replicate", values=outcome)
    table = table.reindex(range(n_points)).dropna(axis=1, how="all")
    if not table.notna().all().any():
        return None
    return table.to_numpy(dtype=float)


def comparisons(strategies: list[str], baseline: str) -> list[tuple[str, str, str | None]]:
    """``(label, strategy, baseline or None)``: each strategy's level, then each
    non-baseline strategy's paired difference from the baseline."""
    out = [(s, s, None) for s in strategies]
    out += [(f"{s} - {baseline}", s, baseline) for s in strategies if s != baseline]
    return out


# --- the analysis --------------------------------------------------------------------------
def morris_indices(
    names: list[str],
    unit: np.ndarray,
    y: np.ndarray,
    levels: int,
    groups: list[str] | None = None,
) -> pd.DataFrame:
    """SALib's Morris indices of one output, one row per parameter (or group, with
    ``groups``: then ``members`` lists each group's parameters)."""
    from SALib.analyze import morris

    result = morris.analyze(
        salib_problem(names, groups),
        unit,
        np.asarray(y, dtype=float),
        num_resamples=RESAMPLES,
        conf_level=CONF_LEVEL,
        num_levels=levels,
        seed=BOOTSTRAP_SEED,
    )
    factors = list(result["names"])
    table = pd.DataFrame(
        {
            "parameter": factors,
            "mu": np.asarray(result["mu"], dtype=float),
            "mu_star": np.asarray(result["mu_star"], dtype=float),
            "sigma": np.asarray(result["sigma"], dtype=float),
            "mu_star_conf": np.asarray(result["mu_star_conf"], dtype=float),
        }
    )
    if groups is not None:
        members = {f: [n for n, g in zip(names, groups, strict=True) if g == f] for f in factors}
        table["members"] = [";".join(members[f]) for f in factors]
        table["group_size"] = [len(members[f]) for f in factors]
    return table


def sobol_indices(names: list[str], y: np.ndarray, second_order: bool) -> pd.DataFrame:
    """SALib's Sobol' indices of one output: rows per parameter (and pair, if asked)."""
    from SALib.analyze import sobol

    result = sobol.analyze(
        salib_problem(names),
        np.asarray(y, dtype=float),
        calc_second_order=second_order,
        num_resamples=RESAMPLES,
        conf_level=CONF_LEVEL,
        seed=BOOTSTRAP_SEED,
    )
    table = pd.DataFrame(
        {
            "parameter": names,
            "S1": result["S1"],
            "S1_conf": result["S1_conf"],
            "ST": result["ST"],
            "ST_conf": result["ST_conf"],
        }
    )
    if second_order:
        pairs = []
        for i, a in enumerate(names):
            for j in range(i + 1, len(names)):
                pairs.append(
                    {
                        "parameter": f"{a} x {names[j]}",
                        "S2": result["S2"][i, j],
                        "S2_conf": result["S2_conf"][i, j],
                    }
                )
        table = pd.concat([table, pd.DataFrame(pairs)], ignore_index=True)
    return table


def morris_noise(values: np.ndarray, trajectory: int, reps: int):
    """The noise contrast on the Morris trajectories finished in two or more replicates.

    Each trajectory uses the replicates complete over it, scaled so that the contrast
    has the variance of the noise in a mean over ``reps`` replicates (those the
    indices use), so an unfinished sweep still measures its noise.

    Returns:
        ``(rows, contrast, trajectories)``: the rows used, the contrast, and how many
        trajectories it covers (``rows`` empty when none has two replicates).
    """
    rows, parts = [], []
    for start in range(0, len(values), trajectory):
        block = values[start : start + trajectory]
        complete = block[:, ~np.isnan(block).any(axis=0)]
        if complete.shape[1] >= 2:
            rows.append(np.arange(start, start + trajectory))
            parts.append(noise_contrast(complete) * math.sqrt(complete.shape[1] / reps))
    if not rows:
        return np.array([], dtype=int), None, 0
    return np.concatenate(rows), np.concatenate(parts), len(rows)


def analyse_output(design, unit: np.ndarray, values: np.ndarray) -> pd.DataFrame:
    """Indices of one analysed quantity, given its replicate outcomes at every point.

    Args:
        design: The Morris or Sobol' design.
        unit: The unit sample matrix (rows = design points).
        values: ``(points, replicates)`` outcomes (or paired differences); NaN where a
            replicate is not finished. The indices use the replicates finished at every
            point; Morris measures noise on the trajectories finished in two or more.

    Returns:
        One row per parameter with the method's indices, ``replicates``, ``output_sd``
        (sd of the replicate means over the points), ``noise_sd`` (sd over the points of
        the noise in a replicate mean, leaving out a shift common to every point; NaN with
        one replicate), ``noise_share`` and, for Morris,
        ``mu_star_noise`` and ``noise_trajectories``; ranked by ``mu_star`` (Morris) or
        ``ST`` (Sobol').
    """
    names = list(design.ranges)
    full = values[:, ~np.isnan(values).any(axis=0)]
    y = full.mean(axis=1)
    reps = full.shape[1]
    noise = noise_contrast(full) if reps >= 2 else None
    if design.type == "morris":
        groups = design.factor_groups()
        table = morris_indices(names, unit, y, design.levels, groups)
        rows, noise, covered = morris_noise(values, len(design.morris_factors()) + 1, reps)
        table["mu_star_noise"] = (
            morris_indices(names, unit[rows], noise, design.levels, groups)["mu_star"].to_numpy()
            if noise is not None
            else np.nan
        )
        table["noise_trajectories"] = covered
        key = "mu_star"
    else:
        table = sobol_indices(names, y, design.second_order)
        key = "ST"
        if noise is not None and np.var(y) > 0:
            # the total index the noise alone gets, on the outcome's variance scale
            scale = float(np.var(noise) / np.var(y))
            noisy = sobol_indices(names, noise, False).set_index("parameter")
            table["ST_noise"] = table["parameter"].map(noisy["ST"] * scale)
            table["ST_noise_conf"] = table["parameter"].map(noisy["ST_conf"] * scale)
    output_var = float(np.var(y, ddof=1)) if len(y) > 1 else float("nan")
    # the noise's variance over the points: a replicate's seed is the same at every point
    # (common random numbers), so part of its noise is one shift of every point alike,
    # which is no variance over the design; a mean of squares would count it
    noise_var = float(np.var(noise, ddof=1)) if noise is not None and noise.size > 1 else np.nan
    # the share compares like with like: the points the noise was measured on
    share_var = float(np.var(y[rows], ddof=1)) if design.type == "morris" else output_var
    table["replicates"] = reps
    table["output_sd"] = math.sqrt(output_var) if output_var == output_var else np.nan
    table["noise_sd"] = math.sqrt(noise_var) if noise_var == noise_var else np.nan
    table["noise_share"] = (
        min(noise_var / share_var, 1.0) if share_var > 0 and noise is not None else np.nan
    )
    table["rank"] = table[key].rank(ascending=False, method="min")
    return table


def sensitivity_table(
    per_run: pd.DataFrame,
    manifest: dict,
    unit: np.ndarray,
    baseline: str,
) -> pd.DataFrame:
    """Indices of every outcome and comparison (``sensitivity.csv``).

    Args:
        per_run: Final-year outcomes of every run (:func:`experiments.analysis.final_year`).
        manifest: The sweep's manifest (design, strategies).
        unit: The unit sample matrix.
        baseline: Strategy the paired differences are taken against.

    Returns:
        One row per (outcome, comparison, parameter): ``method``, ``outcome``,
        ``comparison``, ``parameter`` and the columns of :func:`analyse_output`.
    """
    design = design_from_manifest(manifest)
    strategies = manifest["spec"]["strategies"]
    n_points = len(manifest["points"])
    tables = []
    for o in analysis.available_outcomes(per_run):
        for label, strategy, base in comparisons(strategies, baseline):
            values = point_matrices(per_run, o.name, strategy, base, n_points)
            if values is None or np.isinf(values).any():
                continue
            table = analyse_output(design, unit, values)
            table.insert(0, "comparison", label)
            table.insert(0, "outcome", o.name)
            table.insert(0, "method", design.type)
            tables.append(table)
    if not tables:
        return pd.DataFrame(columns=["method", "outcome", "comparison", "parameter"])
    return pd.concat(tables, ignore_index=True)


def missing_points(per_run: pd.DataFrame, manifest: dict) -> int:
    """Design points without a finished run of every strategy."""
    strategies = manifest["spec"]["strategies"]
    have = per_run.groupby("point")["strategy"].nunique()
    complete = set(have[have == len(strategies)].index)
    return len(manifest["points"]) - len(complete)


# --- plain words ---------------------------------------------------------------------------
def ranked(table: pd.DataFrame, outcome: str, comparison: str) -> pd.DataFrame:
    """The rows of one outcome and comparison, most influential first (no pair rows)."""
    rows = table[(table["outcome"] == outcome) & (table["comparison"] == comparison)]
    rows = rows[rows["rank"].notna()]
    return rows.sort_values("rank", kind="stable")


def noise_measured(row) -> bool:
    """Whether the replicate noise of this row's analysis was measured."""
    if row.method == "morris":
        return bool(np.isfinite(row.mu_star_noise))
    return bool(np.isfinite(getattr(row, "ST_noise", float("nan"))))


def above_noise(row) -> bool:
    """Whether a parameter's effect stands out from replicate noise (False if the noise
    was not measured: then nothing can be said)."""
    if not noise_measured(row):
        return False
    if row.method == "morris":
        return bool(row.mu_star - row.mu_star_conf > row.mu_star_noise)
    # replicate noise looks like an interaction with every parameter: it adds about its
    # share of the variance to each ST, measured by the same analysis of the contrast
    return bool(row.ST - row.ST_noise > math.hypot(row.ST_conf, row.ST_noise_conf))


def group_size(row) -> int:
    """How many parameters a row ranks together (1: a parameter alone)."""
    size = getattr(row, "group_size", 1)
    return int(size) if size == size else 1


def factor_label(row) -> str:
    """A row's name in the report: the parameter, or the group and its members."""
    if group_size(row) == 1:
        return f"`{row.parameter}`"
    members = ", ".join(str(row.members).split(";"))
    return f"group `{row.parameter}` ({members})"


def describe(table: pd.DataFrame, outcome, comparison: str, top: int = 8) -> list[str]:
    """Markdown lines ranking the parameters (or groups) of one outcome and comparison."""
    rows = ranked(table, outcome.name, comparison)
    if not len(rows):
        return []
    first = rows.iloc[0]
    noise = (
        f"replicate noise is {first.noise_share:.0%} of its variance over the design"
        if np.isfinite(first.noise_share)
        else "one replicate per point, so replicate noise is not measured"
    )
    covered = getattr(first, "noise_trajectories", 0)
    if first.method == "morris" and covered and first.replicates < 2:
        noise += f", measured on the {covered} trajectories finished in two replicates"
    out = [f"**{outcome.label}, {comparison}** ({noise}):", ""]
    strategy, _, baseline = comparison.partition(" - ")
    if baseline:  # a paired difference: say who it favours
        worse_up = outcome.lower_is_better
        up = f"raising it favours {baseline if worse_up else strategy}"
        down = f"raising it favours {strategy if worse_up else baseline}"
    else:
        up, down = "raising it raises the outcome", "raising it lowers the outcome"
    for i, row in enumerate(rows.head(top).itertuples(index=False), start=1):
        if row.method == "morris" and group_size(row) > 1:
            # members move together, each in its own random direction: no direction
            text = (
                f"{i}. {factor_label(row)}: mu* {row.mu_star:.3g} +- {row.mu_star_conf:.2g} "
                f"(noise alone {row.mu_star_noise:.2g}); its members move together, so "
                "which of them acts, and in which direction, is not resolved;"
            )
        elif row.method == "morris":
            direction = (
                up
                if row.mu > 0.5 * row.mu_star
                else down
                if row.mu < -0.5 * row.mu_star
                else "its effect changes sign across the space"
            )
            nonlinear = " strongly non-linear or interacting;" if row.sigma > row.mu_star else ""
            text = (
                f"{i}. `{row.parameter}`: mu* {row.mu_star:.3g} +- {row.mu_star_conf:.2g} "
                f"(noise alone {row.mu_star_noise:.2g}), sigma {row.sigma:.3g}; "
                f"{direction};{nonlinear}"
            )
        else:
            text = (
                f"{i}. `{row.parameter}`: total effect ST {row.ST:.2f} +- {row.ST_conf:.2f} "
                f"(noise alone {getattr(row, 'ST_noise', float('nan')):.2f}), "
                f"alone S1 {row.S1:.2f} +- {row.S1_conf:.2f}"
                + ("; mostly through interactions;" if row.ST > 2 * max(row.S1, 0) else ";")
            )
        if not noise_measured(row):
            text = text.replace(" (noise alone nan)", "").rstrip(";") + "."
        elif above_noise(row):
            text += " clear of noise."
        else:
            text += " **not distinguishable from noise**."
        out.append(text)
    if noise_measured(first):
        n_clear = sum(above_noise(r) for r in rows.itertuples(index=False))
        what = "groups and parameters" if "group_size" in rows.columns else "parameters"
        out += ["", f"{n_clear} of {len(rows)} {what} stand out from replicate noise.", ""]
    else:
        out += ["", "Replicate noise was not measured (it needs two replicates).", ""]
    return out


def section(
    table: pd.DataFrame, manifest: dict, baseline: str, figures: list[Path], missing: int
) -> list[str]:
    """The report section "Which assumptions decide the answer"."""
    design = design_from_manifest(manifest)
    method = "Morris screening" if design.type == "morris" else "Sobol' indices"
    out = ["", "## Which assumptions decide the answer", ""]
    source = (
        f"every parameter declared `{design.ranges_from}` at its plausible range"
        if design.ranges_from
        else "the spec's ranges"
    )
    out.append(
        f"{method} (SALib) over {len(design.ranges)} parameters ({source}), "
        f"{len(manifest['points'])} design points. Each point's quantity is the mean "
        "over replicates of a final-year outcome, or of the paired difference from "
        f"**{baseline}** on the same seeds. Intervals are 95% bootstrap intervals."
    )
    if design.type == "morris" and design.groups:
        factors = design.morris_factors()
        several = [g for g, m in design.groups.items() if len(m) > 1]
        out.append(
            f"**The ranking is of groups.** The design has {len(design.groups)} groups "
            f"({len(several)} of several parameters) and {len(factors) - len(design.groups)} "
            f"parameters alone: {len(factors)} factors, {design.trajectories} trajectories "
            f"of {len(factors) + 1} points (SALib's groups; Campolongo, Cariboni and "
            "Saltelli 2007). A group's parameters move together, each in its own random "
            "direction, so its mu* is at least about that of its most influential member: "
            "a group that ranks high says one of its members (or several together) "
            "matters, not which; a group that ranks low says none of them does. The "
            "members of each group are in `sensitivity.csv` (`members`)."
        )
    if design.type == "morris":
        out.append(
            "mu* is the mean absolute change of the outcome when the parameter moves across "
            "its range (in the outcome's units); mu its signed mean; sigma the spread of the "
            "changes (large: non-linear or interacting). 'Noise alone' is the mu* that "
            "replicate noise produces (the same analysis on a contrast of replicates)."
        )
    else:
        out.append(
            "S1 is the share of the outcome's variance over the design due to the parameter "
            "alone; ST adds its interactions (replicate noise acts like an interaction with "
            "every parameter and adds its share of the variance to each ST). A parameter "
            "whose ST does not exceed that can be fixed anywhere in its range without "
            "changing the answer."
        )
    if missing:
        out.append(f"**{missing} design points lack a finished run**; analysis skipped.")
        return out
    if not len(table):
        return out + ["", "No outcome could be analysed."]
    out.append("")
    outcomes = {o.name: o for o in analysis.OUTCOMES}
    strategies = manifest["spec"]["strategies"]
    order = [label for label, _, base in comparisons(strategies, baseline) if base is not None]
    order += [baseline]
    for comparison in order:
        out += describe(table, outcomes["unmet_share"], comparison)
    others = [o for o in analysis.OUTCOMES if o.name != "unmet_share"]
    lines = []
    for o in others:
        for comparison in order:
            rows = ranked(table, o.name, comparison)
            if len(rows):
                top = ", ".join(f"`{p}`" for p in rows["parameter"].head(3))
                lines.append(f"- {o.label}, {comparison}: {top}")
    if lines:
        out += ["Top three for the other outcomes:", ""] + lines + [""]
    out += [f"![sensitivity](figures/{p.name})" for p in figures]
    out += ["", "All indices: `sensitivity.csv`; the sample matrix: `sample_matrix.csv`."]
    return out


# --- figure --------------------------------------------------------------------------------
def plot(table: pd.DataFrame, manifest: dict, baseline: str, path: Path, top: int = 12):
    """mu* against sigma (Morris) or S1/ST bars with intervals (Sobol'), unmet share."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    strategies = manifest["spec"]["strategies"]
    panels = [label for label, _, base in comparisons(strategies, baseline) if base is not None]
    panels = (panels + [baseline])[:3]
    panels = [p for p in panels if len(ranked(table, "unmet_share", p))]
    if not panels:
        return []
    fig, axes = plt.subplots(1, len(panels), figsize=(6.5 * len(panels), 5.2), squeeze=False)
    for ax, comparison in zip(axes.flat, panels, strict=True):
        rows = ranked(table, "unmet_share", comparison)
        if rows["method"].iloc[0] == "morris" and "group_size" in rows.columns:
            # groups have no sigma (SALib): mu* bars with intervals and the noise band
            rows = rows.head(top + 3).iloc[::-1]
            y = np.arange(len(rows))
            grouped = rows["group_size"] > 1
            ax.barh(y, rows["mu_star"], 0.6, xerr=rows["mu_star_conf"], ecolor="#555555",
                    color=np.where(grouped, "#08519c", "#9ecae1"))  # fmt: skip
            sizes = zip(rows["parameter"], rows["group_size"], strict=True)
            labels = [f"{p} ({n})" if n > 1 else p for p, n in sizes]
            ax.set_yticks(y, labels, fontsize=8)
            if np.isfinite(rows["mu_star_noise"]).any():  # each factor's own noise level
                ax.scatter(rows["mu_star_noise"], y, marker="|", s=160, color="black",
                           zorder=3, label="mu* of replicate noise alone")  # fmt: skip
                ax.legend(loc="lower right", fontsize=8)
            ax.set_xlabel("mu* (mean absolute effect on unmet share); dark: a group (size)")
        elif rows["method"].iloc[0] == "morris":
            ax.errorbar(
                rows["mu_star"], rows["sigma"], xerr=rows["mu_star_conf"], fmt="o", ms=4,
                color="#1f77b4", ecolor="#9ecae1", lw=1,
            )  # fmt: skip
            noise = rows["mu_star_noise"].iloc[0]
            if np.isfinite(noise):
                ax.axvspan(0, float(rows["mu_star_noise"].max()), color="#dddddd", zorder=0)
                ax.text(0, ax.get_ylim()[1], " replicate noise", va="top", fontsize=8)
            for row in rows.head(8).itertuples(index=False):
                ax.annotate(row.parameter, (row.mu_star, row.sigma), fontsize=7,
                            xytext=(3, 3), textcoords="offset points")  # fmt: skip
            ax.set_xlabel("mu* (mean absolute effect on unmet share)")
            ax.set_ylabel("sigma (non-linearity / interactions)")
        else:
            rows = rows.head(top).iloc[::-1]
            y = np.arange(len(rows))
            ax.barh(y - 0.2, rows["S1"], 0.4, xerr=rows["S1_conf"], label="S1", color="#9ecae1")
            ax.barh(y + 0.2, rows["ST"], 0.4, xerr=rows["ST_conf"], label="ST", color="#08519c")
            ax.set_yticks(y, rows["parameter"], fontsize=8)
            ax.set_xlabel("share of variance of unmet share")
            ax.legend(loc="lower right")
        ax.set_title(f"unmet share: {comparison}", fontsize=10)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return [path]
