"""Exercise (a): make deterioration depend more on loneliness.

The rule is ``deterioration_probability`` in ``agents/resident.py``: the yearly hazard of
moving up a need level is multiplied by ``(1 + loneliness_factor * lonely)``, where
``lonely`` is 1 for a resident whose connection is below ``lonely_threshold`` and 0
otherwise. Here the same rule weighs loneliness four times as much. In class you would
edit ``agents/resident.py`` itself; keeping the changed rule in its own file lets you
switch between the two and compare them on the same seeds.

The phases call every rule through its module (``resident.deterioration_probability(...)``
in ``model/phases/need_dynamics.py``), so a rule kept outside the package is switched on
by putting it in ``agents.resident`` in place of the shipped one -- :func:`lonelier_rule`
does it for the length of a ``with`` block.
"""

from __future__ import annotations

from contextlib import contextmanager, nullcontext

import numpy as np
import pandas as pd

from agents import resident
from agents.resident import weekly
from model import CivicModel

#: How many times more loneliness counts than in the rule shipped in agents/resident.py.
LONELINESS_WEIGHT = 4.0


def deterioration_probability(age, recent_unmet, lonely, low_support, p):
    """Weekly chance of moving up one need level, with loneliness weighed more (ODD 7.2).

    The shipped rule, except that the loneliness multiplier is
    ``(1 + LONELINESS_WEIGHT * loneliness_factor * lonely)``.
    """
    base = p.need_onset_base + p.need_onset_scale * np.exp(age / p.need_onset_age_scale)
    yearly = (
        base
        * (1.0 + p.unmet_onset_factor * recent_unmet)
        * (1.0 + LONELINESS_WEIGHT * p.loneliness_factor * lonely)  # the changed line
        * (1.0 - p.prevention_factor * low_support)
    )
    return weekly(yearly)


@contextmanager
def lonelier_rule():
    """Use the changed rule inside a ``with`` block; the shipped rule comes back after."""
    shipped = resident.deterioration_probability
    resident.deterioration_probability = deterioration_probability
    try:
        yield
    finally:
        resident.deterioration_probability = shipped


def compare(strategies=("direct", "facilitator"), seeds=range(4), residents=1000, steps=156):
    """Mean of the last year's metrics, per strategy, under the shipped and changed rule.

    Every (strategy, rule) pair runs on the same seeds, so the differences are paired
    (common random numbers).

    Returns:
        A DataFrame indexed by (rule, strategy) with the mean need, unmet hours and
        connection of the last 52 weeks, averaged over seeds.
    """
    rows = []
    for rule in ("shipped", "lonelier"):
        for strategy in strategies:
            for seed in seeds:
                with lonelier_rule() if rule == "lonelier" else nullcontext():
                    model = CivicModel(strategy=strategy, residents=residents, seed=seed)
                    frame = model.run(steps)
                last_year = frame.iloc[-52:]
                rows.append(
                    {
                        "rule": rule,
                        "strategy": strategy,
                        "seed": seed,
                        "need_hours": last_year["need_hours"].mean(),
                        "unmet_hours": last_year["unmet_hours"].mean(),
                        "share_with_any_need": last_year["share_with_any_need"].mean(),
                        "mean_connection": last_year["mean_connection"].mean(),
                    }
                )
    table = pd.DataFrame(rows)
    return table.groupby(["rule", "strategy"]).mean(numeric_only=True).drop(columns="seed")


if __name__ == "__main__":
    print(compare().round(3))
