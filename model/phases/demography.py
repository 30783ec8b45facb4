"""Phase 1, demography: ageing, deaths and arrivals (ODD 7.1)."""

from __future__ import annotations

import math

import numpy as np

from agents.resident import WEEKS_PER_YEAR, death_probability
from model import world


def run(model) -> None:
    """Everyone ages a week; some die; new older residents arrive."""
    age_and_die(model)
    arrive(model)


def age_and_die(model) -> None:
    """Age every resident by one week; each dies with the weekly chance of their age and
    need level (an exogenous draw, the same under every strategy)."""
    r, p = model.residents, model.p
    live = r.live
    r.age[live] += 1.0 / WEEKS_PER_YEAR
    draw = model.streams.exogenous_uniform("death", r.person_id[live], model.steps)
    dies = (draw < death_probability(r.age[live], r.level[live], p)) | (r.age[live] >= p.max_age)
    dead = live[dies]
    model.remove_residents(dead)
    model.week.deaths = int(dead.size)


def expected_arrivals(model) -> float:
    """Expected arrivals this week: enough to replace typical deaths and grow the older
    population at ``older_growth_rate`` a year.

    ``N0 * (1 + g)^(t/52) * (m + ln(1 + g)) / 52``, where ``m`` is the mean yearly
    mortality of the initial population. It depends only on the scenario, so arrivals
    are common random numbers across strategies.
    """
    g = model.p.older_growth_rate
    size = model.initial_residents * (1.0 + g) ** (model.steps / WEEKS_PER_YEAR)
    return max(0.0, size * (model.reference_mortality + math.log1p(g)) / WEEKS_PER_YEAR)


def arrive(model) -> None:
    """New older residents (mostly people turning 65) move in at random cells and form
    ties with neighbours."""
    rng = model.streams.arrivals
    n = int(rng.poisson(expected_arrivals(model)))
    model.week.arrivals = n
    if n == 0:
        return
    ages = 65.0 + np.minimum(rng.exponential(model.p.arrival_mean_years_over_65, n), 35.0)
    slots = model.add_residents(**world.new_residents(model, n, ages, rng))
    world.assign_nearest_business(model, slots)
    tie_arrivals(model, slots)


def tie_arrivals(model, slots: np.ndarray) -> None:
    """Each arrival knows up to ``local_ties`` residents living within ``tie_radius``."""
    p, r = model.p, model.residents
    rng = model.streams.decisions
    radius = p.tie_radius
    width, height = model.grid.dimensions
    new_a, new_b = [], []
    newcomers = set(int(s) for s in slots)
    for slot in slots:
        x, y = int(r.x[slot]), int(r.y[slot])
        near = [
            agent.slot
            for i in range(max(0, x - radius), min(width, x + radius + 1))
            for j in range(max(0, y - radius), min(height, y + radius + 1))
            for agent in model.grid[(i, j)].agents
            if getattr(agent, "slot", None) is not None
            and type(agent).__name__ == "Resident"
            and agent.slot not in newcomers
        ]
        if not near:
            continue
        chosen = rng.choice(near, size=min(p.local_ties, len(near)), replace=False)
        new_a.extend([slot] * len(chosen))
        new_b.extend(chosen)
    model.ties.add_resident_ties(new_a, new_b, distinct=True)
    degree = model.ties.resident_degree(r.n_slots)
    from agents.resident import connection_target

    r.connection[slots] = connection_target(degree[slots], False, False, p)
