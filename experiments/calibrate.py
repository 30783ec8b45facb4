"""``civic-sim calibrate SPEC``: history matching of the model against the targets.

A calibration spec (TOML; ``experiments/specs/calibration.toml`` is the shipped one)
names the parameters to calibrate and their prior ranges, the targets used and the ones
held back for validation, how the runs are made (strategy, residents, weeks, replicates,
seed) and the waves. Each wave's runs go through the project's runner and store
(``OUT/wave-1``, ``OUT/wave-2``, ...), so an interrupted calibration resumes where it
stopped and can run on processes or Dask; the waves' points are a deterministic function
of the seed and the runs before them, so a rerun asks for the same runs.

Parameters (``[parameters]``): ``name = "declared"`` takes the range the parameter
declares in ``model/parameters.py``; ``name = [low, high]`` sets one (within the allowed
range). Without a ``[parameters]`` table, ``[screening]`` names a screening result
(``sensitivity.csv`` of a Morris or Sobol' sweep; a group of a grouped Morris ranks each
of its members) and ``top``: the invented parameters ranked highest there, at their
declared ranges.

``extends = "other.toml"`` takes another calibration spec's keys and merges this file's
into them (``experiments/specs/calibration_abc.toml`` is ``calibration.toml`` with
``[abc]``). ``[abc]`` refines the history-matched region by ABC-SMC
(:mod:`experiments.abc`); its batches of runs go through the runner and store too
(``OUT/abc/population-T/batch-B``).

Output in ``OUT``: ``ensemble.parquet`` (:mod:`experiments.ensemble`), ``calibration.md``
and ``calibration.html`` (the diagnostics), ``figures/`` and the tables as CSV; with
``ensemble = "path"`` the ensemble is also copied there (the shipped file).
"""

from __future__ import annotations

import json
import math
import shlex
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments import history_matching as hm
from experiments.calibration import TARGETS_FILE, Target, TargetError, load_targets

TOP_KEYS = (
    "extends",
    "name",
    "description",
    "out",
    "ensemble",
    "targets_file",
    "targets",
    "holdout",
    "strategy",
    "residents",
    "steps",
    "replicates",
    "seed",
    "fixed",
    "parameters",
    "screening",
    "history_matching",
    "abc",
)
HM_KEYS = (
    "points_per_wave",
    "cutoff",
    "rule",
    "discrepancy",
    "discrepancy_by_target",
    "candidates",
    "prior_sample",
)
ABC_KEYS = (
    "populations",
    "population_size",
    "epsilon",
    "alpha",
    "initial_epsilon",
    "min_epsilon",
    "max_evaluations",
    "min_acceptance_rate",
    "distance",
    "kernel_scale",
    "replicates",
)


class CalibrationError(ValueError):
    """A problem with a calibration spec or its inputs; one line naming the field."""


@dataclass
class CalibrationSpec:
    """A validated calibration spec.

    Attributes:
        name: Short name.
        description: What it is for.
        out: Output folder.
        ensemble: Where the ensemble is copied as well (None: only ``OUT``).
        targets_file: The targets file.
        targets: The targets matched.
        holdout: The targets held back (validation out of sample).
        strategy: The council strategy of the calibration runs (today's policy).
        residents: Older residents per run.
        steps: Weeks per run.
        replicates: Seeds per design point.
        seed: Root seed (runs and waves).
        fixed: Other parameter values of every run.
        ranges: Prior range of each calibrated parameter.
        range_source: Where each range came from (``declared``, ``spec``).
        points_per_wave: Run points per wave.
        cutoff: Implausibility cutoff.
        rule: ``max`` or ``second_max``.
        discrepancy: Model discrepancy as a multiple of each target's ``obs_sd``.
        discrepancy_by_target: Model discrepancy (standard deviation) set per target.
        candidates: Candidates tried per wave.
        prior_sample: Size of the prior sample the shares ruled out are measured on.
        abc: The ABC-SMC refinement asked for (``[abc]``), or None.
        source: The spec file.
    """

    name: str
    description: str = ""
    out: str = ""
    ensemble: str | None = None
    targets_file: str = str(TARGETS_FILE)
    targets: list[Target] = field(default_factory=list)
    holdout: list[Target] = field(default_factory=list)
    strategy: str = "direct"
    residents: int = 1000
    steps: int = 520
    replicates: int = 2
    seed: int = 0
    fixed: dict[str, Any] = field(default_factory=dict)
    ranges: dict[str, tuple[float, float]] = field(default_factory=dict)
    range_source: dict[str, str] = field(default_factory=dict)
    points_per_wave: list[int] = field(default_factory=lambda: [40, 30])
    cutoff: float = hm.DEFAULT_CUTOFF
    rule: str = "max"
    discrepancy: float = 0.5
    discrepancy_by_target: dict[str, float] = field(default_factory=dict)
    candidates: int = 20000
    prior_sample: int = 20000
    abc: Any = None
    source: str | None = None

    @property
    def scenarios(self) -> list[str]:
        """Scenarios the runs need (calibration and held-out targets)."""
        return list(dict.fromkeys(t.scenario for t in self.targets + self.holdout))

    def observations(self) -> list[hm.Observation]:
        """The calibration targets with their observation error and discrepancy."""
        return [
            hm.Observation(
                t.name,
                t.value,
                t.obs_sd,
                self.discrepancy_by_target.get(t.name, self.discrepancy * t.obs_sd),
            )
            for t in self.targets
        ]

    def as_dict(self) -> dict[str, Any]:
        """Plain form (recorded in the ensemble's metadata)."""
        return {
            "name": self.name,
            "targets_file": self.targets_file,
            "targets": [t.name for t in self.targets],
            "holdout": [t.name for t in self.holdout],
            "strategy": self.strategy,
            "residents": self.residents,
            "steps": self.steps,
            "replicates": self.replicates,
            "seed": self.seed,
            "fixed": self.fixed,
            "ranges": {k: list(v) for k, v in self.ranges.items()},
            "range_source": self.range_source,
            "points_per_wave": self.points_per_wave,
            "cutoff": self.cutoff,
            "rule": self.rule,
            "discrepancy": self.discrepancy,
            "discrepancy_by_target": self.discrepancy_by_target,
            "abc": None if self.abc is None else self.abc.as_dict(),
        }


def _fail(path: str, message: str) -> CalibrationError:
    return CalibrationError(f"{path}: {message}")


def load_calibration_spec(path: str | Path) -> CalibrationSpec:
    """Read and validate a calibration spec (targets file and parameters included).

    Raises:
        CalibrationError: Naming the field at fault.
    """
    path = Path(path)
    return parse_calibration_spec(_read_with_base(path, []), path)


#: Keys whose paths are relative to the spec file that sets them.
PATH_KEYS = ("ensemble", "targets_file")


def _read_with_base(path: Path, seen: list[Path]) -> dict:
    """A spec's TOML, on top of the spec it ``extends`` (if any).

    ``extends = "calibration.toml"`` (relative to this file) takes every key of that spec;
    this file's keys replace them, and its tables (``[parameters]``, ``[abc]``, ...) are
    merged into the base's, key by key. ``ensemble = ""`` drops a base's shipped copy.
    """
    where = "calibration" if not seen else "calibration.extends"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise _fail(where, f"cannot read {str(path)!r}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise _fail(where, f"{str(path)!r} is not valid TOML: {exc}") from None
    for key in PATH_KEYS:  # paths of a base spec stay relative to the base
        if isinstance(data.get(key), str) and data[key]:
            data[key] = str(_resolve(path.parent, data[key]))
    base = data.pop("extends", None)
    if base is None:
        return data
    if not isinstance(base, str) or not base:
        raise _fail("calibration.extends", f"must name a calibration spec file, got {base!r}")
    base_path = (path.parent / base).resolve()
    if base_path in seen or base_path == path.resolve():
        raise _fail("calibration.extends", f"{base!r} extends itself (a cycle)")
    merged = _read_with_base(base_path, [*seen, path.resolve()])
    for key, value in data.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


def _int(data: dict, key: str, default: int, lo: int, hi: int, where="calibration") -> int:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise _fail(f"{where}.{key}", f"must be an integer from {lo} to {hi}, got {value!r}")
    return value


def _names(data: dict, key: str) -> list[str] | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail(f"calibration.{key}", f"must be a list of target names, got {value!r}")
    return value


def parse_calibration_spec(data: dict, source: Path | None = None) -> CalibrationSpec:
    """Validate a calibration spec read from TOML.

    Raises:
        CalibrationError: Naming the field at fault.
    """
    from experiments.spec import SpecError, _parameter_value
    from model.strategies import strategy_names

    for key in data:
        if key not in TOP_KEYS:
            raise _fail(f"calibration.{key}", f"unknown key; allowed keys: {', '.join(TOP_KEYS)}")
    base = source.parent if source is not None else Path.cwd()
    name = data.get("name", source.stem if source is not None else "calibration")
    spec = CalibrationSpec(name=str(name), source=str(source) if source else None)
    spec.description = str(data.get("description", ""))
    spec.out = str(data.get("out", "") or Path("results") / spec.name)
    if data.get("ensemble"):  # "" (after extends): no shipped copy
        spec.ensemble = str(_resolve(base, data["ensemble"]))
    if "targets_file" in data:
        spec.targets_file = str(_resolve(base, data["targets_file"]))
    try:
        targets = load_targets(spec.targets_file)
    except TargetError as exc:
        raise _fail("calibration.targets_file", str(exc)) from None
    by_name = {t.name: t for t in targets.targets}
    chosen = _names(data, "targets")
    holdout = _names(data, "holdout") or []
    for key, names in (("targets", chosen or []), ("holdout", holdout)):
        for i, n in enumerate(names):
            if n not in by_name:
                raise _fail(
                    f"calibration.{key}[{i}]",
                    f"no target named {n!r} in {spec.targets_file}; see 'civic-sim calibrate'",
                )
    overlap = set(chosen or []) & set(holdout)
    if overlap:
        raise _fail("calibration.holdout", f"{sorted(overlap)[0]!r} is also a calibration target")
    spec.holdout = [by_name[n] for n in holdout]
    spec.targets = [
        t for t in targets.targets if (chosen is None or t.name in chosen) and t.name not in holdout
    ]
    if not spec.targets:
        raise _fail("calibration.targets", "no target is left to calibrate on")

    spec.strategy = str(data.get("strategy", "direct"))
    if spec.strategy not in strategy_names():
        raise _fail(
            "calibration.strategy",
            f"must be one of {', '.join(strategy_names())}, got {spec.strategy!r}",
        )
    spec.residents = _int(data, "residents", 1000, 20, 1_000_000)
    spec.steps = _int(data, "steps", 520, 52, 10_000)
    spec.replicates = _int(data, "replicates", 2, 1, 1000)
    spec.seed = _int(data, "seed", 0, 0, 2**63 - 1)
    fixed = data.get("fixed", {})
    if not isinstance(fixed, dict):
        raise _fail("calibration.fixed", "must be a table of parameter = value")
    try:
        spec.fixed = {k: _parameter_value(f"calibration.fixed.{k}", k, v) for k, v in fixed.items()}
    except SpecError as exc:
        raise CalibrationError(str(exc)) from None
    for reserved in ("strategy", "residents", "scenario"):
        if reserved in spec.fixed:
            raise _fail(f"calibration.fixed.{reserved}", "is set by its own key, not here")
    spec.ranges, spec.range_source = _parameters(data, spec.fixed)
    _history_matching(data.get("history_matching", {}), spec)
    if "abc" in data:
        spec.abc = _abc(data["abc"], spec)
    return spec


def _resolve(base: Path, value: Any) -> Path:
    if not isinstance(value, str):
        raise _fail("calibration", f"a path must be a string, got {value!r}")
    path = Path(value)
    return path if path.is_absolute() else (base / path).resolve()


def declared_range(name: str, where: str) -> tuple[float, float]:
    """The plausible range a parameter declares.

    Raises:
        CalibrationError: If the parameter is unknown, not numeric or declares no range.
    """
    from model.parameters import PARAMETER_FIELDS

    if name not in PARAMETER_FIELDS:
        raise _fail(where, "unknown parameter; see 'civic-sim list parameters'")
    meta = PARAMETER_FIELDS[name].metadata
    if meta.get("range") is None:
        raise _fail(
            where,
            f"parameter {name!r} declares no plausible range (kind {meta.get('kind')!r}) in "
            "model/parameters.py; declare one there with its reason, or give [low, high] here",
        )
    low, high = meta["range"]
    return low, high


def _parameters(data: dict, fixed: dict) -> tuple[dict, dict]:
    from experiments.spec import SpecError, _parameter_value

    table = data.get("parameters")
    ranges, source = {}, {}
    if table is None:
        return _from_screening(data.get("screening"), fixed)
    if not isinstance(table, dict) or not table:
        raise _fail("calibration.parameters", 'must be a table of name = "declared" or [low, high]')
    for name, value in table.items():
        where = f"calibration.parameters.{name}"
        if name in fixed:
            raise _fail(where, "is also in calibration.fixed; set it in one place")
        if value == "declared":
            ranges[name] = declared_range(name, where)
            source[name] = "declared"
            continue
        if not isinstance(value, list) or len(value) != 2:
            raise _fail(where, f'must be "declared" or [low, high], got {value!r}')
        try:
            low = _parameter_value(f"{where}[0]", name, value[0])
            high = _parameter_value(f"{where}[1]", name, value[1])
        except SpecError as exc:
            raise CalibrationError(str(exc)) from None
        if not isinstance(low, int | float) or not isinstance(high, int | float) or low >= high:
            raise _fail(where, f"must be [low, high] with low below high, got {value!r}")
        ranges[name] = (low, high)
        source[name] = "spec"
    return ranges, source


def _from_screening(table: Any, fixed: dict) -> tuple[dict, dict]:
    """The invented parameters a screening result ranks highest, at their declared ranges."""
    from model.parameters import PARAMETER_FIELDS

    if table is None:
        raise _fail(
            "calibration.parameters",
            "name the parameters to calibrate, or give [screening] file = "
            "'.../sensitivity.csv' and top = N to take the invented ones screening ranked highest",
        )
    if not isinstance(table, dict) or "file" not in table:
        raise _fail("calibration.screening", "must be a table with file = '...sensitivity.csv'")
    top = _int(table, "top", 6, 1, 100, "calibration.screening")
    path = Path(table["file"])
    try:
        ranking = pd.read_csv(path)
    except (OSError, pd.errors.ParserError) as exc:
        raise _fail("calibration.screening.file", f"cannot read {str(path)!r}: {exc}") from None
    if not {"parameter", "rank"} <= set(ranking.columns):
        raise _fail("calibration.screening.file", "needs the columns parameter and rank")
    if "outcome" in table:
        ranking = ranking[ranking["outcome"] == table["outcome"]]
    ranking = ranking.dropna(subset=["rank"])
    if "members" in ranking.columns:  # a grouped Morris screening: a group ranks its members
        ranking = ranking.assign(parameter=ranking["members"].str.split(";")).explode("parameter")
    best = ranking.groupby("parameter", sort=False)["rank"].min().sort_values(kind="stable")
    ranges, source = {}, {}
    for name in best.index:
        fld = PARAMETER_FIELDS.get(name)
        if fld is None or fld.metadata.get("kind") != "invented" or name in fixed:
            continue
        if fld.metadata.get("range") is None:
            continue
        ranges[name] = tuple(fld.metadata["range"])
        source[name] = f"declared (screening rank {best[name]:g})"
        if len(ranges) == top:
            break
    if not ranges:
        raise _fail("calibration.screening.file", "ranks no invented parameter with a range")
    return ranges, source


def _history_matching(table: Any, spec: CalibrationSpec) -> None:
    where = "calibration.history_matching"
    if not isinstance(table, dict):
        raise _fail(where, "must be a table")
    for key in table:
        if key not in HM_KEYS:
            raise _fail(f"{where}.{key}", f"unknown key; allowed keys: {', '.join(HM_KEYS)}")
    waves = table.get("points_per_wave", spec.points_per_wave)
    if (
        not isinstance(waves, list)
        or not waves
        or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 5 for n in waves)
    ):
        raise _fail(f"{where}.points_per_wave", f"must be a list of integers >= 5, got {waves!r}")
    spec.points_per_wave = waves
    for key, lo in (("cutoff", 0.5), ("discrepancy", 0.0)):
        value = table.get(key, getattr(spec, key))
        if isinstance(value, bool) or not isinstance(value, int | float) or value < lo:
            raise _fail(f"{where}.{key}", f"must be a number of at least {lo:g}, got {value!r}")
        setattr(spec, key, float(value))
    spec.rule = table.get("rule", spec.rule)
    if spec.rule not in ("max", "second_max"):
        raise _fail(f"{where}.rule", f"must be max or second_max, got {spec.rule!r}")
    by_target = table.get("discrepancy_by_target", {})
    names = {t.name for t in spec.targets}
    for name, value in by_target.items():
        if name not in names:
            raise _fail(f"{where}.discrepancy_by_target", f"no calibration target {name!r}")
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise _fail(f"{where}.discrepancy_by_target.{name}", f"must be >= 0, got {value!r}")
        spec.discrepancy_by_target[name] = float(value)
    spec.candidates = _int(table, "candidates", spec.candidates, 100, 10**7, where)
    spec.prior_sample = _int(table, "prior_sample", spec.prior_sample, 100, 10**7, where)


def _abc(table: Any, spec: CalibrationSpec):
    """Validate ``[abc]``: the ABC-SMC refinement inside the history-matched region."""
    import math

    from experiments.abc import AbcSettings

    where = "calibration.abc"
    if not isinstance(table, dict):
        raise _fail(where, "must be a table (for example populations = 3, population_size = 20)")
    for key in table:
        if key not in ABC_KEYS:
            raise _fail(f"{where}.{key}", f"unknown key; allowed keys: {', '.join(ABC_KEYS)}")
    settings = AbcSettings()
    settings.populations = _int(table, "populations", settings.populations, 1, 100, where)
    settings.population_size = _int(
        table, "population_size", settings.population_size, 5, 100_000, where
    )

    def number(key: str, default: float, lo: float, hi: float, open_low=False) -> float:
        value = table.get(key, default)
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if not ok or not (lo < value if open_low else lo <= value) or not value <= hi:
            low = f"above {lo:g}" if open_low else f"from {lo:g}"
            raise _fail(f"{where}.{key}", f"must be a number {low} to {hi:g}, got {value!r}")
        return float(value)

    settings.alpha = number("alpha", settings.alpha, 0.0, 1.0, open_low=True)
    epsilon = table.get("epsilon", "quantile")
    if isinstance(epsilon, list):
        if (
            not epsilon
            or not all(isinstance(e, int | float) and not isinstance(e, bool) for e in epsilon)
            or any(e <= 0 for e in epsilon)
            or any(b > a for a, b in zip(epsilon, epsilon[1:], strict=False))
        ):
            raise _fail(
                f"{where}.epsilon",
                f"a schedule must be a non-increasing list of positive numbers, got {epsilon!r}",
            )
        settings.epsilon = [float(e) for e in epsilon]
        if "populations" not in table:
            settings.populations = len(epsilon)
        elif settings.populations > len(epsilon):
            raise _fail(
                f"{where}.populations",
                f"is {settings.populations} but the epsilon schedule has {len(epsilon)} entries",
            )
    elif epsilon != "quantile":
        raise _fail(
            f"{where}.epsilon",
            f'must be "quantile" or a list of thresholds (one per population), got {epsilon!r}',
        )
    initial = table.get("initial_epsilon", "inf")
    if initial == "inf":
        settings.initial_epsilon = math.inf
    elif initial == "from_sample":
        settings.initial_epsilon = "from_sample"
    elif isinstance(initial, int | float) and not isinstance(initial, bool) and initial > 0:
        settings.initial_epsilon = float(initial)
    else:
        raise _fail(
            f"{where}.initial_epsilon",
            f'must be a positive number, "inf" or "from_sample", got {initial!r}',
        )
    if isinstance(settings.epsilon, list) and "initial_epsilon" in table:
        raise _fail(f"{where}.initial_epsilon", "is the first entry of an epsilon schedule")
    settings.min_epsilon = number("min_epsilon", 0.0, 0.0, 1e12)
    settings.min_acceptance_rate = number("min_acceptance_rate", 0.0, 0.0, 1.0)
    settings.kernel_scale = number("kernel_scale", 1.0, 0.0, 100.0, open_low=True)
    if "max_evaluations" in table:
        settings.max_evaluations = _int(
            table, "max_evaluations", 0, settings.population_size, 10**8, where
        )
    settings.distance = table.get("distance", "euclidean")
    if settings.distance not in ("euclidean", "max"):
        raise _fail(f"{where}.distance", f"must be euclidean or max, got {settings.distance!r}")
    if "replicates" in table:  # default: the calibration's (after a --replicates)
        settings.replicates = _int(table, "replicates", 1, 1, 1000, where)
    return settings


# --- running -----------------------------------------------------------------------------
@dataclass
class RunOptions:
    """How the waves' runs execute (the sweep options of the runner)."""

    executor: str = "processes"
    workers: int | None = None
    dask: str | None = None
    progress: bool = True


def points_spec(
    spec: CalibrationSpec, name: str, about: str, out: Path, points: list[dict], replicates: int
):
    """The experiment spec of one batch of calibration runs: every point in every
    scenario the targets need, on the calibration's replicate seeds (one root entropy
    for every wave and batch: common random numbers)."""
    from experiments import spec as specs

    design_points = [{**p, "scenario": s} for p in points for s in spec.scenarios]
    return specs.Spec(
        name=name,
        description=about,
        strategies=[spec.strategy],
        replicates=replicates,
        steps=spec.steps,
        seed=spec.seed,
        out=str(out),
        fixed={**spec.fixed, "residents": spec.residents},
        design=specs.Design(type="points", points=json.loads(json.dumps(design_points))),
        baseline=spec.strategy,
    )


def wave_spec(spec: CalibrationSpec, index: int, points: list[dict[str, Any]]):
    """The experiment spec of one history-matching wave (``OUT/wave-K``)."""
    return points_spec(
        spec,
        f"{spec.name}-wave-{index}",
        f"history-matching wave {index} of {spec.name}",
        Path(spec.out) / f"wave-{index}",
        points,
        spec.replicates,
    )


def abc_batch_spec(spec: CalibrationSpec, label: str, points: list[dict[str, Any]]):
    """The experiment spec of one ABC-SMC batch (``OUT/abc/population-T/batch-B``)."""
    return points_spec(
        spec,
        f"{spec.name}-abc-{label.replace('/', '-')}",
        f"ABC-SMC {label} of {spec.name}",
        Path(spec.out) / "abc" / label,
        points,
        spec.abc.replicates or spec.replicates,
    )


def run_wave(spec: CalibrationSpec, index: int, points: list[dict[str, Any]], opts: RunOptions):
    """Run (or resume) a wave through the runner and store; return every target's
    replicate mean and variance at each point (calibration targets, then held-out ones).

    Raises:
        CalibrationError: If runs failed (finished runs stay stored; a rerun resumes).
    """
    return run_points(spec, wave_spec(spec, index, points), points, opts, f"wave {index}")


def run_points(spec: CalibrationSpec, sweep, points: list[dict[str, Any]], opts, label: str):
    """Run (or resume) one batch of calibration runs through the runner and store, and
    return every target's replicate mean and variance at each point (n x T, calibration
    targets then held-out ones).

    Raises:
        CalibrationError: If runs failed (finished runs stay stored; a rerun resumes).
        KeyboardInterrupt: If the sweep was interrupted (the finished runs are stored).
    """
    from experiments import runner
    from experiments.store import Store

    summary = runner.run_sweep(
        sweep,
        sweep.out,
        executor=opts.executor,
        workers=opts.workers,
        dask=opts.dask,
        progress=opts.progress,
    )
    if summary.interrupted:
        raise KeyboardInterrupt
    if summary.failed:
        raise CalibrationError(
            f"{label}: {len(summary.failed)} runs failed (first {summary.failed[0]}; "
            f"tracebacks in {sweep.out}/manifest.json); the finished runs are kept and a rerun "
            "resumes"
        )
    frame = Store(sweep.out).read_runs()
    targets = spec.targets + spec.holdout
    n_scen = len(spec.scenarios)
    means = np.full((len(points), len(targets)), np.nan)
    variances = np.full_like(means, np.nan)
    values: dict[tuple[int, int], list[float]] = {}
    for _, run in frame.groupby("run_id", sort=True):
        design_point = int(run["point"].iloc[0])
        i, s = divmod(design_point, n_scen)
        run = run.sort_values("step")
        for t, target in enumerate(targets):
            if target.scenario == spec.scenarios[s]:
                values.setdefault((i, t), []).append(target.measure(run))
    for (i, t), v in values.items():
        means[i, t] = float(np.mean(v))
        variances[i, t] = float(np.var(v, ddof=1)) if len(v) > 1 else 0.0
    bad = np.argwhere(~np.isfinite(means[:, : len(spec.targets)]))
    if len(bad):
        i, t = bad[0]
        raise CalibrationError(
            f"target {spec.targets[t].name!r}: its statistic is not a number at {label} "
            f"point {i} ({points[i]}); check the target's metric and window"
        )
    return means, variances


@dataclass
class Calibration:
    """A finished calibration: the spec, the history match and every target's values.

    Attributes:
        spec: The calibration spec.
        match: What history matching found.
        all_means: Every target's replicate means at each wave's points.
        ensemble: The ensemble written (ABC-SMC's if it ran, else history matching's).
        meta: Its metadata.
        out: The output folder.
        history_ensemble: History matching's ensemble (the same as ``ensemble`` without
            ABC-SMC).
        abc: What ABC-SMC found (None if not asked for).
    """

    spec: CalibrationSpec
    match: hm.HistoryMatch
    all_means: list[np.ndarray]
    ensemble: pd.DataFrame
    meta: dict[str, Any]
    out: Path
    history_ensemble: pd.DataFrame | None = None
    abc: Any = None


def run_calibration(spec: CalibrationSpec, opts: RunOptions | None = None) -> Calibration:
    """History-match the model, write the ensemble and the diagnostics report.

    Raises:
        CalibrationError: For failed runs or an empty plausible region (the runs made are
            kept in ``OUT``).
    """
    from experiments.store import ensure_writable_folder

    opts = opts or RunOptions()
    out = Path(spec.out)
    try:
        ensure_writable_folder(out)
    except ValueError as exc:
        raise CalibrationError(f"--out: {exc}") from None
    box = hm.Box.from_ranges(
        spec.ranges,
        integer=[n for n, r in spec.ranges.items() if all(isinstance(v, int) for v in r)],
    )
    n_cal = len(spec.targets)
    all_means: list[np.ndarray] = []

    def simulate(points, wave):
        means, variances = run_wave(spec, wave, points, opts)
        all_means.append(means)
        return means[:, :n_cal], variances[:, :n_cal]

    try:
        match = hm.history_match(
            simulate,
            box,
            spec.observations(),
            points_per_wave=spec.points_per_wave,
            replicates=spec.replicates,
            cutoff=spec.cutoff,
            rule=spec.rule,
            seed=spec.seed % 2**32,
            prior_sample_size=spec.prior_sample,
            candidates=spec.candidates,
        )
    except hm.HistoryMatchingError as exc:
        raise CalibrationError(f"{exc} (the runs made so far are kept in {out})") from None
    ensemble, meta = ensemble_frame(spec, match, all_means)
    from experiments.ensemble import write_ensemble

    history_ensemble, abc_result = ensemble, None
    if spec.abc is not None:
        write_ensemble(ensemble, out / "ensemble-history-matching.parquet", meta)
        abc_result = run_abc(spec, match, opts)
        ensemble, meta = abc_ensemble_frame(spec, match, abc_result, meta)
    write_ensemble(ensemble, out / "ensemble.parquet", meta)
    if spec.ensemble:
        write_ensemble(ensemble, Path(spec.ensemble), meta)
    result = Calibration(spec, match, all_means, ensemble, meta, out, history_ensemble, abc_result)
    from experiments.calibration_report import write_calibration_report

    write_calibration_report(result)
    return result


def run_abc(spec: CalibrationSpec, match: hm.HistoryMatch, opts: RunOptions):
    """ABC-SMC (pyabc) inside the history-matched region; every batch of proposals is one
    sweep of the runner and store in ``OUT/abc/population-T/batch-B``.

    The prior is uniform on the region every wave's emulators keep (see
    :mod:`experiments.abc`); the distance is the standardised Euclidean (or maximum)
    distance over the calibration targets, with the same observation errors and model
    discrepancies as history matching.

    Raises:
        CalibrationError: If a population cannot be filled (the runs made are kept).
    """
    from experiments import abc

    def simulate(points, label):
        sweep = abc_batch_spec(spec, label, points)
        means, _ = run_points(spec, sweep, points, opts, f"ABC-SMC {label}")
        return means

    try:
        return abc.abc_smc(
            simulate,
            match.box,
            match.passes,
            1.0 - match.share_ruled_out,
            spec.observations(),
            spec.abc,
            seed=spec.seed,
            database=Path(spec.out) / "abc" / "pyabc.db",
        )
    except abc.AbcError as exc:
        raise CalibrationError(
            f"calibration.abc: {exc} (the runs made so far are kept in {spec.out})"
        ) from None


def abc_ensemble_frame(spec: CalibrationSpec, match: hm.HistoryMatch, result, history_meta):
    """The ensemble of ABC-SMC's last population (importance weights) and its metadata."""
    targets = spec.targets + spec.holdout
    n_cal = len(spec.targets)
    replicates = spec.abc.replicates or spec.replicates
    noise = match.waves[-1].replicate_noise * spec.replicates / replicates
    worst = hm.max_implausibility(
        hm.implausibility(
            match.observations,
            result.statistics[:, :n_cal],
            np.zeros((len(result.values), n_cal)),
            noise,
        ),
        match.rule,
    )
    frame = pd.DataFrame({"member": np.arange(len(result.values), dtype=np.int64)})
    frame["weight"] = result.weights
    frame["population"] = np.full(len(result.values), result.populations[-1].t, dtype=np.int64)
    frame["distance"] = result.distances
    frame["max_implausibility"] = worst
    for j, name in enumerate(match.box.names):
        column = result.values[:, j]
        frame[name] = column.astype(np.int64) if match.box.integer[j] else np.round(column, 12)
    for t, target in enumerate(targets):
        frame[f"target:{target.name}"] = result.statistics[:, t]
    meta = dict(history_meta)
    meta["method"] = (
        f"ABC-SMC (pyabc {result.pyabc_version}) inside the history-matched region "
        "(importance weights)"
    )
    meta["history_matching_members"] = int(len(match.ensemble_unit))
    meta["abc"] = {
        "settings": spec.abc.as_dict(),
        "replicates": replicates,
        "prior": "uniform on the region every history-matching wave's emulators keep",
        "distance": f"standardised {spec.abc.distance} over the calibration targets "
        "(difference / sqrt(obs_sd^2 + discrepancy^2))",
        "populations": [
            {
                "t": p.t,
                "epsilon": p.epsilon,
                "evaluations": p.evaluations,
                "accepted": p.accepted,
                "acceptance_rate": p.acceptance_rate,
                "ess": p.ess,
                "batches": p.batches,
            }
            for p in result.populations
        ],
        "calibration_evaluations": result.calibration_evaluations,
        "evaluations": result.evaluations,
        "ess": result.ess,
        "stopped": result.stopped,
    }
    return frame, meta


def regenerate_command(spec: CalibrationSpec) -> str:
    """The command that makes this ensemble again."""
    source = spec.source or "SPEC"
    try:
        source = str(Path(source).resolve().relative_to(Path.cwd()))
    except ValueError:
        pass
    return f"civic-sim calibrate {shlex.quote(source)}"


def ensemble_frame(spec: CalibrationSpec, match: hm.HistoryMatch, all_means: list[np.ndarray]):
    """The ensemble table and its metadata."""
    from experiments.store import (
        git_commit,
        model_code_hash,
        model_fingerprint,
        now,
        package_versions,
    )

    values = match.box.from_unit(match.ensemble_unit)
    targets = spec.targets + spec.holdout
    # every target's simulated value of each member (held-out ones from the same runs)
    rows = [
        all_means[int(wave) - 1][int(row)]
        for wave, row in zip(match.ensemble_wave, match.ensemble_row, strict=True)
    ]
    frame = pd.DataFrame({"member": np.arange(len(values), dtype=np.int64)})
    frame["weight"] = 1.0 / len(values)
    frame["wave"] = match.ensemble_wave.astype(np.int64)
    frame["max_implausibility"] = match.ensemble_implausibility
    for j, name in enumerate(match.box.names):
        column = values[:, j]
        frame[name] = column.astype(np.int64) if match.box.integer[j] else np.round(column, 12)
    table = np.vstack(rows)
    for t, target in enumerate(targets):
        frame[f"target:{target.name}"] = table[:, t]
    meta = {
        "format": 1,
        "created": now(),
        "model_fingerprint": model_fingerprint(),
        "model_code": model_code_hash(),
        "git_commit": git_commit(),
        "versions": package_versions(),
        "calibration": spec.as_dict(),
        "command": regenerate_command(spec),
        "share_ruled_out": match.share_ruled_out,
        "method": "history matching (equal weights)",
        "parameters": list(match.box.names),
    }
    return frame, meta


def heldout_table(calibration: Calibration) -> pd.DataFrame:
    """How the ensemble predicts each held-out target, against the prior (wave 1).

    With ABC-SMC there is a row per target for each ensemble (history matching's, equal
    weights; ABC-SMC's, importance weights): the weighted mean and 5-95% range.

    Returns:
        One row per held-out target and ensemble: value, band, the ensemble's mean,
        5-95% range and (weighted) share in band, and the share in band of the wave-1
        (prior) runs.
    """
    spec = calibration.spec
    rows = []
    offset = len(spec.targets)
    ensembles = [("history matching", calibration.history_ensemble)]
    if calibration.abc is not None:
        ensembles.append(("ABC-SMC", calibration.ensemble))
    if ensembles[0][1] is None:
        ensembles[0] = ("history matching", calibration.ensemble)
    for h, target in enumerate(spec.holdout):
        prior = calibration.all_means[0][:, offset + h]
        denominator = math.sqrt(target.obs_sd**2 + (spec.discrepancy * target.obs_sd) ** 2)
        for label, frame in ensembles:
            column = frame[f"target:{target.name}"].to_numpy(dtype=float)
            weights = frame["weight"].to_numpy(dtype=float)
            weights = weights / weights.sum()
            mean, lo, hi = weighted_summary(column, weights)
            inside = (column >= target.low) & (column <= target.high)
            rows.append(
                {
                    "target": target.name,
                    "ensemble": label,
                    "value": target.value,
                    "low": target.low,
                    "high": target.high,
                    "ensemble_mean": mean,
                    "ensemble_p05": lo,
                    "ensemble_p95": hi,
                    "ensemble_in_band": float(np.sum(weights * inside)),
                    "prior_in_band": float(np.mean((prior >= target.low) & (prior <= target.high))),
                    "implausibility_of_mean": abs(mean - target.value) / denominator,
                }
            )
    return pd.DataFrame(rows)


def weighted_summary(values: np.ndarray, weights: np.ndarray) -> tuple[float, float, float]:
    """Mean and 5% and 95% quantiles of weighted values (numpy's quantiles when the
    weights are equal, as history matching's are)."""
    from experiments.abc import weighted_quantile

    values = np.asarray(values, dtype=float)
    if np.allclose(weights, weights[0]):
        lo, hi = np.quantile(values, [0.05, 0.95])
        return float(values.mean()), float(lo), float(hi)
    lo, hi = weighted_quantile(values, weights, [0.05, 0.95])
    return float(np.sum(weights * values)), float(lo), float(hi)
