"""Scenarios: named, documented presets of parameters (MODEL.md section 6).

A scenario is only a set of parameter values applied on top of the calibrated
defaults; anything set explicitly by the user wins over the preset. Register a new
one with :func:`register_scenario` and it appears in the CLI, experiment specs and
the workshop page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from model.parameters import PARAMETER_FIELDS, bind_choices
from model.registry import Registry


@dataclass(frozen=True)
class Scenario:
    """A named preset of parameter values.

    Attributes:
        name: Registry name (used on the command line and in specs).
        title: Short plain-language title for the workshop page.
        description: What the preset represents and why its values.
        values: Parameter values the preset sets.
    """

    name: str
    title: str
    description: str
    values: dict[str, Any] = field(default_factory=dict)


#: The registered scenarios by name; ``Parameters`` takes its ``scenario`` names from here.
SCENARIOS: Registry[Scenario] = Registry("scenario", lookup_name="parameter 'scenario'")
bind_choices("scenarios", SCENARIOS)


def register_scenario(scenario: Scenario, *, replace: bool = False) -> Scenario:
    """Add a scenario to the registry.

    Args:
        scenario: The preset to add.
        replace: Allow replacing an existing preset of the same name.

    Returns:
        The scenario, so the call can be used as an expression.

    Raises:
        ValueError: If the name is taken (and ``replace`` is false) or a value names an
            unknown parameter.
    """
    for key in scenario.values:
        if key not in PARAMETER_FIELDS or key in ("scenario", "seed"):
            raise ValueError(f"scenario '{scenario.name}' sets unknown parameter '{key}'")
    return SCENARIOS.add(scenario.name, scenario, replace=replace)


def get_scenario(name: str) -> Scenario:
    """Look a scenario up by name; ValueError lists the allowed names."""
    return SCENARIOS.get(name)


def scenario_names() -> list[str]:
    """Registered scenario names, in registration order."""
    return SCENARIOS.names()


register_scenario(
    Scenario(
        "baseline",
        "Baseline",
        "Calibrated defaults: flat real-terms budget, older population +1% a year, "
        "average civic potential.",
    )
)
register_scenario(
    Scenario(
        "steady_state",
        "Steady state",
        "No growth of the older population and a flat budget: the model's own steady state, "
        "against which the start is checked (nothing should drift).",
        {"older_growth_rate": 0.0},
    )
)
register_scenario(
    Scenario(
        "austerity",
        "Austerity",
        "The care budget falls 2% a year in real terms (IFS: about -18% per resident since "
        "2010-11), so about 3% a year per older resident as the population grows.",
        {"budget_cut_rate": 0.02},
    )
)
register_scenario(
    Scenario(
        "ageing_wave",
        "Ageing wave",
        "ONS 2020-based projections: the older population grows about 1.5% a year and the "
        "85+ about 2.5% a year (1.7m to 3.1m by 2045), because today's 65-84 are the large "
        "post-war cohorts: the start has about England's age structure (85+ about 13%), younger "
        "than a stable population, and it ages. Unchanged budget.",
        {"older_growth_rate": 0.015, "cohort_growth_excess": 0.015},
    )
)
register_scenario(
    Scenario(
        "asset_rich",
        "Asset-rich community",
        "High civic potential and engaged local businesses: many people willing to help.",
        {"civic_potential": 0.8, "business_engagement_mean": 0.45},
    )
)
register_scenario(
    Scenario(
        "asset_poor",
        "Asset-poor community",
        "Little civic potential and few engaged businesses: facilitation has little to work with.",
        {"civic_potential": 0.15, "business_engagement_mean": 0.15},
    )
)
register_scenario(
    Scenario(
        "business_shock",
        "Business shock",
        "In year 2 an extra 40% of local businesses close (a recession or high-street "
        "collapse); some closures become community-owned assets.",
        {"shock_closure_share": 0.4, "shock_year": 2},
    )
)
