"""The student tutorial (docs/tutorial.md) never rots.

* Every file the tutorial includes (the worked solutions, the spec) is byte-identical to
  the code block shown, and every worked solution is shown.
* Every Python snippet runs, in order, in one namespace, as a student would paste it.
* Every ``civic-sim`` command in the tutorial runs (on a smaller copy of the spec).
* Each worked solution changes the outcome in the direction the tutorial promises, on
  replicate averages over several seeds (common random numbers).

Registries are process-wide; the ``registries`` fixture restores them (and the plugin
loader's memory) after each test, and conftest's check after every test fails any test
that leaves a registry or a rule changed, so solutions loaded here leak nowhere.
"""

from __future__ import annotations

import importlib.util
import json
import math
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from agents import resident, volunteer
from model import CivicModel, Parameters, strategies
from model.strategies import FacilitatorHub

ROOT = Path(__file__).resolve().parent.parent
TUTORIAL = ROOT / "docs" / "tutorial.md"
TUTORIAL_DIR = ROOT / "docs" / "tutorial"
SOLUTIONS = TUTORIAL_DIR / "solutions"

BLOCK = re.compile(r"(?:<!-- file: (?P<file>\S+) -->\n)?```(?P<lang>\w*)\n(?P<code>.*?)\n```", re.S)


# --- helpers -------------------------------------------------------------------------------


def load_solution(name: str):
    """Import docs/tutorial/solutions/<name>.py (registering what it registers)."""
    module_name = f"tutorial_solution_{name}"
    spec = importlib.util.spec_from_file_location(module_name, SOLUTIONS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def tutorial_blocks() -> list[dict]:
    """Every fenced code block of the tutorial: language, code and included file (if any)."""
    return [m.groupdict() for m in BLOCK.finditer(TUTORIAL.read_text(encoding="utf-8"))]


def last_year(frame: pd.DataFrame, column: str) -> float:
    return float(frame[column].iloc[-52:].mean())


# --- the text ------------------------------------------------------------------------------
def test_included_files_match_the_code_shown():
    included = [b for b in tutorial_blocks() if b["file"]]
    assert included, "the tutorial includes no files"
    for block in included:
        path = ROOT / block["file"]
        assert path.is_file(), f"tutorial includes missing file {block['file']}"
        assert block["code"] + "\n" == path.read_text(encoding="utf-8"), (
            f"the code block for {block['file']} differs from the file; copy the file into "
            "docs/tutorial.md again"
        )


def test_every_worked_solution_and_spec_is_shown():
    shown = {b["file"] for b in tutorial_blocks() if b["file"]}
    files = sorted(SOLUTIONS.glob("*.py")) + sorted(TUTORIAL_DIR.glob("*.toml"))
    assert len(files) >= 5
    for path in files:
        assert str(path.relative_to(ROOT)) in shown, f"{path.name} is not in the tutorial"


def test_each_exercise_says_what_to_change_expect_and_think_about():
    text = TUTORIAL.read_text(encoding="utf-8")
    sections = re.split(r"\n### Exercise ", text)[1:]
    labels = [s[:3] for s in sections]
    assert labels == ["(a)", "(b)", "(c)", "(d)", "(e)"]
    for section in sections:
        body = re.split(r"\n## ", section)[0]
        for heading in ("**What to change.**", "**What to expect.**", "**Think about.**"):
            assert heading in body, f"exercise {body[:3]} lacks {heading}"
        assert "?" in body.split("**Think about.**")[1], "a question to think about"


def test_python_snippets_run_in_order(registries, capsys):
    snippets = [b["code"] for b in tutorial_blocks() if b["lang"] == "python" and not b["file"]]
    assert len(snippets) >= 4
    namespace: dict = {"__name__": "tutorial"}
    for code in snippets:
        exec(compile(code, str(TUTORIAL), "exec"), namespace)  # noqa: S102 - our own docs
    out = capsys.readouterr().out
    assert "invariant 'no negative hours' broken in week 1 for resident #" in out
    assert "invariant: no negative hours | week: 1 | agent: resident #" in out
    assert re.search(r"lonely 1\.0: 0\.\d+ a year", out)
    assert "share_hosting" in out  # the small strategy and metric of section 5 ran
    assert "grants_first" in strategies.strategy_names()  # until the fixture cleans up
    # the snippets put the shipped rules back
    assert resident.family_care.__name__ == "family_care"
    assert volunteer.quits.__module__ == "agents.volunteer"
    shipped, keen = (
        int(n)
        for n in re.findall(
            r"active volunteers after two years: (\d+) shipped, (\d+) with keen newcomers", out
        )[0]
    )
    assert keen > shipped  # nobody quitting in their first year keeps more volunteers


def test_deterioration_snippet_numbers_rise_with_loneliness():
    from agents.resident import deterioration_probability

    p = Parameters.resolve()
    yearly = [
        1 - (1 - deterioration_probability(80.0, 0.0, lonely, 1.0, p)) ** 52
        for lonely in (0.0, 0.5, 1.0)
    ]
    assert yearly[0] < yearly[1] < yearly[2]


def _shell_lines() -> list[str]:
    """Every command of the tutorial's bash blocks, in order."""
    lines = []
    for block in tutorial_blocks():
        if block["lang"] == "bash":
            lines += [
                line.strip()
                for line in block["code"].splitlines()
                if line.strip() and not line.strip().startswith("#")
            ]
    return lines


def _scratch_project(tmp_path: Path) -> Path:
    """A copy of the project folder as a student sees it: the Makefile, pyproject.toml,
    docs/tutorial (its specs cut to 2 replicates of 26 weeks) and the project's .venv."""
    project = tmp_path / "project"
    shutil.copytree(TUTORIAL_DIR, project / "docs" / "tutorial")
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy2(ROOT / name, project / name)  # same times: `make setup` is up to date
    (project / ".venv").symlink_to(ROOT / ".venv")
    for spec in (project / "docs" / "tutorial").glob("*.toml"):
        text = spec.read_text(encoding="utf-8")
        text = re.sub(r"(?m)^steps = \d+$", "steps = 26", text)
        text = re.sub(r"(?m)^replicates = \d+$", "replicates = 2", text)
        text = re.sub(r"(?m)^residents = \d+$", "residents = 400", text)
        spec.write_text(text, encoding="utf-8")
    return project


def test_shell_commands_in_the_tutorial_run_as_written_in_a_fresh_shell(tmp_path):
    """Run the tutorial's shell commands, in order, in one bash started with a bare PATH
    (no venv), in a scratch copy of the project: ``make setup`` and ``source
    .venv/bin/activate`` must be what makes ``civic-sim`` work. Sweeps run serially."""
    lines = _shell_lines()
    assert lines[:2] == ["make setup", "source .venv/bin/activate"]
    commands = [line for line in lines if line.startswith("civic-sim ")]
    assert any(" run " in c for c in commands) and any(" sweep " in c for c in commands)
    assert any("report --compare" in c for c in commands)
    project = _scratch_project(tmp_path)
    script = ["set -e"]
    for line in lines:
        if line.startswith("civic-sim ") and " sweep " in f" {line} ":
            line += " --executor serial --no-progress"
        elif line.startswith("civic-sim ") and " run " in f" {line} ":
            line += " --no-progress"
        script += [f"echo '$ {line}'", line]
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C.UTF-8"}
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-c", "\n".join(script)],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    out = done.stdout
    assert "walking_distance" in out and "two_miles" in out  # list scenarios
    # the plugin's parameter, everywhere: list, --set, the sweep's records
    assert re.search(r"older_quit_rate +0\.0 +a number from 0 to 0\.05", out)
    assert "kind: invented; plausible 0 to 0.05" in out
    assert (project / "first.csv").is_file()
    frame = pd.read_csv(project / "time_bank.csv")
    assert {"time_bank_credits", "time_bank_hours"} <= set(frame.columns)
    assert len(frame) == 104
    assert (project / "results" / "time_bank" / "report.md").is_file()
    runs = pd.read_parquet(project / "results" / "time_bank" / "runs")
    assert set(runs["strategy"]) == {"direct", "facilitator", "time_bank"}
    assert "share_no_volunteer_tie" in runs.columns
    results = project / "results"
    for name, rate in (("shipped_rule", 0.0), ("retiring_rule", 0.03)):
        manifest = json.loads((results / name / "manifest.json").read_text())
        assert {r["parameters"]["older_quit_rate"] for r in manifest["runs"].values()} == {rate}
    compared = (results / "retiring_rule" / "comparison" / "report.md").read_text()
    assert "B instead of A" in compared and "spec.fixed.older_quit_rate" in compared
    assert (
        "data:image/png;base64,"
        in (results / "retiring_rule" / "comparison" / "report.html").read_text()
    )


# --- exercise (a): loneliness ----------------------------------------------------------------
@pytest.mark.slow
def test_lonelier_rule_raises_need_and_widens_the_facilitator_advantage(registries):
    solution = load_solution("lonely_deterioration")
    table = solution.compare(seeds=range(3), residents=1000, steps=156)
    shipped, lonelier = table.loc["shipped"], table.loc["lonelier"]
    shown = f"last-year means over 3 seeds:\n{table.round(3)}"
    for strategy in ("direct", "facilitator"):
        for column in ("need_hours", "unmet_hours", "share_with_any_need"):
            assert lonelier.loc[strategy, column] > shipped.loc[strategy, column], shown
    # visits and activities keep the facilitator's residents better connected ...
    connection = shipped["mean_connection"]
    assert connection["facilitator"] > connection["direct"], shown

    # ... so their need rises less, and the facilitator's advantage grows
    def rise(strategy):
        return lonelier.loc[strategy, "need_hours"] / shipped.loc[strategy, "need_hours"]

    assert rise("facilitator") < rise("direct"), shown

    def advantage(rule):
        return rule.loc["direct", "unmet_hours"] - rule.loc["facilitator", "unmet_hours"]

    assert advantage(lonelier) > advantage(shipped), shown
    assert resident.deterioration_probability.__module__ == "agents.resident"


def test_lonelier_rule_is_the_same_as_a_bigger_loneliness_factor(registries):
    solution = load_solution("lonely_deterioration")
    factor = solution.LONELINESS_WEIGHT * Parameters.resolve().loneliness_factor
    with solution.lonelier_rule():
        by_rule = CivicModel(strategy="facilitator", residents=600, seed=5).run(52)
    by_parameter = CivicModel(
        strategy="facilitator", residents=600, seed=5, loneliness_factor=factor
    ).run(52)
    pd.testing.assert_frame_equal(by_rule, by_parameter)
    shipped = CivicModel(strategy="facilitator", residents=600, seed=5).run(52)
    assert not shipped["need_hours"].equals(by_rule["need_hours"])


# --- exercise (b): the time bank -------------------------------------------------------------
def _member_outcomes(model, weeks):
    """Step the model; return pooled (unmet, lacking) low-level hours of members (credit
    holders) and of other residents, over all weeks."""
    members = np.zeros(2)
    others = np.zeros(2)
    for _ in range(weeks):
        model.step()
        r = model.residents
        live = r.live
        gap = np.maximum(r.need_low[live] - r.fam_low[live], 0.0)
        unmet = np.maximum(gap - r.vol_low[live] - r.biz_low[live], 0.0)
        holds = r.credits[live] > 0
        members += [unmet[holds].sum(), gap[holds].sum()]
        others += [unmet[~holds].sum(), gap[~holds].sum()]
    return members, others


@pytest.mark.slow
def test_time_bank_members_get_more_of_their_need_met(registries):
    solution = load_solution("time_bank")

    class CreditsNeverHonoured(FacilitatorHub):
        """The counterfactual: members bank credits but the bank never pays out."""

        name = "credits_never_honoured"

        def after_week(self, model):
            solution.add_time_bank_columns(model)
            solution.earn_credits(model)

    strategies.register_strategy(CreditsNeverHonoured)
    pooled = {"time_bank": [np.zeros(2), np.zeros(2)], "credits_never_honoured": [np.zeros(2)]}
    earned = redeemed = 0.0
    for seed in range(3):
        bank = CivicModel(strategy="time_bank", residents=3000, seed=seed, check=True)
        members, others = _member_outcomes(bank, 416)
        pooled["time_bank"][0] += members
        pooled["time_bank"][1] += others
        earned += bank.strategy.earned
        redeemed += bank.strategy.redeemed
        assert (bank.residents.credits >= 0).all()
        never = CivicModel(strategy="credits_never_honoured", residents=3000, seed=seed)
        members, _ = _member_outcomes(never, 416)
        pooled["credits_never_honoured"][0] += members

    def unmet_share(hours):
        return hours[0] / hours[1]

    assert pooled["time_bank"][0][1] > 0, "no member ever needed low-level support"
    members_share = unmet_share(pooled["time_bank"][0])
    others_share = unmet_share(pooled["time_bank"][1])
    never_share = unmet_share(pooled["credits_never_honoured"][0])
    shown = (
        f"share of low-level need unmet: members {members_share:.3f}, others "
        f"{others_share:.3f}, members if never honoured {never_share:.3f}; credits earned "
        f"{earned:.0f}, redeemed {redeemed:.0f}"
    )
    assert members_share < never_share, shown  # vs the same bank without payouts
    # credits pile up far faster than they are spent
    assert 0 < redeemed < 0.25 * earned, shown


def test_time_bank_spends_like_the_facilitator_and_its_metrics_are_zero_elsewhere(registries):
    load_solution("time_bank")
    bank = CivicModel(strategy="time_bank", residents=600, seed=2)
    hub = CivicModel(strategy="facilitator", residents=600, seed=2)
    assert bank.strategy.plan(bank, 10_000.0) == hub.strategy.plan(hub, 10_000.0)
    frame_bank, frame_hub = bank.run(104), hub.run(104)
    for column in ("budget", "spend_paid_care", "spend_facilitation"):
        assert frame_bank[column].iloc[0] == frame_hub[column].iloc[0]
    r = bank.residents
    assert frame_bank["time_bank_credits"].iloc[-1] == pytest.approx(r.credits[r.live].sum())
    assert frame_bank["time_bank_credits"].iloc[-1] > 0
    assert (frame_hub["time_bank_credits"] == 0).all() and (frame_hub["time_bank_hours"] == 0).all()


# --- exercise (c): a metric ------------------------------------------------------------------
@pytest.mark.slow
def test_no_volunteer_tie_metric_is_lower_under_the_facilitator(registries):
    solution = load_solution("no_volunteer_tie_metric")
    share = {"direct": [], "facilitator": []}
    for strategy in share:
        for seed in range(3):
            model = CivicModel(strategy=strategy, residents=1000, seed=seed)
            frame = model.run(156)
            assert frame["share_no_volunteer_tie"].between(0, 1).all()
            r = model.residents
            known = model.ties.volunteers_known(r.n_slots)[r.live]
            assert frame["share_no_volunteer_tie"].iloc[-1] == pytest.approx((known == 0).mean())
            assert (
                solution.share_no_volunteer_tie(model) == frame["share_no_volunteer_tie"].iloc[-1]
            )
            share[strategy].append(
                (
                    float(frame["share_no_volunteer_tie"].iloc[:13].mean()),
                    last_year(frame, "share_no_volunteer_tie"),
                    last_year(frame, "share_lonely"),
                )
            )
    direct, facilitator = np.array(share["direct"]), np.array(share["facilitator"])
    shown = (
        "per seed (first quarter, last year no-tie share, last year lonely share):\n"
        f"direct {direct.round(3).tolist()}\nfacilitator {facilitator.round(3).tolist()}"
    )
    assert (facilitator[:, 1] < direct[:, 1]).all(), shown  # on every seed
    assert facilitator[:, 1].mean() < facilitator[:, 0].mean(), shown  # falls over the years
    assert (facilitator[:, 1] > facilitator[:, 2]).all(), shown  # not the same as lonely


# --- exercise (d): travel radius -------------------------------------------------------------
def test_walking_distance_scenario_sets_the_radius_and_explicit_values_win(registries):
    load_solution("travel_radius")
    assert Parameters.resolve(scenario="walking_distance").travel_radius == 4
    assert Parameters.resolve(scenario="two_miles").travel_radius == 32
    assert Parameters.resolve(scenario="walking_distance", travel_radius=8).travel_radius == 8
    assert Parameters.resolve().travel_radius == 16  # the Casserole Club mile


@pytest.mark.slow
def test_a_shorter_radius_means_fewer_pairings_and_more_unmet_support(registries):
    solution = load_solution("travel_radius")
    table = solution.compare(radii=(4, 16, 32), seeds=range(3), residents=1000, steps=156)
    walk, mile, two = (table.loc[r] for r in (4, 16, 32))
    shown = f"last-year means over 3 seeds, by travel radius:\n{table.round(2)}"
    assert walk["pairings"] < mile["pairings"], shown
    assert walk["unmet_low_level_hours"] > mile["unmet_low_level_hours"], shown
    assert walk["mean_pairing_distance"] < mile["mean_pairing_distance"], shown
    assert two["mean_pairing_distance"] < 32, shown  # well below the radius
    # a mile to two changes the distance less than a walk to a mile
    step = mile["mean_pairing_distance"] - walk["mean_pairing_distance"]
    assert abs(two["mean_pairing_distance"] - mile["mean_pairing_distance"]) < step, shown
    # diminishing returns: a walk to a mile matters more than a mile to two
    gain_to_mile = mile["pairings"] - walk["pairings"]
    assert gain_to_mile > abs(two["pairings"] - mile["pairings"]), shown


def test_no_pairing_is_longer_than_the_travel_radius_allows(registries):
    solution = load_solution("travel_radius")
    model = CivicModel(strategy="facilitator", scenario="walking_distance", residents=800, seed=4)
    model.run(104)
    p = model.p
    longest = max(p.travel_radius * math.sqrt(2), p.discovery_radius + 0.5)
    pairs, r, v = model.pairs, model.residents, model.volunteers
    live = pairs.live
    assert live.size > 0
    distance = np.hypot(
        v.x[pairs.vol[live]] - r.x[pairs.res[live]], v.y[pairs.vol[live]] - r.y[pairs.res[live]]
    )
    assert distance.max() <= longest + 1e-9
    assert solution.mean_pairing_distance(model) == pytest.approx(distance.mean())


# --- exercise (e): a rule variant switched by a registered parameter --------------------------
SHIPPED_QUITS = volunteer.quits


@pytest.fixture
def retiring(registries, monkeypatch):
    """The exercise (e) solution loaded (it replaces volunteer.quits; put back after)."""
    monkeypatch.setattr(volunteer, "quits", SHIPPED_QUITS)
    return load_solution("retiring_volunteers")


def test_a_rule_variant_at_its_default_gives_the_shipped_numbers(retiring, monkeypatch):
    assert volunteer.quits is retiring.quits  # loading the plugin switched the rule on
    assert Parameters.resolve().older_quit_rate == 0.0
    with_variant = CivicModel(strategy="facilitator", residents=600, seed=5).run(104)
    monkeypatch.setattr(volunteer, "quits", SHIPPED_QUITS)
    plain = CivicModel(strategy="facilitator", residents=600, seed=5).run(104)
    pd.testing.assert_frame_equal(with_variant, plain)  # bit for bit
    monkeypatch.setattr(volunteer, "quits", retiring.quits)
    older_out = CivicModel(strategy="facilitator", residents=600, seed=5, older_quit_rate=0.05)
    assert not older_out.run(104)["active_volunteers"].equals(plain["active_volunteers"])


def test_the_registered_parameter_is_validated_and_recorded(retiring):
    from model.parameters import PARAMETER_FIELDS, parameter_table

    meta = PARAMETER_FIELDS["older_quit_rate"].metadata
    assert (meta["kind"], meta["range"], meta["lo"], meta["hi"]) == (
        "invented",
        (0.0, 0.05),
        0.0,
        0.05,
    )
    row = next(r for r in parameter_table() if r["name"] == "older_quit_rate")
    assert row["plugin"].startswith("tutorial_solution_retiring")
    with pytest.raises(ValueError, match="'older_quit_rate' must be a number from 0 to 0.05"):
        Parameters.resolve(older_quit_rate=0.5)
    p = Parameters.resolve(older_quit_rate=0.02)
    assert p.older_quit_rate == 0.02 and p.as_dict()["older_quit_rate"] == 0.02
    assert p.replace(older_quit_rate=0.01).older_quit_rate == 0.01
    assert p != Parameters.resolve()


@pytest.mark.slow
def test_older_volunteers_stepping_back_means_fewer_older_volunteers(retiring):
    active, older = {}, {}
    for strategy in ("direct", "facilitator"):
        for rate in (0.0, 0.03):
            models = [
                CivicModel(strategy=strategy, residents=1000, seed=seed, older_quit_rate=rate)
                for seed in range(3)
            ]
            runs = [m.run(312).iloc[-52:] for m in models]
            active[strategy, rate] = np.mean([r["active_volunteers"].mean() for r in runs])
            older[strategy, rate] = sum(
                int(np.count_nonzero(m.volunteers.resident_slot[m.volunteers.live] >= 0))
                for m in models
            )  # young-old residents volunteering at the end, over the seeds
    shown = f"last-year active volunteers {active}; older volunteers at the end {older}"
    for strategy in ("direct", "facilitator"):
        assert older[strategy, 0.03] < 0.9 * older[strategy, 0.0], shown
        # the neighbourhood pool replaces most of them: all volunteers fall far less
        change = abs(active[strategy, 0.03] / active[strategy, 0.0] - 1)
        assert change < 1 - older[strategy, 0.03] / older[strategy, 0.0], shown
    # the hub, which recruits more young-old residents, loses more of them
    lost = {s: older[s, 0.0] - older[s, 0.03] for s in ("direct", "facilitator")}
    assert lost["facilitator"] > lost["direct"], shown
