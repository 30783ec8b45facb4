"""Family (unpaid) carers: who cares, how they age, and when they stop (ODD 7.10).

A carer is not a Mesa agent of their own: they belong to the household of the resident
they care for, whose row holds the carer's limit (``family_hours``: the hours a week they
can give, 0 when there is nobody), age (``carer_age``) and the age at which they will die
(``carer_death_age``, drawn from the life table when they start). A carer gives more as need grows,
up to that limit (:func:`agents.resident.family_care`); they age with the resident, and
stop when they die or break down. A relative may step in for a resident with need who has
nobody. Census 2021: about 1.2 million unpaid carers in England and Wales are themselves
65+, almost half of them giving 50 or more hours a week.
"""

from __future__ import annotations

import numpy as np

from agents.resident import weekly


def carer_ages(resident_age, is_spouse, p):
    """A carer's age: a spouse or partner is the resident's age; a son or daughter is
    ``carer_generation_gap`` years younger.

    Defaults:
        ``carer_generation_gap`` = 30.
    """
    return np.where(is_spouse, resident_age, resident_age - p.carer_generation_gap)


def carer_death_age(carer_age, u, p):
    """The age at which a carer dies, drawn once when they start caring (ODD 7.10).

    Their remaining life under the life table's Gompertz hazard,
    ``mortality_at_65 * exp(mortality_age_slope * (age - 65))`` a year, by inverse transform
    of a uniform draw ``u`` in (0, 1]: the hazard summed from their age to the age of death
    equals ``-log(u)``, so
    ``death age = 65 + log(exp(slope * (age - 65)) - slope / mortality_at_65 * log(u)) / slope``.

    Defaults:
        ``mortality_at_65`` = 0.011, ``mortality_age_slope`` = 0.095.
    """
    u = np.clip(u, 1e-300, 1.0)
    with np.errstate(divide="ignore", over="ignore"):
        if p.mortality_age_slope <= 0:  # a constant hazard
            return carer_age - np.log(u) / p.mortality_at_65
        slope = p.mortality_age_slope
        now = np.exp(slope * (carer_age - 65.0))
        return 65.0 + np.log(now - slope / p.mortality_at_65 * np.log(u)) / slope


def carer_breakdown_probability(hours_given, support, p):
    """Weekly chance that a carer breaks down and stops caring (ODD 7.10).

    Yearly: ``carer_breakdown_per_hour * hours given a week``, lowered by carer support to
    ``* (1 - carer_support_effect * support)`` (``support`` is 0-1, from the council's carer
    support line). A carer who gives nothing this week does not break down.

    Defaults:
        ``carer_breakdown_per_hour`` = 0.002, ``carer_support_effect`` = 0.3.
    """
    yearly = p.carer_breakdown_per_hour * hours_given * (1.0 - p.carer_support_effect * support)
    return weekly(yearly)


def new_carer_probability(need_level, p):
    """Weekly chance that a relative starts caring for a resident with need and no family
    carer: the weekly form of ``carer_uptake_rate`` (0 without need).

    Defaults:
        ``carer_uptake_rate`` = 0.08.
    """
    return np.where(np.asarray(need_level) > 0, weekly(p.carer_uptake_rate), 0.0)
