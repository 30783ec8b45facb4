"""The core's shape: no import knots, one registry class, one definition of each quantity.

* ``model/parameters.py`` imports nothing of the package, and the modules of ``model/``
  and ``agents/`` import each other without a cycle (deferred imports inside functions
  count too), so ``model/__init__.py`` needs no lazy ``__getattr__``.
* Strategies, scenarios and metrics are each a :class:`model.registry.Registry`.
* Unmet hours have one definition (``agents.resident.unmet_hours``): the compiled copy
  agrees with it, and the metrics, the map layer, a resident agent and the page's view all
  give its numbers. Spend lines have one definition (``model.strategies.Spending``).
"""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agents import resident
from model import kernels, metrics, scenarios, strategies
from model.civic_model import CivicModel
from model.registry import Registry
from model.strategies import CARE_LINES, FACILITATION_LINES, SPEND_LINES, Spending, SpendPlan
from workshop import state

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("model", "agents")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))}


def imports_of(name: str) -> set[str]:
    """Modules of the package that ``name`` imports anywhere (not under TYPE_CHECKING)."""
    found: set[str] = set()

    class Visitor(ast.NodeVisitor):
        def visit_If(self, node):
            if not (isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"):
                self.generic_visit(node)

        def visit_Import(self, node):
            found.update(alias.name for alias in node.names)

        def visit_ImportFrom(self, node):
            if node.module and not node.level:
                for alias in node.names:
                    full = f"{node.module}.{alias.name}"
                    found.add(full if full in MODULES else node.module)

    Visitor().visit(ast.parse(MODULES[name].read_text(encoding="utf-8")))
    return {m for m in found if m in MODULES and m != name}


def test_parameters_is_a_leaf():
    assert imports_of("model.parameters") == set()
    source = MODULES["model.parameters"].read_text(encoding="utf-8")
    assert "import model" not in source and "from model" not in source
    assert "from agents" not in source and "from experiments" not in source


def test_the_package_imports_without_a_cycle_and_without_a_lazy_getattr():
    graph = {name: imports_of(name) for name in MODULES}
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        if name in path:
            cycle = " -> ".join(path[path.index(name) :] + [name])
            raise AssertionError(f"import cycle: {cycle}")
        if name in done:
            return
        for other in sorted(graph[name]):
            visit(other, [*path, name])
        done.add(name)

    for name in sorted(graph):
        visit(name, [])
    assert "__getattr__" not in MODULES["model"].read_text(encoding="utf-8")


# --- the registry ---------------------------------------------------------------------------
def test_a_registry_keeps_names_in_order_and_says_what_is_allowed():
    colours = Registry("colour", lookup_name="parameter 'colour'", identifiers=True)
    colours.add("red", 1)
    colours.add("blue", 2)
    assert colours.names() == ["red", "blue"] and list(colours) == ["red", "blue"]
    assert colours.get("blue") == 2 and "red" in colours and len(colours) == 2
    with pytest.raises(ValueError, match="parameter 'colour' must be one of red, blue, got 'g'"):
        colours.get("g")
    with pytest.raises(ValueError, match="colour 'red' is already registered"):
        colours.add("red", 3)
    assert colours.add("red", 3, replace=True) == 3
    with pytest.raises(ValueError, match="colour name 'dark red' must be an identifier"):
        colours.add("dark red", 4)
    saved = colours.snapshot()
    colours.add("green", 5)
    colours.remove("red")
    assert colours.names() == ["blue", "green"]
    colours.restore(saved)
    assert colours.items() == {"red": 3, "blue": 2}


def test_strategies_scenarios_and_metrics_are_registries():
    for registry in (strategies.STRATEGIES, scenarios.SCENARIOS, metrics.METRICS):
        assert isinstance(registry, Registry)
    assert strategies.strategy_names() == strategies.STRATEGIES.names()
    assert scenarios.scenario_names() == scenarios.SCENARIOS.names()
    assert metrics.metric_names() == metrics.METRICS.names()
    assert scenarios.get_scenario("austerity") is scenarios.SCENARIOS.get("austerity")


# --- one definition of unmet hours ----------------------------------------------------------
hours = st.floats(min_value=0.0, max_value=200.0, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(st.tuples(hours, hours, hours, hours, hours, hours, hours))
def test_the_compiled_unmet_hours_are_the_rule(values):
    assert kernels.unmet_of(*values) == tuple(float(v) for v in resident.unmet_hours(*values))


@pytest.fixture(scope="module")
def ran():
    model = CivicModel(strategy="hybrid", residents=600, seed=9)
    model.run(30)
    return model


def test_every_count_of_unmet_need_is_the_rule(ran):
    r = ran.residents
    personal, low = resident.unmet_hours(
        r.need_personal, r.need_low, r.fam_personal, r.fam_low, r.paid_personal, r.vol_low,
        r.biz_low,
    )  # fmt: skip
    unmet = personal + low
    assert unmet[r.live].sum() > 0
    last = ran.metrics_frame().iloc[-1]
    assert last["unmet_personal_hours"] == pytest.approx(personal.sum(), rel=1e-12)
    assert last["unmet_low_level_hours"] == pytest.approx(low.sum(), rel=1e-12)
    assert last["unmet_hours"] == pytest.approx(unmet.sum(), rel=1e-12)
    np.testing.assert_array_equal(metrics.unmet_hours_of(ran), unmet)
    # the map layer: unmet hours summed per cell
    layer = np.zeros(ran.grid.dimensions)
    np.add.at(layer, (r.x[r.live], r.y[r.live]), unmet[r.live])
    np.testing.assert_allclose(ran.grid.unmet_need.data, layer, rtol=1e-12, atol=1e-12)
    # the page's view and a resident agent
    need, shown = state.resident_hours(ran)
    np.testing.assert_array_equal(shown, unmet[r.live])
    np.testing.assert_array_equal(need, (r.need_personal + r.need_low)[r.live])
    slot = int(r.live[np.argmax(unmet[r.live])])
    assert r.agent[slot].unmet_hours == pytest.approx(unmet[slot], rel=1e-12)


# --- one definition of the spend lines ------------------------------------------------------
def test_spend_lines_are_one_definition_shared_by_plans_spending_and_metrics(ran):
    assert SPEND_LINES == (*CARE_LINES, *FACILITATION_LINES) == (
        "paid_care", "care_homes", "coordinators", "volunteer_support", "outreach",
        "grants", "carer_support",
    )  # fmt: skip
    assert isinstance(SpendPlan(), Spending) and isinstance(ran.week.spent, Spending)
    with pytest.raises(TypeError):
        SpendPlan(100.0, 3)  # keyword-only: a positional floor cannot land on a money line
    last = ran.metrics_frame().iloc[-1]
    spent = ran.week.spent
    for line in SPEND_LINES:
        assert last[f"spend_{line}"] == getattr(spent, line)
    assert last["spend_facilitation"] == spent.facilitation
    assert spent.care == spent.paid_care + spent.care_homes
    assert (
        last["spend_total"]
        == spent.total
        == pytest.approx(sum(getattr(spent, line) for line in SPEND_LINES))
    )
    assert spent.facilitation > 0 and spent.total <= last["budget"] * (1 + 1e-9)


# --- the same numbers on every Python -------------------------------------------------------
#: Builtin sum() calls in the model that add integers (counts) or feed only a tolerance
#: check, where the last bit cannot matter.
SUM_ALLOWED = {
    ("model.metrics", "share_with_any_need"),  # level counts
    ("model.parameters", "_validate_cross_field"),  # shares add to 1 within 1e-6
    ("model.checks", "_balance"),  # need = met + unmet within a tolerance
}


def test_the_model_adds_floats_the_same_way_on_every_python():
    # sum() of floats is compensated from Python 3.12 on (sum((0.4, 0.3, 0.2, 0.1)) is
    # 0.9999999999999999 on 3.11 and 1.0 on 3.12+): model code uses math.fsum, numpy
    # or explicit addition instead
    found = set()
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for func in ast.walk(tree):
            if not isinstance(func, ast.FunctionDef):
                continue
            for node in ast.walk(func):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id == "sum"
                ):
                    found.add((name, func.name))
    assert found <= SUM_ALLOWED, f"builtin sum() in {sorted(found - SUM_ALLOWED)}"
