"""Fast, browserless tests of the workshop page's view helpers (model/views.py) and of
the page's model handling in app.py (no server, no browser)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model import metrics, views
from model.civic_model import CivicModel
from model.parameters import PARAMETER_FIELDS
from model.scenarios import Scenario, register_scenario
from model.strategies import DirectDelivery, register_strategy

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def stepped():
    """A workshop-size model after 30 weeks (facilitator: volunteers and businesses)."""
    model = CivicModel(strategy="facilitator", residents=800, seed=3)
    for _ in range(30):
        model.step()
    return model


@pytest.fixture()
def fresh():
    return CivicModel(strategy="direct", residents=300, seed=5)


# --- the neighbourhood ------------------------------------------------------------------
def test_neighbourhood_counts_match_the_model(stepped):
    view = views.neighbourhood(stepped)
    assert len(view.resident_xy) == stepped.residents.count == view.counts["residents"]
    assert len(view.volunteer_xy) == stepped.volunteers.count
    assert len(view.hub_xy) == len(stepped.hub_xy)
    b = stepped.businesses
    shown = len(view.business_xy) + len(view.closed_xy) + len(view.asset_xy)
    assert shown == b.count
    assert (view.width, view.height) == tuple(stepped.grid.dimensions)


def test_unmet_categories_agree_with_the_metric(stepped):
    view = views.neighbourhood(stepped)
    with_unmet = view.counts["some_unmet"] + view.counts["most_unmet"]
    assert with_unmet == metrics.residents_with_unmet_need(stepped)
    assert view.counts["not_assessed"] == 0
    need, unmet = views.resident_unmet(stepped)
    most = (unmet / np.where(need > 0, need, 1)) > views.MOSTLY_UNMET
    assert view.counts["most_unmet"] == int((most & (need > 0)).sum())


def test_residents_are_drawn_inside_their_home_cell_and_do_not_jump(stepped):
    r = stepped.residents
    view = views.neighbourhood(stepped)
    live = r.live
    assert np.all(view.resident_xy[:, 0] >= r.x[live]) and np.all(
        view.resident_xy[:, 0] < r.x[live] + 1
    )
    assert np.all(view.resident_xy[:, 1] >= r.y[live]) and np.all(
        view.resident_xy[:, 1] < r.y[live] + 1
    )
    again = views.neighbourhood(stepped)
    np.testing.assert_array_equal(view.resident_xy, again.resident_xy)


def test_week_zero_needs_are_assessed_by_the_burn_in(fresh):
    view = views.neighbourhood(fresh)
    assert view.counts["not_assessed"] == 0
    assert view.counts["in_care_home"] == int(fresh.residents.in_care_home.sum()) > 0
    assert "Living in a care home" in views.legend_html(view)


def test_without_a_burn_in_week_zero_needs_are_not_yet_assessed():
    fresh = CivicModel(strategy="direct", residents=300, seed=5, burn_in_weeks=0)
    view = views.neighbourhood(fresh)
    r = fresh.residents
    levels = r.level[r.live]
    at_home = ~r.in_care_home[r.live]
    assert view.counts["not_assessed"] == int(((levels > 0) & at_home).sum()) > 0
    assert "not yet assessed" in views.legend_html(view)
    fresh.step()
    view = views.neighbourhood(fresh)
    assert view.counts["not_assessed"] == 0
    assert "not yet assessed" not in views.legend_html(view)


def test_unknown_background_is_one_clear_error(fresh):
    with pytest.raises(ValueError, match="background must be one of civic, unmet"):
        views.neighbourhood(fresh, "rainfall")


def test_area_unmet_smooths_the_models_unmet_layer(stepped):
    raw = np.asarray(stepped.grid.unmet_need.data)
    np.testing.assert_allclose(views.area_unmet(stepped, 0), raw)
    smooth = views.area_unmet(stepped)
    assert smooth.shape == raw.shape
    assert smooth.max() < raw.max()
    assert 0.8 * raw.sum() < smooth.sum() <= raw.sum() + 1e-6
    assert raw.sum() == pytest.approx(metrics.unmet_hours(stepped))


def test_views_only_read_the_model(stepped):
    r, v = stepped.residents, stepped.volunteers
    before = {
        name: getattr(r, name).copy() for name in ("x", "y", "level", "need_low", "connection")
    }
    energy = v.energy.copy()
    steps, rows = stepped.steps, len(stepped.metrics_frame())
    for background in views.BACKGROUNDS:
        views.svg_neighbourhood(views.neighbourhood(stepped, background), "t")
    views.svg_charts(stepped.metrics_frame())
    views.counters(stepped)
    for name, values in before.items():
        np.testing.assert_array_equal(getattr(r, name), values)
    np.testing.assert_array_equal(v.energy, energy)
    assert stepped.steps == steps and len(stepped.metrics_frame()) == rows


# --- pictures ---------------------------------------------------------------------------
def test_map_svg_draws_every_resident_and_marker(stepped):
    view = views.neighbourhood(stepped, "unmet")
    svg = views.svg_neighbourhood(view, "A: Facilitator hub")
    root = ET.fromstring(svg)
    assert root.get("data-week") == str(stepped.steps)
    groups = {g.get("class"): g for g in root.iter(f"{SVG}g") if g.get("class")}
    circles = sum(
        len(g.findall(f"{SVG}circle")) for k, g in groups.items() if k.startswith("residents-")
    )
    assert circles == stepped.residents.count
    assert len(list(groups["markers-volunteer"])) == stepped.volunteers.count
    assert len(list(groups["markers-hub"])) == len(stepped.hub_xy)
    assert "A: Facilitator hub" in svg
    assert root.find(f".//{SVG}image").get("href").startswith("data:image/png;base64,")


def test_legend_names_every_marker():
    legend = views.legend_html()
    for label, *_rest in views.MAP_MARKERS.values():
        assert label in legend
    for code, (label, _colour, _size) in enumerate(views.RESIDENT_CATEGORIES):
        assert (label in legend) == (code != views.NOT_ASSESSED)


def test_charts_grow_with_each_week(fresh):
    empty = views.svg_charts(fresh.metrics_frame())
    assert len(empty) == len(views.CHARTS) == 4
    assert all("press Step" in svg for svg in empty)
    for _ in range(3):
        fresh.step()
    for svg, chart in zip(views.svg_charts(fresh.metrics_frame()), views.CHARTS, strict=True):
        root = ET.fromstring(svg)
        assert root.get("data-points") == "3"
        assert chart.title in svg
        for series in chart.series:
            assert series.label in svg


def test_unmet_chart_stacks_to_the_total(stepped):
    frame = stepped.metrics_frame()
    _years, values = views.chart_data(frame, views.CHARTS[0])
    total = values["unmet_personal_hours"] + values["unmet_low_level_hours"]
    np.testing.assert_allclose(total, frame["unmet_hours"].to_numpy(), rtol=1e-9, atol=1e-6)


def test_chart_data_fills_missing_columns_with_zeros():
    frame = pd.DataFrame({"step": [1, 2], "met_hours_paid": [3.0, 4.0]})
    years, values = views.chart_data(frame, views.CHARTS[1])
    np.testing.assert_allclose(years, [1 / 52, 2 / 52])
    np.testing.assert_allclose(values["met_hours_paid"], [3.0, 4.0])
    np.testing.assert_allclose(values["met_hours_family"], [0.0, 0.0])


def test_comparison_has_a_line_per_strategy(stepped):
    frames = {"A: Direct": stepped.metrics_frame(), "B: Hub": stepped.metrics_frame().head(10)}
    svg = views.svg_comparison(frames, "unmet_hours", "Unmet care need", "hours a week")
    root = ET.fromstring(svg)
    assert root.get("data-points") == str(stepped.steps)
    assert "A: Direct" in svg and "B: Hub" in svg
    assert len([p for p in root.iter(f"{SVG}path") if p.get("fill") == "none"]) == 2


@settings(max_examples=60, deadline=None)
@given(st.floats(min_value=1e-6, max_value=1e9, allow_nan=False))
def test_nice_ticks_cover_the_range(hi):
    ticks = views.nice_ticks(hi, 5)
    assert ticks[0] == 0 and ticks[-1] >= hi * (1 - 1e-9)
    assert 2 <= len(ticks) <= 7
    assert all(b > a for a, b in zip(ticks, ticks[1:], strict=False))


# --- counters and controls --------------------------------------------------------------
def test_counters_before_and_after_the_first_week(fresh):
    c = views.counters(fresh)
    assert c["week"] == 0 and c["year"] == 1
    assert c["residents_with_unmet_need"] is None and c["spend_total"] is None
    assert views.format_money(c["spend_total"]) == "–"
    fresh.step()
    fresh.step()
    c = views.counters(fresh)
    last = fresh.metrics_frame().iloc[-1]
    assert c["week"] == 2
    assert c["residents_with_unmet_need"] == last["residents_with_unmet_need"]
    assert c["spend_total"] == pytest.approx(last["spend_total"])
    assert views.format_money(12345.4) == "£12,345"


@pytest.mark.parametrize(("week", "year"), [(1, 1), (52, 1), (53, 2), (520, 10)])
def test_year_counter(week, year):
    class Stub:
        steps = week
        residents = volunteers = type("P", (), {"count": 0})()
        datacollector = type("D", (), {"model_vars": {}})()

    assert views.counters(Stub())["year"] == year


def test_sliders_stay_inside_the_allowed_ranges_and_defaults():
    specs = views.slider_specs()
    assert [s.name for s in specs] == list(views.SLIDER_NAMES)
    defaults = views.default_settings()
    for spec in specs:
        meta = PARAMETER_FIELDS[spec.name].metadata
        assert meta["lo"] is None or spec.min >= meta["lo"]
        assert meta["hi"] is None or spec.max <= meta["hi"]
        assert spec.min <= defaults[spec.name] <= spec.max
        assert spec.label and spec.format(defaults[spec.name])
    cut = next(s for s in specs if s.name == "budget_cut_rate")
    assert cut.format(0.02) == "2.0% a year"
    assert isinstance(defaults["seed"], int)


def test_presets_move_the_sliders_and_keep_the_residents():
    austerity = views.preset_values("austerity", residents=1200)
    assert austerity["budget_cut_rate"] == 0.02
    assert austerity["residents"] == 1200
    assert views.preset_values("baseline")["budget_cut_rate"] == 0.0
    rich = views.preset_values("asset_rich")
    assert rich["civic_potential"] == 0.8


def test_model_kwargs_reject_a_bad_seed_with_one_line():
    settings_ = {**views.default_settings(), "seed": -1}
    with pytest.raises(ValueError, match="parameter 'seed' must be"):
        views.model_kwargs(settings_)


def test_new_strategies_and_scenarios_appear_without_edits():
    from model import scenarios, strategies

    @register_strategy
    class Cautious(DirectDelivery):
        name = "cautious_test"
        title = "Cautious (test)"
        description = "A test strategy."

    register_scenario(Scenario("rainy_test", "Rainy (test)", "A test preset.", {}))
    try:
        assert ("cautious_test", "Cautious (test)", "A test strategy.") in (
            views.strategy_options()
        )
        assert ("rainy_test", "Rainy (test)", "A test preset.") in views.scenario_options()
    finally:
        strategies.STRATEGIES.remove("cautious_test")
        scenarios.SCENARIOS.remove("rainy_test")


# --- app.py without a browser -----------------------------------------------------------
def test_app_builds_no_model_at_import_time():
    import app

    assert not any(isinstance(v, CivicModel) for v in vars(app).values())


def test_side_by_side_starts_identical_and_steps_in_lockstep():
    import app

    settings_ = {**views.default_settings(), "residents": 300}
    a = app.build_model(settings_, "direct")
    b = app.build_model(settings_, "facilitator")
    np.testing.assert_array_equal(
        views.neighbourhood(a).resident_xy, views.neighbourhood(b).resident_xy
    )
    app.step_models((a, b), weeks=3)
    assert a.steps == b.steps == 3
    assert a.p.strategy == "direct" and b.p.strategy == "facilitator"
    again = app.build_model(settings_, "direct")
    app.step_models((again,), weeks=3)
    pd.testing.assert_frame_equal(again.metrics_frame(), a.metrics_frame())
