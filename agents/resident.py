"""Older residents (65+) and the rules of ageing, death, need and connection.

ODD sections 2 (state), 7.1 (demography), 7.2 (need dynamics) and 7.6 (connection).
Need levels follow Gostoli & Silverman (2020): none, low, moderate, substantial,
critical, with 0/8/16/32/80 hours of care a week.
"""

from __future__ import annotations

import numpy as np
from mesa.discrete_space import FixedAgent

WEEKS_PER_YEAR = 52.0


def weekly(yearly_probability):
    """Convert a yearly probability to the equivalent weekly one: 1 - (1 - p)^(1/52)."""
    p = np.clip(yearly_probability, 0.0, 1.0)
    return 1.0 - (1.0 - p) ** (1.0 / WEEKS_PER_YEAR)


# --- demography (ODD 7.1) -------------------------------------------------------------
def death_probability(age, need_level, p):
    """Weekly chance of death, rising with age and with need (ODD 7.1).

    Yearly: ``q = mortality_at_65 * exp(mortality_age_slope * (age - 65))
    * exp(mortality_need_factor * need_level)``, capped at 1 (a Gompertz law;
    defaults from ONS life tables, need factor invented so that critical need about
    quadruples mortality).

    Defaults:
        ``mortality_at_65`` = 0.011, ``mortality_age_slope`` = 0.095,
        ``mortality_need_factor`` = 0.35.
    """
    yearly = p.mortality_at_65 * np.exp(
        p.mortality_age_slope * (age - 65.0) + p.mortality_need_factor * need_level
    )
    return weekly(yearly)


def initial_need_probability(age, p):
    """Chance that a resident of this age has some care need (HSE 2021 logistic fit).

    ``P(need > 0) = 1 / (1 + exp(-(age - initial_need_age50) / initial_need_age_spread))``:
    HSE 2021 reports 21% at 65-69 and 52% at 80+; the default midpoint is set so that the
    whole 65+ population starts at the 25-30% target (about 19% at 65-69, 44% at 80+).

    Defaults:
        ``initial_need_age50`` = 89, ``initial_need_age_spread`` = 15.
    """
    return 1.0 / (1.0 + np.exp(-(age - p.initial_need_age50) / p.initial_need_age_spread))


# --- need dynamics (ODD 7.2) -------------------------------------------------------------
def deterioration_probability(age, recent_unmet, loneliness, low_support, p):
    """Weekly chance of moving up one need level (ODD 7.2).

    Yearly base (Gostoli & Silverman 2020):
    ``need_onset_base + need_onset_scale * exp(age / need_onset_age_scale)``, multiplied by

    * ``(1 + unmet_onset_factor * recent_unmet)`` -- unmet need makes things worse,
    * ``(1 + loneliness_factor * loneliness)`` -- loneliness (1 - connection) too,
    * ``(1 - prevention_factor * low_support)`` -- met low-level support prevents
      (``low_support`` is the share of low-level need met last week, by anyone; 1 for
      residents with no need, who lack nothing).

    Defaults:
        ``need_onset_base`` = 0.0002, ``need_onset_scale`` = 0.0008,
        ``need_onset_age_scale`` = 18, ``unmet_onset_factor`` = 1,
        ``loneliness_factor`` = 0.5, ``prevention_factor`` = 0.4.
    """
    base = p.need_onset_base + p.need_onset_scale * np.exp(age / p.need_onset_age_scale)
    yearly = (
        base
        * (1.0 + p.unmet_onset_factor * recent_unmet)
        * (1.0 + p.loneliness_factor * loneliness)
        * (1.0 - p.prevention_factor * low_support)
    )
    return weekly(yearly)


def reablement_probability(fully_supported, age, need_level, p):
    """Weekly chance of moving down one level: ``reablement_rate`` if all need was met.

    The resident's ``age`` and ``need_level`` are passed for variants (reablement works
    better for the young-old, or at low levels); the shipped rule uses neither.

    Defaults:
        ``reablement_rate`` = 0.004.
    """
    return np.where(fully_supported, p.reablement_rate, 0.0)


def need_hours(need_level, p):
    """Weekly hours needed at a level, split into (personal care, low-level support).

    Defaults:
        ``need_hours_by_level`` = (0, 8, 16, 32, 80),
        ``personal_share_by_level`` = (0, 0.25, 0.4, 0.6, 0.8).
    """
    hours = np.take(p.need_hours_by_level, need_level)
    personal = hours * np.take(p.personal_share_by_level, need_level)
    return personal, hours - personal


def family_care(personal, low, family_hours):
    """Family carers give what they can, up to the need, split in proportion to it.

    Returns (personal hours met by family, low-level hours met by family).
    """
    need = personal + low
    given = np.minimum(family_hours, need)
    share = np.where(need > 0, given / np.maximum(need, 1e-300), 0.0)
    return personal * share, low * share


def unmet_hours(need_personal, need_low, fam_personal, fam_low, paid, volunteer, business):
    """Hours of care needed but not met this week, by type (ODD 7.5).

    Personal care comes only from family and paid carers; low-level support from family,
    volunteers and businesses. So ``unmet personal = max(need_personal - family - paid,
    0)`` and ``unmet low-level = max(need_low - family - volunteers - businesses, 0)``;
    a resident's unmet hours are their sum. Every count of unmet need (the metrics, the
    map, ``recent_unmet``) reads it from here (the compiled loops through
    ``model.kernels.unmet_of``, a checked copy).

    Returns:
        (unmet personal-care hours, unmet low-level hours).
    """
    return (
        np.maximum(need_personal - fam_personal - paid, 0.0),
        np.maximum(need_low - fam_low - volunteer - business, 0.0),
    )


# --- connection (ODD 7.6) --------------------------------------------------------------
def connection_target(ties, visited, attends_activity, p):
    """The connection a resident tends to this week (0-1).

    ``connection_base + min(connection_tie_cap, connection_per_tie * ties)
    + connection_visit * (has a volunteer visiting) + connection_activity * (attends an
    activity)``, capped at 1.

    Defaults:
        ``connection_base`` = 0.2, ``connection_per_tie`` = 0.04,
        ``connection_tie_cap`` = 0.4, ``connection_visit`` = 0.25,
        ``connection_activity`` = 0.2.
    """
    target = (
        p.connection_base
        + np.minimum(p.connection_tie_cap, p.connection_per_tie * ties)
        + p.connection_visit * visited
        + p.connection_activity * attends_activity
    )
    return np.minimum(target, 1.0)


def updated_connection(connection, target, p):
    """Connection moves a fraction ``connection_rate`` of the way to its target each week.

    Defaults:
        ``connection_rate`` = 0.1.
    """
    return connection + p.connection_rate * (target - connection)


class Resident(FixedAgent):
    """An older resident (65+) living at a fixed home cell.

    The resident's state is one row of ``model.residents`` (see ``model/population.py``);
    the properties below read it, so Mesa tools, the workshop page and students can treat
    a resident as an ordinary Mesa agent.
    """

    def __init__(self, model, slot: int, cell):
        super().__init__(model)
        self.slot = int(slot)
        self.cell = cell

    def _get(self, column):
        return getattr(self.model.residents, column)[self.slot]

    @property
    def person_id(self) -> int:
        """Number of this person, unique over the run."""
        return int(self._get("person_id"))

    @property
    def age(self) -> float:
        """Age in years."""
        return float(self._get("age"))

    @property
    def need_level(self) -> int:
        """Need level 0-4 (none, low, moderate, substantial, critical)."""
        return int(self._get("level"))

    @property
    def need_hours(self) -> float:
        """Hours of care needed this week."""
        return float(self._get("need_personal") + self._get("need_low"))

    @property
    def met_hours(self) -> float:
        """Hours of care met this week, by all sources."""
        r = self.model.residents
        return float(
            r.fam_personal[self.slot]
            + r.fam_low[self.slot]
            + r.paid_personal[self.slot]
            + r.vol_low[self.slot]
            + r.biz_low[self.slot]
        )

    @property
    def unmet_hours(self) -> float:
        """Hours of care needed but not met this week (:func:`unmet_hours`)."""
        r, i = self.model.residents, self.slot
        personal, low = unmet_hours(
            r.need_personal[i], r.need_low[i], r.fam_personal[i], r.fam_low[i],
            r.paid_personal[i], r.vol_low[i], r.biz_low[i],
        )  # fmt: skip
        return float(personal + low)

    @property
    def connection(self) -> float:
        """Social connection, 0 (isolated) to 1 (well connected)."""
        return float(self._get("connection"))

    @property
    def family_hours(self) -> float:
        """Hours a week a family carer can give."""
        return float(self._get("family_hours"))
