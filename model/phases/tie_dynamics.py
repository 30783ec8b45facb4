"""Phase 6, ties: new ties form and old ones lapse (ODD 7.6).

Residents befriend neighbours, fellow attendees of hosted activities and, after a
pairing has lasted a while, their volunteer; ties also lapse (moves, drifting apart)
besides ending when someone dies or stops volunteering. So loneliness can settle instead
of only growing as residents lose ties through deaths.

Pairings are counted every week. Friendships and lapses are slow (a few a year per
resident), so they are updated every :data:`TIE_WEEKS` weeks with the chance over that
many weeks of the weekly rules (``1 - (1 - weekly)^TIE_WEEKS``): the same expected
numbers a year, at a quarter of the bookkeeping.
"""

from __future__ import annotations

import numpy as np

from agents import resident
from model import kernels
from model.streams import bernoulli_positions

#: Weeks between updates of friendships and lapsed ties (a month).
TIE_WEEKS = 4


def run(model) -> None:
    """Ties form through lasting pairings, at activities and between neighbours; some
    resident ties lapse."""
    lasting_pairings(model)
    if model.t % TIE_WEEKS:
        return
    a1, b1 = activity_ties(model)
    a2, b2 = neighbour_ties(model)
    model.ties.add_resident_ties(np.concatenate([a1, a2]), np.concatenate([b1, b2]))
    fading_ties(model)


def lasting_pairings(model) -> None:
    """Every live pairing counts another week; one that reaches ``pairing_tie_weeks``
    (:func:`agents.resident.pairing_becomes_tie`) makes its volunteer and resident tied."""
    pairs, p = model.pairs, model.p
    pairs.weeks += 1  # every slot at once: a free slot is reset when reused
    weeks = pairs.weeks
    now = resident.pairing_becomes_tie(weeks, p) & ~resident.pairing_becomes_tie(weeks - 1, p)
    tied = np.flatnonzero(now & pairs.alive)
    if tied.size:
        model.ties.add_volunteer_ties(pairs.vol[tied], pairs.res[tied])


def over_tie_weeks(weekly_chance):
    """The chance of at least one event in :data:`TIE_WEEKS` weeks of this weekly chance."""
    return 1.0 - (1.0 - weekly_chance) ** TIE_WEEKS


def activity_ties(model) -> tuple[np.ndarray, np.ndarray]:
    """Each attendee of this week's hosted activities befriends, with
    :func:`agents.resident.activity_tie_probability` over :data:`TIE_WEEKS` weeks, one
    fellow attendee of the same venue chosen at random (:func:`kernels.pick_fellows`).

    Returns:
        The proposed ties, as two arrays of resident slots.
    """
    r = model.residents
    rng = model.streams.decisions
    attendees = np.flatnonzero(r.attends)
    chance = over_tie_weeks(resident.activity_tie_probability(model.p))
    who = bernoulli_positions(rng, attendees.size, chance)
    if who.size == 0:
        return _NONE, _NONE
    partner = kernels.pick_fellows(attendees, r.near_business, who, rng.random(who.size))
    found = partner >= 0
    return attendees[who[found]], partner[found]


def neighbour_ties(model) -> tuple[np.ndarray, np.ndarray]:
    """Each resident befriends, with :func:`agents.resident.neighbour_tie_probability`
    over :data:`TIE_WEEKS` weeks, another resident chosen at random within
    ``tie_radius`` (if not tied already).

    Returns:
        The proposed ties, as two arrays of resident slots.
    """
    r, p = model.residents, model.p
    rng = model.streams.decisions
    live = r.live
    chance = over_tie_weeks(resident.neighbour_tie_probability(p))
    making = live[bernoulli_positions(rng, live.size, chance)]
    if making.size == 0:
        return _NONE, _NONE
    other = model.cell_index.random_other(
        making, r.x[making], r.y[making], p.tie_radius, rng.random(making.size)
    )
    found = other >= 0
    return making[found], other[found]


def fading_ties(model) -> None:
    """Each tie lapses with :func:`agents.resident.tie_fade_probability` over
    :data:`TIE_WEEKS` weeks: between residents,
    and between a volunteer and a resident (an acquaintance that outlasted its pairing
    fades too; the tie of a live pairing is renewed by the visits)."""
    ties, rng = model.ties, model.streams.decisions
    chance = over_tie_weeks(resident.tie_fade_probability(model.p))
    ties.drop_resident_edges(bernoulli_positions(rng, ties.rr_a.size, chance))
    fading = bernoulli_positions(rng, ties.vr_v.size, chance)
    if fading.size:
        pairs = model.pairs
        visiting = kernels.paired_now(
            ties.vr_v[fading], ties.vr_r[fading], pairs.vol, pairs.res, pairs.alive
        )
        ties.drop_volunteer_edges(fading[~visiting])


_NONE = np.zeros(0, dtype=np.int64)
