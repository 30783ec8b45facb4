"""Phase 6, civic energy: burnout, rest, support, quitting and recruitment (ODD 7.6)."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from agents.volunteer import (
    energy_change,
    load,
    older_volunteer_probability,
    quits,
    recruitment_probability,
)
from model import world
from model.space import count_grid, nearest_hub


def run(model) -> None:
    """Volunteers gain or lose energy and some quit; new volunteers are recruited."""
    update_energy(model)
    quit_volunteering(model)
    recruit_neighbours(model)
    recruit_older_residents(model)


def update_energy(model) -> None:
    """Each volunteer's energy changes with load, rest and hub support (clipped to 0-1)."""
    v, p = model.volunteers, model.p
    live = v.live
    asked = load(v.demand[live], v.capacity[live])
    matched = v.matches[live] > 0
    change = energy_change(v.energy[live], asked, model.council.support, matched, p)
    v.energy[live] = np.clip(v.energy[live] + change, 0.0, 1.0)
    v.weeks_active[live] += 1


def quit_volunteering(model) -> None:
    """Volunteers below the energy threshold, hit by life events, or who now need care
    themselves, stop volunteering."""
    v, r, p = model.volunteers, model.residents, model.p
    live = v.live
    draw = model.streams.decisions.random(live.size)
    leaving = quits(v.energy[live], draw, p)
    as_resident = v.resident_slot[live]
    now_in_need = (as_resident >= 0) & (r.level[np.maximum(as_resident, 0)] > 0)
    model.remove_volunteers(live[leaving | now_in_need])


def recruit_neighbours(model) -> None:
    """Working-age neighbours start volunteering: in each cell, each potential volunteer
    not yet active joins with the weekly recruitment probability (civic potential,
    contagion from active volunteers nearby, outreach, business schemes)."""
    p, v = model.p, model.volunteers
    rng = model.streams.decisions
    potential = world.potential_volunteers(model)
    live = v.live
    neighbours = live[(v.employer[live] < 0) & (v.resident_slot[live] < 0)]
    active_home = count_grid(model.grid.dimensions, v.x[neighbours], v.y[neighbours])
    nearby = world.nearby_volunteer_counts(model)
    prob = recruitment_probability(
        model.civic, nearby, model.council.outreach, business_scheme(model), p
    )
    expected = np.maximum(potential - active_home, 0.0) * prob
    counts = rng.poisson(expected)
    xs, ys = np.nonzero(counts)
    reps = counts[xs, ys]
    x = np.repeat(xs, reps).astype(np.int32)
    y = np.repeat(ys, reps).astype(np.int32)
    if x.size:
        slots = model.add_volunteers(
            x=x,
            y=y,
            capacity=world.draw_capacity(x.size, rng, p),
            energy=rng.uniform(0.6, 1.0, x.size),
            hub=nearest_hub(x, y, model.hub_xy),
        )
        world.tie_new_volunteers(model, slots, rng)
    model.week.recruits += int(x.size)


def business_scheme(model) -> np.ndarray:
    """Recruitment multiplier near engaged open businesses: ``1 + engagement`` within
    ``activity_radius`` of each one (the strongest nearby scheme counts)."""
    b = model.businesses
    live = b.live
    engaged = live[b.open[live] & (b.engagement[live] > 0)]
    best = np.zeros(model.grid.dimensions)
    np.maximum.at(best, (b.x[engaged], b.y[engaged]), b.engagement[engaged])
    size = 2 * model.p.activity_radius + 1
    return 1.0 + ndimage.maximum_filter(best, size=size, mode="constant")


def recruit_older_residents(model) -> None:
    """Young-old residents (under 75, no need, not yet volunteering) start volunteering,
    more likely if they are tied to volunteers (contagion along ties)."""
    r, p = model.residents, model.p
    rng = model.streams.decisions
    live = r.live
    able = live[(r.level[live] == 0) & (r.age[live] < 75.0) & (r.volunteer[live] < 0)]
    if able.size == 0:
        return
    known = model.ties.volunteers_known(r.n_slots)[able]
    prob = older_volunteer_probability(
        model.civic[r.x[able], r.y[able]], known, model.council.outreach, p
    )
    joining = able[rng.random(able.size) < prob]
    if joining.size == 0:
        return
    x, y = r.x[joining], r.y[joining]
    slots = model.add_volunteers(
        x=x,
        y=y,
        capacity=world.draw_capacity(joining.size, rng, p),
        energy=rng.uniform(0.6, 1.0, joining.size),
        resident_slot=joining,
        hub=nearest_hub(x, y, model.hub_xy),
    )
    world.tie_new_volunteers(model, slots, rng)
    model.week.recruits += int(joining.size)
