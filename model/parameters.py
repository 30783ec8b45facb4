"""Model parameters: one typed, documented place for every default.

Each field of :class:`Parameters` carries its allowed range, unit, a plain-language
label and the source of its default (see ``docs/ODD.md`` and
``../shared/design/CALIBRATION.md``). Values are resolved in three layers:
the calibrated defaults, then the named scenario's preset, then whatever the caller
sets explicitly. Any unknown name or out-of-range value raises :class:`ValueError`
naming the parameter and what is allowed.
"""

from __future__ import annotations

import dataclasses
import math
import sys
from dataclasses import dataclass, field
from typing import Any

NEED_LEVEL_NAMES = ("none", "low", "moderate", "substantial", "critical")
#: Kinds of parameter: calibrated from a cited figure, invented, a council choice, or a
#: setting of the experiment (not an uncertainty). Sensitivity analysis and scenario
#: discovery draw on the first three (see :func:`parameters_of_kind`).
KINDS = ("data", "invented", "lever", "setting")


#: Kinds of parameter: calibrated from a cited figure, invented, a council choice, or a
#: setting of the experiment (not an uncertainty). Sensitivity analysis and scenario
#: discovery draw on the first three.
KINDS = ("data", "invented", "lever", "setting")


def _p(
    default: Any,
    doc: str,
    *,
    lo: float | None = None,
    hi: float | None = None,
    unit: str = "",
    source: str = "invented (see docs/ODD.md)",
    choices: str | None = None,
    group: str = "model",
    kind: str | None = None,
    range: tuple[float, float] | None = None,
    range_reason: str = "",
):
    """Declare a parameter field with its metadata.

    Args:
        default: The default value.
        doc: One line saying what the parameter is.
        lo: Lowest allowed value (validation).
        hi: Highest allowed value (validation).
        unit: Unit, for tables.
        source: Where the default comes from.
        choices: ``strategies`` or ``scenarios`` for registry names.
        group: Section of the parameter table.
        kind: What kind of number it is (:data:`KINDS`): calibrated from a cited figure
            (``data``), ``invented``, a council choice (``lever``), or a ``setting`` of the
            experiment (size, seed, preset, measurement), which is not an uncertainty.
        range: Plausible ``(low, high)`` (within the allowed range and holding the
            default), used by sensitivity analysis and scenario discovery; None for names,
            lists and settings without one.
        range_reason: One line saying why that range (or why there is none).
    """
    meta = {
        "doc": doc,
        "lo": lo,
        "hi": hi,
        "unit": unit,
        "source": source,
        "choices": choices,
        "group": group,
        "kind": kind,
        "range": range,
        "range_reason": range_reason,
    }
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class Parameters:
    """Every parameter of the civic-sim model, with its calibrated default.

    Build with :meth:`Parameters.resolve` (which applies a scenario preset and
    validates); the constructor also validates.
    """

    # --- public interface -------------------------------------------------------
    strategy: str = _p(
        "direct",
        "Council strategy (registry name)",
        choices="strategies",
        group="public",
        kind="lever",
        range=None,
        range_reason="a name: one of the registered strategies (the council's choice)",
    )
    scenario: str = _p(
        "baseline",
        "Scenario preset (registry name)",
        choices="scenarios",
        group="public",
        kind="setting",
        range=None,
        range_reason="a named preset of other parameters, not a quantity",
    )
    residents: int = _p(
        5000,
        "Older residents (65+) when the run starts (week 0, after the burn-in)",
        lo=20,
        hi=1_000_000,
        unit="people",
        group="public",
        kind="setting",
        range=(1000, 10000),
        range_reason="the place studied: a ward to a small town; not an uncertainty",
    )
    width: int | None = _p(
        None,
        "Grid width in cells (default: scales with residents)",
        lo=5,
        hi=4000,
        unit="cells",
        group="public",
        kind="setting",
        range=None,
        range_reason="derived from residents and resident_density unless set",
    )
    height: int | None = _p(
        None,
        "Grid height in cells (default: scales with residents)",
        lo=5,
        hi=4000,
        unit="cells",
        group="public",
        kind="setting",
        range=None,
        range_reason="derived from residents and resident_density unless set",
    )
    budget_scale: float = _p(
        1.0,
        "Multiplier on the calibrated care budget",
        lo=0.0,
        hi=5.0,
        unit="x",
        group="public",
        kind="lever",
        range=(0.5, 3.0),
        range_reason="half to three times today's budget (one-at-a-time: crossover near 1.5x)",
    )
    budget_cut_rate: float = _p(
        0.0,
        "Yearly real-terms cut of the council budget (negative = growth)",
        lo=-0.10,
        hi=0.50,
        unit="per year",
        source="IFS 2019/2024; NAO 2018 (austerity scenario uses 0.02)",
        group="public",
        kind="data",
        range=(-0.02, 0.05),
        range_reason="real-terms change a year: 2010s cuts of 2-3% a year (IFS), growth in some",
    )
    older_growth_rate: float = _p(
        0.01,
        "Yearly growth of the older population",
        lo=-0.05,
        hi=0.10,
        unit="per year",
        source="ONS 2020-based projections (85+ about +2.5%/yr; 65+ about +1%/yr)",
        group="public",
        kind="data",
        range=(0.0, 0.03),
        range_reason="ONS projections: 65+ about +1% a year, 85+ about +2.5%; places differ",
    )
    civic_potential: float = _p(
        0.5,
        "Mean civic potential of the neighbourhood (0 none, 1 very high)",
        lo=0.0,
        hi=1.0,
        unit="0-1",
        group="public",
        kind="invented",
        range=(0.1, 0.9),
        range_reason="no direct measure: from very asset-poor to very asset-rich neighbourhoods",
    )
    seed: int | None = _p(
        None,
        "Random seed (same seed and parameters give identical output)",
        lo=0,
        hi=2**63 - 1,
        group="public",
        kind="setting",
        range=None,
        range_reason="a random seed, not a quantity",
    )
    burn_in_weeks: int = _p(
        260,
        "Weeks simulated under today's policy (direct delivery at the calibrated budget) "
        "before week 0; not in the output",
        lo=0,
        hi=5200,
        unit="weeks",
        source="setting: five years let need, family care, care homes, ties and volunteers "
        "settle (docs/ODD.md 5.8)",
        group="public",
        kind="setting",
        range=(104, 520),
        range_reason="a setting, not an uncertainty: two to ten years let the start settle",
    )

    # --- space ------------------------------------------------------------------
    resident_density: float = _p(
        0.5,
        "Older residents per cell (street block of about 100 m) when the grid scales",
        lo=0.05,
        hi=10.0,
        unit="per cell",
        group="space",
        kind="invented",
        range=(0.2, 2.0),
        range_reason="older residents per 100 m block, from suburban to dense urban",
    )
    civic_patchiness: float = _p(
        6.0,
        "Spatial correlation length of the civic potential layer",
        lo=0.0,
        hi=100.0,
        unit="cells",
        group="space",
        kind="invented",
        range=(2.0, 20.0),
        range_reason="civic potential varies over 200 m to 2 km",
    )
    civic_spread: float = _p(
        0.2,
        "Spread (sd) of civic potential between areas",
        lo=0.0,
        hi=0.5,
        unit="0-1",
        group="space",
        kind="invented",
        range=(0.05, 0.35),
        range_reason="from even to very uneven civic potential between streets",
    )
    residents_per_hub: int = _p(
        5000,
        "Older residents per council hub (one hub at least)",
        lo=100,
        hi=1_000_000,
        unit="people",
        group="space",
        kind="lever",
        range=(1000, 10000),
        range_reason="one hub per ward to one per small town: the council's choice",
    )

    # --- demography -------------------------------------------------------------
    mortality_at_65: float = _p(
        0.011,
        "Yearly death probability at age 65 with no care need",
        lo=0.0,
        hi=0.5,
        unit="per year",
        source="ONS National Life Tables 2020-22 (about 1.1% at 65)",
        group="demography",
        kind="data",
        range=(0.008, 0.014),
        range_reason="ONS life tables 2020-22: about 1.1% at 65, women lower, men higher",
    )
    mortality_age_slope: float = _p(
        0.095,
        "Gompertz slope: yearly mortality rises by exp(slope) per year of age",
        lo=0.0,
        hi=0.3,
        unit="per year of age",
        source="ONS life tables (Gompertz fit)",
        group="demography",
        kind="data",
        range=(0.085, 0.105),
        range_reason="Gompertz slopes fitted to UK life tables lie near 0.09-0.10",
    )
    mortality_need_factor: float = _p(
        0.6,
        "Mortality multiplies by exp(factor x need level), normalised so that death rates "
        "by age stay those of the life table",
        lo=0.0,
        hi=2.0,
        source="invented; critical need about 4x the mortality of no need at the same age",
        group="demography",
        kind="invented",
        range=(0.15, 0.6),
        range_reason="need (ADL limitation) raises mortality 2-8 fold at the worst level",
    )
    arrival_mean_years_over_65: float = _p(
        0.5,
        "Mean age above 65 of arriving residents (exponential): mostly people turning 65",
        lo=0.0,
        hi=20.0,
        unit="years",
        source="invented: the 65+ inflow is people turning 65, plus a few older movers",
        group="demography",
        kind="invented",
        range=(0.0, 3.0),
        range_reason="older people move little (ONS internal migration); most arrive at 65",
    )
    cohort_growth_excess: float = _p(
        0.0,
        "How much faster a year the cohorts now reaching old age grew than the older "
        "population grows now (0: today's ages are a stable population)",
        lo=-0.05,
        hi=0.10,
        unit="per year",
        source="invented; 0.02 makes the start's 85+ share that of ONS mid-2022 (about 13%)",
        group="demography",
        kind="invented",
        range=(0.0, 0.03),
        range_reason="the post-war cohorts make England's 65+ younger than its stable form",
    )
    max_age: float = _p(
        105.0,
        "Age at which residents leave the model",
        lo=80.0,
        hi=120.0,
        unit="years",
        group="demography",
        kind="data",
        range=(100.0, 110.0),
        range_reason="life tables: hardly anyone lives past 105; the cut-off matters little",
    )

    # --- need -------------------------------------------------------------------
    need_hours_by_level: tuple = _p(
        (0.0, 8.0, 16.0, 32.0, 80.0),
        "Weekly care hours needed at levels 0-4",
        unit="hours/week",
        source="Gostoli & Silverman 2020 (defaultParameters.csv)",
        group="need",
        kind="data",
        range=None,
        range_reason="a list (Gostoli & Silverman's hours per level); set one with --set",
    )
    personal_share_by_level: tuple = _p(
        (0.0, 0.25, 0.4, 0.5, 0.75),
        "Share of need that is personal care, levels 0-4",
        unit="share",
        source="invented (substantial and critical calibrated to a mean home-care package "
        "of 10-15 hours a week)",
        group="need",
        kind="invented",
        range=None,
        range_reason="a list of shares per level; set it with --set",
    )
    initial_need_age50: float = _p(
        88.5,
        "Age at which half of residents have some need (initial logistic curve)",
        lo=60.0,
        hi=110.0,
        unit="years",
        source="HSE 2021 (21% at 65-69, 52% at 80+), calibrated to 25-30% overall",
        group="need",
        kind="data",
        range=(85.0, 93.0),
        range_reason="calibrated to HSE 2021 (25-30% of 65+ with some need)",
    )
    initial_need_age_spread: float = _p(
        12.9,
        "Spread of the initial need-by-age logistic curve",
        lo=1.0,
        hi=50.0,
        unit="years",
        source="HSE 2021 (fit)",
        group="need",
        kind="data",
        range=(10.0, 20.0),
        range_reason="fit to HSE 2021's need by age band",
    )
    initial_level_age_gaps: tuple = _p(
        (13.9, 26.7, 43.4),
        "Years beyond initial_need_age50 at which half of residents have need of level 2, "
        "3 and 4 or more (initial ordinal logistic curves)",
        unit="years",
        source="invented: fitted to the model's own steady state, so that the start's need "
        "by age and level is where the rules keep it (docs/ODD.md 5.3)",
        group="need",
        kind="invented",
        range=None,
        range_reason="a list of shares adding up to 1; set it with --set",
    )
    need_onset_base: float = _p(
        0.0002,
        "Yearly need-onset probability, constant term",
        lo=0.0,
        hi=0.5,
        unit="per year",
        source="Gostoli & Silverman 2020",
        group="need",
        kind="data",
        range=(0.0001, 0.0004),
        range_reason="half to twice Gostoli & Silverman's constant term",
    )
    need_onset_scale: float = _p(
        0.000095,
        "Yearly need-onset probability, exponential term",
        lo=0.0,
        hi=0.1,
        unit="per year",
        source="the form of Gostoli & Silverman 2020 (0.0008 with scale 18), recalibrated "
        "with the age scale to HSE 2021 need by age (21% at 65-69) and 25-30% overall "
        "(0.00012 before the sourced feedbacks, which lower deterioration)",
        group="need",
        kind="data",
        range=(0.00005, 0.0002),
        range_reason="half to twice the recalibrated term (with need_onset_age_scale 12)",
    )
    need_onset_age_scale: float = _p(
        12.0,
        "Age scale of need onset (exp(age / scale))",
        lo=5.0,
        hi=100.0,
        unit="years",
        source="Gostoli & Silverman 2020 (men 18, women 19), recalibrated to 15 with "
        "need_onset_scale (need rises more steeply with age once mortality follows the "
        "life table)",
        group="need",
        kind="data",
        range=(10.0, 16.0),
        range_reason="steeper than G&S (18-19) once mortality follows the life table",
    )
    unmet_onset_factor: float = _p(
        0.4,
        "Deterioration hazard multiplies by (1 + factor x recent unmet share)",
        lo=0.0,
        hi=10.0,
        source="invented, informed by evidence; plausible 0.14-0.96: no study gives the effect "
        "of unmet need on ADL decline; insufficient ADL help raises hospital admission by "
        "HR 1.14 (Xu et al. 2012, J Am Geriatr Soc) and death among the mildly disabled by "
        "HR 1.37-1.96 (He et al. 2015, J Gerontol A); form after Gostoli & Silverman 2020",
        kind="invented",
        range=(0.14, 0.96),
        range_reason="too little ADL help: admission HR 1.14 (Xu 2012) to death HR 1.96 (He 2015)",
        group="need",
    )
    loneliness_factor: float = _p(
        0.59,
        "Deterioration hazard multiplies by (1 + factor x lonely), lonely = connection below "
        "lonely_threshold",
        lo=0.0,
        hi=10.0,
        source="Perissinotto, Stijacic Cenzer & Covinsky 2012 (JAMA Intern Med): lonely "
        "over-60s declined in ADLs with adjusted RR 1.59; plausible 0.23-1.07 (its 95% CI)",
        kind="data",
        range=(0.23, 1.07),
        range_reason="the 95% CI of Perissinotto et al. 2012's RR 1.59",
        group="need",
    )
    prevention_factor: float = _p(
        0.11,
        "Deterioration hazard multiplies by (1 - factor x met low-level share)",
        lo=0.0,
        hi=1.0,
        source="Huss et al. 2008 (J Gerontol A) meta-analysis of preventive home visits: "
        "functional decline OR 0.89; plausible 0-0.24 (no effect to OR 0.76 of "
        "multidimensional programmes, Stuck et al. 2002, JAMA)",
        kind="data",
        range=(0.0, 0.24),
        range_reason="no effect to OR 0.76 of multidimensional programmes (Stuck et al. 2002)",
        group="need",
    )
    progression_factor: float = _p(
        2.0,
        "Once a resident has need, the hazard of moving up a further level multiplies by this",
        lo=1.0,
        hi=10.0,
        source="invented, informed by evidence: disability already present is the strongest "
        "predictor of further decline (Hardy, Dubin, Holford & Gill 2005; Leiden 85-plus "
        "study, Age 2014: 63% of 85-year-olds changed disability state within five years, "
        "mostly for the worse); set so that substantial and critical need reach council "
        "long-term support and spend (NHS England ASC-FR 2022-23)",
        group="need",
        kind="invented",
        range=(1.5, 4.0),
        range_reason="further decline after onset is faster than onset itself, by 1.5-4 fold",
    )
    reablement_rate: float = _p(
        0.003,
        "Weekly chance of moving down a level when fully supported",
        lo=0.0,
        hi=0.2,
        unit="per week",
        group="need",
        kind="invented",
        range=(0.001, 0.012),
        range_reason="a supported resident steps down a level every 2 to 20 years",
    )
    unmet_memory: float = _p(
        0.1,
        "Weight of this week in the running 'recent unmet share'",
        lo=0.01,
        hi=1.0,
        group="need",
        kind="invented",
        range=(0.05, 0.3),
        range_reason="unmet need is remembered for a few weeks to about five months",
    )

    # --- family care --------------------------------------------------------------
    family_carer_share: float = _p(
        0.58,
        "Share of residents with a family (informal) carer",
        lo=0.0,
        hi=1.0,
        source="HSE 2013/14; Census 2021 (calibrated to year-0 unmet need)",
        group="family",
        kind="data",
        range=(0.5, 0.8),
        range_reason="HSE 2013/14 and Census 2021, calibrated to year-0 unmet need",
    )
    family_hours_band_shares: tuple = _p(
        (0.49, 0.21, 0.30),
        "Shares of carers able to give 1-19, 20-49 and 50+ hours a week",
        unit="share",
        source="Census 2021 (2.30m / 0.97m / 1.40m)",
        group="family",
        kind="data",
        range=None,
        range_reason="a list of shares from Census 2021; set it with --set",
    )
    spouse_carer_share: float = _p(
        0.45,
        "Share of family carers who are the resident's spouse or partner (same age); the "
        "others are sons and daughters",
        lo=0.0,
        hi=1.0,
        unit="share",
        source="invented; Census 2021: 1.2m of 5.0m unpaid carers in England and Wales "
        "are 65+, almost half giving 50+ hours",
        group="family",
        kind="invented",
        range=(0.3, 0.6),
        range_reason="older people's carers are mostly partners and adult children",
    )
    carer_generation_gap: float = _p(
        30.0,
        "Years by which a son or daughter carer is younger than the resident",
        lo=15.0,
        hi=50.0,
        unit="years",
        source="ONS births: mean age of mothers about 27-30 in the 1950s-70s",
        group="family",
        kind="data",
        range=(25.0, 35.0),
        range_reason="parents' age at birth of their children",
    )
    carer_breakdown_per_hour: float = _p(
        0.002,
        "Yearly chance that a family carer breaks down and stops, per hour a week of care "
        "they give",
        lo=0.0,
        hi=0.02,
        unit="per year per hour/week",
        source="invented (calibrated: steady family care); Carers UK State of Caring: "
        "carers giving 50+ hours report the worst health",
        group="family",
        kind="invented",
        range=(0.0005, 0.005),
        range_reason="2.5-25% a year at 50 hours a week of care",
    )
    carer_uptake_rate: float = _p(
        0.08,
        "Yearly chance that a relative starts caring for a resident with need who has no "
        "family carer",
        lo=0.0,
        hi=1.0,
        unit="per year",
        source="invented (calibrated: a stable share of residents with a family carer)",
        group="family",
        kind="invented",
        range=(0.02, 0.2),
        range_reason="families re-organise after a carer stops, slowly and not always",
    )
    carer_support_effect: float = _p(
        0.3,
        "Share by which full carer support (respite, carers' groups) lowers the chance "
        "of a carer breakdown",
        lo=0.0,
        hi=1.0,
        unit="share",
        source="invented; reviews of respite and carer support find small to moderate "
        "effects on carer burden",
        group="family",
        kind="invented",
        range=(0.0, 0.6),
        range_reason="from no effect to a strong effect of support on breakdowns",
    )

    # --- care homes -------------------------------------------------------------------
    care_home_rate: float = _p(
        1.5,
        "Yearly chance that a resident aged 85 with critical need and every need met at "
        "home moves into a care home (the factors may take it above 1: then it is certain)",
        lo=0.0,
        hi=10.0,
        unit="per year",
        source="invented (calibrated: about 2.5% of 65+ in care homes, ONS Census 2021, with "
        "progression_factor: 4.5 before need progressed faster once begun, 1.0 before the "
        "sourced need feedbacks)",
        group="care_homes",
        kind="invented",
        range=(0.75, 3.0),
        range_reason="half to about twice the calibrated rate: 1-4% of 65+ in care homes",
    )
    care_home_level_ratio: float = _p(
        11.0,
        "The admission chance is divided by this for each need level below critical",
        lo=1.0,
        hi=100.0,
        source="invented (calibrated: 56% of care-home residents are 85+, ONS Census 2021)",
        group="care_homes",
        kind="invented",
        range=(5.0, 20.0),
        range_reason="few people with low or moderate needs move into a home",
    )
    care_home_age_slope: float = _p(
        0.13,
        "Admission chance multiplies by exp(slope x (age - 85)) at every level of need",
        lo=-1.0,
        hi=1.0,
        unit="per year of age",
        source="invented (calibrated: 56% of care-home residents are 85+, ONS Census 2021)",
        group="care_homes",
        kind="invented",
        range=(0.0, 0.2),
        range_reason="dementia, frailty and living alone rise steeply with age",
    )
    care_home_family_factor: float = _p(
        1.0,
        "Admission chance multiplies by (1 + factor x share of need family care cannot meet)",
        lo=0.0,
        hi=20.0,
        source="invented: living without family care is a leading reason for a placement",
        group="care_homes",
        kind="invented",
        range=(0.0, 3.0),
        range_reason="from no effect to admissions quadrupling without any family care",
    )
    care_home_crisis_factor: float = _p(
        3.0,
        "Admission chance multiplies by this in the weeks after a family carer breaks down",
        lo=1.0,
        hi=50.0,
        source="invented: carer breakdown is a leading trigger of care-home admission",
        group="care_homes",
        kind="invented",
        range=(1.0, 8.0),
        range_reason="from no crisis effect to a strong one",
    )
    care_home_crisis_weeks: int = _p(
        13,
        "Weeks after a carer breakdown during which admission is more likely",
        lo=0,
        hi=520,
        unit="weeks",
        source="invented: a crisis lasts about a quarter",
        group="care_homes",
        kind="invented",
        range=(4, 16),
        range_reason="from a month to half a year",
    )
    self_funder_share: float = _p(
        0.36,
        "Share of older residents who would pay for a care home themselves",
        lo=0.0,
        hi=1.0,
        unit="share",
        source="CMA care homes market study 2017; ONS 2023: about 35-45% of care-home "
        "residents fund themselves",
        group="care_homes",
        kind="data",
        range=(0.35, 0.45),
        range_reason="the published range of self-funded care-home residents",
    )

    # --- council budget -------------------------------------------------------------
    budget_per_resident_week: float = _p(
        17.0,
        "Calibrated long-term care budget (care homes and home care) per older resident "
        "at the start, per week",
        lo=0.0,
        hi=1000.0,
        unit="GBP/week",
        source="NHS England ASC Activity and Finance 2022-23: GBP 9.3bn gross long-term "
        "support for 65+ over about 10.5m people aged 65+",
        group="council",
        kind="data",
        range=(15.0, 19.0),
        range_reason="gross spend per head; varies by council and year",
    )
    care_home_fee: float = _p(
        800.0,
        "Weekly fee the council pays for a care-home placement",
        lo=0.0,
        hi=5000.0,
        unit="GBP/week",
        source="LaingBuisson and council fee surveys 2023: roughly GBP 800-1,100 a week "
        "(councils pay the lower end)",
        group="council",
        kind="data",
        range=(700.0, 1100.0),
        range_reason="council rates for residential to nursing placements",
    )
    package_cap_share: float = _p(
        0.5,
        "Most a home-care package may cost, as a share of a care-home placement's fee",
        lo=0.0,
        hi=5.0,
        unit="x fee",
        source="council 'equivalent cost' policies: a package costs no more than a placement",
        group="council",
        kind="lever",
        range=(0.5, 1.5),
        range_reason="councils set their own ceilings around the cost of residential care",
    )
    care_hour_price: float = _p(
        23.20,
        "Price of one hour of paid home care",
        lo=1.0,
        hi=200.0,
        unit="GBP/hour",
        source="Homecare Association minimum price for 2022-23 (GBP 23.20; 25.95 in 2023-24, "
        "28.53 in 2024-25), the year of the budget",
        group="council",
        kind="data",
        range=(20.0, 28.53),
        range_reason="what councils paid in 2022-23 up to the 2024-25 minimum price",
    )
    eligibility_threshold: int = _p(
        3,
        "Lowest need level the council may serve (3 substantial, 4 critical); the level "
        "served moves up from here when the money is short",
        lo=1,
        hi=4,
        source="Care Act / FACS practice",
        group="council",
        kind="lever",
        range=(2, 4),
        range_reason="moderate to critical: where the council draws its eligibility line",
    )
    safety_net_share: float = _p(
        0.5,
        "Facilitator: share of budget kept for critical personal care",
        lo=0.0,
        hi=1.0,
        group="council",
        kind="lever",
        range=(0.2, 0.8),
        range_reason="a facilitator keeps a fifth to four fifths of its budget for critical care",
    )
    hybrid_facilitation_share: float = _p(
        0.3,
        "Hybrid: share of budget spent on facilitation (rest on direct care)",
        lo=0.0,
        hi=1.0,
        group="council",
        kind="lever",
        range=(0.1, 0.6),
        range_reason="a hybrid spends a tenth to three fifths on facilitation",
    )
    share_coordinators: float = _p(
        0.45,
        "Facilitation budget share for coordinators",
        lo=0.0,
        hi=1.0,
        group="council",
        kind="lever",
        range=(0.25, 0.65),
        range_reason="the four facilitation shares add up to 1: vary them together in points",
    )
    share_volunteer_support: float = _p(
        0.20,
        "Facilitation budget share for volunteer support",
        lo=0.0,
        hi=1.0,
        group="council",
        kind="lever",
        range=(0.1, 0.35),
        range_reason="the four facilitation shares add up to 1: vary them together in points",
    )
    share_outreach: float = _p(
        0.15,
        "Facilitation budget share for outreach (recruitment)",
        lo=0.0,
        hi=1.0,
        group="council",
        kind="lever",
        range=(0.05, 0.3),
        range_reason="the four facilitation shares add up to 1: vary them together in points",
    )
    share_grants: float = _p(
        0.20,
        "Facilitation budget share for grants to businesses and assets",
        lo=0.0,
        hi=1.0,
        group="council",
        kind="lever",
        range=(0.05, 0.35),
        range_reason="the four facilitation shares add up to 1: vary them together in points",
    )
    coordinator_weekly_cost: float = _p(
        700.0,
        "Weekly cost of one coordinator (salary and on-costs)",
        lo=1.0,
        hi=10000.0,
        unit="GBP/week",
        source="rough: about GBP 36k a year with on-costs",
        group="council",
        kind="data",
        range=(550.0, 900.0),
        range_reason="about GBP 28-47k a year with on-costs",
    )
    coordinator_hours: float = _p(
        37.0,
        "Working hours a week of one full-time coordinator",
        lo=1.0,
        hi=80.0,
        unit="hours/week",
        source="NJC for Local Government Services: standard working week of 37 hours",
        kind="data",
        range=(30.0, 37.0),
        range_reason="part-time posts and time lost to admin, up to the NJC week",
        group="council",
    )
    hours_per_new_match: float = _p(
        4.5,
        "Coordinator hours to broker one new match (referral, home visit, introduction)",
        lo=0.1,
        hi=100.0,
        unit="hours",
        source="rough: about 8 new matches a week for a coordinator doing nothing else "
        "(Local Area Coordination caseloads), 37 / 8; plausible 2-8",
        kind="invented",
        range=(2.0, 8.0),
        range_reason="a phone referral and one visit, up to several visits and checks",
        group="council",
    )
    follow_up_hours: float = _p(
        0.25,
        "Coordinator hours a week to follow up one live brokered pairing",
        lo=0.0,
        hi=10.0,
        unit="hours/week",
        source="invented; plausible 0.1-0.5: a check-in of 1-2 hours a month with the "
        "resident and the volunteer",
        kind="invented",
        range=(0.1, 0.5),
        range_reason="a check-in of about half an hour to two hours a month",
        group="council",
    )
    support_hours_per_volunteer: float = _p(
        0.5,
        "Coordinator hours a week that give one volunteer full support (supervision, "
        "training, recognition)",
        lo=0.0,
        hi=10.0,
        unit="hours/week",
        source="invented; plausible 0.25-1: 1-4 hours a month of a volunteer manager's time",
        kind="invented",
        range=(0.25, 1.0),
        range_reason="1-4 hours a month of a volunteer manager's time",
        group="council",
    )
    support_cost_per_volunteer: float = _p(
        8.0,
        "Weekly support spend for full support of one volunteer",
        lo=0.1,
        hi=1000.0,
        unit="GBP/week",
        source="VIVA audits (GBP 2-8 return per GBP 1)",
        group="council",
        kind="invented",
        range=(3.0, 20.0),
        range_reason="weekly support (training, expenses, recognition) per volunteer",
    )
    outreach_half_effect_spend: float = _p(
        20.0,
        "Outreach spend per older resident a year that gives half the full effect",
        lo=0.01,
        hi=1000.0,
        unit="GBP/resident/year",
        group="council",
        kind="invented",
        range=(5.0, 60.0),
        range_reason="no figure for what outreach spend achieves",
    )
    outreach_effect: float = _p(
        1.5,
        "Maximum multiplier gain of recruitment from outreach",
        lo=0.0,
        hi=10.0,
        group="council",
        kind="invented",
        range=(0.5, 3.0),
        range_reason="outreach raises recruitment by half to three times at most",
    )
    share_carer_support: float = _p(
        0.1,
        "Share of facilitation money spent first on carer support (respite, carers' groups)",
        lo=0.0,
        hi=1.0,
        source="invented",
        group="council",
        kind="lever",
        range=(0.0, 0.3),
        range_reason="a council's choice; carers' services are a small part of spend",
    )
    carer_support_cost: float = _p(
        15.0,
        "Weekly spend that fully supports one family carer (respite, groups, advice)",
        lo=0.1,
        hi=1000.0,
        unit="GBP/week",
        source="invented; a week of respite a year costs about GBP 800-1,000",
        group="council",
        kind="invented",
        range=(5.0, 40.0),
        range_reason="from advice and groups only to regular respite breaks",
    )
    grant_per_business_week: float = _p(
        40.0,
        "Weekly grant that fully supports one business or community asset",
        lo=1.0,
        hi=10000.0,
        unit="GBP/week",
        group="council",
        kind="invented",
        range=(15.0, 100.0),
        range_reason="small grants of GBP 800 to 5,000 a year per venue",
    )

    # --- volunteers -----------------------------------------------------------------
    adults_per_older_resident: float = _p(
        3.2,
        "Working-age adults living per older resident",
        lo=0.0,
        hi=20.0,
        source="ONS mid-year estimates (65+ about 19% of population)",
        group="volunteers",
        kind="data",
        range=(2.0, 4.5),
        range_reason="ONS: about 3.2; retirement areas near 2, young cities above 4",
    )
    volunteer_pool_rate: float = _p(
        0.27,
        "Share of adults who volunteer formally at least once a year (the pool's "
        "propensity at the reference civic potential 0.5)",
        lo=0.0,
        hi=1.0,
        source="Community Life Survey 2021/22: 27% of adults volunteered formally in the "
        "last year (16% at least monthly)",
        kind="data",
        range=(0.16, 0.3),
        range_reason="monthly to yearly formal volunteering (CLS 2021/22; higher before 2020)",
        group="volunteers",
    )
    care_role_share: float = _p(
        0.15,
        "Share of formal volunteers who would take a care-type role with older neighbours "
        "(befriending, meals, shopping, lifts)",
        lo=0.0,
        hi=1.0,
        source="rough: at least 3 million of England's regular formal volunteers (about "
        "30%) volunteer in health and social care (King's Fund, Naylor et al. 2013); the "
        "roles modelled are a part of that; plausible 0.05-0.30",
        kind="invented",
        range=(0.05, 0.3),
        range_reason="the care-type roles modelled are part of the ~30% in health and social care",
        group="volunteers",
    )
    neighbourhood_size: int = _p(
        10,
        "Side (cells) of the square neighbourhoods whose working-age adults form one pool "
        "of potential volunteers",
        lo=1,
        hi=1000,
        unit="cells",
        source="invented; plausible 5-30 (0.5-3 km): the area a volunteer is recruited in",
        kind="invented",
        range=(6, 30),
        range_reason="0.6-3 km: the area a volunteer is recruited in",
        group="volunteers",
    )
    recruitment_rate: float = _p(
        0.0072,
        "Weekly chance that one free potential volunteer starts (before contagion, "
        "outreach and business schemes)",
        lo=0.0,
        hi=1.0,
        unit="per week",
        source="calibrated: about 16% of adults formally volunteer monthly (Community Life "
        "Survey 2021/22) times care_role_share, under direct delivery",
        kind="data",
        range=(0.004, 0.012),
        range_reason="calibrated to the CLS volunteering rate; the band of that target",
        group="volunteers",
    )
    contagion_strength: float = _p(
        0.15,
        "Recruitment multiplies by (1 + strength x active volunteers nearby)",
        lo=0.0,
        hi=5.0,
        group="volunteers",
        kind="invented",
        range=(0.0, 0.45),
        range_reason="none to three times the default pull of active neighbours",
    )
    contagion_cap: int = _p(
        10,
        "Active volunteers nearby beyond which contagion adds nothing more",
        lo=0,
        hi=1000,
        unit="volunteers",
        group="volunteers",
        kind="invented",
        range=(4, 16),
        range_reason="contagion saturates at a handful to a few dozen volunteers nearby",
    )
    contagion_radius: int = _p(
        2,
        "Radius (cells) within which active volunteers inspire neighbours",
        lo=0,
        hi=50,
        unit="cells",
        group="volunteers",
        kind="invented",
        range=(1, 4),
        range_reason="neighbours within 100 to 400 m inspire each other",
    )
    older_volunteer_rate: float = _p(
        0.004,
        "Weekly chance a young-old resident without need who is a potential volunteer "
        "starts volunteering",
        lo=0.0,
        hi=1.0,
        unit="per week",
        source="calibrated with recruitment_rate (same target)",
        kind="invented",
        range=(0.001, 0.01),
        range_reason="calibrated with recruitment_rate; young-old volunteer at similar rates",
        group="volunteers",
    )
    tie_contagion: float = _p(
        0.5,
        "Young-old recruitment multiplies by (1 + this x tied volunteers)",
        lo=0.0,
        hi=10.0,
        group="volunteers",
        kind="invented",
        range=(0.0, 1.5),
        range_reason="none to three times the default pull of tied volunteers",
    )
    volunteer_capacity_mean: float = _p(
        3.0,
        "Mean weekly hours a volunteer offers",
        lo=0.1,
        hi=40.0,
        unit="hours/week",
        source="NCVO Time Well Spent 2023 (rough)",
        group="volunteers",
        kind="data",
        range=(2.0, 5.0),
        range_reason="NCVO Time Well Spent: regular volunteers give a few hours a week",
    )
    initial_active_share: float = _p(
        0.59,
        "Share of potential volunteers already active when the run starts",
        lo=0.0,
        hi=1.0,
        source="Community Life Survey 2021/22: 16% monthly of 27% yearly formal volunteers",
        kind="data",
        range=(0.45, 0.75),
        range_reason="16% monthly of 27% yearly formal volunteers, with survey error",
        group="volunteers",
    )
    volunteer_pipeline_weeks: int = _p(
        6,
        "Weeks a new volunteer spends on checks (DBS) and training before a first match",
        lo=0,
        hi=52,
        unit="weeks",
        source="invented; plausible 2-12: an enhanced DBS check takes days to weeks, then "
        "induction and training",
        kind="invented",
        range=(2, 14),
        range_reason="a DBS check takes days to weeks, then induction and training",
        group="volunteers",
    )
    capacity_spread: float = _p(
        0.5,
        "Spread (log-sd) of the hours volunteers offer around the mean",
        lo=0.0,
        hi=2.0,
        group="volunteers",
        kind="invented",
        range=(0.25, 1.0),
        range_reason="volunteers' hours differ by a factor of about 1.3 to 2.7",
    )
    new_volunteer_energy: float = _p(
        0.6,
        "Lowest civic energy of a new volunteer (drawn uniformly up to 1)",
        lo=0.0,
        hi=1.0,
        group="volunteers",
        kind="invented",
        range=(0.4, 0.8),
        range_reason="new volunteers start with middling to high energy",
    )
    volunteer_ties: int = _p(
        2,
        "Older residents a new volunteer already knows nearby",
        lo=0,
        hi=30,
        group="volunteers",
        kind="invented",
        range=(1, 4),
        range_reason="a new volunteer knows one to four older neighbours",
    )
    young_old_age: float = _p(
        75.0,
        "Age below which a resident without need may start volunteering",
        lo=65.0,
        hi=110.0,
        unit="years",
        group="volunteers",
        kind="invented",
        range=(70.0, 80.0),
        range_reason="older volunteers are mostly in their late sixties and seventies",
    )
    comfortable_load: float = _p(
        8.0,
        "Need falling on a volunteer, relative to the hours they offer, that they carry "
        "without losing energy",
        lo=0.0,
        hi=20.0,
        unit="x offered hours",
        source="NCVO Time Well Spent 2023: 'too much like paid work' 26% (calibrated)",
        group="volunteers",
        kind="data",
        range=(4.0, 12.0),
        range_reason="calibrated to NCVO's 26% 'too much like paid work'; half to 1.5 times",
    )
    burnout_rate: float = _p(
        0.02,
        "Energy lost per week at full overload (twice the comfortable load or more)",
        lo=0.0,
        hi=1.0,
        unit="per week",
        group="volunteers",
        kind="invented",
        range=(0.005, 0.05),
        range_reason="full overload empties energy in 4 months to 3 years",
    )
    idle_energy_loss: float = _p(
        0.004,
        "Energy lost per week by a volunteer with no one to help",
        lo=0.0,
        hi=1.0,
        unit="per week",
        group="volunteers",
        kind="invented",
        range=(0.001, 0.01),
        range_reason="an idle volunteer drifts away in 2 to 15 years",
    )
    rest_rate: float = _p(
        0.03,
        "Energy regained per week below comfortable load (towards 1)",
        lo=0.0,
        hi=1.0,
        unit="per week",
        group="volunteers",
        kind="invented",
        range=(0.01, 0.06),
        range_reason="energy recovers over weeks to months",
    )
    support_gain: float = _p(
        0.015,
        "Energy regained per week with full hub support and recognition",
        lo=0.0,
        hi=1.0,
        unit="per week",
        group="volunteers",
        kind="invented",
        range=(0.005, 0.03),
        range_reason="hub support restores energy a third to twice as fast as by default",
    )
    quit_threshold: float = _p(
        0.2,
        "Civic energy below which a volunteer quits",
        lo=0.0,
        hi=1.0,
        group="volunteers",
        kind="invented",
        range=(0.1, 0.3),
        range_reason="volunteers quit somewhere near the bottom of the energy scale",
    )
    baseline_attrition: float = _p(
        0.15,
        "Yearly chance of quitting for life reasons (moves, jobs, health)",
        lo=0.0,
        hi=1.0,
        unit="per year",
        source="NCVO Time Well Spent 2023 (about 24% a year in all)",
        group="volunteers",
        kind="data",
        range=(0.1, 0.2),
        range_reason="NCVO Time Well Spent: about 24% a year leave in all, most for life reasons",
    )
    travel_radius: int = _p(
        16,
        "How far a brokered volunteer travels (cells of 100 m; 16 = 1 mile)",
        lo=1,
        hi=200,
        unit="cells",
        source="Casserole Club matching radius (up to 1 mile)",
        group="volunteers",
        kind="data",
        range=(8, 32),
        range_reason="Casserole Club matches within a mile; half a mile to two miles",
    )
    discovery_radius: int = _p(
        3,
        "How far a volunteer finds someone in need without a hub",
        lo=0,
        hi=50,
        unit="cells",
        group="volunteers",
        kind="invented",
        range=(1, 7),
        range_reason="without a hub, volunteers find people within 100 to 700 m",
    )
    discovery_rate: float = _p(
        0.1,
        "Weekly chance an unmatched volunteer finds someone without a hub",
        lo=0.0,
        hi=1.0,
        unit="per week",
        group="volunteers",
        kind="invented",
        range=(0.02, 0.3),
        range_reason="without a hub a match is found within weeks to a year",
    )
    max_matches: int = _p(
        2,
        "Most residents a volunteer is paired with",
        lo=1,
        hi=20,
        group="volunteers",
        kind="invented",
        range=(1, 4),
        range_reason="a volunteer helps one to four people",
    )
    help_seeking_rate: float = _p(
        0.25,
        "Yearly chance that a resident lacking low-level support comes forward and accepts "
        "a volunteer (before referrals and outreach)",
        lo=0.0,
        hi=1.0,
        unit="per year",
        source="invented; plausible 0.1-1: the Casserole Club found recruiting diners, not "
        "cooks, the bottleneck; many with unmet need do not ask for help",
        kind="invented",
        range=(0.1, 1.0),
        range_reason="many with unmet need do not ask (Casserole Club: diners were scarce)",
        group="volunteers",
    )
    referral_effect: float = _p(
        0.5,
        "Coming forward multiplies by (1 + this x tied volunteers and tied residents who "
        "have a volunteer)",
        lo=0.0,
        hi=10.0,
        source="invented; plausible 0-1: word of mouth along ties",
        kind="invented",
        range=(0.0, 1.0),
        range_reason="from no word of mouth to each referrer doubling the chance",
        group="volunteers",
    )

    # --- ties and connection --------------------------------------------------------
    local_ties: float = _p(
        2.2,
        "Mean number of ties each resident starts with neighbours at set-up (Poisson)",
        lo=0,
        hi=30,
        source="invented; plausible 1-4: gives about 4 ties per resident, the size of older "
        "adults' core networks (NSHAP, Cornwell et al. 2008)",
        kind="invented",
        range=(1.0, 4.0),
        range_reason="core networks of older adults hold about 4 people (NSHAP)",
        group="ties",
    )
    neighbour_tie_rate: float = _p(
        0.32,
        "New ties a resident makes with neighbours (within tie_radius) a year",
        lo=0.0,
        hi=10.0,
        unit="per year",
        source="invented, calibrated so that mean ties are stable at baseline; older adults "
        "add as well as lose network members (Cornwell et al. 2014, NSHAP)",
        kind="invented",
        range=(0.1, 1.0),
        range_reason="older adults add as well as lose network members (Cornwell 2014)",
        group="ties",
    )
    activity_tie_chance: float = _p(
        0.02,
        "Weekly chance that an attendee of a hosted activity befriends a fellow attendee",
        lo=0.0,
        hi=1.0,
        unit="per week",
        source="invented; plausible 0.005-0.05: about one new tie a year or two of weekly "
        "attendance",
        kind="invented",
        range=(0.005, 0.05),
        range_reason="about one new tie a year or two of weekly attendance",
        group="ties",
    )
    pairing_tie_weeks: int = _p(
        8,
        "Weeks a volunteer pairing lasts before the two count as tied",
        lo=0,
        hi=520,
        unit="weeks",
        source="invented; plausible 4-26: a few months of regular visits",
        kind="invented",
        range=(4, 28),
        range_reason="a few months of regular visits",
        group="ties",
    )
    tie_fade_rate: float = _p(
        0.05,
        "Yearly chance that a tie lapses (moves, drifting apart; not the tie of a live pairing)",
        lo=0.0,
        hi=1.0,
        unit="per year",
        source="invented; plausible 0-0.2: network members are lost for reasons other than "
        "death too (Cornwell et al. 2014)",
        kind="invented",
        range=(0.0, 0.2),
        range_reason="network members are lost for reasons other than death (Cornwell 2014)",
        group="ties",
    )
    tie_radius: int = _p(
        3,
        "Radius (cells) within which neighbour ties form",
        lo=1,
        hi=50,
        unit="cells",
        group="ties",
        kind="invented",
        range=(1, 7),
        range_reason="neighbour ties form within 100 to 700 m",
    )
    long_tie_share: float = _p(
        0.1,
        "Chance each tie is rewired to a random resident (small world)",
        lo=0.0,
        hi=1.0,
        source="Watts & Strogatz 1998",
        group="ties",
        kind="invented",
        range=(0.02, 0.3),
        range_reason="the small-world rule is from Watts & Strogatz; the share is not sourced",
    )
    connection_base: float = _p(
        0.2,
        "Connection an isolated resident tends to",
        lo=0.0,
        hi=1.0,
        group="ties",
        kind="invented",
        range=(0.1, 0.3),
        range_reason="the connection an isolated person drifts to",
    )
    connection_per_tie: float = _p(
        0.04,
        "Connection added per live tie (up to connection_tie_cap)",
        lo=0.0,
        hi=1.0,
        group="ties",
        kind="invented",
        range=(0.02, 0.08),
        range_reason="each live tie adds a little connection",
    )
    connection_tie_cap: float = _p(
        0.4,
        "Most connection ties can add",
        lo=0.0,
        hi=1.0,
        group="ties",
        kind="invented",
        range=(0.25, 0.55),
        range_reason="ties alone give moderate connection at most",
    )
    connection_visit: float = _p(
        0.25,
        "Connection added by a volunteer pairing",
        lo=0.0,
        hi=1.0,
        group="ties",
        kind="invented",
        range=(0.1, 0.4),
        range_reason="a regular visitor adds a little to a lot of connection",
    )
    connection_activity: float = _p(
        0.2,
        "Connection added by attending a hosted activity",
        lo=0.0,
        hi=1.0,
        group="ties",
        kind="invented",
        range=(0.1, 0.35),
        range_reason="a weekly activity adds a little to a fair amount of connection",
    )
    connection_rate: float = _p(
        0.1,
        "Weekly speed at which connection moves to its target",
        lo=0.0,
        hi=1.0,
        unit="per week",
        group="ties",
        kind="invented",
        range=(0.03, 0.3),
        range_reason="connection adjusts over a few weeks to half a year",
    )
    lonely_threshold: float = _p(
        0.26,
        "Connection below which a resident counts as lonely (often or always)",
        lo=0.0,
        hi=1.0,
        source="calibrated: about 6-7% of adults are often or always lonely (Community Life "
        "Survey); with the defaults, a resident with at most one tie and no visits or "
        "activities",
        kind="data",
        range=(0.2, 0.35),
        range_reason="the thresholds at which the share lonely spans 5-8% (CLS)",
        group="ties",
    )

    # --- businesses -----------------------------------------------------------------
    businesses_per_1000: float = _p(
        15.0,
        "Cafes, pubs and shops per 1,000 older residents",
        lo=0.0,
        hi=500.0,
        group="businesses",
        kind="invented",
        range=(5.0, 40.0),
        range_reason="cafes, pubs and shops per 1,000 older residents, village to high street",
    )
    business_engagement_mean: float = _p(
        0.3,
        "Mean initial engagement of businesses at civic potential 0.5",
        lo=0.0,
        hi=1.0,
        group="businesses",
        kind="invented",
        range=(0.1, 0.5),
        range_reason="from few to many engaged businesses",
    )
    host_threshold: float = _p(
        0.45,
        "Engagement above which a business hosts a weekly activity",
        lo=0.0,
        hi=1.0,
        group="businesses",
        kind="invented",
        range=(0.3, 0.6),
        range_reason="how engaged a business must be to host an activity",
    )
    activity_places: int = _p(
        12,
        "Residents one hosted activity can welcome",
        lo=0,
        hi=500,
        group="businesses",
        kind="invented",
        range=(6, 24),
        range_reason="a coffee morning welcomes six to two dozen people",
    )
    activity_hours: float = _p(
        2.0,
        "Low-level support hours an activity gives each attendee",
        lo=0.0,
        hi=40.0,
        unit="hours/week",
        group="businesses",
        kind="invented",
        range=(1.0, 4.0),
        range_reason="an activity gives one to four hours of low-level support",
    )
    activity_radius: int = _p(
        5,
        "How far residents come to an activity",
        lo=0,
        hi=100,
        unit="cells",
        group="businesses",
        kind="invented",
        range=(2, 8),
        range_reason="people walk 200 to 800 m to an activity",
    )
    employee_hours_max: float = _p(
        4.0,
        "Employee volunteering hours a fully engaged business gives a week",
        lo=0.0,
        hi=200.0,
        unit="hours/week",
        group="businesses",
        kind="invented",
        range=(1.0, 10.0),
        range_reason="employee volunteering of an hour to a day a week",
    )
    employee_join_rate: float = _p(
        0.1,
        "Weekly chance an engaged business fills a missing employee-volunteer place",
        lo=0.0,
        hi=1.0,
        unit="per week",
        group="businesses",
        kind="invented",
        range=(0.02, 0.3),
        range_reason="a missing employee volunteer is found within weeks to a year",
    )
    engagement_decay: float = _p(
        0.002,
        "Weekly fall of business engagement without support",
        lo=0.0,
        hi=1.0,
        unit="per week",
        group="businesses",
        kind="invented",
        range=(0.0005, 0.006),
        range_reason="engagement fades over 3 to 40 years without support",
    )
    grant_effect: float = _p(
        0.02,
        "Weekly engagement gain of a fully granted business",
        lo=0.0,
        hi=1.0,
        unit="per week",
        group="businesses",
        kind="invented",
        range=(0.005, 0.05),
        range_reason="a full grant engages a business within months to a few years",
    )
    closure_rate: float = _p(
        0.05,
        "Yearly closure chance of a business",
        lo=0.0,
        hi=1.0,
        unit="per year",
        group="businesses",
        kind="invented",
        range=(0.02, 0.1),
        range_reason="small hospitality and retail businesses close at a few percent a year",
    )
    shock_closure_share: float = _p(
        0.0,
        "Extra share of businesses closing in the shock year",
        lo=0.0,
        hi=1.0,
        group="businesses",
        kind="invented",
        range=(0.0, 0.3),
        range_reason="a shock closes none to a third of businesses (scenario condition)",
    )
    shock_year: int = _p(
        2,
        "Year in which the business shock happens",
        lo=0,
        hi=40,
        unit="year",
        group="businesses",
        kind="invented",
        range=(1, 7),
        range_reason="when the shock strikes in a ten-year run",
    )
    asset_conversion: float = _p(
        0.5,
        "Chance a closure becomes a community-owned asset at local civic energy 1",
        lo=0.0,
        hi=1.0,
        source="Ivy House pub (2013) and community shares",
        group="businesses",
        kind="invented",
        range=(0.2, 0.8),
        range_reason="Ivy House shows conversions happen; how often is not sourced",
    )
    asset_volunteers: float = _p(
        3.0,
        "Active volunteers nearby that give a closing business its full asset chance",
        lo=0.1,
        hi=100.0,
        unit="volunteers",
        group="businesses",
        kind="invented",
        range=(1.0, 6.0),
        range_reason="a few active volunteers nearby are enough to save a venue",
    )
    gini_block: int = _p(
        10,
        "Side of the square blocks of cells over which unmet-need inequality is measured",
        lo=1,
        hi=1000,
        unit="cells",
        group="space",
        kind="setting",
        range=(5, 20),
        range_reason="a measurement choice: inequality over blocks of 0.5 to 2 km",
    )

    # --- parameters registered by plugins (see register_parameter) -------------------
    extra: tuple = field(default=(), repr=False, metadata={"internal": True})

    def __post_init__(self):
        extra = dict(self.extra)
        for name in extra:
            if name not in PLUGIN_PARAMETERS:
                raise ValueError(
                    f"unknown parameter '{name}'; see 'civic-sim list' for the allowed names"
                )
        values = {name: fld.default for name, fld in PLUGIN_PARAMETERS.items()} | extra
        object.__setattr__(self, "extra", tuple(sorted(values.items())))
        validate(self)

    def __getattr__(self, name: str) -> Any:
        """A plugin parameter's value (``p.my_switch``), or its default if it was not set."""
        if name.startswith("__"):
            raise AttributeError(name)
        for key, value in self.__dict__.get("extra", ()):
            if key == name:
                return value
        if name in PLUGIN_PARAMETERS:
            return PLUGIN_PARAMETERS[name].default
        raise AttributeError(f"'Parameters' object has no attribute '{name}'")

    # ------------------------------------------------------------------------------
    @classmethod
    def resolve(cls, scenario: str | None = None, **overrides: Any) -> Parameters:
        """Build parameters: defaults, then the scenario preset, then ``overrides``.

        Args:
            scenario: Name of a registered scenario (default ``baseline``).
            **overrides: Any parameter by name.

        Returns:
            A validated :class:`Parameters`.

        Raises:
            ValueError: For an unknown name or an out-of-range value.
        """
        for name in overrides:
            if name not in PARAMETER_FIELDS:
                raise ValueError(
                    f"unknown parameter '{name}'; see 'civic-sim list' for the allowed names"
                )
        scenario = scenario or overrides.pop("scenario", None) or "baseline"
        overrides.pop("scenario", None)
        preset = _registry("scenarios").get(scenario).values
        values = {**preset, **overrides, "scenario": scenario}
        return cls(**_split_plugin_values({k: coerce(k, v) for k, v in values.items()}))

    def replace(self, **changes: Any) -> Parameters:
        """Return a copy with some values changed (validated)."""
        for name in changes:
            if name not in PARAMETER_FIELDS:
                raise ValueError(f"unknown parameter '{name}'")
        values = {**dict(self.extra), **{k: coerce(k, v) for k, v in changes.items()}}
        return dataclasses.replace(self, **_split_plugin_values(values))

    def as_dict(self) -> dict[str, Any]:
        """Plain dict of all values (plugin parameters included, by name)."""
        values = {name: getattr(self, name) for name in _CORE_FIELDS}
        values.update(self.extra)
        return values


#: The model's own parameters (the fields of :class:`Parameters`).
_CORE_FIELDS: dict[str, dataclasses.Field] = {
    f.name: f for f in dataclasses.fields(Parameters) if not f.metadata.get("internal")
}
#: Parameters added by plugins with :func:`register_parameter`, by name.
PLUGIN_PARAMETERS: dict[str, dataclasses.Field] = {}
#: Every parameter by name: the model's own, then those plugins registered. Everything
#: that checks or lists parameters (``--set``, specs, ``civic-sim list``, validation, the
#: manifest) reads this one mapping.
PARAMETER_FIELDS: dict[str, dataclasses.Field] = dict(_CORE_FIELDS)

#: The registries holding the names a choice field allows, by the field's ``choices``
#: ("strategies", "scenarios"). ``model.strategies`` and ``model.scenarios`` bind theirs
#: when they are imported, which importing anything of the package does; so this module
#: imports nothing of the package and nothing imports it back.
_CHOICES: dict[str, Any] = {}


def bind_choices(kind: str, registry: Any) -> None:
    """Name the registry (anything with ``names()``, ``get(name)`` and ``in``) whose names
    the parameters declared with ``choices=kind`` allow."""
    _CHOICES[kind] = registry


def _registry(kind: str) -> Any:
    try:
        return _CHOICES[kind]
    except KeyError:
        raise RuntimeError(f"no registry of {kind} is bound; import the model package") from None


def _choice_names(choices: str | tuple) -> list[str]:
    """The allowed names of a parameter with choices: a bound registry's names (by kind,
    ``"strategies"``), or a plugin parameter's own tuple of names."""
    if not isinstance(choices, str):
        return list(choices)
    return _registry(choices).names()


def _type_name(name: str) -> str:
    default = PARAMETER_FIELDS[name].default
    if name in ("width", "height", "seed"):
        return "integer"
    return {bool: "boolean", int: "integer", float: "number", str: "name", tuple: "list"}.get(
        type(default), "value"
    )


def describe_range(name: str) -> str:
    """Plain words for what a parameter allows."""
    meta = PARAMETER_FIELDS[name].metadata
    if meta["choices"]:
        return "one of " + ", ".join(_choice_names(meta["choices"]))
    kind = _type_name(name)
    if kind == "boolean":
        return "true or false"
    if kind == "list":
        default = PARAMETER_FIELDS[name].default
        return f"a list of {len(default)} non-negative numbers"
    lo, hi = meta["lo"], meta["hi"]
    if lo is None:
        return f"a {kind}"
    return f"{'an' if kind == 'integer' else 'a'} {kind} from {lo:g} to {hi:g}"


def coerce(name: str, value: Any) -> Any:
    """Convert text (from a CLI or a form) to the parameter's type, or raise ValueError."""
    if name not in PARAMETER_FIELDS:
        raise ValueError(f"unknown parameter '{name}'; see 'civic-sim list' for the allowed names")
    kind = _type_name(name)
    if value is None:
        return None
    try:
        if kind == "boolean":
            if isinstance(value, str) and value.strip().lower() in _BOOLEAN_WORDS:
                return _BOOLEAN_WORDS[value.strip().lower()]
            if isinstance(value, bool):
                return value
            raise ValueError
        if kind == "integer":
            if isinstance(value, bool):
                raise TypeError
            if isinstance(value, str):
                value = value.strip()
                if value.lower() in ("none", ""):
                    return None
            as_float = float(value)
            if not as_float.is_integer():
                raise ValueError
            return int(as_float)
        if kind == "number":
            if isinstance(value, bool):
                raise TypeError
            return float(value)
        if kind == "list":
            if isinstance(value, str):
                value = [v for v in value.replace(";", ",").split(",") if v.strip()]
            return tuple(float(v) for v in value)
        if kind == "name":
            return str(value).strip()
    except (TypeError, ValueError):
        raise ValueError(
            f"parameter '{name}' must be {describe_range(name)}, got {value!r}"
        ) from None
    return value


def validate(params: Parameters) -> None:
    """Check every value against its declared range; raise ValueError naming the field."""
    for name, fld in PARAMETER_FIELDS.items():
        value = getattr(params, name)
        meta = fld.metadata
        if value is None and name in ("width", "height", "seed"):
            continue
        if meta["choices"]:
            if value not in _choice_names(meta["choices"]):
                raise ValueError(
                    f"parameter '{name}' must be {describe_range(name)}, got {value!r}"
                )
            continue
        kind = _type_name(name)
        if kind == "boolean":
            if not isinstance(value, bool):
                raise ValueError(
                    f"parameter '{name}' must be {describe_range(name)}, got {value!r}"
                )
            continue
        if kind == "list":
            default = fld.default
            if (
                not isinstance(value, tuple)
                or len(value) != len(default)
                or any((not math.isfinite(v)) or v < 0 for v in value)
            ):
                raise ValueError(
                    f"parameter '{name}' must be {describe_range(name)}, got {value!r}"
                )
            continue
        bad_type = (
            isinstance(value, bool)
            or (kind == "integer" and not isinstance(value, int))
            or (kind == "number" and not isinstance(value, int | float))
        )
        if bad_type or not math.isfinite(float(value)):
            raise ValueError(f"parameter '{name}' must be {describe_range(name)}, got {value!r}")
        lo, hi = meta["lo"], meta["hi"]
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise ValueError(f"parameter '{name}' must be {describe_range(name)}, got {value!r}")
    _validate_cross_field(params)


def _validate_cross_field(params: Parameters) -> None:
    shares = (
        params.share_coordinators
        + params.share_volunteer_support
        + params.share_outreach
        + params.share_grants
    )
    if abs(shares - 1.0) > 1e-6:
        raise ValueError(
            "parameters 'share_coordinators', 'share_volunteer_support', 'share_outreach' and "
            f"'share_grants' must add up to 1, got {shares:g}"
        )
    gaps = params.initial_level_age_gaps
    if any(b < a for a, b in zip(gaps, gaps[1:], strict=False)):
        raise ValueError(f"parameter 'initial_level_age_gaps' must never decrease, got {gaps}")
    for name, total in (("family_hours_band_shares", 1.0),):
        if abs(sum(getattr(params, name)) - total) > 1e-6:
            raise ValueError(f"parameter '{name}' must add up to 1, got {getattr(params, name)}")
    if any(s > 1 for s in params.personal_share_by_level):
        raise ValueError("parameter 'personal_share_by_level' must hold shares from 0 to 1")
    hours = params.need_hours_by_level
    if hours[0] != 0 or any(b < a for a, b in zip(hours, hours[1:], strict=False)):
        raise ValueError(
            f"parameter 'need_hours_by_level' must start at 0 and never decrease, got {hours}"
        )


def parameter_kind(name: str) -> str:
    """The declared kind of a parameter (one of :data:`KINDS`)."""
    return PARAMETER_FIELDS[name].metadata["kind"]


def plausible_range(name: str) -> tuple[Any, Any] | None:
    """The declared plausible ``(low, high)`` of a parameter, or None."""
    return PARAMETER_FIELDS[name].metadata["range"]


def parameters_of_kind(kind: str) -> dict[str, tuple[Any, Any]]:
    """Every parameter of one kind that declares a plausible range, with that range.

    Args:
        kind: One of :data:`KINDS`.

    Returns:
        ``{name: (low, high)}`` in declaration order.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    return {
        name: fld.metadata["range"]
        for name, fld in PARAMETER_FIELDS.items()
        if fld.metadata["kind"] == kind and fld.metadata["range"] is not None
    }


def parameter_table() -> list[dict[str, Any]]:
    """Rows describing every parameter: name, default, allowed, unit, doc, source, group,
    kind, plausible range (None where not declared) and its reason, and the plugin that
    added it (None for the model's own)."""
    rows = []
    for name, fld in PARAMETER_FIELDS.items():
        meta = fld.metadata
        rows.append(
            {
                "name": name,
                "default": fld.default,
                "allowed": describe_range(name),
                "unit": meta["unit"],
                "doc": meta["doc"],
                "source": meta["source"],
                "group": meta["group"],
                "kind": meta.get("kind"),
                "range": meta.get("range"),
                "range_reason": meta.get("range_reason"),
                "plugin": meta.get("plugin"),
            }
        )
    return rows


# --- parameters added by plugins ---------------------------------------------------------
_BOOLEAN_WORDS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}
_RESERVED_NAMES = {"extra", "resolve", "replace", "as_dict"}


def register_parameter(
    name: str,
    default: bool | int | float | str,
    range: tuple[float, float] | None = None,  # noqa: A002 - the word the field uses
    kind: str = "invented",
    doc: str = "",
    *,
    reason: str = "",
    allowed: tuple[float, float] | None = None,
    choices: tuple[str, ...] | list[str] | None = None,
    unit: str = "",
    source: str = "",
    replace: bool = False,
) -> dataclasses.Field:
    """Add a parameter from a plugin, so ``--set``, specs, ``civic-sim list``, validation
    and the manifest all know it; a rule reads it as ``p.<name>``.

    Args:
        name: A Python identifier not used by the model.
        default: Its value when nothing sets it (a rule variant's default should keep
            the shipped behaviour).
        range: Plausible ``(low, high)`` of a number (the span a sensitivity analysis
            explores); required for numbers, not allowed for switches and names.
        kind: ``"data"``, ``"invented"``, ``"lever"`` or ``"setting"`` (see :data:`KINDS`),
            as for the model's own parameters.
        doc: One line saying what it means.
        reason: Why the range is plausible (a source, or the argument); kept in the
            field's ``range_reason`` metadata, the same field the model's own parameters
            use, so sensitivity analysis and scenario discovery treat both alike.
        allowed: Values accepted at all (default: ``range``); must contain ``range``.
        choices: For a name switch, the allowed names (``default`` is one of them).
        unit: Unit shown by ``civic-sim list parameters``.
        source: Where the default comes from.
        replace: Allow registering the same name again (loading a notebook cell twice).

    Returns:
        The parameter's field (as in :data:`PARAMETER_FIELDS`).

    Raises:
        ValueError: Naming what is wrong with the declaration.
    """
    where = f"register_parameter('{name}')"
    if not isinstance(name, str) or not name.isidentifier() or name.startswith("_"):
        raise ValueError(f"{where}: the name must be a Python identifier not starting with _")
    if name in _CORE_FIELDS or name in _RESERVED_NAMES:
        raise ValueError(f"{where}: '{name}' is one of the model's own parameters or methods")
    if name in PLUGIN_PARAMETERS and not replace:
        raise ValueError(f"{where}: '{name}' is already registered (pass replace=True)")
    if kind not in KINDS:
        raise ValueError(f"{where}: kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if not doc or not isinstance(doc, str):
        raise ValueError(f"{where}: doc must say in one line what the parameter means")
    lo = hi = None
    if choices is not None:
        choices = tuple(str(c) for c in choices)
        if not choices or default not in choices:
            raise ValueError(f"{where}: the default {default!r} must be one of choices")
        if range is not None or allowed is not None:
            raise ValueError(f"{where}: a name switch has choices, not a range")
    elif isinstance(default, bool):
        if range is not None or allowed is not None:
            raise ValueError(f"{where}: a true/false switch has no range")
    elif isinstance(default, int | float):
        if range is None or len(range) != 2 or not range[0] < range[1]:
            raise ValueError(f"{where}: a number needs a plausible range (low, high), low < high")
        lo, hi = allowed if allowed is not None else range
        if not (lo <= range[0] and range[1] <= hi and lo <= default <= hi):
            raise ValueError(f"{where}: allowed {(lo, hi)} must contain the range and default")
        range = (type(default)(range[0]), type(default)(range[1]))
    else:
        raise ValueError(f"{where}: the default must be a number, true/false or a name")
    meta = {
        "doc": doc,
        "lo": lo,
        "hi": hi,
        "unit": unit,
        "source": source or f"added by a plugin ({kind})",
        "choices": choices,
        "group": "plugins",
        "kind": kind,
        "range": range,
        "range_reason": reason,
        "plugin": sys._getframe(1).f_globals.get("__name__", "?"),
    }
    fld = field(default=default, metadata=meta)
    fld.name = name
    PLUGIN_PARAMETERS[name] = fld
    PARAMETER_FIELDS[name] = fld
    return fld


def unregister_parameter(name: str) -> None:
    """Forget a plugin parameter (tests, and a notebook reloading its plugin)."""
    PLUGIN_PARAMETERS.pop(name, None)
    if name not in _CORE_FIELDS:
        PARAMETER_FIELDS.pop(name, None)


def _split_plugin_values(values: dict[str, Any]) -> dict[str, Any]:
    """Constructor arguments of :class:`Parameters`: the model's own fields by name, the
    plugins' in ``extra``."""
    core = {k: v for k, v in values.items() if k in _CORE_FIELDS}
    core["extra"] = tuple(sorted((k, v) for k, v in values.items() if k not in _CORE_FIELDS))
    return core
