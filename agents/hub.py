"""Council hubs: the weekly budget, eligibility, packages and placements, and coordinators'
week (ODD 7.3, 7.11)."""

from __future__ import annotations

import numpy as np
from mesa.discrete_space import FixedAgent


def weekly_budget(week, initial_residents, p):
    """This week's council budget ``B(t) = B0 * (1 - budget_cut_rate) ** (t / 52)``.

    ``B0 = budget_per_resident_week * older residents at week 0 * budget_scale``: the
    budget follows the cut, not the population, so a growing older population means less
    per head. It pays care-home placements first (a duty), then the strategy's lines.

    Defaults:
        ``budget_per_resident_week`` = 17, ``budget_scale`` = 1, ``budget_cut_rate`` = 0.
    """
    b0 = p.budget_per_resident_week * initial_residents * p.budget_scale
    return b0 * (1.0 - p.budget_cut_rate) ** (week / 52.0)


def package_ceiling(p):
    """Most hours a week a home-care package may hold: a package costs no more than
    ``package_cap_share`` of a care-home placement,
    ``package_cap_share * care_home_fee / care_hour_price`` (17 hours with the defaults).

    Defaults:
        ``package_cap_share`` = 0.5, ``care_home_fee`` = 800, ``care_hour_price`` = 23.2.
    """
    return p.package_cap_share * p.care_home_fee / p.care_hour_price


def package_hours(personal_gap, p):
    """Hours a week of paid personal care a resident's package would hold: the personal
    care they lack after family, up to :func:`package_ceiling`."""
    return np.minimum(np.maximum(personal_gap, 0.0), package_ceiling(p))


def adapt_eligibility(council, money, p):
    """Lowest need level the council serves this week (ODD 7.3, "reprioritise").

    Start at ``eligibility_threshold`` (substantial by default) and tighten one level at a
    time, up to critical (4), while the packages wanted at the levels *above* the floor
    would take all the money (``council.package_cost_by_level``: the weekly cost of the
    packages residents at each level would hold). So the floor is the lowest level the
    money reaches: more money or less need loosens it, less money or more need tightens it.

    Defaults:
        ``eligibility_threshold`` = 3.
    """
    floor = p.eligibility_threshold
    cost = np.asarray(council.package_cost_by_level, dtype=float)
    while floor < 4 and cost[floor + 1 :].sum() >= money:
        floor += 1
    return floor


def buy_care(order, wanted, hours, paid, eligible, has_package, waiting):
    """Paid care, one resident at a time (ODD 7.3.6; ``kernels.buy_care`` is its
    compiled copy).

    The eligible residents, in priority ``order``, each get the package hours they want
    (``wanted``) while the ``hours`` the money buys last; the last one gets what is left.
    Then ``has_package`` marks everyone with paid hours, and ``waiting`` counts the weeks
    an eligible resident has not had all the hours they want (0 otherwise). ``paid``,
    ``has_package`` and ``waiting`` are updated in place.

    Returns:
        The hours bought.
    """
    paid[:] = 0.0
    left = hours
    for resident in order:
        given = min(max(left, 0.0), wanted[resident])
        paid[resident] = given
        left -= given
    bought = 0.0
    for resident in range(len(paid)):
        has_package[resident] = paid[resident] > 0
        still_short = eligible[resident] and wanted[resident] - paid[resident] > 1e-9
        waiting[resident] = waiting[resident] + 1 if still_short else 0
        bought += paid[resident]
    return bought


def council_placements(candidates, level, fee, money, p):
    """Which of this week's ``candidates`` for a council-funded care-home place get one
    (ODD 7.11): placements are a duty paid before any other line, so the council funds
    new places while the ``money`` left after the places it already pays covers a
    ``fee`` each, neediest first (``candidates`` are in that order). Only residents whose
    need is at least ``eligibility_threshold`` qualify for council funding.

    Returns:
        The candidates placed (a prefix of those who qualify).

    Defaults:
        ``eligibility_threshold`` = 3.
    """
    candidates = np.asarray(candidates)
    qualify = candidates[np.asarray(level)[candidates] >= p.eligibility_threshold]
    affordable = int(min(qualify.size, max(money, 0.0) // fee)) if fee > 0 else qualify.size
    return qualify[:affordable]


def broker(ax, ay, ahub, hx, hy, hhub, room, radius, k):
    """Coordinators broker matches (ODD 7.4; ``kernels.broker`` is its compiled copy).

    Askers (residents seeking help, in priority order, at ``ax``, ``ay`` of hub ``ahub``)
    are matched to helpers (volunteers with ``room`` for more pairings). Each asker's
    candidates are the ``k`` nearest helpers of their own hub closer than ``radius``
    (equal distances to the lower helper). In round j every asker still unmatched asks
    their j-th candidate, who says yes while they have room; so within a round a helper's
    room goes to the highest-priority askers. ``room`` is used up in place.

    Returns:
        For each asker, their helper or -1.
    """
    candidates = []
    for i in range(len(ax)):
        near = sorted(
            ((hx[h] - ax[i]) ** 2 + (hy[h] - ay[i]) ** 2, h)
            for h in range(len(hx))
            if hhub[h] == ahub[i] and (hx[h] - ax[i]) ** 2 + (hy[h] - ay[i]) ** 2 < radius**2
        )
        candidates.append([h for _distance, h in near[:k]])
    matched_to = np.full(len(ax), -1, dtype=np.int64)
    for rank in range(k):
        for i, mine in enumerate(candidates):
            if matched_to[i] < 0 and rank < len(mine) and room[mine[rank]] > 0:
                room[mine[rank]] -= 1
                matched_to[i] = mine[rank]
    return matched_to


def coordinator_time(hours, brokered_pairings, volunteers, p):
    """How coordinators spend their week, in order of duty (ODD 7.3.5).

    First they follow up the live pairings they brokered (``follow_up_hours`` each),
    then they support the active volunteers (``support_hours_per_volunteer`` each, as far
    as the time goes); what is left is for brokering new matches, and whatever that
    leaves goes into community development (:func:`outreach_multiplier`).

    Returns:
        (follow-up hours, support hours, hours left for new matches).

    Defaults:
        ``follow_up_hours`` = 0.25, ``support_hours_per_volunteer`` = 0.5.
    """
    follow_up = min(hours, brokered_pairings * p.follow_up_hours)
    support = min(hours - follow_up, volunteers * p.support_hours_per_volunteer)
    return follow_up, support, hours - follow_up - support


def support_level(money_share, coordination_share):
    """Support each volunteer gets (0-1): the mean of the share of full support money
    spent and the share of full coordinator support given."""
    return 0.5 * (money_share + coordination_share)


def outreach_multiplier(spend_per_resident_year, p):
    """Recruitment multiplier from outreach (1 = none, at most ``1 + outreach_effect``).

    ``1 + outreach_effect * (1 - 0.5 ** (spend_per_resident_year /
    outreach_half_effect_spend))``: spend in GBP per older resident a year, counting the
    outreach line and coordinators' community-development hours at their cost.

    Defaults:
        ``outreach_effect`` = 1.5, ``outreach_half_effect_spend`` = 20.
    """
    half = p.outreach_half_effect_spend
    return 1.0 + p.outreach_effect * (1.0 - 0.5 ** (spend_per_resident_year / half))


def support_money_usable(volunteers, p):
    """The most the volunteer-support line can use this week: full support for every
    active volunteer (``support_cost_per_volunteer`` each).

    Defaults:
        ``support_cost_per_volunteer`` = 8.
    """
    return volunteers * p.support_cost_per_volunteer


def grant_money_usable(open_businesses, p):
    """The most the grants line can use this week: a full grant for every open business
    and community asset (``grant_per_business_week`` each).

    Defaults:
        ``grant_per_business_week`` = 40.
    """
    return open_businesses * p.grant_per_business_week


def carer_support_money_usable(carers, p):
    """The most the carer-support line can use this week: full support for every family
    carer giving care (``carer_support_cost`` each).

    Defaults:
        ``carer_support_cost`` = 15.
    """
    return carers * p.carer_support_cost


class Hub(FixedAgent):
    """A council hub at a fixed cell, serving the residents whose nearest hub it is."""

    def __init__(self, model, index: int, cell):
        super().__init__(model)
        self.index = int(index)
        self.cell = cell

    @property
    def catchment_residents(self) -> int:
        """Older residents in this hub's catchment."""
        r = self.model.residents
        return int((r.hub[r.live] == self.index).sum())

    @property
    def coordinators(self) -> float:
        """Coordinators working from this hub this week (fractional = part-time)."""
        council = self.model.council
        return council.coordinators * council.hub_share[self.index]
