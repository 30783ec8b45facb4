"""Council strategies (MODEL.md section 5): a registry of levers.

Every strategy spends the same weekly budget ``B(t)``; it only decides how. It returns
a :class:`SpendPlan` (money per line and the lowest need level eligible for paid care)
and may react after each week (:meth:`Strategy.after_week`). The council phase of the
model carries the plan out. A new strategy is one class registered by name::

    @register_strategy
    class TimeBank(Strategy):
        name = "time_bank"
        ...

and the CLI, experiment specs and the workshop page pick it up.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING

from agents import hub

if TYPE_CHECKING:  # pragma: no cover
    from model.civic_model import CivicModel


@dataclass
class SpendPlan:
    """How this week's budget is split between the council's spending lines (GBP).

    Attributes:
        paid_care: Money for paid care hours (bought at ``care_hour_price``).
        eligibility_floor: Lowest need level eligible for paid care (1-4).
        coordinators: Money for coordinators who broker matches and support volunteers.
        volunteer_support: Money for volunteer support and recognition (slows burnout).
        outreach: Money for outreach (raises recruitment).
        grants: Money for grants to businesses and community-owned assets.
    """

    paid_care: float = 0.0
    eligibility_floor: int = 3
    coordinators: float = 0.0
    volunteer_support: float = 0.0
    outreach: float = 0.0
    grants: float = 0.0

    @property
    def facilitation(self) -> float:
        """Total money on facilitation lines."""
        return self.coordinators + self.volunteer_support + self.outreach + self.grants

    @property
    def total(self) -> float:
        """Total money planned."""
        return self.paid_care + self.facilitation


class Strategy(ABC):
    """Base class of a council strategy. Subclass, set ``name``, override ``plan``."""

    name: str = ""
    title: str = ""
    description: str = ""

    @abstractmethod
    def plan(self, model: CivicModel, budget: float) -> SpendPlan:
        """Split this week's budget into a :class:`SpendPlan`.

        Args:
            model: The running model (read its parameters and state; do not change it).
            budget: This week's budget ``B(t)`` in GBP.
        """

    def setup(self, model: CivicModel) -> None:  # noqa: B027 - optional hook
        """Hook called once when the world is built (e.g. to add state columns)."""

    def after_week(self, model: CivicModel) -> None:  # noqa: B027 - optional hook
        """Hook called at the end of each week (after businesses, before collection)."""

    def facilitation_lines(self, model: CivicModel, money: float) -> dict[str, float]:
        """Split money for facilitation by the ``share_*`` parameters, re-planned so that
        every line can use what it gets.

        Volunteer support can use at most full support for every active volunteer, and
        grants at most a full grant for every open business
        (:func:`agents.hub.support_money_usable`, :func:`agents.hub.grant_money_usable`).
        What those two lines cannot use moves to coordinators and outreach, in proportion
        to their shares (coordinators' spare time goes into community development). Only
        if both of those shares are 0 does the excess stay on its line, where the council
        reports it as ``facilitation_unspent``.
        """
        p = model.p
        shares = {
            "coordinators": p.share_coordinators,
            "volunteer_support": p.share_volunteer_support,
            "outreach": p.share_outreach,
            "grants": p.share_grants,
        }
        lines = {name: money * share for name, share in shares.items()}
        b = model.businesses
        limits = {
            "volunteer_support": hub.support_money_usable(model.volunteers.count, p),
            "grants": hub.grant_money_usable(int(b.open[b.live].sum()), p),
        }
        takers = {name: shares[name] for name in ("coordinators", "outreach") if shares[name]}
        if not takers:
            return lines
        excess = 0.0
        for name, limit in limits.items():
            if lines[name] > limit:
                excess += lines[name] - limit
                lines[name] = limit
        weight = sum(takers.values())
        for name, share in takers.items():
            lines[name] += excess * share / weight
        return lines


_STRATEGIES: dict[str, type[Strategy]] = {}


def register_strategy(cls: type[Strategy]) -> type[Strategy]:
    """Class decorator: add a strategy to the registry under ``cls.name``.

    Raises:
        ValueError: If the class has no name or the name is taken by another class.
    """
    if not cls.name or not cls.name.isidentifier():
        raise ValueError(f"strategy class {cls.__name__} needs a 'name' that is an identifier")
    existing = _STRATEGIES.get(cls.name)
    if existing is not None and existing.__qualname__ != cls.__qualname__:
        raise ValueError(f"strategy '{cls.name}' is already registered")
    _STRATEGIES[cls.name] = cls
    return cls


def get_strategy(name: str) -> Strategy:
    """A new instance of the strategy registered under ``name``."""
    try:
        return _STRATEGIES[name]()
    except KeyError:
        raise ValueError(
            f"parameter 'strategy' must be one of {', '.join(strategy_names())}, got {name!r}"
        ) from None


def strategy_names() -> list[str]:
    """Registered strategy names, in registration order."""
    return list(_STRATEGIES)


def strategy_classes() -> dict[str, type[Strategy]]:
    """Registered strategy classes by name."""
    return dict(_STRATEGIES)


@register_strategy
class DirectDelivery(Strategy):
    """Buy paid care hours with the whole budget; tighten eligibility when short."""

    name = "direct"
    title = "Direct delivery"
    description = (
        "The council buys paid care hours with its whole budget. Residents at or above the "
        "eligibility level get care packages, neediest and longest-waiting first; when "
        "demand exceeds the budget, eligibility tightens from substantial towards critical."
    )

    def plan(self, model: CivicModel, budget: float) -> SpendPlan:
        """All of the budget goes to paid care at the adaptive eligibility level."""
        floor = hub.adapt_eligibility(model.council, budget, model.p)
        return SpendPlan(paid_care=budget, eligibility_floor=floor)


@register_strategy
class FacilitatorHub(Strategy):
    """Keep a safety net for critical care; spend the rest on making things happen."""

    name = "facilitator"
    title = "Facilitator hub"
    description = (
        "The council keeps a safety-net share of the budget for critical personal care and "
        "spends the rest on coordinators who broker volunteer matches, support for "
        "volunteers, outreach, and grants to local businesses and community assets."
    )

    def plan(self, model: CivicModel, budget: float) -> SpendPlan:
        """Safety net for critical need; the rest on the four facilitation lines."""
        safety = budget * model.p.safety_net_share
        return SpendPlan(
            paid_care=safety,
            eligibility_floor=4,
            **self.facilitation_lines(model, budget - safety),
        )


@register_strategy
class Hybrid(Strategy):
    """Direct delivery with a share of the budget moved to facilitation."""

    name = "hybrid"
    title = "Hybrid"
    description = (
        "Direct delivery with a share of the budget (hybrid_facilitation_share) moved to "
        "facilitation: coordinators, volunteer support, outreach and grants."
    )

    def plan(self, model: CivicModel, budget: float) -> SpendPlan:
        """Split the budget between direct care and facilitation by one parameter."""
        facilitation = budget * model.p.hybrid_facilitation_share
        paid = budget - facilitation
        floor = hub.adapt_eligibility(model.council, paid, model.p)
        return SpendPlan(
            paid_care=paid,
            eligibility_floor=floor,
            **self.facilitation_lines(model, facilitation),
        )
