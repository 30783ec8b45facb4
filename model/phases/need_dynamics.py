"""Phase 2, need dynamics: deterioration, reablement and this week's hours (ODD 7.2)."""

from __future__ import annotations

import numpy as np

from agents import resident


def run(model) -> None:
    """Need levels move up or down; then each resident's need is assessed."""
    change_levels(model)
    assess_needs(model)


def change_levels(model) -> None:
    """Each resident may move up a level (hazard rises with age, recent unmet need and
    being lonely, falls with met low-level support) or, if fully supported last week and
    living at home, down a level (reablement). Both draws are exogenous (common random
    numbers). Residents in care homes may deteriorate too."""
    r, p, week = model.residents, model.p, model.t
    # every slot at once; only live residents move (a free slot keeps level 0)
    lonely = (r.connection < p.lonely_threshold).astype(np.float64)
    p_up = resident.deterioration_probability(r.age, r.recent_unmet, lonely, r.low_support, p)
    p_up = resident.progression_probability(p_up, r.level, p)
    up = model.streams.happens("need_up", r.person_id, week, p_up, among=r.alive & (r.level < 4))
    moved_up = np.zeros(r.n_slots, dtype=bool)
    moved_up[up] = True
    may_recover = r.alive & ~moved_up & r.fully_supported & (r.level > 0) & ~r.in_care_home
    p_down = resident.reablement_probability(r.fully_supported, r.age, r.level, p)
    down = model.streams.happens("need_down", r.person_id, week, p_down, may_recover)
    r.level[up] += 1
    r.level[down] -= 1


def assess_needs(model) -> None:
    """This week's hours of personal care and low-level support needed at home. A
    resident in a care home needs none from the neighbourhood: the home meets it."""
    r, p = model.residents, model.p
    # every slot at once: a free slot has level 0, so no need
    r.need_personal[:], r.need_low[:] = resident.need_hours(r.level, p)
    r.need_personal[r.in_care_home] = 0.0
    r.need_low[r.in_care_home] = 0.0
