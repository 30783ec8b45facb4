"""Invariant checks that explain what broke (opt-in: ``CivicModel(check=True)``).

After each week every invariant is verified over whole arrays (cheap enough to leave on
in the workshop page). When a changed rule breaks one, :class:`InvariantError` says
which invariant, which agent, which week and the values involved -- not a bare
assertion.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from model import metrics
from model.strategies import SPEND_LINES

TOLERANCE = 1e-6


class InvariantError(AssertionError):
    """A model invariant was broken.

    Attributes:
        invariant: Name of the invariant.
        week: Week in which it broke.
        agent: Description of the first agent that breaks it (or None).
        values: The values involved.
    """

    def __init__(self, invariant: str, week: int, explanation: str, agent=None, values=None):
        self.invariant = invariant
        self.week = week
        self.agent = agent
        self.values = values or {}
        detail = ", ".join(f"{k}={_fmt(v)}" for k, v in self.values.items())
        who = f" for {agent}" if agent else ""
        when = f"week {week}" if week > 0 else f"burn-in week {week}"
        super().__init__(
            f"invariant '{invariant}' broken in {when}{who}: {explanation}"
            + (f" ({detail})" if detail else "")
            + ". A rule changed recently is the likely cause; see docs/ODD.md."
        )


def _fmt(v):
    return f"{v:.4g}" if isinstance(v, float | np.floating) else str(v)


@dataclass(frozen=True)
class Invariant:
    """A named check: ``check(model)`` returns None or raises InvariantError."""

    name: str
    description: str
    check: Callable


_INVARIANTS: list[Invariant] = []


def invariant(name: str, description: str):
    """Decorator registering an invariant check."""

    def wrap(func):
        _INVARIANTS.append(Invariant(name, description, func))
        return func

    return wrap


def invariants() -> list[Invariant]:
    """All registered invariants."""
    return list(_INVARIANTS)


def check_invariants(model) -> None:
    """Run every invariant; raise :class:`InvariantError` at the first broken one."""
    for inv in _INVARIANTS:
        inv.check(model)


def _resident(model, slot) -> str:
    r = model.residents
    return (
        f"resident #{int(r.person_id[slot])} (slot {int(slot)}, age {r.age[slot]:.1f}, "
        f"need level {int(r.level[slot])}, cell ({int(r.x[slot])}, {int(r.y[slot])}))"
    )


def _first_bad(mask: np.ndarray, slots: np.ndarray):
    bad = np.flatnonzero(mask)
    return None if bad.size == 0 else slots[bad[0]]


@invariant("no negative hours", "Every hours quantity of every resident is >= 0")
def _no_negative_hours(model):
    r = model.residents
    live = r.live
    for column in (
        "need_personal",
        "need_low",
        "fam_personal",
        "fam_low",
        "paid_personal",
        "vol_low",
        "biz_low",
        "family_hours",
    ):
        values = getattr(r, column)[live]
        slot = _first_bad(~(values >= -TOLERANCE), live)
        if slot is not None:
            raise InvariantError(
                "no negative hours",
                model.t,
                f"{column} is negative or not a number",
                _resident(model, slot),
                {column: float(getattr(r, column)[slot])},
            )


@invariant(
    "met <= need (personal)",
    "Personal care met by family and paid carers never exceeds personal need",
)
def _met_personal(model):
    r = model.residents
    live = r.live
    met = r.fam_personal[live] + r.paid_personal[live]
    slot = _first_bad(met > r.need_personal[live] + TOLERANCE, live)
    if slot is not None:
        raise InvariantError(
            "met <= need (personal)",
            model.t,
            "more personal care was delivered than needed",
            _resident(model, slot),
            {
                "need_personal": float(r.need_personal[slot]),
                "family": float(r.fam_personal[slot]),
                "paid": float(r.paid_personal[slot]),
            },
        )


@invariant(
    "met <= need (low-level)",
    "Low-level support met by family, volunteers and businesses never exceeds need",
)
def _met_low(model):
    r = model.residents
    live = r.live
    met = r.fam_low[live] + r.vol_low[live] + r.biz_low[live]
    slot = _first_bad(met > r.need_low[live] + TOLERANCE, live)
    if slot is not None:
        raise InvariantError(
            "met <= need (low-level)",
            model.t,
            "more low-level support was delivered than needed",
            _resident(model, slot),
            {
                "need_low": float(r.need_low[slot]),
                "family": float(r.fam_low[slot]),
                "volunteer": float(r.vol_low[slot]),
                "business": float(r.biz_low[slot]),
            },
        )


@invariant("family <= family hours", "Family carers never give more than they can")
def _family(model):
    r = model.residents
    live = r.live
    given = r.fam_personal[live] + r.fam_low[live]
    slot = _first_bad(given > r.family_hours[live] + TOLERANCE, live)
    if slot is not None:
        raise InvariantError(
            "family <= family hours",
            model.t,
            "family gave more hours than they have",
            _resident(model, slot),
            {"family_hours": float(r.family_hours[slot]), "given": float(given[live == slot][0])},
        )


@invariant("volunteer hours <= capacity", "No volunteer gives more than their capacity")
def _capacity(model):
    v = model.volunteers
    live = v.live
    slot = _first_bad(v.hours_given[live] > v.capacity[live] + TOLERANCE, live)
    if slot is not None:
        raise InvariantError(
            "volunteer hours <= capacity",
            model.t,
            "a volunteer gave more than capacity",
            f"volunteer {v.agent[slot].unique_id} (slot {int(slot)})",
            {"hours_given": float(v.hours_given[slot]), "capacity": float(v.capacity[slot])},
        )
    bad = (v.energy[live] < -TOLERANCE) | (v.energy[live] > 1 + TOLERANCE)
    slot = _first_bad(bad, live)
    if slot is not None:
        raise InvariantError(
            "civic energy in 0-1",
            model.t,
            "energy left 0-1",
            f"volunteer slot {int(slot)}",
            {"energy": float(v.energy[slot])},
        )


@invariant(
    "spend <= budget",
    "The council never spends more than this week's budget, except when the care-home "
    "places it must pay cost more on their own (then it spends nothing else)",
)
def _budget(model):
    w = model.week
    spent = w.spent
    duty_alone = spent.care_homes > w.budget
    others = spent.total - spent.care_homes
    bad = (
        spent.total > w.budget * (1 + 1e-9) + TOLERANCE and not (duty_alone and others <= TOLERANCE)
    ) or min(getattr(spent, line) for line in SPEND_LINES) < -TOLERANCE
    if bad or abs(w.overspend - max(0.0, spent.care_homes - w.budget)) > TOLERANCE:
        raise InvariantError(
            "spend <= budget",
            model.t,
            "the council spent more than its budget (or a negative amount)",
            "the council",
            {
                "budget": w.budget,
                "care homes": w.spent.care_homes,
                "paid care": w.spent.paid_care,
                "facilitation": w.spent.facilitation,
            },
        )


@invariant(
    "care homes consistent",
    "A care-home resident needs nothing from the neighbourhood (no need, family, paid or "
    "volunteer care, no pairing); only care-home residents have council-funded places, "
    "which cost the fee each",
)
def _care_homes(model):
    r, pairs, p = model.residents, model.pairs, model.p
    live = r.live
    home = r.in_care_home[live]
    at_home_care = (
        r.need_personal[live]
        + r.need_low[live]
        + r.fam_personal[live]
        + r.fam_low[live]
        + r.paid_personal[live]
        + r.vol_low[live]
        + r.biz_low[live]
    )
    slot = _first_bad(home & (at_home_care > TOLERANCE), live)
    if slot is not None:
        raise InvariantError(
            "care homes consistent",
            model.t,
            "a care-home resident still needs or receives care at home",
            _resident(model, slot),
            {"hours": float(at_home_care[live == slot][0])},
        )
    slot = _first_bad(r.council_funded[live] & ~home, live)
    if slot is not None:
        raise InvariantError(
            "care homes consistent",
            model.t,
            "a council-funded place for someone not in a care home",
            _resident(model, slot),
        )
    paired = pairs.res[pairs.live]
    if r.in_care_home[paired].any():
        raise InvariantError(
            "care homes consistent",
            model.t,
            "a volunteer is paired with a care-home resident",
            _resident(model, paired[r.in_care_home[paired]][0]),
        )
    places = int(np.count_nonzero(home & r.council_funded[live]))
    if abs(model.week.spent.care_homes - places * p.care_home_fee) > TOLERANCE * max(1, places):
        raise InvariantError(
            "care homes consistent",
            model.t,
            "care-home spend is not the fee times the council-funded places",
            "the council",
            {"spend": model.week.spent.care_homes, "places": places},
        )


@invariant(
    "carers consistent",
    "A resident has a family carer (an age) exactly when their carer can give hours; family "
    "care comes only from a carer",
)
def _carers(model):
    r = model.residents
    live = r.live
    has = r.family_hours[live] > 0
    slot = _first_bad(has != (r.carer_age[live] > 0), live)
    if slot is None:  # a carer still caring has not reached their age of death
        slot = _first_bad(has & (r.carer_age[live] >= r.carer_death_age[live]), live)
    if slot is not None:
        raise InvariantError(
            "carers consistent",
            model.t,
            "a carer without an age, an age without a carer, or a carer past their death",
            _resident(model, slot),
            {"family_hours": float(r.family_hours[slot]), "carer_age": float(r.carer_age[slot])},
        )


@invariant("need = met + unmet", "Hours needed equal hours met by all sources plus unmet hours")
def _balance(model):
    need = metrics.need_hours_of(model).sum()
    by_source = sum(
        metrics.reporters()[name](model)
        for name in (
            "met_hours_family",
            "met_hours_paid",
            "met_hours_volunteer",
            "met_hours_business",
            "unmet_hours",
        )
    )
    if abs(need - by_source) > TOLERANCE * max(1.0, need):
        raise InvariantError(
            "need = met + unmet",
            model.t,
            "hours do not add up",
            "the whole population",
            {"need": float(need), "met + unmet": float(by_source)},
        )


@invariant(
    "pairings consistent",
    "Each volunteer's match count equals their live pairings, at most max_matches",
)
def _pairings(model):
    v, pairs = model.volunteers, model.pairs
    counts = np.bincount(pairs.vol[pairs.live], minlength=v.n_slots)
    live = v.live
    slot = _first_bad(
        (counts[live] != v.matches[live]) | (v.matches[live] > model.p.max_matches), live
    )
    if slot is not None:
        raise InvariantError(
            "pairings consistent",
            model.t,
            "match count disagrees with pairings or exceeds max_matches",
            f"volunteer slot {int(slot)}",
            {"matches": int(v.matches[slot]), "pairings": int(counts[slot])},
        )
    dead = ~model.residents.alive[pairs.res[pairs.live]] | ~v.alive[pairs.vol[pairs.live]]
    if dead.any():
        raise InvariantError(
            "pairings consistent",
            model.t,
            "a pairing outlived its resident or volunteer",
            None,
            {},
        )


@invariant(
    "coordinator hours add up",
    "Coordinators' hours by task (follow-up, support, matching, development) are never "
    "negative and add up to their working hours; matching hours are those of the new "
    "brokered matches",
)
def _coordinator_hours(model):
    c, p = model.council, model.p
    tasks = {
        "follow_up": c.hours_follow_up,
        "support": c.hours_support,
        "matching": c.hours_matching,
        "development": c.hours_development,
    }
    total = math.fsum(tasks.values())
    expected_matching = min(
        model.week.matches_brokered * p.hours_per_new_match,
        c.coordinator_hours - c.hours_follow_up - c.hours_support,
    )
    if (
        min(tasks.values()) < -TOLERANCE
        or abs(total - c.coordinator_hours) > TOLERANCE * max(1.0, c.coordinator_hours)
        or abs(c.hours_matching - max(expected_matching, 0.0)) > TOLERANCE * max(1.0, total)
    ):
        raise InvariantError(
            "coordinator hours add up",
            model.t,
            "hours by task do not add up to the coordinators' time",
            "the council",
            {"coordinator_hours": c.coordinator_hours, **tasks},
        )


@invariant(
    "facilitation money accounted",
    "Every pound planned for facilitation is spent on a line or reported as unspent",
)
def _facilitation_money(model):
    w, plan = model.week, model.council.plan
    accounted = w.spent.facilitation + w.facilitation_unspent
    if w.facilitation_unspent < -TOLERANCE or abs(accounted - plan.facilitation) > TOLERANCE * max(
        1.0, plan.facilitation
    ):
        raise InvariantError(
            "facilitation money accounted",
            model.t,
            "facilitation spend and unspent money do not add up to the plan",
            "the council",
            {
                "planned": plan.facilitation,
                "spent": w.spent.facilitation,
                "unspent": w.facilitation_unspent,
            },
        )


@invariant(
    "volunteer pool consistent",
    "Neighbourhood counts of working-age volunteers match the volunteers; every older "
    "resident who volunteers is a potential volunteer; no volunteer in training has a match",
)
def _volunteer_pool(model):
    from model import world

    v = model.volunteers
    live = v.live
    neighbours = live[(v.employer[live] < 0) & (v.resident_slot[live] < 0)]
    area, n = world.neighbourhoods(model)
    counts = np.bincount(area[v.x[neighbours], v.y[neighbours]], minlength=n)
    if not np.array_equal(counts, model.neighbourhood_counts):
        bad = int(np.flatnonzero(counts != model.neighbourhood_counts)[0])
        raise InvariantError(
            "volunteer pool consistent",
            model.t,
            "a neighbourhood's count of volunteering neighbours is off",
            f"neighbourhood {bad}",
            {"counted": int(model.neighbourhood_counts[bad]), "volunteers": int(counts[bad])},
        )
    older = v.resident_slot[live]
    older = older[older >= 0]
    if not model.residents.volunteer_trait[older].all():
        raise InvariantError(
            "volunteer pool consistent",
            model.t,
            "an older resident volunteers who is not a potential volunteer",
            None,
            {},
        )
    training = live[v.weeks_active[live] < model.p.volunteer_pipeline_weeks]
    slot = _first_bad(v.matches[training] > 0, training)
    if slot is not None:
        raise InvariantError(
            "volunteer pool consistent",
            model.t,
            "a volunteer still in checks and training has a match",
            f"volunteer slot {int(slot)}",
            {"weeks_active": int(v.weeks_active[slot]), "matches": int(v.matches[slot])},
        )


@invariant(
    "ties consistent",
    "Each resident's tie count equals their live ties; no tie is held twice or outlives "
    "a resident or volunteer",
)
def _ties(model):
    t, r, v = model.ties, model.residents, model.volunteers
    n = r.n_slots
    degree = np.bincount(t.rr_a, minlength=n) + np.bincount(t.rr_b, minlength=n)
    degree += np.bincount(t.vr_r, minlength=n)
    kept = t.resident_degree(n)
    keys = (t.rr_a << 32) | t.rr_b
    vr_keys = (t.vr_v << 32) | t.vr_r
    alive = (
        r.alive[t.rr_a].all()
        and r.alive[t.rr_b].all()
        and r.alive[t.vr_r].all()
        and v.alive[t.vr_v].all()
    )
    if (
        not np.array_equal(degree[:n], kept)
        or np.unique(keys).size != keys.size
        or np.unique(vr_keys).size != vr_keys.size
        or (t.rr_a >= t.rr_b).any()
        or not alive
    ):
        raise InvariantError(
            "ties consistent",
            model.t,
            "tie counts disagree with the ties, a tie is duplicated, or a tie outlived someone",
            None,
            {"ties": int(keys.size), "degree sum": int(kept.sum())},
        )
