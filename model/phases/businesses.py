"""Phase 7, businesses: engagement, hosting, employee volunteering, closures, assets (ODD 7.7)."""

from __future__ import annotations

import numpy as np

from agents import business
from model import world


def run(model) -> None:
    """Businesses respond to grants, decide on hosting, staff volunteering, and may close."""
    update_engagement(model)
    staff_volunteering(model)
    closures(model)


def update_engagement(model) -> None:
    """Grants raise engagement, which otherwise fades; engaged businesses host activities.
    A community-owned asset keeps hosting while it has a grant or active volunteers nearby."""
    b, p = model.businesses, model.p
    live = b.live
    firms = live[~b.community_owned[live]]
    b.engagement[firms] = np.clip(
        b.engagement[firms]
        + business.engagement_change(b.engagement[firms], b.grant_share[firms], p),
        0.0,
        1.0,
    )
    b.hosts[firms] = business.hosts_activity(b.engagement[firms], p)
    assets = live[b.community_owned[live] & b.open[live]]
    if assets.size:
        nearby = world.volunteers_near(model, b.x[assets], b.y[assets])
        b.hosts[assets] = (b.grant_share[assets] > 0) | (nearby >= 1)


def staff_volunteering(model) -> None:
    """Engaged open businesses keep ``employee_volunteer_target`` employees volunteering;
    a missing place is filled with weekly chance ``employee_join_rate`` (schemes take
    time to organise)."""
    b, p = model.businesses, model.p
    rng = model.streams.decisions
    live = b.live
    running = live[b.open[live] & ~b.community_owned[live]]
    gap = (
        business.employee_volunteer_target(b.engagement[running], p).astype(int)
        - b.employees[running]
    )
    fill = (gap > 0) & (rng.random(running.size) < p.employee_join_rate)
    world.add_employee_volunteers(model, running[fill], rng)


def closures(model) -> None:
    """Open businesses close with the weekly closure chance, plus, in the shock year, an
    extra share (both exogenous draws). A closure may become a community-owned asset
    where civic energy is high; otherwise it stays closed and its regulars look for the
    next venue. Either way its employee volunteers stop (an asset is run by volunteers)."""
    b, p, week = model.businesses, model.p, model.t
    live = b.live
    candidates = live[b.open[live] & ~b.community_owned[live]]
    if candidates.size == 0:
        return
    ids = b.business_id[candidates]
    closing = model.streams.exogenous_uniform("closure", ids, week) < business.closure_probability(
        p
    )
    if p.shock_closure_share > 0 and week == p.shock_year * 52 + 1:
        shock = model.streams.exogenous_uniform("shock", ids, week) < p.shock_closure_share
        closing |= shock
    closed = candidates[closing]
    if closed.size == 0:
        return
    # its own employee volunteers stop with it, so they do not count towards an asset
    nearby = world.volunteers_near(model, b.x[closed], b.y[closed]) - b.employees[closed]
    chance = business.asset_probability(model.civic[b.x[closed], b.y[closed]], nearby, p)
    becomes_asset = model.streams.exogenous_uniform("asset", b.business_id[closed], week) < chance
    assets = closed[becomes_asset]
    b.community_owned[assets] = True
    b.engagement[assets] = 1.0
    shut = closed[~becomes_asset]
    b.open[shut] = False
    b.hosts[shut] = False
    b.engagement[shut] = 0.0
    if shut.size:
        world.venues_shut(model, shut)
    v = model.volunteers
    staff = v.live[np.isin(v.employer[v.live], closed)]
    model.remove_volunteers(staff)
    b.employees[closed] = 0
