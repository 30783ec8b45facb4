"""Phase 3, council strategy: the hub spends this week's budget (ODD 7.3)."""

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
        personal_gap_by_level: Personal-care hours still missing after family, by level.
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
        hub_share: Share of coordinators working from each hub.
    """

    hubs: int
    plan: SpendPlan = field(default_factory=SpendPlan)
    personal_gap_by_level: np.ndarray = field(default_factory=lambda: np.zeros(5))
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
    hub_share: np.ndarray = field(default_factory=lambda: np.ones(1))


def run(model) -> None:
    """Ask the strategy for a plan, fund facilitation, and buy paid care."""
    p, r, c = model.p, model.residents, model.council
    budget = hub.weekly_budget(model.steps, model.initial_residents, p)
    model.week.budget = budget
    # every slot at once: a free slot has level 0 and no need
    gap = r.need_personal - r.fam_personal
    c.personal_gap_by_level = np.bincount(r.level, weights=gap, minlength=5)
    plan = model.strategy.plan(model, budget)
    if plan.total > budget * (1 + 1e-9) + 1e-6:
        raise ValueError(
            f"strategy '{model.strategy.name}' planned GBP {plan.total:.2f}, more than the "
            f"budget of GBP {budget:.2f}"
        )
    c.plan = plan
    fund_facilitation(model, plan)
    buy_paid_care(model, plan.paid_care, plan.eligibility_floor)


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
    w.spend_coordinators = plan.coordinators

    support_needed = hub.support_money_usable(active, p)
    w.spend_volunteer_support = min(plan.volunteer_support, support_needed)
    c.support_money_share = (
        w.spend_volunteer_support / support_needed if support_needed > 0 else 0.0
    )

    w.spend_outreach = plan.outreach
    c.outreach_spend = plan.outreach

    open_slots = b.live[b.open[b.live]]
    b.grant_share[b.live] = 0.0
    fundable = plan.grants / p.grant_per_business_week
    if open_slots.size and fundable > 0:
        # community assets first, then the most engaged (a grant builds on goodwill)
        order = open_slots[np.lexsort((-b.engagement[open_slots], ~b.community_owned[open_slots]))]
        shares = np.clip(fundable - np.arange(order.size), 0.0, 1.0)
        b.grant_share[order] = shares
        w.spend_grants = float(shares.sum() * p.grant_per_business_week)
    else:
        w.spend_grants = 0.0
    c.hub_share = np.bincount(v.hub[v.live], minlength=c.hubs) / max(active, 1)
    if active == 0:
        c.hub_share = np.full(c.hubs, 1.0 / c.hubs)
    w.facilitation_unspent = (plan.volunteer_support - w.spend_volunteer_support) + (
        plan.grants - w.spend_grants
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
    """Buy paid personal-care hours for eligible residents.

    Eligible: need level at least ``floor`` and personal care still missing after family.
    Order: residents who already have a care package, then the neediest, then the
    longest waiting (weeks eligible but not fully served; then the lowest person number,
    for determinism). Each gets the hours
    they lack until the money runs out.
    """
    p, r, w = model.p, model.residents, model.week
    # every slot at once: a free slot has level 0 and no need, so it is never eligible
    gap = np.maximum(r.need_personal - r.fam_personal, 0.0)
    eligible = (r.level >= floor) & (gap > 1e-9)
    cand = np.flatnonzero(eligible)
    order = cand[
        np.lexsort((r.person_id[cand], -r.waiting[cand], -r.level[cand], ~r.has_package[cand]))
    ]
    hours_available = max(0.0, money) / p.care_hour_price
    w.paid_hours = kernels.buy_care(
        order, gap, hours_available, r.paid_personal, eligible, r.has_package, r.waiting
    )
    w.spend_paid_care = w.paid_hours * p.care_hour_price
