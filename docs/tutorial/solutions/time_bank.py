"""Exercise (b): a time bank -- volunteers bank the hours they give and draw on them later.

After the "care banking" of Gostoli & Silverman's social-care model: an older person who
volunteers while they are well earns credits (one per hour given); when they later need
care themselves, the credits buy them low-level support from other volunteers.

Everything is built with the extension hooks, without editing the model core:

* ``plan`` -- the time bank spends the budget exactly like the facilitator hub (it
  inherits :class:`model.strategies.FacilitatorHub`), so any difference between the two
  comes from the bank itself.
* ``Population.add_column`` -- a ``credits`` column on ``model.residents`` (hours banked;
  credits belong to the *resident*, because a resident stops volunteering the week they
  need care) and a ``time_bank`` column on ``model.pairs`` (pairings the bank arranged).
* ``after_week`` -- each week, after care has been delivered:

  1. *earn*: every young-old resident volunteer (``resident_slot >= 0``) banks the hours
     they gave this week;
  2. *spend*: hours a member received through a time-bank pairing are taken from their
     credits; a pairing ends when the credits run out;
  3. *broker*: members with credits who already have a volunteer but whose low-level
     need was not all met are paired with one more volunteer -- the nearest who has room,
     within ``travel_radius`` -- so idle volunteer capacity becomes hours for the bank's
     members. (Only one *more*: a resident with any pairing is not in the queue for an
     ordinary volunteer, so a bank pairing in place of an ordinary one would, when the
     credits run out, leave the member at the back of the queue.)

The new pairings deliver care next week through the ordinary care-delivery phase, so
capacity, "met <= need" and the other invariants hold without any special code.

Load it with ``civic-sim --plugin docs/tutorial/solutions/time_bank.py ...`` or
``import`` it before building a model, then use ``strategy="time_bank"``.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from model.metrics import register_metric
from model.phases.matching import volunteers_with_room
from model.strategies import FacilitatorHub, register_strategy

#: Credits per hour, earned for an hour given and charged for an hour received (an hour
#: for an hour, as in most UK time banks).
CREDITS_PER_HOUR = 1.0


@register_strategy
class TimeBank(FacilitatorHub):
    """A facilitator hub that also runs a time bank for young-old volunteers."""

    name = "time_bank"
    title = "Time bank"
    description = (
        "Spends the budget like the facilitator hub. Older residents who volunteer bank the "
        "hours they give; when they need care themselves, their credits buy low-level "
        "support from other volunteers, arranged by the bank (after Gostoli & Silverman's "
        "care banking)."
    )

    def __init__(self):
        self.earned = 0.0  # credits banked since the start of the run
        self.redeemed = 0.0  # credits spent since the start of the run

    def after_week(self, model) -> None:
        """Bank this week's hours, charge this week's redemptions, arrange new pairings."""
        add_time_bank_columns(model)
        self.earned += earn_credits(model)
        self.redeemed += spend_credits(model)
        broker_for_members(model)


def add_time_bank_columns(model) -> None:
    """Give residents a ``credits`` column and pairings a ``time_bank`` flag (once)."""
    model.residents.add_column("credits", np.float64, 0.0)
    model.pairs.add_column("time_bank", bool, False)


def earn_credits(model) -> float:
    """Young-old resident volunteers bank the hours they gave this week; return the total."""
    v, r = model.volunteers, model.residents
    members = v.live[v.resident_slot[v.live] >= 0]
    earned = v.hours_given[members] * CREDITS_PER_HOUR
    np.add.at(r.credits, v.resident_slot[members], earned)
    return float(earned.sum())


def spend_credits(model) -> float:
    """Charge members for the hours they received through time-bank pairings this week.

    Credits never go below zero (the last week is on the house); pairings of members whose
    credits are used up end, and they go back to the ordinary queue for a volunteer.

    Returns:
        Credits spent this week.
    """
    r, pairs = model.residents, model.pairs
    banked = pairs.live[pairs.time_bank[pairs.live]]
    if banked.size == 0:
        return 0.0
    before = r.credits.copy()
    np.subtract.at(r.credits, pairs.res[banked], pairs.hours[banked] * CREDITS_PER_HOUR)
    np.maximum(r.credits, 0.0, out=r.credits)
    spent = float((before - r.credits).sum())
    used_up = np.zeros(pairs.n_slots, dtype=bool)
    used_up[banked] = r.credits[pairs.res[banked]] <= 1e-9
    model.end_pairings(used_up)
    return spent


def members_lacking_support(model):
    """Members with credits whose low-level need was not all met this week, who have an
    ordinary volunteer but no time-bank pairing yet: neediest first (level, then hours
    lacking, then person)."""
    r, pairs = model.residents, model.pairs
    live = r.live
    lacking = r.need_low[live] - r.fam_low[live] - r.vol_low[live] - r.biz_low[live]
    has_bank_pairing = np.zeros(r.n_slots, dtype=bool)
    has_bank_pairing[pairs.res[pairs.live[pairs.time_bank[pairs.live]]]] = True
    has_pairing = np.zeros(r.n_slots, dtype=bool)
    has_pairing[pairs.res[pairs.live]] = True
    want = (r.credits[live] > 1e-9) & (lacking > 1e-9) & ~has_bank_pairing[live]
    want &= has_pairing[live]  # one more volunteer for a member who already has one
    members, lacking = live[want], lacking[want]
    return members[np.lexsort((r.person_id[members], -lacking, -r.level[members]))]


def broker_for_members(model) -> int:
    """Pair each member who lacks support with the nearest volunteer who has room.

    The member already has an ordinary volunteer; the bank adds one more (not the same
    one), within ``travel_radius``. It uses volunteers who have room -- capacity the
    ordinary matching left idle.

    Returns:
        Number of new pairings.
    """
    r, v, pairs, p = model.residents, model.volunteers, model.pairs, model.p
    members = members_lacking_support(model)
    free = volunteers_with_room(model)
    if members.size == 0 or free.size == 0:
        return 0
    room = (p.max_matches - v.matches[free]).astype(int)
    tree = cKDTree(np.stack([v.x[free], v.y[free]], axis=1))
    near = tree.query_ball_point(
        np.stack([r.x[members], r.y[members]], axis=1), r=p.travel_radius + 0.5
    )
    made_v, made_r = [], []
    for member, candidates in zip(members, near, strict=True):
        candidates = np.asarray(candidates, dtype=np.int64)
        already = pairs.vol[pairs.live[pairs.res[pairs.live] == member]]
        candidates = candidates[(room[candidates] > 0) & ~np.isin(free[candidates], already)]
        if candidates.size == 0:
            continue
        distance = np.hypot(
            v.x[free[candidates]] - r.x[member], v.y[free[candidates]] - r.y[member]
        )
        chosen = candidates[np.argmin(distance)]
        room[chosen] -= 1
        made_v.append(int(free[chosen]))
        made_r.append(int(member))
    before = pairs.alive.copy()
    model.add_pairings(
        np.array(made_v, dtype=np.int64), np.array(made_r, dtype=np.int64), brokered=True
    )
    existed = np.zeros(pairs.n_slots, dtype=bool)  # the pairs table may have grown
    existed[: before.size] = before
    pairs.time_bank[pairs.alive & ~existed] = True
    return len(made_v)


# --- what to watch -----------------------------------------------------------------------
def total_credits(model) -> float:
    """Credit hours held by living residents (0 when no time bank runs)."""
    r = model.residents
    credits = getattr(r, "credits", None)
    return float(credits[r.live].sum()) if credits is not None else 0.0


def hours_redeemed(model) -> float:
    """Hours members received through time-bank pairings this week (0 without a bank)."""
    pairs = model.pairs
    flag = getattr(pairs, "time_bank", None)
    if flag is None:
        return 0.0
    live = pairs.live
    return float(pairs.hours[live][flag[live]].sum())


# replace=True: loading this file twice (a notebook, the CLI and a spec) is harmless.
register_metric(
    "time_bank_credits",
    total_credits,
    "Time-bank credit hours held by living residents",
    replace=True,
)
register_metric(
    "time_bank_hours",
    hours_redeemed,
    "Hours received through time-bank pairings this week",
    replace=True,
)
