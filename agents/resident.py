"""Older residents (65+) and the rules of ageing, death, need and connection.

ODD sections 2 (state), 7.1 (demography), 7.2 (need dynamics) and 7.6 (connection).
Need levels follow Gostoli & Silverman (2020): none, low, moderate, substantial,
critical, with 0/8/16/32/80 hours of care a week.
"""

from __future__ import annotations

import math

import numpy as np
from mesa.discrete_space import FixedAgent

WEEKS_PER_YEAR = 52.0


def weekly(yearly_probability):
    """Convert a yearly probability to the equivalent weekly one: 1 - (1 - p)^(1/52)."""
    p = np.minimum(np.maximum(yearly_probability, 0.0), 1.0)  # (np.clip is slower)
    return 1.0 - (1.0 - p) ** (1.0 / WEEKS_PER_YEAR)


# --- demography (ODD 7.1) -------------------------------------------------------------
def life_table_mortality(age, p):
    """Yearly chance of death at an age, for the population as a whole (ODD 7.1).

    A Gompertz law fitted to the ONS National Life Tables 2020-22 (England, persons):
    ``mortality_at_65 * exp(mortality_age_slope * (age - 65))``, capped at 1 (life
    expectancy at 65 about 19.7 years).

    Defaults:
        ``mortality_at_65`` = 0.011, ``mortality_age_slope`` = 0.095.
    """
    return np.minimum(p.mortality_at_65 * np.exp(p.mortality_age_slope * (age - 65.0)), 1.0)


def need_mortality_reference(age, p):
    """The mean need factor ``exp(mortality_need_factor * level)`` among people of this age,
    for the need levels of the population the life table describes (ODD 7.1).

    With the chances of each level at this age of :func:`initial_level_probabilities`:
    ``sum over levels l of P(level = l) * exp(factor * l)``. Dividing by it keeps the
    death rate at each age that of the life table.

    Defaults:
        ``mortality_need_factor`` = 0.6.
    """
    at_least = initial_level_probabilities(age, p)  # P(level >= 1), ..., P(level >= 4)
    factors = [math.exp(p.mortality_need_factor * level) for level in range(5)]
    # P(level = k) = P(level >= k) - P(level >= k + 1), so the sum telescopes
    reference = factors[0]
    for k in range(4):
        reference = reference + at_least[k] * (factors[k + 1] - factors[k])
    return reference


def death_probability(age, need_level, p):
    """Weekly chance of death, rising with age and with need (ODD 7.1).

    Yearly: ``life_table_mortality(age) * exp(mortality_need_factor * need_level) /
    need_mortality_reference(age)``, capped at 1: people with more need die sooner, while
    the death rate of everyone of one age stays that of the ONS life table (the need
    factor is invented; critical need about quadruples mortality).

    Defaults:
        ``mortality_need_factor`` = 0.6.
    """
    need_factor = np.exp(p.mortality_need_factor * np.arange(5.0))  # by level 0-4
    yearly = (
        life_table_mortality(age, p)
        * np.take(need_factor, need_level)
        / need_mortality_reference(age, p)
    )
    return weekly(yearly)


def initial_need_probability(age, p):
    """Chance that a resident of this age has some care need at the start (ODD 5.3).

    ``P(need > 0) = 1 / (1 + exp(-(age - initial_need_age50) / initial_need_age_spread))``,
    fitted to the model's own steady state (about 19% at 65-69 and 43% at 80+; HSE 2021
    reports 21% and 52%, with 24-28% of all 65+).

    Defaults:
        ``initial_need_age50`` = 88.5, ``initial_need_age_spread`` = 12.9.
    """
    return 1.0 / (1.0 + np.exp(-(age - p.initial_need_age50) / p.initial_need_age_spread))


def initial_level_probabilities(age, p):
    """Chances that a resident of this age has need of level 1, 2, 3 and 4 or more at the
    start (ODD 5.3): ordinal logistic curves with one spread,
    ``P(level >= l) = 1 / (1 + exp(-(age - initial_need_age50 - gap_l) /
    initial_need_age_spread))`` with ``gap_1 = 0`` and ``gap_2..4`` from
    ``initial_level_age_gaps``: higher levels come at older ages.

    Returns:
        A list of four arrays (or numbers): P(level >= 1), ..., P(level >= 4).

    Defaults:
        ``initial_need_age50`` = 88.5, ``initial_need_age_spread`` = 12.9,
        ``initial_level_age_gaps`` = (13.9, 26.7, 43.4).
    """
    # the curves share their spread: exp(-(age - age50 - gap) / spread) = e * exp(gap / spread)
    e = np.exp(-(age - p.initial_need_age50) / p.initial_need_age_spread)
    gaps = (0.0, *p.initial_level_age_gaps)
    return [1.0 / (1.0 + e * math.exp(gap / p.initial_need_age_spread)) for gap in gaps]


# --- need dynamics (ODD 7.2) -------------------------------------------------------------
def deterioration_probability(age, recent_unmet, lonely, low_support, p):
    """Weekly chance of moving up one need level (ODD 7.2).

    Yearly base (Gostoli & Silverman 2020):
    ``need_onset_base + need_onset_scale * exp(age / need_onset_age_scale)``, multiplied by

    * ``(1 + unmet_onset_factor * recent_unmet)`` -- unmet need makes things worse,
    * ``(1 + loneliness_factor * lonely)`` -- so does being lonely (``lonely`` is 1 for a
      resident whose connection is below ``lonely_threshold``, else 0; Perissinotto et al.
      2012 found lonely over-60s declining in daily activities with risk ratio 1.59),
    * ``(1 - prevention_factor * low_support)`` -- met low-level support prevents
      (``low_support`` is the share of low-level need met last week, by anyone; 1 for
      residents with no need, who lack nothing).

    Defaults:
        ``need_onset_base`` = 0.0002, ``need_onset_scale`` = 0.000095,
        ``need_onset_age_scale`` = 12, ``unmet_onset_factor`` = 0.4,
        ``loneliness_factor`` = 0.59, ``prevention_factor`` = 0.11.
    """
    base = p.need_onset_base + p.need_onset_scale * np.exp(age / p.need_onset_age_scale)
    yearly = (
        base
        * (1.0 + p.unmet_onset_factor * recent_unmet)
        * (1.0 + p.loneliness_factor * lonely)
        * (1.0 - p.prevention_factor * low_support)
    )
    return weekly(yearly)


def progression_probability(chance, need_level, p):
    """Weekly chance of moving up a level for a resident who already has need (ODD 7.2):
    once need has begun it worsens faster. The hazard of :func:`deterioration_probability`
    (``chance``, weekly) multiplies by ``progression_factor`` at levels 1-3, so the weekly
    chance becomes ``1 - (1 - chance) ** progression_factor``; at level 0 it stays
    ``chance`` (need onset).

    Defaults:
        ``progression_factor`` = 2.0.
    """
    faster = 1.0 - (1.0 - chance) ** p.progression_factor
    return np.where(np.asarray(need_level) > 0, faster, chance)


def help_acceptance_probability(referrers, outreach, p):
    """Weekly chance that a resident who lacks low-level support comes forward and
    accepts a volunteer (ODD 7.4): finding people who will accept help is itself slow.

    Yearly: ``help_seeking_rate * outreach * (1 + referral_effect * referrers)``, at most
    1, where ``referrers`` counts the volunteers the resident is tied to and their tied
    neighbours who have a volunteer (word of mouth), and ``outreach`` is the hub's
    outreach multiplier (1 = none).

    Defaults:
        ``help_seeking_rate`` = 0.25, ``referral_effect`` = 0.5.
    """
    yearly = p.help_seeking_rate * outreach * (1.0 + p.referral_effect * referrers)
    return weekly(np.minimum(yearly, 1.0))


def reablement_probability(fully_supported, age, need_level, p):
    """Weekly chance of moving down one level: ``reablement_rate`` if all need was met.

    The resident's ``age`` and ``need_level`` are passed for variants (reablement works
    better for the young-old, or at low levels); the shipped rule uses neither.

    Defaults:
        ``reablement_rate`` = 0.003.
    """
    return np.where(fully_supported, p.reablement_rate, 0.0)


def need_hours(need_level, p):
    """Weekly hours needed at a level, split into (personal care, low-level support).

    Defaults:
        ``need_hours_by_level`` = (0, 8, 16, 32, 80),
        ``personal_share_by_level`` = (0, 0.25, 0.4, 0.5, 0.75).
    """
    hours = np.take(p.need_hours_by_level, need_level)
    personal = hours * np.take(p.personal_share_by_level, need_level)
    return personal, hours - personal


def family_care(personal, low, family_hours):
    """Family carers give more as need grows, up to their own limit (ODD 7.10):
    ``given = min(family_hours, need)``, split between personal care and low-level support
    in proportion to the need.

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


# --- care homes (ODD 7.11) --------------------------------------------------------------
def care_home_admission_probability(age, need_level, missing_family_care, in_crisis, p):
    """Weekly chance that a resident living at home moves into a care home (ODD 7.11).

    Yearly: ``care_home_rate / care_home_level_ratio ** (4 - level)`` for a need level of
    1-4 (0 with no need), multiplied by

    * ``exp(care_home_age_slope * (age - 85))`` -- frailty, dementia and living alone
      grow with age at every level of need,
    * ``(1 + care_home_family_factor * missing_family_care)`` -- the share of their need
      family cannot meet (1 with no carer): people without family care move sooner,
    * ``care_home_crisis_factor`` in the weeks after the family carer broke down.

    Defaults:
        ``care_home_rate`` = 1.5, ``care_home_level_ratio`` = 11,
        ``care_home_age_slope`` = 0.13, ``care_home_family_factor`` = 1,
        ``care_home_crisis_factor`` = 3.
    """
    level = np.asarray(need_level, dtype=float)
    base = np.where(level > 0, p.care_home_rate / p.care_home_level_ratio ** (4.0 - level), 0.0)
    yearly = (
        base
        * np.exp(p.care_home_age_slope * (age - 85.0))
        * (1.0 + p.care_home_family_factor * missing_family_care)
        * np.where(in_crisis, p.care_home_crisis_factor, 1.0)
    )
    return weekly(yearly)


def initial_care_home_probability(age, need_level, missing_family_care, p):
    """Chance that a resident already lives in a care home when the world is built
    (ODD 5.3): moving in at the admission chance (:func:`care_home_admission_probability`)
    against leaving their present state first -- by death (:func:`death_probability`) or
    by moving up a level (:func:`deterioration_probability`, with their missing family
    care as their unmet share and middling loneliness) --
    ``admission / (admission + death + deterioration)``. The burn-in settles the rest."""
    admit = care_home_admission_probability(age, need_level, missing_family_care, False, p)
    die = death_probability(age, need_level, p)
    worse = deterioration_probability(age, missing_family_care, 0.5, 1.0 - missing_family_care, p)
    return np.where(admit > 0, admit / np.maximum(admit + die + worse, 1e-300), 0.0)


# --- ties (ODD 7.6) -----------------------------------------------------------------
def neighbour_tie_probability(p):
    """Weekly chance that a resident befriends another resident living within
    ``tie_radius``: ``1 - exp(-neighbour_tie_rate / 52)`` (new ties at a steady yearly
    rate).

    Defaults:
        ``neighbour_tie_rate`` = 0.32.
    """
    return 1.0 - np.exp(-p.neighbour_tie_rate / WEEKS_PER_YEAR)


def activity_tie_probability(p):
    """Weekly chance that an attendee of a hosted activity befriends a fellow attendee of
    the same venue: ``activity_tie_chance``.

    Defaults:
        ``activity_tie_chance`` = 0.02.
    """
    return p.activity_tie_chance


def pairing_becomes_tie(weeks_paired, p):
    """A volunteer pairing that has lasted ``pairing_tie_weeks`` weeks makes the two tied
    (the tie outlasts the pairing).

    Defaults:
        ``pairing_tie_weeks`` = 8.
    """
    return weeks_paired >= p.pairing_tie_weeks


def tie_fade_probability(p):
    """Weekly chance that a tie lapses for reasons other than death or a volunteer
    stopping (moves, drifting apart): the weekly form of ``tie_fade_rate``. The tie of a
    live pairing does not lapse (the visits renew it).

    Defaults:
        ``tie_fade_rate`` = 0.05.
    """
    return weekly(p.tie_fade_rate)


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
