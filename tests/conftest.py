"""Fixtures shared by the test files."""

import sys

import pytest

from model import metrics, plugins, scenarios, strategies

#: Modules that tests import from outside the package (plugins, tutorial solutions).
_EXTENSION_MODULES = ("student_plugin", "tutorial_solution_", "civic_sim_plugin_")


@pytest.fixture
def registries():
    """Restore the strategy, scenario and metric registries and the loaded plugins after
    the test, so what one test registers never leaks into another."""
    saved = [
        (registry, dict(registry))
        for registry in (strategies._STRATEGIES, scenarios._SCENARIOS, metrics._METRICS)
    ]
    loaded = set(plugins._loaded)
    modules = set(sys.modules)
    yield
    for registry, copy in saved:
        registry.clear()
        registry.update(copy)
    plugins._loaded.clear()
    plugins._loaded.update(loaded)
    for name in set(sys.modules) - modules:
        if name.startswith(_EXTENSION_MODULES):
            del sys.modules[name]
