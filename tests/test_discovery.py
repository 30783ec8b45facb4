"""Scenario discovery (PRIM and CART) on a problem with a known box, and robustness."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from experiments import discovery, robustness

pytest.importorskip("ema_workbench")

# The known box: a above 0.6 and b below 0.3; c is irrelevant; 2% of labels flipped.
TRUE_LOW_A, TRUE_HIGH_B = 0.6, 0.3


def synthetic(n=500, noise=0.02, seed=1):
    rng = np.random.default_rng(seed)
    x = pd.DataFrame(rng.random((n, 3)), columns=["a", "b", "c"])
    y = ((x["a"] > TRUE_LOW_A) & (x["b"] < TRUE_HIGH_B)).to_numpy()
    return x, y ^ (rng.random(n) < noise)


def test_prim_finds_the_known_box():
    x, y = synthetic()
    boxes = discovery.prim_boxes(x, y)
    assert boxes, "PRIM found no box"
    box = boxes[0]
    assert set(box.limits) == {"a", "b"}  # c is not restricted (pruned if peeled)
    assert box.limits["a"][0] == pytest.approx(TRUE_LOW_A, abs=0.05)
    assert box.limits["b"][1] == pytest.approx(TRUE_HIGH_B, abs=0.05)
    assert box.density >= discovery.DENSITY_TARGET and box.coverage > 0.7
    # the statistics are those of the cases inside the limits
    again = discovery.box_stats(x, y, box.limits)
    assert (again.cases, again.of_interest) == (box.cases, box.of_interest)


def test_cart_cross_check_finds_the_same_box():
    x, y = synthetic()
    box = discovery.cart_box(x, y)
    assert set(box.limits) == {"a", "b"}
    assert box.limits["a"][0] == pytest.approx(TRUE_LOW_A, abs=0.05)
    assert box.limits["b"][1] == pytest.approx(TRUE_HIGH_B, abs=0.05)
    assert box.density > 0.9


def test_no_structure_gives_no_dense_box():
    rng = np.random.default_rng(2)
    x = pd.DataFrame(rng.random((400, 3)), columns=["a", "b", "c"])
    y = rng.random(400) < 0.2
    boxes = discovery.prim_boxes(x, y)
    assert all(b.density < discovery.DENSITY_TARGET for b in boxes)


def paired_from(x: pd.DataFrame, y: np.ndarray, width=0.004) -> pd.DataFrame:
    """A paired-differences table whose CI lies below zero exactly where y is True."""
    mean = np.where(y, -0.02, 0.0)
    return pd.DataFrame(
        {
            "point": np.arange(len(x)),
            "point_label": "",
            "strategy": "facilitator",
            "baseline": "direct",
            "outcome": "unmet_share",
            "pairs": 4,
            "mean": mean,
            "low": mean - width,
            "high": mean + width,
            "share_better": 0.5,
        }
    )


def test_discovery_table_and_plain_words(tmp_path):
    x, y = synthetic(noise=0.0)
    values = x.rename(columns={"a": "civic_potential", "b": "budget_scale", "c": "closure_rate"})
    values.insert(0, "point", np.arange(len(values)))
    table, data = discovery.discovery_table(
        paired_from(x, y), values, ["direct", "facilitator"], "direct"
    )
    wins = table[(table["question"] == "wins") & (table["method"] == "prim") & (table["box"] == 1)]
    assert set(wins["parameter"]) == {"civic_potential", "budget_scale"}
    assert int(wins["cases_of_interest"].iloc[0]) == int(y.sum())
    figures = discovery.plot(table, data, tmp_path / "discovery.png")
    lines = discovery.section(table, values, "direct", None, figures)
    text = "\n".join(lines)
    box = re.search(
        r"PRIM box 1: facilitator wins against direct where `civic_potential` is above "
        r"(0\.\d+) and `budget_scale` is below (0\.\d+): in (\d+)% of such cases",
        text,
    )
    assert box, text
    assert abs(float(box.group(1)) - TRUE_LOW_A) < 0.05
    assert abs(float(box.group(2)) - TRUE_HIGH_B) < 0.08
    assert int(box.group(3)) >= 80
    assert "CART cross-check" in text and figures[0].stat().st_size > 10_000
    # a user threshold: win where the mean difference is below -0.01 (same cases here)
    x_t, wins_t, loses_t = discovery.cases(paired_from(x, y), values, "facilitator", -0.01)
    assert (wins_t == y).all() and not loses_t.any()


def test_regret_by_hand():
    per_run = pd.DataFrame(
        {
            "point": [0, 0, 1, 1, 2, 2],
            "replicate": 0,
            "strategy": ["direct", "facilitator"] * 3,
            "unmet_share": [0.50, 0.48, 0.40, 0.43, 0.30, 0.302],
        }
    )
    table = robustness.regret_table(per_run, tolerance=0.005).set_index("strategy")
    assert table.loc["direct", "mean_regret"] == pytest.approx(0.02 / 3)
    assert table.loc["direct", "max_regret"] == pytest.approx(0.02)
    assert table.loc["facilitator", "max_regret"] == pytest.approx(0.03)
    assert table.loc["facilitator", "share_within_tolerance"] == pytest.approx(2 / 3)
    assert table.loc["direct", "share_best"] == pytest.approx(2 / 3)
    text = "\n".join(robustness.section(table.reset_index()))
    assert "minimax-regret choice): **direct**" in text
