"""The civic-sim workshop page: watch care need and civic energy unfold, live.

Run with ``make app`` (``solara run app.py --host 127.0.0.1 --production``); in a room,
``solara run app.py --host 0.0.0.0 --production`` and open the printed address on the
projector's laptop (``docs/facilitator-guide.md``). The page works with no internet:
every asset is served by the local Solara server (``solara-assets``) and the pictures are
plain SVG made in ``workshop/``.

Three tabs:

* **Workshop** -- one neighbourhood under one council strategy: the map, four live
  charts, counters, and the run controls.
* **Side by side** -- two strategies on the same seed, preset and settings, stepped in
  lockstep: both maps, panels of unmet need, people, volunteers and the gap between
  them, a band over other seeds (what chance does) and a results card at year 10.
* **About this model** -- what you see, how it works, things to notice and to try (in the
  style of the NetLogo Models Library's Info tab).

How it relates to Mesa's ``SolaraViz`` (mesa 3.x). The page follows SolaraViz's shape (a
sidebar of model settings, a Step / Play / Reset controller whose Play loop runs in a
thread, components re-drawn after each step) but is written with plain Solara
components, because SolaraViz's pieces do not serve a workshop here:

* its parameter panel keeps every slider's own value, so a scenario preset cannot move
  the sliders (and the sliders' values would override the preset's);
* its only free-entry field is ``InputText`` with no validation: a seed here is read as a
  whole number, exactly, with a plain error in the field;
* its controller steps one model with one thread per page, and the side by side steps
  two in lockstep; twenty pages playing at once need one fair queue for the server's
  core (``workshop/scheduler.py``), which SolaraViz does not have;
* its default Altair space view loads Vega from a CDN path that ``solara-assets`` does
  not hold, so it fails with no internet; its Matplotlib views cost hundreds of
  milliseconds a frame on a small laptop, where SVG costs a few.

This file only lays the page out. One run per tab per browser session
(``workshop/runs.py``) does all the computing in its own thread; the components here
only read the finished frames it publishes (``workshop/frames.py``). Models are made for
each session, never at module level, so one person's steps never change another's view.
"""

from __future__ import annotations

import gc
import html
import logging
import os
import sys
from dataclasses import dataclass

import markdown
import solara
import solara.server.settings as solara_settings

from model.plugins import load_plugins
from workshop import frames, runs, seeds, settings
from workshop.client import Client
from workshop.drawing import BACKGROUNDS, esc
from workshop.live import LiveBlock

load_plugins()

from model.civic_model import CivicModel  # noqa: E402  (after plugins have registered)

# The server's own objects (Solara, numba, pandas, the model's modules: about 240,000
# of them) live as long as the process; a full garbage collection walks every one of them
# and pauses every session for a third of a second or more. Freezing them once, here,
# leaves the collector only the sessions' objects to walk (and it still frees those).
# Only in a Solara server: a test that imports this file keeps its collector as it was.
if "solara.server.server" in sys.modules:
    gc.collect()
    gc.freeze()

logger = logging.getLogger("civic-sim.app")

#: How long the server keeps a session whose page has gone without saying goodbye (a
#: closed laptop lid, a dropped wifi): Solara's ``SOLARA_KERNEL_CULL_TIMEOUT``, 24 hours
#: by default. A workshop wants them freed within minutes; the environment variable, if
#: set, wins.
SESSION_TIMEOUT = "3m"

if "SOLARA_KERNEL_CULL_TIMEOUT" not in os.environ:
    solara_settings.kernel.cull_timeout = SESSION_TIMEOUT
# no "This website runs on Solara" badge over the charts
if "SOLARA_THEME_SHOW_BANNER" not in os.environ:
    solara_settings.theme.show_banner = False


def build_model(values: dict, strategy: str | None = None) -> CivicModel:
    """Make a fresh model from the page's settings (optionally with another strategy)."""
    kwargs = settings.model_kwargs(values)
    if strategy is not None:
        kwargs["strategy"] = strategy
    return CivicModel(**kwargs)


def session_context():
    """The Solara kernel context of this browser session (None outside a server)."""
    try:
        from solara.server import kernel_context

        return kernel_context.get_current_context()
    except Exception:  # noqa: BLE001 - not running under a Solara server (tests, scripts)
        return None


def page_connected(context) -> bool:
    """Whether a browser page is still connected to this session (as Solara knows it)."""
    if context is None:
        return True
    try:
        from solara.server.kernel_context import PageStatus

        if context.closed_event.is_set():
            return False
        return PageStatus.CONNECTED in context.page_status.values()
    except Exception:  # noqa: BLE001 - a Solara internals change must not stop the page
        return True


CSS = """
html, body { overflow: hidden !important; }
.civic-shell { position: fixed; inset: 0; display: flex; flex-direction: column;
  background: #fff; color: #111; font-size: 16px; }
.civic-hidden { display: none !important; }
.civic-client-box { position: absolute; width: 0; height: 0; overflow: visible; }
.civic-topbar { display: flex; align-items: center; gap: 10px; height: 52px; flex: none;
  padding: 0 10px; background: #0b3d66; color: #fff; }
.civic-topbar .civic-app-title { font-size: 20px; font-weight: 700; margin-right: 8px;
  white-space: nowrap; }
.civic-topbar .v-btn { color: #fff !important; text-transform: none; font-size: 16px;
  letter-spacing: 0; }
.civic-topbar .civic-tab.active { background: rgba(255,255,255,0.22) !important;
  font-weight: 700; }
.civic-topbar .v-input--switch label { color: #fff !important; font-size: 16px; }
.civic-topbar .v-input--selection-controls { margin-top: 0; padding-top: 0; }
.civic-topbar .v-input__slot { margin-bottom: 0 !important; }
.civic-main { flex: 1; min-height: 0; display: flex; }
.civic-sidebar { width: 330px; flex: none; overflow-y: auto; border-right: 1px solid #ddd;
  padding: 6px 14px 20px 14px; }
.civic-content { flex: 1; min-width: 0; min-height: 0; display: flex;
  flex-direction: column; padding: 6px 12px 6px 12px; overflow: auto; }
.civic-view { flex: 1; min-height: 0; display: flex; flex-direction: column;
  position: relative; background: #fff; }
.civic-controls-row { display: flex; flex-wrap: wrap; align-items: center; gap: 4px 12px;
  flex: none; margin-bottom: 6px; }
.civic-controls { display: flex; flex-wrap: wrap; align-items: center; gap: 4px 6px; }
.civic-controls .v-btn { text-transform: none; letter-spacing: 0; font-size: 16px;
  height: 38px !important; padding: 0 12px !important; }
.civic-controls .civic-pace { max-width: 250px; }
.civic-controls .v-input { margin-top: 0; padding-top: 0; font-size: 16px; }
.civic-controls .v-text-field__details { display: none; }
.civic-body { flex: 1; min-height: 0; display: grid; gap: 10px;
  grid-template-columns: minmax(0, 42fr) minmax(0, 58fr); }
.civic-mapcol { min-height: 0; display: flex; flex-direction: column; gap: 4px; }
.civic-mapbox { flex: 1; min-width: 0; min-height: 0; display: flex; }
.civic-mapbox svg { width: 100%; height: 100%; }
.civic-title { font-size: 18px; font-weight: 700; line-height: 1.25; white-space: nowrap;
  overflow: hidden; text-overflow: ellipsis; }
.civic-counters { display: flex; gap: 8px; flex: none; }
.civic-counter { flex: 1; min-width: 0; background: #f3f5f7; border-left: 6px solid #4D4D4D;
  padding: 2px 10px; border-radius: 4px; }
.civic-counter .num { font-size: 22px; font-weight: 700; line-height: 1.2; white-space: nowrap; }
.civic-counter .lab { font-size: 16px; color: #333; line-height: 1.2; white-space: nowrap; }
.civic-counter.unmet { border-left-color: #D55E00; }
.civic-counter.vol { border-left-color: #009E73; }
.civic-counter.spend { border-left-color: #0072B2; }
.civic-chartcol { min-height: 0; display: flex; flex-direction: column; gap: 6px; }
.civic-panels .civic-charts, .civic-chartcol .civic-charts { flex: 1; }
.civic-charts { flex: 1; min-height: 0; display: grid; gap: 8px 10px;
  grid-template-columns: repeat(2, minmax(0, 1fr)); grid-auto-rows: minmax(0, 1fr); }
.civic-charts > div { min-height: 0; min-width: 0; display: flex; }
.civic-charts svg { width: 100%; height: 100%; }
.civic-background .v-btn, .civic-pair-background .v-btn { text-transform: none;
  letter-spacing: 0; font-size: 16px; }
.civic-legend { display: flex; flex-wrap: wrap; gap: 0 14px; font-size: 16px; flex: none;
  line-height: 1.35; }
.civic-legend-item { display: inline-flex; align-items: center; gap: 3px; white-space: nowrap; }
.civic-layer { display: flex; align-items: center; gap: 16px; flex: none; }
.civic-colourbar { flex: 1 1 200px; min-width: 180px; max-width: 320px; }
.civic-colourbar-title { font-size: 16px; line-height: 1.15; }
.civic-colourbar-bar { height: 14px; margin: 2px 0; border: 1px solid #333;
  background: linear-gradient(to right, var(--stops)); }
.civic-colourbar-ticks { position: relative; height: 18px; font-size: 16px; }
.civic-colourbar-ticks span { position: absolute; top: 0; left: var(--pos);
  transform: translateX(-50%); white-space: nowrap; line-height: 1; }
.civic-colourbar-ticks span:first-child { transform: none; }
.civic-colourbar-ticks span:last-child { transform: translateX(-100%); }
.civic-pair { flex: 1; min-height: 0; display: grid; gap: 4px 10px;
  grid-template-columns: minmax(0, 25fr) minmax(0, 25fr) minmax(0, 50fr);
  grid-template-rows: minmax(0, 1fr) auto; }
.civic-side { min-height: 0; display: flex; flex-direction: column; gap: 2px; }
.civic-side-body { flex: 1; min-height: 0; display: flex; flex-direction: column; gap: 2px; }
.civic-side-body .civic-mapbox { flex: 1; min-height: 0; }
.civic-side-head { display: flex; align-items: center; gap: 6px; flex: none; }
.civic-side-head .v-input { margin-top: 0; padding-top: 0; font-size: 16px; }
.civic-side-head .v-text-field__details { display: none; }
.civic-small-counters { font-size: 16px; line-height: 1.3; flex: none; white-space: nowrap; }
.civic-small-counters b { font-size: 18px; }
.civic-pair-bottom { grid-column: 1 / 3; grid-row: 2; display: flex; flex-direction: column;
  gap: 2px; }
.civic-panels { grid-row: 1 / 3; grid-column: 3; min-height: 0; display: flex;
  flex-direction: column; gap: 4px; }
.civic-panels-col { grid-row: 1 / 3; grid-column: 3; min-height: 0; display: flex;
  flex-direction: column; gap: 2px; }
.civic-panels-col .civic-panels { flex: 1; }
.civic-panel-set .v-btn { text-transform: none; letter-spacing: 0; font-size: 16px; }
.civic-notice-row { display: flex; align-items: center; gap: 8px; }
.civic-notice-row .v-btn { text-transform: none; letter-spacing: 0; font-size: 16px; }
.civic-notice { background: #fff3c4; border: 2px solid #8a6d00; border-radius: 6px;
  padding: 2px 10px; font-size: 17px; }
.civic-results { position: absolute; left: 0; top: 48px; z-index: 6; width: 50%;
  max-height: calc(100% - 56px); overflow: auto; background: #fff; border: 3px solid #111;
  border-radius: 8px; padding: 10px 16px; box-shadow: 0 6px 24px rgba(0,0,0,0.25); }
.civic-results h3 { font-size: 22px; margin: 0 0 6px 0; }
.civic-results table { border-collapse: collapse; font-size: 18px; margin-bottom: 6px; }
.civic-results td, .civic-results th { padding: 2px 10px 2px 0; text-align: right; }
.civic-results td:first-child, .civic-results th:first-child { text-align: left; }
.civic-results p { font-size: 18px; margin: 4px 0; }
.civic-band-status { font-size: 16px; color: #333; }
.civic-help { font-size: 15px; color: #444; margin: 2px 0 8px 0; }
.civic-info { max-width: 980px; font-size: 18px; }
.civic-info h2 { margin-top: 18px; }
.civic-slider-label { font-size: 16px; margin-top: 6px; }
.civic-slider-label b { color: #0b4f8a; }
.civic-connection-lost { position: fixed; top: 0; left: 0; right: 0; z-index: 100010;
  background: #8a1c00; color: #fff; font-size: 22px; font-weight: 700; text-align: center;
  padding: 10px; }
"""


# --- small components -------------------------------------------------------------------
@solara.component
def Html(text: str, classes: list[str] | None = None, tag: str = "div"):
    """Show HTML (or SVG) made by ``workshop/``."""
    solara.HTML(tag=tag, unsafe_innerHTML=text, classes=classes or [])


@solara.component
def LiveHtml(block: LiveBlock, classes: list[str]):
    """A block of the page that the run's worker updates directly, frame by frame.

    The element is given no HTML: Solara sets only the properties an element names, so
    it never puts an older frame back when the page around it re-renders. The block
    alone sets this widget's HTML (under its lock), first when the widget appears.
    """
    el = solara.widgets.HTML.element(tag="div", attributes={"class": " ".join(classes)})

    def attach():
        widget = solara.get_widget(el)
        block.attach(widget)
        return lambda: block.detach(widget)

    solara.use_effect(attach, [block])


def _text(value: str, classes: list[str]) -> None:
    solara.HTML(
        tag="div", unsafe_innerHTML=html.escape(value), classes=["civic-export-text", *classes]
    )


@dataclass(frozen=True)
class ControlState:
    """What the run controls show; it changes only when a button's state does, so the
    controls are not redrawn with every frame of Play."""

    playing: bool
    done: bool
    building: bool
    week_zero: bool
    kept: bool
    name: str
    band: str = ""


def control_state(head: frames.Head) -> ControlState:
    """The run controls' state for a frame's head."""
    band_label = {"": "", "running": "Stop band", "done": "Clear band"}[head.band]
    slug = (
        head.status.lower().replace(" · ", "-").replace(" ", "-").replace("(", "").replace(")", "")
    )
    return ControlState(
        playing=head.playing,
        done=head.at_horizon,
        building=head.building,
        week_zero=head.week_zero,
        kept=bool(head.kept_label),
        name=slug or "run",
        band=band_label,
    )


def export_csv(run: runs.Run) -> str:
    """The run's weekly metrics as CSV (read with the models locked)."""
    from workshop.state import metrics_csv

    with run.lock:
        if not run.models:
            return ""
        return metrics_csv(run.models[0]) if len(run.models) == 1 else frames.pair_csv(run)


@solara.component
def RunControls(
    state: ControlState,
    run: runs.Run,
    pace: tuple,
    prefix: str,
    png_root: str,
    client: Client,
    on_band=None,
):
    """Step / Play / Run to year 10 / Reset, Play's pace, keep a run, export: one
    component for both tabs (``prefix`` names the buttons for tests: ``civic`` or
    ``civic-pair``)."""
    png_count = solara.use_ref(0)
    busy = state.building

    def save_png():
        png_count.current += 1
        tab = prefix.removeprefix("civic-") if prefix != "civic" else "workshop"
        name = f"civic-sim-{tab}-{state.name}-week-{run.week}.png"
        client.png_request = {"id": png_count.current, "root": png_root, "name": name}

    def keep():
        if state.kept:
            run.call(lambda r: r.extras.pop("kept", None))
        else:
            run.call(frames.keep_workshop if prefix == "civic" else frames.keep_pair)

    with solara.Div(classes=["civic-controls", f"{prefix}-controls"]):
        solara.Button(
            "Step 1 week",
            on_click=lambda: run.step(1),
            color="primary",
            disabled=state.playing or state.done or busy,
            classes=[f"{prefix}-step"],
        )
        solara.Button(
            "❚❚ Pause" if state.playing else "▶ Play",
            on_click=lambda: run.toggle_play(),
            color="warning" if state.playing else "success",
            disabled=state.done or busy,
            classes=[f"{prefix}-play"],
        )
        solara.Button(
            "To year 10 »",
            on_click=run.run_to_horizon,
            outlined=True,
            disabled=state.done or busy,
            classes=[f"{prefix}-run-to"],
        )
        solara.Button(
            "↺ Reset", on_click=lambda: run.reset(), outlined=True, classes=[f"{prefix}-reset"]
        )
        solara.Select(
            "Play speed",
            values=list(settings.PACES),
            value=pace[0],
            on_value=pace[1],
            classes=[f"{prefix}-pace", "civic-pace"],
            dense=True,
        )
        solara.Button(
            "Forget kept run" if state.kept else "Keep this run",
            on_click=keep,
            outlined=True,
            disabled=busy or (state.week_zero and not state.kept),
            classes=[f"{prefix}-keep"],
        )
        if on_band is not None:
            solara.Button(
                state.band or "Chance band",
                on_click=on_band,
                outlined=True,
                disabled=busy,
                classes=[f"{prefix}-band"],
            )
        with solara.FileDownload(
            lambda: export_csv(run),
            f"civic-sim-{prefix.removeprefix('civic-') or 'workshop'}-{state.name}.csv",
            mime_type="text/csv",
        ):
            solara.Button("⤓ CSV", outlined=True, classes=[f"{prefix}-csv"], disabled=busy)
        solara.Button("⤓ PNG", on_click=save_png, outlined=True, classes=[f"{prefix}-png"])


@solara.component
def ResultsCard(card: dict | None, prefix: str, hidden: solara.Reactive[bool]):
    """The end-of-run card: the outcomes side by side, the gap in people and hours.

    ``hidden`` is shared with the run's notice, which offers "Show results" in its own
    line (so the button never covers the notice or the map)."""
    solara.use_effect(lambda: hidden.set(False), [card is None])
    if card is None or hidden.value:
        return
    rows = "".join(
        f"<tr><td>{esc(name)}</td><td>{o.people:,.0f}</td><td>{o.share:.0%}</td>"
        f"<td>{o.hours:,.0f}</td><td>{o.volunteers:,.0f}</td></tr>"
        for name, o in card["rows"]
    )
    body = (
        f'<h3 class="civic-export-text">{esc(card["heading"])}</h3>'
        "<table><tr><th>Average of the last year</th><th>people with unmet need</th>"
        f"<th>share</th><th>unmet hours a week</th><th>volunteers</th></tr>{rows}</table>"
        + "".join(f'<p class="civic-export-text">{esc(s)}</p>' for s in card["sentences"])
    )
    with solara.Div(classes=["civic-results", f"{prefix}-results"]):
        Html(body)
        solara.Button(
            "Hide", on_click=lambda: hidden.set(True), text=True, classes=[f"{prefix}-hide-results"]
        )


@solara.component
def ParameterSlider(spec: settings.SliderSpec, value, on_release):
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
def SettingsPanel(values: dict, on_change, seed_text: solara.Reactive[str]):
    """Strategy, scenario preset, the sliders and the seed (changes restart the run)."""
    seed_error, set_seed_error = solara.use_state("")
    strategies = settings.strategy_options()
    scenarios = settings.scenario_options()

    def set_value(name, value):
        on_change({name: value})

    def choice(label, options, key):
        """A drop-down over a registry (name, title, description) and the chosen one's text."""
        solara.v.Select(
            label=label,
            items=[{"text": t, "value": n} for n, t, _d in options],
            v_model=values[key],
            on_v_model=lambda v: set_value(key, v),
            class_=f"civic-{key}",
            hide_details=True,
        )
        solara.HTML(
            tag="div",
            unsafe_innerHTML=html.escape(next((d for n, _t, d in options if n == values[key]), "")),
            classes=["civic-help"],
        )

    def seed_entered(text):
        seed_text.set(text)
        try:
            seed = settings.parse_seed(text)
        except ValueError as exc:
            set_seed_error(str(exc))
            return
        set_seed_error("")
        if seed != values["seed"]:
            set_value("seed", seed)

    solara.HTML(tag="h3", unsafe_innerHTML="Settings", style="margin: 4px 0 6px 0")
    choice("Council strategy (Workshop tab)", strategies, "strategy")
    choice("Scenario preset", scenarios, "scenario")
    for spec in settings.slider_specs():
        ParameterSlider(spec, values[spec.name], lambda v, n=spec.name: set_value(n, v))
    solara.InputText(
        "Random seed (a whole number; same seed, same story)",
        value=seed_text.value,
        on_value=seed_entered,
        continuous_update=False,
        error=seed_error or False,
        message="" if seed_error else "Press Enter to use it.",
        classes=["civic-seed"],
    )
    solara.HTML(
        tag="div",
        unsafe_innerHTML=(
            "Changing a setting starts a fresh run at week 0. Now: "
            f"<b class='civic-scenario-label'>{html.escape(settings.scenario_label(values))}</b>, "
            f"seed {values['seed']}."
        ),
        classes=["civic-help"],
    )


# --- the tabs ---------------------------------------------------------------------------
@solara.component
def BackgroundSwitch(background: solara.Reactive[str], run, css: str):
    """Choose the map's background layer: civic potential or unmet need by area."""

    def choose(key):
        background.set(key)
        run.extras["background"] = key
        run.redraw()

    solara.ToggleButtonsSingle(
        value=background.value,
        on_value=choose,
        children=[solara.Button(t, value=k, text=True) for k, (t, _l, _r) in BACKGROUNDS.items()],
        classes=[css],
        dense=True,
    )


@solara.component
def PanelSwitch(run, css: str):
    """Choose the side by side's panels: need and volunteers, or care homes and carers
    (offered only when the model has them; each set keeps the 2 x 2 grid readable)."""
    which, set_which = solara.use_state(run.extras.get("panels", "need"))

    def choose(key):
        set_which(key)
        run.extras["panels"] = key
        run.redraw()

    solara.ToggleButtonsSingle(
        value=which,
        on_value=choose,
        children=[
            solara.Button(t, value=k, text=True, classes=[f"{css}-{k}"])
            for k, t in frames.PANEL_SETS.items()
        ],
        classes=[css],
        dense=True,
    )


@solara.component
def WorkshopView(head_state, live, run, pace, background, client):
    """One neighbourhood, one strategy: controls, counters, map and the live charts."""
    head: frames.Head = head_state.value
    hidden = solara.use_reactive(False)
    on_show = (lambda: hidden.set(False)) if head.results is not None and hidden.value else None
    with solara.Div(classes=["civic-view", "civic-view-workshop"]):
        with solara.Div(classes=["civic-controls-row"]):
            RunControls(control_state(head), run, pace, "civic", ".civic-view-workshop", client)
            Notice(head.notice, head.status, "civic-map-title", on_show, "civic")
        with solara.Div(classes=["civic-body"]):
            with solara.Div(classes=["civic-mapcol"]):
                LiveHtml(live[0], ["civic-mapbox"])
                with solara.Div(classes=["civic-layer"]):
                    BackgroundSwitch(background, run, "civic-background")
                    if head.colour_bar:
                        Html(head.colour_bar)
                Html(head.legend)
            LiveHtml(live[1], ["civic-chartcol"])
        ResultsCard(head.results, "civic", hidden)


@solara.component
def Notice(notice: str, status: str, css: str, on_show=None, prefix: str = "civic"):
    """The run's status line, or a notice in its place (paused, ten years up); with
    ``on_show``, a "Show results" button beside it (the results card is hidden)."""
    if not notice:
        _text(status, ["civic-title", css])
    elif on_show is None:
        _text(notice, ["civic-notice"])
    else:
        with solara.Div(classes=["civic-notice-row"]):
            _text(notice, ["civic-notice"])
            solara.Button(
                "Show results",
                on_click=on_show,
                outlined=True,
                classes=[f"{prefix}-show-results", "civic-show-results"],
            )


@solara.component
def StrategyPicker(side: int, strategies: tuple, on_strategies):
    """Choose the strategy of side A (0) or B (1) of the side-by-side view."""
    options = settings.strategy_options()

    def choose(value):
        new = list(strategies)
        new[side] = value
        on_strategies(tuple(new))

    with solara.Div(classes=["civic-side-head"]):
        solara.HTML(tag="b", unsafe_innerHTML="AB"[side] + ":", style="font-size:18px")
        solara.v.Select(
            items=[{"text": t, "value": n} for n, t, _d in options],
            v_model=strategies[side],
            on_v_model=choose,
            class_=f"civic-side-{'ab'[side]}",
            hide_details=True,
            dense=True,
        )


@solara.component
def PairView(head_state, live, run, pace, background, strategies, on_strategies, client, on_band):
    """Two strategies on one seed and preset, in lockstep, with shared panels."""
    head: frames.Head = head_state.value
    hidden = solara.use_reactive(False)
    on_show = (lambda: hidden.set(False)) if head.results is not None and hidden.value else None
    with solara.Div(classes=["civic-view", "civic-view-pair"]):
        with solara.Div(classes=["civic-controls-row"]):
            RunControls(
                control_state(head),
                run,
                pace,
                "civic-pair",
                ".civic-view-pair",
                client,
                on_band=on_band,
            )
            Notice(head.notice, head.status, "civic-pair-title", on_show, "civic-pair")
        with solara.Div(classes=["civic-pair"]):
            for side in (0, 1):
                with solara.Div(classes=["civic-side", f"civic-side-{'ab'[side]}-panel"]):
                    StrategyPicker(side, strategies, on_strategies)
                    LiveHtml(live[side], ["civic-side-body"])
            if head.care_panels:
                with solara.Div(classes=["civic-panels-col"]):
                    PanelSwitch(run, "civic-panel-set")
                    LiveHtml(live[2], ["civic-panels"])
            else:
                LiveHtml(live[2], ["civic-panels"])
            with solara.Div(classes=["civic-pair-bottom"]):
                with solara.Div(classes=["civic-layer"]):
                    BackgroundSwitch(background, run, "civic-pair-background")
                    if head.colour_bar:
                        Html(head.colour_bar)
                Html(head.legend, ["civic-pair-legend"])
        ResultsCard(head.results, "civic-pair", hidden)


@solara.component
def InfoTab():
    """Explain the model: what you see, how it works, things to notice and to try."""
    strategies = "\n".join(f"* **{t}** -- {d}" for _n, t, d in settings.strategy_options())
    scenarios = "\n".join(f"* **{t}** -- {d}" for _n, t, d in settings.scenario_options())
    text = INFO.format(strategies=strategies, scenarios=scenarios).replace(" -- ", " – ")
    with solara.Div(style={"overflow-y": "auto", "height": "100%"}):
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
  square is a street block of about 100 m. Each **dot** is an older resident:
  **vermillion** means some of the care they need is not given this week (a big dot
  with a black ring: more than half of it), **dark grey** means all their needed hours
  are met, a **grey ring** has no care need. **Green triangles** are volunteers, the
  **blue star** is the council hub, **purple** squares are cafes, pubs and shops
  (filled when they host a weekly activity), **purple diamonds** are community-owned
  assets (a closing pub bought by its neighbours), and **purple crosses** are closed
  businesses. One colour, one meaning: vermillion is always unmet need, green always
  volunteers and civic energy, blue the council and the care it buys, purple local
  businesses, yellow family care.
* **The background** shows either *civic potential* (how much untapped willingness to
  help an area has; greener is more) or *unmet need by area* (care hours a week not
  met within about 250 m; its scale is fixed for the run, so a colour means the same
  number all run long).
* **The charts**: unmet need by type (personal care only paid carers or family can give;
  low-level support such as meals, shopping and company, which volunteers and
  businesses can give), care given by who gives it, volunteers and their civic energy,
  and the council's spend. The horizontal axis is years from the start; dotted
  vertical lines mark events (a budget cut, a business shock).

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

Pick a **strategy** and a **scenario preset** in the settings panel, then press **Step
1 week**, **Play** or **To year 10**. **Reset** starts again from week 0 with the same
seed (the same neighbourhood and the same story of births, deaths and illnesses). Any
change of setting starts a fresh run; once a slider moves off the preset, the page says
"Custom (from ...)". **Keep this run** keeps the run as a grey line, so the next run
(another preset, another strategy) can be compared with it. The **Side by side** tab
runs two strategies on the same seed in lockstep, shows the gap between them, and
**Chance band** runs other seeds in the background to show how much of the gap is
chance.

The presets:

{scenarios}

## Things to notice

* Direct delivery keeps the people with the highest needs supported, but as the budget
  falls behind the growing need, eligibility tightens and more people turn vermillion.
* Under the facilitator hub, watch the green triangles: volunteers cluster where civic
  potential is high, and recruitment spreads from volunteer to neighbour.
* Personal-care need (the dark vermillion band) barely responds to volunteers;
  low-level need (the pale band) does.
* Do the vermillion dots gather in the pale areas of the civic-potential background?
* Watch civic energy: when too few volunteers carry too many matches they burn out.

## Things to try

* Run the **Side by side** on *Asset-rich* and then on *Asset-poor*: which strategy
  wins in each, and by how much? Is the gap outside the chance band?
* Move the **budget cut** slider to 5% a year. How long before the lines cross?
* Set **civic potential** to 0.1 and then 0.9 under the facilitator hub.
* Run the *Business shock* preset and look for purple diamonds after year 2.
* Change the **seed**: is the story the same, or was the first run lucky?

## Caveats

This is a model for thinking together, not a forecast. Numbers are calibrated to UK
figures where they exist and invented (and documented) where they do not; see
`docs/ODD.md`. One run is one possible story; the experiment tools (`civic-sim sweep`)
compare strategies over many seeds with confidence intervals.
"""

TABS = (("workshop", "Workshop"), ("pair", "Side by side"), ("info", "About this model"))


# --- the page ---------------------------------------------------------------------------
@solara.component
def Page():
    """Render the workshop page; every browser session gets its own runs."""
    context = solara.use_memo(session_context, [])
    client = solara.use_memo(Client, [])
    values = solara.use_reactive(settings.default_settings())
    seed_text = solara.use_reactive(str(values.value["seed"]))
    tab = solara.use_reactive("workshop")
    projector = solara.use_reactive(False)
    sidebar = solara.use_reactive(True)
    pace = solara.use_reactive(settings.DEFAULT_PACE)
    background = solara.use_reactive("civic")
    pair_background = solara.use_reactive("civic")
    strategies = solara.use_reactive(settings.default_pair())
    main_head = solara.use_reactive(frames.building_frame("workshop").head)
    pair_head = solara.use_reactive(frames.building_frame("pair").head)
    main_live = solara.use_memo(lambda: (LiveBlock(), LiveBlock()), [])
    pair_live = solara.use_memo(lambda: (LiveBlock(), LiveBlock(), LiveBlock()), [])
    pair_visited = solara.use_reactive(False)

    def connected() -> bool:
        return client.alive() and page_connected(context)

    def publisher(head_state, live):
        """Hand a frame to the page: its blocks straight to their widgets, its head to
        the components only when it changed (called by the run's worker)."""
        last = [head_state.value]

        def publish(frame: frames.Frame) -> None:
            for block, text in zip(live, frame.blocks, strict=False):
                block.update(text)
            head = frame.head
            if head != last[0]:
                last[0] = head
                head_state.set(head)

        return publish

    def make_main():
        snapshot = dict(values.value)
        run = runs.Run(
            lambda: (build_model(snapshot),),
            frames.draw_workshop,
            publisher(main_head, main_live),
            connected=connected,
            name="workshop",
        )
        run.extras.update(settings=snapshot, background=background.value)
        if context is not None:
            context.on_close(run.close)
        return run

    main = solara.use_memo(make_main, [])

    def make_pair():
        if not pair_visited.value:
            return None
        snapshot, pair = dict(values.value), tuple(strategies.value)
        run = runs.Run(
            lambda: tuple(build_model(snapshot, s) for s in pair),
            frames.draw_pair,
            publisher(pair_head, pair_live),
            connected=connected,
            name="pair",
        )
        run.extras.update(settings=snapshot, background=pair_background.value)
        run.pace = main.pace
        run.projector = projector.value
        run.set_visible(tab.value == "pair")
        if context is not None:
            context.on_close(run.close)
        return run

    pair = solara.use_memo(make_pair, [pair_visited.value])

    def closer(run):
        """An effect whose cleanup (when the page goes) stops the run and its band."""

        def effect():
            if run is None:
                return None

            def cleanup():
                band = run.extras.get("band")
                if band is not None:
                    band.cancel()
                run.close()

            return cleanup

        return effect

    solara.use_effect(closer(main), [])
    solara.use_effect(closer(pair), [pair])

    def clear_band(run):
        band = run.extras.pop("band", None)
        if band is not None:
            band.cancel()

    def rebuild_pair(snapshot, pair_strategies):
        if pair is None:
            return
        clear_band(pair)
        pair.extras["settings"] = snapshot
        pair.reset(lambda: tuple(build_model(snapshot, s) for s in pair_strategies))

    def change_settings(changes: dict):
        new = {**values.value, **changes}
        if "scenario" in changes and changes["scenario"] != values.value["scenario"]:
            new.update(settings.preset_values(changes["scenario"], new["residents"]))
        try:
            settings.model_kwargs(new)
        except ValueError as exc:  # the sliders and menus only offer allowed values
            logger.warning("setting refused: %s", exc)
            return
        values.set(new)
        snapshot = dict(new)
        main.extras["settings"] = snapshot
        main.reset(lambda: (build_model(snapshot),))
        rebuild_pair(snapshot, tuple(strategies.value))

    def change_strategies(pair_strategies):
        strategies.set(pair_strategies)
        rebuild_pair(dict(values.value), pair_strategies)

    def change_pace(label: str):
        pace.set(label)
        for run in (main, pair):
            if run is not None:
                run.pace = settings.weeks_per_second(label)

    def change_tab(key: str):
        tab.set(key)
        if key == "pair" and not pair_visited.value:
            pair_visited.set(True)
        main.set_visible(key == "workshop")
        if pair is not None:
            pair.set_visible(key == "pair")

    def change_projector(on: bool):
        projector.set(on)
        sidebar.set(not on)
        for run in (main, pair):
            if run is not None:
                run.projector = on

    def toggle_band():
        if pair is None:
            return
        band = pair.extras.get("band")
        if band is not None:
            if band.finished or band.cancelled:
                clear_band(pair)
            else:
                band.cancel()
        else:
            kwargs = settings.model_kwargs(values.value)
            pair.extras["band"] = seeds.SeedBand(
                kwargs,
                tuple(strategies.value),
                pair.horizon,
                sorted(
                    {c for c, _t in frames.PANELS + frames.OPTIONAL_PANELS}
                    | {frames.GAP_COLUMN, *frames.results.RESULT_COLUMNS}
                ),
                on_update=pair.redraw,
            )
        pair.redraw()

    solara.Title("civic-sim workshop")
    solara.Style(CSS)
    shell = ["civic-shell"] + (["civic-projector"] if projector.value else [])
    with solara.Div(classes=shell):
        with solara.Div(classes=["civic-client-box"]):
            solara.display(client)
        with solara.Div(classes=["civic-topbar"]):
            solara.Button(
                "☰ Settings",
                on_click=lambda: sidebar.set(not sidebar.value),
                text=True,
                classes=["civic-settings-toggle"],
            )
            solara.HTML(tag="span", unsafe_innerHTML="civic-sim", classes=["civic-app-title"])
            for key, label in TABS:
                solara.Button(
                    label,
                    on_click=lambda key=key: change_tab(key),
                    text=True,
                    classes=["civic-tab", f"civic-tab-{key}"]
                    + (["active"] if tab.value == key else []),
                )
            solara.v.Spacer()
            solara.Switch(
                label="Projector mode",
                value=projector.value,
                on_value=change_projector,
                classes=["civic-projector-switch"],
            )
        with solara.Div(classes=["civic-main"]):
            # always in the page (hidden when closed), so opening it never rebuilds the tab
            with solara.Div(
                classes=["civic-sidebar"] + ([] if sidebar.value else ["civic-hidden"])
            ):
                SettingsPanel(values.value, change_settings, seed_text)
            with solara.Div(classes=["civic-content"]):
                if tab.value == "workshop":
                    WorkshopView(
                        main_head, main_live, main, (pace.value, change_pace), background, client
                    )
                elif tab.value == "pair" and pair is not None:
                    PairView(
                        pair_head,
                        pair_live,
                        pair,
                        (pace.value, change_pace),
                        pair_background,
                        strategies.value,
                        change_strategies,
                        client,
                        toggle_band,
                    )
                elif tab.value == "info":
                    InfoTab()
