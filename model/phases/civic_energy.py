"""Phase 6, civic energy: burnout, rest, support, quitting and recruitment (ODD 7.6)."""

from __future__ import annotations

import numpy as np

from agents import volunteer
from agents.resident import WEEKS_PER_YEAR
from model import kernels, world
from model.space import nearest_hub


def run(model) -> None:
    """Volunteers gain or lose energy and some quit; new volunteers are recruited."""
    update_energy(model)
    quit_volunteering(model)
    recruit_neighbours(model)
    recruit_older_residents(model)


def update_energy(model) -> None:
    """Each volunteer's energy changes with load, rest and hub support (clipped to 0-1);
    volunteers still in checks and training (``volunteer_pipeline_weeks``) do not lose
    interest for want of someone to help."""
    v, p = model.volunteers, model.p
    live = v.live
    asked = volunteer.load(v.demand[live], v.capacity[live])
    matched = v.matches[live] > 0
    training = v.weeks_active[live] < p.volunteer_pipeline_weeks
    change = volunteer.energy_change(
        v.energy[live], asked, model.council.support, matched, p, training
    )
    v.energy[live] = np.clip(v.energy[live] + change, 0.0, 1.0)
    v.weeks_active[live] += 1
    v.age[live] += 1.0 / WEEKS_PER_YEAR


def quit_volunteering(model) -> None:
    """Volunteers below the energy threshold, hit by life events, or who now need care
    themselves, stop volunteering."""
    v, r, p = model.volunteers, model.residents, model.p
    live = v.live
    draw = model.streams.decisions.random(live.size)
    leaving = volunteer.quits(v.energy[live], draw, v.age[live], v.weeks_active[live], p)
    as_resident = v.resident_slot[live]
    now_in_need = (as_resident >= 0) & (r.level[np.maximum(as_resident, 0)] > 0)
    model.remove_volunteers(live[leaving | now_in_need])


def recruit_neighbours(model) -> None:
    """Working-age neighbours start volunteering: each potential volunteer of a
    neighbourhood who is not yet active joins with the weekly recruitment probability
    (contagion from active volunteers nearby, outreach, business schemes). The pool of a
    neighbourhood is its working-age adults times :func:`agents.volunteer.pool_share`
    (:func:`model.world.neighbourhood_pools`), so recruitment slows as the pool empties.

    Drawn by *thinning*, which gives exactly the same per-cell Poisson numbers as
    visiting every cell: candidates are drawn among the free potential volunteers (a
    neighbourhood in proportion to its free pool, then a cell of it in proportion to its
    potential) at the highest possible rate (full contagion, full outreach, the strongest
    scheme), then each is kept with its actual rate divided by that highest rate. Only the
    candidate cells are looked at, so the cost does not grow with the size of the map.
    """
    p = model.p
    rng = model.streams.decisions
    # the highest rate per potential volunteer: full contagion, this week's outreach and
    # the strongest possible business scheme (engagement 1)
    top = p.recruitment_rate * (1.0 + p.contagion_strength * p.contagion_cap)
    top *= model.council.outreach * 2.0
    free = np.maximum(world.neighbourhood_pools(model) - world.neighbourhood_volunteers(model), 0)
    free_total = np.cumsum(free)
    total = free_total[-1] * top if free_total.size else 0.0
    n = int(rng.poisson(total)) if total > 0 else 0
    if n == 0:
        return
    # sorted draws walk the running totals once (a binary search per draw in random order
    # misses the cache on every step); candidates are exchangeable, so nothing else changes
    areas = np.searchsorted(free_total, np.sort(rng.random(n)) * free_total[-1], side="right")
    areas = np.minimum(areas, free.size - 1)  # guard against rounding up to the total
    cells = world.cells_by_potential(model, areas, rng.random(n))
    width, height = model.grid.dimensions
    x, y = (cells // height).astype(np.int32), (cells % height).astype(np.int32)
    rate = volunteer.recruitment_probability(
        world.volunteers_near(model, x, y),
        model.council.outreach,
        business_scheme(model, x, y),
        p,
    )
    accept = rate / top
    if (accept > 1.0 + 1e-9).any():
        raise ValueError(
            "recruitment_probability gave a rate above the thinning bound (recruitment_rate x "
            "(1 + contagion_strength x contagion_cap) x outreach x 2); a changed rule must "
            "stay within it"
        )
    keep = rng.random(n) < accept
    x, y = x[keep], y[keep]
    if x.size:
        slots = model.add_volunteers(
            x=x,
            y=y,
            capacity=world.draw_capacity(x.size, rng, p),
            energy=world.new_energy(x.size, rng, p),
            hub=nearest_hub(x, y, model.hub_xy),
        )
        world.tie_new_volunteers(model, slots, rng)
    model.week.recruits += int(x.size)


def business_scheme(model, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Recruitment multiplier at cells (x, y) from business volunteering schemes:
    ``1 + engagement`` of the most engaged open business within ``activity_radius``
    (a square), or 1 if there is none."""
    b = model.businesses
    live = b.live
    open_ = live[b.open[live] & (b.engagement[live] > 0)]
    if open_.size == 0 or len(x) == 0:
        return np.ones(len(x))
    return 1.0 + kernels.best_within(
        np.ascontiguousarray(x, dtype=np.int64),
        np.ascontiguousarray(y, dtype=np.int64),
        b.x[open_].astype(np.int64),
        b.y[open_].astype(np.int64),
        b.engagement[open_],
        model.p.activity_radius,
    )


def recruit_older_residents(model) -> None:
    """Young-old residents (under ``young_old_age``, no need) who are potential volunteers
    (:func:`model.world.is_potential_volunteer`) and not yet volunteering start, more
    likely if they are tied to volunteers (contagion along ties)."""
    r, p = model.residents, model.p
    rng = model.streams.decisions
    pool = world.young_old_pool(model)
    able = pool[r.volunteer[pool] < 0]
    if able.size == 0:
        return
    known = model.ties.volunteers_known(r.n_slots)[able]
    prob = volunteer.older_volunteer_probability(
        known, model.council.outreach, r.age[able], r.connection[able], p
    )
    joining = able[rng.random(able.size) < prob]
    if joining.size == 0:
        return
    world.add_older_volunteers(model, joining, rng)
    model.week.recruits += int(joining.size)
