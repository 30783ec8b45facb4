"""Council hubs: the weekly budget, eligibility, and coordinators' week (ODD 7.3)."""

from __future__ import annotations

from mesa.discrete_space import FixedAgent


def weekly_budget(week, initial_residents, p):
    """This week's council budget ``B(t) = B0 * (1 - budget_cut_rate) ** (t / 52)``.

    ``B0 = budget_per_resident_week * initial older residents * budget_scale``: the budget
    follows the cut, not the population, so a growing older population means less per
    head.

    Defaults:
        ``budget_per_resident_week`` = 13.4, ``budget_scale`` = 1, ``budget_cut_rate`` = 0.
    """
    b0 = p.budget_per_resident_week * initial_residents * p.budget_scale
    return b0 * (1.0 - p.budget_cut_rate) ** (week / 52.0)


def adapt_eligibility(council, money, p):
    """Lowest need level that the money for paid care can serve (ODD 7.3, "reprioritise").

    Start at ``eligibility_threshold`` (substantial by default) and tighten one level at a
    time, up to critical (4), while the cost of the personal care still missing at or
    above that level (after family care) exceeds the money.

    Defaults:
        ``eligibility_threshold`` = 3, ``care_hour_price`` = 28.53.
    """
    floor = p.eligibility_threshold
    gap_cost = council.personal_gap_by_level * p.care_hour_price
    while floor < 4 and gap_cost[floor:].sum() > money:
        floor += 1
    return floor


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
