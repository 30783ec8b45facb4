"""Parameters: defaults, scenario presets, and one clear error for every bad value."""

import pytest

from model.parameters import PARAMETER_FIELDS, Parameters, coerce, describe_range
from model.scenarios import get_scenario, scenario_names
from model.strategies import strategy_names

PUBLIC = [
    "strategy",
    "scenario",
    "residents",
    "budget_scale",
    "budget_cut_rate",
    "older_growth_rate",
    "civic_potential",
    "seed",
    "width",
    "height",
]


def test_public_names_exist_with_documented_defaults():
    for name in PUBLIC:
        assert name in PARAMETER_FIELDS
    p = Parameters()
    assert (p.strategy, p.scenario, p.residents) == ("direct", "baseline", 5000)
    assert p.budget_scale == 1.0 and p.civic_potential == 0.5


def test_required_strategies_and_scenarios_registered():
    assert {"direct", "facilitator", "hybrid"} <= set(strategy_names())
    assert {
        "baseline",
        "austerity",
        "ageing_wave",
        "asset_rich",
        "asset_poor",
        "business_shock",
    } <= set(scenario_names())


def test_scenario_preset_applies_and_explicit_value_wins():
    p = Parameters.resolve(scenario="austerity")
    assert p.budget_cut_rate == get_scenario("austerity").values["budget_cut_rate"] > 0
    p = Parameters.resolve(scenario="austerity", budget_cut_rate=0.05)
    assert p.budget_cut_rate == 0.05
    assert Parameters.resolve(scenario="asset_poor").civic_potential < 0.5


@pytest.mark.parametrize(
    "name, value",
    [
        ("residents", 5),
        ("residents", 2.5),
        ("residents", "many"),
        ("budget_scale", -0.1),
        ("budget_scale", 6),
        ("budget_cut_rate", 0.9),
        ("older_growth_rate", 0.5),
        ("civic_potential", 1.2),
        ("civic_potential", -0.01),
        ("seed", -1),
        ("width", 2),
        ("height", 1),
        ("strategy", "magic"),
        ("scenario", "utopia"),
        ("travel_radius", 0),
        ("family_carer_share", 2.0),
        ("need_hours_by_level", (0, 8, 16)),
        ("civic_potential", float("nan")),
    ],
)
def test_out_of_range_value_names_parameter_and_what_is_allowed(name, value):
    with pytest.raises(ValueError) as err:
        Parameters.resolve(**{name: value})
    message = str(err.value)
    assert f"'{name}'" in message
    assert describe_range(name) in message


def test_unknown_parameter_is_named():
    with pytest.raises(ValueError, match="unknown parameter 'budget'"):
        Parameters.resolve(budget=3)


def test_shares_must_add_up():
    with pytest.raises(ValueError, match="share_coordinators"):
        Parameters.resolve(share_coordinators=0.9)


def test_need_hours_must_not_decrease():
    with pytest.raises(ValueError, match="need_hours_by_level"):
        Parameters.resolve(need_hours_by_level=(0, 8, 4, 32, 80))


def test_coerce_converts_text_like_a_cli():
    assert coerce("residents", "800") == 800
    assert coerce("civic_potential", "0.7") == 0.7
    assert coerce("seed", "None") is None
    assert coerce("need_hours_by_level", "0,8,16,32,80") == (0, 8, 16, 32, 80)
    with pytest.raises(ValueError, match="'residents' must be an integer"):
        coerce("residents", "8.5")
