"""Phase 3, family care: carers stop or step in, then give this week's hours (ODD 7.10).

Family care comes first in the order of care and depends on nothing the council or
volunteers do this week, so it is settled before the council plans. A carer breaks down
with a hazard that rises with the hours they gave last week (lowered by the council's
carer support of last week); a carer dies at the age drawn for them from the life table
when they started. A relative may step in for a resident
with need who has nobody. All these events are exogenous draws keyed by person and week
(common random numbers), though their chances depend on the state.
"""

from __future__ import annotations

import numpy as np

from agents import carer, resident
from agents.resident import weekly
from model import kernels, world

#: The rules the compiled copy of this phase's first two steps copies.
RULES = (
    "carer_breakdown_probability",
    "new_carer_probability",
    "carer_ages",
    "carer_death_age",
)


def run(model) -> None:
    """Carers stop (death or breakdown) or step in; then family hours are given."""
    if kernels.shipped(*(getattr(carer, name) for name in RULES), weekly):
        carer_events(model)  # the compiled copy of the next two steps
    else:
        carers_stop(model)
        carers_step_in(model)
    give_care(model)


def carer_events(model) -> None:
    """:func:`carers_stop` then :func:`carers_step_in`, in one compiled pass
    (:func:`model.kernels.carer_events`, checked against them by a property test)."""
    r, p, t, streams = model.residents, model.p, model.t, model.streams
    cum, lows, highs = _bands(p)
    deaths, breakdowns, new = kernels.carer_events(
        r.alive,
        r.level,
        r.in_care_home,
        r.age,
        r.family_hours,
        r.carer_age,
        r.carer_death_age,
        r.fam_personal,
        r.fam_low,
        r.person_id,
        r.breakdown_week,
        t,
        streams.salt("carer_breakdown", t),
        streams.salt("carer_new", t),
        streams.salt("carer_band", t),
        streams.salt("carer_hours", t),
        streams.salt("carer_lifespan", t),
        float(p.carer_breakdown_per_hour),
        float(p.carer_support_effect),
        float(model.council.carer_support),
        float(carer.new_carer_probability(1, p)),
        float(p.carer_generation_gap),
        cum,
        lows,
        highs,
        float(p.mortality_at_65),
        float(p.mortality_age_slope),
    )
    model.week.carer_deaths = int(deaths)
    model.week.carer_breakdowns = int(breakdowns)
    model.week.new_carers = int(new)


_BANDS: dict = {}


def _bands(p) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The Census bands of carers' hours for the kernel: cumulative shares, lower and upper
    ends (as :func:`model.world.carer_hours_from` uses them), made once per set of shares."""
    key = tuple(p.family_hours_band_shares)
    if key not in _BANDS:
        shares = np.asarray(key, dtype=np.float64)
        _BANDS[key] = (
            np.cumsum(shares) / shares.sum(),
            np.array([band[0] for band in world.FAMILY_HOUR_BANDS], dtype=np.float64),
            np.array([band[1] for band in world.FAMILY_HOUR_BANDS], dtype=np.float64),
        )
    return _BANDS[key]


def carers_stop(model) -> None:
    """Family carers die (on reaching the age of death drawn when they started,
    :func:`agents.carer.carer_death_age`) or break down (a hazard rising with the hours
    they gave last week); either way the resident has no carer from now on. A breakdown
    starts a crisis for the resident, who is then more likely to move into a care home
    (:func:`agents.resident.care_home_admission_probability`)."""
    r, p, t = model.residents, model.p, model.t
    caring = r.alive & (r.family_hours > 0)
    died = np.flatnonzero(caring & (r.carer_age >= r.carer_death_age))
    givers = np.flatnonzero(caring & (r.fam_personal + r.fam_low > 0))
    given_last_week = r.fam_personal[givers] + r.fam_low[givers]
    broke = model.streams.happens_to(
        "carer_breakdown",
        givers,
        r.person_id,
        t,
        carer.carer_breakdown_probability(given_last_week, model.council.carer_support, p),
    )
    broke = broke[~np.isin(broke, died)]
    r.breakdown_week[broke] = t
    stopped = np.concatenate([died, broke])
    r.family_hours[stopped] = 0.0
    r.carer_age[stopped] = 0.0
    r.carer_death_age[stopped] = 0.0
    model.week.carer_deaths = int(died.size)
    model.week.carer_breakdowns = int(broke.size)


def carers_step_in(model) -> None:
    """A son or daughter starts caring for a resident at home with need and no carer, with
    the weekly chance of :func:`agents.carer.new_carer_probability`; they can give hours
    from the Census 2021 bands (:func:`model.world.carer_hours_from`)."""
    r, p, t = model.residents, model.p, model.t
    without = np.flatnonzero(r.alive & (r.family_hours <= 0) & ~r.in_care_home & (r.level > 0))
    new = model.streams.happens_to(
        "carer_new", without, r.person_id, t, carer.new_carer_probability(r.level[without], p)
    )
    model.week.new_carers = int(new.size)
    if new.size == 0:
        return
    ids = r.person_id[new]
    u_band = model.streams.exogenous_uniform("carer_band", ids, t)
    u_hours = model.streams.exogenous_uniform("carer_hours", ids, t)
    u_life = model.streams.exogenous_uniform("carer_lifespan", ids, t)
    r.family_hours[new] = world.carer_hours_from(u_band, u_hours, p)
    r.carer_age[new] = carer.carer_ages(r.age[new], False, p)
    r.carer_death_age[new] = carer.carer_death_age(r.carer_age[new], 1.0 - u_life, p)


def give_care(model) -> None:
    """Family carers give more as need grows, up to their limit
    (:func:`agents.resident.family_care`)."""
    r = model.residents
    # every slot at once: a free slot has no need, so no family care
    r.fam_personal[:], r.fam_low[:] = resident.family_care(
        r.need_personal, r.need_low, r.family_hours
    )
