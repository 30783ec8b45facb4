"""The civic-sim model: parameters, scenarios, strategies, metrics and the Mesa model."""

from model.civic_model import CivicModel
from model.parameters import Parameters, register_parameter
from model.registry import Registry
from model.scenarios import Scenario, register_scenario
from model.strategies import SpendPlan, Strategy, register_strategy

__all__ = [
    "CivicModel",
    "Parameters",
    "Registry",
    "Scenario",
    "SpendPlan",
    "Strategy",
    "register_parameter",
    "register_scenario",
    "register_strategy",
]
