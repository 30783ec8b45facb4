"""The care system: care homes, packages, moving eligibility, carers, the burn-in and
demography (ODD 5.8, 7.1, 7.3, 7.10, 7.11), checked as rules and on replicate averages."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agents import carer, hub, resident
from model.civic_model import CivicModel
from model.parameters import Parameters
from model.world import stable_ages

P = Parameters()
SMALL = {"residents": 1500, "burn_in_weeks": 104}


def _mean(metric, weeks=52, seeds=(0, 1), reduce=np.mean, **kw):
    return float(
        np.mean([reduce(CivicModel(seed=s, **{**SMALL, **kw}).run(weeks)[metric]) for s in seeds])
    )


# --- rules ------------------------------------------------------------------------------------
@settings(max_examples=60, deadline=None)
@given(st.floats(65, 104))
def test_need_factor_keeps_each_ages_death_rate_that_of_the_life_table(age):
    """Over the reference need distribution, the yearly death chance by level averages to
    the life table's rate at that age: the need factor moves deaths between people of one
    age, not in or out of the age."""
    at_least = np.array([1.0, *resident.initial_level_probabilities(age, P), 0.0])
    weights = at_least[:-1] - at_least[1:]  # P(level = 0), ..., P(level = 4)
    to_yearly = lambda w: 1 - (1 - w) ** 52  # noqa: E731
    yearly = [to_yearly(resident.death_probability(age, level, P)) for level in range(5)]
    if resident.life_table_mortality(age, P) * np.exp(4 * P.mortality_need_factor) < 0.9:
        assert np.dot(weights, yearly) == pytest.approx(resident.life_table_mortality(age, P))


def test_deaths_rise_with_age_and_need():
    assert resident.death_probability(90.0, 0, P) > resident.death_probability(70.0, 0, P)
    for level in range(4):
        assert resident.death_probability(80, level + 1, P) > resident.death_probability(
            80, level, P
        )


@settings(max_examples=60, deadline=None)
@given(st.floats(0.0, 0.2), st.integers(0, 3), st.floats(1.0, 6.0))
def test_need_once_begun_worsens_faster_by_the_progression_factor(chance, level, factor):
    """The weekly chance of moving up is the onset chance at level 0, and the chance of a
    hazard multiplied by ``progression_factor`` at levels 1-3 (so a yearly rate, too)."""
    p = P.replace(progression_factor=factor)
    up = resident.progression_probability(np.float64(chance), level, p)
    if level == 0:
        assert up == chance
    else:
        assert up == pytest.approx(1.0 - (1.0 - chance) ** factor, rel=1e-12, abs=1e-15)
        assert up >= chance - 1e-15
        # multiplying the hazard: the yearly chance of no move is (that at onset) ** factor
        assert (1.0 - up) ** 52 == pytest.approx(((1.0 - chance) ** 52) ** factor, rel=1e-9)


def test_with_faster_progression_more_residents_reach_substantial_need():
    """The pattern the factor is for (two seeds, 1,000 residents, a short burn-in)."""

    def substantial_or_worse(factor):
        counts = []
        for seed in range(2):
            q = P.replace(residents=1000, burn_in_weeks=52, progression_factor=factor)
            m = CivicModel(q, seed_sequence=np.random.SeedSequence(seed))
            m.run(156)
            r = m.residents
            counts.append(np.count_nonzero(r.alive & (r.level >= 3)))
        return np.mean(counts)

    assert substantial_or_worse(3.0) > 1.2 * substantial_or_worse(1.0)


def test_admission_rises_with_need_age_missing_family_care_and_a_crisis():
    chance = resident.care_home_admission_probability
    assert chance(85, 0, 1.0, True, P) == 0.0  # no need, no care home
    assert chance(85, 4, 0.0, False, P) > chance(85, 3, 0.0, False, P) > chance(85, 1, 0, 0, P)
    assert chance(90, 3, 0.0, False, P) > chance(75, 3, 0.0, False, P)
    assert chance(85, 3, 1.0, False, P) > chance(85, 3, 0.0, False, P)
    assert chance(85, 3, 0.0, True, P) > chance(85, 3, 0.0, False, P)


def test_carers_break_down_more_the_more_they_give_and_less_with_support():
    breakdown = carer.carer_breakdown_probability
    assert breakdown(0.0, 0.0, P) == 0.0
    assert breakdown(50.0, 0.0, P) > breakdown(10.0, 0.0, P) > 0
    assert breakdown(50.0, 1.0, P) < breakdown(50.0, 0.0, P)
    u = np.random.default_rng(1).random(20_000)
    remaining_at_65 = carer.carer_death_age(np.full(u.size, 65.0), 1 - u, P) - 65
    assert remaining_at_65.mean() == pytest.approx(19.7, abs=0.5)  # life expectancy at 65
    older = carer.carer_death_age(np.full(u.size, 85.0), 1 - u, P) - 85
    assert (older > 0).all() and older.mean() < 8  # the older, the fewer years left


def test_family_gives_more_as_need_grows_up_to_their_limit():
    personal, low = resident.need_hours(np.arange(5), P)
    given_personal, given_low = resident.family_care(personal, low, np.full(5, 20.0))
    given = given_personal + given_low
    assert (np.diff(given) >= 0).all() and given.max() == pytest.approx(20.0)


def test_packages_are_capped_and_the_cap_costs_no_more_than_a_placement():
    ceiling = hub.package_ceiling(P)
    assert ceiling * P.care_hour_price <= P.care_home_fee + 1e-9
    assert hub.package_hours(np.array([5.0, 80.0]), P).tolist() == [5.0, pytest.approx(ceiling)]


class _Council:
    def __init__(self, cost):
        self.package_cost_by_level = np.array(cost, dtype=float)


def test_eligibility_is_the_lowest_level_the_money_reaches():
    council = _Council([0, 100, 200, 400, 800])
    assert hub.adapt_eligibility(council, 10_000, P) == 3  # at the threshold
    assert hub.adapt_eligibility(council, 801, P) == 3  # beyond critical: substantial too
    assert hub.adapt_eligibility(council, 800, P) == 4  # critical takes it all
    low = P.replace(eligibility_threshold=1)
    assert hub.adapt_eligibility(council, 10_000, low) == 1
    assert hub.adapt_eligibility(council, 1_000, low) == 3


def test_council_places_go_to_the_neediest_while_money_covers_the_fee():
    level = np.array([4, 3, 2, 4, 3], dtype=np.int8)
    candidates = np.array([0, 3, 1, 4, 2])  # neediest first
    placed = hub.council_placements(candidates, level, 800.0, 2_500.0, P)
    assert placed.tolist() == [0, 3, 1]  # three fees; level 2 never qualifies
    assert hub.council_placements(candidates, level, 800.0, 799.0, P).size == 0


def test_stable_ages_follow_the_life_table():
    ages, cumulative = stable_ages(P)
    assert cumulative[-1] == pytest.approx(1.0)
    share_85 = 1 - np.interp(85.0, ages, cumulative)
    older = stable_ages(P.replace(cohort_growth_excess=0.02))
    assert 1 - np.interp(85.0, older[0], older[1]) < share_85  # younger cohorts, fewer 85+


# --- the burn-in ------------------------------------------------------------------------------
STATE = ("person_id", "age", "level", "family_hours", "carer_age", "in_care_home", "x")


def _state(model):
    r = model.residents
    return {k: getattr(r, k)[r.live].copy() for k in STATE}


def test_every_strategy_and_budget_of_one_seed_starts_from_the_same_state():
    base = CivicModel(strategy="direct", residents=600, seed=9, burn_in_weeks=60)
    start = _state(base)
    assert base.steps == 0 and base.metrics_frame().empty  # burn-in weeks are not output
    for kw in (
        {"strategy": "facilitator"},
        {"strategy": "hybrid", "budget_scale": 2.0},
        {"budget_scale": 0.5, "budget_cut_rate": 0.1},
    ):
        other = _state(CivicModel(residents=600, seed=9, burn_in_weeks=60, **kw))
        for key in STATE:
            np.testing.assert_array_equal(start[key], other[key], err_msg=f"{kw} {key}")
    shorter = _state(CivicModel(residents=600, seed=9, burn_in_weeks=30))
    assert not np.array_equal(shorter["age"], start["age"])  # its length matters
    assert base.residents.count == 600  # ``residents`` is the population at week 0


def test_the_first_output_row_is_week_one_after_the_burn_in():
    frame = CivicModel(residents=300, seed=1, burn_in_weeks=20).run(3)
    assert frame["step"].tolist() == [1, 2, 3]
    assert frame["cumulative_unmet_hours"].iloc[0] == pytest.approx(frame["unmet_hours"].iloc[0])


# --- the care system on replicate averages ---------------------------------------------------
def test_more_budget_loosens_eligibility():
    tight = _mean("eligibility_floor", budget_scale=0.5)
    loose = _mean("eligibility_floor", budget_scale=2.0)
    assert tight > 3.5  # critical only in most weeks
    assert loose < 3.5  # substantial needs served most weeks
    assert _mean("residents_with_package", budget_scale=2.0) > _mean(
        "residents_with_package", budget_scale=0.5
    )


def test_care_home_places_are_paid_before_home_care():
    seeds = (0, 1)
    for s in seeds:
        frame = CivicModel(seed=s, budget_scale=0.6, **SMALL).run(26)
        places = frame["council_funded_places"] * P.care_home_fee
        np.testing.assert_allclose(frame["spend_care_homes"], places)
        squeezed = frame["spend_care_homes"] >= frame["budget"] - 1e-6
        assert (frame.loc[squeezed, "spend_paid_care"] == 0).all()
        left = np.maximum(frame["budget"] - frame["spend_care_homes"], 0.0)
        assert (frame["spend_paid_care"] <= left + 1e-6).all()
        np.testing.assert_allclose(
            frame["overspend"], np.maximum(frame["spend_care_homes"] - frame["budget"], 0.0)
        )


def test_the_facilitators_safety_net_covers_the_places():
    frame = CivicModel(strategy="facilitator", seed=3, **SMALL).run(26)
    duty_within_net = frame["spend_care_homes"] <= 0.5 * frame["budget"]
    planned = 0.5 * frame["budget"]  # the default safety_net_share
    facilitation = frame["spend_facilitation"] + frame["facilitation_unspent"]
    np.testing.assert_allclose(facilitation[duty_within_net], planned[duty_within_net], rtol=1e-9)


def test_carer_support_means_fewer_breakdowns():
    kw = {"strategy": "facilitator", "weeks": 104, "seeds": (0, 1, 2), "reduce": np.sum}
    without = _mean("carer_breakdowns", share_carer_support=0.0, **kw)
    with_support = _mean("carer_breakdowns", share_carer_support=0.3, **kw)
    assert with_support < without


def test_carers_age_die_break_down_and_are_replaced():
    frame = CivicModel(seed=2, **SMALL).run(104)
    assert frame["carer_deaths"].sum() > 0 and frame["carer_breakdowns"].sum() > 0
    assert frame["new_carers"].sum() > 0
    assert (frame["carers_aged_65_plus"] > 0).all()
    assert (frame["carers_aged_65_plus"] < frame["carers"]).all()


def test_care_home_residents_stay_in_the_population_and_die_there():
    frame = CivicModel(seed=4, **SMALL).run(104)
    assert frame["care_home_deaths"].sum() > 0
    assert (frame["residents_in_care_homes"] > 0).all()
    homes = frame["residents_in_care_homes"] / frame["residents"]
    assert 0.01 < homes.mean() < 0.05
