"""Exercise (e): older volunteers step back -- a rule variant you switch with a parameter.

The rule is ``quits`` in ``agents/volunteer.py``. Every volunteer's age and weeks active
reach it, though the shipped rule uses neither, so a variant is a change to this one
function, not to the phase that calls it. Here the yearly chance of quitting for life
reasons grows with every year of age above 65:

    yearly chance = baseline_attrition + older_quit_rate * (years above 65)

``older_quit_rate`` is a new parameter, registered with ``register_parameter``: from then
on ``civic-sim run --set older_quit_rate=0.03``, a spec's ``[fixed]`` or design,
``civic-sim sweep --set``, ``civic-sim list parameters``, validation (a value outside
0-0.05 is refused) and every run's record in the manifest know it. At its default, 0, the
rule gives exactly the shipped numbers, so loading this file changes nothing until the
parameter is set.

Load it with ``civic-sim --plugin docs/tutorial/solutions/retiring_volunteers.py ...``, a
spec's ``plugins``, or ``import`` before building a model.
"""

from __future__ import annotations

import numpy as np

from agents import volunteer
from agents.resident import weekly
from model import register_parameter

register_parameter(
    "older_quit_rate",
    0.0,
    range=(0.0, 0.05),
    kind="invented",
    doc="Extra yearly chance of quitting per year of a volunteer's age above 65",
    reason="at 0.05 a 75-year-old volunteer's yearly chance of stopping is 65%, not 15%",
    unit="per year of age",
    replace=True,  # loading the file twice (a notebook, the CLI and a spec) is harmless
)


def quits(energy, attrition_draw, age, weeks_active, p):
    """A volunteer quits when energy falls below ``quit_threshold`` or life intervenes;
    life intervenes more often with every year of age above 65 (ODD 7.6, varied).

    Yearly chance of quitting for life reasons: ``baseline_attrition + older_quit_rate *
    max(age - 65, 0)``, capped at 1.
    """
    yearly = p.baseline_attrition + p.older_quit_rate * np.maximum(age - 65.0, 0.0)
    return (energy < p.quit_threshold) | (attrition_draw < weekly(yearly))


# Switch the rule on: the civic-energy phase calls volunteer.quits(...) through the module.
volunteer.quits = quits
