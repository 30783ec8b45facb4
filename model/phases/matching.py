"""Phase 4, matching: volunteers are paired with residents who lack low-level support.

ODD 7.4. Pairings persist until the volunteer quits, the resident dies or the need
goes. Without a hub, a volunteer finds someone only within ``discovery_radius`` or
through ties; with a hub, coordinators broker matches within each hub's catchment up
to their capacity, neediest first, each with the nearest volunteer who has room and
lives within ``travel_radius``. Matching is done in bulk through spatial indexes (a
bucket grid of volunteers for brokerage, the cell index of residents for discovery),
never by scanning all pairs.
"""

from __future__ import annotations

import numpy as np

from agents import hub as hubs
from agents import resident, volunteer
from model import kernels
from model.phases import council

#: How many of the nearest volunteers a resident's coordinator tries, nearest first.
BROKER_CHOICES = 8


def run(model) -> None:
    """End pairings whose need has gone; coordinators do their fixed duties, then broker
    new matches with the time left; volunteers find others themselves; coordinators'
    spare time goes into community development; residents come forward for help."""
    end_finished_pairings(model)
    council.spend_coordinator_time(model)
    seeking = residents_seeking_help(model)
    brokered = 0
    if seeking.size:
        matched = broker_matches(model, seeking)
        brokered = matched.size
        if matched.size:
            taken = np.zeros(model.residents.n_slots, dtype=bool)
            taken[matched] = True
            seeking = seeking[~taken[seeking]]
        if seeking.size:
            discover_matches(model, seeking)
    council.develop_community(model, brokered)
    residents_come_forward(model)


def end_finished_pairings(model) -> None:
    """A pairing ends when the resident no longer needs low-level support from others."""
    pairs, r = model.pairs, model.residents
    model.end_pairings(kernels.pairings_done(pairs.res, pairs.alive, r.need_low, r.fam_low))


def residents_seeking_help(model) -> np.ndarray:
    """Residents who have come forward for help (``accepts_help``), with low-level need
    left after family and no volunteer yet, neediest first (highest level, then the
    largest gap, then lowest person number)."""
    r, pairs = model.residents, model.pairs
    seeking, gap = kernels.seeking_help(
        r.alive & r.accepts_help, r.need_low, r.fam_low, pairs.res, pairs.alive
    )
    return seeking[np.lexsort((r.person_id[seeking], -gap, -r.level[seeking]))]


def residents_come_forward(model) -> None:
    """Residents who lack low-level support after family and have not yet asked for help
    come forward with :func:`agents.resident.help_acceptance_probability` (referrals
    along ties: the volunteers they know and their tied neighbours who have a volunteer;
    the hub's outreach). From next week they seek a volunteer; once known, a resident
    stays known (:func:`kernels.waiting_for_help` finds them and their referrers)."""
    r, p, pairs, ties = model.residents, model.p, model.pairs, model.ties
    waiting, referrers = kernels.waiting_for_help(
        r.alive,
        r.accepts_help,
        r.need_low,
        r.fam_low,
        pairs.res,
        pairs.alive,
        ties.rr_a,
        ties.rr_b,
        ties.volunteers_known(r.n_slots),
    )
    chance = resident.help_acceptance_probability(referrers, model.council.outreach, p)
    coming = waiting[model.streams.decisions.random(waiting.size) < chance]
    r.accepts_help[coming] = True
    model.week.not_asking = int(waiting.size - coming.size)


def volunteers_with_room(model) -> np.ndarray:
    """Volunteers who can take another match: through their checks and training
    (``volunteer_pipeline_weeks``), fewer than ``max_matches`` pairings, and not
    older-resident volunteers who now need care themselves (they stop this week)."""
    v, r, p = model.volunteers, model.residents, model.p
    return kernels.with_room(
        v.live,
        v.matches,
        v.resident_slot,
        r.level,
        v.weeks_active,
        int(p.volunteer_pipeline_weeks),
        p.max_matches,
    )


def broker_matches(model, seeking: np.ndarray) -> np.ndarray:
    """Coordinators broker up to ``broker_capacity`` matches (the hours left after their
    fixed duties, :func:`model.phases.council.spend_coordinator_time`), split over hubs
    by where the volunteers are; within each hub's catchment the neediest residents come
    first, each with the nearest volunteer who has room and lives within
    ``travel_radius``. Capacity a hub does not use then serves the seekers still waiting
    at any hub, with any volunteer in reach (hubs share their coordinators' time).

    Matching goes in rounds (:func:`agents.hub.broker`): in round j every resident still
    unmatched asks the j-th nearest of their ``BROKER_CHOICES`` nearest volunteers (of
    their hub, ties to the lower slot), who accepts while they have room. So the
    neediest get their nearest volunteer and nobody takes a volunteer a needier resident
    asked for in the same round.

    Returns:
        The residents matched.
    """
    c = model.council
    capacity = int(c.broker_capacity)
    nothing = np.zeros(0, dtype=np.int64)
    if capacity <= 0:
        return nothing
    r, v = model.residents, model.volunteers
    quota = np.floor(capacity * c.hub_share + 1e-9).astype(int)
    quota[: capacity - quota.sum()] += 1  # hand out the remainder, lowest hub first
    free = volunteers_with_room(model)
    if free.size == 0:
        return nothing
    room = (model.p.max_matches - v.matches[free]).astype(np.int64)
    by_hub = _split_by(seeking, r.hub[seeking], c.hubs)  # need order kept within a hub
    residents = np.concatenate([group[: 4 * q] for group, q in zip(by_hub, quota, strict=True)])
    hub = r.hub[residents]
    matched_to = _broker(model, residents, hub, free, v.hub[free], room)
    # each hub keeps its neediest `quota` matches
    done = np.flatnonzero(matched_to >= 0)
    done = done[np.argsort(hub[done], kind="stable")]
    first = np.searchsorted(hub[done], hub[done], side="left")
    done = done[(np.arange(done.size) - first) < quota[hub[done]]]
    made_r, made_v = residents[done], free[matched_to[done]]
    room = (model.p.max_matches - v.matches[free]).astype(np.int64)
    np.subtract.at(room, matched_to[done], 1)  # the room the kept matches use
    spare = capacity - done.size
    if spare > 0 and c.hubs > 1:
        # capacity unused at one hub serves the seekers still waiting at any hub
        taken = np.zeros(r.n_slots, dtype=bool)
        taken[made_r] = True
        rest = seeking[~taken[seeking]][: 4 * spare]
        anyone = np.zeros(rest.size, dtype=np.int16)
        shared = _broker(model, rest, anyone, free, np.zeros(free.size, np.int16), room)
        extra = np.flatnonzero(shared >= 0)[:spare]
        made_r = np.concatenate([made_r, rest[extra]])
        made_v = np.concatenate([made_v, free[shared[extra]]])
    model.add_pairings(made_v, made_r, True)
    model.week.matches_brokered = int(made_r.size)
    return made_r


def _broker(model, residents, resident_hub, free, free_hub, room) -> np.ndarray:
    """:func:`agents.hub.broker` (its compiled copy :func:`kernels.broker`) for these
    residents and free volunteers (``room`` is used up in place): each resident's
    volunteer position in ``free``, or -1."""
    if residents.size == 0:
        return np.zeros(0, dtype=np.int64)
    r, v = model.residents, model.volunteers
    return kernels.use(hubs.broker)(
        r.x[residents],
        r.y[residents],
        np.ascontiguousarray(resident_hub, dtype=np.int16),
        v.x[free],
        v.y[free],
        np.ascontiguousarray(free_hub, dtype=np.int16),
        room,
        int(model.p.travel_radius),
        BROKER_CHOICES,
    )


def _split_by(items: np.ndarray, group: np.ndarray, groups: int) -> list[np.ndarray]:
    """``items`` split by ``group`` (0 .. groups-1), keeping their order within a group."""
    order = np.argsort(group, kind="stable")
    bounds = np.searchsorted(group[order], np.arange(groups + 1))
    return [items[order[bounds[g] : bounds[g + 1]]] for g in range(groups)]


def discover_matches(model, seeking: np.ndarray) -> None:
    """Without brokerage: each volunteer with room, with weekly chance ``discovery_rate``,
    finds the neediest resident still seeking help living within ``discovery_radius``
    cells (a square) or among the residents they reach through ties (and living within
    ``travel_radius``).

    Volunteers choose in a random order; each takes the neediest candidate not taken by
    an earlier one (one pass over everyone's candidate list,
    :func:`agents.volunteer.choose_in_turn`).
    """
    r, v, p = model.residents, model.volunteers, model.p
    rng = model.streams.decisions
    free = volunteers_with_room(model)
    looking = free[rng.random(free.size) < p.discovery_rate]
    if looking.size == 0:
        return
    looking = looking[rng.permutation(looking.size)]
    order = np.empty(v.n_slots, dtype=np.int64)
    order[looking] = np.arange(looking.size)  # earlier volunteers choose first
    rank = np.full(r.n_slots, np.iinfo(np.int64).max, dtype=np.int64)
    rank[seeking] = np.arange(seeking.size)  # lower rank = needier

    point, near = model.cell_index.near_many(
        v.x[looking], v.y[looking], p.discovery_radius, wanted=rank < seeking.size
    )
    tie_vol, tie_res = model.ties.residents_reachable(looking, r.n_slots)
    close = (np.abs(r.x[tie_res] - v.x[tie_vol]) <= p.travel_radius) & (
        np.abs(r.y[tie_res] - v.y[tie_vol]) <= p.travel_radius
    )
    vol = np.concatenate([looking[point], tie_vol[close]])
    res = np.concatenate([near, tie_res[close]])
    ok = rank[res] < seeking.size
    vol, res = vol[ok], res[ok]
    if vol.size == 0:
        return
    # each volunteer's candidates, neediest first (duplicates are harmless)
    by = np.lexsort((rank[res], order[vol]))
    vol, res = vol[by], res[by]
    holder = kernels.use(volunteer.choose_in_turn)(vol, res, r.n_slots)
    made_r = np.flatnonzero(holder >= 0)
    made_v = vol[holder[made_r]]
    model.add_pairings(made_v, made_r, False)
    model.week.matches_found = len(made_v)
