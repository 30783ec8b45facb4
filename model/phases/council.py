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
        broker_capacity: Matches coordinators can broker this week.
        support: Share of full support each volunteer gets (0-1).
        outreach: Recruitment multiplier from outreach (1 = none).
        hub_share: Share of coordinators working from each hub.
    """

    hubs: int
    plan: SpendPlan = field(default_factory=SpendPlan)
    personal_gap_by_level: np.ndarray = field(default_factory=lambda: np.zeros(5))
    coordinators: float = 0.0
    broker_capacity: float = 0.0
    broker_credit: float = 0.0
    support: float = 0.0
    outreach: float = 1.0
    hub_share: np.ndarray = field(default_factory=lambda: np.ones(1))


def run(model) -> None:
    """Ask the strategy for a plan, fund facilitation, and buy paid care with the rest."""
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
    leftover = fund_facilitation(model, plan)
    buy_paid_care(model, plan.paid_care + leftover, plan.eligibility_floor)


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
    w.spent.paid_care = w.paid_hours * p.care_hour_price
