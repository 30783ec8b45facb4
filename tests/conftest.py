"""Fixtures shared by the test files, and the check that no test leaks into the next.

Registries, plugin parameters, loaded plugins and the rule functions of ``agents/`` and
``model/`` are process-wide: a test that registers a strategy or swaps a rule (as the
tutorial teaches) and does not put it back would change every later test. So after *every* test,
:func:`_nothing_leaks` compares that shared state with what it was before the test and
fails the test that changed it, naming what changed. Tests that register or swap
things use the ``registries`` fixture (and ``monkeypatch``), which put them back.
"""

from __future__ import annotations

import inspect
import sys
from typing import Any

import pytest

from model import metrics, parameters, plugins, scenarios, strategies

#: Modules that tests import from outside the package (plugins, tutorial solutions).
_EXTENSION_MODULES = ("student_plugin", "tutorial_solution_", "civic_sim_plugin_")

REGISTRIES = (strategies.STRATEGIES, scenarios.SCENARIOS, metrics.METRICS)
#: Packages whose module-level functions (the rules and the phases) a test may swap.
RULE_PACKAGES = ("agents", "model")


def shared_state() -> dict[str, Any]:
    """What tests share within the process: registries, plugin parameters, loaded plugins,
    rule functions."""
    rules = {}
    for name, module in list(sys.modules.items()):
        if module is None or name.split(".")[0] not in RULE_PACKAGES:
            continue
        for attr, value in list(vars(module).items()):
            if inspect.isfunction(value):
                rules[f"{name}.{attr}"] = value
    return {
        "registries": {registry.kind: registry.snapshot() for registry in REGISTRIES},
        "plugins": set(plugins._loaded),
        "parameters": set(parameters.PARAMETER_FIELDS),
        "rules": rules,
    }


def changes(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """What changed between two :func:`shared_state` readings, in words."""
    found = []
    for kind, was in before["registries"].items():
        now = after["registries"][kind]
        added = [name for name in now if name not in was]
        removed = [name for name in was if name not in now]
        replaced = [name for name in was if name in now and now[name] != was[name]]
        for words, names in (("added", added), ("removed", removed), ("replaced", replaced)):
            if names:
                found.append(f"{kind} {words}: {', '.join(names)}")
    for words, names in (
        ("added", after["parameters"] - before["parameters"]),
        ("removed", before["parameters"] - after["parameters"]),
    ):
        if names:
            found.append(f"parameters {words}: {', '.join(sorted(names))}")
    if after["plugins"] != before["plugins"]:
        found.append(f"plugins loaded: {', '.join(sorted(after['plugins'] - before['plugins']))}")
    swapped = [
        name
        for name, func in before["rules"].items()
        if name in after["rules"] and after["rules"][name] is not func
    ]
    if swapped:
        found.append(f"functions replaced: {', '.join(sorted(swapped))}")
    return found


@pytest.fixture(autouse=True)
def _nothing_leaks(request):
    """Fail a test that leaves a registry, the loaded plugins or a rule changed."""
    before = shared_state()
    yield
    leaked = changes(before, shared_state())
    if leaked:
        pytest.fail(
            f"{request.node.nodeid} left shared state changed (use the 'registries' "
            f"fixture or monkeypatch): {'; '.join(leaked)}",
            pytrace=False,
        )


@pytest.fixture
def registries():
    """Restore the strategy, scenario and metric registries, the parameters plugins
    registered and the loaded plugins after the test, so what one test registers never
    leaks into another."""
    saved = [(registry, registry.snapshot()) for registry in REGISTRIES]
    mappings = [
        (mapping, dict(mapping))
        for mapping in (parameters.PLUGIN_PARAMETERS, parameters.PARAMETER_FIELDS, plugins._loaded)
    ]
    modules = set(sys.modules)
    yield
    for registry, snapshot in saved:
        registry.restore(snapshot)
    for mapping, copy in mappings:
        mapping.clear()
        mapping.update(copy)
    for name in set(sys.modules) - modules:
        if name.startswith(_EXTENSION_MODULES):
            del sys.modules[name]
