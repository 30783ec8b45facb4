"""Read-only views of a running model for the workshop page (``app.py``).

Helpers here turn model state into what the page shows: the neighbourhood map (who is
where, coloured by unmet need), the live charts (weekly metrics grouped by theme), the
counters, the workshop controls (sliders with plain-language labels and units, built
from :data:`model.parameters.PARAMETER_FIELDS`) and the pictures of all of these.

Nothing here changes a model or holds a rule of the model: every number shown is read
from the model's arrays or from its metrics table (``model.metrics_frame()``). Strategy
and scenario lists come from the registries, so a newly registered strategy or scenario
(for example from a plugin) appears on the page without edits here.

Pictures are plain SVG strings (the map's background layer is a small embedded PNG):
a week's redraw costs a few milliseconds, stays sharp on any projector, needs nothing
from the internet, and shares no drawing state between browser sessions. Only
Matplotlib's colour maps are used.
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from matplotlib.colors import LinearSegmentedColormap
from PIL import Image
from scipy import ndimage

from agents import resident
from model.parameters import PARAMETER_FIELDS, Parameters
from model.scenarios import get_scenario, scenario_names
from model.strategies import strategy_classes

#: Residents at the default workshop size: about a 40 x 40 grid of street blocks.
WORKSHOP_RESIDENTS = 800

#: Share of a resident's needed hours unmet above which they count as "most unmet".
MOSTLY_UNMET = 0.5

# --- resident categories on the map -------------------------------------------------------
NO_NEED, NEED_MET, SOME_UNMET, MOST_UNMET, NOT_ASSESSED, IN_CARE_HOME = 0, 1, 2, 3, 4, 5

#: Map colour categories of residents: (label, colour, marker area; radius ~ its root).
#: Colours are from the Okabe-Ito palette (readable with colour-blindness). "Not yet
#: assessed" only appears before the first week of a model built without a burn-in.
RESIDENT_CATEGORIES = (
    ("No care need", "#9a9a9a", 9.0),
    ("Care need fully met", "#0072B2", 30.0),
    ("Some need unmet", "#E69F00", 42.0),
    (f"More than {MOSTLY_UNMET:.0%} of need unmet", "#C0002A", 56.0),
    ("Care need, not yet assessed (week 0)", "#333333", 30.0),
    ("Living in a care home", "#CC79A7", 20.0),
)

#: Background layers of the map: key -> (title, colour-bar label).
BACKGROUNDS = {
    "civic": ("Civic potential", "Civic potential (0 none - 1 very high)"),
    "unmet": ("Unmet need by area", "Unmet care hours a week per block, smoothed"),
}

#: Spread (cells of about 100 m) over which "unmet need by area" is smoothed.
AREA_SMOOTHING = 1.5

_CIVIC_CMAP = LinearSegmentedColormap.from_list("civic", ["#ffffff", "#7fbf7b", "#1b7837"])
_UNMET_CMAP = LinearSegmentedColormap.from_list("unmet", ["#ffffff", "#c2a5cf", "#762a83"])


# --- the neighbourhood ----------------------------------------------------------------------
@dataclass
class NeighbourhoodView:
    """Everything the neighbourhood map draws, as plain arrays.

    Attributes:
        width: Grid width in cells.
        height: Grid height in cells.
        week: Weeks run so far.
        resident_xy: Resident positions (n x 2, jittered inside their home cell).
        resident_category: NO_NEED, NEED_MET, SOME_UNMET, MOST_UNMET, NOT_ASSESSED or
            IN_CARE_HOME
            per resident (see :func:`resident_categories`).
        volunteer_xy: Active volunteer positions (m x 2).
        hub_xy: Council hub positions (cell centres).
        business_xy: Business positions (cell centres), open and not community-owned.
        business_hosts: Whether each of those businesses hosts a weekly activity.
        closed_xy: Positions of closed businesses.
        asset_xy: Positions of open community-owned assets.
        background: Background layer, shape (width, height), indexed [x, y].
        background_key: Which layer (a key of :data:`BACKGROUNDS`).
        counts: How many residents in each category, volunteers, businesses, assets
            and closed businesses (for captions and tests).
    """

    width: int
    height: int
    week: int
    resident_xy: np.ndarray
    resident_category: np.ndarray
    volunteer_xy: np.ndarray
    hub_xy: np.ndarray
    business_xy: np.ndarray
    business_hosts: np.ndarray
    closed_xy: np.ndarray
    asset_xy: np.ndarray
    background: np.ndarray
    background_key: str = "civic"
    counts: dict[str, int] = field(default_factory=dict)


def _jitter(ids: np.ndarray, salt: float) -> np.ndarray:
    """Return a stable offset in [0.15, 0.85) per id, so dots stay put week to week."""
    frac = np.mod(np.asarray(ids, dtype=np.float64) * 0.6180339887498949 + salt, 1.0)
    return 0.15 + 0.7 * frac


def resident_unmet(model) -> tuple[np.ndarray, np.ndarray]:
    """Needed and unmet hours this week of each live resident (in slot order).

    Returns:
        (need, unmet) arrays over ``model.residents.live``.
    """
    r = model.residents
    live = r.live
    personal, low = resident.unmet_hours(
        r.need_personal[live], r.need_low[live], r.fam_personal[live], r.fam_low[live],
        r.paid_personal[live], r.vol_low[live], r.biz_low[live],
    )  # fmt: skip
    return r.need_personal[live] + r.need_low[live], personal + low


def resident_categories(model) -> np.ndarray:
    """Map category of each live resident (in slot order).

    NO_NEED, NEED_MET (every needed hour met this week), SOME_UNMET, MOST_UNMET (more
    than :data:`MOSTLY_UNMET` of the hours unmet), IN_CARE_HOME (the home meets their
    need), or NOT_ASSESSED: a need level above 0 but no hours worked out yet (before the
    first week of a model built without a burn-in).
    """
    r = model.residents
    need, unmet = resident_unmet(model)
    share = np.divide(unmet, need, out=np.zeros_like(need), where=need > 0)
    category = np.where(need > 0, NEED_MET, NO_NEED)
    category = np.where((need <= 0) & (r.level[r.live] > 0), NOT_ASSESSED, category)
    category = np.where(r.in_care_home[r.live], IN_CARE_HOME, category)
    category = np.where(unmet > 1e-9, SOME_UNMET, category)
    category = np.where(share > MOSTLY_UNMET, MOST_UNMET, category)
    return category.astype(np.int8)


def area_unmet(model, smoothing: float = AREA_SMOOTHING) -> np.ndarray:
    """Return unmet care hours a week per cell, smoothed over neighbouring blocks.

    Reads the model's ``unmet_need`` property layer (hours unmet per cell this week) and
    spreads it with a Gaussian of ``smoothing`` cells; the total is kept (edges aside).
    """
    cells = np.asarray(model.grid.unmet_need.data, dtype=float)
    if smoothing <= 0:
        return cells
    return ndimage.gaussian_filter(cells, sigma=smoothing, mode="constant")


def neighbourhood(model, background: str = "civic") -> NeighbourhoodView:
    """Collect the neighbourhood map's data from a model.

    Args:
        model: A ``CivicModel``.
        background: ``"civic"`` (civic potential) or ``"unmet"`` (unmet need by area).

    Raises:
        ValueError: For an unknown background name.
    """
    if background not in BACKGROUNDS:
        raise ValueError(f"background must be one of {', '.join(BACKGROUNDS)}, got {background!r}")
    width, height = model.grid.dimensions
    r, v, b = model.residents, model.volunteers, model.businesses
    rl, vl, bl = r.live, v.live, b.live
    ids = r.person_id[rl]
    resident_xy = np.column_stack([r.x[rl] + _jitter(ids, 0.0), r.y[rl] + _jitter(ids, 0.37)])
    volunteer_xy = np.column_stack(
        [v.x[vl] + _jitter(vl * 7 + 3, 0.11), v.y[vl] + _jitter(vl * 7 + 3, 0.71)]
    )
    is_open = b.open[bl]
    owned = b.community_owned[bl]
    plain = is_open & ~owned
    bxy = np.column_stack([b.x[bl] + 0.5, b.y[bl] + 0.5]).astype(float)
    layer = np.asarray(model.civic, dtype=float) if background == "civic" else area_unmet(model)
    category = resident_categories(model)
    return NeighbourhoodView(
        width=int(width),
        height=int(height),
        week=int(model.steps),
        resident_xy=resident_xy,
        resident_category=category,
        volunteer_xy=volunteer_xy,
        hub_xy=np.asarray(model.hub_xy, dtype=float).reshape(-1, 2) + 0.5,
        business_xy=bxy[plain],
        business_hosts=b.hosts[bl][plain],
        closed_xy=bxy[~is_open],
        asset_xy=bxy[is_open & owned],
        background=layer,
        background_key=background,
        counts={
            "residents": int(rl.size),
            "no_need": int((category == NO_NEED).sum()),
            "need_met": int((category == NEED_MET).sum()),
            "some_unmet": int((category == SOME_UNMET).sum()),
            "most_unmet": int((category == MOST_UNMET).sum()),
            "not_assessed": int((category == NOT_ASSESSED).sum()),
            "in_care_home": int((category == IN_CARE_HOME).sum()),
            "volunteers": int(vl.size),
            "businesses": int(plain.sum()),
            "assets": int((is_open & owned).sum()),
            "closed": int((~is_open).sum()),
        },
    )


# --- charts ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Series:
    """One line or band of a chart: a metric column, its label and colour."""

    column: str
    label: str
    colour: str


@dataclass(frozen=True)
class Chart:
    """A live chart: title, y-axis label, the series, and how to draw them.

    Attributes:
        title: Plain-language title.
        ylabel: Axis label with units.
        series: The metric columns drawn.
        stacked: Draw as stacked bands (parts of a whole) rather than lines.
        secondary: An optional series drawn on a right-hand axis (0-1 scale).
        secondary_label: Right-hand axis label.
    """

    title: str
    ylabel: str
    series: tuple[Series, ...]
    stacked: bool = False
    secondary: Series | None = None
    secondary_label: str = ""


#: The four live charts of the workshop page.
CHARTS = (
    Chart(
        "Unmet care need",
        "hours a week",
        (
            Series("unmet_personal_hours", "Personal care", "#C0002A"),
            Series("unmet_low_level_hours", "Low-level support", "#E69F00"),
        ),
        stacked=True,
    ),
    Chart(
        "Care given, by who gives it",
        "hours a week",
        (
            Series("met_hours_family", "Family", "#999999"),
            Series("met_hours_paid", "Paid carers", "#0072B2"),
            Series("met_hours_volunteer", "Volunteers", "#009E73"),
            Series("met_hours_business", "Businesses", "#CC79A7"),
        ),
        stacked=True,
    ),
    Chart(
        "Volunteers and their civic energy",
        "active volunteers",
        (Series("active_volunteers", "Active volunteers", "#009E73"),),
        secondary=Series("mean_civic_energy", "Mean civic energy", "#444444"),
        secondary_label="civic energy (0-1)",
    ),
    Chart(
        "Council spend, by line",
        "GBP a week",
        (
            Series("spend_paid_care", "Paid care", "#0072B2"),
            Series("spend_coordinators", "Coordinators", "#56B4E9"),
            Series("spend_volunteer_support", "Volunteer support", "#009E73"),
            Series("spend_outreach", "Outreach", "#F0C400"),
            Series("spend_grants", "Grants", "#CC79A7"),
        ),
        stacked=True,
    ),
)


def chart_data(frame: pd.DataFrame, chart: Chart) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Years since the start (x) and each series' values for one chart.

    Columns missing from the frame (a metric renamed or not yet collected) are zeros.
    """
    n = len(frame)
    steps = frame["step"].to_numpy(float) if "step" in frame else np.arange(1, n + 1, dtype=float)
    years = steps / 52.0
    wanted = list(chart.series) + ([chart.secondary] if chart.secondary else [])
    values = {
        s.column: (frame[s.column].to_numpy(float) if s.column in frame else np.zeros(n))
        for s in wanted
    }
    return years, values


# --- counters -------------------------------------------------------------------------------
def counters(model) -> dict[str, object]:
    """Return the numbers shown above the map: week, year and the latest metrics.

    Values that only exist after a week has run (unmet need, spend) are ``None`` at week 0.
    """
    frame = model.datacollector.model_vars
    # before the first week the collector holds only the initial state, not a week's values
    last = {k: v[-1] for k, v in frame.items() if v} if model.steps > 0 else {}
    week = int(model.steps)
    return {
        "week": week,
        "year": 1 + (max(week, 1) - 1) // 52,
        "residents": int(model.residents.count),
        "volunteers": int(model.volunteers.count),
        "residents_with_unmet_need": last.get("residents_with_unmet_need"),
        "share_with_unmet_need": last.get("share_with_unmet_need"),
        "unmet_hours": last.get("unmet_hours"),
        "spend_total": last.get("spend_total"),
        "budget": last.get("budget"),
    }


def format_money(value: float | None) -> str:
    """Format GBP with separators (``"£12,345"``), or a dash before the first week."""
    if value is None or not math.isfinite(value):
        return "–"
    return f"£{value:,.0f}"


def format_count(value: float | None) -> str:
    """Format a whole number with separators, or a dash before the first week."""
    if value is None or not math.isfinite(value):
        return "–"
    return f"{value:,.0f}"


# --- controls -------------------------------------------------------------------------------
@dataclass(frozen=True)
class SliderSpec:
    """A workshop slider for one model parameter.

    Attributes:
        name: Parameter name (a key of ``PARAMETER_FIELDS``).
        label: Plain-language label.
        min: Lowest value on the slider (within the parameter's allowed range).
        max: Highest value on the slider.
        step: Slider step.
        kind: ``"percent"`` (shown as % a year), ``"times"`` (x today's), ``"share"``
            (0-1) or ``"count"`` (whole number).
        help: One line from the parameter's documentation.
        unit: The parameter's unit.
    """

    name: str
    label: str
    min: float
    max: float
    step: float
    kind: str
    help: str = ""
    unit: str = ""

    @property
    def is_int(self) -> bool:
        """Whether the parameter takes whole numbers."""
        return self.kind == "count"

    def format(self, value: float) -> str:
        """Return the value in plain words with its unit."""
        if self.kind == "percent":
            return f"{value * 100:+.1f}% a year" if value < 0 else f"{value * 100:.1f}% a year"
        if self.kind == "times":
            return f"{value:.2f} × today's"
        if self.kind == "share":
            return f"{value:.2f} (0 none – 1 very high)"
        return f"{int(value):,} {self.unit}".strip()


# name, label, workshop min, max, step, kind (clamped to the parameter's allowed range)
_SLIDERS = (
    ("budget_scale", "Council care budget", 0.25, 2.0, 0.05, "times"),
    ("budget_cut_rate", "Budget cut each year (real terms)", -0.02, 0.10, 0.005, "percent"),
    ("older_growth_rate", "Growth of the older population", 0.0, 0.05, 0.0025, "percent"),
    ("civic_potential", "Civic potential of the neighbourhood", 0.0, 1.0, 0.05, "share"),
    ("residents", "Older residents (65+) at the start", 200, 3000, 100, "count"),
)


def slider_specs() -> list[SliderSpec]:
    """Return the workshop sliders, with ranges inside each parameter's allowed range."""
    specs = []
    for name, label, lo, hi, step, kind in _SLIDERS:
        meta = PARAMETER_FIELDS[name].metadata
        if meta["lo"] is not None:
            lo = max(lo, meta["lo"])
        if meta["hi"] is not None:
            hi = min(hi, meta["hi"])
        specs.append(
            SliderSpec(name, label, lo, hi, step, kind, help=meta["doc"], unit=meta["unit"])
        )
    return specs


SLIDER_NAMES = tuple(s[0] for s in _SLIDERS)


def strategy_options() -> list[tuple[str, str, str]]:
    """(name, title, description) of every registered strategy."""
    return [
        (name, cls.title or name, cls.description or (cls.__doc__ or "").strip())
        for name, cls in strategy_classes().items()
    ]


def scenario_options() -> list[tuple[str, str, str]]:
    """(name, title, description) of every registered scenario preset."""
    out = []
    for name in scenario_names():
        s = get_scenario(name)
        out.append((name, s.title or name, s.description))
    return out


def default_settings() -> dict[str, object]:
    """Workshop start settings: baseline preset, direct delivery, 800 residents, seed 1."""
    settings: dict[str, object] = {"strategy": "direct", "scenario": "baseline", "seed": 1}
    names = [n for n, _t, _d in strategy_options()]
    if "direct" not in names and names:
        settings["strategy"] = names[0]
    settings.update(preset_values("baseline", residents=WORKSHOP_RESIDENTS))
    return settings


def preset_values(scenario: str, residents: int = WORKSHOP_RESIDENTS) -> dict[str, object]:
    """Slider values a scenario preset implies: its own values, else the defaults.

    ``residents`` is kept as given unless the preset sets it.
    """
    preset = get_scenario(scenario).values
    values: dict[str, object] = {}
    for name in SLIDER_NAMES:
        if name in preset:
            values[name] = preset[name]
        elif name == "residents":
            values[name] = int(residents)
        else:
            values[name] = PARAMETER_FIELDS[name].default
    return values


def model_kwargs(settings: Mapping[str, object]) -> dict[str, object]:
    """Keyword arguments for ``CivicModel`` from the page's settings (validated).

    Raises:
        ValueError: Naming the parameter and what is allowed, for a bad value.
    """
    kwargs = {k: settings[k] for k in ("strategy", "scenario", "seed", *SLIDER_NAMES)}
    Parameters.resolve(**dict(kwargs))  # one clear ValueError before any building
    return kwargs


# --- pictures (SVG) -----------------------------------------------------------------------
# The page draws with plain SVG built here rather than Matplotlib: a week's redraw costs a
# few milliseconds on the server instead of hundreds, the pictures stay sharp at any
# projector resolution, and nothing has to be fetched from the internet (Solara's Altair
# component loads Vega from a CDN path that solara-assets does not hold).

_FONT = "font-family:Roboto,Helvetica,Arial,sans-serif"


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _colour_hex(rgba) -> str:
    r, g, b = (int(round(255 * c)) for c in rgba[:3])
    return f"#{r:02x}{g:02x}{b:02x}"


def _layer_png(values: np.ndarray, cmap, vmax: float) -> str:
    """Encode the background layer as a base64 PNG (one pixel per cell, north up)."""
    scaled = np.clip(np.asarray(values, dtype=float) / vmax if vmax > 0 else 0.0, 0.0, 1.0)
    rgba = (cmap(np.flipud(scaled.T)) * 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(rgba, mode="RGBA").save(buf, format="PNG", compress_level=1)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def nice_ticks(hi: float, n: int = 5) -> list[float]:
    """About ``n`` round tick values from 0 to at least ``hi`` (1, 2, 2.5 or 5 x 10^k)."""
    if not math.isfinite(hi) or hi <= 0:
        return [0.0, 1.0]
    raw = hi / max(1, n - 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    count = int(math.ceil(hi / step - 1e-9))
    return [round(i * step, 10) for i in range(count + 1)]


def _tick_label(value: float) -> str:
    if value >= 10000:
        return f"{value / 1000:,.0f}k"
    if value >= 1000:
        return f"{value / 1000:,.1f}k".replace(".0k", "k")
    if value == int(value):
        return f"{int(value)}"
    return f"{value:g}"


def _marker(
    kind: str, x: float, y: float, size: float, fill: str, stroke: str, width: float
) -> str:
    """One map marker as an SVG element (x, y in SVG units; size is the half-width)."""
    style = f'fill="{fill}" stroke="{stroke}" stroke-width="{width}"'
    if kind == "circle":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{size:.1f}" {style}/>'
    if kind == "triangle":
        h = size * 1.15
        return (
            f'<path d="M{x:.1f} {y - h:.1f}L{x + size:.1f} {y + h * 0.75:.1f}'
            f'L{x - size:.1f} {y + h * 0.75:.1f}Z" {style}/>'
        )
    if kind == "square":
        return (
            f'<rect x="{x - size:.1f}" y="{y - size:.1f}" width="{2 * size:.1f}" '
            f'height="{2 * size:.1f}" {style}/>'
        )
    if kind == "diamond":
        return (
            f'<path d="M{x:.1f} {y - size:.1f}L{x + size:.1f} {y:.1f}L{x:.1f} '
            f'{y + size:.1f}L{x - size:.1f} {y:.1f}Z" {style}/>'
        )
    if kind == "cross":
        return (
            f'<path d="M{x - size:.1f} {y - size:.1f}L{x + size:.1f} {y + size:.1f}'
            f'M{x - size:.1f} {y + size:.1f}L{x + size:.1f} {y - size:.1f}" '
            f'fill="none" stroke="{stroke}" stroke-width="{width}"/>'
        )
    if kind == "star":
        pts = []
        for k in range(10):
            radius = size if k % 2 == 0 else size * 0.45
            angle = -math.pi / 2 + k * math.pi / 5
            pts.append(f"{x + radius * math.cos(angle):.1f},{y + radius * math.sin(angle):.1f}")
        return f'<polygon points="{" ".join(pts)}" {style}/>'
    raise ValueError(f"unknown marker {kind!r}")


#: Map markers other than residents: key -> (label, marker, half-size, fill, stroke, width).
MAP_MARKERS = {
    "volunteer": ("Volunteer", "triangle", 5.0, "#00503a", "#ffffff", 1.0),
    "hub": ("Council hub", "star", 17.0, "#000000", "#ffffff", 1.5),
    "hosting": ("Business hosting an activity", "square", 6.0, "#6a3d9a", "#000000", 1.0),
    "business": ("Business (no activity)", "square", 5.5, "#ffffff", "#6a3d9a", 2.5),
    "asset": ("Community-owned asset", "diamond", 9.0, "#FFD700", "#000000", 2.0),
    "closed": ("Closed business", "cross", 5.0, "none", "#555555", 2.5),
}

#: SVG units per grid cell on the map.
CELL = 15.0


def map_legend_items(view: NeighbourhoodView | None = None) -> list[tuple[str, str]]:
    """Legend entries as (label, small SVG icon); "not yet assessed" only when shown."""
    items = []
    for code, (label, colour, msize) in enumerate(RESIDENT_CATEGORIES):
        if code == NOT_ASSESSED and (view is None or view.counts.get("not_assessed", 0) == 0):
            continue
        r = _resident_radius(msize)
        icon = _marker("circle", 12, 12, r, colour, "#ffffff", 0.8)
        items.append((label, icon))
    for label, kind, size, fill, stroke, width in MAP_MARKERS.values():
        icon = _marker(kind, 12, 12, min(size, 10.0), fill, stroke, width)
        items.append((label, icon))
    return items


def _resident_radius(msize: float) -> float:
    return math.sqrt(msize) * 0.62


def legend_html(view: NeighbourhoodView | None = None) -> str:
    """Build the map legend as HTML (text keeps the page's font size on any screen).

    Residents by unmet need first, then volunteers, hubs, businesses and community-owned
    assets; "not yet assessed" only when the map shows it.
    """
    items = []
    for label, icon in map_legend_items(view):
        items.append(
            '<span class="civic-legend-item"><svg width="24" height="24" viewBox="0 0 24 24" '
            f'aria-hidden="true">{icon}</svg>{_esc(label)}</span>'
        )
    return f'<div class="civic-legend">{"".join(items)}</div>'


def svg_neighbourhood(view: NeighbourhoodView, title: str = "") -> str:
    """Draw the neighbourhood map as an SVG string (scales to its container's width).

    Residents are dots coloured by unmet need; volunteers, hubs, businesses and
    community-owned assets have their own markers (see :func:`svg_legend`); the
    background is the chosen layer with its colour bar on the right.
    """
    w, h = view.width * CELL, view.height * CELL
    top = 40.0 if title else 12.0
    bar_x = w + 16.0
    total_w = w + 118.0
    total_h = h + top + 8.0
    if view.background_key == "civic":
        cmap, vmax = _CIVIC_CMAP, 1.0
    else:
        vmax = float(nice_ticks(max(10.0, float(np.max(view.background, initial=0.0))))[-1])
        cmap = _UNMET_CMAP
    parts = [
        f'<svg class="civic-map" data-week="{view.week}" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {total_w:.0f} {total_h:.0f}" width="100%" role="img" '
        f'aria-label="{_esc(title or "Neighbourhood map")}" style="{_FONT}">'
    ]
    if title:
        parts.append(
            f'<text x="0" y="29" font-size="28" font-weight="bold" fill="#111">{_esc(title)}</text>'
        )
    parts.append(f'<g transform="translate(0,{top:.0f})">')
    png = _layer_png(view.background, cmap, vmax)
    parts.append(
        f'<image x="0" y="0" width="{w:.0f}" height="{h:.0f}" preserveAspectRatio="none" '
        f'style="image-rendering:pixelated" opacity="0.8" '
        f'href="data:image/png;base64,{png}"/>'
    )
    parts.append(
        f'<rect x="0" y="0" width="{w:.0f}" height="{h:.0f}" fill="none" '
        'stroke="#333" stroke-width="1.5"/>'
    )

    def sx(x):
        return x * CELL

    def sy(y):
        return h - y * CELL

    xy, cat = view.resident_xy, view.resident_category
    for code in (NO_NEED, IN_CARE_HOME, NOT_ASSESSED, NEED_MET, SOME_UNMET, MOST_UNMET):
        _label, colour, msize = RESIDENT_CATEGORIES[code]
        pick = np.flatnonzero(cat == code)
        if pick.size == 0:
            continue
        r = _resident_radius(msize)
        parts.append(
            f'<g class="residents-{code}" fill="{colour}" stroke="#ffffff" stroke-width="0.8">'
        )
        parts.extend(
            f'<circle cx="{sx(px):.1f}" cy="{sy(py):.1f}" r="{r:.1f}"/>' for px, py in xy[pick]
        )
        parts.append("</g>")

    def layer(key: str, points: np.ndarray) -> None:
        _label, kind, size, fill, stroke, width = MAP_MARKERS[key]
        parts.append(f'<g class="markers-{key}">')
        parts.extend(_marker(kind, sx(px), sy(py), size, fill, stroke, width) for px, py in points)
        parts.append("</g>")

    layer("volunteer", view.volunteer_xy)
    hosts = view.business_hosts.astype(bool)
    layer("business", view.business_xy[~hosts])
    layer("hosting", view.business_xy[hosts])
    layer("closed", view.closed_xy)
    layer("asset", view.asset_xy)
    layer("hub", view.hub_xy)
    # colour bar
    stops = "".join(
        f'<stop offset="{k / 10:.1f}" stop-color="{_colour_hex(cmap(1 - k / 10))}"/>'
        for k in range(11)
    )
    grad = f"grad-{view.background_key}"
    parts.append(
        f'<defs><linearGradient id="{grad}" x1="0" y1="0" x2="0" y2="1">{stops}'
        "</linearGradient></defs>"
    )
    parts.append(
        f'<rect x="{bar_x:.0f}" y="0" width="18" height="{h:.0f}" fill="url(#{grad})" '
        'stroke="#333" stroke-width="1" opacity="0.8"/>'
    )
    for tick in nice_ticks(vmax, 5):
        if tick > vmax + 1e-9:
            continue
        ty = h - tick / vmax * h
        parts.append(
            f'<line x1="{bar_x + 18:.0f}" x2="{bar_x + 24:.0f}" y1="{ty:.1f}" '
            f'y2="{ty:.1f}" stroke="#333"/>'
        )
        parts.append(
            f'<text x="{bar_x + 27:.0f}" y="{ty + 7:.1f}" font-size="21" '
            f'fill="#222">{_esc(_tick_label(tick))}</text>'
        )
    parts.append("</g></svg>")
    return "".join(parts)


def _path(xs: np.ndarray, ys: np.ndarray) -> str:
    return "M" + "L".join(f"{x:.1f} {y:.1f}" for x, y in zip(xs, ys, strict=True))


def _thin(n: int, limit: int = 400) -> np.ndarray:
    """Return indices of at most ``limit`` evenly spread points of ``n`` (with the last)."""
    if n <= limit:
        return np.arange(n)
    idx = np.linspace(0, n - 1, limit).round().astype(int)
    return np.unique(idx)


def _axes_frame(
    parts: list[str],
    title: str,
    ylabel: str,
    box,
    years_max: float,
    y_ticks: list[float],
    right_label: str = "",
) -> None:
    left, top, pw, ph = box
    parts.append(
        f'<text x="4" y="24" font-size="{TITLE_FONT}" font-weight="bold" '
        f'fill="#111">{_esc(title)}</text>'
    )
    ymax = y_ticks[-1]
    for tick in y_ticks:
        ty = top + ph - tick / ymax * ph
        parts.append(
            f'<line x1="{left:.0f}" x2="{left + pw:.0f}" y1="{ty:.1f}" y2="{ty:.1f}" '
            'stroke="#e2e2e2"/>'
        )
        parts.append(
            f'<text x="{left - 6:.0f}" y="{ty + 5:.1f}" font-size="{TICK_FONT}" '
            f'text-anchor="end" fill="#333">{_esc(_tick_label(tick))}</text>'
        )
    for tick in nice_ticks(years_max, 6):
        if tick > years_max + 1e-9:
            continue
        tx = left + tick / years_max * pw
        parts.append(
            f'<line x1="{tx:.1f}" x2="{tx:.1f}" y1="{top + ph:.0f}" '
            f'y2="{top + ph + 5:.0f}" stroke="#333"/>'
        )
        parts.append(
            f'<text x="{tx:.1f}" y="{top + ph + 21:.0f}" font-size="{TICK_FONT}" '
            f'text-anchor="middle" fill="#333">{_esc(_tick_label(tick))}</text>'
        )
    parts.append(
        f'<text x="{left + pw:.0f}" y="{top + ph + 40:.0f}" font-size="{TICK_FONT}" '
        'text-anchor="end" fill="#555">years from the start</text>'
    )
    parts.append(
        f'<text transform="translate({left - 50:.0f},{top + ph / 2:.0f}) rotate(-90)" '
        f'font-size="{TICK_FONT}" text-anchor="middle" fill="#555">{_esc(ylabel)}</text>'
    )
    if right_label:
        parts.append(
            f'<text transform="translate({left + pw + 46:.0f},{top + ph / 2:.0f}) rotate(90)" '
            f'font-size="{TICK_FONT}" text-anchor="middle" fill="#555">{_esc(right_label)}</text>'
        )


def _legend_rows(entries: list[tuple[str, str, str]], width: float) -> list[list]:
    """Pack legend entries into rows that fit ``width`` (about 8.6 units a character)."""
    rows: list[list] = [[]]
    x = 0.0
    for entry in entries:
        w = 24 + 8.4 * len(entry[0]) + 14
        if rows[-1] and x + w > width:
            rows.append([])
            x = 0.0
        rows[-1].append((x, entry))
        x += w
    return rows


def _legend(parts: list[str], rows: list[list], x0: float, y0: float) -> None:
    """Draw legend rows of (label, colour, style 'band'/'line'/'dash') entries."""
    for r, row in enumerate(rows):
        y = y0 + r * LEGEND_ROW
        for dx, (label, colour, style) in row:
            x = x0 + dx
            if style == "band":
                parts.append(
                    f'<rect x="{x:.0f}" y="{y - 12:.0f}" width="17" height="14" fill="{colour}"/>'
                )
            else:
                dash = ' stroke-dasharray="6 4"' if style == "dash" else ""
                parts.append(
                    f'<line x1="{x:.0f}" x2="{x + 19:.0f}" y1="{y - 5:.0f}" '
                    f'y2="{y - 5:.0f}" stroke="{colour}" stroke-width="3.5"{dash}/>'
                )
            parts.append(
                f'<text x="{x + 24:.0f}" y="{y:.0f}" font-size="{LEGEND_FONT}" fill="#222">'
                f"{_esc(label)}</text>"
            )


#: Chart text sizes (SVG units; a chart is 440 units wide).
LEGEND_FONT, LEGEND_ROW, TICK_FONT, TITLE_FONT = 16.0, 22.0, 15.5, 20.0


def _years_max(years: np.ndarray) -> float:
    last = float(years[-1]) if len(years) else 0.0
    return max(1.0, math.ceil(last * 2 - 1e-9) / 2)


def _chart_box(width: float, height: float, legend_rows: int, right: float):
    top = 36.0 + legend_rows * LEGEND_ROW + 8.0
    left = 70.0
    return (left, top, width - left - right, height - top - 50.0)


def svg_chart(
    frame: pd.DataFrame, chart: Chart, width: float = 440.0, height: float = 320.0
) -> str:
    """Draw one live chart as an SVG string: stacked bands or lines over years."""
    years, values = chart_data(frame, chart)
    n = len(years)
    style = "band" if chart.stacked else "line"
    entries = [(s.label, s.colour, style) for s in chart.series]
    if chart.secondary is not None:
        entries.append((chart.secondary.label, chart.secondary.colour, "dash"))
    rows = _legend_rows(entries, width - 8)
    right = 62.0 if chart.secondary else 14.0
    box = _chart_box(width, height, len(rows), right)
    left, top, pw, ph = box
    series = [values[s.column] for s in chart.series]
    if chart.stacked and n:
        cum = np.cumsum(np.vstack(series), axis=0)
        peak = float(cum[-1].max())
    else:
        cum = None
        peak = max((float(v.max()) for v in series if len(v)), default=0.0)
    y_ticks = nice_ticks(peak * 1.05 if peak > 0 else 1.0, 5)
    ymax = y_ticks[-1]
    years_max = _years_max(years)
    parts = [
        f'<svg class="civic-chart" data-points="{n}" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" width="100%" role="img" '
        f'aria-label="{_esc(chart.title)}" style="{_FONT}">'
    ]
    _axes_frame(parts, chart.title, chart.ylabel, box, years_max, y_ticks, chart.secondary_label)

    def px(x):
        return left + x / years_max * pw

    def py(y, top_value=ymax):
        return top + ph - np.asarray(y) / top_value * ph

    idx = _thin(n)
    xs = px(years[idx]) if n else np.zeros(0)
    if n and chart.stacked:
        lower = np.zeros(len(idx))
        for s, upper in zip(chart.series, cum, strict=True):
            up = upper[idx]
            d = _path(xs, py(up)) + "L" + _path(xs[::-1], py(lower[::-1]))[1:] + "Z"
            parts.append(f'<path d="{d}" fill="{s.colour}" opacity="0.92"/>')
            lower = up
    elif n:
        for s, v in zip(chart.series, series, strict=True):
            parts.append(
                f'<path d="{_path(xs, py(v[idx]))}" fill="none" '
                f'stroke="{s.colour}" stroke-width="3"/>'
            )
    else:
        parts.append(
            f'<text x="{left + pw / 2:.0f}" y="{top + ph / 2:.0f}" font-size="17" '
            'text-anchor="middle" fill="#888">press Step to run a week</text>'
        )
    if chart.secondary is not None:
        s = chart.secondary
        for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
            ty = top + ph - tick * ph
            parts.append(
                f'<text x="{left + pw + 6:.0f}" y="{ty + 5:.1f}" font-size="{TICK_FONT}" '
                f'fill="#333">{tick:g}</text>'
            )
        if n:
            parts.append(
                f'<path d="{_path(xs, py(values[s.column][idx], 1.0))}" fill="none" '
                f'stroke="{s.colour}" stroke-width="2.5" stroke-dasharray="7 4"/>'
            )
    parts.append(
        f'<rect x="{left:.0f}" y="{top:.0f}" width="{pw:.0f}" height="{ph:.0f}" '
        'fill="none" stroke="#888"/>'
    )
    _legend(parts, rows, 6, 56)
    parts.append("</svg>")
    return "".join(parts)


def svg_charts(frame: pd.DataFrame) -> list[str]:
    """Draw the four live charts of the workshop page, as SVG strings."""
    return [svg_chart(frame, chart) for chart in CHARTS]


#: Line colour and style of the two sides of the side-by-side view.
SIDE_STYLES = (("#0072B2", "line"), ("#D55E00", "dash"))

#: Panels of the shared side-by-side chart: (metric, title, axis label).
COMPARISON_PANELS = (
    ("unmet_hours", "Unmet care need", "hours a week"),
    ("residents_with_unmet_need", "Older residents with some unmet need", "people"),
)


def svg_comparison(
    frames: Mapping[str, pd.DataFrame],
    column: str,
    title: str,
    ylabel: str,
    width: float = 440.0,
    height: float = 320.0,
) -> str:
    """Draw a shared chart of the side-by-side view: one metric, a line per strategy.

    Args:
        frames: Label (strategy title) to that model's metrics table; up to two.
        column: Metric column drawn.
        title: Chart title.
        ylabel: Axis label with units.
        width: SVG width in units.
        height: SVG height in units.
    """
    data = []
    for label, frame in list(frames.items())[:2]:
        n = len(frame)
        steps = frame["step"].to_numpy(float) if "step" in frame else np.arange(1, n + 1.0)
        ys = frame[column].to_numpy(float) if column in frame else np.zeros(n)
        data.append((label, steps / 52.0, ys))
    entries = [
        (label, colour, style)
        for (label, _y, _v), (colour, style) in zip(data, SIDE_STYLES, strict=False)
    ]
    rows = _legend_rows(entries, width - 8)
    box = _chart_box(width, height, len(rows), 14.0)
    left, top, pw, ph = box
    years_max = max((_years_max(y) for _l, y, _v in data), default=1.0)
    peak = max((float(v.max()) for _l, _y, v in data if len(v)), default=0.0)
    y_ticks = nice_ticks(peak * 1.05 if peak > 0 else 1.0, 5)
    ymax = y_ticks[-1]
    points = max((len(y) for _l, y, _v in data), default=0)
    parts = [
        f'<svg class="civic-compare" data-points="{points}" '
        f'xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'width="100%" role="img" aria-label="{_esc(title)}" style="{_FONT}">'
    ]
    _axes_frame(parts, title, ylabel, box, years_max, y_ticks)
    for (_label, years, ys), (colour, style) in zip(data, SIDE_STYLES, strict=False):
        if len(years):
            idx = _thin(len(years))
            xs = left + years[idx] / years_max * pw
            yy = top + ph - ys[idx] / ymax * ph
            dash = ' stroke-dasharray="8 5"' if style == "dash" else ""
            parts.append(
                f'<path d="{_path(xs, yy)}" fill="none" stroke="{colour}" '
                f'stroke-width="3.5"{dash}/>'
            )
    if not points:
        parts.append(
            f'<text x="{left + pw / 2:.0f}" y="{top + ph / 2:.0f}" font-size="17" '
            'text-anchor="middle" fill="#888">press Step to run a week</text>'
        )
    parts.append(
        f'<rect x="{left:.0f}" y="{top:.0f}" width="{pw:.0f}" height="{ph:.0f}" '
        'fill="none" stroke="#888"/>'
    )
    _legend(parts, rows, 6, 56)
    parts.append("</svg>")
    return "".join(parts)


def default_pair() -> tuple[str, str]:
    """Strategies of the side-by-side view at the start: direct versus facilitator hub.

    Falls back to the first two registered strategies if either is missing.
    """
    names = [n for n, _t, _d in strategy_options()]
    pair = ("direct", "facilitator")
    if all(n in names for n in pair):
        return pair
    return (names[0], names[min(1, len(names) - 1)])
