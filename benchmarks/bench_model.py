"""Model speed and scale: ward and borough runs against Mesa's own Schelling example.

Each figure is the median of several runs, each in a fresh process (so peak memory is
that run's own). Ward and Schelling runs are taken in turns and compared pair by pair, so
a machine whose speed drifts during the benchmark does not favour either. Agent-steps
count every Mesa agent in the model (residents, volunteers, businesses, hubs) at every
step. A run's burn-in (``burn_in_weeks`` simulated before week 0, ODD 5.8) is paid by
every user, so it counts in both the time and the agent-steps; building the world before
it is reported on its own. Mesa 3.5 rewrote the Schelling example (parameters in a
``Scenario``), so the reference itself differs between Mesa 3.3 and 3.5: compare ratios on
one Mesa version. Targets (issue 2): the ward run at least 10x Schelling's
agent-steps per second; the borough run under 40 s and 2 GiB; time growing no faster
than linearly with residents.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys

WARD = {"residents": 5000, "steps": 520}
BOROUGH = {"residents": 100_000, "steps": 520}
REPEATS = {"ward": 7, "borough": 3, "scaling": 3}

CHILD = r"""
import json, resource, sys, time
kind, residents, steps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
if kind == "schelling":
    from mesa.examples.basic.schelling import model as schelling
    setting = dict(width=50, height=50, density=0.8)
    if hasattr(schelling, "SchellingScenario"):  # Mesa 3.5+: parameters in a Scenario
        model = schelling.Schelling(schelling.SchellingScenario(rng=1, **setting))
    else:
        model = schelling.Schelling(seed=1, **setting)
    agents = len(model.agents)
    start = time.perf_counter()
    for _ in range(steps):
        model.step()
    seconds = time.perf_counter() - start
    agent_steps = agents * steps
    setup = burn_in = 0.0
else:
    from model.civic_model import CivicModel
    start = time.perf_counter()
    model = CivicModel(strategy="facilitator", residents=residents, seed=1)
    burn_in = model.burn_in_seconds
    setup = time.perf_counter() - start - burn_in
    agent_steps = model.burn_in_agent_steps
    start = time.perf_counter()
    for _ in range(steps):
        model.step()
        agent_steps += len(model.agents)
    seconds = burn_in + time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"seconds": seconds, "agent_steps": agent_steps, "peak_bytes": peak,
                  "setup": setup, "burn_in": burn_in}))
"""


def _run(kind: str, residents: int, steps: int) -> dict:
    """One run in a fresh process: seconds, agent-steps and peak memory."""
    out = subprocess.run(
        [sys.executable, "-c", CHILD, kind, str(residents), str(steps)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _summary(runs: list[dict]) -> dict:
    return {
        "seconds": statistics.median(r["seconds"] for r in runs),
        "rate": statistics.median(r["agent_steps"] / r["seconds"] for r in runs),
        "peak_gib": statistics.median(r["peak_bytes"] for r in runs) / 2**30,
        "min": min(r["seconds"] for r in runs),
        "max": max(r["seconds"] for r in runs),
        "setup": statistics.median(r.get("setup", 0.0) for r in runs),
        "burn_in": statistics.median(r.get("burn_in", 0.0) for r in runs),
    }


def measure(kind: str, residents: int, steps: int, repeats: int) -> dict:
    """Median seconds, agent-steps per second and peak memory over ``repeats`` processes."""
    return _summary([_run(kind, residents, steps) for _ in range(repeats)])


def ward_against_schelling(repeats: int) -> tuple[dict, dict, list[float]]:
    """Ward and Schelling runs taken in turns (Schelling, ward, Schelling, ward, ...), so
    that a machine whose speed drifts during the benchmark slows both alike; each pair
    gives one ratio of agent-steps per second."""
    schelling, ward, ratios = [], [], []
    for _ in range(repeats):
        schelling.append(_run("schelling", 0, 300))
        ward.append(_run("model", WARD["residents"], WARD["steps"]))
        ratios.append(
            (ward[-1]["agent_steps"] / ward[-1]["seconds"])
            / (schelling[-1]["agent_steps"] / schelling[-1]["seconds"])
        )
    return _summary(schelling), _summary(ward), ratios


def main() -> None:
    """Print the ward, borough, Schelling and scaling figures."""
    schelling, ward, ratios = ward_against_schelling(REPEATS["ward"])
    print(f"Mesa Schelling (50x50, density 0.8): {schelling['rate']:,.0f} agent-steps/s")
    ratio = statistics.median(ratios)
    print(
        f"ward run (5,000 residents, burn-in and 520 weeks, facilitator): {ward['seconds']:.2f} s "
        f"median (min {ward['min']:.2f}, max {ward['max']:.2f}; of which burn-in "
        f"{ward['burn_in']:.2f} s; building the world {ward['setup']:.2f} s more); "
        f"{ward['rate']:,.0f} agent-steps/s; "
        f"{ratio:.1f}x Schelling, median of {len(ratios)} paired runs "
        f"(each pair: {', '.join(f'{r:.1f}' for r in ratios)}) "
        f"(target >= 10x) -> {'PASS' if ratio >= 10 else 'MISS'}"
    )
    sizes = (1000, 5000, 20000)
    per_resident = []
    for n in sizes:
        fig = measure("model", n, 260, REPEATS["scaling"])
        per_resident.append(fig["seconds"] / n * 1e6)
        print(
            f"scaling: {n:>6,} residents x 260 weeks: {fig['seconds']:.2f} s "
            f"({per_resident[-1]:.0f} us per resident)"
        )
    growth = per_resident[-1] / per_resident[1]
    print(
        f"time per resident at 20,000 vs 5,000: {growth:.2f}x "
        f"(<= 1.2 means no worse than linear) -> {'PASS' if growth <= 1.2 else 'MISS'}"
    )
    borough = measure("model", BOROUGH["residents"], BOROUGH["steps"], REPEATS["borough"])
    ok = borough["seconds"] < 40 and borough["peak_gib"] < 2
    print(
        f"borough run (100,000 residents, burn-in and 520 weeks): {borough['seconds']:.1f} s "
        f"median (min {borough['min']:.1f}, max {borough['max']:.1f}; of which burn-in "
        f"{borough['burn_in']:.1f} s; building the world {borough['setup']:.1f} s more); "
        f"peak memory "
        f"{borough['peak_gib']:.2f} GiB (targets < 40 s, < 2 GiB) -> "
        f"{'PASS' if ok else 'MISS'}"
    )


if __name__ == "__main__":
    main()
