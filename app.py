"""The civic-sim workshop page: watch care need and civic energy unfold, live.

Run with ``make app`` (``solara run app.py --host 127.0.0.1 --production``); in a room,
``solara run app.py --host 0.0.0.0 --production`` and open the printed address on the
projector's laptop. The page works with no internet: every asset is served by the
local Solara server (``solara-assets``) and the pictures are plain SVG made in
``model/views.py``.

Three tabs:

* **Workshop** -- one neighbourhood under one council strategy: the map, four live
  charts, counters, and Step / Play / Reset.
* **Side by side** -- two strategies on the same seed, preset and settings, stepped in
  lockstep, with a shared chart of unmet need.
* **About this model** -- what you see, how it works, things to notice and to try (in the
  style of the NetLogo Models Library's Info tab).

How it relates to Mesa's ``SolaraViz`` (mesa 3.3.1). The page follows SolaraViz's shape
(a sidebar of model settings, a Step / Play / Reset controller whose Play loop runs in
a thread, components re-drawn after each step) but is written with plain Solara
components, because SolaraViz's pieces do not serve a workshop here:

* its parameter panel keeps every slider's own value, so a scenario preset cannot move
  the sliders (and the sliders' values would override the preset's);
* its only free-entry field is ``InputText``, so a seed arrives as a string (here it is
  ``solara.InputInt``);
* its controller steps one model, and the side-by-side view steps two in lockstep;
* its default Altair space view loads Vega from a CDN path that ``solara-assets`` does
  not hold, so it fails with no internet; its Matplotlib views cost hundreds of
  milliseconds a frame on a small laptop, where SVG costs a few.

One model per browser session: models are made inside the ``Page`` component
(``solara.use_memo``), never at module level, so one person's steps never change
another's view. The model itself is only read here (``model/views.py``); all the rules
live in ``model/`` and ``agents/``.
"""

from __future__ import annotations

import html
import logging
import threading
import time

import markdown
import solara
import solara.lab

from model import views
from model.plugins import load_plugins

load_plugins()

from model.civic_model import CivicModel  # noqa: E402  (after plugins have registered)

logger = logging.getLogger("civic-sim.app")

#: Shortest time between two frames while playing (seconds).
FRAME_SECONDS = 0.2

#: Weeks in the default run; Play pauses when a run reaches it (press Play to go on).
HORIZON_WEEKS = 520

#: Choices of how many weeks each frame of Play advances.
WEEKS_PER_FRAME = (1, 4, 13)

CSS = """
.v-application { font-size: 17px; }
.civic-counters { display: flex; flex-wrap: wrap; gap: 12px; margin: 4px 0 12px 0; }
.civic-counter { background: #f3f5f7; border-left: 6px solid #0072B2; padding: 6px 14px;
  min-width: 170px; border-radius: 4px; }
.civic-counter .num { font-size: 30px; font-weight: 700; line-height: 1.15; color: #111; }
.civic-counter .lab { font-size: 15px; color: #444; }
.civic-counter.unmet { border-left-color: #C0002A; }
.civic-counter.vol { border-left-color: #009E73; }
.civic-counter.spend { border-left-color: #6a3d9a; }
.civic-charts { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr));
  gap: 10px 18px; }
.civic-help { font-size: 15px; color: #444; margin: 2px 0 10px 0; }
.civic-run-buttons .v-btn { font-size: 17px !important; margin-right: 8px; }
.civic-legend { display: flex; flex-wrap: wrap; gap: 2px 18px; font-size: 15px; }
.civic-legend-item { display: inline-flex; align-items: center; gap: 4px; }
.civic-three { display: grid; grid-template-columns: repeat(3, minmax(0, 1fr));
  gap: 14px; }
.civic-small-counters { font-size: 16px; margin: 2px 0 4px 0; color: #222;
  min-height: 3.1em; }
.civic-background-row { flex-wrap: wrap; }
.civic-small-counters b { font-size: 19px; }
.civic-info { max-width: 980px; font-size: 18px; }
.civic-info h2 { margin-top: 18px; }
.civic-slider-label { font-size: 16px; margin-top: 6px; }
.civic-slider-label b { color: #0b4f8a; }
"""


# --- models -----------------------------------------------------------------------------
def build_model(settings: dict, strategy: str | None = None) -> CivicModel:
    """Make a fresh model from the page's settings (optionally with another strategy)."""
    kwargs = views.model_kwargs(settings)
    if strategy is not None:
        kwargs["strategy"] = strategy
    return CivicModel(**kwargs)


def step_models(models, weeks: int = 1) -> None:
    """Advance each model the same number of weeks (lockstep for the side by side)."""
    for _ in range(weeks):
        for model in models:
            model.step()


def session_context():
    """The Solara kernel context of this browser session (None outside a server)."""
    try:
        from solara.server import kernel_context

        return kernel_context.get_current_context()
    except Exception:  # noqa: BLE001 - not running under a Solara server (tests, scripts)
        return None


def session_connected(context) -> bool:
    """Whether a browser page is still connected to this session.

    Play stops when the last page has gone (a closed tab or a dropped connection), so a
    forgotten session never keeps stepping in the background of the facilitator's laptop.
    """
    if context is None:
        return True
    try:
        from solara.server.kernel_context import PageStatus

        if context.closed_event.is_set():
            return False
        return PageStatus.CONNECTED in context.page_status.values()
    except Exception:  # noqa: BLE001 - a Solara internals change must not stop the page
        return True


def titles(options) -> dict[str, str]:
    """Name to title, from ``views.strategy_options()`` or ``views.scenario_options()``."""
    return {name: title for name, title, _description in options}


# --- small components -------------------------------------------------------------------
@solara.component
def Svg(svg: str, classes: list[str] | None = None):
    """Show an SVG string made by ``model/views.py``."""
    solara.HTML(tag="div", unsafe_innerHTML=svg, classes=classes or [])


@solara.component
def Counters(c: dict):
    """Week, year, residents with unmet need, volunteers and this week's spend.

    Args:
        c: From ``views.counters(model)``.
    """
    unmet = views.format_count(c["residents_with_unmet_need"])
    share = c["share_with_unmet_need"]
    unmet_of = f" of {c['residents']:,}" if share is not None else ""
    cards = [
        ("week", "civic-week", f"Week {c['week']}", f"year {c['year']} of the run"),
        ("unmet", "civic-unmet", f"{unmet}{unmet_of}", "older residents with unmet need"),
        ("vol", "civic-volunteers", f"{c['volunteers']:,}", "active volunteers"),
        ("spend", "civic-spend", views.format_money(c["spend_total"]), "council spend this week"),
    ]
    with solara.Div(classes=["civic-counters"]):
        for kind, cls, number, label in cards:
            with solara.Div(classes=["civic-counter", kind, cls]):
                solara.HTML(tag="div", unsafe_innerHTML=html.escape(number), classes=["num"])
                solara.HTML(tag="div", unsafe_innerHTML=html.escape(label), classes=["lab"])


@solara.component
def RunButtons(
    on_step,
    on_play,
    on_reset,
    playing: bool,
    weeks_per_frame: solara.Reactive[int],
    prefix: str,
):
    """Step / Play-Pause / Reset, and how many weeks each frame of Play advances."""
    with solara.Row(classes=["civic-run-buttons"], style={"align-items": "center"}):
        solara.Button(
            "Step 1 week",
            on_click=on_step,
            color="primary",
            disabled=playing,
            classes=[f"{prefix}-step"],
        )
        solara.Button(
            "❚❚ Pause" if playing else "▶ Play",
            on_click=on_play,
            color="success" if not playing else "warning",
            classes=[f"{prefix}-play"],
        )
        solara.Button("↺ Reset", on_click=on_reset, outlined=True, classes=[f"{prefix}-reset"])
        solara.Select(
            "Weeks per frame when playing",
            values=list(WEEKS_PER_FRAME),
            value=weeks_per_frame,
            style={"max-width": "230px"},
        )


@solara.component
def BackgroundSwitch(background: solara.Reactive[str]):
    """Choose the map's background layer: civic potential or unmet need by area."""
    with solara.Row(style={"align-items": "center"}, classes=["civic-background-row"]):
        solara.Text("Map background:", style={"font-size": "16px"})
        solara.ToggleButtonsSingle(
            value=background,
            children=[solara.Button(t, value=k) for k, (t, _l) in views.BACKGROUNDS.items()],
            classes=["civic-background"],
        )


@solara.component
def MapPanel(view: views.NeighbourhoodView, background: solara.Reactive[str], title: str):
    """Show the neighbourhood map with its background switch and legend."""
    with solara.Column(gap="4px"):
        BackgroundSwitch(background)
        Svg(views.svg_neighbourhood(view, title))
        Svg(views.legend_html(view))


@solara.component
def ParameterSlider(spec: views.SliderSpec, value, on_release):
    """A labelled slider that applies its value when released, not while dragged.

    Every change of setting rebuilds the model, so rebuilding on each pixel of a drag
    would queue dozens of rebuilds; the label follows the thumb while dragging.
    """
    shown, set_shown = solara.use_state(value)
    solara.use_effect(lambda: set_shown(value), [value])
    cast = int if spec.is_int else float

    def release(*args):
        new = cast(args[-1])
        set_shown(new)
        if new != value:
            on_release(new)

    solara.HTML(
        tag="div",
        unsafe_innerHTML=(
            f"{html.escape(spec.label)}: <b>{html.escape(spec.format(cast(shown)))}</b>"
        ),
        classes=["civic-slider-label", f"civic-label-{spec.name}"],
        attributes={"title": spec.help},
    )
    slider = solara.v.Slider(
        v_model=shown,
        on_v_model=lambda v: set_shown(cast(v)),
        min=spec.min,
        max=spec.max,
        step=spec.step,
        hide_details=True,
        class_=f"civic-slider civic-slider-{spec.name}",
    )
    solara.v.use_event(slider, "change", release)


@solara.component
def SettingsPanel(settings: dict, on_change, error: str | None):
    """Strategy, scenario preset, the sliders and the seed (changes restart the run)."""
    strategies = views.strategy_options()
    scenarios = views.scenario_options()
    strategy_titles = titles(strategies)
    scenario_titles = titles(scenarios)

    def set_value(name, value):
        on_change({name: value})

    solara.HTML(tag="h3", unsafe_innerHTML="Settings", style="margin: 4px 0 10px 0")

    def registry_choice(label, options, key):
        """A drop-down over a registry (name, title, description) and the chosen one's text."""
        solara.v.Select(
            label=label,
            items=[{"text": t, "value": n} for n, t, _d in options],
            v_model=settings[key],
            on_v_model=lambda v: set_value(key, v),
            class_=f"civic-{key}",
        )
        solara.HTML(
            tag="div",
            unsafe_innerHTML=html.escape(
                next((d for n, _t, d in options if n == settings[key]), "")
            ),
            classes=["civic-help"],
        )

    registry_choice("Council strategy", strategies, "strategy")
    registry_choice("Scenario preset", scenarios, "scenario")
    for spec in views.slider_specs():
        ParameterSlider(spec, settings[spec.name], lambda v, n=spec.name: set_value(n, v))
    solara.InputInt(
        "Random seed (a whole number; same seed, same story)",
        value=int(settings["seed"]),
        on_value=lambda v: set_value("seed", v),
        classes=["civic-seed"],
    )
    if error:
        solara.Error(error)
    solara.HTML(
        tag="div",
        unsafe_innerHTML=(
            "Changing a setting starts a fresh run at week 0. "
            f"Now: {html.escape(strategy_titles.get(settings['strategy'], ''))}, "
            f"{html.escape(scenario_titles.get(settings['scenario'], ''))}."
        ),
        classes=["civic-help"],
    )


# --- the tabs ---------------------------------------------------------------------------
@solara.component
def WorkshopTab(model, lock, version, background, controls):
    """One neighbourhood, one strategy: counters, map and the live charts.

    The model is read under the session's lock, so a redraw never sees a week half done
    by the Play thread.
    """
    strategy = titles(views.strategy_options()).get(model.p.strategy, model.p.strategy)
    scenario = titles(views.scenario_options()).get(model.p.scenario, model.p.scenario)
    with lock:
        counters = views.counters(model)
        view = views.neighbourhood(model, background.value)
        charts = views.svg_charts(model.metrics_frame())
    controls()
    Counters(counters)
    with solara.Columns([4, 6], gutters_dense=True):
        MapPanel(view, background, f"{strategy} · {scenario}")
        with solara.Div(classes=["civic-charts"]):
            for svg in charts:
                Svg(svg)


@solara.component
def SmallCounters(c: dict, side: str):
    """One line of counters above a side-by-side map (``c`` from ``views.counters``)."""
    unmet = views.format_count(c["residents_with_unmet_need"])
    text = (
        f'<span class="civic-week">Week <b>{c["week"]}</b></span> · '
        f"<b>{html.escape(unmet)}</b> with unmet need · "
        f"<b>{c['volunteers']:,}</b> volunteers · "
        f"spend <b>{html.escape(views.format_money(c['spend_total']))}</b>"
    )
    solara.HTML(tag="div", unsafe_innerHTML=text, classes=["civic-small-counters", side])


@solara.component
def SideBySideTab(pair, lock, version, background, strategies, on_strategies, controls):
    """Two strategies on one seed and preset, in lockstep, with a shared chart."""
    options = views.strategy_options()
    names = titles(options)
    solara.HTML(
        tag="div",
        unsafe_innerHTML=(
            "Both neighbourhoods start identical (same seed, preset and settings from the "
            "left) and face the same births, deaths and illnesses; only the council's "
            "strategy differs."
        ),
        classes=["civic-help"],
    )
    with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
        for side in (0, 1):

            def choose(value, side=side):
                new = list(strategies)
                new[side] = value
                on_strategies(tuple(new))

            solara.v.Select(
                label=f"Strategy {'AB'[side]}",
                items=[{"text": t, "value": n} for n, t, _d in options],
                v_model=strategies[side],
                on_v_model=choose,
                class_=f"civic-side-{'ab'[side]}",
                style_="max-width: 260px; margin-right: 16px",
            )
        BackgroundSwitch(background)
    controls()
    labels = [f"{'AB'[i]}: {names.get(m.p.strategy, m.p.strategy)}" for i, m in enumerate(pair)]
    with lock:
        counters = [views.counters(m) for m in pair]
        maps = [views.neighbourhood(m, background.value) for m in pair]
        frames = {label: m.metrics_frame() for label, m in zip(labels, pair, strict=True)}
    with solara.Div(classes=["civic-three"]):
        for side in range(len(pair)):
            with solara.Column(gap="0px", classes=[f"civic-side-{'ab'[side]}-panel"]):
                SmallCounters(counters[side], f"civic-side-{'ab'[side]}-counters")
                Svg(views.svg_neighbourhood(maps[side], labels[side]))
        with solara.Column(gap="6px"):
            for column, title, ylabel in views.COMPARISON_PANELS:
                Svg(views.svg_comparison(frames, column, title, ylabel))
    Svg(views.legend_html(None))


@solara.component
def InfoTab():
    """Explain the model: what you see, how it works, things to notice and to try."""
    strategies = "\n".join(f"* **{t}** -- {d}" for _n, t, d in views.strategy_options())
    scenarios = "\n".join(f"* **{t}** -- {d}" for _n, t, d in views.scenario_options())
    text = INFO.format(strategies=strategies, scenarios=scenarios).replace(" -- ", " – ")
    solara.HTML(tag="div", unsafe_innerHTML=markdown.markdown(text), classes=["civic-info"])


INFO = """
## What is it?

A neighbourhood of older people (65+) whose care needs grow as they age, and a council
that must decide how to spend a shrinking budget: **deliver care directly** (buy paid
care hours), or **act as a facilitator hub** that helps neighbours, volunteers and local
businesses do more (the "synaptic" council of the LGIU essays) -- or a **hybrid**. The
question is how unmet care need evolves over 10 years under each, and where civic
energy makes the difference.

## What you are seeing

* **The map** is a neighbourhood (about 4 x 4 km at the default 800 residents); each
  square is a street block of about 100 m.
  Each **dot** is an older resident: grey has no care need, **blue** has all their
  needed hours met this week, **orange** has some need unmet and **red** has more than
  half of it unmet. **Green triangles** are volunteers, the **black star** is the
  council hub, **purple squares** are cafes, pubs and shops (filled when they host a
  weekly activity), **gold diamonds** are community-owned assets (a closing pub bought
  by its neighbours), and **crosses** are closed businesses.
* **The background** shows either *civic potential* (how much untapped willingness to
  help an area has; darker green is more) or *unmet need by area* (care hours a week
  not met within about 250 m; darker purple is more).
* **The charts**: unmet need by type (personal care only paid carers or family can give;
  low-level support such as meals, shopping and company, which volunteers and
  businesses can give), care given by who gives it, volunteers and their civic energy,
  and the council's spend by line. The horizontal axis is years from the start.

## How it works

Each step is one week. In order: people age, some die and newcomers arrive; some
residents' needs get worse (more likely with unmet need and loneliness, less likely
with low-level support); the council spends this week's budget by its strategy;
volunteers are matched with residents who need low-level help (on their own only
nearby; through hub coordinators across the catchment); family, paid carers,
volunteers and businesses give care; volunteers gain or lose civic energy (overload
burns them out, support and recognition restore them) and new ones are recruited,
more easily where others already volunteer; businesses host activities, may close,
and may become community-owned assets.

The strategies:

{strategies}

## How to use it

Pick a **strategy** and a **scenario preset** on the left, then press **Step 1 week**
or **Play**. **Reset** starts again from week 0 with the same seed (the same
neighbourhood and the same story of births, deaths and illnesses). Any change of
setting starts a fresh run. The **Side by side** tab runs two strategies on the same
seed in lockstep.

The presets:

{scenarios}

## Things to notice

* Direct delivery keeps the people with the highest needs supported, but as the budget
  falls behind the growing need, eligibility tightens and more people slip into red.
* Under the facilitator hub, watch the green triangles: volunteers cluster where civic
  potential is high, and recruitment spreads from volunteer to neighbour.
* Personal-care need (the red band) barely responds to volunteers; low-level need
  (the orange band) does.
* Do the red dots gather in the pale areas of the civic-potential background?
* Watch civic energy: when too few volunteers carry too many matches they burn out.

## Things to try

* Run the **Side by side** on *Asset-rich* and then on *Asset-poor*: which strategy
  wins in each, and by how much?
* Move the **budget cut** slider to 5% a year. How long before the lines cross?
* Set **civic potential** to 0.1 and then 0.9 under the facilitator hub.
* Run the *Business shock* preset and look for gold diamonds after year 2.
* Change the **seed**: is the story the same, or was the first run lucky?

## Caveats

This is a model for thinking together, not a forecast. Numbers are calibrated to UK
figures where they exist and invented (and documented) where they do not; see
`docs/ODD.md`. One run is one possible story; the experiment tools (`civic-sim sweep`)
compare strategies over many seeds with confidence intervals.
"""


# --- the page ---------------------------------------------------------------------------
@solara.component
def Page():
    """Render the workshop page; every browser session gets its own models."""
    settings = solara.use_reactive(views.default_settings())
    error = solara.use_reactive(None)
    resets = solara.use_reactive(0)
    pair_resets = solara.use_reactive(0)
    version = solara.use_reactive(0)
    tab = solara.use_reactive(0)
    background = solara.use_reactive("civic")
    pair_background = solara.use_reactive("civic")
    strategies = solara.use_reactive(views.default_pair())
    playing = solara.use_reactive(False)
    pair_playing = solara.use_reactive(False)
    weeks_per_frame = solara.use_reactive(1)
    pair_weeks_per_frame = solara.use_reactive(1)
    lock = solara.use_memo(threading.RLock, [])
    key = tuple(sorted(settings.value.items()))
    model = solara.use_memo(lambda: build_model(settings.value), [key, resets.value])
    pair_visited = solara.use_reactive(False)  # the pair is built on the first visit
    pair = solara.use_memo(
        lambda: (
            tuple(build_model(settings.value, s) for s in strategies.value)
            if pair_visited.value or tab.value == 1
            else ()
        ),
        [key, strategies.value, pair_resets.value, pair_visited.value or tab.value == 1],
    )
    current = solara.use_ref({})
    current.current = {"main": (model,), "pair": pair}
    context = solara.use_memo(session_context, [])

    def stop():
        playing.set(False)
        pair_playing.set(False)

    def change_settings(changes: dict):
        new = {**settings.value, **changes}
        if "scenario" in changes and changes["scenario"] != settings.value["scenario"]:
            new.update(views.preset_values(changes["scenario"], new["residents"]))
        try:
            views.model_kwargs(new)
        except ValueError as exc:
            error.set(str(exc))
            return
        error.set(None)
        stop()
        settings.set(new)

    def step(which: str, weeks: int = 1):
        with lock:
            step_models(current.current[which], weeks)
        version.set(version.value + 1)

    def play_loop(cancel: threading.Event):
        """Step the playing view frame by frame until paused (runs in its own thread)."""
        try:
            while not cancel.is_set():
                if not session_connected(context):
                    stop()
                    return
                if playing.value:
                    which, weeks = "main", weeks_per_frame.value
                elif pair_playing.value:
                    which, weeks = "pair", pair_weeks_per_frame.value
                else:
                    return
                start = time.perf_counter()
                models = current.current[which]
                if not models:
                    return
                before = models[0].steps
                with lock:
                    step_models(models, weeks)
                if before < HORIZON_WEEKS <= models[0].steps:
                    stop()
                version.set(version.value + 1)
                cancel.wait(max(0.02, FRAME_SECONDS - (time.perf_counter() - start)))
        except Exception:  # noqa: BLE001 - a closed session or a model error ends play
            logger.exception("play stopped")
            try:
                stop()
            except Exception:  # noqa: BLE001
                pass

    solara.use_thread(
        play_loop, dependencies=[playing.value, pair_playing.value], intrusive_cancel=False
    )

    def main_controls():
        RunButtons(
            on_step=lambda: step("main"),
            on_play=lambda: (pair_playing.set(False), playing.set(not playing.value)),
            on_reset=lambda: (stop(), resets.set(resets.value + 1)),
            playing=playing.value,
            weeks_per_frame=weeks_per_frame,
            prefix="civic",
        )

    def pair_controls():
        RunButtons(
            on_step=lambda: step("pair"),
            on_play=lambda: (playing.set(False), pair_playing.set(not pair_playing.value)),
            on_reset=lambda: (stop(), pair_resets.set(pair_resets.value + 1)),
            playing=pair_playing.value,
            weeks_per_frame=pair_weeks_per_frame,
            prefix="civic-pair",
        )

    def change_tab(index: int):
        stop()
        if index == 1:
            pair_visited.set(True)
        tab.set(index)

    solara.Title("civic-sim workshop")
    solara.Style(CSS)
    with solara.AppBar():
        solara.AppBarTitle("civic-sim · care need and civic energy")
    with solara.Sidebar():
        SettingsPanel(settings.value, change_settings, error.value)
    with solara.lab.Tabs(value=tab.value, on_value=change_tab, lazy=True):
        with solara.lab.Tab("Workshop", classes=["civic-tab-workshop"]):
            WorkshopTab(model, lock, version.value, background, main_controls)
        with solara.lab.Tab("Side by side", classes=["civic-tab-pair"]):
            if pair:
                SideBySideTab(
                    pair,
                    lock,
                    version.value,
                    pair_background,
                    strategies.value,
                    lambda s: (stop(), strategies.set(s)),
                    pair_controls,
                )
        with solara.lab.Tab("About this model", classes=["civic-tab-info"]):
            InfoTab()
