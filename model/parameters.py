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
        "Initial older residents (65+)",
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
        0.35,
        "Mortality multiplies by exp(factor x need level)",
        lo=0.0,
        hi=2.0,
        source="invented; critical need about 4x mortality",
        group="demography",
        kind="invented",
        range=(0.15, 0.55),
        range_reason="critical need multiplies mortality by about 2x to 9x",
    )
    arrival_mean_years_over_65: float = _p(
        2.0,
        "Mean age above 65 of arriving residents (exponential)",
        lo=0.0,
        hi=20.0,
        unit="years",
        group="demography",
        kind="invented",
        range=(0.5, 5.0),
        range_reason="most arrivals turn 65 in the area; some move in older",
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
        (0.0, 0.25, 0.4, 0.6, 0.8),
        "Share of need that is personal care, levels 0-4",
        unit="share",
        group="need",
        kind="invented",
        range=None,
        range_reason="a list of shares per level; set it with --set",
    )
    initial_need_age50: float = _p(
        89.0,
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
        15.0,
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
    initial_level_shares: tuple = _p(
        (0.40, 0.30, 0.20, 0.10),
        "Shares of levels 1-4 among residents with need",
        unit="share",
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
        0.0008,
        "Yearly need-onset probability, exponential term",
        lo=0.0,
        hi=0.1,
        unit="per year",
        source="Gostoli & Silverman 2020",
        group="need",
        kind="data",
        range=(0.0004, 0.0016),
        range_reason="half to twice Gostoli & Silverman's exponential term",
    )
    need_onset_age_scale: float = _p(
        18.0,
        "Age scale of need onset (exp(age / scale))",
        lo=5.0,
        hi=100.0,
        unit="years",
        source="Gostoli & Silverman 2020 (men 18, women 19)",
        group="need",
        kind="data",
        range=(16.0, 20.0),
        range_reason="Gostoli & Silverman: 18 for men, 19 for women",
    )
    unmet_onset_factor: float = _p(
        1.0,
        "Deterioration hazard multiplies by (1 + factor x recent unmet share)",
        lo=0.0,
        hi=10.0,
        source="Gostoli & Silverman 2020 (higher after unmet need)",
        group="need",
        kind="invented",
        range=(0.25, 3.0),
        range_reason="the direction is sourced (Gostoli & Silverman), the strength is not",
    )
    loneliness_factor: float = _p(
        0.5,
        "Deterioration hazard multiplies by (1 + factor x loneliness)",
        lo=0.0,
        hi=10.0,
        group="need",
        kind="invented",
        range=(0.0, 1.5),
        range_reason="loneliness raises the risk of decline; no figure for its strength here",
    )
    prevention_factor: float = _p(
        0.4,
        "Deterioration hazard multiplies by (1 - factor x met low-level share)",
        lo=0.0,
        hi=1.0,
        group="need",
        kind="invented",
        range=(0.1, 0.7),
        range_reason="low-level support slows decline by a tenth to two thirds",
    )
    reablement_rate: float = _p(
        0.004,
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
        0.65,
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
        "Shares of carers giving 1-19, 20-49 and 50+ hours a week",
        unit="share",
        source="Census 2021 (2.30m / 0.97m / 1.40m)",
        group="family",
        kind="data",
        range=None,
        range_reason="a list of shares from Census 2021; set it with --set",
    )

    # --- council budget -------------------------------------------------------------
    budget_per_resident_week: float = _p(
        13.4,
        "Calibrated community-care budget per initial older resident per week",
        lo=0.0,
        hi=1000.0,
        unit="GBP/week",
        source="NHS England ASC Finance 2023-24 (about 2.8% of 65+ long-term community "
        "clients x GBP 24,900 a year / 52)",
        group="council",
        kind="data",
        range=(10.0, 17.0),
        range_reason="NHS England ASC Finance 2023-24; councils differ by about a quarter",
    )
    care_hour_price: float = _p(
        28.53,
        "Price of one hour of paid home care",
        lo=1.0,
        hi=200.0,
        unit="GBP/hour",
        source="Homecare Association minimum price 2024-25",
        group="council",
        kind="data",
        range=(22.0, 35.0),
        range_reason="councils pay about GBP 22-30 an hour; the Homecare Association asks 28.53",
    )
    eligibility_threshold: int = _p(
        3,
        "Lowest need level eligible for paid care (3 substantial, 4 critical)",
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
    matches_per_coordinator: float = _p(
        8.0,
        "Matches one coordinator can broker in a week",
        lo=0.0,
        hi=200.0,
        unit="matches/week",
        source="rough: Local Area Coordination caseloads",
        group="council",
        kind="invented",
        range=(3.0, 15.0),
        range_reason="rough: Local Area Coordination caseloads; no weekly figure",
    )
    volunteers_per_coordinator: float = _p(
        40.0,
        "Volunteers one coordinator can support",
        lo=0.0,
        hi=1000.0,
        unit="volunteers",
        group="council",
        kind="invented",
        range=(20.0, 80.0),
        range_reason="one coordinator supports a few dozen volunteers",
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
    max_volunteer_share: float = _p(
        0.04,
        "Share of adults who could volunteer in care at civic potential 1",
        lo=0.0,
        hi=1.0,
        source="Community Life Survey 2021/22 (16% formal monthly, part in care)",
        group="volunteers",
        kind="data",
        range=(0.02, 0.08),
        range_reason="Community Life Survey: 16% volunteer formally each month, a part in care",
    )
    recruitment_rate: float = _p(
        0.004,
        "Weekly recruitment chance of a potential volunteer at civic potential 1",
        lo=0.0,
        hi=1.0,
        unit="per week",
        group="volunteers",
        kind="invented",
        range=(0.001, 0.01),
        range_reason="a potential volunteer starts within two to twenty years",
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
        0.0008,
        "Weekly chance a young-old resident without need starts volunteering "
        "(at civic potential 1)",
        lo=0.0,
        hi=1.0,
        unit="per week",
        group="volunteers",
        kind="invented",
        range=(0.0002, 0.002),
        range_reason="a young-old resident starts within 10 to 100 years at civic potential 1",
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
        0.5,
        "Share of potential volunteers already active when the run starts",
        lo=0.0,
        hi=1.0,
        group="volunteers",
        kind="invented",
        range=(0.2, 0.8),
        range_reason="a fifth to four fifths of the pool active at the start",
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

    # --- ties and connection --------------------------------------------------------
    local_ties: int = _p(
        3,
        "Ties each resident forms with neighbours at set-up",
        lo=0,
        hi=30,
        group="ties",
        kind="invented",
        range=(1, 7),
        range_reason="older people know one to seven neighbours well",
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
        0.3,
        "Connection below which a resident counts as lonely",
        lo=0.0,
        hi=1.0,
        group="ties",
        kind="invented",
        range=(0.2, 0.4),
        range_reason="where 'lonely' starts on the 0-1 connection scale",
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
    for name, total in (("initial_level_shares", 1.0), ("family_hours_band_shares", 1.0)):
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
                "kind": meta["kind"],
                "range": meta["range"],
                "range_reason": meta["range_reason"],
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
