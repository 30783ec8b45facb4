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

#: Ages (years) over which working-age neighbour and employee volunteers are spread
#: evenly when they start: invented (the working ages 18-65; NCVO's Time Well Spent
#: 2023 finds formal volunteering at every adult age).
WORKING_AGE = (18.0, 65.0)


def load(demand, capacity):
    """How much is asked of a volunteer: need falling on them / hours they offer."""
    return np.where(capacity > 0, demand / np.maximum(capacity, 1e-300), 0.0)


def energy_change(energy, load, support, matched, p):
    """Weekly change of a volunteer's civic energy (ODD 7.6).

    * Load beyond ``comfortable_load`` drains energy, up to ``burnout_rate`` a week at
      twice the comfortable load: ``- burnout_rate * min(1, (load - comfortable_load) /
      comfortable_load)``.
    * A matched volunteer at or below the comfortable load rests:
      ``+ rest_rate * (1 - energy)``.
    * A volunteer with no one to help slowly loses interest: ``- idle_energy_loss``.
    * Hub support and recognition restore energy: ``+ support_gain * support``
      (``support`` is 0-1, from the council's coordination and support spending).

    Defaults:
        ``comfortable_load`` = 8, ``burnout_rate`` = 0.02, ``rest_rate`` = 0.03,
        ``idle_energy_loss`` = 0.004, ``support_gain`` = 0.015.
    """
    overload = np.clip((load - p.comfortable_load) / max(p.comfortable_load, 1e-9), 0.0, 1.0)
    resting = matched & (load <= p.comfortable_load)
    return (
        -p.burnout_rate * overload
        + p.rest_rate * (1.0 - energy) * resting
        - p.idle_energy_loss * (~matched)
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


def recruitment_probability(civic_potential, nearby_volunteers, outreach, business_scheme, p):
    """Weekly chance that one potential volunteer in an area starts volunteering (ODD 7.6).

    ``recruitment_rate * civic_potential * (1 + contagion_strength * min(nearby active
    volunteers, contagion_cap)) * outreach * business_scheme``, capped at 1. ``outreach``
    and ``business_scheme`` are multipliers (1 = no effect).

    Defaults:
        ``recruitment_rate`` = 0.004, ``contagion_strength`` = 0.15, ``contagion_cap`` = 10.
    """
    rate = (
        p.recruitment_rate
        * civic_potential
        * (1.0 + p.contagion_strength * np.minimum(nearby_volunteers, p.contagion_cap))
        * outreach
        * business_scheme
    )
    return np.minimum(rate, 1.0)


def older_volunteer_probability(civic_potential, tied_volunteers, outreach, age, connection, p):
    """Weekly chance a young-old resident (under 75, no need) starts volunteering.

    ``older_volunteer_rate * civic_potential * (1 + tie_contagion * volunteers they are
    tied to) * outreach``: contagion along the tie network. The resident's ``age`` and
    social ``connection`` (0-1) are passed for variants; the shipped rule uses neither.

    Defaults:
        ``older_volunteer_rate`` = 0.0008, ``tie_contagion`` = 0.5.
    """
    rate = (
        p.older_volunteer_rate
        * civic_potential
        * (1.0 + p.tie_contagion * tied_volunteers)
        * outreach
    )
    return np.minimum(rate, 1.0)


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
