"""Fast, browserless tests of the workshop page's pieces (``workshop/``) and of
``app.py``'s model handling (no server, no browser)."""

from __future__ import annotations

import ast
import gc
import itertools
import threading
import time
import weakref
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model import metrics
from model.civic_model import CivicModel
from model.parameters import PARAMETER_FIELDS
from workshop import drawing, frames, palette, results, runs, scheduler, seeds, state
from workshop import settings as ws

ROOT = Path(__file__).resolve().parents[1]
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


def fake_run(models, **extras):
    """What drawing a frame reads from a ``Run``."""
    return SimpleNamespace(
        models=tuple(models),
        extras={"settings": ws.default_settings(), "background": "civic", **extras},
        horizon=ws.HORIZON_WEEKS,
        playing=False,
        notice="",
        at_horizon=False,
    )


# --- colours -----------------------------------------------------------------------------
def test_wcag_contrast_matches_known_values():
    assert palette.contrast("#000000", "#FFFFFF") == pytest.approx(21.0)
    assert palette.contrast("#777777", "#FFFFFF") == pytest.approx(4.48, abs=0.01)
    assert palette.contrast("#0072B2", "#0072B2") == pytest.approx(1.0)
    assert palette.luminance("#FFFFFF") == pytest.approx(1.0)


def _all_background_colours():
    return [
        colour
        for _key, (_b, _t, ramp) in drawing.BACKGROUNDS.items()
        for colour in palette.ramp_colours(ramp, np.linspace(0, 1, 101))
    ]


def test_every_map_symbol_has_3_to_1_contrast_on_every_background_colour():
    markers = list(drawing.RESIDENT_MARKERS) + list(drawing.MAP_MARKERS.values())
    worst = {
        m.label: min(palette.contrast(m.ink, bg) for bg in _all_background_colours())
        for m in markers
    }
    assert min(worst.values()) >= 3.0, worst


def test_map_symbols_stay_distinct_with_colour_blindness():
    inks = {m.ink for m in drawing.RESIDENT_MARKERS} | {m.ink for m in drawing.MAP_MARKERS.values()}
    for deficiency in palette.CVD_MATRICES:
        seen = {ink: palette.simulate(ink, deficiency) for ink in inks}
        for a, b in itertools.combinations(seen, 2):
            assert palette.colour_distance(seen[a], seen[b]) >= 10, (deficiency, a, b)
    # unmet need against no unmet need, the map's main message, stays far apart
    for deficiency in palette.CVD_MATRICES:
        grey = palette.simulate(palette.GREY_DARK, deficiency)
        unmet = palette.simulate(palette.VERMILLION, deficiency)
        assert palette.colour_distance(grey, unmet) >= 20, deficiency


#: What each chart series and map marker is about (the meaning its colour must carry).
THEMES = {
    "unmet": "unmet care need",
    "volunteer": "volunteers and civic energy",
    "civic": "volunteers and civic energy",
    "facilitation": "volunteers and civic energy",
    "paid": "the council and the care it buys",
    "care_home": "the council and the care it buys",
    "hub": "the council and the care it buys",
    "business": "local businesses and community-owned places",
    "hosting": "local businesses and community-owned places",
    "closed": "local businesses and community-owned places",
    "asset": "local businesses and community-owned places",
    "grants": "local businesses and community-owned places",
    "family": "family and friends' care",
}


def _theme(name: str) -> str:
    return next(meaning for key, meaning in THEMES.items() if key in name)


def test_one_meaning_per_colour():
    uses = [(s.column, s.colour) for chart in drawing.CHARTS for s in chart.series]
    uses += [(c.secondary.column, c.secondary.colour) for c in drawing.CHARTS if c.secondary]
    uses += [(key, m.ink) for key, m in drawing.MAP_MARKERS.items()]
    uses += [("unmet", m.ink) for m in drawing.RESIDENT_MARKERS[2:4]]
    meaning_of_colour: dict[str, set[str]] = {}
    for name, colour in uses:
        meaning_of_colour.setdefault(colour, set()).add(_theme(name))
        assert palette.MEANINGS[colour] == _theme(name), (name, colour)
    assert all(len(m) == 1 for m in meaning_of_colour.values()), meaning_of_colour


def test_chart_lines_have_3_to_1_contrast_on_white():
    for chart in drawing.CHARTS:
        for s in [*chart.series, chart.secondary]:
            if s is not None and (not chart.stacked or s is chart.secondary):
                assert palette.contrast(s.colour, palette.WHITE) >= 3.0, s
    for style in drawing.SIDE_STYLES.values():
        assert palette.contrast(style["stroke"], palette.WHITE) >= 3.0


# --- structure ---------------------------------------------------------------------------
def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_model_imports_no_plotting_or_page_library():
    forbidden = {"matplotlib", "PIL", "altair", "solara", "ipywidgets", "ipyvuetify", "workshop"}
    for path in (ROOT / "model").rglob("*.py"):
        assert not _imports(path) & forbidden, path


def test_drawing_imports_no_model_code():
    for name in ("drawing.py", "palette.py"):
        assert not _imports(ROOT / "workshop" / name) & {"model", "agents", "mesa"}, name


# --- the map -----------------------------------------------------------------------------
def test_map_arrays_match_the_model(stepped):
    view = state.neighbourhood(stepped)
    assert len(view.resident_xy) == stepped.residents.count == view.counts["residents"]
    assert len(view.volunteer_xy) == stepped.volunteers.count
    assert len(view.hub_xy) == len(stepped.hub_xy)
    shown = len(view.business_xy) + len(view.closed_xy) + len(view.asset_xy)
    assert shown == stepped.businesses.count
    assert (view.width, view.height) == tuple(stepped.grid.dimensions)


def test_map_categories_agree_with_the_metric(stepped):
    view = state.neighbourhood(stepped)
    with_unmet = view.counts["some_unmet"] + view.counts["most_unmet"]
    assert with_unmet == metrics.residents_with_unmet_need(stepped)
    need, unmet = state.resident_hours(stepped)
    most = (unmet / np.where(need > 0, need, 1)) > drawing.MOSTLY_UNMET
    assert view.counts["most_unmet"] == int((most & (need > 0)).sum())
    assert view.counts["not_assessed"] == 0


def test_residents_are_drawn_inside_their_home_cell_and_stay_put(stepped):
    r = stepped.residents
    view = state.neighbourhood(stepped)
    x, y = r.x[r.live], r.y[r.live]
    assert np.all((view.resident_xy[:, 0] >= x) & (view.resident_xy[:, 0] < x + 1))
    assert np.all((view.resident_xy[:, 1] >= y) & (view.resident_xy[:, 1] < y + 1))
    np.testing.assert_array_equal(view.resident_xy, state.neighbourhood(stepped).resident_xy)


def test_week_zero_needs_are_not_yet_assessed(fresh):
    view = state.neighbourhood(fresh)
    levels = fresh.residents.level[fresh.residents.live]
    need = metrics.need_hours_of(fresh)[fresh.residents.live]
    in_home = getattr(fresh.residents, "in_care_home", None)  # a model with care homes
    away = in_home[fresh.residents.live] if in_home is not None else np.zeros_like(need, bool)
    unassessed = int(((levels > 0) & (need <= 0) & ~away).sum())
    assert view.counts["not_assessed"] == unassessed
    if getattr(fresh.p, "burn_in_weeks", 0) == 0:  # a model with a burn-in has assessed them
        assert unassessed == int((levels > 0).sum()) > 0
    assert "not yet assessed" in drawing.legend_html(True)
    assert "not yet assessed" not in drawing.legend_html(False)
    fresh.step()
    assert state.neighbourhood(fresh).counts["not_assessed"] == 0


def test_unknown_background_is_one_clear_error(fresh):
    with pytest.raises(ValueError, match="background must be one of civic, unmet"):
        state.neighbourhood(fresh, "rainfall")


def test_area_unmet_smooths_the_models_unmet_layer(stepped):
    raw = np.asarray(stepped.grid.unmet_need.data)
    np.testing.assert_allclose(state.area_unmet(stepped, 0), raw)
    smooth = state.area_unmet(stepped)
    assert smooth.max() < raw.max()
    assert 0.8 * raw.sum() < smooth.sum() <= raw.sum() + 1e-6
    assert raw.sum() == pytest.approx(metrics.unmet_hours(stepped))


def test_map_svg_draws_every_resident_and_marker(stepped):
    view = state.neighbourhood(stepped, "unmet")
    root = ET.fromstring(drawing.svg_map(view, 20.0, "A: Facilitator hub"))
    assert root.get("data-week") == str(stepped.steps)
    groups = {g.get("class"): g for g in root.iter(f"{SVG}g") if g.get("class")}
    dots = 0
    for code in range(len(drawing.RESIDENT_MARKERS)):
        # each category's dots are one path, written once and drawn with <use>
        paths = groups[f"residents-{code}"].findall(f".//{SVG}path")
        assert len(paths) <= 1
        unit = "h0" if "ring" in drawing.RESIDENT_MARKERS[code].shape else "z"
        unit = "h0" if drawing.RESIDENT_MARKERS[code].shape == "dot" else unit
        dots += paths[0].get("d").count(unit) if paths else 0
        uses = groups[f"residents-{code}"].findall(f"{SVG}use")
        assert all(u.get("href") == "#" + paths[0].get("id") for u in uses)
    assert dots == stepped.residents.count
    triangles = groups["markers-volunteer"].find(f"{SVG}path").get("d").count("z")
    assert triangles == stepped.volunteers.count
    assert groups["markers-hub"].find(f"{SVG}path").get("d").count("z") == len(stepped.hub_xy)
    assert root.find(f".//{SVG}image").get("href").startswith("data:image/png;base64,")


def test_markers_scale_with_the_map():
    """Marker sizes are in grid cells, so a map drawn larger draws larger markers."""
    for marker in [*drawing.RESIDENT_MARKERS, *drawing.MAP_MARKERS.values()]:
        assert 0.2 <= marker.size <= 1.3
    # the unmet dots are the largest residents, the "most unmet" ones largest of all
    sizes = [m.size for m in drawing.RESIDENT_MARKERS]
    assert sizes[drawing.MOST_UNMET] > sizes[drawing.SOME_UNMET] > sizes[drawing.NO_NEED]


def test_legend_names_every_marker_and_the_colour_bar_is_titled_and_fixed():
    legend = drawing.legend_html(False)
    for marker in [*drawing.RESIDENT_MARKERS[:4], *drawing.MAP_MARKERS.values()]:
        assert drawing.esc(marker.label) in legend
    bar = drawing.colour_bar_html("unmet", 40.0)
    assert "Unmet care hours a week per block" in bar
    assert 'data-vmax="40"' in bar and "40 or more" in bar
    assert "Civic potential" in drawing.colour_bar_html("civic", 1.0)


def test_unmet_scale_is_fixed_for_a_run(fresh):
    fresh.step()
    run = fake_run([fresh], background="unmet")
    first = frames._scale(run, fresh, "unmet")
    smoothed_need = np.zeros(fresh.grid.dimensions)
    r = fresh.residents
    np.add.at(smoothed_need, (r.x[r.live], r.y[r.live]), metrics.need_hours_of(fresh)[r.live])
    smooth = state.ndimage.gaussian_filter(smoothed_need, state.AREA_SMOOTHING, mode="constant")
    assert first >= np.percentile(smooth, 98)
    for _ in range(5):
        fresh.step()
    assert frames._scale(run, fresh, "unmet") == first


# --- axes and charts ---------------------------------------------------------------------
@settings(max_examples=80, deadline=None)
@given(
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
    st.floats(min_value=1e-3, max_value=1e6, allow_nan=False),
)
def test_nice_range_covers_the_data(lo, span):
    ticks = drawing.nice_range(lo, lo + span, 5)
    tol = 1e-8 * max(1.0, span, abs(lo))  # round-off only
    assert ticks[0] <= lo + tol and ticks[-1] >= lo + span - tol
    assert 2 <= len(ticks) <= 9
    labels = drawing.tick_labels(ticks)
    assert len(set(labels)) == len(labels)  # no two ticks read the same


def test_axes_fit_the_data():
    # a line far from zero (the room's 159 against 165) gets an axis that does not
    # start at zero, so the gap is visible
    ticks = drawing.fitted_ticks([152.0, 158.0], [166.0, 170.0], zero_based=False)
    assert ticks[0] > 0 and ticks[0] <= 152 and ticks[-1] >= 170
    assert (166 - 159) / (ticks[-1] - ticks[0]) > 0.2
    # parts of a whole keep zero at the bottom; a difference always shows zero
    assert drawing.fitted_ticks([150.0], [170.0], zero_based=True)[0] == 0
    diff = drawing.fitted_ticks([2.0], [9.0], zero_based=False)
    assert diff[0] == 0
    assert drawing.fitted_ticks([-4.0], [6.0], zero_based=False)[0] <= -4


def test_charts_grow_with_each_week_and_carry_kept_runs_and_events(fresh):
    years, columns = state.weekly(fresh, frames.CHART_COLUMNS)
    empty = [drawing.svg_chart(c, years, columns) for c in drawing.CHARTS]
    assert all("press Step or Play" in svg for svg in empty)
    for _ in range(3):
        fresh.step()
    years, columns = state.weekly(fresh, frames.CHART_COLUMNS)
    kept = {k: v * 0.9 for k, v in columns.items()}
    event = drawing.Event(2, "cut 2.0% a year")
    for chart in drawing.CHARTS:
        svg = drawing.svg_chart(
            chart, years, columns, kept=kept, kept_years=years, kept_label="kept", events=[event]
        )
        root = ET.fromstring(svg)
        assert root.get("data-points") == "3"
        assert chart.title in svg and "kept-line" in svg and "cut 2.0% a year" in svg
        for series in chart.series:
            assert drawing.esc(series.label) in svg


def test_unmet_chart_stacks_to_the_total(stepped):
    years, columns = state.weekly(stepped, frames.CHART_COLUMNS + ["unmet_hours"])
    total = columns["unmet_personal_hours"] + columns["unmet_low_level_hours"]
    np.testing.assert_allclose(total, columns["unmet_hours"], rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(years, np.arange(1, stepped.steps + 1) / 52)


def test_weekly_columns_and_the_facilitation_spend(stepped):
    _years, columns = state.weekly(stepped, ["spend_facilitation", "no_such_metric"])
    frame = stepped.metrics_frame()
    frame = frame[frame["step"] >= 1]
    expected = sum(frame[c].to_numpy() for c in drawing.FACILITATION_SPEND if c in frame)
    np.testing.assert_allclose(columns["spend_facilitation"], expected)
    np.testing.assert_array_equal(columns["no_such_metric"], np.zeros(len(frame)))


def test_events_come_from_the_parameters():
    austerity = CivicModel(scenario="austerity", residents=200, seed=1)
    assert [(e.week, e.label) for e in state.events(austerity.p)] == [(1, "cut 2.0% a year")]
    shock = CivicModel(scenario="business_shock", residents=200, seed=1)
    assert [e.week for e in state.events(shock.p)] == [2 * 52 + 1]
    assert state.events(CivicModel(residents=200, seed=1).p) == []


def test_panel_draws_lines_bands_and_a_zero_line():
    years = np.arange(1, 11) / 52
    lines = [
        drawing.Line(years, np.linspace(150, 160, 10), "A"),
        drawing.Line(years, np.linspace(152, 166, 10), "B"),
    ]
    band = drawing.Band(years, np.full(10, 148.0), np.full(10, 170.0), "band")
    svg = drawing.svg_panel("People", lines, bands=[band])
    root = ET.fromstring(svg)
    assert root.get("data-points") == "10"
    assert "axis-break" in svg  # the axis starts above zero, and says so
    gap = drawing.svg_panel(
        "Gap", [drawing.Line(years, np.linspace(1, 6, 10), "B − A")], zero_line=True
    )
    assert "axis-break" not in gap and ">0<" in gap


# --- settings ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("abc", "whole number such as 1 or 42"),
        ("1.5", "no decimal point"),
        ("-3", "cannot be negative"),
        (str(2**63), "too large"),
        ("", "Type a seed"),
    ],
)
def test_bad_seeds_get_a_plain_message(text, message):
    with pytest.raises(ValueError, match=message):
        ws.parse_seed(text)


def test_seeds_are_read_exactly():
    assert ws.parse_seed(" 42 ") == 42
    assert ws.parse_seed("1_000") == ws.parse_seed("1,000") == 1000
    big = 2**63 - 1
    assert ws.parse_seed(str(big)) == big  # never through a float
    assert ws.parse_seed(str(2**53 + 1)) == 2**53 + 1


def test_scenario_label_says_custom_once_a_slider_moves():
    values = ws.default_settings()
    assert ws.scenario_label(values) == "Baseline"
    moved = {**values, "budget_cut_rate": 0.05}
    assert ws.scenario_label(moved) == "Custom (from Baseline)"
    assert ws.moved_sliders(moved) == ["budget_cut_rate"]
    assert ws.scenario_label({**values, "residents": 1200}) == "Baseline"  # size is not a preset
    austerity = {**values, "scenario": "austerity", **ws.preset_values("austerity")}
    assert ws.scenario_label(austerity) == "Austerity"


def test_sliders_stay_inside_the_allowed_ranges():
    defaults = ws.default_settings()
    for spec in ws.slider_specs():
        meta = PARAMETER_FIELDS[spec.name].metadata
        assert meta["lo"] is None or spec.min >= meta["lo"]
        assert meta["hi"] is None or spec.max <= meta["hi"]
        assert spec.min <= defaults[spec.name] <= spec.max
    assert next(s for s in ws.slider_specs() if s.name == "budget_cut_rate").format(0.02) == (
        "2.0% a year"
    )


def test_presets_move_the_sliders_and_keep_the_residents():
    assert ws.preset_values("austerity", residents=1200) == {
        **ws.preset_values("baseline", residents=1200),
        "budget_cut_rate": 0.02,
    }
    assert ws.preset_values("asset_rich")["civic_potential"] == 0.8


def test_default_pace_runs_ten_years_well_under_a_minute():
    assert ws.HORIZON_WEEKS / ws.weeks_per_second(ws.DEFAULT_PACE) == pytest.approx(30)
    with pytest.raises(ValueError, match="pace must be one of"):
        ws.weeks_per_second("warp")


def test_model_kwargs_reject_a_bad_value_with_one_line():
    with pytest.raises(ValueError, match="parameter 'seed' must be"):
        ws.model_kwargs({**ws.default_settings(), "seed": -1})


# --- results -----------------------------------------------------------------------------
def test_outcome_averages_the_last_year():
    columns = {
        "residents_with_unmet_need": np.r_[np.zeros(100), np.full(52, 160.0)],
        "unmet_hours": np.r_[np.zeros(100), np.full(52, 3000.0)],
        "residents": np.full(152, 880.0),
        "active_volunteers": np.full(152, 60.0),
    }
    out = results.outcome("x", 152, columns)
    assert (out.people, out.hours, out.volunteers) == (160.0, 3000.0, 60.0)
    assert out.share == pytest.approx(160 / 880)


def test_gap_sentences_say_what_the_gap_means():
    a = results.Outcome("A", 520, 159.0, 3074.0, 880.0, 61.0)
    b = results.Outcome("B", 520, 165.0, 2854.0, 880.0, 211.0)
    people, hours = results.gap_sentences(a, b)
    assert "6 more older people" in people and "+4%" in people
    assert "220 fewer hours of care a week" in hours
    assert "11,440 hours a year" in hours and "5.9 full-time care workers" in hours
    assert "about the same" in results.gap_sentences(a, a)[0]


def test_chance_sentence_tells_chance_from_strategy():
    strategy = results.chance_sentence([-8, -5, -12, -3])
    assert "fewer people with unmet need in 4 of 4" in strategy and "not chance" in strategy
    chance = results.chance_sentence([-8, 5, -2, 3])
    assert "changes sign" in chance


# --- frames ------------------------------------------------------------------------------
def test_workshop_frame_and_its_head(fresh):
    run = fake_run([fresh])
    frame = frames.draw_workshop(run)
    assert frame.head.week_zero and not frame.head.building
    assert len(frame.blocks) == 2 and frame.blocks[0].startswith('<svg class="civic-map"')
    assert frame.blocks[1].count('class="civic-chart"') == 4 and 'data-week="0"' in frame.blocks[1]
    for _ in range(2):
        fresh.step()
    later = frames.draw_workshop(run)
    assert later.head == frames.draw_workshop(run).head  # the head is stable week to week
    assert later.results is None and 'data-week="2"' in later.blocks[1]
    assert later.status == "Direct delivery · Baseline · seed 1"


def test_kept_run_is_drawn_and_compared_at_the_horizon():
    model = CivicModel(strategy="direct", residents=200, seed=2)
    run = fake_run([model])
    run.horizon = 60
    for _ in range(60):
        model.step()
    frames.keep_workshop(run)
    assert "kept-line" in frames.draw_workshop(run).blocks[1]
    run.at_horizon = True
    card = frames.draw_workshop(run).results
    assert card["heading"].startswith("After ten years")
    assert [name.split(":")[0] for name, _o in card["rows"]] == [
        "This run",
        "Kept",
        "Its first year",
    ]
    assert any("kept run" in s for s in card["sentences"])


def test_pair_frame_panels_results_and_optional_panels(registries):
    a = CivicModel(strategy="direct", residents=200, seed=4)
    b = CivicModel(strategy="facilitator", residents=200, seed=4)
    run = fake_run([a, b])
    run.horizon = 60
    for _ in range(60):
        a.step()
        b.step()
    frame = frames.draw_pair(run)
    assert len(frame.blocks) == 3
    assert frame.blocks[2].count('class="civic-compare') == len(frames.PANELS) + 1
    assert "Gap: B − A" in frame.blocks[2] and "A: Direct delivery" in frame.blocks[2]
    run.at_horizon = True
    card = frames.draw_pair(run).results
    assert len(card["rows"]) == 2 and "older people" in card["sentences"][0]
    # without care homes (before issue 10) there is one set; with them, a second
    assert frame.care_panels == bool(frames.optional_columns(a))
    if not frame.care_panels:
        assert frames.pair_columns(a, "care") == list(frames.PANELS)
    # a metric such as care homes gets a panel, in a second set, once the model collects
    # it: each set is three panels and the gap, so the grid keeps its 2 x 2 size
    if "carers" not in metrics.METRICS:
        metrics.register_metric("carers", lambda m: 1.0, "Family carers (test)")
    c = CivicModel(strategy="direct", residents=200, seed=4)
    d = CivicModel(strategy="facilitator", residents=200, seed=4)
    assert frames.pair_columns(c) == list(frames.PANELS)
    assert ("carers", "Family carers") in frames.pair_columns(c, "care")
    with pytest.raises(ValueError, match="panels must be one of need, care, not 'x'"):
        frames.pair_columns(c, "x")
    cd = fake_run([c, d])
    c.step()
    d.step()
    assert frames.draw_pair(cd).care_panels
    cd.extras["panels"] = "care"
    care = frames.draw_pair(cd)
    assert "Family carers" in care.blocks[2] and "Active volunteers" not in care.blocks[2]
    assert care.blocks[2].count('class="civic-compare') == len(frames.optional_columns(c)) + 1


def test_pair_csv_has_both_sides():
    a = CivicModel(strategy="direct", residents=200, seed=4)
    b = CivicModel(strategy="hybrid", residents=200, seed=4)
    for _ in range(3):
        a.step()
        b.step()
    text = frames.pair_csv(fake_run([a, b]))
    lines = text.strip().splitlines()
    assert lines[0].startswith("side,strategy,")
    assert sum(line.startswith("A,direct,") for line in lines) == len(a.metrics_frame())
    assert sum(line.startswith("B,hybrid,") for line in lines) == len(b.metrics_frame())


def test_metrics_csv_is_one_row_a_week(fresh):
    for _ in range(4):
        fresh.step()
    lines = state.metrics_csv(fresh).strip().splitlines()
    assert len(lines) == 1 + len(fresh.metrics_frame())
    assert "residents_with_unmet_need" in lines[0].split(",")


# --- the scheduler -----------------------------------------------------------------------
def test_scheduler_serves_a_press_of_step_before_play_frames():
    queue = scheduler.Scheduler(slots=1)
    served = []
    queue.acquire(scheduler.PLAY)  # someone is computing a frame

    def ask(priority, name):
        with queue.slot(priority):
            served.append(name)

    threads = [threading.Thread(target=ask, args=(scheduler.PLAY, "play"))]
    threads[0].start()
    while queue.queued < 1:
        time.sleep(0.001)
    threads.append(threading.Thread(target=ask, args=(scheduler.BACKGROUND, "background")))
    threads[1].start()
    while queue.queued < 2:
        time.sleep(0.001)
    threads.append(threading.Thread(target=ask, args=(scheduler.STEP, "step")))
    threads[2].start()
    while queue.queued < 3:
        time.sleep(0.001)
    queue.release()
    for t in threads:
        t.join(5)
    assert served == ["step", "play", "background"]
    with pytest.raises(ValueError):
        scheduler.Scheduler(slots=0)


# --- runs --------------------------------------------------------------------------------
class Published:
    """Collects a run's frames (stands in for the page)."""

    def __init__(self):
        self.frames = []
        self.event = threading.Event()

    def __call__(self, frame):
        self.frames.append(frame)
        self.event.set()

    def wait_for(self, predicate, timeout=30.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.frames and predicate(self.frames[-1]):
                return self.frames[-1]
            self.event.wait(0.05)
            self.event.clear()
        raise AssertionError(f"no such frame; last {self.frames[-1] if self.frames else None}")


def small_run(horizon=40, connected=lambda: True, residents=200):
    published = Published()

    def draw(run):
        return SimpleNamespace(week=run.week, playing=run.playing, notice=run.notice)

    run = runs.Run(
        lambda: (CivicModel(strategy="direct", residents=residents, seed=1),),
        draw,
        published,
        scheduler=scheduler.Scheduler(),
        horizon=horizon,
        connected=connected,
    )
    published.wait_for(lambda f: True)
    return run, published


def test_play_stops_at_the_horizon_and_step_cannot_pass_it():
    run, seen = small_run(horizon=40)
    try:
        run.pace = 200.0  # weeks a second
        assert run.toggle_play()
        last = seen.wait_for(lambda f: not f.playing and f.week > 0)
        assert last.week == 40 and run.at_horizon and "Ten years are up" in last.notice
        run.step(3)
        time.sleep(0.3)
        assert run.week == 40
        assert not run.toggle_play(now=time.monotonic() + 10)  # Play does not start again
    finally:
        run.close()
        run.join(5)


def test_a_double_click_on_play_keeps_it_playing():
    run, _seen = small_run()
    try:
        now = time.monotonic()
        assert run.toggle_play(now)
        assert run.toggle_play(now + 0.2)  # the second click of a double-click
        assert not run.toggle_play(now + 1.0)  # a later click pauses
    finally:
        run.close()
        run.join(5)


def test_play_keeps_its_pace_in_weeks_a_second():
    run, _seen = small_run(horizon=520)
    try:
        run.pace = 40.0
        start = time.monotonic()
        run.toggle_play()
        time.sleep(1.5)
        run.pause()
        elapsed = time.monotonic() - start
        # Play carries the weeks that came due into each frame: about pace x time
        assert 0.5 * 40 * elapsed <= run.week <= 1.2 * 40 * elapsed + 5
    finally:
        run.close()
        run.join(5)


def test_run_to_the_horizon_and_reset():
    run, seen = small_run(horizon=60)
    try:
        run.run_to_horizon()
        seen.wait_for(lambda f: f.week == 60)
        run.reset()
        seen.wait_for(lambda f: f.week == 0)
        run.step(2)
        seen.wait_for(lambda f: f.week == 2)
    finally:
        run.close()
        run.join(5)


def test_play_pauses_when_the_page_is_gone():
    alive = [True]
    run, seen = small_run(horizon=520, connected=lambda: alive[0])
    try:
        run.pace = 30.0
        run.toggle_play()
        seen.wait_for(lambda f: f.week >= 3)
        alive[0] = False
        last = seen.wait_for(lambda f: not f.playing)
        assert "connection to this page was lost" in last.notice
        week = run.week
        time.sleep(0.5)
        assert run.week == week  # nothing computed unseen
    finally:
        run.close()
        run.join(5)


def test_a_hidden_run_steps_on_and_draws_when_shown_again():
    run, seen = small_run()
    try:
        run.set_visible(False)
        count = len(seen.frames)
        run.step(3)
        time.sleep(0.5)
        assert run.week == 3 and len(seen.frames) == count
        run.set_visible(True)
        seen.wait_for(lambda f: f.week == 3)
    finally:
        run.close()
        run.join(5)


def test_reset_and_close_free_the_old_model():
    run, seen = small_run()
    old = weakref.ref(run.models[0])
    run.step(2)
    seen.wait_for(lambda f: f.week == 2)
    run.reset()
    seen.wait_for(lambda f: f.week == 0)
    gc.collect()
    assert old() is None, "Reset kept the old model alive"
    current = weakref.ref(run.models[0])
    run.close()
    run.join(5)
    assert not run._thread.is_alive()
    gc.collect()
    assert current() is None, "a closed run kept its model alive"


# --- the band over seeds -----------------------------------------------------------------
def test_band_over_seeds_collects_ranges_and_can_be_cancelled():
    kwargs = ws.model_kwargs({**ws.default_settings(), "residents": 200})
    updates = []
    with ThreadPoolExecutor(max_workers=1) as pool:
        band = seeds.SeedBand(
            kwargs,
            ("direct", "facilitator"),
            20,
            ["residents_with_unmet_need"],
            seeds=[11, 12, 13],
            on_update=lambda: updates.append(1),
            submit=pool.submit,
        )
        deadline = time.monotonic() + 60
        while not band.finished and time.monotonic() < deadline:
            time.sleep(0.05)
    assert band.finished and len(updates) == 3
    low, high = band.range("direct", "residents_with_unmet_need")
    assert low.shape == (20,) and np.all(low <= high)
    dlow, dhigh = band.difference_range("residents_with_unmet_need")
    assert (
        np.all(dlow <= dhigh) and len(band.last_year_differences("residents_with_unmet_need")) == 3
    )
    # a seed's runs are the model's own: the same as a run made here
    model = CivicModel(**{**kwargs, "seed": 11, "strategy": "direct"})
    for _ in range(20):
        model.step()
    frame = model.metrics_frame()
    np.testing.assert_array_equal(
        band.results[11]["direct"]["residents_with_unmet_need"],
        frame[frame["step"] >= 1]["residents_with_unmet_need"].to_numpy(float),
    )
    with ThreadPoolExecutor(max_workers=1) as pool:
        gate = threading.Event()
        pool.submit(gate.wait)  # keep the worker busy so the band's seeds wait
        cancelled = seeds.SeedBand(
            kwargs, ("direct", "hybrid"), 20, ["unmet_hours"], seeds=[1, 2], submit=pool.submit
        )
        cancelled.cancel()
        gate.set()
    assert cancelled.done == 0 and cancelled.range("direct", "unmet_hours") is None


def test_the_band_process_ends_when_its_server_is_killed():
    """A server stopped by SIGKILL cannot shut its pool down: the band's worker must
    notice on its own (it used to outlive every test server, and every `make app`)."""
    import os
    import signal
    import subprocess
    import sys

    code = (
        "import os, sys\n"
        "from workshop import seeds\n"
        "print(seeds.executor().submit(os.getpid).result(), flush=True)\n"
        "sys.stdin.read()\n"
    )
    server = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        worker = int(server.stdout.readline())
        os.kill(worker, 0)  # alive while the server is
    finally:
        server.send_signal(signal.SIGKILL)
        server.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(worker, 0)
        except ProcessLookupError:
            break
        # a dead child not yet reaped by init still answers kill(0): look at its state
        try:
            if Path(f"/proc/{worker}/stat").read_text().split(") ")[1][0] == "Z":
                break
        except (FileNotFoundError, IndexError):
            break
        time.sleep(0.2)
    else:
        os.kill(worker, signal.SIGKILL)
        pytest.fail("the band's process outlived its server by 10 s")


# --- app.py without a browser --------------------------------------------------------------
def test_app_builds_no_model_at_import_and_frees_sessions_within_minutes():
    import solara.server.settings as solara_settings

    import app

    assert not any(isinstance(v, CivicModel) for v in vars(app).values())
    assert solara_settings.kernel.cull_timeout == app.SESSION_TIMEOUT
    assert solara_settings.theme.show_banner is False


def test_side_by_side_starts_identical_and_steps_in_lockstep():
    import app

    values = {**ws.default_settings(), "residents": 300}
    a, b = app.build_model(values, "direct"), app.build_model(values, "facilitator")
    np.testing.assert_array_equal(
        state.neighbourhood(a).resident_xy, state.neighbourhood(b).resident_xy
    )
    assert a.p.strategy == "direct" and b.p.strategy == "facilitator"


def test_heartbeats_keep_a_page_alive_and_their_absence_does_not():
    from workshop import client

    page = client.Client()
    assert page.alive()
    before = page.pong
    page.vue_ping(123)
    assert page.pong == before + 1 and page.alive()
    page.last_ping -= client.SERVER_LOST_AFTER + 1
    assert not page.alive()
    assert str(client.LOST_AFTER_MS) in page.template  # the browser's own threshold


def test_a_long_holder_hands_its_slot_to_a_press_of_step_between_weeks():
    queue = scheduler.Scheduler(slots=1)
    order = []
    queue.acquire(scheduler.PLAY)
    assert not queue.yield_to(scheduler.PLAY)  # nobody waiting: keep it

    def press():
        with queue.slot(scheduler.STEP):
            order.append("step")

    t = threading.Thread(target=press)
    t.start()
    while queue.queued < 1:
        time.sleep(0.001)
    assert queue.yield_to(scheduler.PLAY)  # handed over, and back
    order.append("play goes on")
    queue.release()
    t.join(5)
    assert order == ["step", "play goes on"]


def test_a_model_with_care_homes_shows_them_on_the_map_and_in_the_charts(registries, fresh):
    """Care homes and carers come with the model (issue 10); the page shows whatever the
    model has: a care-home marker, and the optional chart series once collected."""
    fresh.step()
    r = fresh.residents
    if getattr(r, "in_care_home", None) is None:  # a model before care homes (issue 10)
        r.add_column("in_care_home", bool, False)
    r.in_care_home[:] = False
    met = np.flatnonzero(
        r.alive & (metrics.need_hours_of(fresh) > 0) & (metrics.unmet_hours_of(fresh) <= 1e-9)
    )
    r.in_care_home[met[:5]] = True
    view = state.neighbourhood(fresh)
    assert view.counts["in_care_home"] == 5
    frame = frames.draw_workshop(fake_run([fresh]))
    assert "In a care home" in frame.legend and "residents-5" in frame.blocks[0]
    marker = drawing.RESIDENT_MARKERS[drawing.IN_CARE_HOME]
    assert min(palette.contrast(marker.ink, bg) for bg in _all_background_colours()) >= 3
    # the care-home spend band appears only when the model collects it
    collects = "spend_care_homes" in fresh.datacollector.model_vars
    assert ("Care homes" in frames.draw_workshop(fake_run([fresh])).blocks[1]) == collects
    if not collects:
        metrics.register_metric("spend_care_homes", lambda m: 100.0, "test")
    with_homes = CivicModel(strategy="direct", residents=200, seed=5)
    with_homes.step()
    assert "Care homes" in frames.draw_workshop(fake_run([with_homes])).blocks[1]
