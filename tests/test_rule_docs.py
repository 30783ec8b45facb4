"""Every rule in agents/ documents its formula's parameters with their current defaults
and points to its ODD section, so the docstring a student reads never drifts."""

import inspect
import re

import pytest

from agents import business, carer, hub, resident, volunteer
from model.parameters import PARAMETER_FIELDS

MODULES = (resident, volunteer, hub, business, carer)
DEFAULT = re.compile(r"``(\w+)`` = (\([^)]*\)|[-+\d.e]+)")


def rules():
    for module in MODULES:
        for name, func in inspect.getmembers(module, inspect.isfunction):
            if func.__module__ == module.__name__ and not name.startswith("_"):
                yield f"{module.__name__}.{name}", func


def _value(text):
    text = text.strip()
    if text.startswith("("):
        return tuple(float(x) for x in text.strip("()").split(","))
    return float(text.rstrip("."))  # the list ends with a full stop


@pytest.mark.parametrize("name, func", list(rules()))
def test_rule_defaults_in_the_docstring_match_the_parameters(name, func):
    doc = inspect.getdoc(func)
    uses = set(re.findall(r"\bp\.(\w+)", inspect.getsource(func)))
    if not uses:
        return  # a rule without parameters (e.g. the weekly conversion)
    assert "Defaults:" in doc, f"{name} uses {sorted(uses)} but lists no defaults"
    listed = dict(DEFAULT.findall(doc.split("Defaults:")[1]))
    assert uses <= set(listed), f"{name}: defaults missing for {sorted(uses - set(listed))}"
    for param, text in listed.items():
        default = PARAMETER_FIELDS[param].default
        expected = tuple(float(x) for x in default) if isinstance(default, tuple) else default
        assert _value(text) == pytest.approx(expected), f"{name}: {param} is {default}"


def test_every_module_of_rules_points_to_the_odd():
    for module in MODULES:
        text = inspect.getsource(module)
        assert re.search(r"ODD \d(\.\d)?", text), module.__name__
