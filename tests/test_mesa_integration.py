"""The model is a proper Mesa model: agents on the grid, a PropertyLayer, batch_run."""

import inspect
import warnings

import mesa
import numpy as np
import pandas as pd
import pytest

from agents import Business, Hub, Resident, Volunteer
from model.civic_model import CivicModel


def test_every_agent_is_a_mesa_agent_on_the_grid():
    model = CivicModel(residents=300, seed=2)
    model.run(10)
    kinds = {type(a) for a in model.agents}
    assert {Resident, Volunteer, Hub, Business} <= kinds
    assert len(model.agents_by_type[Resident]) == model.residents.count
    assert len(model.agents_by_type[Volunteer]) == model.volunteers.count
    for agent in model.agents:
        assert agent in agent.cell.agents
    resident = next(iter(model.agents_by_type[Resident]))
    assert 65 <= resident.age < 110 and 0 <= resident.need_level <= 4
    assert resident.met_hours <= resident.need_hours + 1e-9


def test_civic_potential_is_a_property_layer_with_the_requested_mean():
    model = CivicModel(residents=2000, civic_potential=0.3, seed=4)
    layer = model.grid.civic_potential.data
    assert abs(layer.mean() - 0.3) < 0.01
    assert layer.min() >= 0 and layer.max() <= 1
    assert np.corrcoef(layer[:-1].ravel(), layer[1:].ravel())[0, 1] > 0.5  # patchy


def test_grid_scales_with_residents_unless_given():
    assert CivicModel(residents=800, seed=1).grid.dimensions == (40, 40)
    assert CivicModel(residents=800, width=30, height=20, seed=1).grid.dimensions == (30, 20)


def _batch_run(seeds: list[int], period: int) -> list[dict]:
    """``mesa.batch_run`` of two strategies over ``seeds``, 6 weeks, in the form this Mesa
    takes: ``rng=[...]`` (Mesa 3.4+) or a ``seed`` parameter and ``iterations`` (3.3)."""
    parameters = {"strategy": ["direct", "facilitator"], "residents": 150}
    options = {"number_processes": 1, "data_collection_period": period, "max_steps": 6}
    if "rng" in inspect.signature(mesa.batch_run).parameters:
        return mesa.batch_run(CivicModel, parameters, rng=seeds, display_progress=False, **options)
    parameters["seed"] = seeds
    return mesa.batch_run(CivicModel, parameters, iterations=1, display_progress=False, **options)


def test_mesa_batch_run_returns_the_values_of_the_steps_it_names():
    seeds = [7, 8]
    every_week = _batch_run(seeds, period=1)
    final = _batch_run(seeds, period=-1)
    assert {(r["strategy"], r.get("rng", r.get("seed"))) for r in final} == {
        (s, seed) for s in ("direct", "facilitator") for seed in seeds
    }
    for strategy in ("direct", "facilitator"):
        for seed in seeds:
            direct = CivicModel(strategy=strategy, residents=150, seed=seed).run(6)
            ours = [
                r
                for r in every_week
                if r["strategy"] == strategy and r.get("rng", r.get("seed")) == seed
            ]
            by_step = {int(r["Step"]): r for r in ours}
            assert set(range(1, 7)) <= set(by_step), sorted(by_step)
            for week in range(1, 7):
                row, expected = by_step[week], direct.iloc[week - 1]
                assert row["step"] == week
                for column in direct.columns:
                    assert row[column] == expected[column], (strategy, seed, week, column)
            (last,) = [
                r
                for r in final
                if r["strategy"] == strategy and r.get("rng", r.get("seed")) == seed
            ]
            assert int(last["Step"]) == 6 and last["step"] == 6
            for column in direct.columns:
                assert last[column] == direct.iloc[-1][column], (strategy, seed, column)


def test_rng_is_the_seed_and_no_seed_warning_on_any_mesa():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Mesa 3.4+ warns when a model passes seed=
        by_seed = CivicModel(strategy="hybrid", residents=200, seed=5).run(4)
        by_rng = CivicModel(strategy="hybrid", residents=200, rng=5)
        frame = by_rng.run(4)
    assert by_rng.p.seed == 5
    pd.testing.assert_frame_equal(by_seed, frame)
    sequence = np.random.SeedSequence(11, spawn_key=(1,))
    pd.testing.assert_frame_equal(
        CivicModel(residents=200, rng=sequence).run(3),
        CivicModel(residents=200, seed_sequence=sequence).run(3),
    )
    drawn = CivicModel(residents=200, rng=np.random.default_rng(3)).p.seed
    assert drawn == CivicModel(residents=200, rng=np.random.default_rng(3)).p.seed
    with pytest.raises(ValueError, match="either rng or seed"):
        CivicModel(residents=200, seed=1, rng=2)
    with pytest.raises(ValueError, match="rng must be"):
        CivicModel(residents=200, rng="seven")


def test_the_initial_state_is_collected_but_not_a_week():
    model = CivicModel(residents=200, seed=1)
    assert model.datacollector.get_model_vars_dataframe()["step"].tolist() == [0]
    assert model.metrics_frame().empty
    frame = model.run(3)
    assert frame["step"].tolist() == [1, 2, 3]
    assert model.datacollector.get_model_vars_dataframe()["step"].tolist() == [0, 1, 2, 3]
