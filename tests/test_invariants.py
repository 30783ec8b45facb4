"""Invariants over random valid parameters (property-based), checked every week."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model import metrics
from model.civic_model import CivicModel
from model.strategies import strategy_names

params = st.fixed_dictionaries(
    {
        "strategy": st.sampled_from(["direct", "facilitator", "hybrid"]),
        "scenario": st.sampled_from(
            [
                "baseline",
                "steady_state",
                "austerity",
                "ageing_wave",
                "asset_rich",
                "asset_poor",
                "business_shock",
            ]
        ),
        "residents": st.integers(40, 400),
        "budget_scale": st.floats(0.0, 3.0),
        "budget_cut_rate": st.floats(-0.05, 0.3),
        "older_growth_rate": st.floats(-0.03, 0.08),
        "civic_potential": st.floats(0.0, 1.0),
        "seed": st.integers(0, 2**32),
        "max_matches": st.integers(1, 5),
        "travel_radius": st.integers(1, 30),
        "activity_places": st.integers(0, 30),
        "safety_net_share": st.floats(0.0, 1.0),
        "hybrid_facilitation_share": st.floats(0.0, 1.0),
        "shock_year": st.integers(0, 1),
        "burn_in_weeks": st.integers(0, 30),
        "care_home_fee": st.floats(0.0, 2000.0),
        "care_home_rate": st.floats(0.0, 5.0),
        "self_funder_share": st.floats(0.0, 1.0),
        "package_cap_share": st.floats(0.0, 2.0),
        "eligibility_threshold": st.integers(1, 4),
        "carer_breakdown_per_hour": st.floats(0.0, 0.02),
        "carer_uptake_rate": st.floats(0.0, 1.0),
        "share_carer_support": st.floats(0.0, 1.0),
        "residents_per_hub": st.integers(100, 5000),  # often several hubs
        "volunteer_pipeline_weeks": st.integers(0, 12),
        "pairing_tie_weeks": st.integers(0, 20),
        "neighbour_tie_rate": st.floats(0.0, 3.0),
        "activity_tie_chance": st.floats(0.0, 1.0),
        "tie_fade_rate": st.floats(0.0, 1.0),
        "help_seeking_rate": st.floats(0.0, 1.0),
        "hours_per_new_match": st.floats(0.1, 20.0),
        "follow_up_hours": st.floats(0.0, 3.0),
        "support_hours_per_volunteer": st.floats(0.0, 3.0),
        "care_role_share": st.floats(0.0, 1.0),
        "neighbourhood_size": st.integers(1, 30),
    }
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(params)
def test_invariants_hold_for_random_valid_parameters(kw):
    model = CivicModel(check=True, **kw)  # check=True raises InvariantError on any break
    for _ in range(60):
        model.step()
        r, v = model.residents, model.volunteers
        live = r.live
        hours = [
            r.need_personal,
            r.need_low,
            r.fam_personal,
            r.fam_low,
            r.paid_personal,
            r.vol_low,
            r.biz_low,
        ]
        assert all((h[live] >= 0).all() for h in hours)
        assert (r.fam_personal[live] + r.paid_personal[live] <= r.need_personal[live] + 1e-9).all()
        assert (
            r.fam_low[live] + r.vol_low[live] + r.biz_low[live] <= r.need_low[live] + 1e-9
        ).all()
        assert (v.hours_given[v.live] <= v.capacity[v.live] + 1e-9).all()
        w = model.week
        left = max(0.0, w.budget - w.spent.care_homes)
        assert w.spent.total - w.spent.care_homes <= left * (1 + 1e-9) + 1e-6
        homes = live[r.in_care_home[live]]
        assert (r.need_personal[homes] + r.need_low[homes] == 0).all()
        places = np.count_nonzero(r.council_funded[live])
        assert w.spent.care_homes == pytest.approx(places * model.p.care_home_fee)
        assert not r.council_funded[live][~r.in_care_home[live]].any()
        carers = r.family_hours[live] > 0
        assert ((r.carer_age[live] > 0) == carers).all()
    frame = model.metrics_frame()
    met = frame[
        [
            "met_hours_family",
            "met_hours_paid",
            "met_hours_volunteer",
            "met_hours_business",
            "unmet_hours",
        ]
    ].sum(axis=1)
    assert np.allclose(frame["need_hours"], met)
    assert not frame.isna().any().any()


def test_every_strategy_is_checked():
    for name in strategy_names():
        CivicModel(strategy=name, residents=150, seed=3, check=True).run(30)


def test_metric_columns_have_the_documented_names_and_no_nan_at_zero():
    required = """step need_hours met_hours_family met_hours_paid met_hours_volunteer
    met_hours_business unmet_hours unmet_personal_hours unmet_low_level_hours unmet_share
    share_with_any_need share_with_unmet_need residents deaths arrivals active_volunteers
    volunteer_recruits volunteer_quits mean_civic_energy budget spend_paid_care
    spend_facilitation cost_per_met_hour mean_connection unmet_gini engaged_businesses
    community_assets cumulative_unmet_hours""".split()
    # no budget, no civic potential, no businesses: denominators hit zero
    model = CivicModel(
        residents=30, budget_scale=0.0, civic_potential=0.0, businesses_per_1000=0.0, seed=1
    )
    frame = model.run(5)
    assert set(required) <= set(frame.columns)
    assert list(frame["step"]) == [1, 2, 3, 4, 5]
    assert not frame.isna().any().any()
    assert (frame["cost_per_met_hour"] == 0).all()
    assert set(metrics.metric_names()) == set(frame.columns)
