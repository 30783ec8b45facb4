"""The civic-sim model: parameters, scenarios, strategies, metrics and the Mesa model."""

from model.parameters import Parameters
from model.scenarios import Scenario, register_scenario
from model.strategies import SpendPlan, Strategy, register_strategy

__all__ = [
    "CivicModel",
    "Parameters",
    "Scenario",
    "SpendPlan",
    "Strategy",
    "register_scenario",
    "register_strategy",
]


def __getattr__(name):
    # CivicModel is imported lazily: model.civic_model imports other modules of this
    # package, so importing it here at the top would be circular.
    if name == "CivicModel":
        from model.civic_model import CivicModel

        return CivicModel
    raise AttributeError(name)
