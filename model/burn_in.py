"""The burn-in: simulated years under today's policy before week 0 (ODD 5.8).

The world is built from data (ages, need, family carers, ties, volunteers), but those
draws are made independently of each other, while the weekly rules tie them together:
need migrates to those without carers, carers of the neediest break down, the neediest
move into care homes, volunteers settle. So before the strategies split, the model runs
``burn_in_weeks`` weeks under today's policy -- direct delivery at the calibrated budget,
no cut, no business shock -- and every strategy (and every budget level) of one seed then
starts from that same state: common random numbers across strategies, and trends over the
run that come from the scenario rather than from an unbalanced start.

The burn-in's weeks are numbered t = -burn_in_weeks + 1, ..., 0 (the counter-based draws
use those numbers) and are not collected: week 1 is the first row of the output.
"""

from __future__ import annotations

import time

from model.strategies import get_strategy

#: What the burn-in sets, whatever the run asks for: today's policy. The older population
#: grows as the run says (``older_growth_rate`` shapes the stable start, ODD 5.3), and the
#: community (civic potential, businesses) is the run's own.
TODAYS_POLICY = {
    "strategy": "direct",
    "budget_scale": 1.0,
    "budget_cut_rate": 0.0,
    "shock_closure_share": 0.0,
}


def burn_in_parameters(params):
    """The run's parameters with the policy of :data:`TODAYS_POLICY` and every lever a
    strategy could change (the facilitation shares and safety net do nothing under direct
    delivery; ``eligibility_threshold`` and ``package_cap_share`` are set back to their
    defaults)."""
    from model.parameters import PARAMETER_FIELDS

    reset = dict(TODAYS_POLICY)
    for name in ("eligibility_threshold", "package_cap_share"):
        reset[name] = PARAMETER_FIELDS[name].default
    return params.replace(**reset)


def run(model) -> None:
    """Run the burn-in weeks on ``model`` (built, not yet collecting), then hand it to the
    run's parameters and strategy at week 0."""
    run_params, run_strategy = model.p, model.strategy
    weeks = run_params.burn_in_weeks
    model.p = burn_in_parameters(run_params)
    model.strategy = get_strategy("direct")
    start = time.perf_counter()
    agent_steps = 0
    try:
        for t in range(-weeks + 1, 1):
            model.t = t
            model.advance_week()
            agent_steps += len(model.agents)
    finally:
        model.p, model.strategy = run_params, run_strategy
    model.t = 0
    #: What the burn-in cost: seconds, and agent-steps (every Mesa agent, every week).
    model.burn_in_seconds = time.perf_counter() - start
    model.burn_in_agent_steps = agent_steps
