"""The initial world: residents, their ties, businesses and the volunteers already active.

Everything here draws from the *setup* stream, so two strategies on one seed start from
the same neighbourhood. Arrivals later in the run are made by :func:`arrival_columns`
from counter-based draws keyed by each arrival's number, which never depend on model state.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.spatial import cKDTree

from agents import Business, business, carer, resident, volunteer
from model import kernels
from model.space import nearest_hub

#: Age structure of the 65+ population of England (ONS mid-2022 estimates):
#: shares of 65-69, 70-74, 75-79, 80-84, 85-89 and 90+. Data, not a tunable: the start's
#: ages are a stable population (:func:`stable_ages`); this is what they are compared with
#: (an 85+ share of 12%).
AGE_BANDS = (
    (65, 70, 0.28),
    (70, 75, 0.27),
    (75, 80, 0.20),
    (80, 85, 0.13),
    (85, 90, 0.08),
    (90, 100, 0.04),
)

#: Ranges of weekly hours for the three Census 2021 bands of unpaid care.
FAMILY_HOUR_BANDS = ((1.0, 19.0), (20.0, 49.0), (50.0, 80.0))

#: Width of the age steps of :func:`stable_ages` (one week).
AGE_STEP = 1.0 / resident.WEEKS_PER_YEAR

#: Residents with low-level need at set-up have come forward for help as if they had
#: been looking for this many years (at ``help_seeking_rate``, without referrals).
YEARS_SEEKING_AT_START = 2.0


def arrival_age_weights(ages: np.ndarray, p) -> np.ndarray:
    """Share of arrivals in each one-week age step starting at ``ages``: people turning 65
    plus an exponential tail of mean ``arrival_mean_years_over_65`` (as
    :func:`arrival_columns` draws them)."""
    mean = p.arrival_mean_years_over_65
    above = ages - 65.0
    if mean <= 0:
        return (above < AGE_STEP / 2).astype(float)
    return np.exp(-above / mean) - np.exp(-(above + AGE_STEP) / mean)


def stable_ages(p) -> tuple[np.ndarray, np.ndarray]:
    """The stable age structure of the older population (ODD 5.3): the ages a population
    would have after decades of arrivals (:func:`arrival_age_weights`) and deaths at the
    life table's rates (:func:`agents.resident.life_table_mortality`), with the cohorts
    growing ``older_growth_rate + cohort_growth_excess`` a year.

    Week by week of age: ``n(a + 1 week) = n(a) * (1 - weekly death chance) / (1 + g)^(1/52)
    + arrivals at a + 1 week`` (Lotka's stable population), up to ``max_age``.

    Returns:
        (the lower end of each one-week age step, cumulative share of the population).
    """
    ages = np.arange(65.0, p.max_age, AGE_STEP)
    dying = resident.weekly(resident.life_table_mortality(ages, p))
    shrink = (1.0 + p.older_growth_rate + p.cohort_growth_excess) ** (-AGE_STEP)
    inflow = arrival_age_weights(ages, p)
    people = np.empty(ages.size)
    people[0] = inflow[0]
    for k in range(1, ages.size):
        people[k] = people[k - 1] * (1.0 - dying[k - 1]) * shrink + inflow[k]
    return ages, np.cumsum(people) / people.sum()


def ages_from(u: np.ndarray, p) -> np.ndarray:
    """Ages from the stable age structure (:func:`stable_ages`), by inverse transform of
    uniforms ``u`` (uniform within the week of age)."""
    key = (
        p.older_growth_rate,
        p.cohort_growth_excess,
        p.arrival_mean_years_over_65,
        p.max_age,
        p.mortality_at_65,
        p.mortality_age_slope,
    )
    cached = _STABLE_AGES.get(key)
    if cached is None:
        cached = _STABLE_AGES[key] = stable_ages(p)
    steps, cum = cached
    k = np.minimum(np.searchsorted(cum, u, side="right"), steps.size - 1)
    start = np.concatenate([[0.0], cum[:-1]])[k]
    within = (u - start) / np.maximum(cum[k] - start, 1e-300)
    return steps[k] + np.clip(within, 0.0, 1.0) * AGE_STEP


_STABLE_AGES: dict = {}


def need_levels_from(ages: np.ndarray, u_need: np.ndarray, u_level: np.ndarray, p) -> np.ndarray:
    """Need level: how many of levels 1-4 have a chance at this age above the draw.

    The chances are :func:`agents.resident.initial_level_probabilities`; one uniform draw
    ``u_need`` for all four, so a resident with level 3 also passes levels 1 and 2
    (``u_level`` is kept so that the arrivals' draws keep their purposes).
    """
    del u_level
    level = np.zeros(np.shape(ages), dtype=np.int8)
    for chance in resident.initial_level_probabilities(ages, p):
        level += u_need < chance
    return level


def carer_hours_from(u_band, u_hours, p) -> np.ndarray:
    """Hours a week a family carer can give: a Census 2021 band (``family_hours_band_shares``)
    and a uniform amount within it."""
    # math.fsum, not sum(): the builtin rounds differently from Python 3.12 on, and runs
    # must not depend on the Python version
    cum = np.cumsum(p.family_hours_band_shares) / math.fsum(p.family_hours_band_shares)
    band = np.minimum(np.searchsorted(cum, u_band, side="right"), 2)
    lo = np.array([b[0] for b in FAMILY_HOUR_BANDS])[band]
    hi = np.array([b[1] for b in FAMILY_HOUR_BANDS])[band]
    return lo + u_hours * (hi - lo)


def family_hours_from(u_carer, u_band, u_hours, p) -> np.ndarray:
    """Hours a week family carers can give: none without a carer (``family_carer_share``),
    else :func:`carer_hours_from`."""
    return np.where(u_carer < p.family_carer_share, carer_hours_from(u_band, u_hours, p), 0.0)


def resident_columns(
    model, ages, u_x, u_y, u_need, u_level, u_carer, u_band, u_hours, u_spouse, u_self, u_life
) -> dict:
    """Columns for new residents from their ages and uniform draws."""
    p = model.p
    width, height = model.grid.dimensions
    x = np.minimum((u_x * width).astype(np.int32), width - 1)
    y = np.minimum((u_y * height).astype(np.int32), height - 1)
    family_hours = family_hours_from(u_carer, u_band, u_hours, p)
    spouse = u_spouse < p.spouse_carer_share
    carer_age = np.where(family_hours > 0, carer.carer_ages(ages, spouse, p), 0.0)
    return {
        "x": x,
        "y": y,
        "age": ages,
        "level": need_levels_from(ages, u_need, u_level, p),
        "family_hours": family_hours,
        "carer_age": carer_age,
        "carer_death_age": np.where(
            family_hours > 0, carer.carer_death_age(carer_age, 1.0 - u_life, p), 0.0
        ),
        "self_funder": u_self < p.self_funder_share,
        "connection": np.full(ages.size, p.connection_base),
        "hub": nearest_hub(x, y, model.hub_xy),
    }


#: Arrivals drawn ahead at a time (see :func:`next_arrivals`).
ARRIVAL_BLOCK = 256


def next_arrivals(model, n: int) -> dict:
    """Columns for the next ``n`` arrivals of the run (see :func:`arrival_columns`).

    They are drawn ahead in blocks of :data:`ARRIVAL_BLOCK`: the k-th arrival's columns
    depend on nothing but k, so drawing them early changes only the number of calls.
    """
    first = model.arrivals_so_far
    ahead = getattr(model, "_arrivals_ahead", None)
    if ahead is None or not (ahead[0] <= first and first + n <= ahead[0] + ahead[1]["x"].size):
        numbers = np.arange(first, first + max(n, ARRIVAL_BLOCK))
        ahead = (first, arrival_columns(model, numbers))
        model._arrivals_ahead = ahead
    model.arrivals_so_far += n
    start = first - ahead[0]
    return {name: column[start : start + n] for name, column in ahead[1].items()}


#: What each counter-based draw of an arrival is for, in the order of
#: :func:`resident_columns`' uniforms.
ARRIVAL_PURPOSES = (
    "arrival_age",
    "arrival_x",
    "arrival_y",
    "arrival_need",
    "arrival_level",
    "arrival_carer",
    "arrival_band",
    "arrival_hours",
    "arrival_spouse",
    "arrival_self_funder",
    "arrival_carer_lifespan",
)


def arrival_columns(model, numbers: np.ndarray) -> dict:
    """Columns for the arrivals numbered ``numbers``: mostly people turning 65 (age above
    65 exponential with mean ``arrival_mean_years_over_65``), at random cells. Every draw
    is keyed by the arrival's number (common random numbers across strategies)."""
    u_age, *rest = model.streams.exogenous_uniforms(ARRIVAL_PURPOSES, numbers, 0)
    mean = model.p.arrival_mean_years_over_65
    ages = 65.0 + np.minimum(-mean * np.log1p(-u_age), model.p.max_age - 65.0 - 1e-6)
    return resident_columns(model, ages, *rest)


def setup_size(p) -> int:
    """Older residents at set-up: the population path before the burn-in,
    ``round(residents * (1 + older_growth_rate) ** (-burn_in_weeks / 52))``, so that there
    are ``residents`` at week 0 (at least 2)."""
    start = p.residents * (1.0 + p.older_growth_rate) ** (-p.burn_in_weeks / 52.0)
    return max(2, int(round(start)))


def populate(model) -> None:
    """Build the initial world on ``model`` (grid, layer and hubs already exist)."""
    p, rng = model.p, model.streams.setup
    n = setup_size(p)
    columns = resident_columns(
        model, ages_from(rng.random(n), p), *(rng.random(n) for _ in range(10))
    )
    slots = model.add_residents(**columns)
    _initial_care_homes(model, slots, rng)
    _initial_ties(model, slots, rng)
    _businesses(model, rng)
    assign_nearest_business(model, slots)
    _initial_volunteers(model, rng)
    _initial_help_seekers(model, slots, rng)
    r = model.residents
    degree = model.ties.resident_degree(r.n_slots)
    r.connection[slots] = resident.connection_target(degree[slots], False, False, p)


def _initial_care_homes(model, slots: np.ndarray, rng) -> None:
    """Start each resident's recent unmet share at the share of their need their family
    leaves unmet (no care has been bought yet), and place some of them in care homes
    already (:func:`agents.resident.initial_care_home_probability`, with that share as
    their missing family care): self-funders, and others whose need qualifies for council
    funding (``eligibility_threshold``)."""
    r, p = model.residents, model.p
    level = r.level[slots]
    personal, low = resident.need_hours(level, p)
    fam_personal, fam_low = resident.family_care(personal, low, r.family_hours[slots])
    need = personal + low
    missing = np.where(need > 0, 1.0 - (fam_personal + fam_low) / np.maximum(need, 1e-300), 0.0)
    r.recent_unmet[slots] = missing
    chance = resident.initial_care_home_probability(r.age[slots], level, missing, p)
    qualifies = r.self_funder[slots] | (level >= p.eligibility_threshold)
    placed = slots[(rng.random(slots.size) < chance) & qualifies]
    r.in_care_home[placed] = True
    r.council_funded[placed] = ~r.self_funder[placed]


def _initial_ties(model, slots: np.ndarray, rng) -> None:
    """Small-world ties: each resident befriends ``Poisson(local_ties)`` residents chosen
    at random within ``tie_radius``, each rewired to a random resident with
    ``long_tie_share`` (so degrees start spread as the weekly tie dynamics keep them)."""
    p = model.p
    if p.local_ties == 0 or slots.size < 2:
        return
    wanted = rng.poisson(p.local_ties, slots.size)
    point, dst = others_near(model, slots, wanted, p.tie_radius, rng)
    rewire = rng.random(dst.size) < p.long_tie_share
    dst = np.where(rewire, slots[rng.integers(0, slots.size, dst.size)], dst)
    model.ties.add_resident_ties(slots[point], dst)


def others_near(model, slots, wanted, radius: int, rng, exclude=None):
    """For each resident slot, up to ``wanted[i]`` distinct other residents chosen at
    random within ``radius`` cells (a square); ``exclude`` marks slots never chosen.

    Returns:
        (position in ``slots``, chosen resident slot) pairs, as two arrays.
    """
    slots = np.ascontiguousarray(slots, dtype=np.int64)
    wanted = np.asarray(wanted, dtype=np.int64)
    most = int(wanted.max(initial=0))
    if most == 0 or slots.size == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    r = model.residents
    point, found = model.cell_index.near_many(
        r.x[slots], r.y[slots], radius, wanted=None if exclude is None else ~exclude
    )
    other = found != slots[point]
    point, found = point[other], found[other]
    chosen = kernels.sample_groups(point, rng.random((slots.size, most)))
    point, found = point[chosen], found[chosen]
    rank = np.arange(point.size) - np.searchsorted(point, point, side="left")
    keep = rank < wanted[point]
    return point[keep], found[keep]


def _businesses(model, rng) -> None:
    """Cafes, pubs and shops at random cells; engagement follows local civic potential."""
    p = model.p
    n = int(round(p.businesses_per_1000 * p.residents / 1000.0))
    if n == 0:
        return
    width, height = model.grid.dimensions
    x = rng.integers(0, width, n).astype(np.int32)
    y = rng.integers(0, height, n).astype(np.int32)
    local = model.civic[x, y]
    engagement = np.clip(
        p.business_engagement_mean * (local / 0.5) * rng.uniform(0.5, 1.5, n), 0.0, 1.0
    )
    slots = model.businesses.add(
        n,
        business_id=np.arange(n),
        x=x,
        y=y,
        engagement=engagement,
        hosts=business.hosts_activity(engagement, p),
    )
    b = model.businesses
    for slot in slots:
        b.agent[slot] = Business(model, slot, model.grid[(int(b.x[slot]), int(b.y[slot]))])


def assign_nearest_business(model, slots: np.ndarray) -> None:
    """Each resident's nearest open business within ``activity_radius`` (or -1): where
    they would go to a hosted activity. Looked up in :func:`venue_map`."""
    if len(slots) == 0:
        return
    r = model.residents
    r.near_business[slots] = venue_map(model)[r.x[slots], r.y[slots]]


def venue_map(model) -> np.ndarray:
    """Every cell's nearest open business within ``activity_radius`` (business slot, or
    -1), made once with a k-d tree and patched by :func:`venues_shut`."""
    cached = getattr(model, "_venue_map", None)
    if cached is None:
        cached = np.full(model.grid.dimensions, -1, dtype=np.int32)
        model._venue_map = cached
        _find_venues(model, np.ones(cached.shape, dtype=bool))
    return cached


def venues_shut(model, shut: np.ndarray) -> None:
    """Businesses ``shut`` have closed: the cells they served find their next nearest
    venue, and so do their regulars."""
    venues = venue_map(model)
    gone = np.zeros(model.businesses.n_slots + 1, dtype=bool)  # last entry: no venue (-1)
    gone[shut] = True
    _find_venues(model, gone[venues])
    r = model.residents
    regulars = np.flatnonzero(gone[r.near_business] & r.alive)
    assign_nearest_business(model, regulars)


def _find_venues(model, cells: np.ndarray) -> None:
    """Fill :func:`venue_map` for the cells marked in the mask ``cells``."""
    b, venues = model.businesses, model._venue_map
    xs, ys = np.nonzero(cells)
    open_ = b.live[b.open[b.live]]
    if open_.size == 0 or xs.size == 0:
        venues[xs, ys] = -1
        return
    dist, idx = cKDTree(np.stack([b.x[open_], b.y[open_]], axis=1)).query(
        np.stack([xs, ys], axis=1), k=1, distance_upper_bound=model.p.activity_radius + 0.5
    )
    venues[xs, ys] = np.where(np.isfinite(dist), open_[np.minimum(idx, open_.size - 1)], -1)


def potential_volunteers(model) -> np.ndarray:
    """Potential volunteers among the working-age adults of each cell (fractional):
    adults x :func:`agents.volunteer.pool_share` of the cell's civic potential.

    The working-age population is ``adults_per_older_resident`` per initial older
    resident, spread evenly over the map, and does not change during a run; computed once.
    """
    cached = getattr(model, "_potential_volunteers", None)
    if cached is not None:
        return cached
    p = model.p
    width, height = model.grid.dimensions
    adults_per_cell = p.adults_per_older_resident * p.residents / (width * height)
    model._potential_volunteers = adults_per_cell * volunteer.pool_share(model.civic, p)
    return model._potential_volunteers


def working_age_adults(model) -> float:
    """Working-age adults living on the map (fixed over the run)."""
    return model.p.adults_per_older_resident * model.p.residents


def neighbourhoods(model) -> tuple[np.ndarray, int]:
    """The neighbourhood of each cell (squares of ``neighbourhood_size`` cells, numbered
    ``x // side + across * (y // side)``) and their number; made once per model."""
    cached = getattr(model, "_neighbourhoods", None)
    if cached is None:
        width, height = model.grid.dimensions
        side = model.p.neighbourhood_size
        across, down = -(-width // side), -(-height // side)
        area = np.add.outer(np.arange(width) // side, across * (np.arange(height) // side))
        cached = (area.astype(np.int64), across * down)
        model._neighbourhoods = cached
    return cached


def neighbourhood_pools(model) -> np.ndarray:
    """Potential working-age volunteers of each neighbourhood (fractional); made once."""
    cached = getattr(model, "_neighbourhood_pools", None)
    if cached is None:
        area, n = neighbourhoods(model)
        cached = np.bincount(area.ravel(), weights=potential_volunteers(model).ravel(), minlength=n)
        model._neighbourhood_pools = cached
    return cached


def neighbourhood_volunteers(model) -> np.ndarray:
    """Working-age neighbours volunteering now, per neighbourhood (kept up to date by the
    model as volunteers come and go)."""
    return model.neighbourhood_counts


def free_pool_share(model) -> np.ndarray:
    """Share of each neighbourhood's pool not yet volunteering (0-1; 0 with no pool)."""
    pools = neighbourhood_pools(model)
    free = np.maximum(pools - neighbourhood_volunteers(model), 0.0)
    return free / np.where(pools > 0, pools, np.inf)


def is_potential_volunteer(model, slots: np.ndarray) -> np.ndarray:
    """Whether these older residents are potential volunteers: a draw made once per
    person (keyed by their person number, so the same under every strategy) below
    :func:`agents.volunteer.pool_share` of their home's civic potential."""
    r = model.residents
    u = model.streams.exogenous_uniform("volunteer_trait", r.person_id[slots], 0)
    return u < volunteer.pool_share(model.civic[r.x[slots], r.y[slots]], model.p)


def family_carers(model) -> int:
    """Family carers giving care this week (residents receiving some family care)."""
    r = model.residents
    return int(np.count_nonzero(r.alive & (r.fam_personal + r.fam_low > 0)))


def young_old_pool(model) -> np.ndarray:
    """Slots of young-old residents without need who are potential volunteers (their
    ``volunteer_trait``, drawn on arrival by :func:`is_potential_volunteer`), living at
    home (not in a care home)."""
    key = (model.t, model.residents.version)
    cached = getattr(model, "_young_old_pool", None)
    if cached is None or cached[0] != key:
        r, p = model.residents, model.p
        pool = np.flatnonzero(
            r.volunteer_trait & (r.level == 0) & (r.age < p.young_old_age) & ~r.in_care_home
        )
        cached = (key, pool)
        model._young_old_pool = cached
    return cached[1]


def cells_by_potential(model, areas: np.ndarray, u: np.ndarray) -> np.ndarray:
    """A cell of each neighbourhood in ``areas``, chosen in proportion to its potential
    volunteers by the uniforms ``u`` (flat cell numbers ``x * height + y``).

    The cells are kept sorted by neighbourhood with one running total of potential, made
    once, so each choice is one binary search inside its neighbourhood's stretch.
    """
    cached = getattr(model, "_cells_by_potential", None)
    if cached is None:
        area, n = neighbourhoods(model)
        order = np.argsort(area.ravel(), kind="stable")
        running = np.cumsum(potential_volunteers(model).ravel()[order])
        bounds = np.searchsorted(area.ravel()[order], np.arange(n + 1))  # each one's stretch
        before = np.concatenate([[0.0], running])[bounds[:-1]]
        cached = (order, running, before, bounds[1:] - 1)
        model._cells_by_potential = cached
    order, running, before, last = cached
    pools = neighbourhood_pools(model)
    at = np.searchsorted(running, before[areas] + u * pools[areas], side="right")
    return order[np.minimum(at, last[areas])]  # rounding never leaves the neighbourhood


def _initial_volunteers(model, rng) -> None:
    """Volunteers already active at the start: a share ``initial_active_share`` of the
    potential ones (neighbours and young-old residents), plus the employee volunteers of
    engaged businesses. They have finished their checks and training."""
    p = model.p
    counts = rng.poisson(potential_volunteers(model) * p.initial_active_share)
    xs, ys = np.nonzero(counts)
    reps = counts[xs, ys]
    x = np.repeat(xs, reps).astype(np.int32)
    y = np.repeat(ys, reps).astype(np.int32)
    n = x.size
    if n:
        slots = model.add_volunteers(
            x=x,
            y=y,
            capacity=draw_capacity(n, rng, p),
            energy=new_energy(n, rng, p),
            hub=nearest_hub(x, y, model.hub_xy),
            weeks_active=np.full(n, p.volunteer_pipeline_weeks, dtype=np.int32),
        )
        tie_new_volunteers(model, slots, rng)
    pool = young_old_pool(model)
    older = pool[rng.random(pool.size) < p.initial_active_share]
    if older.size:
        add_older_volunteers(model, older, rng, trained=True)
    b = model.businesses
    targets = business.employee_volunteer_target(b.engagement[b.live], p).astype(int)
    add_employee_volunteers(model, np.repeat(b.live, targets), rng, trained=True)


def _initial_help_seekers(model, slots: np.ndarray, rng) -> None:
    """Residents lacking low-level support at set-up have come forward for help with the
    chance of :data:`YEARS_SEEKING_AT_START` years at ``help_seeking_rate``."""
    r, p = model.residents, model.p
    _personal, low = resident.need_hours(r.level[slots], p)
    _fp, fam_low = resident.family_care(_personal, low, r.family_hours[slots])
    lacking = low - fam_low > 1e-9
    chance = 1.0 - (1.0 - p.help_seeking_rate) ** YEARS_SEEKING_AT_START
    r.accepts_help[slots] = lacking & (rng.random(slots.size) < chance)


def add_older_volunteers(model, joining: np.ndarray, rng, trained: bool = False) -> np.ndarray:
    """Older residents ``joining`` start volunteering at their home cell; return slots."""
    r, p = model.residents, model.p
    n = joining.size
    x, y = r.x[joining], r.y[joining]
    slots = model.add_volunteers(
        x=x,
        y=y,
        capacity=draw_capacity(n, rng, p),
        energy=new_energy(n, rng, p),
        resident_slot=joining,
        hub=nearest_hub(x, y, model.hub_xy),
        weeks_active=np.full(n, p.volunteer_pipeline_weeks if trained else 0, dtype=np.int32),
    )
    tie_new_volunteers(model, slots, rng)
    return slots


def new_energy(n: int, rng, p) -> np.ndarray:
    """Civic energy of new volunteers: uniform from ``new_volunteer_energy`` to 1."""
    return rng.uniform(p.new_volunteer_energy, 1.0, n)


def draw_capacity(n: int, rng, p) -> np.ndarray:
    """Weekly hours volunteers offer: lognormal with mean ``volunteer_capacity_mean``."""
    sigma = p.capacity_spread
    mu = np.log(p.volunteer_capacity_mean) - sigma**2 / 2
    return rng.lognormal(mu, sigma, n)


def add_employee_volunteers(model, employers: np.ndarray, rng, trained: bool = False) -> None:
    """Add one employee volunteer for each business slot in ``employers`` (repeats allowed),
    living at the business's cell; ``trained`` ones have finished checks and training."""
    employers = np.ascontiguousarray(employers, dtype=np.int64)
    n = employers.size
    if n == 0:
        return
    b, p = model.businesses, model.p
    x, y = b.x[employers], b.y[employers]
    slots = model.add_volunteers(
        x=x,
        y=y,
        capacity=draw_capacity(n, rng, p),
        energy=new_energy(n, rng, p),
        employer=employers,
        hub=nearest_hub(x, y, model.hub_xy),
        weeks_active=np.full(n, p.volunteer_pipeline_weeks if trained else 0, dtype=np.int32),
    )
    b.employees += np.bincount(employers, minlength=b.n_slots).astype(b.employees.dtype)
    tie_new_volunteers(model, slots, rng)


def random_neighbours(model, x, y, radius: int, k: int, rng, exclude=None):
    """Up to ``k`` distinct residents chosen at random within ``radius`` cells of each
    point (x, y); ``exclude`` is a mask of resident slots never to choose.

    Returns:
        (which point, resident slot) pairs as two arrays.
    """
    point, slots = model.cell_index.near_many(
        x, y, radius, wanted=None if exclude is None else ~exclude
    )
    chosen = kernels.sample_groups(point, rng.random((len(x), k)))
    return point[chosen], slots[chosen]


def tie_new_volunteers(model, vol_slots: np.ndarray, rng) -> None:
    """A new volunteer knows up to ``volunteer_ties`` older residents living within
    ``tie_radius``."""
    vol_slots = np.ascontiguousarray(vol_slots, dtype=np.int64)
    if vol_slots.size == 0:
        return
    v, p = model.volunteers, model.p
    point, res = random_neighbours(
        model, v.x[vol_slots], v.y[vol_slots], p.tie_radius, p.volunteer_ties, rng
    )
    model.ties.add_volunteer_ties(vol_slots[point], res, distinct=True)


def volunteers_near(model, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Active volunteers living within ``contagion_radius`` cells of each (x, y)."""
    return kernels.window_sums(
        model.volunteer_counts,
        np.ascontiguousarray(x, dtype=np.int64),
        np.ascontiguousarray(y, dtype=np.int64),
        model.p.contagion_radius,
    )
