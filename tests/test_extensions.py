"""Extensions from outside the package reach the model, the CLI and experiment specs.

A plugin file written to a scratch folder (so it is certainly outside the package)
registers a strategy, a scenario and a metric. The tests check the registries and the
hooks in-process, then run ``civic-sim`` in a subprocess exactly as a student would:
``--plugin PATH list``, ``--plugin PATH run ...``, ``CIVIC_SIM_PLUGINS`` and a spec's
``plugins = [...]``. The ``registries`` fixture restores every registry afterwards.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from model import CivicModel, Parameters, metrics, plugins, scenarios, strategies
from model.scenarios import Scenario, register_scenario
from model.strategies import SpendPlan, Strategy, register_strategy

ROOT = Path(__file__).resolve().parent.parent

PLUGIN = textwrap.dedent(
    '''
    """A student's extension: a strategy, a scenario and a metric."""

    from model import Scenario, SpendPlan, Strategy, register_scenario, register_strategy
    from model.metrics import ratio, register_metric


    @register_strategy
    class OutreachOnly(Strategy):
        """Keep the safety net; spend everything else on outreach."""

        name = "outreach_only"
        title = "Outreach only"
        description = "Safety net for critical care; the rest of the budget on outreach."

        def plan(self, model, budget):
            safety = budget * model.p.safety_net_share
            return SpendPlan(paid_care=safety, eligibility_floor=4, outreach=budget - safety)


    register_scenario(
        Scenario("tiny_town", "Tiny town", "A close-knit small town.", {"civic_potential": 0.7}),
        replace=True,
    )

    register_metric(
        "volunteers_per_100",
        lambda m: 100 * ratio(m.volunteers.count, m.residents.count),
        "Active volunteers per 100 older residents",
        replace=True,
    )
    '''
)


@pytest.fixture
def plugin_file(tmp_path) -> Path:
    path = tmp_path / "student_plugin.py"
    path.write_text(PLUGIN, encoding="utf-8")
    return path


def civic_sim(*args, cwd, env_extra=None) -> subprocess.CompletedProcess:
    """Run the ``civic-sim`` command line in a subprocess (the installed entry point)."""
    env = {k: v for k, v in os.environ.items() if k != plugins.ENV_VAR}
    env.update(env_extra or {})
    return subprocess.run(
        [sys.executable, "-m", "experiments.cli", *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


# --- registries and hooks, in-process ----------------------------------------------------------
def test_plugin_registers_everywhere_and_cleanup_removes_it(registries, plugin_file):
    plugins.load_plugins([str(plugin_file)])
    assert "outreach_only" in strategies.strategy_names()
    assert "tiny_town" in scenarios.scenario_names()
    assert "volunteers_per_100" in metrics.metric_names()
    params = Parameters.resolve(scenario="tiny_town", strategy="outreach_only", residents=300)
    assert params.civic_potential == 0.7
    frame = CivicModel(params, seed=1).run(10)
    assert "volunteers_per_100" in frame.columns
    assert (frame["spend_paid_care"] <= frame["budget"] * params.safety_net_share + 1e-6).all()
    assert (frame["spend_outreach"] > 0).all()
    # loading it again (by the same path) is harmless
    plugins.load_plugins([str(plugin_file)])


def test_a_test_that_leaked_would_fail_after_it(registries, plugin_file, monkeypatch):
    # conftest's check after every test compares this shared state before and after
    from conftest import changes, shared_state

    from agents import resident

    before = shared_state()
    plugins.load_plugins([str(plugin_file)])
    monkeypatch.setattr(resident, "family_care", lambda personal, low, hours: (0 * low, low))
    found = "; ".join(changes(before, shared_state()))
    assert "strategy added: outreach_only" in found
    assert "scenario added: tiny_town" in found
    assert "metric added: volunteers_per_100" in found
    assert "plugins loaded: " in found and "student_plugin.py" in found
    assert "functions replaced: agents.resident.family_care" in found
    assert changes(before, before) == []
    # ('registries' and monkeypatch put it all back, or this very test would fail after it)


def test_plugins_from_the_environment(registries, plugin_file, monkeypatch):
    monkeypatch.setenv(plugins.ENV_VAR, str(plugin_file))
    names = plugins.load_plugins()
    assert str(plugin_file) in names
    assert "outreach_only" in strategies.strategy_names()


def test_a_missing_plugin_is_one_clear_error(registries, tmp_path):
    with pytest.raises(ValueError, match="plugin '.*nowhere.py' could not be loaded"):
        plugins.load_plugin(str(tmp_path / "nowhere.py"))


def test_registries_refuse_mistakes(registries):
    class Nameless(Strategy):
        def plan(self, model, budget):
            return SpendPlan()

    with pytest.raises(ValueError, match="needs a 'name'"):
        register_strategy(Nameless)

    class Impostor(Strategy):
        name = "direct"

        def plan(self, model, budget):
            return SpendPlan()

    with pytest.raises(ValueError, match="'direct' is already registered"):
        register_strategy(Impostor)
    assert strategies.strategy_classes()["direct"].__name__ == "DirectDelivery"
    with pytest.raises(ValueError, match="sets unknown parameter 'travel_distance'"):
        register_scenario(Scenario("typo", "Typo", "A misspelt parameter.", {"travel_distance": 4}))
    with pytest.raises(ValueError, match="already registered"):
        metrics.register_metric("unmet_share", lambda m: 0.0, "a clash")
    with pytest.raises(ValueError, match="identifier"):
        metrics.register_metric("unmet share", lambda m: 0.0, "not an identifier")


def test_after_week_runs_once_a_week_after_the_phases_before_collection(registries):
    calls = []

    @register_strategy
    class Recorder(Strategy):
        name = "recorder"

        def plan(self, model, budget):
            return SpendPlan(paid_care=budget, eligibility_floor=3)

        def after_week(self, model):
            # the week's care has been delivered: the hours are already there
            calls.append((model.steps, float(model.residents.fam_personal.sum())))

    metrics.register_metric("after_week_calls", lambda m: len(calls), "calls so far")
    frame = CivicModel(strategy="recorder", residents=300, seed=2).run(5)
    assert [week for week, _ in calls] == [1, 2, 3, 4, 5]
    assert all(family > 0 for _, family in calls)
    assert frame["after_week_calls"].tolist() == [1, 2, 3, 4, 5]


def test_add_column_follows_residents_as_they_come_and_go(registries):
    model = CivicModel(strategy="direct", residents=300, seed=3)
    r = model.residents
    r.add_column("credits", np.float64, 0.0)
    r.add_column("credits", np.float64, 99.0)  # a second call is a no-op
    assert (r.credits == 0).all()
    first = r.live.copy()
    here_at_week_0 = r.person_id[first].copy()  # the burn-in's arrivals among them
    r.credits[first] = 5.0
    model.run(104)  # deaths free slots; arrivals reuse them and grow the arrays
    assert r.credits.shape == r.alive.shape
    assert (r.credits[~r.alive] == 0).all()  # freed slots are reset
    survivors = np.intersect1d(first, r.live)
    born_here = np.isin(r.person_id[survivors], here_at_week_0)
    assert (r.credits[survivors[born_here]] == 5.0).all()
    newcomers = r.live[~np.isin(r.person_id[r.live], here_at_week_0)]
    assert newcomers.size > 0 and (r.credits[newcomers] == 0).all()


# --- the command line --------------------------------------------------------------------------
def test_cli_list_shows_what_a_plugin_registered(plugin_file, tmp_path):
    done = civic_sim("--plugin", plugin_file, "list", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "outreach_only" in done.stdout and "Outreach only" in done.stdout
    assert "tiny_town" in done.stdout and "civic_potential=0.7" in done.stdout
    assert "volunteers_per_100" in done.stdout
    without = civic_sim("list", cwd=tmp_path)
    assert without.returncode == 0
    assert "outreach_only" not in without.stdout


def test_cli_plugin_by_module_name_after_the_command_and_from_the_environment(
    plugin_file, tmp_path
):
    here = {"PYTHONPATH": str(plugin_file.parent)}
    by_name = civic_sim(
        "list", "strategies", "--plugin", "student_plugin", cwd=ROOT, env_extra=here
    )
    assert by_name.returncode == 0, by_name.stderr
    assert "outreach_only" in by_name.stdout
    by_env = civic_sim(
        "list", "scenarios", cwd=tmp_path, env_extra={plugins.ENV_VAR: str(plugin_file)}
    )
    assert by_env.returncode == 0, by_env.stderr
    assert "tiny_town" in by_env.stdout


def test_cli_run_with_a_plugin_strategy_scenario_and_metric(plugin_file, tmp_path):
    out = tmp_path / "run.csv"
    done = civic_sim(
        "--plugin",
        plugin_file,
        "run",
        "--strategy",
        "outreach_only",
        "--scenario",
        "tiny_town",
        "--steps",
        26,
        "--residents",
        400,
        "--seed",
        7,
        "--out",
        out,
        "--check",
        "--no-progress",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "outreach_only / tiny_town" in done.stdout
    frame = pd.read_csv(out)
    assert len(frame) == 26
    np.testing.assert_allclose(
        frame["volunteers_per_100"], 100 * frame["active_volunteers"] / frame["residents"]
    )
    assert (frame["spend_outreach"] > 0).all()
    # the CLI ran exactly the model the Python API runs (in a fresh interpreter too, so
    # both see the same code even if the source changed while the suite was running)
    api = tmp_path / "api.csv"
    script = (
        "import sys; from model import CivicModel; from model.plugins import load_plugins; "
        "load_plugins([sys.argv[1]]); "
        "CivicModel(strategy='outreach_only', scenario='tiny_town', residents=400, seed=7)"
        ".run(26).to_csv(sys.argv[2], index=False)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(plugin_file), str(api)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    expected = pd.read_csv(api)
    for column in ("unmet_hours", "active_volunteers", "volunteers_per_100", "spend_outreach"):
        np.testing.assert_allclose(frame[column], expected[column], rtol=1e-9)


def test_cli_without_the_plugin_names_the_allowed_strategies(tmp_path):
    done = civic_sim("run", "--strategy", "outreach_only", "--steps", 2, cwd=tmp_path)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "strategy" in done.stderr and "direct" in done.stderr
    missing = civic_sim("--plugin", tmp_path / "nowhere.py", "list", cwd=tmp_path)
    assert missing.returncode == 2
    assert "--plugin" in missing.stderr and "nowhere.py" in missing.stderr
    assert "Traceback" not in missing.stderr


SPEC = """
name = "student"
plugins = ["student_plugin.py"]
strategies = ["direct", "outreach_only"]
replicates = 2
steps = 26
seed = 42
metrics = ["unmet_share", "active_volunteers", "spend_outreach", "volunteers_per_100"]

[fixed]
residents = 400
"""


def _sweep(spec_text: str, tmp_path: Path) -> tuple[subprocess.CompletedProcess, Path]:
    spec = tmp_path / "student.toml"
    spec.write_text(spec_text, encoding="utf-8")
    out = tmp_path / "results"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()  # the plugin path is relative to the spec, not the working folder
    done = civic_sim(
        "sweep", spec, "--executor", "serial", "--out", out, "--no-progress", cwd=elsewhere
    )
    return done, out


def test_cli_sweep_of_a_spec_that_names_the_plugin(plugin_file, tmp_path):
    done, out = _sweep(SPEC + "civic_potential = 0.7\n", tmp_path)
    assert done.returncode == 0, done.stderr
    runs = pd.read_parquet(out / "runs")
    assert set(runs["strategy"]) == {"direct", "outreach_only"}
    assert runs.groupby("strategy")["replicate"].nunique().tolist() == [2, 2]
    assert "volunteers_per_100" in runs.columns
    assert runs["volunteers_per_100"].notna().all()
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert any(p["name"].endswith("student_plugin.py") for p in manifest["plugins"])
    assert all(len(p["sha256"]) == 64 for p in manifest["plugins"])
    # the plugin's strategy really ran: only it spends on outreach
    outreach = runs.groupby("strategy")["spend_outreach"].min()
    assert (
        outreach["outreach_only"] > 0
        and runs.loc[runs["strategy"] == "direct", "spend_outreach"].eq(0).all()
    )


def test_cli_sweep_of_a_spec_using_a_plugin_scenario(plugin_file, tmp_path):
    done, out = _sweep(SPEC + 'scenario = "tiny_town"\n', tmp_path)
    assert done.returncode == 0, done.stderr
    runs = pd.read_parquet(out / "runs")
    assert set(runs["scenario"]) == {"tiny_town"}


# --- parameters registered by plugins -----------------------------------------------------------
PARAMETER_PLUGIN = textwrap.dedent(
    '''
    """A student's switches: a number with a plausible range, a true/false and a name."""

    from model import register_parameter
    from model.metrics import register_metric

    register_parameter(
        "hub_warmth", 0.5, range=(0.0, 1.0), kind="invented",
        doc="How welcoming the hub feels (0-1)", reason="a guess", replace=True,
    )
    register_parameter(
        "night_visits", False, kind="lever", doc="The council pays for night visits",
        replace=True,
    )
    register_parameter(
        "visit_rule", "shipped", kind="invented", choices=("shipped", "lonely_first"),
        doc="Which visiting rule", replace=True,
    )
    register_metric(
        "warmth_seen", lambda m: m.p.hub_warmth + m.p.night_visits, "Switches, as seen",
        replace=True,
    )
    '''
)


@pytest.fixture
def parameter_plugin(tmp_path) -> Path:
    path = tmp_path / "switches.py"
    path.write_text(PARAMETER_PLUGIN, encoding="utf-8")
    return path


def test_registered_parameters_resolve_validate_and_reach_rules(registries, parameter_plugin):
    plugins.load_plugins([str(parameter_plugin)])
    p = Parameters.resolve()
    assert (p.hub_warmth, p.night_visits, p.visit_rule) == (0.5, False, "shipped")
    p = Parameters.resolve(hub_warmth="0.25", night_visits="yes", visit_rule="lonely_first")
    assert (p.hub_warmth, p.night_visits, p.visit_rule) == (0.25, True, "lonely_first")
    for bad, message in (
        ({"hub_warmth": 1.5}, "'hub_warmth' must be a number from 0 to 1, got 1.5"),
        ({"night_visits": "maybe"}, "'night_visits' must be true or false"),
        ({"visit_rule": "other"}, "'visit_rule' must be one of shipped, lonely_first"),
    ):
        with pytest.raises(ValueError, match=message):
            Parameters.resolve(**bad)
    frame = CivicModel(residents=60, seed=1, hub_warmth=0.75, night_visits=True).run(2)
    assert (frame["warmth_seen"] == 1.75).all()  # a metric (or a rule) reads p.<name>


def test_register_parameter_refuses_bad_declarations(registries):
    from model import register_parameter

    for kwargs, message in (
        ({"name": "residents", "default": 1, "range": (0, 2)}, "model's own parameters"),
        ({"name": "x1", "default": 0.5, "range": (0, 1), "kind": "guess"}, "kind must be one"),
        ({"name": "x2", "default": 0.5}, "needs a plausible range"),
        ({"name": "x3", "default": 2.0, "range": (0, 1)}, "must contain the range and default"),
        ({"name": "x4", "default": True, "range": (0, 1)}, "has no range"),
        ({"name": "x5", "default": 0.5, "range": (0, 1), "doc": ""}, "doc must say"),
        ({"name": "2x", "default": 0.5, "range": (0, 1)}, "Python identifier"),
    ):
        kwargs.setdefault("doc", "something")
        with pytest.raises(ValueError, match=message):
            register_parameter(**kwargs)
    register_parameter("x6", 0.5, range=(0.0, 1.0), doc="once")
    with pytest.raises(ValueError, match="already registered"):
        register_parameter("x6", 0.5, range=(0.0, 1.0), doc="twice")


def test_cli_knows_a_plugin_parameter_everywhere(parameter_plugin, tmp_path):
    listed = civic_sim("--plugin", parameter_plugin, "list", "parameters", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "[plugins]" in listed.stdout
    assert "kind: invented; plausible 0 to 1 (a guess); from plugin" in listed.stdout
    ran = civic_sim(
        "--plugin",
        parameter_plugin,
        "run",
        "--residents",
        "60",
        "--steps",
        "2",
        "--set",
        "hub_warmth=0.2",
        "--set",
        "night_visits=true",
        "--no-progress",
        "--out",
        tmp_path / "run.csv",
        cwd=tmp_path,
    )
    assert ran.returncode == 0, ran.stderr
    assert (pd.read_csv(tmp_path / "run.csv")["warmth_seen"] == 1.2).all()
    bad = civic_sim("--plugin", parameter_plugin, "run", "--set", "hub_warmth=3", cwd=tmp_path)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1
    assert "parameter 'hub_warmth' must be a number from 0 to 1, got 3.0" in bad.stderr
    unknown = civic_sim("run", "--set", "hub_warmth=0.2", cwd=tmp_path)  # plugin not loaded
    assert unknown.returncode == 2 and "unknown parameter 'hub_warmth'" in unknown.stderr


def test_a_spec_varies_a_plugin_parameter_and_the_manifest_records_it(parameter_plugin, tmp_path):
    spec = tmp_path / "spec.toml"
    spec.write_text(
        'name = "switches"\nreplicates = 1\nsteps = 3\nseed = 2\nplugins = ["switches.py"]\n'
        "[fixed]\nresidents = 60\nnight_visits = true\n"
        '[design]\ntype = "full_factorial"\n[design.factors]\nhub_warmth = [0.1, 0.9]\n'
    )
    done = civic_sim(
        "sweep",
        spec,
        "--out",
        tmp_path / "out",
        "--executor",
        "serial",
        "--no-progress",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    runs = pd.read_parquet(tmp_path / "out" / "runs")
    assert sorted(runs["param_hub_warmth"].unique()) == [0.1, 0.9]
    assert (runs["param_night_visits"] == True).all()  # noqa: E712
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    params = [r["parameters"] for r in manifest["runs"].values()]
    assert sorted(p["hub_warmth"] for p in params) == [0.1, 0.9]
    assert all(p["night_visits"] is True and p["visit_rule"] == "shipped" for p in params)
    spec.write_text(spec.read_text().replace("[0.1, 0.9]", "[0.1, 1.9]"))
    bad = civic_sim("sweep", spec, "--out", tmp_path / "bad", cwd=tmp_path)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1
    assert "spec.design.factors.hub_warmth[1]: must be a number from 0 to 1" in bad.stderr
    assert not (tmp_path / "bad").exists()
