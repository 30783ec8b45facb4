"""What the page reads from a running model: map arrays, counters, chart columns, events.

Nothing here changes a model or holds a rule of the model: every number shown is read
from the model's arrays or from its metrics (``model.datacollector``). Unmet hours come
from the metrics' own per-resident definition (:func:`model.metrics.unmet_hours_of`),
so the map's colours and the charts count the same hours.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
from scipy import ndimage

from model import metrics
from workshop import drawing
from workshop.drawing import (  # noqa: F401  (format_* are re-exported for the page)
    IN_CARE_HOME,
    MOST_UNMET,
    MOSTLY_UNMET,
    NEED_MET,
    NO_NEED,
    NOT_ASSESSED,
    SOME_UNMET,
    Event,
    MapArrays,
    format_count,
    format_money,
)

#: Spread (cells of about 100 m) over which "unmet need by area" is smoothed.
AREA_SMOOTHING = 1.5


def _jitter(ids: np.ndarray, salt: float) -> np.ndarray:
    """Return a stable offset in [0.2, 0.8) per id, so dots stay put week to week."""
    frac = np.mod(np.asarray(ids, dtype=np.float64) * 0.6180339887498949 + salt, 1.0)
    return 0.2 + 0.6 * frac


def resident_hours(model) -> tuple[np.ndarray, np.ndarray]:
    """Needed and unmet hours this week of each live resident (in slot order).

    Both come from the model's metrics (one definition of unmet hours).
    """
    live = model.residents.live
    return metrics.need_hours_of(model)[live], metrics.unmet_hours_of(model)[live]


def resident_categories(model) -> np.ndarray:
    """Map category of each live resident (in slot order).

    NO_NEED, NEED_MET (every needed hour met this week), SOME_UNMET, MOST_UNMET (more
    than :data:`~workshop.drawing.MOSTLY_UNMET` of the hours unmet), IN_CARE_HOME (living
    in a care home with nothing unmet; only in a model with care homes), or NOT_ASSESSED:
    a need level above 0 but no hours worked out yet (before the first week has run).
    """
    r = model.residents
    need, unmet = resident_hours(model)
    share = np.divide(unmet, need, out=np.zeros_like(need), where=need > 0)
    category = np.where(need > 0, NEED_MET, NO_NEED)
    category = np.where((need <= 0) & (r.level[r.live] > 0), NOT_ASSESSED, category)
    in_home = getattr(r, "in_care_home", None)  # a model with care homes
    if in_home is not None:
        category = np.where(in_home[r.live], IN_CARE_HOME, category)
    category = np.where(unmet > 1e-9, SOME_UNMET, category)
    category = np.where(share > MOSTLY_UNMET, MOST_UNMET, category)
    return category.astype(np.int8)


def area_unmet(model, smoothing: float = AREA_SMOOTHING) -> np.ndarray:
    """Unmet care hours a week per cell, smoothed over neighbouring blocks.

    Reads the model's ``unmet_need`` property layer (hours unmet per cell this week) and
    spreads it with a Gaussian of ``smoothing`` cells; the total is kept (edges aside).
    """
    cells = np.asarray(model.grid.unmet_need.data, dtype=float)
    if smoothing <= 0:
        return cells
    return ndimage.gaussian_filter(cells, sigma=smoothing, mode="constant")


def unmet_scale(model, smoothing: float = AREA_SMOOTHING) -> float:
    """A fixed top for a run's "unmet need by area" colour bar.

    Unmet hours in an area cannot exceed the hours needed there, so the scale is a round
    number at or above the 98th percentile of the smoothed *need* per cell this week
    (read once, after the first week, and kept for the run). Areas above it are drawn in
    the top colour ("or more").
    """
    r = model.residents
    live = r.live
    need = metrics.need_hours_of(model)[live]
    width, height = model.grid.dimensions
    cells = np.zeros((int(width), int(height)))
    np.add.at(cells, (r.x[live], r.y[live]), need)
    smooth = ndimage.gaussian_filter(cells, sigma=smoothing, mode="constant")
    top = float(np.percentile(smooth, 98)) if smooth.size else 0.0
    return float(drawing.nice_ticks(max(top, 5.0), 4)[-1])


def neighbourhood(model, background: str = "civic") -> MapArrays:
    """Collect the neighbourhood map's arrays from a model.

    Args:
        model: A ``CivicModel``.
        background: A key of :data:`workshop.drawing.BACKGROUNDS`.

    Raises:
        ValueError: For an unknown background name.
    """
    if background not in drawing.BACKGROUNDS:
        raise ValueError(
            f"background must be one of {', '.join(drawing.BACKGROUNDS)}, got {background!r}"
        )
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
    counts = np.bincount(category, minlength=6)
    return MapArrays(
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
            "no_need": int(counts[NO_NEED]),
            "need_met": int(counts[NEED_MET]),
            "some_unmet": int(counts[SOME_UNMET]),
            "most_unmet": int(counts[MOST_UNMET]),
            "not_assessed": int(counts[NOT_ASSESSED]),
            "in_care_home": int(counts[IN_CARE_HOME]),
            "volunteers": int(vl.size),
            "businesses": int(plain.sum()),
            "assets": int((is_open & owned).sum()),
            "closed": int((~is_open).sum()),
        },
    )


# --- the weekly metrics -------------------------------------------------------------------
def weekly(model, columns: Sequence[str]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Years since the start of each collected week, and the named metric columns.

    Rows are the weeks run (``step`` 1, 2, ...); a row collected before the first week
    (step 0), if the model collects one, is left out so every chart starts at week 1.
    Derived columns: ``spend_facilitation``, the sum of the
    :data:`~workshop.drawing.FACILITATION_SPEND` lines the model collects (coordinators,
    volunteer support, outreach and, with a care system, carer support; grants are their
    own band). A column the model does not collect is all zeros.
    """
    data = model.datacollector.model_vars
    steps = np.asarray(data.get("step", []), dtype=float)
    keep = steps >= 1
    n = int(keep.sum())
    out: dict[str, np.ndarray] = {}
    for name in columns:
        if name == "spend_facilitation":
            parts = [
                np.asarray(data[c], dtype=float)[keep]
                for c in drawing.FACILITATION_SPEND
                if c in data
            ]
            out[name] = np.sum(parts, axis=0) if parts else np.zeros(n)
        elif name in data:
            out[name] = np.asarray(data[name], dtype=float)[keep]
        else:
            out[name] = np.zeros(n)
    return steps[keep] / 52.0, out


def metrics_csv(model) -> str:
    """The run's weekly metrics (every collected column, one row a week) as CSV text."""
    frame = model.metrics_frame()
    buf = io.StringIO()
    frame.to_csv(buf, index=False, float_format="%.6g")
    return buf.getvalue()


def latest(model) -> dict[str, float]:
    """The last collected week's metrics (empty before the first week)."""
    data = model.datacollector.model_vars
    steps = data.get("step", [])
    if not steps or steps[-1] < 1:
        return {}
    return {k: v[-1] for k, v in data.items() if v}


def counters(model) -> dict[str, object]:
    """The numbers shown above the map: week, year and the latest metrics.

    Values that only exist after a week has run (unmet need, spend) are ``None`` at week 0.
    """
    last = latest(model)
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


def events(params) -> list[Event]:
    """Events of a run, from its parameters: when a budget cut or a shock starts.

    A yearly cut applies from the first week (the budget falls a little every week), so
    it is marked at week 1; a business shock at the first week of its year.
    """
    out = []
    if params.budget_cut_rate > 0:
        out.append(Event(1, f"cut {params.budget_cut_rate:.1%} a year"))
    elif params.budget_cut_rate < 0:
        out.append(Event(1, f"budget grows {-params.budget_cut_rate:.1%} a year"))
    if getattr(params, "shock_closure_share", 0) > 0:
        week = int(params.shock_year) * 52 + 1
        out.append(Event(week, f"shock: {params.shock_closure_share:.0%} of businesses close"))
    return out
