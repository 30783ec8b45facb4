"""Reading results: the store in one call, vectorised final-year outcomes, the risk
table's intervals, and the record of the environment (lock file) in manifest and report."""

from __future__ import annotations

import hashlib
import json
import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from scipy import stats

from experiments import analysis
from experiments import spec as specs
from experiments import store as store_module
from experiments.report import write_report
from experiments.runner import run_sweep
from experiments.store import LOCK_FILE, Store, lock_file_status

SPEC = """
name = "reading"
strategies = ["direct", "facilitator"]
replicates = 3
steps = 56
seed = 5
[fixed]
residents = 150
"""


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    folder = tmp_path_factory.mktemp("reading")
    (folder / "spec.toml").write_text(SPEC)
    out = folder / "out"
    summary = run_sweep(specs.load_spec(folder / "spec.toml"), str(out), executor="serial",
                        progress=False)  # fmt: skip
    assert summary.done == 6
    return out


def test_read_runs_is_every_file_in_run_order_with_only_the_columns_asked(swept):
    store = Store(swept)
    frame = store.read_runs()
    files = sorted(swept.glob("runs/run_id=*/part.parquet"))
    expected = pd.concat(
        [pd.read_parquet(f).assign(run_id=f.parent.name.split("=", 1)[1]) for f in files],
        ignore_index=True,
    )
    assert list(frame.columns) == ["run_id", *(c for c in expected.columns if c != "run_id")]
    assert frame["run_id"].is_monotonic_increasing and frame["run_id"].nunique() == 6
    pd.testing.assert_frame_equal(
        frame, expected[frame.columns], check_dtype=False, check_index_type=False
    )
    some = store.read_runs(["unmet_share", "step"])
    assert list(some.columns) == ["run_id", "unmet_share", "step"] and len(some) == 6 * 56
    with pytest.raises(ValueError, match="does not hold the column.*no_such_metric"):
        store.read_runs(["no_such_metric"])


@pytest.mark.parametrize("signatures", ["recorded", "older store without them"])
def test_runs_with_different_columns_read_as_their_union(swept, tmp_path, signatures):
    # e.g. runs made before and after a plugin added a metric (spec 'metrics' left open)
    copy = tmp_path / "copy"
    shutil.copytree(swept, copy)
    store = Store(copy)
    manifest = store.read_manifest()
    assert all(len(run["columns"]) == 16 for run in manifest["runs"].values())
    first = sorted(store.done_run_ids())[0]
    frame = pd.read_parquet(store.run_path(first))
    frame["extra_metric"] = 1.5
    store.write_run(first, frame)
    if signatures == "recorded":  # as the runner records the run it writes
        manifest["runs"][first]["columns"] = store_module.columns_signature(frame)
        assert (
            manifest["runs"][first]["columns"]
            != manifest["runs"][sorted(manifest["runs"])[1]]["columns"]
        )
    else:
        for run in manifest["runs"].values():
            del run["columns"]
    store.write_manifest(manifest)
    both = Store(copy).read_runs()
    extra = both.set_index("run_id")["extra_metric"]
    assert (extra.loc[first] == 1.5).all()
    assert extra.drop(index=first).isna().all()


def _final_year_by_loop(frame: pd.DataFrame, weeks: int) -> pd.DataFrame:
    rows = []
    for run_id, run in frame.sort_values(["run_id", "step"]).groupby("run_id"):
        tail = run.tail(weeks)
        rows.append(
            {
                "run_id": run_id,
                "unmet_share": tail["unmet_share"].mean(),
                "cumulative_unmet_hours": run["cumulative_unmet_hours"].iloc[-1],
            }
        )
    return pd.DataFrame(rows).set_index("run_id")


def test_final_year_matches_a_loop_over_runs_of_any_length_and_row_order():
    rng = np.random.default_rng(3)
    parts = []
    for i, length in enumerate((80, 52, 30, 120)):
        parts.append(
            pd.DataFrame(
                {
                    "run_id": f"p000-direct-r{i:03d}",
                    "point": 0,
                    "point_label": "base",
                    "strategy": "direct",
                    "replicate": i,
                    "step": np.arange(1, length + 1),
                    "unmet_share": rng.random(length),
                    "cumulative_unmet_hours": np.cumsum(rng.random(length)),
                }
            )
        )
    frame = pd.concat(parts, ignore_index=True).sample(frac=1.0, random_state=1)  # shuffled
    mine = analysis.final_year(frame).set_index("run_id")
    loop = _final_year_by_loop(frame, analysis.FINAL_WEEKS)
    assert list(mine.index) == sorted(loop.index)
    np.testing.assert_allclose(mine["unmet_share"], loop["unmet_share"], rtol=1e-13)
    np.testing.assert_array_equal(mine["cumulative_unmet_hours"], loop["cumulative_unmet_hours"])
    assert mine["replicate"].tolist() == [0, 1, 2, 3] and mine["point"].dtype.kind == "i"


def test_wilson_interval_is_the_textbook_formula():
    z = stats.norm.ppf(0.975)
    for k, n in ((0, 6), (3, 6), (6, 6), (17, 40)):
        p = k / n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
        low, high = analysis.wilson_interval(k, n)
        assert (low, high) == pytest.approx((centre - half, centre + half), abs=1e-12)
        assert 0.0 <= low <= p <= high <= 1.0
    assert all(math.isnan(v) for v in analysis.wilson_interval(0, 0))


def test_bootstrap_interval_of_the_p90_is_reproducible_and_sensible():
    values = np.random.default_rng(8).normal(0.3, 0.05, size=40)
    low, high = analysis.bootstrap_quantile_interval(values, 0.9)
    assert (low, high) == analysis.bootstrap_quantile_interval(values, 0.9)  # fixed seed
    assert low <= np.quantile(values, 0.9) <= high and low < high
    assert high - low < 0.1
    assert analysis.bootstrap_quantile_interval([0.2, 0.2, 0.2], 0.9) == (0.2, 0.2)
    assert all(math.isnan(v) for v in analysis.bootstrap_quantile_interval([0.2], 0.9))


def test_risk_table_and_report_carry_the_intervals(swept):
    write_report(swept)
    risk = pd.read_csv(swept / "risk.csv")
    assert {"share_above_low", "share_above_high", "p90_low", "p90_high"} <= set(risk.columns)
    for row in risk.itertuples():
        assert row.share_above_low <= row.share_above <= row.share_above_high
        assert row.p90_low <= row.p90 + 1e-12 and row.p90 <= row.p90_high + 1e-12
        k = round(row.share_above * row.n)
        assert (row.share_above_low, row.share_above_high) == pytest.approx(
            analysis.wilson_interval(k, row.n)
        )
    md = (swept / "report.md").read_text(encoding="utf-8")
    assert "Wilson" in md and "bootstrap" in md and "share above [95% CI]" in md


def test_manifest_and_report_name_the_lock_file_and_whether_the_environment_matches(swept):
    manifest = json.loads((swept / "manifest.json").read_text(encoding="utf-8"))
    versions = manifest["versions"]
    path = Path(store_module.__file__).resolve().parent.parent / LOCK_FILE  # the checkout's
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert versions[LOCK_FILE] == f"sha256:{digest} (environment matches)"
    assert versions["python"].count(".") == 2
    md = (swept / "report.md").read_text(encoding="utf-8")
    assert f"sha256:{digest}" in md and "Python " in md
    assert versions["cpu"] and f"CPU: {versions['cpu']}." in md


def test_lock_status_says_what_differs(tmp_path):
    fake = tmp_path / LOCK_FILE
    fake.write_text("numpy==0.0.1\nno-such-package==1.0\n# a comment\n", encoding="utf-8")
    status = lock_file_status(fake)
    assert status.startswith("sha256:") and "environment differs: numpy " in status
    assert "0.0.1 locked" in status and "no-such-package" not in status
    assert lock_file_status(tmp_path / "missing.lock") == "not found"


# --- the cache of the columns read ---------------------------------------------------------
def _cache_files(folder: Path) -> list[Path]:
    return sorted((folder / "cache").glob("runs-*.parquet"))


def test_a_finished_sweep_leaves_the_report_columns_cached(swept):
    (cache,) = _cache_files(swept)
    held = Store(swept).columns()
    assert pq.read_schema(cache).names == ["run_id", *analysis.report_columns(held)]


def test_the_cache_reads_back_exactly_what_the_runs_hold(swept, tmp_path, monkeypatch):
    copy = tmp_path / "copy"
    shutil.copytree(swept, copy)
    shutil.rmtree(copy / "cache")
    wanted = ["step", "unmet_share", "strategy"]
    from_runs = Store(copy).read_runs(wanted)
    assert len(_cache_files(copy)) == 1
    # a new reader (the report run again) reads the one cache file, not the runs
    monkeypatch.setattr(Store, "dataset", lambda *a, **k: pytest.fail("read the runs"))
    from_cache = Store(copy).read_runs(wanted)
    pd.testing.assert_frame_equal(from_cache, from_runs, check_exact=True)
    assert list(from_cache.columns) == ["run_id", *wanted]


def test_a_changed_run_is_never_read_from_an_old_cache(swept, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(swept, copy)
    (before,) = _cache_files(copy)
    store = Store(copy)
    run_id = sorted(store.done_run_ids())[2]
    frame = pd.read_parquet(store.run_path(run_id))
    frame["unmet_share"] = 0.25  # as if rerun, or edited by hand
    store.write_run(run_id, frame)
    again = Store(copy).read_runs(["unmet_share"])
    assert (again.loc[again["run_id"] == run_id, "unmet_share"] == 0.25).all()
    (after,) = _cache_files(copy)  # the old cache is gone, the new one holds the change
    assert after != before and not before.exists()
    # and what was cached before (the report's columns) stays cached with the new read
    assert set(pq.read_schema(after).names) >= {
        "unmet_share",
        *analysis.report_columns(Store(copy).columns()),
    }


def test_reading_works_where_no_cache_can_be_written(swept, tmp_path, monkeypatch):
    copy = tmp_path / "copy"
    shutil.copytree(swept, copy)
    shutil.rmtree(copy / "cache")

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(store_module.tempfile, "mkstemp", refuse)
    frame = Store(copy).read_runs(["unmet_share"])
    assert len(frame) == 6 * 56 and not _cache_files(copy)


def test_a_damaged_cache_file_is_read_past(swept, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(swept, copy)
    expected = Store(copy).read_runs(["unmet_share"])
    (cache,) = _cache_files(copy)
    cache.write_bytes(cache.read_bytes()[:100])  # cut short, e.g. by a full disk
    frame = Store(copy).read_runs(["unmet_share"])
    pd.testing.assert_frame_equal(frame, expected, check_exact=True)
    assert pq.read_schema(cache).names  # written anew
