"""The model is a proper Mesa model: agents on the grid, a PropertyLayer, batch_run."""

import mesa
import numpy as np

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


def test_mesa_batch_run_runs_the_model():
    results = mesa.batch_run(
        CivicModel,
        parameters={"strategy": ["direct", "facilitator"], "residents": 120, "seed": 7},
        iterations=1,
        max_steps=8,
        number_processes=1,
        data_collection_period=1,
        display_progress=False,
    )
    strategies = {row["strategy"] for row in results}
    assert strategies == {"direct", "facilitator"}
    assert all("unmet_share" in row and row["unmet_share"] >= 0 for row in results)
