"""Council strategies (MODEL.md section 5): a registry of levers.

Every strategy spends the same weekly budget ``B(t)``; it only decides how. Care-home
places the council pays are a duty met first; the strategy plans the money left over
(``plan(model, budget)`` gets that money; ``model.council.duty`` is what the places cost
and ``model.week.budget`` the whole budget). It returns
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

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING

from agents import hub
from model import world
from model.parameters import bind_choices
from model.registry import Registry

if TYPE_CHECKING:  # pragma: no cover
    from model.civic_model import CivicModel


def _line(kind: str):
    """A spending line: money (GBP), of kind ``care`` (buys care) or ``facilitation``."""
    return field(default=0.0, metadata={"kind": kind})


@dataclass(kw_only=True)
class Spending:
    """Money per spending line (GBP): what a strategy plans, or what the council spent.

    A new line is one more field here (``_line("care")`` or ``_line("facilitation")``):
    totals, metrics and the budget check pick it up.

    Attributes:
        paid_care: Paid home care hours (bought at ``care_hour_price``).
        care_homes: Care-home places the council pays (a duty, paid first; never planned
            by a strategy).
        coordinators: Coordinators who broker matches and support volunteers.
        volunteer_support: Volunteer support and recognition (slows burnout).
        outreach: Outreach (raises recruitment).
        grants: Grants to businesses and community-owned assets.
        carer_support: Support for family carers (respite, groups; fewer breakdowns).
    """

    paid_care: float = _line("care")
    care_homes: float = _line("care")
    coordinators: float = _line("facilitation")
    volunteer_support: float = _line("facilitation")
    outreach: float = _line("facilitation")
    grants: float = _line("facilitation")
    carer_support: float = _line("facilitation")

    @property
    def care(self) -> float:
        """Total money on lines that buy care."""
        return self._sum(CARE_LINES)

    @property
    def facilitation(self) -> float:
        """Total money on facilitation lines."""
        return self._sum(FACILITATION_LINES)

    @property
    def total(self) -> float:
        """Total money on all lines."""
        return self.care + self.facilitation

    def _sum(self, lines: tuple[str, ...]) -> float:
        # added left to right: the builtin sum() compensates rounding on Python 3.12+
        # only, which would make totals differ in the last bit between Pythons
        money = 0.0
        for line in lines:
            money += getattr(self, line)
        return money


@dataclass(kw_only=True)
class SpendPlan(Spending):
    """How a strategy splits this week's budget between the spending lines (GBP), and
    the lowest need level eligible for paid care.

    Attributes:
        eligibility_floor: Lowest need level eligible for paid care (1-4).
    """

    eligibility_floor: int = 3


#: The council's spending lines (the fields of :class:`Spending`), in order, and those
#: that buy care and those that facilitate. Metrics, checks and reports take them here.
SPEND_LINES = tuple(f.name for f in fields(Spending))
CARE_LINES = tuple(f.name for f in fields(Spending) if f.metadata["kind"] == "care")
FACILITATION_LINES = tuple(f.name for f in fields(Spending) if f.metadata["kind"] == "facilitation")


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
            budget: The money this week after the care-home places the council must pay
                (``B(t) - model.council.duty``), in GBP.
        """

    def setup(self, model: CivicModel) -> None:  # noqa: B027 - optional hook
        """Hook called once when the world is built (e.g. to add state columns)."""

    def after_week(self, model: CivicModel) -> None:  # noqa: B027 - optional hook
        """Hook called at the end of each week (after businesses, before collection)."""

    def facilitation_lines(self, model: CivicModel, money: float) -> dict[str, float]:
        """Split money for facilitation: ``share_carer_support`` of it for family carers,
        the rest by the four ``share_*`` parameters of the other lines, re-planned so that
        every line can use what it gets.

        Volunteer support can use at most full support for every active volunteer, grants
        at most a full grant for every open business and carer support at most full
        support for every family carer giving care (:func:`agents.hub.support_money_usable`,
        :func:`agents.hub.grant_money_usable`, :func:`agents.hub.carer_support_money_usable`).
        What those three lines cannot use moves to coordinators and outreach, in proportion
        to their shares (coordinators' spare time goes into community development). Only
        if both of those shares are 0 does the excess stay on its line, where the council
        reports it as ``facilitation_unspent``.
        """
        p = model.p
        carers = money * p.share_carer_support
        rest = money - carers
        shares = {
            "coordinators": p.share_coordinators,
            "volunteer_support": p.share_volunteer_support,
            "outreach": p.share_outreach,
            "grants": p.share_grants,
        }
        lines = {name: rest * share for name, share in shares.items()}
        lines["carer_support"] = carers
        b = model.businesses
        limits = {
            "volunteer_support": hub.support_money_usable(model.volunteers.count, p),
            "grants": hub.grant_money_usable(int(b.open[b.live].sum()), p),
            "carer_support": hub.carer_support_money_usable(world.family_carers(model), p),
        }
        takers = {name: shares[name] for name in ("coordinators", "outreach") if shares[name]}
        if not takers:
            return lines
        excess = 0.0
        for name, limit in limits.items():
            if lines[name] > limit:
                excess += lines[name] - limit
                lines[name] = limit
        weight = math.fsum(takers.values())
        for name, share in takers.items():
            lines[name] += excess * share / weight
        return lines


#: The registered strategy classes by name; ``Parameters`` takes its ``strategy`` names
#: from here.
STRATEGIES: Registry[type[Strategy]] = Registry(
    "strategy", lookup_name="parameter 'strategy'", identifiers=True
)
bind_choices("strategies", STRATEGIES)


def register_strategy(cls: type[Strategy]) -> type[Strategy]:
    """Class decorator: add a strategy to the registry under ``cls.name``.

    Registering the same class again (a module imported twice) is harmless.

    Raises:
        ValueError: If the class has no name or the name is taken by another class.
    """
    if not cls.name or not cls.name.isidentifier():
        raise ValueError(f"strategy class {cls.__name__} needs a 'name' that is an identifier")
    if cls.name in STRATEGIES and STRATEGIES.get(cls.name).__qualname__ != cls.__qualname__:
        raise ValueError(f"strategy '{cls.name}' is already registered")
    return STRATEGIES.add(cls.name, cls, replace=True)


def get_strategy(name: str) -> Strategy:
    """A new instance of the strategy registered under ``name``."""
    return STRATEGIES.get(name)()


def strategy_names() -> list[str]:
    """Registered strategy names, in registration order."""
    return STRATEGIES.names()


def strategy_classes() -> dict[str, type[Strategy]]:
    """Registered strategy classes by name."""
    return STRATEGIES.items()


@register_strategy
class DirectDelivery(Strategy):
    """Buy paid care hours with the whole budget; tighten eligibility when short."""

    name = "direct"
    title = "Direct delivery"
    description = (
        "The council pays its care-home places and buys home-care packages with the rest of "
        "its budget. Residents at or above the eligibility level get packages, neediest and "
        "longest-waiting first; when demand exceeds the money, eligibility tightens from "
        "substantial towards critical."
    )

    def plan(self, model: CivicModel, budget: float) -> SpendPlan:
        """All of the money goes to home care at the adaptive eligibility level."""
        floor = hub.adapt_eligibility(model.council, budget, model.p)
        return SpendPlan(paid_care=budget, eligibility_floor=floor)


@register_strategy
class FacilitatorHub(Strategy):
    """Keep a safety net for critical care; spend the rest on making things happen."""

    name = "facilitator"
    title = "Facilitator hub"
    description = (
        "The council keeps a safety-net share of the budget for its care-home places and "
        "critical personal care, and spends the rest on coordinators who broker volunteer "
        "matches, support for volunteers and family carers, outreach, and grants to local "
        "businesses and community assets."
    )

    def plan(self, model: CivicModel, budget: float) -> SpendPlan:
        """The safety net (``safety_net_share`` of the whole budget) pays the care-home
        places first, then critical home care; the rest goes to facilitation (less, if the
        places cost more than the safety net)."""
        whole = budget + model.council.duty
        safety = max(0.0, min(budget, whole * model.p.safety_net_share - model.council.duty))
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
        "Direct delivery with a share of the money left after care-home places "
        "(hybrid_facilitation_share) moved to facilitation: coordinators, volunteer and "
        "carer support, outreach and grants."
    )

    def plan(self, model: CivicModel, budget: float) -> SpendPlan:
        """Split the money between home care and facilitation by one parameter."""
        facilitation = budget * model.p.hybrid_facilitation_share
        paid = budget - facilitation
        floor = hub.adapt_eligibility(model.council, paid, model.p)
        return SpendPlan(
            paid_care=paid,
            eligibility_floor=floor,
            **self.facilitation_lines(model, facilitation),
        )
