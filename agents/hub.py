"""Council hubs: the weekly budget and how eligibility adapts to it (ODD 7.3)."""

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
