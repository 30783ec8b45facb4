"""Phase 4, care homes: residents move into care homes (ODD 7.11).

A resident living at home moves into a care home with a weekly hazard that rises with
need and age, with missing family care and after a carer's breakdown (an exogenous draw, the
same under every strategy). A self-funder pays for the home; anyone else needs a
council-funded place: a duty the council pays before any other line, so it funds new
places while this week's budget, after the places it already pays, covers the fee. A
resident in a care home leaves the neighbourhood's care loop -- the home meets their need
-- but stays in the population: they age, may deteriorate, and die.
"""

from __future__ import annotations

import numpy as np

from agents import hub, resident
from model import kernels
from model.phases.council import this_weeks_budget


def run(model) -> None:
    """Admit this week's residents who move into a care home."""
    admit(model)


def admit(model) -> None:
    """Residents drawn to move this week go: self-funders always, others if the council
    can fund their place (:func:`agents.hub.council_placements`), neediest first."""
    r, p, t = model.residents, model.p, model.t
    if kernels.shipped(resident.care_home_admission_probability, resident.weekly):
        moving = kernels.admission_draws(  # the compiled copy of the draws below
            r.alive,
            r.in_care_home,
            r.level,
            r.age,
            r.breakdown_week,
            r.need_personal,
            r.need_low,
            r.fam_personal,
            r.fam_low,
            r.person_id,
            t,
            model.streams.salt("care_home", t),
            float(p.care_home_rate),
            float(p.care_home_level_ratio),
            float(p.care_home_age_slope),
            float(p.care_home_family_factor),
            float(p.care_home_crisis_factor),
            int(p.care_home_crisis_weeks),
        )
    else:
        moving = who_moves(model)
    model.council.places = council_places(model)
    if moving.size == 0:
        return
    paying = moving[r.self_funder[moving]]
    asking = moving[~r.self_funder[moving]]
    asking = asking[np.lexsort((r.person_id[asking], -r.level[asking]))]
    already = model.council.places * p.care_home_fee
    funded = hub.council_placements(
        asking, r.level, p.care_home_fee, this_weeks_budget(model) - already, p
    )
    model.week.placements_refused = int(
        np.count_nonzero(r.level[asking] >= p.eligibility_threshold) - funded.size
    )
    enter(model, paying, council=False)
    enter(model, funded, council=True)
    model.council.places += int(funded.size)


def who_moves(model) -> np.ndarray:
    """Residents at home with need whose exogenous draw falls below their chance of moving
    into a care home this week (:func:`agents.resident.care_home_admission_probability`,
    with their missing family care and a crisis after a carer's breakdown), ascending."""
    r, p, t = model.residents, model.p, model.t
    at_home = np.flatnonzero(r.alive & ~r.in_care_home & (r.level > 0))
    in_crisis = (t - r.breakdown_week[at_home]) < p.care_home_crisis_weeks
    chance = resident.care_home_admission_probability(
        r.age[at_home], r.level[at_home], missing_family_care(model, at_home), in_crisis, p
    )
    return model.streams.happens_to("care_home", at_home, r.person_id, t, chance)


def missing_family_care(model, slots: np.ndarray) -> np.ndarray:
    """Share of each resident's need this week that family care does not meet (0 without
    need), for the residents in ``slots``."""
    r = model.residents
    need = r.need_personal[slots] + r.need_low[slots]
    given = r.fam_personal[slots] + r.fam_low[slots]
    return np.where(need > 0, 1.0 - given / np.maximum(need, 1e-300), 0.0)


def enter(model, slots: np.ndarray, council: bool) -> None:
    """Residents move into a care home: their community need, family and paid care, and
    pairings end; if they volunteer, they stop."""
    if slots.size == 0:
        return
    r = model.residents
    r.in_care_home[slots] = True
    r.council_funded[slots] = council
    for column in ("need_personal", "need_low", "fam_personal", "fam_low", "paid_personal"):
        getattr(r, column)[slots] = 0.0
    r.has_package[slots] = False
    r.waiting[slots] = 0
    as_volunteers = r.volunteer[slots]
    model.remove_volunteers(as_volunteers[as_volunteers >= 0])
    model.end_pairings_of_residents(slots)
    model.week.admissions += int(slots.size)


def council_places(model) -> int:
    """Residents in a care home whose place the council pays."""
    r = model.residents
    return int(np.count_nonzero(r.alive & r.in_care_home & r.council_funded))
