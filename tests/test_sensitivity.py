"""Sensitivity analysis: known answers (SALib's Ishigami function) through the report's
code path, integer parameters on their grid, replicate noise, and declared kinds."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from experiments import exploration, sensitivity
from experiments import spec as specs
from model.parameters import (
    KINDS,
    PARAMETER_FIELDS,
    parameter_kind,
    parameters_of_kind,
    plausible_range,
)

# Three real parameters with allowed range [0, 1] stand in for Ishigami's x1, x2, x3:
# x = -pi + 2 pi v, so the design, the stored sample and the analysis are the model's.
STAND_INS = ("civic_potential", "prevention_factor", "discovery_rate")
A, B = 7.0, 0.1


def ishigami(v: np.ndarray) -> np.ndarray:
    x = -math.pi + 2 * math.pi * v
    return np.sin(x[:, 0]) + A * np.sin(x[:, 1]) ** 2 + B * x[:, 2] ** 4 * np.sin(x[:, 0])


def ishigami_sobol() -> tuple[np.ndarray, np.ndarray]:
    """Analytical first-order and total indices (Ishigami and Homma 1990)."""
    v1 = 0.5 * (1 + B * math.pi**4 / 5) ** 2
    v2 = A**2 / 8
    v13 = B**2 * math.pi**8 * (1 / 18 - 1 / 50)
    total = v1 + v2 + v13
    return np.array([v1, v2, 0.0]) / total, np.array([v1 + v13, v2, v13]) / total


def ishigami_morris_mu_star() -> np.ndarray:
    """Exact mu* on a 4-level grid (levels -pi, -pi/3, pi/3, pi; delta = 2/3).

    Every step moves a coordinate by 2/3 of its range: x2's term changes by 7 * 3/4
    whatever the others are; x1's by sin(pi/3) (1 + 0.1 x3^4) with x3 on the grid;
    x3's by 0.1 |pi^4 - (pi/3)^4| |sin x1| with x1 on the grid.
    """
    delta = 2 / 3
    grid = np.array([-math.pi, -math.pi / 3, math.pi / 3, math.pi])
    s = math.sin(math.pi / 3)
    mu1 = s * np.mean(1 + B * grid**4) / delta
    mu2 = A * 0.75 / delta
    mu3 = B * (math.pi**4 - (math.pi / 3) ** 4) * np.mean(np.abs(np.sin(grid))) / delta
    return np.array([mu1, mu2, mu3])


def sweep_like(
    design_toml: str, noise_sd: float = 0.002, replicates: int = 2, f=ishigami, shift=0.0
):
    """Expand a spec's design and fake its runs: direct is pure replicate noise around
    0.5, facilitator is direct plus ``f`` (Ishigami: so the paired difference is it).
    Replicate r is moved by ``r * shift`` at every point (a seed shared by the points)."""
    base = f"""
name = "ishigami"
strategies = ["direct", "facilitator"]
replicates = {replicates}
steps = 3
seed = 1
{design_toml}
"""
    import tomllib

    spec = specs.parse_spec(tomllib.loads(base))
    points = specs.expand_design(spec, 1)
    seed = specs.design_seed(spec, 1)
    unit = sensitivity.unit_sample(spec.design, seed)
    v = np.array([[p[n] for n in STAND_INS] for p in points])
    rng = np.random.default_rng(3)
    rows = []
    for r in range(replicates):
        noise = rng.normal(0.0, noise_sd, len(points)) + r * shift
        for strategy, extra in (("direct", 0.0), ("facilitator", 1.0)):
            y = 0.5 + noise + extra * f(v)
            for i, value in enumerate(y):
                rows.append(
                    {
                        "run_id": f"p{i}-{strategy}-r{r}",
                        "point": i,
                        "point_label": specs.point_label(points[i]),
                        "strategy": strategy,
                        "replicate": r,
                        "unmet_share": float(value),
                    }
                )
    manifest = {
        "spec": spec.as_dict(),
        "design_seed": seed,
        "points": [
            {"index": i, "label": specs.point_label(p), "values": p} for i, p in enumerate(points)
        ],
    }
    return spec, manifest, pd.DataFrame(rows), unit, v


def ranges_toml() -> str:
    return "[design.ranges]\n" + "\n".join(f"{n} = [0.0, 1.0]" for n in STAND_INS)


def test_sobol_indices_of_ishigami_match_the_analytical_values():
    design = '[design]\ntype = "sobol"\nbase_samples = 2048\nseed = 7\n' + ranges_toml()
    spec, manifest, per_run, unit, v = sweep_like(design)
    assert len(manifest["points"]) == 2048 * 5 == specs.design_size(spec.design)
    table = sensitivity.sensitivity_table(per_run, manifest, unit, "direct")
    rows = sensitivity.ranked(table, "unmet_share", "facilitator - direct").set_index("parameter")
    s1, st = ishigami_sobol()
    got_s1 = rows.loc[list(STAND_INS), "S1"].to_numpy()
    got_st = rows.loc[list(STAND_INS), "ST"].to_numpy()
    np.testing.assert_allclose(got_s1, s1, atol=0.03)
    np.testing.assert_allclose(got_st, st, atol=0.03)
    # the intervals are real and cover the truth
    conf = rows.loc[list(STAND_INS), "ST_conf"].to_numpy()
    assert (conf > 0).all() and (np.abs(got_st - st) <= conf + 0.01).all()
    assert list(rows.index[:2]) == ["civic_potential", "prevention_factor"]  # x1, x2 by ST
    # replicate noise: tiny against Ishigami, everything in the noise-only strategy
    assert rows["noise_share"].iloc[0] < 0.001
    direct = sensitivity.ranked(table, "unmet_share", "direct")
    assert direct["noise_share"].iloc[0] > 0.5
    # noise inflates every ST alike; no parameter of the noise-only strategy stands out
    assert not any(sensitivity.above_noise(r) for r in direct.itertuples(index=False))
    assert all(sensitivity.above_noise(r) for r in rows.reset_index().itertuples(index=False))


def test_morris_ranking_of_ishigami_matches_the_analytical_mu_star():
    design = '[design]\ntype = "morris"\ntrajectories = 300\nlevels = 4\nseed = 5\n'
    spec, manifest, per_run, unit, v = sweep_like(design + ranges_toml())
    assert len(manifest["points"]) == 300 * 4
    table = sensitivity.sensitivity_table(per_run, manifest, unit, "direct")
    rows = sensitivity.ranked(table, "unmet_share", "facilitator - direct").set_index("parameter")
    expected = ishigami_morris_mu_star()
    got = rows.loc[list(STAND_INS), "mu_star"].to_numpy()
    np.testing.assert_allclose(got, expected, rtol=0.08)
    # x1 and x2 nearly tie on this grid (7.70 and 7.875), x3 is last (6.25)
    assert set(rows.index[:2]) == {"prevention_factor", "civic_potential"}
    assert rows.index[2] == "discovery_rate"
    assert rows.loc["prevention_factor", "mu"] == pytest.approx(0.0, abs=1.0)  # sin^2: signs cancel
    # every effect stands far above the noise the replicates show
    assert all(sensitivity.above_noise(r) for r in rows.reset_index().itertuples(index=False))
    # the noise-only strategy: no parameter stands out
    noise_rows = sensitivity.ranked(table, "unmet_share", "direct")
    clear = sum(sensitivity.above_noise(r) for r in noise_rows.itertuples(index=False))
    assert clear <= 1


def test_morris_groups_rank_a_group_by_its_members_moving_together(tmp_path):
    """SALib's groups through the same path: y = 3 v1 + 2 v2 + 1 v3 with v1 and v3 in
    one group. A group step moves both, each in its own random direction, by 2/3 of
    the range, so the effect per unit step is |3 s1 + 1 s3| (4 or 2, mean 3); v2 alone
    has exactly 2 at every step."""

    def linear(v):
        return 3 * v[:, 0] + 2 * v[:, 1] + 1 * v[:, 2]

    groups = '[design.groups]\nx13 = ["civic_potential", "discovery_rate"]\n'
    design = '[design]\ntype = "morris"\ntrajectories = 400\nlevels = 4\nseed = 5\n'
    spec, manifest, per_run, unit, v = sweep_like(design + ranges_toml() + "\n" + groups, f=linear)
    assert spec.design.morris_factors() == ["x13", "prevention_factor"]
    assert len(manifest["points"]) == 400 * 3 == specs.design_size(spec.design)
    # members of a group move together in every step of a trajectory
    steps = np.diff(unit.reshape(400, 3, 3), axis=1)
    moved = steps != 0
    assert (moved[:, :, 0] == moved[:, :, 2]).all() and (moved.sum(axis=2) >= 1).all()
    # the design and its groups survive the manifest
    assert sensitivity.design_from_manifest(manifest).groups == spec.design.groups
    table = sensitivity.sensitivity_table(per_run, manifest, unit, "direct")
    rows = sensitivity.ranked(table, "unmet_share", "facilitator - direct").set_index("parameter")
    assert list(rows.index) == ["x13", "prevention_factor"]
    assert rows.loc["x13", "mu_star"] == pytest.approx(3.0, abs=0.2)
    assert rows.loc["prevention_factor", "mu_star"] == pytest.approx(2.0, abs=0.02)
    assert rows.loc["x13", "members"] == "civic_potential;discovery_rate"
    assert list(rows["group_size"]) == [2, 1]
    assert np.isnan(rows.loc["x13", "sigma"]) and rows.loc["prevention_factor", "sigma"] < 0.05
    # noise is measured on trajectories of groups + 1 points
    assert rows["mu_star_noise"].iloc[0] < 0.05
    assert all(sensitivity.above_noise(r) for r in rows.reset_index().itertuples(index=False))
    lines = sensitivity.describe(table, _outcome(), "facilitator - direct")
    assert lines[2].startswith("1. group `x13` (civic_potential, discovery_rate): mu* 2.99")
    assert "not resolved" in lines[2] and "2. `prevention_factor`" in lines[3]
    assert "2 of 2 groups and parameters stand out" in "\n".join(lines)
    text = "\n".join(sensitivity.section(table, manifest, "direct", [], 0))
    assert "**The ranking is of groups.** The design has 1 groups (1 of several" in text
    assert "1 parameters alone: 2 factors, 400 trajectories of 3 points" in text
    figures = sensitivity.plot(table, manifest, "direct", tmp_path / "s.png")
    assert figures and figures[0].stat().st_size > 10_000


@pytest.mark.parametrize(
    ("groups", "message"),
    [
        ('x = ["budget_scale"]', "spec.design.groups.x[0]: must name a parameter the design"),
        (
            'a = ["civic_potential"]\nb = ["civic_potential", "discovery_rate"]',
            "spec.design.groups.b[0]: 'civic_potential' is already in group 'a'",
        ),
        ("x = []", "spec.design.groups.x: must be a non-empty list of parameter names"),
        (
            'civic_potential = ["civic_potential", "discovery_rate"]',
            "spec.design.groups.civic_potential: a group may not be named after the parameter",
        ),
        (
            'all = ["civic_potential", "discovery_rate", "prevention_factor"]',
            "spec.design.groups: a Morris design needs at least two groups",
        ),
    ],
)
def test_bad_morris_groups_name_the_field(groups, message):
    import tomllib

    text = (
        'name = "g"\n[design]\ntype = "morris"\ntrajectories = 4\n'
        + ranges_toml()
        + "\n[design.groups]\n"
        + groups
    )
    with pytest.raises(specs.SpecError) as err:
        specs.parse_spec(tomllib.loads(text))
    assert str(err.value).startswith(message), str(err.value)


def test_groups_belong_to_morris_designs_only():
    import tomllib

    text = 'name = "g"\n[design]\ntype = "sobol"\nbase_samples = 8\ngroups = {}\n'
    with pytest.raises(specs.SpecError, match="spec.design.groups: unknown key"):
        specs.parse_spec(tomllib.loads(text + ranges_toml()))


def test_integer_parameters_stay_on_their_grid():
    morris = specs.Design(
        type="morris", ranges={"contagion_cap": (4, 16), "civic_potential": (0.1, 0.9)},
        trajectories=20, levels=4,
    )  # fmt: skip
    values = sensitivity.design_points(morris, 3)
    caps = {p["contagion_cap"] for p in values}
    assert caps <= {4, 8, 12, 16} and len(caps) == 4
    assert all(type(p["contagion_cap"]) is int for p in values)
    sobol = specs.Design(
        type="sobol", ranges={"activity_radius": (2, 8), "civic_potential": (0.1, 0.9)},
        base_samples=256,
    )  # fmt: skip
    radii = pd.Series([p["activity_radius"] for p in sensitivity.design_points(sobol, 3)])
    assert set(radii) == set(range(2, 9)) and all(type(r) is int for r in radii)
    shares = radii.value_counts(normalize=True)
    assert shares.max() - shares.min() < 0.03  # each whole number about equally often


def test_sample_matrix_rows_are_the_design_points(tmp_path):
    design = '[design]\ntype = "morris"\ntrajectories = 3\nlevels = 4\nseed = 5\n'
    spec, manifest, *_ = sweep_like(design + ranges_toml())
    path = sensitivity.write_sample_matrix(spec, tmp_path, manifest["design_seed"])
    table = pd.read_csv(path)
    assert list(table["point"]) == list(range(len(manifest["points"])))
    for p in manifest["points"]:
        row = table.iloc[p["index"]]
        assert all(row[n] == pytest.approx(v, abs=1e-12) for n, v in p["values"].items())
    np.testing.assert_array_equal(
        sensitivity.unit_matrix(tmp_path, manifest),
        sensitivity.unit_sample(spec.design, manifest["design_seed"]),
    )


def test_exploration_writes_sensitivity_csv_and_a_ranked_section(tmp_path):
    design = '[design]\ntype = "morris"\ntrajectories = 30\nlevels = 4\nseed = 5\n'
    spec, manifest, per_run, unit, v = sweep_like(design + ranges_toml())
    sensitivity.write_sample_matrix(spec, tmp_path, manifest["design_seed"])
    (tmp_path / "figures").mkdir()
    ctx = SimpleNamespace(  # what the section builders read of a ReportContext
        design_type="morris",
        manifest=manifest,
        per_run=per_run,
        paired=_paired(per_run),
        folder=tmp_path,
        out=tmp_path,
        fig_dir=tmp_path / "figures",
        baseline="direct",
        strategies=["direct", "facilitator"],
        discovery_threshold=None,
        regret_tolerance=None,
    )
    section = exploration.sensitivity_section(ctx)
    assert exploration.discovery_section(ctx) and exploration.robustness_section(ctx)
    table = pd.read_csv(tmp_path / "sensitivity.csv")
    assert set(table["comparison"]) == {"direct", "facilitator", "facilitator - direct"}
    assert len(table) == 3 * len(STAND_INS)
    text = section.body
    assert section.title == "Which assumptions decide the answer"
    assert section.figures == [tmp_path / "figures" / "sensitivity.png"]
    assert "3. `discovery_rate`" in text and text.count("1. `") == 2  # difference, baseline
    assert (tmp_path / "figures" / "sensitivity.png").stat().st_size > 10_000
    assert (tmp_path / "robustness.csv").exists() and (tmp_path / "discovery.csv").exists()


def _paired(per_run):
    from experiments import analysis

    return analysis.paired_differences(per_run, "direct")


# --- declared kinds and ranges ------------------------------------------------------------
def test_every_parameter_declares_a_kind_a_plausible_range_and_why():
    for name, fld in PARAMETER_FIELDS.items():
        meta = fld.metadata
        assert meta.get("kind") in KINDS, f"{name}: declare kind= one of {KINDS}"
        assert meta.get("range_reason"), f"{name}: declare range_reason= (one line)"
        default = fld.default
        numeric = isinstance(default, int | float) and not isinstance(default, bool)
        if not numeric:
            assert meta["range"] is None, f"{name}: names and lists take no range"
            continue
        assert meta["range"] is not None, f"{name}: declare range=(low, high)"
        low, high = meta["range"]
        assert low < high, name
        assert meta["lo"] is None or low >= meta["lo"], f"{name}: range below the allowed"
        assert meta["hi"] is None or high <= meta["hi"], f"{name}: range above the allowed"
        assert low <= default <= high, f"{name}: the default lies outside its range"
        if isinstance(default, int):
            assert isinstance(low, int) and isinstance(high, int), f"{name}: integer range"


def test_invented_integer_ranges_fit_the_screening_levels():
    for name, (low, high) in parameters_of_kind("invented").items():
        if isinstance(low, int):
            assert (high - low) % 3 == 0, f"{name}: 4 Morris levels need high - low % 3 == 0"


def test_kinds_follow_the_sources():
    assert parameter_kind("civic_potential") == "invented"
    assert parameter_kind("budget_scale") == "lever" and parameter_kind("strategy") == "lever"
    assert parameter_kind("care_hour_price") == "data"
    assert parameter_kind("seed") == "setting"
    assert plausible_range("budget_scale") == (0.5, 3.0)
    with pytest.raises(ValueError, match="kind must be one of"):
        parameters_of_kind("guessed")


@pytest.mark.parametrize("kind", ["sobol", "morris"])
def test_a_shift_shared_by_every_point_is_not_counted_as_noise(kind):
    """Replicate r's seed is the same at every design point, so its world can move every
    point alike (here by 2, against Ishigami's variance of about 13.8): that is no
    variance over the design, and the noise share stays that of the point-to-point noise."""
    size = "base_samples = 256" if kind == "sobol" else "trajectories = 40\nlevels = 4"
    design = f'[design]\ntype = "{kind}"\n{size}\nseed = 7\n' + ranges_toml()
    spec, manifest, per_run, unit, v = sweep_like(design, shift=2.0)
    table = sensitivity.sensitivity_table(per_run, manifest, unit, "direct")
    level = sensitivity.ranked(table, "unmet_share", "facilitator")
    assert level["noise_share"].iloc[0] < 0.001  # the mean square would give about 0.07
    assert level["noise_sd"].iloc[0] == pytest.approx(0.002 / math.sqrt(2), rel=0.25)


def test_an_unfinished_second_replicate_still_measures_noise():
    """Morris indices from the replicate finished everywhere; noise from the trajectories
    finished in both (as in an interrupted sweep, which runs replicate by replicate)."""
    design = '[design]\ntype = "morris"\ntrajectories = 40\nlevels = 4\nseed = 5\n'
    spec, manifest, per_run, unit, v = sweep_like(design + ranges_toml(), noise_sd=0.3)
    half = per_run[(per_run["replicate"] == 0) | (per_run["point"] < 20 * 4)]
    table = sensitivity.sensitivity_table(half, manifest, unit, "direct")
    rows = sensitivity.ranked(table, "unmet_share", "direct")
    assert (rows["replicates"] == 1).all() and (rows["noise_trajectories"] == 20).all()
    # direct is pure noise: its mu* is about what noise alone gives
    ratio = rows["mu_star"] / rows["mu_star_noise"]
    assert ratio.between(0.6, 1.6).all()
    assert rows["noise_share"].iloc[0] > 0.5  # about 1, from 80 points
    lines = sensitivity.describe(table, _outcome(), "direct")
    assert "measured on the 20 trajectories finished in two replicates" in lines[0]


def _outcome():
    from experiments import analysis

    return next(o for o in analysis.OUTCOMES if o.name == "unmet_share")


def test_a_plugin_parameter_is_sampled_like_the_models_own():
    import tomllib

    from model.parameters import parameter_table, register_parameter, unregister_parameter

    register_parameter(
        "quit_boost", 0.02, (0.0, 0.05), "invented", "more quitting", reason="a guess"
    )
    try:
        assert parameters_of_kind("invented")["quit_boost"] == (0.0, 0.05)
        row = next(r for r in parameter_table() if r["name"] == "quit_boost")
        assert (row["kind"], row["range"], row["range_reason"]) == (
            "invented",
            (0.0, 0.05),
            "a guess",
        )
        spec = specs.parse_spec(
            tomllib.loads(
                'name = "p"\nstrategies = ["direct"]\nsteps = 2\n[design]\ntype = "morris"\n'
                'trajectories = 2\nlevels = 4\nseed = 1\nranges = "invented"\n'
            )
        )
        assert spec.design.ranges["quit_boost"] == (0.0, 0.05)
        points = specs.expand_design(spec, 1)
        levels = {round(p["quit_boost"] / (0.05 / 3), 9) for p in points}  # 4 Morris levels
        assert levels <= {0.0, 1.0, 2.0, 3.0} and len(levels) > 1
    finally:
        unregister_parameter("quit_boost")
