"""Phase 2, need dynamics: deterioration, reablement and this week's hours (ODD 7.2)."""

from __future__ import annotations

from agents import resident


def run(model) -> None:
    """Need levels move up or down; then each resident's need is assessed."""
    change_levels(model)
    assess_needs(model)


def change_levels(model) -> None:
    """Each resident may move up a level (hazard rises with age, recent unmet need and
    loneliness, falls with met low-level support) or, if fully supported last week,
    down a level (reablement). Both draws are exogenous (common random numbers)."""
    r, p, week = model.residents, model.p, model.steps
    live = r.live
    level = r.level[live]
    ids = r.person_id[live]
    p_up = resident.deterioration_probability(
        r.age[live], r.recent_unmet[live], 1.0 - r.connection[live], r.low_support[live], p
    )
    up = (level < 4) & (model.streams.exogenous_uniform("need_up", ids, week) < p_up)
    p_down = resident.reablement_probability(r.fully_supported[live] & (level > 0), p)
    down = ~up & (model.streams.exogenous_uniform("need_down", ids, week) < p_down)
    r.level[live] = level + up.astype(level.dtype) - down.astype(level.dtype)


def assess_needs(model) -> None:
    """This week's hours of personal care and low-level support needed, and what family
    carers give (they come first and depend on nothing the council does)."""
    r, p = model.residents, model.p
    # every slot at once: a free slot has level 0, so no need and no family care
    r.need_personal[:], r.need_low[:] = resident.need_hours(r.level, p)
    r.fam_personal[:], r.fam_low[:] = resident.family_care(
        r.need_personal, r.need_low, r.family_hours
    )
