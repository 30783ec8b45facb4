"""Ensemble files, the design type ``ensemble`` and the comparison over plausible worlds."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from experiments import ensemble as ens
from experiments import worlds
from experiments.spec import SpecError, parse_spec
from experiments.store import model_fingerprint


def make_ensemble(path, n=5, fingerprint=None, weights=None, extra=None):
    frame = pd.DataFrame(
        {
            "member": np.arange(n),
            "weight": weights if weights is not None else np.full(n, 1.0 / n),
            "wave": np.ones(n, dtype=int),
            "max_implausibility": np.linspace(0.5, 2.5, n),
            "mortality_need_factor": np.linspace(0.2, 0.6, n),
            "care_home_rate": np.linspace(0.5, 1.5, n),
            "target:deaths": np.linspace(0.04, 0.05, n),
        }
    )
    meta = {
        "model_fingerprint": fingerprint or model_fingerprint(),
        "git_commit": "abc123",
        "command": "civic-sim calibrate experiments/specs/calibration.toml",
        "calibration": {"fixed": {}},
        **(extra or {}),
    }
    ens.write_ensemble(frame, path, meta)
    return frame


def spec_with(path, **design):
    return parse_spec(
        {
            "strategies": ["direct", "facilitator"],
            "design": {"type": "ensemble", "file": str(path), **design},
        }
    )


def test_roundtrip_keeps_members_and_metadata(tmp_path):
    frame = make_ensemble(tmp_path / "e.parquet")
    read, meta = ens.read_ensemble(tmp_path / "e.parquet")
    pd.testing.assert_frame_equal(read, frame)
    assert meta["model_fingerprint"] == model_fingerprint()
    assert ens.parameter_columns(read) == ["mortality_need_factor", "care_home_rate"]


def test_design_crosses_every_member_with_the_factors(tmp_path):
    make_ensemble(tmp_path / "e.parquet")
    spec = spec_with(tmp_path / "e.parquet", factors={"scenario": ["baseline", "austerity"]})
    assert len(spec.design.points) == 10
    assert spec.design.points[0] == {
        "mortality_need_factor": 0.2,
        "care_home_rate": 0.5,
        "scenario": "baseline",
    }
    assert spec.design.points[1]["scenario"] == "austerity"
    assert spec.design.points[2]["mortality_need_factor"] == pytest.approx(0.3)
    record = spec.as_dict()["design"]
    assert record["members"] == [0, 1, 2, 3, 4]
    assert record["ensemble_sha256"] == ens.file_hash(tmp_path / "e.parquet")
    assert set(spec.design.varied()) == {"mortality_need_factor", "care_home_rate", "scenario"}


def test_a_sample_is_drawn_by_weight_and_reproducibly(tmp_path):
    make_ensemble(tmp_path / "e.parquet", n=6, weights=[0.0, 0.0, 0.0, 0.5, 0.25, 0.25])
    one = spec_with(tmp_path / "e.parquet", sample=3, seed=4).design.ensemble
    two = spec_with(tmp_path / "e.parquet", sample=3, seed=4).design.ensemble
    assert one["members"] == two["members"] and one["weights"] == two["weights"]
    assert set(one["members"]) <= {3, 4, 5}  # members of weight zero are never drawn
    # a member drawn k times of 3 runs once and carries weight k/3
    assert sum(one["weights"]) == pytest.approx(1.0)
    assert all(round(3 * w) == pytest.approx(3 * w) for w in one["weights"])
    assert len(spec_with(tmp_path / "e.parquet", sample=2).design.points) <= 2
    # all members, with their weights (a zero weight counts for nothing in the report)
    every = spec_with(tmp_path / "e.parquet").design.ensemble
    assert every["members"] == list(range(6))
    assert every["weights"] == [0.0, 0.0, 0.0, 0.5, 0.25, 0.25]


def test_equal_weights_give_distinct_members_of_equal_weight(tmp_path):
    make_ensemble(tmp_path / "e.parquet", n=6)
    record = spec_with(tmp_path / "e.parquet", sample=4, seed=1).design.ensemble
    assert len(set(record["members"])) == 4
    assert record["weights"] == [1.0 / 6] * 4  # the members' own (equal) weights


def test_a_weighted_sample_estimates_the_weighted_mean():
    # importance weights of ABC-SMC: the resampled worlds' weighted mean is unbiased for
    # the full ensemble's weighted mean (drawing by weight *and* weighting would not be)
    rng = np.random.default_rng(0)
    values = rng.normal(size=40)
    weights = np.exp(2 * values)
    weights /= weights.sum()
    frame = pd.DataFrame({"member": np.arange(40), "weight": weights})
    truth = float(np.sum(weights * values))
    estimates = []
    for seed in range(400):
        members, w = ens.choose_members(frame, 8, seed)
        estimates.append(float(np.sum(np.array(w) * values[members])))
    assert np.mean(estimates) == pytest.approx(truth, abs=0.05)
    # the double-counting alternative is far off
    twice = []
    for seed in range(400):
        members, w = ens.choose_members(frame, 8, seed)
        ww = np.array(w) * weights[members]
        twice.append(float(np.sum(ww / ww.sum() * values[members])))
    assert abs(np.mean(twice) - truth) > 0.2


def test_an_ensemble_of_another_model_is_refused(tmp_path):
    make_ensemble(tmp_path / "e.parquet", fingerprint="0123456789abcdef")
    with pytest.raises(SpecError, match=r"^spec\.design\.file: .*another version of the model"):
        spec_with(tmp_path / "e.parquet")
    # and the message says how to make it again
    with pytest.raises(SpecError, match="civic-sim calibrate experiments/specs/calibration.toml"):
        spec_with(tmp_path / "e.parquet")


def test_bad_ensemble_designs(tmp_path):
    make_ensemble(tmp_path / "e.parquet")
    with pytest.raises(SpecError, match="no such ensemble file"):
        spec_with(tmp_path / "missing.parquet")
    with pytest.raises(SpecError, match=r"spec\.design\.factors\.care_home_rate: is a parameter"):
        spec_with(tmp_path / "e.parquet", factors={"care_home_rate": [1.0]})
    with pytest.raises(SpecError, match=r"spec\.design\.sample"):
        spec_with(tmp_path / "e.parquet", sample=0)
    pd.DataFrame({"a": [1]}).to_parquet(tmp_path / "plain.parquet")
    with pytest.raises(SpecError, match="not an ensemble file"):
        spec_with(tmp_path / "plain.parquet")


def per_run_of(effects_by_world, replicates=4, noise=0.0, seed=0):
    """A per-run table: one combo; facilitator - direct = the world's effect (+ noise)."""
    rng = np.random.default_rng(seed)
    rows = []
    for point, effect in enumerate(effects_by_world):
        for r in range(replicates):
            base = 0.2 + rng.normal(0, 0.01)
            rows.append({"point": point, "strategy": "direct", "replicate": r, "unmet_share": base})
            rows.append(
                {
                    "point": point,
                    "strategy": "facilitator",
                    "replicate": r,
                    "unmet_share": base + effect + rng.normal(0, noise),
                }
            )
    return pd.DataFrame(rows)


def test_probability_and_expected_difference_have_known_values():
    effects = [-0.01, -0.01, -0.01, 0.02]
    design = {"members": [0, 1, 2, 3], "weights": [0.25] * 4, "combos": 1}
    table = worlds.summarise(
        worlds.world_effects(per_run_of(effects), design, "direct", "unmet_share")
    )
    row = table.iloc[0]
    assert row.p_beats_baseline == pytest.approx(0.75)
    assert row.expected_difference == pytest.approx(np.mean(effects))
    assert row.low <= row.expected_difference <= row.high
    # no replicate noise: the noise-only interval is a point; the parameter one is not
    assert row.noise_high - row.noise_low == pytest.approx(0.0, abs=1e-12)
    assert row.high - row.low > 0.01
    # the weights count: the one bad world made likely
    design["weights"] = [0.1, 0.1, 0.1, 0.7]
    table = worlds.summarise(
        worlds.world_effects(per_run_of(effects), design, "direct", "unmet_share")
    )
    assert table.iloc[0].p_beats_baseline == pytest.approx(0.3)
    assert table.iloc[0].expected_difference == pytest.approx(-0.003 + 0.014)


def test_worlds_and_factor_combos_are_told_apart():
    # 2 worlds x 2 combos, point = world * 2 + combo; combo 1 reverses the effect
    effects = [-0.02, 0.02, -0.01, 0.01]
    design = {
        "members": [7, 9],
        "weights": [0.5, 0.5],
        "combos": 2,
        "factors": {"scenario": ["baseline", "austerity"]},
    }
    table = worlds.summarise(
        worlds.world_effects(per_run_of(effects, noise=0.001), design, "direct", "unmet_share")
    )
    assert list(table["combo"]) == [0, 1]
    assert table.iloc[0].p_beats_baseline == 1.0
    assert table.iloc[1].p_beats_baseline == 0.0
    assert table.iloc[0].expected_difference == pytest.approx(-0.015, abs=0.001)
    assert worlds.combo_labels(design) == ["scenario=baseline", "scenario=austerity"]


def test_make_run_after_make_calibrate_keeps_the_old_worlds_aside(tmp_path, capsys):
    """``make run`` (sweep --rerun-changed, then report) after the ensemble file was
    regenerated: a report over the new worlds, and the old experiment kept whole."""
    from experiments.cli import main

    ensemble = tmp_path / "calibrated.parquet"
    make_ensemble(ensemble, n=2)
    spec = tmp_path / "comparison.toml"
    spec.write_text(
        'strategies = ["direct", "facilitator"]\nreplicates = 1\nsteps = 52\nseed = 5\n'
        '[fixed]\nresidents = 60\n[design]\ntype = "ensemble"\nfile = "calibrated.parquet"\n'
    )
    out = tmp_path / "results"
    sweep = ["sweep", str(spec), "--out", str(out), "--executor", "serial", "--no-progress"]
    make_run = sweep + ["--rerun-changed"]
    assert main(make_run) == 0 and main(["report", str(out)]) == 0
    old_sha = ens.file_hash(ensemble)
    old_runs = sorted(p.name for p in (out / "runs").iterdir())
    capsys.readouterr()

    # make calibrate on the same model: the same worlds in a new file; the runs stand
    make_ensemble(ensemble, n=2, extra={"created": "later"})
    assert ens.file_hash(ensemble) != old_sha
    stamps = {
        k: v["finished"] for k, v in json.loads((out / "manifest.json").read_text())["runs"].items()
    }
    assert main(sweep) == 0
    assert "regenerated with the same worlds" in capsys.readouterr().err
    manifest = json.loads((out / "manifest.json").read_text())
    assert {k: v["finished"] for k, v in manifest["runs"].items()} == stamps
    assert manifest["spec"]["design"]["ensemble_sha256"] == ens.file_hash(ensemble)
    old_sha = ens.file_hash(ensemble)

    # make calibrate writes new worlds
    frame = make_ensemble(ensemble, n=3)
    assert ens.file_hash(ensemble) != old_sha
    # a plain sweep refuses to mix them, in one line that says what to do
    assert main(sweep) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "other plausible worlds" in err and "--rerun-changed" in err
    assert sorted(p.name for p in (out / "runs").iterdir()) == old_runs  # untouched

    assert main(make_run) == 0
    assert "kept the 4 runs over the old worlds" in capsys.readouterr().err
    assert main(["report", str(out)]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["spec"]["design"]["members"] == [0, 1, 2]
    assert manifest["spec"]["design"]["ensemble_sha256"] == ens.file_hash(ensemble)
    assert sum(r["status"] == "done" for r in manifest["runs"].values()) == 2 * len(frame)
    assert "Over plausible worlds" in (out / "report.md").read_text()
    # nothing computed is lost: the old experiment is a sweep folder of its own
    kept = out / "superseded" / f"ensemble-{old_sha}"
    old = json.loads((kept / "manifest.json").read_text())
    assert old["spec"]["design"]["members"] == [0, 1]
    assert sorted(p.name for p in (kept / "runs").iterdir()) == old_runs
    assert (kept / "report.md").is_file()
    assert main(["report", str(kept)]) == 0

    # any other change to the spec is still a different experiment
    spec.write_text(spec.read_text().replace("steps = 52", "steps = 60"))
    make_ensemble(ensemble, n=2)
    assert main(make_run) == 2
    assert "holds a different experiment: spec.steps" in capsys.readouterr().err
