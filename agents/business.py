"""Local businesses (cafes, pubs, shops) and community-owned assets (ODD 7.7)."""

from __future__ import annotations

import numpy as np
from mesa.discrete_space import FixedAgent

from agents.resident import weekly


def engagement_change(engagement, grant_share, p):
    """Weekly change of a business's engagement with the community (0-1).

    ``+ grant_effect * grant_share * (1 - engagement) - engagement_decay * engagement``:
    grants raise engagement towards 1; without support it slowly fades.

    Defaults:
        ``grant_effect`` = 0.02, ``engagement_decay`` = 0.002.
    """
    return p.grant_effect * grant_share * (1.0 - engagement) - p.engagement_decay * engagement


def hosts_activity(engagement, p):
    """A business hosts a weekly activity when its engagement reaches ``host_threshold``.

    Defaults:
        ``host_threshold`` = 0.45.
    """
    return engagement >= p.host_threshold


def closure_probability(p):
    """Weekly chance that an open business closes: the weekly form of ``closure_rate``.

    Defaults:
        ``closure_rate`` = 0.05.
    """
    return weekly(p.closure_rate)


def asset_probability(civic_potential, nearby_volunteers, p):
    """Chance a closing business becomes a community-owned asset (after the Ivy House pub).

    ``asset_conversion * civic_potential * min(1, nearby active volunteers /
    asset_volunteers)``: it takes civic energy -- potential and people already active --
    to buy and run a closing pub.

    Defaults:
        ``asset_conversion`` = 0.5, ``asset_volunteers`` = 3.
    """
    return (
        p.asset_conversion
        * civic_potential
        * np.minimum(1.0, nearby_volunteers / p.asset_volunteers)
    )


def employee_volunteer_target(engagement, p):
    """Employee volunteers a business supports: engagement x employee_hours_max / mean capacity.

    Defaults:
        ``employee_hours_max`` = 4, ``volunteer_capacity_mean`` = 3.
    """
    return np.floor(engagement * p.employee_hours_max / p.volunteer_capacity_mean + 0.5)


def activities(
    venue_of,
    alive,
    hosting,
    connection,
    places,
    hours,
    need_low,
    fam_low,
    vol_low,
    biz_low,
    attends,
    attendees,
):
    """Hosted activities (ODD 7.5; ``kernels.activities`` is its compiled copy).

    Each business that hosts this week (``hosting``) welcomes up to ``places`` of the
    residents whose venue it is (``venue_of``; -1 for none) and who are ``alive`` at home,
    the loneliest first (lowest ``connection``; equal ones in slot order). An attendee who
    still lacks low-level support after family, volunteers and employee volunteers gets
    up to ``hours`` of it, added to ``biz_low``. ``attends`` marks the attendees and
    ``attendees`` counts them per business (all updated in place).
    """
    attends[:] = False
    attendees[:] = 0
    if places <= 0:
        return
    for venue in range(len(hosting)):
        if not hosting[venue]:
            continue
        regulars = [s for s in range(len(venue_of)) if venue_of[s] == venue and alive[s]]
        regulars.sort(key=lambda s: (connection[s], s))
        for slot in regulars[:places]:
            attends[slot] = True
            attendees[venue] += 1
            left = max(need_low[slot] - fam_low[slot] - vol_low[slot] - biz_low[slot], 0.0)
            biz_low[slot] += min(hours, left)


class Business(FixedAgent):
    """A cafe, pub or shop at a fixed cell; state is a row of ``model.businesses``."""

    def __init__(self, model, slot: int, cell):
        super().__init__(model)
        self.slot = int(slot)
        self.cell = cell

    def _get(self, column):
        return getattr(self.model.businesses, column)[self.slot]

    @property
    def engagement(self) -> float:
        """Engagement with the community, 0-1."""
        return float(self._get("engagement"))

    @property
    def is_open(self) -> bool:
        """Whether the business (or community asset) is open."""
        return bool(self._get("open"))

    @property
    def hosts(self) -> bool:
        """Whether it hosts a weekly activity."""
        return bool(self._get("hosts"))

    @property
    def community_owned(self) -> bool:
        """Whether it is a community-owned asset."""
        return bool(self._get("community_owned"))
