"""Phase 5, council strategy: the hub spends this week's budget (ODD 7.3).

Care-home placements are a duty paid first; the strategy splits what is left between
home-care packages and the facilitation lines.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from agents import hub
from model import kernels, world
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
        coordinator_hours: Their working hours this week.
        hours_follow_up: Hours spent following up live brokered pairings.
        hours_support: Hours spent supporting volunteers.
        hours_matching: Hours spent brokering new matches.
        hours_development: Hours left over, spent on community development (outreach).
        broker_capacity: New matches the coordinators have time to broker this week.
        support_money_share: Share of full support money spent on each volunteer (0-1).
        support: Share of full support each volunteer gets (0-1).
        outreach_spend: Money on outreach this week (GBP).
        outreach: Recruitment multiplier from outreach and community development (1 = none).
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
    coordinator_hours: float = 0.0
    hours_follow_up: float = 0.0
    hours_support: float = 0.0
    hours_matching: float = 0.0
    hours_development: float = 0.0
    broker_capacity: int = 0
    support_money_share: float = 0.0
    support: float = 0.0
    outreach_spend: float = 0.0
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
    facilitation and carer support, and buy home care with the plan's paid-care money."""
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
    fund_facilitation(model, plan)
    fund_carer_support(model, plan)
    buy_paid_care(model, plan.paid_care, plan.eligibility_floor)
    record_long_term_support(model)


def fund_carer_support(model, plan: SpendPlan) -> None:
    """Carer support (respite, carers' groups, advice): the money gives every family
    carer who gives care this week a share of full support,
    ``support = min(1, money / (carers x carer_support_cost))``, which lowers their
    breakdown hazard next week. Money beyond full support for every carer
    (:func:`agents.hub.carer_support_money_usable`) is not spent: it is added to this
    week's ``facilitation_unspent``."""
    p, c, w = model.p, model.council, model.week
    needed = hub.carer_support_money_usable(world.family_carers(model), p)
    w.spent.carer_support = min(plan.carer_support, needed)
    c.carer_support = w.spent.carer_support / needed if needed > 0 else 0.0
    w.facilitation_unspent += plan.carer_support - w.spent.carer_support


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


def fund_facilitation(model, plan: SpendPlan) -> None:
    """Turn facilitation money into coordinators, support money, outreach and grants.

    Coordinators are employed with all their money (how they spend their hours is decided
    in the matching phase, :func:`agents.hub.coordinator_time`); outreach is spent in full.
    Support money beyond every volunteer's full support and grant money beyond every open
    business's full grant cannot be used: it is not spent, and is reported as this week's
    ``facilitation_unspent`` (the built-in strategies re-plan it before it gets here,
    :meth:`model.strategies.Strategy.facilitation_lines`).
    """
    p, c, v, b, w = model.p, model.council, model.volunteers, model.businesses, model.week
    active = v.count
    c.coordinators = plan.coordinators / p.coordinator_weekly_cost
    c.coordinator_hours = c.coordinators * p.coordinator_hours
    w.spent.coordinators = plan.coordinators

    support_needed = hub.support_money_usable(active, p)
    w.spent.volunteer_support = min(plan.volunteer_support, support_needed)
    c.support_money_share = (
        w.spent.volunteer_support / support_needed if support_needed > 0 else 0.0
    )

    w.spent.outreach = plan.outreach
    c.outreach_spend = plan.outreach

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
    w.facilitation_unspent = (plan.volunteer_support - w.spent.volunteer_support) + (
        plan.grants - w.spent.grants
    )


def spend_coordinator_time(model) -> None:
    """Coordinators' fixed duties of the week (follow-up, then volunteer support) and the
    new matches the hours left allow (:func:`agents.hub.coordinator_time`). Called by the
    matching phase once finished pairings have ended; what brokering does not use goes
    to :func:`develop_community`."""
    p, c = model.p, model.council
    pairs = model.pairs
    brokered = int(np.count_nonzero(pairs.brokered[pairs.live]))
    active = model.volunteers.count
    c.hours_follow_up, c.hours_support, left = hub.coordinator_time(
        c.coordinator_hours, brokered, active, p
    )
    needed = active * p.support_hours_per_volunteer
    coordination = c.hours_support / needed if needed > 0 else float(c.coordinator_hours > 0)
    c.support = hub.support_level(c.support_money_share, coordination)
    c.broker_capacity = int(math.floor(left / p.hours_per_new_match + 1e-9))
    c.hours_matching = 0.0
    c.hours_development = left


def develop_community(model, new_matches: int) -> None:
    """Hours the brokering of ``new_matches`` took are booked; the rest of the coordinators'
    time goes into community development, which works like outreach spending at the
    coordinators' cost per hour (:func:`agents.hub.outreach_multiplier`)."""
    p, c = model.p, model.council
    left = c.hours_development
    c.hours_matching = min(left, new_matches * p.hours_per_new_match)
    c.hours_development = left - c.hours_matching
    hourly = p.coordinator_weekly_cost / p.coordinator_hours
    spend = c.outreach_spend + c.hours_development * hourly
    per_resident_year = spend * 52.0 / max(model.residents.count, 1)
    c.outreach = hub.outreach_multiplier(per_resident_year, p)


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
