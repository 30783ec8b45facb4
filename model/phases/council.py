"""Phase 5, council strategy: the hub spends this week's budget (ODD 7.3).

Care-home placements are a duty paid first; the strategy splits what is left between
home-care packages and the facilitation lines.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from agents import hub
from model import kernels
from model.strategies import SpendPlan


@dataclass
class Council:
    """What the council has decided and bought this week.

    Attributes:
        hubs: Number of hubs.
        plan: This week's spend plan from the strategy.
        duty: This week's cost of the care-home places the council pays (GBP).
        places: Care-home places the council pays this week.
        personal_gap_by_level: Personal-care hours still missing after family, by level.
        package_cost_by_level: Weekly cost of the home-care packages residents at each
            level would hold (:func:`agents.hub.package_hours`).
        coordinators: Coordinators employed this week (fractional = part-time).
        broker_capacity: Matches coordinators can broker this week.
        support: Share of full support each volunteer gets (0-1).
        outreach: Recruitment multiplier from outreach (1 = none).
        carer_support: Share of full support each family carer gets (0-1).
        hub_share: Share of coordinators working from each hub.
    """

    hubs: int
    plan: SpendPlan = field(default_factory=SpendPlan)
    duty: float = 0.0
    places: int = 0
    personal_gap_by_level: np.ndarray = field(default_factory=lambda: np.zeros(5))
    package_cost_by_level: np.ndarray = field(default_factory=lambda: np.zeros(5))
    coordinators: float = 0.0
    broker_capacity: float = 0.0
    broker_credit: float = 0.0
    support: float = 0.0
    outreach: float = 1.0
    carer_support: float = 0.0
    hub_share: np.ndarray = field(default_factory=lambda: np.ones(1))


def this_weeks_budget(model) -> float:
    """The budget of the current week (:func:`agents.hub.weekly_budget`). During the
    burn-in (weeks t <= 0, today's policy) it is the calibrated budget for the older
    population of that week; from week 1 it follows the scenario from the population at
    week 0."""
    from model.phases.demography import target_population

    if model.t <= 0:
        return hub.weekly_budget(0, target_population(model), model.p)
    return hub.weekly_budget(model.t, model.initial_residents, model.p)


def run(model) -> None:
    """Pay the care-home places, ask the strategy for a plan for the rest, fund
    facilitation and carer support, and buy home care with the rest."""
    p, r, c, w = model.p, model.residents, model.council, model.week
    budget = this_weeks_budget(model)
    w.budget = budget
    c.duty = c.places * p.care_home_fee
    w.spent.care_homes = c.duty
    w.overspend = max(0.0, c.duty - budget)
    money = max(0.0, budget - c.duty)
    # every slot at once: a free slot (or a resident in a care home) has no need
    gap = r.need_personal - r.fam_personal
    c.personal_gap_by_level = np.bincount(r.level, weights=gap, minlength=5)
    c.package_cost_by_level = (
        np.bincount(r.level, weights=hub.package_hours(gap, p), minlength=5) * p.care_hour_price
    )
    plan = model.strategy.plan(model, money)
    if plan.total > money * (1 + 1e-9) + 1e-6:
        raise ValueError(
            f"strategy '{model.strategy.name}' planned GBP {plan.total:.2f}, more than the "
            f"GBP {money:.2f} left after care-home places (budget GBP {budget:.2f})"
        )
    c.plan = plan
    leftover = fund_facilitation(model, plan) + fund_carer_support(model, plan)
    w.returned = leftover
    buy_paid_care(model, plan.paid_care + leftover, plan.eligibility_floor)
    record_long_term_support(model)


def fund_carer_support(model, plan: SpendPlan) -> float:
    """Carer support (respite, carers' groups, advice): the money gives every family
    carer who gives care this week a share of full support,
    ``support = min(1, money / (carers x carer_support_cost))``, which lowers their
    breakdown hazard next week. Money beyond full support for every carer returns to paid
    care; it is returned from this function."""
    p, r, c, w = model.p, model.residents, model.council, model.week
    carers = int(np.count_nonzero(r.alive & (r.fam_personal + r.fam_low > 0)))
    needed = carers * p.carer_support_cost
    w.spent.carer_support = min(plan.carer_support, needed)
    c.carer_support = w.spent.carer_support / needed if needed > 0 else 0.0
    return plan.carer_support - w.spent.carer_support


def record_long_term_support(model) -> None:
    """Mark residents who had council-funded long-term support this week (a home-care
    package or a council-funded care-home place) with this year, and count those marked
    for the first time this year (``long_term_clients_this_year``)."""
    r = model.residents
    year = model.year_of_week
    supported = r.alive & ((r.paid_personal > 0) | (r.in_care_home & r.council_funded))
    new = supported & (r.lts_year != year)
    if year != model.lts_counted_year:
        model.lts_counted_year = year
        model.lts_clients_this_year = 0
    model.lts_clients_this_year += int(np.count_nonzero(new))
    r.lts_year[new] = year


def fund_facilitation(model, plan: SpendPlan) -> float:
    """Turn facilitation money into coordinators, support, outreach and grants.

    Money a line cannot use (support beyond every volunteer's full support, grants beyond
    every open business) returns to paid care; it is returned from this function.
    """
    p, c, v, b, w = model.p, model.council, model.volunteers, model.businesses, model.week
    active = v.count
    c.coordinators = plan.coordinators / p.coordinator_weekly_cost
    c.broker_credit += c.coordinators * p.matches_per_coordinator
    c.broker_capacity = math.floor(c.broker_credit)
    c.broker_credit -= c.broker_capacity
    w.spent.coordinators = plan.coordinators

    support_needed = active * p.support_cost_per_volunteer
    w.spent.volunteer_support = min(plan.volunteer_support, support_needed)
    money_share = w.spent.volunteer_support / support_needed if support_needed > 0 else 0.0
    coordination = min(1.0, c.coordinators * p.volunteers_per_coordinator / max(active, 1))
    c.support = 0.5 * (money_share + coordination)

    w.spent.outreach = plan.outreach
    per_resident_year = plan.outreach * 52.0 / max(model.residents.count, 1)
    half = p.outreach_half_effect_spend
    c.outreach = 1.0 + p.outreach_effect * (1.0 - 0.5 ** (per_resident_year / half))

    open_slots = b.live[b.open[b.live]]
    b.grant_share[b.live] = 0.0
    fundable = plan.grants / p.grant_per_business_week
    if open_slots.size and fundable > 0:
        # community assets first, then the most engaged (a grant builds on goodwill)
        order = open_slots[np.lexsort((-b.engagement[open_slots], ~b.community_owned[open_slots]))]
        shares = np.clip(fundable - np.arange(order.size), 0.0, 1.0)
        b.grant_share[order] = shares
        w.spent.grants = float(shares.sum() * p.grant_per_business_week)
    else:
        w.spent.grants = 0.0
    c.hub_share = np.bincount(v.hub[v.live], minlength=c.hubs) / max(active, 1)
    if active == 0:
        c.hub_share = np.full(c.hubs, 1.0 / c.hubs)
    return (plan.volunteer_support - w.spent.volunteer_support) + (plan.grants - w.spent.grants)


def buy_paid_care(model, money: float, floor: int) -> None:
    """Buy home-care packages of paid personal care (ODD 7.3.6).

    Eligible: living at home with personal care still missing after family, and a need
    level at least ``floor`` -- or already holding a package and a need of at least
    ``eligibility_threshold`` (packages are reviewed, not withdrawn, when the floor
    tightens). Each wants :func:`agents.hub.package_hours` (the gap, up to the package
    ceiling). Order: residents who already have a package, then the neediest, then the
    longest waiting (weeks eligible but not fully served; then the lowest person number,
    for determinism). Each gets the hours they want until the money runs out
    (:func:`agents.hub.buy_care`).
    """
    p, r, w = model.p, model.residents, model.week
    # every slot at once: a free slot has level 0 and no need, so it is never eligible
    gap = np.maximum(r.need_personal - r.fam_personal, 0.0)
    wanted = hub.package_hours(gap, p)
    keeps = r.has_package & (r.level >= p.eligibility_threshold)
    eligible = ((r.level >= floor) | keeps) & (wanted > 1e-9) & ~r.in_care_home
    cand = np.flatnonzero(eligible)
    order = cand[
        np.lexsort((r.person_id[cand], -r.waiting[cand], -r.level[cand], ~r.has_package[cand]))
    ]
    hours_available = max(0.0, money) / p.care_hour_price
    w.paid_hours = kernels.use(hub.buy_care)(
        order, wanted, hours_available, r.paid_personal, eligible, r.has_package, r.waiting
    )
    w.spent.paid_care = w.paid_hours * p.care_hour_price
