"""Volunteers and the rules of civic energy, burnout, quitting and recruitment.

ODD sections 2 (state) and 7.6 (civic energy and recruitment). Most volunteers are working-age
neighbours; some are young-old residents without care need; some are employees of
local businesses (employer-supported volunteering).

Every volunteer has an age: a young-old resident's own, and for neighbours and employees
one drawn evenly over :data:`WORKING_AGE` when they start (no shipped rule uses it yet;
it is there so a rule such as :func:`quits` can).
"""

from __future__ import annotations

import numpy as np
from mesa.discrete_space import FixedAgent

from agents.resident import weekly

#: Civic potential at which an area's volunteering equals the national rate: the mean of
#: the default civic potential layer (an anchor, not a tunable).
CIVIC_REFERENCE = 0.5

#: Ages (years) over which working-age neighbour and employee volunteers are spread
#: evenly when they start: invented (the working ages 18-65; NCVO's Time Well Spent
#: 2023 finds formal volunteering at every adult age).
WORKING_AGE = (18.0, 65.0)


def load(demand, capacity):
    """How much is asked of a volunteer: need falling on them / hours they offer."""
    return np.where(capacity > 0, demand / np.maximum(capacity, 1e-300), 0.0)


def energy_change(energy, load, support, matched, p, training=False):
    """Weekly change of a volunteer's civic energy (ODD 7.6).

    * Load beyond ``comfortable_load`` drains energy, up to ``burnout_rate`` a week at
      twice the comfortable load: ``- burnout_rate * min(1, (load - comfortable_load) /
      comfortable_load)``.
    * A matched volunteer at or below the comfortable load rests:
      ``+ rest_rate * (1 - energy)``.
    * A volunteer with no one to help, and not still in checks and training
      (``training``), slowly loses interest: ``- idle_energy_loss``.
    * Hub support and recognition restore energy: ``+ support_gain * support``
      (``support`` is 0-1, from the council's coordination and support spending).

    Defaults:
        ``comfortable_load`` = 8, ``burnout_rate`` = 0.02, ``rest_rate`` = 0.03,
        ``idle_energy_loss`` = 0.004, ``support_gain`` = 0.015.
    """
    overload = np.clip((load - p.comfortable_load) / max(p.comfortable_load, 1e-9), 0.0, 1.0)
    resting = matched & (load <= p.comfortable_load)
    idle = ~matched & ~np.asarray(training, dtype=bool)
    return (
        -p.burnout_rate * overload
        + p.rest_rate * (1.0 - energy) * resting
        - p.idle_energy_loss * idle
        + p.support_gain * support
    )


def quits(energy, attrition_draw, age, weeks_active, p):
    """A volunteer quits when energy falls below ``quit_threshold`` or life intervenes.

    Life reasons (moves, jobs, health) happen with the weekly equivalent of
    ``baseline_attrition`` a year: a volunteer quits when their uniform draw
    ``attrition_draw`` falls below it.

    ``age`` (years) and ``weeks_active`` (weeks since they started) are each volunteer's;
    the shipped rule uses neither. They are here for a variant (older volunteers
    retiring from it, newcomers dropping out in their first months) changed in this
    function alone.

    Defaults:
        ``quit_threshold`` = 0.2, ``baseline_attrition`` = 0.15.
    """
    return (energy < p.quit_threshold) | (attrition_draw < weekly(p.baseline_attrition))


def pool_share(civic_potential, p):
    """Share of adults who are potential care volunteers in an area (ODD 7.6).

    ``volunteer_pool_rate * care_role_share * civic_potential / CIVIC_REFERENCE``, at most
    1: the adults who volunteer formally at least once a year, the part of them who would
    take a care-type role with older neighbours, more where civic potential is higher (at
    the reference potential 0.5, the national rate).

    Defaults:
        ``volunteer_pool_rate`` = 0.27, ``care_role_share`` = 0.15.
    """
    share = p.volunteer_pool_rate * p.care_role_share * civic_potential / CIVIC_REFERENCE
    return np.minimum(share, 1.0)


def recruitment_probability(nearby_volunteers, outreach, business_scheme, p):
    """Weekly chance that one free potential volunteer of a neighbourhood starts (ODD 7.6).

    ``recruitment_rate * (1 + contagion_strength * min(nearby active volunteers,
    contagion_cap)) * outreach * business_scheme``, capped at 1. ``outreach`` and
    ``business_scheme`` are multipliers (1 = no effect). Civic potential acts through the
    size of the pool (:func:`pool_share`), which recruitment empties.

    Defaults:
        ``recruitment_rate`` = 0.0072, ``contagion_strength`` = 0.15, ``contagion_cap`` = 10.
    """
    rate = (
        p.recruitment_rate
        * (1.0 + p.contagion_strength * np.minimum(nearby_volunteers, p.contagion_cap))
        * outreach
        * business_scheme
    )
    return np.minimum(rate, 1.0)


def older_volunteer_probability(tied_volunteers, outreach, age, connection, p):
    """Weekly chance a young-old resident (under ``young_old_age``, no need) who is a
    potential volunteer starts volunteering (ODD 7.6).

    ``older_volunteer_rate * (1 + tie_contagion * volunteers they are tied to) *
    outreach``, capped at 1: contagion along the tie network. Whether a resident is a
    potential volunteer at all is drawn once per person, with chance :func:`pool_share`.
    The resident's ``age`` and social ``connection`` (0-1) are passed for variants; the
    shipped rule uses neither.

    Defaults:
        ``older_volunteer_rate`` = 0.004, ``tie_contagion`` = 0.5.
    """
    rate = p.older_volunteer_rate * (1.0 + p.tie_contagion * tied_volunteers) * outreach
    return np.minimum(rate, 1.0)


# --- matching and visits (ODD 7.4, 7.5) ------------------------------------------------------
def choose_in_turn(vol, res, n_residents):
    """Discovery without a hub (ODD 7.4; ``kernels.choose_in_turn`` is its compiled copy):
    volunteers choose one after another, and each takes the first resident on their own
    list of candidates that nobody before them took.

    ``vol`` and ``res`` list the candidates, grouped by volunteer in the order they choose,
    each volunteer's best candidate first.

    Returns:
        For each resident slot, the position in ``vol`` of the volunteer who took them
        (the start of that volunteer's list), or -1.
    """
    holder = np.full(n_residents, -1, dtype=np.int64)
    start = 0
    while start < len(vol):
        end = start
        while end < len(vol) and vol[end] == vol[start]:
            end += 1
        for i in range(start, end):  # this volunteer's candidates, best first
            if holder[res[i]] < 0:
                holder[res[i]] = start
                break
        start = end
    return holder


def visits(vol, res, capacity, matches, employer, gap, n_volunteer_slots):
    """Volunteers visit the residents they are paired with (ODD 7.5; ``kernels.visits``
    is its compiled copy).

    Each volunteer splits their capacity evenly over their pairings
    (``offered = capacity / matches``). A resident offered more than the low-level support
    they lack (``gap``) takes only what they lack, every offer to them scaled down alike:
    ``hours = offered * min(1, gap / offered to them in all)``. The need that falls on a
    volunteer is their share of their residents' gaps,
    ``demand = sum of gap * offered / offered to that resident in all``. Hours from employee
    volunteers (``employer`` >= 0) count as business hours.

    Returns:
        (hours per pairing, volunteer hours per resident slot, employee-volunteer hours
        per resident slot, demand per volunteer slot, hours given per volunteer slot,
        visited per resident slot).
    """
    n_residents = len(gap)
    offered = np.array([capacity[v] / max(matches[v], 1) for v in vol], dtype=float)
    offered_to = np.zeros(n_residents)
    for pairing, resident in enumerate(res):
        offered_to[resident] += offered[pairing]
    hours = np.zeros(len(vol))
    from_neighbours = np.zeros(n_residents)
    from_employees = np.zeros(n_residents)
    demand = np.zeros(n_volunteer_slots)
    given = np.zeros(n_volunteer_slots)
    visited = np.zeros(n_residents, dtype=bool)
    for pairing, (volunteer, resident) in enumerate(zip(vol, res, strict=True)):
        total = offered_to[resident]
        share = offered[pairing] / total if total > 0 else 0.0
        scale = gap[resident] / total if total > 0 else 0.0
        hours[pairing] = offered[pairing] * min(1.0, scale)
        demand[volunteer] += gap[resident] * share
        if employer[volunteer] >= 0:
            from_employees[resident] += hours[pairing]
        else:
            from_neighbours[resident] += hours[pairing]
        given[volunteer] += hours[pairing]
        if hours[pairing] > 0:
            visited[resident] = True
    return hours, from_neighbours, from_employees, demand, given, visited


class Volunteer(FixedAgent):
    """A volunteer living (or working) at a fixed cell; state is a row of ``model.volunteers``."""

    def __init__(self, model, slot: int, cell):
        super().__init__(model)
        self.slot = int(slot)
        self.cell = cell

    def _get(self, column):
        return getattr(self.model.volunteers, column)[self.slot]

    @property
    def capacity(self) -> float:
        """Hours a week this volunteer offers."""
        return float(self._get("capacity"))

    @property
    def civic_energy(self) -> float:
        """Civic energy, 0-1; the volunteer quits below ``quit_threshold``."""
        return float(self._get("energy"))

    @property
    def hours_given(self) -> float:
        """Hours given this week."""
        return float(self._get("hours_given"))

    @property
    def age(self) -> float:
        """Age in years."""
        return float(self._get("age"))

    @property
    def matches(self) -> int:
        """Number of residents this volunteer is paired with."""
        return int(self._get("matches"))

    @property
    def kind(self) -> str:
        """'neighbour', 'older resident' or 'employee'."""
        if self._get("employer") >= 0:
            return "employee"
        return "older resident" if self._get("resident_slot") >= 0 else "neighbour"
