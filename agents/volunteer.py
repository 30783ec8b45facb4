"""Volunteers and the rules of civic energy, burnout, quitting and recruitment.

ODD sections 2 (state) and 7.5 (civic energy). Most volunteers are working-age
neighbours; some are young-old residents without care need; some are employees of
local businesses (employer-supported volunteering).
"""

from __future__ import annotations

import numpy as np
from mesa.discrete_space import FixedAgent

from agents.resident import weekly


def load_share(hours_given, capacity):
    """Share of weekly capacity used: hours given / capacity (0 when capacity is 0)."""
    return np.divide(hours_given, capacity, out=np.zeros_like(hours_given), where=capacity > 0)


def energy_change(energy, load, support, matched, p):
    """Weekly change of a volunteer's civic energy (ODD 7.5).

    * Load beyond ``comfortable_load`` drains energy:
      ``- burnout_rate * (load - comfortable_load) / (1 - comfortable_load)``.
    * At or below the comfortable load a matched volunteer rests:
      ``+ rest_rate * (1 - energy)``.
    * A volunteer with no one to help loses interest at the same rate as a light
      burnout: ``- burnout_rate / 2``.
    * Hub support and recognition restore energy: ``+ support_gain * support``
      (``support`` is 0-1, from the council's coordination and support spending).
    """
    spare = max(1e-9, 1.0 - p.comfortable_load)
    overload = np.clip((load - p.comfortable_load) / spare, 0.0, 1.0)
    resting = matched & (load <= p.comfortable_load)
    change = (
        -p.burnout_rate * overload
        + p.rest_rate * (1.0 - energy) * resting
        - 0.5 * p.burnout_rate * (~matched)
        + p.support_gain * support
    )
    return change


def quits(energy, attrition_draw, p):
    """A volunteer quits when energy falls below ``quit_threshold`` or life intervenes.

    Life reasons (moves, jobs, health) happen with the weekly equivalent of
    ``baseline_attrition`` a year.
    """
    return (energy < p.quit_threshold) | (attrition_draw < weekly(p.baseline_attrition))


def recruitment_probability(civic_potential, nearby_volunteers, outreach, business_scheme, p):
    """Weekly chance that one potential volunteer in an area starts volunteering (ODD 7.5).

    ``recruitment_rate * civic_potential * (1 + contagion_strength * nearby active
    volunteers) * outreach * business_scheme``, capped at 1. ``outreach`` and
    ``business_scheme`` are multipliers (1 = no effect).
    """
    rate = (
        p.recruitment_rate
        * civic_potential
        * (1.0 + p.contagion_strength * nearby_volunteers)
        * outreach
        * business_scheme
    )
    return np.minimum(rate, 1.0)


def older_volunteer_probability(civic_potential, tied_volunteers, outreach, p):
    """Weekly chance a young-old resident (under 75, no need) starts volunteering.

    ``older_volunteer_rate * civic_potential * (1 + tie_contagion * volunteers they are
    tied to) * outreach``: contagion along the tie network.
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
    def matches(self) -> int:
        """Number of residents this volunteer is paired with."""
        return int(self._get("matches"))

    @property
    def kind(self) -> str:
        """'neighbour', 'older resident' or 'employee'."""
        if self._get("employer") >= 0:
            return "employee"
        return "older resident" if self._get("resident_slot") >= 0 else "neighbour"
