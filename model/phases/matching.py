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
from agents import volunteer
from model import kernels

#: How many of the nearest volunteers a resident's coordinator tries, nearest first.
BROKER_CHOICES = 8


def run(model) -> None:
    """End pairings whose need has gone, then find and broker new ones."""
    end_finished_pairings(model)
    seeking = residents_seeking_help(model)
    if seeking.size == 0:
        return
    matched = broker_matches(model, seeking)
    if matched.size:
        taken = np.zeros(model.residents.n_slots, dtype=bool)
        taken[matched] = True
        seeking = seeking[~taken[seeking]]
    if seeking.size:
        discover_matches(model, seeking)


def end_finished_pairings(model) -> None:
    """A pairing ends when the resident no longer needs low-level support from others."""
    pairs, r = model.pairs, model.residents
    model.end_pairings(kernels.pairings_done(pairs.res, pairs.alive, r.need_low, r.fam_low))


def residents_seeking_help(model) -> np.ndarray:
    """Residents with low-level need left after family and no volunteer yet, neediest
    first (highest level, then the largest gap, then lowest person number)."""
    r, pairs = model.residents, model.pairs
    seeking, gap = kernels.seeking_help(r.alive, r.need_low, r.fam_low, pairs.res, pairs.alive)
    return seeking[np.lexsort((r.person_id[seeking], -gap, -r.level[seeking]))]


def volunteers_with_room(model) -> np.ndarray:
    """Volunteers who can take another match (fewer than ``max_matches``), leaving out
    older-resident volunteers who now need care themselves (they stop this week)."""
    v, r = model.volunteers, model.residents
    return kernels.with_room(v.live, v.matches, v.resident_slot, r.level, model.p.max_matches)


def broker_matches(model, seeking: np.ndarray) -> np.ndarray:
    """Coordinators broker up to ``broker_capacity`` matches, split over hubs by where
    the volunteers are; within each hub's catchment the neediest residents come first,
    each with the nearest volunteer who has room and lives within ``travel_radius``.

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
    if capacity <= 0:
        return np.zeros(0, dtype=np.int64)
    r, v, p = model.residents, model.volunteers, model.p
    quota = np.floor(capacity * c.hub_share + 1e-9).astype(int)
    quota[: capacity - quota.sum()] += 1  # hand out the remainder, lowest hub first
    free = volunteers_with_room(model)
    by_hub = _split_by(seeking, r.hub[seeking], c.hubs)  # need order kept within a hub
    residents = np.concatenate([group[: 4 * q] for group, q in zip(by_hub, quota, strict=True)])
    if free.size == 0 or residents.size == 0:
        return np.zeros(0, dtype=np.int64)
    matched_to = kernels.use(hubs.broker)(
        r.x[residents],
        r.y[residents],
        r.hub[residents],
        v.x[free],
        v.y[free],
        v.hub[free],
        (p.max_matches - v.matches[free]).astype(np.int64),
        int(p.travel_radius),
        BROKER_CHOICES,
    )
    # each hub keeps its neediest `quota` matches
    hub = r.hub[residents]
    done = np.flatnonzero(matched_to >= 0)
    done = done[np.argsort(hub[done], kind="stable")]
    first = np.searchsorted(hub[done], hub[done], side="left")
    done = done[(np.arange(done.size) - first) < quota[hub[done]]]
    matched = residents[done]
    model.add_pairings(free[matched_to[done]], matched, True)
    model.week.matches_brokered = int(done.size)
    return matched


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
