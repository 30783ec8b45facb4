"""experiments.evaluate: one run as a function on the sweep's seeding; the EMA adapter."""

from __future__ import annotations

import tomllib

import numpy as np
import pandas as pd
import pytest

import experiments
from experiments import analysis, runner
from experiments import spec as specs
from model.parameters import Parameters

SPEC = """
name = "pairs"
strategies = ["direct", "facilitator"]
replicates = 2
steps = 30
seed = 77
[fixed]
residents = 150
civic_potential = 0.7
"""


def test_evaluate_gives_what_a_sweep_stores(tmp_path):
    spec = specs.parse_spec(tomllib.loads(SPEC))
    runner.run_sweep(spec, str(tmp_path / "out"), executor="serial", progress=False)
    from experiments.store import Store

    stored = analysis.final_year(Store(tmp_path / "out").read_runs())
    for row in stored.itertuples(index=False):
        got = experiments.evaluate(
            {"residents": 150, "civic_potential": 0.7, "strategy": row.strategy},
            steps=30,
            replicate=row.replicate,
            seed=77,
        )
        for o in analysis.OUTCOMES:
            assert got[o.name] == getattr(row, o.name), (row.run_id, o.name)


def test_evaluate_takes_parameters_or_overrides_and_checks_them():
    params = Parameters.resolve(residents=120, strategy="facilitator")
    a = experiments.evaluate(params, steps=12, replicate=1, seed=3)
    b = experiments.evaluate(residents=120, strategy="facilitator", steps=12, replicate=1, seed=3)
    assert a == b and set(a) == {o.name for o in analysis.OUTCOMES}
    c = experiments.evaluate(params, steps=12, replicate=2, seed=3)
    assert c != a  # another replicate, other random numbers
    with pytest.raises(ValueError, match="civic_potential"):
        experiments.evaluate(civic_potential=2.0, steps=2)


ema = pytest.importorskip("ema_workbench")


def test_ema_model_declares_uncertainties_and_levers_from_the_kinds():
    from experiments.ema import LINKED_LEVERS, build_model
    from model.parameters import parameters_of_kind

    model = build_model(steps=5)
    uncertainties = {u.name for u in model.uncertainties}
    levers = {lever.name for lever in model.levers}
    assert uncertainties == set(parameters_of_kind("invented")) | set(parameters_of_kind("data"))
    assert levers == (set(parameters_of_kind("lever")) - set(LINKED_LEVERS)) | {"strategy"}
    contagion = next(u for u in model.uncertainties if u.name == "contagion_cap")
    assert isinstance(contagion, ema.IntegerParameter)
    assert (contagion.lower_bound, contagion.upper_bound) == (4, 16)
    assert {o.name for o in model.outcomes} == {o.name for o in analysis.OUTCOMES}
    with pytest.raises(ValueError, match="unknown parameter or kind 'nope'"):
        build_model(uncertainties=["nope"])


def test_ema_recipe_runs_experiments_and_prim():
    """The documented recipe: perform_experiments on the adapter, then PRIM."""
    from ema_workbench import SequentialEvaluator, perform_experiments

    from experiments.discovery import prim_boxes
    from experiments.ema import build_model

    model = build_model(
        uncertainties=["civic_potential", "recruitment_rate"],
        levers=["budget_scale"],
        strategies=["direct", "facilitator"],
        steps=20,
        seed=5,
        fixed={"residents": 120},
    )
    with SequentialEvaluator(model) as evaluator:
        table, outcomes = perform_experiments(model, scenarios=8, policies=2, evaluator=evaluator)
    assert len(table) == 16 and len(outcomes["unmet_share"]) == 16
    assert np.isfinite(outcomes["unmet_share"]).all()
    # one experiment equals the public evaluation function (same paired seeding)
    row = table.iloc[3]
    again = experiments.evaluate(
        {
            "residents": 120,
            "civic_potential": float(row["civic_potential"]),
            "recruitment_rate": float(row["recruitment_rate"]),
            "budget_scale": float(row["budget_scale"]),
            "strategy": str(row["strategy"]),
        },
        steps=20,
        replicate=0,
        seed=5,
    )
    assert again["unmet_share"] == outcomes["unmet_share"][3]
    # PRIM on the outcome runs on EMA's own experiments table
    x = table[["civic_potential", "recruitment_rate", "budget_scale"]].astype(float)
    y = outcomes["unmet_share"] < np.median(outcomes["unmet_share"])
    boxes = prim_boxes(pd.DataFrame(x), y)
    assert all(0 < b.coverage <= 1 for b in boxes)
