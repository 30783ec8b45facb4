"""Phase 5, care delivery: family, then paid, then volunteers and businesses (ODD 7.5).

Family hours were assessed in phase 2 and paid hours bought in phase 3; here
volunteers give their hours to the residents they are paired with, and businesses
welcome residents to hosted activities. Hours given never exceed a volunteer's capacity;
hours met never exceed need, per resident and type. Then unmet need is counted and each
resident's connection moves towards its target.
"""

from __future__ import annotations

import numpy as np

from agents import business, resident, volunteer
from model import kernels


def run(model) -> None:
    """Deliver volunteer and business support, then count unmet need and connection."""
    volunteer_visits(model)
    hosted_activities(model)
    record_outcomes(model)


def volunteer_visits(model) -> None:
    """Each volunteer splits their capacity evenly over their pairings; a resident with
    more offered than they lack takes only what they lack (each offer scaled down alike).
    The need that falls on a volunteer (their share of their residents' gaps) is recorded
    as their demand. Hours from employee volunteers count as business hours."""
    r, v, pairs = model.residents, model.volunteers, model.pairs
    live = pairs.live
    gap = np.maximum(r.need_low - r.fam_low, 0.0)
    visits = kernels.use(volunteer.visits)
    hours, r.vol_low[:], r.biz_low[:], v.demand[:], v.hours_given[:], r.visited[:] = visits(
        pairs.vol[live].astype(np.int64),
        pairs.res[live].astype(np.int64),
        v.capacity,
        v.matches,
        v.employer,
        gap,
        v.n_slots,
    )
    pairs.hours[live] = hours


def hosted_activities(model) -> None:
    """Each open business that hosts an activity welcomes up to ``activity_places`` of
    the residents living at home whose nearest business it is, loneliest first. Attendees
    gain company and, if they lack low-level support, up to ``activity_hours`` of it."""
    r, b, p = model.residents, model.businesses, model.p
    kernels.use(business.activities)(
        r.near_business,
        r.alive & ~r.in_care_home,
        b.open & b.hosts & b.alive,
        r.connection,
        p.activity_places,
        float(p.activity_hours),
        r.need_low,
        r.fam_low,
        r.vol_low,
        r.biz_low,
        r.attends,
        b.attendees,
    )


def record_outcomes(model) -> None:
    """Unmet need, the running 'recent unmet share', the share of low-level need met
    (1 for residents with none: they lack nothing), unmet hours per cell for the map
    (:func:`kernels.settle_week`), and the weekly move of connection towards its target.

    Computed over every slot at once: free slots hold no need and are reset when reused.
    """
    r, p = model.residents, model.p
    kernels.settle_week(
        r.need_personal,
        r.need_low,
        r.fam_personal,
        r.paid_personal,
        r.fam_low,
        r.vol_low,
        r.biz_low,
        r.recent_unmet,
        p.unmet_memory,
        r.fully_supported,
        r.low_support,
        r.x,
        r.y,
        model.grid.unmet_need.data,  # hours unmet per cell, for the map
    )
    degree = model.ties.resident_degree(r.n_slots)
    target = resident.connection_target(degree, r.visited, r.attends, p)
    r.connection[:] = resident.updated_connection(r.connection, target, p)
