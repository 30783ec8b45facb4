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
    # CivicModel is imported lazily so that registries can be used without Mesa's import
    # cost (and its side effect on the multiprocessing start method).
    if name == "CivicModel":
        from model.civic_model import CivicModel

        return CivicModel
    raise AttributeError(name)
