"""Refit the set-up need curves to the model's own steady state (docs/ODD.md 5.3).

The world is built with need levels drawn from ordinal logistic curves by age
(:func:`agents.resident.initial_level_probabilities`: ``initial_need_age50``,
``initial_need_age_spread``, ``initial_level_age_gaps``); arrivals at 65 draw from the same
curves, and the mortality reference (:func:`agents.resident.need_mortality_reference`) is
computed from them. The curves should describe where the weekly rules keep need, so after a
change to the need, care-home or mortality rules they are refitted: run a long burn-in
under today's policy, take every live resident's age and level, and fit the curves by
maximum likelihood; repeat from the fitted curves (arrivals and the mortality reference
use them) until they stop moving.

Usage::

    python tools/fit_setup_curves.py [--years 40] [--seeds 2] [--residents 5000]
        [--rounds 3] [--set NAME=VALUE ...]

It prints the fitted values to paste into ``model/parameters.py``.
"""

from __future__ import annotations

import argparse
import ast

import numpy as np
from scipy.optimize import minimize

from agents import resident
from model.civic_model import CivicModel
from model.parameters import Parameters


def steady_ages_and_levels(p, seeds, residents, years):
    """Ages and need levels of every live resident after ``years`` of burn-in."""
    ages, levels = [], []
    for seed in range(seeds):
        q = p.replace(residents=residents, burn_in_weeks=int(years * 52))
        model = CivicModel(q, seed_sequence=np.random.SeedSequence(seed, spawn_key=(0,)))
        r = model.residents
        ages.append(r.age[r.alive].copy())
        levels.append(r.level[r.alive].astype(int))
    return np.concatenate(ages), np.concatenate(levels)


def negative_log_likelihood(x, ages, levels):
    """Of the ordinal logistic curves with (age50, log spread, log gap increments)."""
    age50, spread = x[0], np.exp(x[1])
    gaps = np.cumsum(np.exp(x[2:]))
    p = Parameters.resolve(
        initial_need_age50=float(np.clip(age50, 60.0, 110.0)),
        initial_need_age_spread=float(np.clip(spread, 1.0, 50.0)),
        initial_level_age_gaps=tuple(float(g) for g in gaps),
    )
    at_least = [np.ones_like(ages), *resident.initial_level_probabilities(ages, p), 0 * ages]
    probs = np.stack([at_least[k] - at_least[k + 1] for k in range(5)])
    chosen = probs[levels, np.arange(levels.size)]
    return -np.sum(np.log(np.maximum(chosen, 1e-300)))


def fit(ages, levels, p):
    """Maximum-likelihood curves, started from ``p``'s."""
    gaps = np.diff((0.0, *p.initial_level_age_gaps))
    x0 = np.array([p.initial_need_age50, np.log(p.initial_need_age_spread), *np.log(gaps)])
    best = minimize(
        negative_log_likelihood,
        x0,
        args=(ages, levels),
        method="Nelder-Mead",
        options={"maxiter": 4000, "xatol": 1e-3, "fatol": 1e-3},
    )
    x = best.x
    return {
        "initial_need_age50": round(float(x[0]), 1),
        "initial_need_age_spread": round(float(np.exp(x[1])), 1),
        "initial_level_age_gaps": tuple(round(float(g), 1) for g in np.cumsum(np.exp(x[2:]))),
    }


def main() -> None:
    """Fit the curves for the parameters given with --set and print them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=float, default=40.0)
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--residents", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    args = parser.parse_args()
    values = {}
    for item in args.set:
        name, _, text = item.partition("=")
        values[name] = ast.literal_eval(text)
    p = Parameters.resolve(**values)
    for round_ in range(args.rounds):
        ages, levels = steady_ages_and_levels(p, args.seeds, args.residents, args.years)
        fitted = fit(ages, levels, p)
        shares = np.bincount(levels, minlength=5) / levels.size
        print(f"round {round_ + 1}: {fitted}; levels 0-4 {np.round(shares, 4).tolist()}")
        p = p.replace(**fitted)
    print("fitted:", fitted)


if __name__ == "__main__":
    main()
