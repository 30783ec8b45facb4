"""Pictures of the workshop page: arrays in, SVG (and a little HTML) out.

This module imports nothing of the model: everything it draws arrives as numbers and
arrays (see :class:`MapArrays` and the chart functions), so a drawing can be tested,
and re-styled, without running a simulation. Colours come from
:mod:`workshop.palette`, one meaning per colour.

Why plain SVG rather than Matplotlib or Altair: a frame costs a few milliseconds on the
server instead of hundreds, stays sharp at any projector resolution, needs nothing from
the internet (Solara's Altair component loads Vega from a CDN path that
``solara-assets`` does not hold) and shares no drawing state between browser sessions.

Sizes: a chart's SVG units are designed as CSS pixels at the projector layout (1280 x
720), so a font size of 16 units is drawn at 16 px or more there, and grows with the
screen. The map has no text in its SVG (the title, legend and colour bar are HTML, in
the page's own font size), so its markers can scale with the map's drawn size while
every word stays readable. Coordinates are written as whole tenths of a unit inside a
``scale(0.1)`` group: integers format several times faster than floats, and a frame of
800 residents stays near 15 kB.
"""

from __future__ import annotations

import base64
import dataclasses
import html
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from workshop import palette as pal

_FONT = "font-family:Roboto,Helvetica,Arial,sans-serif"

#: Resident categories on the map (codes of :attr:`MapArrays.resident_category`).
NO_NEED, NEED_MET, SOME_UNMET, MOST_UNMET, NOT_ASSESSED, IN_CARE_HOME = 0, 1, 2, 3, 4, 5

#: Share of a resident's needed hours unmet above which they count as "most unmet".
MOSTLY_UNMET = 0.5


def esc(text: object) -> str:
    """Escape text for SVG or HTML (quotes too)."""
    return html.escape(str(text), quote=True)


def _ints(values: np.ndarray) -> str:
    """Tenths of a unit, as space-separated integers (for a ``scale(0.1)`` group)."""
    return " ".join(
        map(str, np.rint(np.asarray(values, dtype=float) * 10).astype(int).ravel().tolist())
    )


# --- the map --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Marker:
    """How one kind of thing is drawn on the map and named in its legend.

    Attributes:
        label: Legend text.
        shape: ``dot``, ``ring``, ``dashed-ring``, ``triangle``, ``star``, ``square``,
            ``open-square``, ``diamond``, ``house`` or ``cross``.
        size: Half-width in grid cells.
        ink: The colour that identifies it (a fill, or the stroke of hollow shapes);
            tests check its contrast against every background colour.
        outline: Stroke colour around filled shapes (a halo that separates neighbours).
        outline_width: Stroke width in grid cells.
    """

    label: str
    shape: str
    size: float
    ink: str
    outline: str = pal.WHITE
    outline_width: float = 0.12


#: Resident markers by category code. Colour says whether need is unmet (vermillion) or
#: not (grey); size and a dark ring say how much.
RESIDENT_MARKERS = (
    Marker("No care need", "ring", 0.22, pal.GREY_DARK, outline_width=0.09),
    Marker("Need met", "dot", 0.30, pal.GREY_DARK),
    Marker("Some need unmet", "dot", 0.34, pal.VERMILLION),
    Marker(
        f"Over {MOSTLY_UNMET:.0%} of need unmet",
        "dot",
        0.45,
        pal.VERMILLION,
        outline=pal.BLACK,
        outline_width=0.12,
    ),
    Marker("Need not yet assessed", "dashed-ring", 0.30, pal.GREY_DARK, outline_width=0.1),
    Marker("In a care home", "house", 0.34, pal.GREY_DARK),
)

#: Other map markers (drawn above the residents, in this order).
MAP_MARKERS = {
    "volunteer": Marker("Volunteer", "triangle", 0.42, pal.DARK_GREEN),
    "business": Marker("Business", "open-square", 0.42, pal.DARK_PURPLE, outline_width=0.16),
    "hosting": Marker("Business with activity", "square", 0.45, pal.DARK_PURPLE),
    "closed": Marker("Closed business", "cross", 0.42, pal.DARK_PURPLE, outline_width=0.16),
    "asset": Marker("Community asset", "diamond", 0.75, pal.DARK_PURPLE, outline=pal.BLACK),
    "hub": Marker("Council hub", "star", 1.25, pal.BLUE, outline=pal.WHITE, outline_width=0.15),
}

#: Background layers: key -> (button text, colour-bar title, ramp).
BACKGROUNDS = {
    "civic": ("Civic potential", "Civic potential (0 none – 1 very high)", pal.CIVIC_RAMP),
    "unmet": ("Unmet need by area", "Unmet care hours a week per block (smoothed)", pal.UNMET_RAMP),
}

#: SVG units per grid cell on the map.
CELL = 10.0


@dataclass
class MapArrays:
    """Everything the neighbourhood map draws, as plain arrays (grid-cell coordinates).

    Attributes:
        width: Grid width in cells.
        height: Grid height in cells.
        week: Weeks run so far.
        resident_xy: Resident positions (n x 2, inside their home cell).
        resident_category: A category code (``NO_NEED`` ...) per resident.
        volunteer_xy: Active volunteer positions (m x 2).
        hub_xy: Council hub positions.
        business_xy: Open businesses that are not community-owned.
        business_hosts: Whether each of those hosts a weekly activity.
        closed_xy: Closed businesses.
        asset_xy: Open community-owned assets.
        background: The background layer, shape (width, height), indexed [x, y].
        background_key: A key of :data:`BACKGROUNDS`.
        counts: Residents per category and counts of the other markers.
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


def layer_png(values: np.ndarray, ramp: Sequence[str], vmax: float) -> str:
    """Encode a background layer as a base64 PNG (one pixel per cell, north up)."""
    scaled = np.clip(np.asarray(values, dtype=float) / vmax if vmax > 0 else 0.0, 0.0, 1.0)
    rgb = (pal.ramp_colours(ramp, np.flipud(scaled.T)) * 255 + 0.5).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(rgb, mode="RGB").save(buf, format="PNG", compress_level=1)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _dot_path(xy: np.ndarray) -> str:
    """Round dots as one path of zero-length strokes (``M x y h0``), in tenths of a unit;
    drawn with round caps, the stroke width is the dot's diameter (small and fast)."""
    return "".join([f"M{x} {y}h0" for x, y in np.rint(np.asarray(xy) * 10).astype(int).tolist()])


def _dot_layers(xy: np.ndarray, strokes: list[tuple[str, float]], uid: str | None) -> str:
    """The same dots drawn once per (colour, diameter), widest first.

    With ``uid`` the path is written once in ``<defs>`` and drawn with ``<use>`` (half
    the bytes); its id must be unique on the page.
    """
    if len(xy) == 0:
        return ""
    d = _dot_path(xy)
    style = 'stroke-linecap="round" fill="none"'
    if uid is None:
        return "".join(
            f'<path d="{d}" stroke="{c}" stroke-width="{w * 10:.0f}" {style}/>' for c, w in strokes
        )
    return f'<defs><path id="{uid}" d="{d}"/></defs>' + "".join(
        f'<use href="#{uid}" stroke="{c}" stroke-width="{w * 10:.0f}" {style}/>' for c, w in strokes
    )


def _shape_path(shape: str, xy: np.ndarray, size: float) -> str:
    """One path drawing a marker shape at every point (screen units, y down)."""
    if len(xy) == 0:
        return ""
    s = size
    if shape == "triangle":
        h = s * 1.15
        rel = [(0, -h), (s, h * 0.75 + h), (-2 * s, 0)]
    elif shape in ("square", "open-square"):
        rel = [(-s, -s), (2 * s, 0), (0, 2 * s), (-2 * s, 0)]
    elif shape == "diamond":
        rel = [(0, -s), (s, s), (-s, s), (-s, -s)]
    elif shape == "house":  # a square with a roof
        rel = [(0, -1.3 * s), (s, 0.7 * s), (0, 1.3 * s), (-2 * s, 0), (0, -1.3 * s)]
    elif shape == "star":
        pts = []
        for k in range(10):
            radius = s if k % 2 == 0 else s * 0.45
            angle = -math.pi / 2 + k * math.pi / 5
            pts.append((radius * math.cos(angle), radius * math.sin(angle)))
        rel = [pts[0]] + [(b[0] - a[0], b[1] - a[1]) for a, b in zip(pts, pts[1:], strict=False)]
    elif shape == "cross":
        parts = []
        for x, y in np.rint(np.asarray(xy) * 10).astype(int).tolist():
            k = int(round(s * 10))
            parts.append(f"M{x - k} {y - k}l{2 * k} {2 * k}M{x - k} {y + k}l{2 * k} {-2 * k}")
        return "".join(parts)
    else:
        raise ValueError(f"unknown marker shape {shape!r}")
    first, rest = rel[0], rel[1:]
    tail = "".join(f"l{round(dx * 10)} {round(dy * 10)}" for dx, dy in rest) + "z"
    return "".join(
        f"M{x + round(first[0] * 10)} {y + round(first[1] * 10)}{tail}"
        for x, y in np.rint(np.asarray(xy) * 10).astype(int).tolist()
    )


def _marker_layer(marker: Marker, xy: np.ndarray, css: str, uid: str | None = None) -> str:
    """SVG of one kind of marker at screen points ``xy`` (SVG units).

    Args:
        marker: How to draw it.
        xy: Points in SVG units.
        css: The group's class.
        uid: A page-unique id prefix, to write the dots' path once (see :func:`_dot_layers`).
    """
    size, ow = marker.size * CELL, marker.outline_width * CELL
    if len(xy) == 0:
        return f'<g class="{css}"></g>'
    pid = f"{uid}-{css}" if uid else None
    if marker.shape == "dot":
        strokes = [(marker.outline, 2 * size + 2 * ow), (marker.ink, 2 * size)]
        return f'<g class="{css}">{_dot_layers(xy, strokes, pid)}</g>'
    if marker.shape in ("ring", "dashed-ring"):
        strokes = [(marker.ink, 2 * size), (pal.WHITE, 2 * size - 2 * ow)]
        if marker.shape == "dashed-ring":
            strokes.append((marker.ink, 0.9 * ow))
        return f'<g class="{css}">{_dot_layers(xy, strokes, pid)}</g>'
    d = _shape_path(marker.shape, xy, size)
    if marker.shape in ("open-square", "cross"):
        fill = pal.WHITE if marker.shape == "open-square" else "none"
        return (
            f'<g class="{css}"><path d="{d}" fill="{fill}" '
            f'stroke="{marker.ink}" stroke-width="{ow * 10:.0f}" stroke-linejoin="round"/></g>'
        )
    return (
        f'<g class="{css}"><path d="{d}" fill="{marker.ink}" stroke="{marker.outline}" '
        f'stroke-width="{ow * 10:.0f}" stroke-linejoin="round" paint-order="stroke"/></g>'
    )


def svg_map(
    view: MapArrays, vmax: float, label: str = "Neighbourhood map", uid: str = "map"
) -> str:
    """Draw the neighbourhood map as an SVG string that scales to its box.

    Args:
        view: The arrays to draw.
        vmax: Top of the background layer's colour scale (fixed for a run).
        label: Accessible name of the picture.
        uid: Prefix of the picture's element ids (unique on the page: two maps side by
            side need two).
    """
    w, h = view.width * CELL, view.height * CELL
    ramp = BACKGROUNDS[view.background_key][2]
    png = layer_png(view.background, ramp, vmax)

    def screen(xy: np.ndarray) -> np.ndarray:
        xy = np.asarray(xy, dtype=float).reshape(-1, 2)
        return np.column_stack([xy[:, 0] * CELL, h - xy[:, 1] * CELL])

    parts = [
        f'<svg class="civic-map" data-week="{view.week}" data-residents="{len(view.resident_xy)}" '
        f'xmlns="http://www.w3.org/2000/svg" viewBox="-2 -2 {w + 4:.0f} {h + 4:.0f}" '
        f'preserveAspectRatio="xMidYMid meet" role="img" aria-label="{esc(label)}">',
        f'<image x="0" y="0" width="{w:.0f}" height="{h:.0f}" preserveAspectRatio="none" '
        f'style="image-rendering:pixelated" href="data:image/png;base64,{png}"/>',
        '<g transform="scale(0.1)">',
    ]
    xy, cat = screen(view.resident_xy), np.asarray(view.resident_category)
    for code in (NO_NEED, IN_CARE_HOME, NOT_ASSESSED, NEED_MET, SOME_UNMET, MOST_UNMET):
        parts.append(
            _marker_layer(RESIDENT_MARKERS[code], xy[cat == code], f"residents-{code}", uid)
        )
    hosts = np.asarray(view.business_hosts, dtype=bool)
    bxy = screen(view.business_xy)
    layers = (
        ("volunteer", screen(view.volunteer_xy)),
        ("business", bxy[~hosts]),
        ("hosting", bxy[hosts]),
        ("closed", screen(view.closed_xy)),
        ("asset", screen(view.asset_xy)),
        ("hub", screen(view.hub_xy)),
    )
    for key, points in layers:
        parts.append(_marker_layer(MAP_MARKERS[key], points, f"markers-{key}"))
    parts.append(
        f'</g><rect x="0" y="0" width="{w:.0f}" height="{h:.0f}" fill="none" stroke="#333" '
        'stroke-width="1.5"/></svg>'
    )
    return "".join(parts)


def legend_icon(marker: Marker, px: int = 26) -> str:
    """A marker drawn alone in a small square SVG, for the legend."""
    side = 2.6 * CELL
    body = _marker_layer(marker, np.array([[side / 2, side / 2]]), "icon")
    return (
        f'<svg width="{px}" height="{px}" viewBox="0 0 {side:.0f} {side:.0f}" aria-hidden="true">'
        f'<g transform="scale(0.1)">{body}</g></svg>'
    )


def legend_html(show_not_assessed: bool = False, show_care_homes: bool = False) -> str:
    """The map's legend as HTML (text in the page's font size on any screen).

    Residents by unmet need first, then volunteers, businesses, assets and hubs;
    "not yet assessed" only when the map shows it, "in a care home" only when the model
    has care homes.
    """
    items = []
    for code, marker in enumerate(RESIDENT_MARKERS):
        if code == NOT_ASSESSED and not show_not_assessed:
            continue
        if code == IN_CARE_HOME and not show_care_homes:
            continue
        items.append((marker, f"residents-{code}"))
    items += [(m, f"markers-{k}") for k, m in MAP_MARKERS.items()]
    spans = "".join(
        f'<span class="civic-legend-item {css}">{legend_icon(m)}'
        f'<span class="civic-export-text">{esc(m.label)}</span></span>'
        for m, css in items
    )
    return f'<div class="civic-legend">{spans}</div>'


def colour_bar_html(key: str, vmax: float) -> str:
    """A titled colour bar for a background layer, as HTML.

    The scale is fixed for a run (``vmax`` comes from the run, not from this week), so a
    colour means the same number all the run long; values above the top are drawn in
    the top colour, and the top label says "or more" (for unmet need). The page's CSS
    draws it upright beside one map, or lying down under the two of the side by side.
    """
    _button, title, ramp = BACKGROUNDS[key]
    colours = [pal.rgb_hex(c) for c in pal.ramp_colours(ramp, np.linspace(0, 1, 11))]
    stops = ", ".join(f"{c} {10 * k}%" for k, c in enumerate(colours))
    ticks = nice_ticks(vmax, 4)
    labels = []
    for tick in ticks:
        if tick > vmax + 1e-9:
            continue
        pos = 100 * tick / vmax if vmax > 0 else 0
        text = _tick_label(tick) + (" or more" if key == "unmet" and tick == ticks[-1] else "")
        labels.append(
            f'<span class="civic-export-text" style="--pos:{pos:.1f}%">{esc(text)}</span>'
        )
    return (
        f'<div class="civic-colourbar" data-key="{key}" data-vmax="{vmax:g}">'
        f'<div class="civic-colourbar-title civic-export-text">{esc(title)}</div>'
        f'<div class="civic-colourbar-bar" data-stops="{",".join(colours)}" '
        f'style="--stops:{stops}"></div>'
        f'<div class="civic-colourbar-ticks">{"".join(labels)}</div></div>'
    )


# --- numbers on axes ------------------------------------------------------------------------
def nice_ticks(hi: float, n: int = 5) -> list[float]:
    """About ``n`` round tick values from 0 to at least ``hi`` (1, 2, 2.5 or 5 x 10^k)."""
    if not math.isfinite(hi) or hi <= 0:
        return [0.0, 1.0]
    return nice_range(0.0, hi, n)


def nice_step(span: float, n: int) -> float:
    """A round step (1, 2, 2.5 or 5 x 10^k) giving about ``n`` ticks over ``span``."""
    raw = span / max(1, n - 1)
    mag = 10 ** math.floor(math.log10(raw))
    return next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw * (1 - 1e-12))


def nice_range(lo: float, hi: float, n: int = 5) -> list[float]:
    """Round ticks covering [lo, hi]: the first at or below ``lo``, the last at or above."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return [0.0, 1.0]
    if hi - lo <= 0:
        pad = abs(hi) * 0.1 or 1.0
        lo, hi = lo - pad, hi + pad
    step = nice_step(hi - lo, n)
    first = math.floor(lo / step + 1e-9)
    last = math.ceil(hi / step - 1e-9)
    return [round(k * step, 10) for k in range(first, last + 1)]


def fitted_ticks(lows: Sequence[float], highs: Sequence[float], zero_based: bool) -> list[float]:
    """Ticks for a y axis that fits the data.

    Parts of a whole (stacked bands) and counts near zero keep 0 at the bottom; a line
    whose values stay far from zero (its lowest point above 40% of its highest) gets an
    axis from a round number below the lowest point, so a gap of a few percent is seen.
    Differences (which can be negative) always show zero.
    """
    lo = min(lows, default=0.0)
    hi = max(highs, default=0.0)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return [0.0, 1.0]
    if zero_based or (lo >= 0 and lo < 0.4 * hi):
        return nice_ticks(hi * 1.04 if hi > 0 else 1.0, 5)
    span = hi - lo
    if lo < 0 < hi or hi <= 0:
        return nice_range(min(lo, 0.0) - 0.04 * span, max(hi, 0.0) + 0.04 * span, 5)
    return nice_range(lo - 0.08 * span, hi + 0.08 * span, 5)


def _decimals(step: float) -> int:
    """Decimals needed to write multiples of ``step`` exactly (at most 8)."""
    for k in range(9):
        if abs(round(step, k) - step) < 1e-6 * abs(step):
            return k
    return 8


def _tick_label(value: float, step: float | None = None) -> str:
    """A tick's text: thousands as "k", with as many decimals as the step needs."""
    sign = "−" if value < -1e-12 else ""
    value = abs(value)
    big = value >= 1000 and (step is None or step >= 10)
    if big:
        value, step = value / 1000, (step / 1000 if step else None)
    decimals = _decimals(step) if step else (0 if value == int(value) else 1)
    return sign + f"{value:,.{decimals}f}" + ("k" if big else "")


def tick_labels(ticks: Sequence[float]) -> list[str]:
    """Labels of a set of ticks (precise enough that no two are the same)."""
    step = ticks[1] - ticks[0] if len(ticks) > 1 else None
    return [_tick_label(t, step) for t in ticks]


# --- charts ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Series:
    """One line or band of a chart: a metric column, its label, colour and style.

    An ``optional`` series is drawn only when the model collects its column (care homes
    and carers, for a model that has them).
    """

    column: str
    label: str
    colour: str
    style: str = "band"  # band (stacked), line, dash
    optional: bool = False


@dataclass(frozen=True)
class Chart:
    """A live chart of the Workshop tab.

    Attributes:
        title: Plain-language title with the unit.
        series: The metric columns drawn (stacked bands, or lines).
        stacked: Draw as stacked bands (parts of a whole, axis from 0) rather than lines.
        secondary: An optional line on a right-hand 0-1 axis.
        secondary_label: Name of the right-hand axis.
    """

    title: str
    series: tuple[Series, ...]
    stacked: bool = False
    secondary: Series | None = None
    secondary_label: str = ""

    @property
    def columns(self) -> list[str]:
        """Every metric column the chart reads."""
        return [s.column for s in self.series] + ([self.secondary.column] if self.secondary else [])


#: The four live charts of the Workshop tab (colours: one meaning each, see palette).
CHARTS = (
    Chart(
        "Unmet care need, hours a week",
        (
            Series("unmet_personal_hours", "Personal care", pal.VERMILLION),
            Series("unmet_low_level_hours", "Low-level support", pal.VERMILLION_TINT),
        ),
        stacked=True,
    ),
    Chart(
        "Care given, hours a week",
        (
            Series("met_hours_family", "Family", pal.YELLOW),
            Series("met_hours_paid", "Paid carers", pal.BLUE),
            Series("met_hours_volunteer", "Volunteers", pal.BLUISH_GREEN),
            Series("met_hours_business", "Businesses", pal.REDDISH_PURPLE),
        ),
        stacked=True,
    ),
    Chart(
        "Active volunteers",
        (Series("active_volunteers", "Volunteers", pal.BLUISH_GREEN, "line"),),
        secondary=Series(
            "mean_civic_energy", "Civic energy (0–1, right)", pal.BLUISH_GREEN, "dash"
        ),
        secondary_label="civic energy",
    ),
    Chart(
        "Council spend, £ a week",
        (
            Series("spend_care_homes", "Care homes", pal.DARK_BLUE, optional=True),
            Series("spend_paid_care", "Paid care", pal.BLUE),
            Series("spend_facilitation", "Facilitation", pal.BLUISH_GREEN),
            Series("spend_grants", "Grants", pal.REDDISH_PURPLE),
        ),
        stacked=True,
    ),
)

#: Metric columns summed into the spend chart's "Facilitation" band (those collected).
FACILITATION_SPEND = (
    "spend_coordinators",
    "spend_volunteer_support",
    "spend_outreach",
    "spend_carer_support",
)


def charts_for(collected) -> tuple[Chart, ...]:
    """The live charts without the optional series whose column is not collected."""
    out = []
    for chart in CHARTS:
        series = tuple(s for s in chart.series if not s.optional or s.column in collected)
        out.append(dataclasses.replace(chart, series=series))
    return tuple(out)


#: Text sizes in chart units (a unit is a CSS pixel at the projector layout).
TITLE_FONT, TICK_FONT, LEGEND_FONT = 18.0, 16.0, 16.0

#: Line styles of the side-by-side view: strategy A, strategy B, and the kept run.
SIDE_STYLES = {
    "A": {"stroke": pal.BLACK, "width": 3.5, "dash": ""},
    "B": {"stroke": pal.BLACK, "width": 3.5, "dash": "9 6"},
    "kept A": {"stroke": pal.GREY_MID, "width": 3.0, "dash": "2 5"},
    "kept B": {"stroke": pal.GREY_MID, "width": 3.0, "dash": "9 4 2 4"},
}


@dataclass(frozen=True)
class Event:
    """Something that starts during a run (a budget cut, a shock), marked on the charts."""

    week: int
    label: str


@dataclass
class Line:
    """A line of a chart: y values over years, a label and a style."""

    years: np.ndarray
    values: np.ndarray
    label: str
    stroke: str = pal.BLACK
    width: float = 3.0
    dash: str = ""
    css: str = ""


@dataclass
class Band:
    """A shaded range (for example the 10-90% range over seeds) over years."""

    years: np.ndarray
    low: np.ndarray
    high: np.ndarray
    label: str
    fill: str = pal.GREY_LIGHT
    opacity: float = 0.55
    css: str = ""


class _Frame:
    """The axes of one chart: maps years and values to SVG units, draws the frame."""

    def __init__(self, width, height, title, y_ticks, horizon_years, legend_rows, right=14.0):
        self.width, self.height = width, height
        self.left = 14.0 + 9.0 * max(len(label) for label in tick_labels(y_ticks))
        self.top = 8.0 + TITLE_FONT + 12.0 + legend_rows * (LEGEND_FONT + 6.0)
        self.right = right
        self.bottom = TICK_FONT + 14.0
        self.pw = width - self.left - self.right
        self.ph = height - self.top - self.bottom
        self.y_ticks = y_ticks
        self.y0, self.y1 = y_ticks[0], y_ticks[-1]
        self.xmax = horizon_years
        self.title = title

    def x(self, years):
        return self.left + np.asarray(years, dtype=float) / self.xmax * self.pw

    def y(self, values, lo=None, hi=None):
        lo = self.y0 if lo is None else lo
        hi = self.y1 if hi is None else hi
        v = np.clip(np.asarray(values, dtype=float), lo, hi)
        return self.top + self.ph - (v - lo) / (hi - lo) * self.ph

    def axes(self, parts: list[str]) -> None:
        parts.append(
            f'<text x="4" y="{8 + TITLE_FONT - 3:.0f}" font-size="{TITLE_FONT:.0f}" '
            f'font-weight="bold" fill="#111">{esc(self.title)}</text>'
        )
        for tick, label in zip(self.y_ticks, tick_labels(self.y_ticks), strict=True):
            ty = float(self.y(tick))
            colour = "#9a9a9a" if tick == 0 and self.y0 < 0 else "#e4e4e4"
            parts.append(
                f'<line x1="{self.left:.0f}" x2="{self.left + self.pw:.0f}" y1="{ty:.1f}" '
                f'y2="{ty:.1f}" stroke="{colour}" stroke-width="{1.5 if tick == 0 else 1}"/>'
                f'<text x="{self.left - 5:.0f}" y="{ty + 5.5:.1f}" font-size="{TICK_FONT:.0f}" '
                f'text-anchor="end" fill="#222">{esc(label)}</text>'
            )
        for tick in nice_range(0, self.xmax, 6):
            if tick > self.xmax + 1e-9:
                continue
            tx = float(self.x(tick))
            parts.append(
                f'<line x1="{tx:.1f}" x2="{tx:.1f}" y1="{self.top + self.ph:.0f}" '
                f'y2="{self.top + self.ph + 4:.0f}" stroke="#333"/>'
                f'<text x="{tx:.1f}" y="{self.top + self.ph + 4 + TICK_FONT:.0f}" '
                f'font-size="{TICK_FONT:.0f}" text-anchor="middle" fill="#222">'
                f"{esc(_tick_label(tick))}</text>"
            )
        if self.y0 > 0:  # the axis does not start at zero: say so on the axis itself
            x, yb = self.left - 7, self.top + self.ph - 14
            parts.append(
                f'<path d="M{x:.0f} {yb - 3:.0f}l14 -5M{x:.0f} {yb + 3:.0f}l14 -5" '
                'stroke="#222" stroke-width="1.5" class="axis-break"/>'
            )

    def border(self, parts: list[str]) -> None:
        parts.append(
            f'<rect x="{self.left:.0f}" y="{self.top:.0f}" width="{self.pw:.0f}" '
            f'height="{self.ph:.0f}" fill="none" stroke="#888"/>'
        )

    def events(self, parts: list[str], events: Sequence[Event]) -> None:
        for k, event in enumerate(events):
            years = max(event.week - 1, 0) / 52.0
            if years > self.xmax:
                continue
            tx = float(self.x(years))
            parts.append(
                f'<g class="event-marker" data-week="{event.week}">'
                f'<line x1="{tx:.1f}" x2="{tx:.1f}" y1="{self.top:.0f}" '
                f'y2="{self.top + self.ph:.0f}" '
                'stroke="#222" stroke-width="2" stroke-dasharray="3 4"/>'
                f'<text x="{tx + 4:.1f}" y="{self.top + TICK_FONT + 2 + k * (TICK_FONT + 2):.0f}" '
                f'font-size="{TICK_FONT:.0f}" fill="#222" paint-order="stroke" stroke="#fff" '
                f'stroke-width="4">{esc(event.label)}</text></g>'
            )


def _polyline(frame: _Frame, years, values, lo=None, hi=None) -> str:
    xs, ys = frame.x(years), frame.y(values, lo, hi)
    return "M" + _ints(np.column_stack([xs, ys]))


def _band_path(frame: _Frame, years, low, high) -> str:
    xs = frame.x(years)
    upper = np.column_stack([xs, frame.y(high)])
    lower = np.column_stack([xs[::-1], frame.y(np.asarray(low)[::-1])])
    return "M" + _ints(upper) + "L" + _ints(lower) + "z"


def thin(n: int, limit: int = 260) -> np.ndarray:
    """Indices of at most ``limit`` evenly spread points of ``n`` (the last included)."""
    if n <= limit:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, limit).round().astype(int))


def _legend(parts: list[str], entries, x0: float, y0: float, width: float) -> int:
    """Draw legend entries (label, colour, style) in rows; return the number of rows."""
    x, row = x0, 0
    for label, colour, style in entries:
        w = 26 + 8.6 * len(label) + 14
        if x > x0 and x + w > x0 + width:
            x, row = x0, row + 1
        y = y0 + row * (LEGEND_FONT + 6)
        if style == "band":
            parts.append(
                f'<rect x="{x:.0f}" y="{y - 13:.0f}" width="20" height="15" fill="{colour}" '
                'stroke="#333" stroke-width="1"/>'
            )
        else:
            dash = ' stroke-dasharray="6 4"' if style == "dash" else ""
            parts.append(
                f'<line x1="{x:.0f}" x2="{x + 21:.0f}" y1="{y - 5:.0f}" y2="{y - 5:.0f}" '
                f'stroke="{colour}" stroke-width="3.5"{dash}/>'
            )
        parts.append(
            f'<text x="{x + 26:.0f}" y="{y:.0f}" font-size="{LEGEND_FONT:.0f}" fill="#222">'
            f"{esc(label)}</text>"
        )
        x += w
    return row + 1


def _legend_rows(entries, width: float) -> int:
    scratch: list[str] = []
    return _legend(scratch, entries, 0, 0, width)


def svg_chart(
    chart: Chart,
    years: np.ndarray,
    values: Mapping[str, np.ndarray],
    *,
    horizon_years: float = 10.0,
    kept: Mapping[str, np.ndarray] | None = None,
    kept_years: np.ndarray | None = None,
    kept_label: str = "",
    events: Sequence[Event] = (),
    width: float = 340.0,
    height: float = 262.0,
) -> str:
    """Draw one live chart of the Workshop tab: stacked bands or lines over years.

    Args:
        chart: What to draw.
        years: Years since the start of each collected week.
        values: Column name to values (a missing column is drawn as zeros).
        horizon_years: The x axis runs from 0 to here (the run's length).
        kept: A kept run's values (same columns), drawn as a grey dotted line of its
            total (stacked charts) or of each line.
        kept_years: Years of the kept run's weeks.
        kept_label: Legend text of the kept run.
        events: Events marked by dotted vertical lines.
        width: SVG width in units.
        height: SVG height in units.
    """
    n = len(years)
    idx = thin(n)
    get = {
        s.column: np.asarray(values.get(s.column, np.zeros(n)), dtype=float) for s in chart.series
    }
    entries = [(s.label, s.colour, "band" if chart.stacked else s.style) for s in chart.series]
    if chart.secondary is not None:
        entries.append((chart.secondary.label, chart.secondary.colour, "dash"))
    if kept is not None:
        entries.append((kept_label or "kept run", pal.GREY_MID, "dash"))
    rows = _legend_rows(entries, width - 8)
    if chart.stacked and n:
        cum = np.cumsum(np.vstack([get[s.column] for s in chart.series]), axis=0)
        highs = [float(cum[-1].max())]
    else:
        cum = None
        highs = [float(v.max()) for v in get.values() if len(v)]
    kept_tops: dict[str, np.ndarray] = {}
    if kept is not None and kept_years is not None and len(kept_years):
        if chart.stacked:
            kept_tops["total"] = np.sum(
                [np.asarray(kept.get(s.column, 0.0)) for s in chart.series], axis=0
            )
        else:
            kept_tops = {
                s.column: np.asarray(kept[s.column], dtype=float)
                for s in chart.series
                if s.column in kept
            }
        highs += [float(v.max()) for v in kept_tops.values() if np.size(v)]
    y_ticks = fitted_ticks([0.0], highs or [1.0], zero_based=True)
    right = 40.0 if chart.secondary is not None else 14.0
    frame = _Frame(width, height, chart.title, y_ticks, horizon_years, rows, right)
    parts = [
        f'<svg class="civic-chart" data-points="{n}" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" role="img" aria-label="{esc(chart.title)}" '
        f'style="{_FONT}">'
    ]
    frame.axes(parts)
    parts.append('<g transform="scale(0.1)">')
    if n and chart.stacked:
        lower = np.zeros(len(idx))
        for s, upper in zip(chart.series, cum, strict=True):
            up = upper[idx]
            d = _band_path(frame, years[idx], lower, up)
            parts.append(
                f'<path d="{d}" fill="{s.colour}" stroke="#333" stroke-width="8" '
                'stroke-linejoin="round"/>'
            )
            lower = up
    elif n:
        for s in chart.series:
            dash = ' stroke-dasharray="60 40"' if s.style == "dash" else ""
            parts.append(
                f'<path d="{_polyline(frame, years[idx], get[s.column][idx])}" fill="none" '
                f'stroke="{s.colour}" stroke-width="35" stroke-linejoin="round"{dash}/>'
            )
    if chart.secondary is not None and n:
        sec = np.asarray(values.get(chart.secondary.column, np.zeros(n)), dtype=float)
        parts.append(
            f'<path d="{_polyline(frame, years[idx], sec[idx], 0.0, 1.0)}" fill="none" '
            f'stroke="{chart.secondary.colour}" stroke-width="28" stroke-dasharray="70 40"/>'
        )
    for top in kept_tops.values():
        k_idx = thin(len(kept_years))
        parts.append(
            f'<path class="kept-line" d="{_polyline(frame, kept_years[k_idx], top[k_idx])}" '
            f'fill="none" stroke="{pal.GREY_MID}" stroke-width="30" stroke-dasharray="20 50" '
            'stroke-linecap="round"/>'
        )
    parts.append("</g>")
    if chart.secondary is not None:
        for tick in (0.0, 0.5, 1.0):
            ty = float(frame.y(tick, 0.0, 1.0))
            parts.append(
                f'<text x="{frame.left + frame.pw + 5:.0f}" y="{ty + 5.5:.1f}" '
                f'font-size="{TICK_FONT:.0f}" fill="#222">{tick:g}</text>'
            )
    if not n:
        parts.append(
            f'<text x="{frame.left + frame.pw / 2:.0f}" y="{frame.top + frame.ph / 2:.0f}" '
            f'font-size="{TICK_FONT:.0f}" text-anchor="middle" fill="#555">'
            "press Step or Play</text>"
        )
    frame.events(parts, events)
    frame.border(parts)
    _legend(parts, entries, 6, 8 + TITLE_FONT + 6 + LEGEND_FONT, width - 8)
    parts.append("</svg>")
    return "".join(parts)


def svg_panel(
    title: str,
    lines: Sequence[Line],
    *,
    bands: Sequence[Band] = (),
    horizon_years: float = 10.0,
    events: Sequence[Event] = (),
    zero_line: bool = False,
    note: str = "",
    css: str = "civic-compare",
    width: float = 290.0,
    height: float = 236.0,
) -> str:
    """Draw a panel of the side-by-side view: lines (and bands) over years, one metric.

    The y axis fits the data (it need not start at zero; a break mark says so), so a
    gap of a few percent between two strategies is visible. The legend is shared by the
    panels and drawn by the page, not here.

    Args:
        title: Title with the unit.
        lines: The lines, drawn in order (later on top).
        bands: Shaded ranges drawn under the lines.
        horizon_years: The x axis runs from 0 to here.
        events: Events marked by dotted vertical lines.
        zero_line: Draw and always include zero (for differences).
        note: A short line under the title (for example what above zero means).
        css: The SVG's class.
        width: SVG width in units.
        height: SVG height in units.
    """
    lows, highs = [], []
    for item in (*lines, *bands):
        arrays = (item.values,) if isinstance(item, Line) else (item.low, item.high)
        for a in arrays:
            a = np.asarray(a, dtype=float)
            if a.size:
                lows.append(float(np.nanmin(a)))
                highs.append(float(np.nanmax(a)))
    if zero_line:
        lows.append(0.0)
        highs.append(0.0)
    y_ticks = fitted_ticks(lows or [0.0], highs or [1.0], zero_based=False)
    points = max((len(line.years) for line in lines), default=0)
    frame = _Frame(width, height, title, y_ticks, horizon_years, 1 if note else 0)
    parts = [
        f'<svg class="{css}" data-points="{points}" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" role="img" aria-label="{esc(title)}" '
        f'style="{_FONT}">'
    ]
    frame.axes(parts)
    if note:
        parts.append(
            f'<text x="{frame.left:.0f}" y="{8 + TITLE_FONT + 4 + LEGEND_FONT:.0f}" '
            f'font-size="{LEGEND_FONT:.0f}" fill="#333">{esc(note)}</text>'
        )
    parts.append('<g transform="scale(0.1)">')
    for band in bands:
        if len(band.years):
            k = thin(len(band.years))
            path = _band_path(frame, band.years[k], band.low[k], band.high[k])
            parts.append(
                f'<path class="band {band.css}" d="{path}" '
                f'fill="{band.fill}" opacity="{band.opacity}" stroke="none"/>'
            )
    for line in lines:
        if len(line.years):
            k = thin(len(line.years))
            tenths = " ".join(str(int(float(v) * 10)) for v in line.dash.split())
            dash = f' stroke-dasharray="{tenths}"' if line.dash else ""
            path = _polyline(frame, line.years[k], line.values[k])
            parts.append(
                f'<path class="line {line.css}" d="{path}" '
                f'fill="none" stroke="{line.stroke}" stroke-width="{line.width * 10:.0f}" '
                f'stroke-linejoin="round"{dash}/>'
            )
    parts.append("</g>")
    if not points:
        parts.append(
            f'<text x="{frame.left + frame.pw / 2:.0f}" y="{frame.top + frame.ph / 2:.0f}" '
            f'font-size="{TICK_FONT:.0f}" text-anchor="middle" fill="#555">'
            "press Step or Play</text>"
        )
    frame.events(parts, events)
    frame.border(parts)
    parts.append("</svg>")
    return "".join(parts)


def side_legend_html(labels: Mapping[str, str], kept: str = "", band: str = "") -> str:
    """The shared legend of the side-by-side panels, as HTML.

    Args:
        labels: Style key (``"A"``, ``"B"``) to the strategy's label.
        kept: Label of the kept run, if one is drawn.
        band: Label of the band over seeds, if one is drawn.
    """
    items = []
    for key, label in labels.items():
        st = SIDE_STYLES[key]
        items.append(_legend_line_html(st["stroke"], st["dash"], label, f"side-{key}"))
    if kept:
        items.append(_legend_line_html(pal.GREY_MID, "2 5", kept, "side-kept"))
    if band:
        items.append(
            '<span class="civic-legend-item side-band"><svg width="30" height="18" '
            f'aria-hidden="true"><rect x="1" y="2" width="28" height="14" fill="{pal.GREY_LIGHT}" '
            f'opacity="0.8"/></svg><span class="civic-export-text">{esc(band)}</span></span>'
        )
    return f'<div class="civic-legend civic-side-legend">{"".join(items)}</div>'


def _legend_line_html(stroke: str, dash: str, label: str, css: str) -> str:
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    return (
        f'<span class="civic-legend-item {css}"><svg width="34" height="18" aria-hidden="true">'
        f'<line x1="1" x2="33" y1="9" y2="9" stroke="{stroke}" stroke-width="3.5"{dash_attr}/>'
        f'</svg><span class="civic-export-text">{esc(label)}</span></span>'
    )


# --- counters -------------------------------------------------------------------------------
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


def counters_html(c: Mapping[str, object], horizon_years: int = 10) -> str:
    """The counters above the charts: week, people with unmet need, volunteers, spend.

    Args:
        c: Week, year, residents, volunteers and the latest metrics (``None`` before
            the first week).
        horizon_years: Years in a run.
    """
    unmet = format_count(c["residents_with_unmet_need"])
    unmet_of = f" of {c['residents']:,}" if c["share_with_unmet_need"] is not None else ""
    cards = [
        ("week civic-week", f"Week {c['week']}", f"year {c['year']} of {horizon_years}"),
        ("unmet civic-unmet", f"{unmet}{unmet_of}", "with unmet need"),
        ("vol civic-volunteers", f"{c['volunteers']:,}", "active volunteers"),
        ("spend civic-spend", format_money(c["spend_total"]), "council spend a week"),
    ]
    return (
        '<div class="civic-counters">'
        + "".join(
            f'<div class="civic-counter {css}" data-week="{c["week"]}">'
            f'<div class="num civic-export-text">{esc(number)}</div>'
            f'<div class="lab civic-export-text">{esc(label)}</div></div>'
            for css, number, label in cards
        )
        + "</div>"
    )


def small_counters_html(c: Mapping[str, object], css: str) -> str:
    """One line of counters above a side-by-side map."""
    unmet = format_count(c["residents_with_unmet_need"])
    return (
        f'<div class="civic-small-counters civic-export-text {css}" data-week="{c["week"]}">'
        f'<span class="civic-week">Week <b>{c["week"]}</b></span> · '
        f"<b>{esc(unmet)}</b> unmet · <b>{c['volunteers']:,}</b> volunteers</div>"
    )


def charts_html(svgs: Sequence[str], css: str = "civic-charts") -> str:
    """Charts in a grid, as one piece of HTML (one message to the browser a frame)."""
    return f'<div class="{css}">' + "".join(f"<div>{svg}</div>" for svg in svgs) + "</div>"
