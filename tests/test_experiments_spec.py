"""Experiment specs: every class of error names its field; designs expand as documented."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pytest

from experiments import spec as specs
from experiments.cli import main

ROOT = Path(__file__).resolve().parent.parent
BASE = """
name = "t"
strategies = ["direct", "facilitator"]
replicates = 2
steps = 3
seed = 1
[fixed]
residents = 100
"""

# (extra TOML appended to / replacing the base, the start of the expected message)
SPEC_ERRORS = [
    ("foo = 1", "spec.foo: unknown key"),
    ('replicates = "ten"', "spec.replicates: must be an integer"),
    ("replicates = 0", "spec.replicates: must be an integer from 1"),
    ("steps = 2.5", "spec.steps: must be an integer"),
    ("seed = -1", "spec.seed: must be an integer"),
    ('strategies = "direct"', "spec.strategies: must be a list of strings"),
    ('strategies = ["direct", "nope"]', "spec.strategies[1]: must be one of direct"),
    ('strategies = ["direct", "direct"]', "spec.strategies: must not name a strategy twice"),
    ("strategies = []", "spec.strategies: must name at least one"),
    ('metrics = ["unmet_share", "nope"]', "spec.metrics[1]: unknown metric 'nope'"),
    ("check = 1", "spec.check: must be true or false"),
    ('plugins = ["no_such_plugin_xyz"]', "spec.plugins[0]: plugin 'no_such_plugin_xyz' could not"),
    ("[fixed]\nnope = 1", "spec.fixed.nope: unknown parameter"),
    ("[fixed]\ncivic_potential = 1.5", "spec.fixed.civic_potential: must be a number from 0 to 1"),
    ('[fixed]\nresidents = "many"', "spec.fixed.residents: must be an integer from 20"),
    ("[fixed]\nresidents = 100.5", "spec.fixed.residents: must be an integer"),
    ('[fixed]\nstrategy = "direct"', "spec.fixed.strategy: is set with the top-level 'strategies'"),
    ("[fixed]\nseed = 3", "spec.fixed.seed: is set with the top-level 'seed'"),
    ('[fixed]\nscenario = "nope"', "spec.fixed.scenario: must be one of baseline"),
    (
        "[fixed]\nneed_hours_by_level = [0, 1]",
        "spec.fixed.need_hours_by_level: must be a list of 5",
    ),
    ('[design]\ntype = "random"', "spec.design.type: must be one of full_factorial"),
    ("[design]\nfactors = {}", "spec.design.type: must be one of full_factorial"),
    (
        '[design]\ntype = "full_factorial"\nranges = {civic_potential = [0, 1]}',
        "spec.design.ranges: unknown key",
    ),
    ('[design]\ntype = "full_factorial"', "spec.design.factors: must be a table"),
    (
        '[design]\ntype = "full_factorial"\n[design.factors]\ncivic_potential = []',
        "spec.design.factors.civic_potential: must be a non-empty list",
    ),
    (
        '[design]\ntype = "full_factorial"\n[design.factors]\nbudget_scale = [1.0, 9.0]',
        "spec.design.factors.budget_scale[1]: must be a number from 0 to 5",
    ),
    (
        '[design]\ntype = "full_factorial"\n[design.factors]\nresidents = [100, 200]',
        "spec.fixed.residents: is also varied by the design",
    ),
    (
        '[design]\ntype = "latin_hypercube"\nsamples = 4\n[design.ranges]\n'
        "civic_potential = [0.1, 1.5]",
        "spec.design.ranges.civic_potential[1]: must be a number from 0 to 1",
    ),
    (
        '[design]\ntype = "latin_hypercube"\nsamples = 4\n[design.ranges]\n'
        "civic_potential = [0.9, 0.1]",
        "spec.design.ranges.civic_potential: low must be below high",
    ),
    (
        '[design]\ntype = "latin_hypercube"\nsamples = 4\n[design.ranges]\n'
        "civic_potential = [0.5, 0.5]",
        "spec.design.ranges.civic_potential: low must be below high",
    ),
    (
        '[design]\ntype = "sobol"\nbase_samples = 100\n[design.ranges]\n'
        "civic_potential = [0.1, 0.9]\nbudget_scale = [0.5, 3.0]",
        "spec.design.base_samples: must be a power of two (Sobol' sequences balance only "
        "then), for example 64 or 128, got 100",
    ),
    (
        '[design]\ntype = "sobol"\n[design.ranges]\ncivic_potential = [0.1, 0.9]',
        "spec.design.base_samples: is required for a sobol design",
    ),
    (
        '[design]\ntype = "sobol"\nbase_samples = 8\nsecond_order = "yes"\n'
        "[design.ranges]\ncivic_potential = [0.1, 0.9]",
        "spec.design.second_order: must be true or false",
    ),
    (
        '[design]\ntype = "morris"\ntrajectories = 4\n[design.ranges]\n'
        "civic_potential = [0.9, 0.1]",
        "spec.design.ranges.civic_potential: low must be below high",
    ),
    (
        '[design]\ntype = "morris"\ntrajectories = 4\n[design.ranges]\nnope = [0, 1]',
        "spec.design.ranges.nope[0]: unknown parameter",
    ),
    (
        '[design]\ntype = "morris"\ntrajectories = 4\nlevels = 4\n[design.ranges]\n'
        "contagion_cap = [4, 15]",
        "spec.design.ranges.contagion_cap: integer parameter 'contagion_cap' ranges over "
        "[4, 15]; with 4 levels every Morris level must be a whole number, so high - low "
        "must be a multiple of levels - 1 = 3",
    ),
    (
        '[design]\ntype = "morris"\ntrajectories = 4\nlevels = 5\nranges = "invented"',
        "spec.design.levels: integer parameter 'contagion_radius' ranges over [1, 4]; with 5 "
        "levels",
    ),
    (
        '[design]\ntype = "morris"\nranges = "invented"',
        "spec.design.trajectories: is required for a morris design",
    ),
    (
        '[design]\ntype = "morris"\ntrajectories = 4\nranges = "guessed"',
        "spec.design.ranges: must be a table of parameter = [low, high] or one of "
        "'invented', 'data', 'lever', got 'guessed'",
    ),
    (
        '[design]\ntype = "morris"\ntrajectories = 4\nseeds = 3\nranges = "invented"',
        "spec.design.seeds: unknown key",
    ),
    (
        '[design]\ntype = "sobol"\nbase_samples = 8\nranges = "invented"\nlevels = 4',
        "spec.design.levels: unknown key",
    ),
    ("[report]\ndiscovery_threshold = 2", "spec.report.discovery_threshold: must be from -1 to 1"),
    ("[report]\nregret_tolerance = -0.1", "spec.report.regret_tolerance: must be from 0 to 1"),
    (
        '[design]\ntype = "latin_hypercube"\nsamples = 4\n[design.ranges]\ncivic_potential = [0.1]',
        "spec.design.ranges.civic_potential: must be [low, high]",
    ),
    (
        '[design]\ntype = "latin_hypercube"\nsamples = 4\n[design.ranges]\n'
        'scenario = ["baseline", "austerity"]',
        "spec.design.ranges.scenario: only numeric parameters",
    ),
    (
        '[design]\ntype = "latin_hypercube"\n[design.ranges]\ncivic_potential = [0.1, 0.9]',
        "spec.design.samples: is required",
    ),
    (
        '[design]\ntype = "latin_hypercube"\nsamples = 0\n[design.ranges]\n'
        "civic_potential = [0.1, 0.9]",
        "spec.design.samples: must be an integer from 1",
    ),
    ('[design]\ntype = "points"\npoints = []', "spec.design.points: must be a non-empty list"),
    (
        '[design]\ntype = "points"\npoints = [{scenario = "baseline"}, {scenario = "nope"}]',
        "spec.design.points[1].scenario: must be one of baseline",
    ),
    (
        '[design]\ntype = "points"\npoints = [{share_coordinators = 0.9}]',
        "spec.design.points[0]: parameters 'share_coordinators'",
    ),
    ('[report]\nbaseline = "hybrid"', "spec.report.baseline: must be one of the spec's strategies"),
    ("[report]\nrisk_threshold = 2", "spec.report.risk_threshold: must be from 0 to 1"),
    ("[report]\ncolour = 1", "spec.report.colour: unknown key"),
    ("name = [", "spec: "),  # not TOML
]


def _compose(extra: str) -> str:
    """Base spec with ``extra`` applied (top-level keys replace the base's)."""
    data_lines = BASE.strip().splitlines()
    first = extra.strip().splitlines()[0]
    if not first.startswith("[") and "=" in first:
        key = first.split("=")[0].strip()
        data_lines = [ln for ln in data_lines if ln.split("=")[0].strip() != key]
        top = [ln for ln in data_lines if not ln.startswith("[")]
        cut = data_lines.index("[fixed]")
        return "\n".join(top[:cut] + [extra] + data_lines[cut:]) + "\n"
    if extra.startswith("[fixed]"):
        return BASE.replace("[fixed]\nresidents = 100", extra) + "\n"
    return BASE + "\n" + extra + "\n"


@pytest.mark.parametrize("extra, message", SPEC_ERRORS, ids=[m for _, m in SPEC_ERRORS])
def test_spec_error_names_the_field(extra, message, tmp_path, capsys):
    path = tmp_path / "spec.toml"
    path.write_text(_compose(extra))
    out = tmp_path / "out"
    code = main(["sweep", str(path), "--out", str(out), "--no-progress"])
    _, err = capsys.readouterr()
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("civic-sim: error: " + message), err
    assert not out.exists(), "a broken spec must fail before anything is written"


def test_compose_keeps_valid_base():
    data = tomllib.loads(_compose("replicates = 3"))
    assert data["replicates"] == 3 and data["fixed"]["residents"] == 100


def test_missing_spec_file(tmp_path):
    with pytest.raises(specs.SpecError, match=r"^spec: cannot read"):
        specs.load_spec(tmp_path / "missing.toml")


def test_full_factorial_expands_every_combination(tmp_path):
    spec = specs.parse_spec(
        tomllib.loads(
            BASE
            + '[design]\ntype = "full_factorial"\n[design.factors]\n'
            + "civic_potential = [0.2, 0.5, 0.8]\nscenario = ['baseline', 'austerity']\n"
        )
    )
    points = specs.expand_design(spec, 7)
    assert len(points) == 6 == specs.design_size(spec.design)
    assert {(p["civic_potential"], p["scenario"]) for p in points} == {
        (c, s) for c in (0.2, 0.5, 0.8) for s in ("baseline", "austerity")
    }


def test_latin_hypercube_is_stratified_seeded_and_recorded():
    text = (
        BASE + '[design]\ntype = "latin_hypercube"\nsamples = 8\n[design.ranges]\n'
        "civic_potential = [0.1, 0.9]\nbudget_scale = [0.5, 1.5]\nactivity_places = [1, 9]\n"
    )
    spec = specs.parse_spec(tomllib.loads(text))
    points = specs.expand_design(spec, 99)
    assert len(points) == 8
    civic = np.array([p["civic_potential"] for p in points])
    # one sample in each of the 8 equal strata of the range
    strata = np.floor((civic - 0.1) / 0.8 * 8).astype(int)
    assert sorted(strata) == list(range(8))
    places = [p["activity_places"] for p in points]
    assert all(isinstance(n, int) and 1 <= n <= 9 for n in places)
    # the same root entropy gives the same points; another root other points
    assert specs.expand_design(spec, 99) == points
    assert specs.expand_design(spec, 100) != points
    assert specs.design_seed(spec, 99) == specs.design_seed(spec, 99)
    # an explicit design seed wins over the root entropy
    seeded = specs.parse_spec(tomllib.loads(text.replace("samples = 8", "samples = 8\nseed = 4")))
    assert specs.expand_design(seeded, 1) == specs.expand_design(seeded, 2)
    assert specs.design_seed(seeded, 1) == 4


def test_every_design_point_is_resolved():
    spec = specs.parse_spec(
        tomllib.loads(BASE + '[design]\ntype = "points"\npoints = [{scenario = "austerity"}]\n')
    )
    resolved = specs.validate_points(spec, specs.expand_design(spec, 1))
    assert resolved[0]["facilitator"]["strategy"] == "facilitator"
    assert resolved[0]["direct"]["budget_cut_rate"] == 0.02  # the austerity preset applied
    assert resolved[0]["direct"]["residents"] == 100


def test_ranges_from_a_kind_that_declares_none_is_one_line(tmp_path, capsys, monkeypatch):
    import model.parameters

    monkeypatch.setattr(model.parameters, "parameters_of_kind", lambda kind: {})
    path = tmp_path / "spec.toml"
    path.write_text(BASE + '[design]\ntype = "morris"\ntrajectories = 4\nranges = "invented"\n')
    code = main(["sweep", str(path), "--out", str(tmp_path / "out"), "--no-progress"])
    _, err = capsys.readouterr()
    assert code == 2 and err.count("\n") == 1
    assert err.startswith(
        "civic-sim: error: spec.design.ranges: no parameter of kind 'invented' declares a "
        "plausible range"
    ), err


SHIPPED = [
    "strategy_comparison.toml",
    "crossover.toml",
    "tiny.toml",
    "screening.toml",
    "sensitivity.toml",
    "discovery.toml",
]


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_specs_are_valid(name):
    spec = specs.load_spec(ROOT / "experiments" / "specs" / name)
    specs.check_values(spec)
    points = specs.expand_design(spec, spec.seed or 0)
    specs.validate_points(spec, points)
    assert spec.seed is not None  # shipped experiments are reproducible
    assert spec.baseline == "direct"


@pytest.mark.parametrize("name", ["screening.toml", "sensitivity.toml", "discovery.toml"])
def test_shipped_analysis_specs_state_their_true_size(name):
    """The header's 'N runs' (what its measured time is for) is the spec's real size."""
    import re

    path = ROOT / "experiments" / "specs" / name
    spec = specs.load_spec(path)
    header = " ".join(
        line.lstrip("# ") for line in path.read_text().splitlines() if line[:1] == "#"
    )
    stated = {int(n.replace(",", "")) for n in re.findall(r"(\d[\d,]*) runs of", header)}
    runs = specs.design_size(spec.design) * len(spec.strategies) * spec.replicates
    assert stated == {runs}, f"{name}: header says {stated} runs, the spec makes {runs}"


def test_the_shipped_screening_covers_every_invented_parameter_in_its_groups():
    from model.parameters import parameters_of_kind

    spec = specs.load_spec(ROOT / "experiments" / "specs" / "screening.toml")
    design = spec.design
    assert set(design.ranges) == set(parameters_of_kind("invented")) - set(spec.fixed)
    grouped = [m for members in design.groups.values() for m in members]
    assert len(grouped) == len(set(grouped)) and set(grouped) <= set(design.ranges)
    assert specs.design_size(design) == design.trajectories * (len(design.morris_factors()) + 1)
    # a member the spec fixes leaves its group; a group left empty is dropped
    data = tomllib.loads((ROOT / "experiments" / "specs" / "screening.toml").read_text())
    data["fixed"].update(
        burnout_rate=0.02, arrival_mean_years_over_65=0.5, cohort_growth_excess=0.0
    )
    fixed = specs.parse_spec(data).design
    assert "burnout_rate" not in fixed.groups["volunteer_energy"] and "arrivals" not in fixed.groups
    assert len(fixed.morris_factors()) == len(design.morris_factors()) - 1
