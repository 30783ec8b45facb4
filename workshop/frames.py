"""Frames: everything one tab shows at one moment, made from a run's models.

A frame is built by the run's worker thread (inside a scheduler slot, with the models
locked) and handed to the page, which only reads it: the counters, the pictures (SVG
strings), the legends, the results card's words. The page's components compare frames
and send the browser only what changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from workshop import drawing, results, settings, state
from workshop.drawing import SIDE_STYLES, Band, Line

#: Panels of the side-by-side view: (metric column, title). The gap panel comes last.
PANELS = (
    ("unmet_hours", "Unmet care, hours a week"),
    ("residents_with_unmet_need", "People with unmet need"),
    ("active_volunteers", "Active volunteers"),
)

#: Panels shown only when the model collects their metric (for example care homes).
OPTIONAL_PANELS = (
    ("residents_in_care_homes", "People in care homes"),
    ("carers", "Family carers"),
    ("carer_breakdowns", "Carer breakdowns a week"),
)

#: The side by side's sets of panels: each fills the 2 x 2 grid with the gap panel, so
#: chart text stays 16 px on a projector. "care" is offered only when the model collects
#: one of the optional panels' metrics.
PANEL_SETS = {"need": "Need and volunteers", "care": "Care homes and carers"}

#: The gap panel: B minus A of this column.
GAP_COLUMN = "residents_with_unmet_need"


@dataclass(frozen=True)
class Kept:
    """A kept run ("ghost line"): its weekly columns and a label, kept across settings.

    Attributes:
        label: What it was (scenario, strategies, seed).
        years: Years of its weeks.
        columns: Side (``"A"``, ``"B"``, or ``"run"``) to column name to values.
        outcomes: Side to its last-year :class:`~workshop.results.Outcome`.
    """

    label: str
    years: np.ndarray
    columns: Mapping[str, Mapping[str, np.ndarray]]
    outcomes: Mapping[str, results.Outcome]
    short: str = ""


@dataclass(frozen=True)
class Head:
    """The parts of a frame that change rarely; the page's components re-run when they do.

    Everything that changes every frame is in :attr:`Frame.blocks` instead.
    """

    kind: str
    playing: bool
    at_horizon: bool
    building: bool
    week_zero: bool
    notice: str
    status: str
    colour_bar: str
    legend: str
    results: dict | None
    kept_label: str
    band: str
    care_panels: bool = False


@dataclass(frozen=True)
class Frame:
    """What one tab shows at one moment (read-only for the page)."""

    kind: str
    week: int
    playing: bool
    at_horizon: bool
    notice: str = ""
    status: str = ""
    titles: tuple[str, ...] = ()
    counters: tuple[dict, ...] = ()
    maps: tuple[str, ...] = ()
    colour_bar: str = ""
    legend: str = ""
    charts: tuple[str, ...] = ()
    chart_legend: str = ""
    results: dict | None = None
    kept_label: str = ""
    band_status: str = ""
    #: The frame's changing parts as HTML blocks, one browser message each a frame:
    #: Workshop (counters and charts); side by side (side A, side B, the panels).
    blocks: tuple[str, ...] = ()
    #: The band over seeds: "" (none), "running" or "done".
    band: str = ""
    #: Whether the model collects care-home or carer metrics (a second set of panels).
    care_panels: bool = False
    extra: dict = field(default_factory=dict)

    @property
    def head(self) -> Head:
        """The rarely changing part of the frame."""
        return Head(
            kind=self.kind,
            playing=self.playing,
            at_horizon=self.at_horizon,
            building=self.notice.startswith("Building"),
            week_zero=self.week == 0,
            notice=self.notice,
            status=self.status,
            colour_bar=self.colour_bar,
            legend=self.legend,
            results=self.results,
            kept_label=self.kept_label,
            band=self.band,
            care_panels=self.care_panels,
        )


def building_frame(kind: str) -> Frame:
    """The frame shown while a run's models are being built."""
    return Frame(
        kind=kind,
        week=0,
        playing=False,
        at_horizon=False,
        notice="Building the neighbourhood…",
        blocks=("", "") if kind == "workshop" else ("", "", ""),
    )


def _scale(run, model, background: str) -> float:
    """The fixed top of the background's colour bar for this run."""
    if background == "civic":
        return 1.0
    key = (id(model), model.p.seed)
    cached = run.extras.get("unmet_scale")
    if cached and cached[0] == key:
        return cached[1]
    if model.steps < 1:
        return 10.0  # nothing is unmet before the first week
    vmax = state.unmet_scale(model)
    run.extras["unmet_scale"] = (key, vmax)
    return vmax


def _has_care_homes(model) -> bool:
    return getattr(model.residents, "in_care_home", None) is not None


def _status(s: Mapping[str, object], strategy: str | None = None) -> str:
    parts = []
    if strategy is not None:
        parts.append(settings.strategy_title(strategy))
    parts += [settings.scenario_label(s), f"seed {s['seed']}"]
    return " · ".join(parts)


CHART_COLUMNS = sorted(
    {c for chart in drawing.CHARTS for c in chart.columns} | set(results.RESULT_COLUMNS)
)


def draw_workshop(run) -> Frame:
    """The Workshop tab's frame: one model's counters, map, legend and four charts."""
    if not run.models:
        return building_frame("workshop")
    model = run.models[0]
    s = run.extras.get("settings") or settings.default_settings()
    background = run.extras.get("background", "civic")
    view = state.neighbourhood(model, background)
    vmax = _scale(run, model, background)
    years, columns = state.weekly(model, CHART_COLUMNS)
    events = state.events(model.p)
    kept: Kept | None = run.extras.get("kept")
    charts = tuple(
        drawing.svg_chart(
            chart,
            years,
            columns,
            horizon_years=run.horizon / 52,
            kept=kept.columns["run"] if kept else None,
            kept_years=kept.years if kept else None,
            kept_label="kept: " + kept.label if kept else "",
            events=events,
        )
        for chart in drawing.charts_for(model.datacollector.model_vars)
    )
    status = _status(s, model.p.strategy)
    maps = (drawing.svg_map(view, vmax, status),)
    card = None
    if run.at_horizon:
        mine = results.outcome(status, model.steps, columns)
        first = results.outcome("year 1", 52, {k: v[:52] for k, v in columns.items()})
        rows = [("This run", mine), ("Its first year", first)]
        sentences = []
        if kept is not None and "run" in kept.outcomes:
            rows.insert(1, ("Kept: " + kept.label, kept.outcomes["run"]))
            sentences = results.gap_sentences(
                kept.outcomes["run"], mine, "the kept run", "This run"
            )
        card = {"heading": f"After ten years · {status}", "rows": rows, "sentences": sentences}
    return Frame(
        kind="workshop",
        week=int(model.steps),
        playing=run.playing,
        at_horizon=run.at_horizon,
        notice=run.notice,
        status=status,
        titles=(status,),
        counters=(state.counters(model),),
        maps=maps,
        colour_bar=drawing.colour_bar_html(background, vmax),
        legend=drawing.legend_html(view.counts["not_assessed"] > 0, _has_care_homes(model)),
        charts=charts,
        results=card,
        kept_label=kept.label if kept else "",
        blocks=(
            maps[0],
            drawing.counters_html(state.counters(model), run.horizon // 52)
            + drawing.charts_html(charts),
        ),
    )


def keep_workshop(run) -> None:
    """Keep the Workshop tab's run as a ghost line (a :class:`Kept` in ``run.extras``)."""
    if not run.models:
        return
    model = run.models[0]
    s = run.extras.get("settings") or settings.default_settings()
    years, columns = state.weekly(model, CHART_COLUMNS)
    label = _status(s, model.p.strategy) + f", week {model.steps}"
    run.extras["kept"] = Kept(
        label=label,
        years=years,
        columns={"run": columns},
        short=label,
        outcomes={"run": results.outcome(label, model.steps, columns)} if model.steps else {},
    )


def optional_columns(model) -> list[tuple[str, str]]:
    """The optional panels (care homes, carers) whose metric this model collects."""
    collected = model.datacollector.model_vars
    return [(c, t) for c, t in OPTIONAL_PANELS if c in collected]


def pair_columns(model, which: str = "need") -> list[tuple[str, str]]:
    """The side-by-side panels of one of :data:`PANEL_SETS` that this model can fill
    (the need panels when the model has none of the care panels' metrics)."""
    if which not in PANEL_SETS:
        raise ValueError(f"panels must be one of {', '.join(PANEL_SETS)}, not {which!r}")
    optional = optional_columns(model)
    return optional if which == "care" and optional else list(PANELS)


def draw_pair(run) -> Frame:
    """The side-by-side frame: two maps, their counters, the panels and the results."""
    if not run.models:
        return building_frame("pair")
    a, b = run.models
    s = run.extras.get("settings") or settings.default_settings()
    background = run.extras.get("background", "civic")
    names = [settings.strategy_title(m.p.strategy) for m in run.models]
    labels = {"A": f"A: {names[0]}", "B": f"B: {names[1]}"}
    views = [state.neighbourhood(m, background) for m in run.models]
    vmax = _scale(run, a, background)
    panels = pair_columns(a, run.extras.get("panels", "need"))
    wanted = sorted({c for c, _t in panels} | set(results.RESULT_COLUMNS))
    (years, cols_a), (_y, cols_b) = state.weekly(a, wanted), state.weekly(b, wanted)
    events = state.events(a.p)
    kept: Kept | None = run.extras.get("kept")
    band = run.extras.get("band")
    horizon = run.horizon / 52
    band_years = np.arange(1, run.horizon + 1) / 52.0
    height = 236.0  # a set of panels and the gap fill two rows of two
    svgs = []
    for column, title in panels:
        lines = []
        if kept is not None and column in kept.columns["A"]:
            for side in ("A", "B"):
                st = SIDE_STYLES["kept " + side]
                lines.append(
                    Line(
                        kept.years,
                        kept.columns[side][column],
                        "kept " + side,
                        st["stroke"],
                        st["width"],
                        st["dash"],
                        css="kept-line",
                    )
                )
        for side, cols in (("A", cols_a), ("B", cols_b)):
            st = SIDE_STYLES[side]
            lines.append(
                Line(
                    years,
                    cols[column],
                    labels[side],
                    st["stroke"],
                    st["width"],
                    st["dash"],
                    css=f"side-{side}",
                )
            )
        bands = []
        if band is not None:
            for k, strategy in enumerate(band.strategies):
                found = band.range(strategy, column)
                if found is not None:
                    bands.append(
                        Band(
                            band_years[: len(found[0])],
                            *found,
                            f"band {'AB'[k]}",
                            css=f"band-{'AB'[k]}",
                        )
                    )
        svgs.append(
            drawing.svg_panel(
                title, lines, bands=bands, horizon_years=horizon, events=events, height=height
            )
        )
    # the gap panel: B minus A
    gap_lines = []
    if kept is not None and GAP_COLUMN in kept.columns["A"]:
        gap_lines.append(
            Line(
                kept.years,
                kept.columns["B"][GAP_COLUMN] - kept.columns["A"][GAP_COLUMN],
                "kept",
                drawing.pal.GREY_MID,
                3.0,
                "2 5",
                css="kept-line",
            )
        )
    gap_lines.append(
        Line(
            years,
            cols_b[GAP_COLUMN] - cols_a[GAP_COLUMN],
            "B − A",
            drawing.pal.BLACK,
            3.5,
            css="gap-line",
        )
    )
    gap_bands = []
    if band is not None:
        found = band.difference_range(GAP_COLUMN)
        if found is not None:
            gap_bands.append(Band(band_years[: len(found[0])], *found, "band", css="band-gap"))
    svgs.append(
        drawing.svg_panel(
            "Gap: B − A, people",
            gap_lines,
            bands=gap_bands,
            horizon_years=horizon,
            events=events,
            zero_line=True,
            note="above 0: B worse",
            css="civic-compare civic-gap",
            height=height,
        )
    )
    band_status = ""
    if band is not None:
        band_status = (
            f"other seeds: {band.done} of {len(band.seeds)} done"
            if not band.finished
            else f"10–90% range over {len(band.seeds)} other seeds"
        )
        if band.failed:
            band_status = "Band stopped: " + band.failed
    status = _status(s)
    maps = tuple(
        drawing.svg_map(v, vmax, t, uid=f"map-{side}")
        for v, t, side in zip(views, labels.values(), "ab", strict=True)
    )
    legend_html = drawing.side_legend_html(
        labels,
        kept="kept: " + kept.short if kept else "",
        band=band_status if band is not None else "",
    )
    card = None
    if run.at_horizon:
        out_a = results.outcome(labels["A"], a.steps, cols_a)
        out_b = results.outcome(labels["B"], b.steps, cols_b)
        rows = [(labels["A"], out_a), (labels["B"], out_b)]
        sentences = results.gap_sentences(out_a, out_b)
        if kept is not None and {"A", "B"} <= set(kept.outcomes):
            ka, kb = kept.outcomes["A"], kept.outcomes["B"]
            sentences.append(
                f"In the kept run ({kept.label}) the gap was {kb.people - ka.people:+,.0f} "
                f"people and {kb.hours - ka.hours:+,.0f} hours a week; now it is "
                f"{out_b.people - out_a.people:+,.0f} people and "
                f"{out_b.hours - out_a.hours:+,.0f} hours."
            )
        if band is not None and band.done >= 2:
            sentences.append(results.chance_sentence(band.last_year_differences(GAP_COLUMN)))
        elif band is None:
            sentences.append("Chance band runs other seeds: is this gap the strategy or luck?")
        card = {"heading": f"After ten years · {status}", "rows": rows, "sentences": sentences}
    return Frame(
        kind="pair",
        week=int(a.steps),
        playing=run.playing,
        at_horizon=run.at_horizon,
        notice=run.notice,
        status=status,
        titles=(labels["A"], labels["B"]),
        counters=tuple(state.counters(m) for m in run.models),
        maps=maps,
        colour_bar=drawing.colour_bar_html(background, vmax),
        legend=drawing.legend_html(
            any(v.counts["not_assessed"] > 0 for v in views), _has_care_homes(a)
        ),
        charts=tuple(svgs),
        chart_legend=legend_html,
        results=card,
        kept_label=kept.label if kept else "",
        band_status=band_status,
        band="" if band is None else ("done" if band.finished or band.cancelled else "running"),
        care_panels=bool(optional_columns(a)),
        blocks=(
            *(
                drawing.small_counters_html(state.counters(m), f"civic-side-{side}-counters")
                + f'<div class="civic-mapbox">{svg}</div>'
                for side, m, svg in zip("ab", run.models, maps, strict=True)
            ),
            drawing.charts_html(svgs) + legend_html,
        ),
    )


def keep_pair(run) -> None:
    """Keep the side-by-side run as ghost lines (a :class:`Kept` in ``run.extras``)."""
    if not run.models:
        return
    a, b = run.models
    s = run.extras.get("settings") or settings.default_settings()
    columns = PANELS + tuple(optional_columns(a))
    wanted = sorted({c for c, _t in columns} | set(results.RESULT_COLUMNS))
    (years, cols_a), (_y, cols_b) = state.weekly(a, wanted), state.weekly(b, wanted)
    label = f"{settings.scenario_label(s)}, seed {s['seed']}, week {a.steps}"
    outcomes = {}
    if a.steps:
        outcomes = {
            "A": results.outcome("A", a.steps, cols_a),
            "B": results.outcome("B", b.steps, cols_b),
        }
    run.extras["kept"] = Kept(
        label, years, {"A": cols_a, "B": cols_b}, outcomes, short=settings.scenario_label(s)
    )


def pair_csv(run) -> str:
    """Both strategies' weekly metrics in one CSV (a ``side`` and ``strategy`` column)."""
    import pandas as pd

    frames = []
    for side, model in zip("AB", run.models, strict=True):
        frame = model.metrics_frame()
        frame.insert(0, "strategy", model.p.strategy)
        frame.insert(0, "side", side)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True).to_csv(index=False, float_format="%.6g")
