"""Metrics collected every week (MODEL.md section 7), and the registry to add more.

Each metric is a function of the model returning a number; the model's Mesa
``DataCollector`` calls every registered metric after each week. Register a new column
with :func:`register_metric` (or the ``@metric`` decorator) and it is collected in every
run, kept by experiment specs, and offered by the workshop page. Every ratio is 0 where
its denominator is 0: no metric is ever NaN.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from model import kernels, world
from model.registry import Registry
from model.strategies import CARE_LINES, FACILITATION_LINES


@dataclass(frozen=True)
class Metric:
    """A named column collected every week.

    Attributes:
        name: Column name.
        func: ``func(model) -> float``.
        doc: One line on what it measures (units included).
    """

    name: str
    func: Callable
    doc: str


#: The registered metrics by column name, in collection order.
METRICS: Registry[Metric] = Registry("metric", identifiers=True)


def register_metric(name: str, func: Callable, doc: str, *, replace: bool = False) -> Metric:
    """Add a metric column collected every week.

    Raises:
        ValueError: If the name is not an identifier or is already taken.
    """
    return METRICS.add(name, Metric(name, func, doc), replace=replace)


def metric(doc: str, name: str | None = None, *, replace: bool = False):
    """Decorator form of :func:`register_metric` (name defaults to the function's)."""

    def wrap(func):
        register_metric(name or func.__name__, func, doc, replace=replace)
        return func

    return wrap


def metric_names() -> list[str]:
    """Registered metric names, in collection order."""
    return METRICS.names()


def metric_docs() -> dict[str, str]:
    """Metric name to its one-line description."""
    return {name: m.doc for name, m in METRICS.items().items()}


def reporters() -> dict[str, Callable]:
    """Model reporters for Mesa's ``DataCollector`` (all registered metrics)."""
    return {name: m.func for name, m in METRICS.items().items()}


def ratio(num: float, den: float) -> float:
    """Num / den, or 0.0 when den is 0."""
    return float(num) / float(den) if den else 0.0


def gini(values: np.ndarray) -> float:
    """Gini coefficient of non-negative values (0 equal, towards 1 concentrated; 0 if empty
    or all zero)."""
    values = np.sort(np.asarray(values, dtype=float))
    n = values.size
    total = values.sum()
    if n == 0 or total <= 0:
        return 0.0
    ranks = np.arange(1, n + 1)
    return float((2.0 * (ranks * values).sum()) / (n * total) - (n + 1.0) / n)


# --- a snapshot of this week's hours, computed once per week and shared by all metrics ----
class Snapshot:
    """Per-slot hours of the current week, computed once and shared by the metrics.

    Arrays cover every slot; free slots hold no need and no care, so totals are those of
    the live residents. Use ``live`` to select live residents where it matters.
    ``block_unmet`` holds the mean unmet hours per resident of each block of
    ``gini_block`` x ``gini_block`` cells with anyone living in it (for
    :func:`unmet_gini`).
    """

    def __init__(self, model):
        r = model.residents
        self._residents = r
        self.need_personal = r.need_personal
        self.need_low = r.need_low
        self.fam_personal = r.fam_personal
        self.fam_low = r.fam_low
        self.paid = r.paid_personal
        self.vol = r.vol_low
        self.biz = r.biz_low
        block_of, n_blocks = _gini_blocks(model)
        (
            self.unmet_personal,
            self.unmet_low,
            totals,
            level_counts,
            self.block_unmet,
            care,
            self.age_bands,
        ) = kernels.week_summary(
            r.alive,
            r.level,
            *(getattr(self, name) for name in _HOURS),
            r.connection,
            float(model.p.lonely_threshold),
            block_of,
            r.x,
            r.y,
            n_blocks,
            r.age,
            r.in_care_home,
            r.council_funded,
            r.carer_age,
        )
        #: Sums over residents of the arrays above, and the number with unmet need.
        self.totals = dict(zip(kernels.WEEK_TOTALS, totals.tolist(), strict=True))
        #: Live residents at each need level 0-4 (a list of ints).
        self.level_counts = level_counts.tolist()
        #: Counts of :data:`kernels.CARE_TOTALS` (care homes, packages, carers, ages);
        #: ``age_bands`` holds residents, with need and with unmet need by age band.
        self.care = dict(zip(kernels.CARE_TOTALS, care.tolist(), strict=True))

    @property
    def live(self) -> np.ndarray:
        """Slots of the live residents, ascending (looked up when asked for: the snapshot is
        remade whenever residents come or go, so these are the snapshot's)."""
        return self._residents.live

    @property
    def need(self) -> np.ndarray:
        """Hours needed per slot."""
        return self.need_personal + self.need_low

    @property
    def unmet(self) -> np.ndarray:
        """Hours not met per slot."""
        return self.unmet_personal + self.unmet_low


_HOURS = ("need_personal", "need_low", "fam_personal", "fam_low", "paid", "vol", "biz")


def snapshot(model) -> Snapshot:
    """This week's :class:`Snapshot` (recomputed when the week or population changes)."""
    key = (model.t, model.residents.version)
    cached = getattr(model, "_metric_snapshot", None)
    if cached is None or cached[0] != key:
        cached = (key, Snapshot(model))
        model._metric_snapshot = cached
    return cached[1]


def need_hours_of(model) -> np.ndarray:
    """Hours needed this week, per slot (0 for free slots)."""
    return snapshot(model).need


def total(model, name: str) -> float:
    """This week's total of one of :data:`kernels.WEEK_TOTALS` (e.g. ``"unmet"``)."""
    return snapshot(model).totals[name]


def unmet_hours_of(model) -> np.ndarray:
    """Hours needed but not met this week, per slot (0 for free slots)."""
    return snapshot(model).unmet


def unmet_hours(model) -> float:
    """Total unmet hours this week."""
    return total(model, "unmet")


def _total(name: str):
    return lambda model: total(model, name)


def care(model, name: str) -> float:
    """This week's count of one of :data:`kernels.CARE_TOTALS` (e.g. ``"in_care_home"``)."""
    return snapshot(model).care[name]


# --- the columns -----------------------------------------------------------------------------
register_metric("step", lambda m: m.steps, "Week number (1 = first week)")
register_metric("year", lambda m: m.year, "Year of the run (0 = first 52 weeks)")
register_metric(
    "need_hours",
    lambda m: total(m, "need_personal") + total(m, "need_low"),
    "Care hours needed this week (personal + low-level)",
)
register_metric("need_personal_hours", _total("need_personal"), "Personal-care hours needed")
register_metric("need_low_level_hours", _total("need_low"), "Low-level support hours needed")
register_metric(
    "met_hours_family",
    lambda m: total(m, "fam_personal") + total(m, "fam_low"),
    "Hours met by family (informal) carers",
)
register_metric("met_hours_paid", _total("paid"), "Hours met by paid carers")
register_metric("met_hours_volunteer", _total("vol"), "Hours met by volunteers")
register_metric(
    "met_hours_business",
    _total("biz"),
    "Hours met by businesses (activities and employee volunteers)",
)
register_metric("unmet_hours", unmet_hours, "Hours needed but not met this week")


register_metric("unmet_personal_hours", _total("unmet_personal"), "Personal-care hours not met")
register_metric("unmet_low_level_hours", _total("unmet_low"), "Low-level support hours not met")


@metric("Share of needed hours not met (0-1)")
def unmet_share(model):
    return ratio(total(model, "unmet"), total(model, "need_personal") + total(model, "need_low"))


@metric("Share of older residents with any care need (0-1)")
def share_with_any_need(model):
    counts = snapshot(model).level_counts
    return ratio(sum(counts[1:]), sum(counts))


@metric("Older residents with some unmet need")
def residents_with_unmet_need(model):
    return int(total(model, "with_unmet"))


@metric("Share of older residents with some unmet need (0-1)")
def share_with_unmet_need(model):
    return ratio(residents_with_unmet_need(model), model.residents.count)


register_metric("residents", lambda m: m.residents.count, "Older residents alive")
for _level, _name in enumerate(("none", "low", "moderate", "substantial", "critical")):
    register_metric(
        f"residents_{_name}",
        lambda m, lv=_level: snapshot(m).level_counts[lv],
        f"Residents at need level {_level} ({_name})",
    )
register_metric("deaths", lambda m: m.week.deaths, "Deaths this week")
register_metric("arrivals", lambda m: m.week.arrivals, "Arrivals this week")
register_metric("active_volunteers", lambda m: m.volunteers.count, "Active volunteers")
register_metric("volunteer_recruits", lambda m: m.week.recruits, "Volunteers recruited this week")
register_metric("volunteer_quits", lambda m: m.week.quits, "Volunteers who quit this week")


@metric("Mean civic energy of active volunteers (0-1; 0 if none)")
def mean_civic_energy(model):
    v = model.volunteers
    return float(v.energy[v.live].sum()) / v.count if v.count else 0.0


@metric("Hours given by volunteers this week (including employee volunteers)")
def volunteer_hours(model):
    v = model.volunteers
    return float(v.hours_given[v.live].sum())


@metric("Active volunteers per 100 older residents")
def volunteers_per_100_residents(model):
    return 100.0 * ratio(model.volunteers.count, model.residents.count)


@metric(
    "Share of adults (working-age adults and older residents) volunteering in care-type roles (0-1)"
)
def volunteering_rate(model):
    return ratio(model.volunteers.count, world.working_age_adults(model) + model.residents.count)


@metric(
    "Share of the pool of potential volunteers (working-age neighbours and young-old "
    "residents) not yet volunteering (0-1)"
)
def volunteer_pool_remaining(model):
    pools = world.neighbourhood_pools(model)
    free = np.maximum(pools - world.neighbourhood_volunteers(model), 0.0).sum()
    older = world.young_old_pool(model)
    older_free = np.count_nonzero(model.residents.volunteer[older] < 0)
    return ratio(free + older_free, pools.sum() + older.size)


@metric("Volunteers still in checks and training (not yet matched)")
def volunteers_in_training(model):
    v = model.volunteers
    return int(np.count_nonzero(v.weeks_active[v.live] < model.p.volunteer_pipeline_weeks))


register_metric("pairings", lambda m: m.pairs.count, "Volunteer-resident pairings")
register_metric(
    "matches_brokered",
    lambda m: m.week.matches_brokered,
    "New pairings brokered by coordinators this week",
)
register_metric(
    "matches_found",
    lambda m: m.week.matches_found,
    "New pairings volunteers found themselves this week",
)
register_metric(
    "coordinator_hours",
    lambda m: m.council.coordinator_hours,
    "Coordinators' working hours this week (the four tasks below add up to them)",
)
register_metric(
    "coordinator_hours_follow_up",
    lambda m: m.council.hours_follow_up,
    "Coordinator hours following up live brokered pairings",
)
register_metric(
    "coordinator_hours_support",
    lambda m: m.council.hours_support,
    "Coordinator hours supporting volunteers",
)
register_metric(
    "coordinator_hours_matching",
    lambda m: m.council.hours_matching,
    "Coordinator hours brokering new matches",
)
register_metric(
    "coordinator_hours_development",
    lambda m: m.council.hours_development,
    "Coordinator hours left for community development (they work as outreach)",
)
register_metric(
    "volunteer_support_level",
    lambda m: m.council.support,
    "Support each volunteer gets from the hub (0-1)",
)
register_metric(
    "outreach_multiplier",
    lambda m: m.council.outreach,
    "Recruitment multiplier from outreach and community development (1 = none)",
)


register_metric(
    "residents_not_asking",
    lambda m: m.week.not_asking,
    "Residents lacking low-level support who have not yet come forward for help",
)


register_metric("budget", lambda m: m.week.budget, "Council budget this week (GBP)")
for _line in CARE_LINES:
    register_metric(
        f"spend_{_line}",
        lambda m, line=_line: getattr(m.week.spent, line),
        f"Spend on {_line.replace('_', ' ')} this week (GBP)",
    )
register_metric(
    "spend_facilitation",
    lambda m: m.week.spent.facilitation,
    "Spend on all facilitation lines this week (GBP)",
)
for _line in FACILITATION_LINES:
    register_metric(
        f"spend_{_line}",
        lambda m, line=_line: getattr(m.week.spent, line),
        f"Spend on {_line.replace('_', ' ')} this week (GBP)",
    )
register_metric(
    "facilitation_unspent",
    lambda m: m.week.facilitation_unspent,
    "Facilitation money planned but not usable by its line, not spent (GBP)",
)
register_metric(
    "spend_total",
    lambda m: m.week.spent.total,
    "Total council spend this week: care homes, home care and facilitation (GBP)",
)
register_metric(
    "eligibility_floor",
    lambda m: m.council.plan.eligibility_floor,
    "Lowest need level eligible for paid care this week",
)


@metric(
    "Council spend at home (home care and facilitation) per hour met by paid carers, "
    "volunteers or businesses (GBP; 0 if none)"
)
def cost_per_met_hour(model):
    hours = total(model, "paid") + total(model, "vol") + total(model, "biz")
    spent = model.week.spent
    return ratio(spent.total - spent.care_homes, hours)


@metric("Mean social connection of older residents (0-1)")
def mean_connection(model):
    return ratio(total(model, "connection"), model.residents.count)


@metric("Share of older residents who are lonely (connection below lonely_threshold)")
def share_lonely(model):
    return ratio(total(model, "lonely"), model.residents.count)


@metric("Mean number of ties of older residents (to residents and volunteers)")
def mean_ties(model):
    return ratio(model.ties.resident_tie_ends(), model.residents.count)


register_metric("new_ties", lambda m: m.week.new_ties, "Ties formed this week (all routes)")
register_metric(
    "ended_ties",
    lambda m: m.week.ended_ties,
    "Ties ended this week (deaths, volunteers stopping, lapsing)",
)


@metric("Gini of unmet hours per resident across blocks of gini_block cells (0 equal)")
def unmet_gini(model):
    return gini(snapshot(model).block_unmet)


def _gini_blocks(model) -> tuple[np.ndarray, int]:
    """The block of each cell for :func:`unmet_gini` (squares of ``gini_block`` cells,
    numbered ``x // side + blocks across * (y // side)``) and the number of blocks; made
    once per model."""
    cached = getattr(model, "_gini_blocks", None)
    if cached is None:
        width, height = model.grid.dimensions
        side = model.p.gini_block
        across, down = -(-width // side), -(-height // side)
        block_of = np.add.outer(np.arange(width) // side, across * (np.arange(height) // side))
        cached = (block_of.astype(np.int64), across * down)
        model._gini_blocks = cached
    return cached


@metric("Open businesses engaged enough to host an activity")
def engaged_businesses(model):
    b = model.businesses
    return int(np.count_nonzero(b.alive & b.open & b.hosts & ~b.community_owned))


@metric("Community-owned assets open")
def community_assets(model):
    b = model.businesses
    return int(np.count_nonzero(b.alive & b.open & b.community_owned))


register_metric(
    "cumulative_unmet_hours",
    lambda m: m.cumulative_unmet_hours,
    "Unmet hours summed since the start of the run",
)


# --- care homes, packages, carers and ages (ODD 7.10, 7.11) --------------------------------
register_metric(
    "residents_in_care_homes",
    lambda m: int(care(m, "in_care_home")),
    "Older residents living in a care home (council-funded or self-funded)",
)
register_metric(
    "council_funded_places",
    lambda m: int(care(m, "council_funded")),
    "Care-home residents whose place the council pays",
)
register_metric(
    "care_home_deaths", lambda m: m.week.care_home_deaths, "Deaths of care-home residents"
)
register_metric(
    "care_home_admissions", lambda m: m.week.admissions, "Moves into a care home this week"
)
register_metric(
    "placements_refused",
    lambda m: m.week.placements_refused,
    "Residents eligible for a council-funded place who had to stay at home this week "
    "because the budget could not pay for it",
)
register_metric(
    "overspend",
    lambda m: m.week.overspend,
    "What the care-home places the council must pay cost above this week's budget (GBP)",
)
register_metric(
    "residents_with_package",
    lambda m: int(care(m, "with_package")),
    "Residents at home with a council-funded home-care package",
)


@metric("Mean hours a week of a home-care package (0 if none)")
def mean_package_hours(model):
    return ratio(care(model, "package_hours"), care(model, "with_package"))


register_metric(
    "residents_with_long_term_support",
    lambda m: int(care(m, "with_package") + care(m, "council_funded")),
    "Residents with council-funded long-term support this week (a package or a place)",
)
register_metric(
    "long_term_clients_this_year",
    lambda m: m.lts_clients_this_year,
    "Different residents with council-funded long-term support since the year began "
    "(as the NHS England ASC return counts clients in a year)",
)
register_metric(
    "carers",
    lambda m: int(care(m, "carers")),
    "Family (unpaid) carers giving care this week",
)
register_metric(
    "carers_aged_65_plus",
    lambda m: int(care(m, "carers_65_plus")),
    "Family carers giving care this week who are themselves 65 or older",
)
register_metric(
    "carer_breakdowns", lambda m: m.week.carer_breakdowns, "Family carers who broke down"
)
register_metric("carer_deaths", lambda m: m.week.carer_deaths, "Family carers who died")
register_metric("new_carers", lambda m: m.week.new_carers, "Relatives who started caring this week")
register_metric(
    "residents_aged_85_plus", lambda m: int(care(m, "aged_85_plus")), "Residents aged 85+"
)


@metric("Share of older residents aged 85 or over (0-1)")
def share_aged_85_plus(model):
    return ratio(care(model, "aged_85_plus"), model.residents.count)


@metric("Share of residents aged 65-69 with some care need (0-1)")
def share_need_aged_65_69(model):
    return ratio(care(model, "need_65_69"), care(model, "aged_65_69"))


@metric("Share of residents aged 80+ with some care need (0-1)")
def share_need_aged_80_plus(model):
    return ratio(care(model, "need_80_plus"), care(model, "aged_80_plus"))


@metric("Share of residents aged 80+ with some unmet need (0-1)")
def share_unmet_aged_80_plus(model):
    return ratio(care(model, "unmet_80_plus"), care(model, "aged_80_plus"))


@metric("Share of care-home residents who pay for the home themselves (0-1)")
def self_funded_share_of_care_home_residents(model):
    homes = care(model, "in_care_home")
    return ratio(homes - care(model, "council_funded"), homes)


@metric("Family (unpaid) care this week valued at the price of an hour of home care (GBP)")
def informal_care_value(model):
    return (total(model, "fam_personal") + total(model, "fam_low")) * model.p.care_hour_price


@metric("Share of care-home residents aged 85+ (0-1)")
def share_of_care_home_residents_85_plus(model):
    return ratio(care(model, "care_home_85_plus"), care(model, "in_care_home"))


@metric("Unmet care hours this week per older resident")
def unmet_hours_per_resident(model):
    return ratio(total(model, "unmet"), model.residents.count)


for _name in ("low", "moderate", "substantial", "critical"):
    register_metric(
        f"residents_with_unmet_need_{_name}",
        lambda m, n=_name: int(care(m, f"unmet_{n}")),
        f"Residents at need level {_name} with some unmet need",
    )


def age_standardised(model, row: int) -> float:
    """Share of residents counted in ``row`` of the age-band counts (1: with need, 2: with
    unmet need), standardised to England's 65+ age structure (ONS mid-2022,
    ``world.AGE_BANDS``): the sum over bands of the England share times the model's rate in
    that band. It compares the model's population, whose ages are a stable population
    (older than England's today), with survey figures for England."""
    snap = snapshot(model)
    cached = getattr(snap, "_standardised", None)
    if cached is None:
        bands = snap.age_bands
        rates = np.divide(bands, bands[0], out=np.zeros(bands.shape), where=bands[0] > 0)
        cached = snap._standardised = (rates @ _ENGLAND_AGES).tolist()
    return cached[row]


def _england_ages() -> np.ndarray:
    from model.world import AGE_BANDS

    weights = np.array([share for _lo, _hi, share in AGE_BANDS])
    return weights / weights.sum()


#: England's 65+ age structure (ONS mid-2022), shares of the six bands.
_ENGLAND_AGES = _england_ages()


@metric("Share of older residents with any care need, standardised to England's 65+ ages")
def share_with_any_need_standardised(model):
    return age_standardised(model, 1)


@metric("Share of older residents with some unmet need, standardised to England's 65+ ages")
def share_with_unmet_need_standardised(model):
    return age_standardised(model, 2)
