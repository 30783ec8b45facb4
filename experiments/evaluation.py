"""One run of the model as a function: parameters in, final-year outcomes out.

This is the entry point for tools that drive the model themselves (the EMA Workbench,
SALib scripts, emulators, calibration). It uses the same paired seeding as a sweep:
replicate ``r`` with root ``seed`` runs on ``SeedSequence(seed, spawn_key=(r,))``, so
``evaluate(p, steps, r, seed)`` gives exactly what a sweep with ``seed = seed`` stores
for replicate ``r`` of the same parameters, and two strategies evaluated with the same
replicate and seed are a paired comparison.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from experiments.analysis import FINAL_WEEKS, OUTCOMES, final_year


def final_outcomes(frame, weeks: int = FINAL_WEEKS) -> dict[str, float]:
    """Final-year outcomes of one run's weekly metrics (as the report defines them).

    Computed by :func:`experiments.analysis.final_year` itself (a grouped mean, whose
    last bit can differ from ``Series.mean``), so the numbers are exactly those a sweep's
    report reads for the same run.
    """
    keys = {"run_id": "run", "point": 0, "point_label": "", "strategy": "", "replicate": 0}
    if "step" not in frame.columns:
        frame = frame.assign(step=range(1, len(frame) + 1))
    row = final_year(frame.assign(**keys), weeks).iloc[0]
    return {o.name: float(row[o.name]) for o in OUTCOMES if o.metric in frame.columns}


def evaluate(
    params: Any = None,
    steps: int = 520,
    replicate: int = 0,
    seed: int = 0,
    **overrides: Any,
) -> dict[str, float]:
    """Run the model once and return its final-year outcomes.

    Args:
        params: A :class:`model.parameters.Parameters`, a dict of parameter values
            (resolved with :meth:`Parameters.resolve`: defaults, scenario, values), or
            None for the defaults.
        steps: Weeks to run.
        replicate: Replicate index ``r`` (the spawn key).
        seed: Root entropy (a sweep's ``seed``).
        **overrides: More parameter values (applied after ``params``).

    Returns:
        ``{outcome: value}`` for every outcome of :data:`experiments.analysis.OUTCOMES`
        (final-year unmet share, cumulative unmet hours, residents with unmet need,
        weekly spend, cost per met hour, active volunteers).

    Raises:
        ValueError: For an unknown parameter or a value out of range.
    """
    from model.civic_model import CivicModel
    from model.parameters import Parameters

    if isinstance(params, Parameters):
        values = params.as_dict()
        values.pop("seed", None)
        p = Parameters.resolve(**{**values, **overrides})
    else:
        p = Parameters.resolve(**{**dict(params or {}), **overrides})
    if int(steps) < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    sequence = np.random.SeedSequence(int(seed), spawn_key=(int(replicate),))
    frame = CivicModel(p, seed_sequence=sequence).run(int(steps))
    return final_outcomes(frame)
