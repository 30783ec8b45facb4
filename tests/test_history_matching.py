"""History matching on toy problems whose plausible region is known exactly."""

from __future__ import annotations

import math

import numpy as np
import pytest

from experiments import history_matching as hm

BOX = hm.Box.from_ranges({"a": (0.0, 1.0), "b": (0.0, 1.0)})


def ring(points, wave):
    """Deterministic: one target, a**2 + b**2 (one replicate, no noise)."""
    x = np.array([[p["a"], p["b"]] for p in points])
    y = (x**2).sum(axis=1, keepdims=True)
    return y, np.zeros_like(y)


def test_ring_region_share_matches_the_exact_area():
    # |a^2 + b^2 - 0.5| <= 3 * 0.05 is a quarter annulus of area pi/4 * 0.3
    obs = [hm.Observation("radius", 0.5, obs_sd=0.05, discrepancy_sd=0.0)]
    match = hm.history_match(ring, BOX, obs, points_per_wave=[30, 30], replicates=1, seed=3)
    exact_kept = math.pi / 4 * 0.3
    assert match.share_ruled_out == pytest.approx(1 - exact_kept, abs=0.03)
    # wave 1 alone, with its wider emulator uncertainty, keeps at least the true region
    assert match.share_ruled_out_by_wave()[0] <= 1 - exact_kept + 0.02
    # the second wave's points lie in the true region (allowing emulator error at the rim)
    wave2 = BOX.from_unit(match.waves[1].unit)
    r2 = (wave2**2).sum(axis=1)
    assert np.mean(np.abs(r2 - 0.5) <= 0.15 + 0.02) >= 0.9
    # every ensemble member is truly plausible (they were run, not emulated)
    members = BOX.from_unit(match.ensemble_unit)
    assert len(members) >= 20
    assert np.all(np.abs((members**2).sum(axis=1) - 0.5) <= 0.15 + 1e-9)


def test_emulator_leave_one_out_errors_are_standard():
    obs = [hm.Observation("radius", 0.5, obs_sd=0.05, discrepancy_sd=0.0)]
    match = hm.history_match(ring, BOX, obs, points_per_wave=[40], replicates=1, seed=5)
    share_beyond, rms = hm.loo_summary(match.waves[0])[0]
    assert share_beyond <= 0.1
    assert 0.2 < rms < 2.5
    # and the emulator itself is close to the function away from the training points
    rng = np.random.default_rng(0)
    test = rng.random((200, 2))
    mean, var = match.waves[0].emulate(test)
    assert np.max(np.abs(mean[:, 0] - (test**2).sum(axis=1))) < 0.05


def bands(points, wave):
    """Two noisy targets: a + b and a - b, four replicates with noise sd 0.03."""
    rng = np.random.default_rng(11 + wave)
    x = np.array([[p["a"], p["b"]] for p in points])
    truth = np.column_stack([x[:, 0] + x[:, 1], x[:, 0] - x[:, 1]])
    reps = truth[None] + rng.normal(0.0, 0.03, (4, *truth.shape))
    return reps.mean(axis=0), reps.var(axis=0, ddof=1)


def test_noisy_bands_rule_out_the_right_share_and_name_the_right_target():
    obs = [
        hm.Observation("sum", 1.0, obs_sd=0.04, discrepancy_sd=0.02),
        hm.Observation("difference", 0.2, obs_sd=0.08, discrepancy_sd=0.0),
    ]
    match = hm.history_match(bands, BOX, obs, points_per_wave=[30, 30], replicates=4, seed=7)
    # replicate noise of the mean of 4: 0.03^2 / 4
    assert match.waves[0].replicate_noise == pytest.approx([0.03**2 / 4] * 2, rel=0.35)
    half = [3 * math.sqrt(o.fixed_variance + 0.03**2 / 4) for o in obs]
    rng = np.random.default_rng(1)
    x = rng.random((200_000, 2))
    kept = (np.abs(x.sum(axis=1) - 1.0) <= half[0]) & (np.abs(x[:, 0] - x[:, 1] - 0.2) <= half[1])
    assert match.share_ruled_out == pytest.approx(1 - kept.mean(), abs=0.03)
    by_target = match.share_ruled_out_by_target()
    alone_sum = 1 - np.mean(np.abs(x.sum(axis=1) - 1.0) <= half[0])
    assert by_target["sum"] == pytest.approx(alone_sum, abs=0.04)
    assert by_target["sum"] > by_target["difference"]  # the tighter band does more
    # the sum target constrains a and b equally; neither target leaves them unconstrained
    table = match.constraint_table()
    assert table["sum"]["a"] == pytest.approx(table["sum"]["b"], abs=0.1)


def test_an_impossible_target_gives_an_empty_region():
    obs = [hm.Observation("radius", 5.0, obs_sd=0.05, discrepancy_sd=0.0)]
    with pytest.raises(hm.HistoryMatchingError, match="region is empty"):
        hm.history_match(ring, BOX, obs, points_per_wave=[20, 10], replicates=1, seed=1)


def test_no_plausible_run_in_a_single_wave_is_an_error():
    obs = [hm.Observation("radius", 5.0, obs_sd=0.05, discrepancy_sd=0.0)]
    with pytest.raises(hm.HistoryMatchingError, match="no run parameter set is plausible"):
        hm.history_match(ring, BOX, obs, points_per_wave=[20], replicates=1, seed=1)


def test_implausibility_formula():
    obs = [hm.Observation("t", 1.0, obs_sd=0.3, discrepancy_sd=0.4)]
    values = hm.implausibility(obs, np.array([[2.0]]), np.array([[0.11]]), np.array([0.0]))
    assert values[0, 0] == pytest.approx(1.0 / math.sqrt(0.09 + 0.16 + 0.11))
    two = np.array([[1.0, 5.0, 2.0]])
    assert hm.max_implausibility(two)[0] == 5.0
    assert hm.max_implausibility(two, "second_max")[0] == 2.0


def test_same_seed_same_waves():
    obs = [hm.Observation("radius", 0.5, obs_sd=0.05, discrepancy_sd=0.0)]
    one = hm.history_match(ring, BOX, obs, points_per_wave=[15, 10], replicates=1, seed=2)
    two = hm.history_match(ring, BOX, obs, points_per_wave=[15, 10], replicates=1, seed=2)
    assert np.array_equal(one.waves[1].unit, two.waves[1].unit)
    assert one.share_ruled_out == two.share_ruled_out
