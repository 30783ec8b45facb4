"""Phase 1, demography: ageing, deaths and arrivals (ODD 7.1)."""

from __future__ import annotations

import math

import numpy as np

from agents import resident
from agents.resident import WEEKS_PER_YEAR
from model import world


def run(model) -> None:
    """Everyone ages a week; some die; new older residents arrive."""
    age_and_die(model)
    arrive(model)


def age_and_die(model) -> None:
    """Age every resident, and their family carer, by one week; each resident dies with the
    weekly chance of their age and need level (an exogenous draw, the same under every
    strategy). Residents in care homes age and die like everyone else."""
    r, p = model.residents, model.p
    # every slot at once (a free slot is reset when reused), then keep the live ones
    r.age += 1.0 / WEEKS_PER_YEAR
    np.add(r.carer_age, 1.0 / WEEKS_PER_YEAR, out=r.carer_age, where=r.family_hours > 0)
    chance = np.where(r.age >= p.max_age, 1.0, resident.death_probability(r.age, r.level, p))
    dead = model.streams.happens("death", r.person_id, model.t, chance, among=r.alive)
    model.week.deaths = int(dead.size)
    model.week.care_home_deaths = int(np.count_nonzero(r.in_care_home[dead]))
    model.remove_residents(dead)


def target_population(model) -> float:
    """The older population the scenario prescribes this week: ``residents * (1 +
    older_growth_rate) ** (t / 52)``, so that there are ``residents`` at week 0 (the
    burn-in's weeks are t <= 0)."""
    return population_path(model.p, model.t)


def population_path(p, week: int) -> float:
    """``residents * (1 + older_growth_rate) ** (week / 52)``."""
    return p.residents * (1.0 + p.older_growth_rate) ** (week / WEEKS_PER_YEAR)


def arrive(model) -> None:
    """New older residents (mostly people turning 65, some movers) arrive so that the
    older population follows the scenario's growth path; they settle at random cells and
    form ties with neighbours.

    The k-th arrival of the run has the same age, home and family under every strategy
    (counter-based draws), so strategies share their population shocks.
    """
    shortfall = max(0.0, target_population(model) - model.residents.count)
    draw = model.streams.exogenous_uniform("arrival_round", np.array([0]), model.t)[0]
    n = int(math.floor(shortfall + draw))  # stochastic rounding
    model.week.arrivals = n
    if n == 0:
        return
    columns = world.next_arrivals(model, n)
    slots = model.add_residents(**columns)
    world.assign_nearest_business(model, slots)
    tie_arrivals(model, slots)


def tie_arrivals(model, slots: np.ndarray) -> None:
    """Each arrival knows ``Poisson(local_ties)`` residents living at home (not fellow
    newcomers) chosen at random within ``tie_radius``; their connection starts where those
    ties put it."""
    p, r = model.p, model.residents
    rng = model.streams.decisions
    away = r.in_care_home.copy()
    away[slots] = True
    wanted = rng.poisson(p.local_ties, slots.size)
    point, known = world.others_near(model, slots, wanted, p.tie_radius, rng, exclude=away)
    model.ties.add_resident_ties(slots[point], known, distinct=True)
    degree = np.bincount(point, minlength=slots.size)
    r.connection[slots] = resident.connection_target(degree, False, False, p)
