"""ABC-SMC (pyabc through the batch sampler) on a toy model whose ABC posterior is known."""

from __future__ import annotations

import math
import zlib

import numpy as np
import pytest
from scipy.stats import norm

from experiments import abc
from experiments import history_matching as hm

pytest.importorskip("pyabc")

BOX = hm.Box.from_ranges({"mu": (-2.0, 2.0), "nu": (0.0, 1.0)})
NOISE = 0.1  # the simulator's noise: y = mu + N(0, NOISE^2)
OBSERVED = 0.5
CUT = 0.45  # the "plausible region": mu >= CUT (nu free)


def gaussian(calls):
    """``y = mu + noise`` for every point of a batch (the noise seeded by the batch's
    label, so a rerun of the same batch gives the same values, like stored runs)."""

    def simulate(points, label):
        calls.append((label, len(points)))
        rng = np.random.default_rng(zlib.crc32(label.encode()))
        mu = np.array([p["mu"] for p in points])
        return (mu + rng.normal(0.0, NOISE, len(mu)))[:, None]

    return simulate


def inside(unit):
    return BOX.from_unit(unit)[:, 0] >= CUT


def run(seed=1, calls=None, tmp_path=None, **settings):
    settings = abc.AbcSettings(**{"populations": 4, "population_size": 200, **settings})
    return abc.abc_smc(
        gaussian([] if calls is None else calls),
        BOX,
        inside,
        (2.0 - CUT) / 4.0,
        [hm.Observation("y", OBSERVED, obs_sd=NOISE, discrepancy_sd=0.0)],
        settings,
        seed=seed,
        database=tmp_path / f"abc-{seed}.db",
    )


def exact_abc_posterior(epsilon: float) -> tuple[float, float]:
    """Mean and sd of mu under the ABC posterior at threshold ``epsilon``: the prior
    uniform on [CUT, 2] times P(|mu + e - z| <= h), h = epsilon x NOISE (the distance
    divides by the observation error)."""
    h = epsilon * NOISE
    mu = np.linspace(CUT, 2.0, 20001)
    density = norm.cdf((OBSERVED + h - mu) / NOISE) - norm.cdf((OBSERVED - h - mu) / NOISE)
    density /= density.sum()
    mean = float(np.sum(density * mu))
    return mean, math.sqrt(float(np.sum(density * (mu - mean) ** 2)))


def weighted_moments(result, j):
    w = result.weights
    mean = float(np.sum(w * result.values[:, j]))
    return mean, math.sqrt(float(np.sum(w * (result.values[:, j] - mean) ** 2)))


def test_weighted_population_matches_the_exact_abc_posterior(tmp_path):
    result = run(tmp_path=tmp_path)
    epsilon = result.populations[-1].epsilon
    assert 0.5 < epsilon < 3.0  # the quantile schedule shrank it from infinity
    mean, sd = exact_abc_posterior(epsilon)
    got_mean, got_sd = weighted_moments(result, 0)
    # Monte Carlo error: sd / sqrt(ESS) is about 0.007 here
    assert got_mean == pytest.approx(mean, abs=0.025)
    assert got_sd == pytest.approx(sd, abs=0.02)
    # the truncation at CUT is the prior region's: no particle outside it
    assert result.values[:, 0].min() >= CUT
    # nu is not informed by the data: its posterior is the prior, uniform on [0, 1]
    # (sd 0.289). Only with the importance weights: unweighted, the proposals the kernel
    # loses beyond the edges narrow it (sd 0.258 at this seed; the Monte Carlo error of
    # the sd is about 0.01)
    nu_mean, nu_sd = weighted_moments(result, 1)
    assert nu_mean == pytest.approx(0.5, abs=0.05)
    assert nu_sd == pytest.approx(1 / math.sqrt(12), abs=0.02)


def test_populations_are_simulated_in_batches_and_diagnosed(tmp_path):
    calls = []
    result = run(calls=calls, tmp_path=tmp_path, populations=3, population_size=50)
    labels = [label for label, _ in calls]
    assert labels[0] == "population-0/batch-1"
    assert len(calls) == sum(p.batches for p in result.populations)
    assert len(calls) <= 3 * 3  # whole batches, not one call per particle
    first = result.populations[0]
    assert first.epsilon == math.inf and first.acceptance_rate == 1.0
    assert [p.t for p in result.populations] == [0, 1, 2]
    for p, q in zip(result.populations, result.populations[1:], strict=False):
        assert q.epsilon < p.epsilon
        assert 0 < q.acceptance_rate < 1
    for p in result.populations:
        assert p.accepted == 50
        assert 1 <= p.ess <= 50
        # every evaluation was simulated in a batch of this population
        asked = sum(n for label, n in calls if label.startswith(f"population-{p.t}/"))
        assert asked >= p.evaluations
    assert result.weights.sum() == pytest.approx(1.0)
    assert result.ess == pytest.approx(result.populations[-1].ess)


def test_same_seed_same_proposals_and_populations(tmp_path):
    calls_a, calls_b = [], []
    a = run(seed=7, calls=calls_a, tmp_path=tmp_path, populations=3, population_size=25)
    b = run(seed=7, calls=calls_b, tmp_path=tmp_path, populations=3, population_size=25)
    assert calls_a == calls_b
    np.testing.assert_array_equal(a.values, b.values)
    np.testing.assert_array_equal(a.weights, b.weights)
    c = run(seed=8, tmp_path=tmp_path, populations=3, population_size=25)
    assert not np.array_equal(a.values, c.values)


def test_an_epsilon_schedule_and_a_budget_stop_it(tmp_path):
    result = run(tmp_path=tmp_path, epsilon=[8.0, 4.0, 2.0], populations=3, population_size=30)
    assert [p.epsilon for p in result.populations] == [8.0, 4.0, 2.0]
    assert np.all(result.distances <= 2.0)
    short = run(tmp_path=tmp_path, population_size=30, max_evaluations=60)
    assert "max_evaluations" in short.stopped
    assert short.evaluations >= 60


def test_weighted_quantile_has_known_values():
    values = np.array([0.0, 1.0, 2.0, 3.0])
    assert abc.weighted_quantile(values, np.ones(4), 0.5) == pytest.approx(1.5)
    # all the weight on 3: every quantile is 3
    assert abc.weighted_quantile(values, np.array([0, 0, 0, 1.0]), [0.05, 0.95]) == (
        pytest.approx([3.0, 3.0])
    )
