"""Experiment spec files (TOML): what to run, validated before anything runs.

A spec names the fixed parameters, the design (which parameters vary and how), the
strategies compared, the replicates, the number of weeks, the metrics to keep and the
output folder. ``docs/experiments.md`` shows complete examples. Every problem is
reported as a :class:`SpecError` whose message starts with the dotted path of the field
(``spec.design.ranges.civic_potential: ...``), so the CLI can print it as one line.

Designs:

* ``full_factorial``: ``[design.factors]`` maps each parameter to a list of values;
  every combination is a design point.
* ``latin_hypercube``: ``[design.ranges]`` maps numeric parameters to ``[low, high]``;
  ``samples`` points are drawn with :class:`scipy.stats.qmc.LatinHypercube`, seeded by
  ``design.seed`` (or a seed derived from the experiment's root entropy, recorded in
  the manifest).
* ``points``: ``design.points`` is an explicit list of tables of parameter values.
* ``morris``: SALib's Morris screening, ``trajectories`` x (k + 1) points on a grid of
  ``levels`` levels over ``ranges``; with ``[design.groups]`` (group name = [parameters])
  the parameters of a group move together (SALib's groups, Campolongo et al. 2007) and
  k counts the groups, each parameter not in a group being a group of its own.
* ``sobol``: SALib's Saltelli-Sobol' sample, ``base_samples`` (a power of two) x (k + 2)
  points, or x (2k + 2) with ``second_order``.
* ``ensemble``: the plausible worlds of a calibration (``design.file``, an ensemble
  Parquet file of ``civic-sim calibrate``; all members or a weighted ``sample`` of them),
  each crossed with optional ``design.factors`` (for instance the scenarios). Every
  strategy runs in every world on the same replicate seeds. The file must come from the
  running model (its fingerprint); see :mod:`experiments.ensemble`.

For ``latin_hypercube``, ``morris`` and ``sobol``, ``ranges`` is either a table of
``parameter = [low, high]`` or the name of a kind (``"invented"``, ``"data"`` or
``"lever"``): every parameter of that kind at its declared plausible range (less those
the spec fixes). The design index of each point is its row in the sample matrix
(:mod:`experiments.sensitivity` draws and stores it).

Without a ``[design]`` table the experiment has one design point (the fixed values).
"""

from __future__ import annotations

import copy
import math
import re
import tomllib
from dataclasses import dataclass, field
from itertools import product
from pathlib import Path
from typing import Any

import numpy as np

from model.parameters import PARAMETER_FIELDS, Parameters, coerce, describe_range

TOP_KEYS = (
    "name",
    "description",
    "strategies",
    "replicates",
    "steps",
    "seed",
    "metrics",
    "out",
    "plugins",
    "check",
    "fixed",
    "design",
    "report",
)
DESIGN_KEYS = {
    "full_factorial": ("type", "factors"),
    "latin_hypercube": ("type", "ranges", "samples", "seed"),
    "points": ("type", "points"),
    "morris": ("type", "ranges", "trajectories", "levels", "seed", "groups"),
    "sobol": ("type", "ranges", "base_samples", "second_order", "seed"),
    "ensemble": ("type", "file", "sample", "seed", "factors"),
}
#: Designs drawn from ranges (and seeded).
SAMPLED = ("latin_hypercube", "morris", "sobol")
#: Kinds ``ranges = "..."`` may name.
RANGE_KINDS = ("invented", "data", "lever")
REPORT_KEYS = ("baseline", "risk_threshold", "discovery_threshold", "regret_tolerance")
#: Parameters a spec may not set in ``fixed`` or the design (they have their own keys).
RESERVED = {"strategy": "strategies", "seed": "seed"}
MAX_RUNS = 1_000_000


class SpecError(ValueError):
    """A problem with a spec file; the message starts with the field's dotted path."""


def _fail(path: str, message: str) -> SpecError:
    return SpecError(f"{path}: {message}")


@dataclass
class Design:
    """How design points are made.

    Attributes:
        type: ``full_factorial``, ``latin_hypercube``, ``points``, ``morris``, ``sobol``
            or ``single``.
        factors: Values per parameter (full factorial).
        ranges: ``(low, high)`` per parameter (Latin hypercube, Morris, Sobol).
        ranges_from: The kind the ranges were taken from (``"invented"``...), or None
            for explicit ranges.
        samples: Number of Latin hypercube points.
        trajectories: Morris trajectories.
        levels: Morris grid levels.
        groups: Morris groups: group name -> the parameters that move together (empty:
            every parameter alone); parameters in no group are groups of their own.
        base_samples: Sobol base sample size (a power of two).
        second_order: Sobol second-order indices too.
        seed: Seed of the sample (None: derived from the root entropy).
        points: Explicit points (for ``ensemble``: every member crossed with the factors).
        ensemble: What an ``ensemble`` design read (file, members, weights, hash,
            fingerprint); recorded in the manifest.
    """

    type: str = "single"
    factors: dict[str, list[Any]] = field(default_factory=dict)
    ranges: dict[str, tuple[float, float]] = field(default_factory=dict)
    ranges_from: str | None = None
    samples: int = 0
    trajectories: int = 0
    levels: int = 4
    groups: dict[str, list[str]] = field(default_factory=dict)
    base_samples: int = 0
    second_order: bool = False
    seed: int | None = None
    points: list[dict[str, Any]] = field(default_factory=list)
    ensemble: dict[str, Any] | None = None

    def factor_groups(self) -> list[str] | None:
        """The group of each parameter of ``ranges``, in order, for SALib's ``groups``
        (a parameter in no group is its own); None without groups."""
        if not self.groups:
            return None
        member_of = {m: g for g, members in self.groups.items() for m in members}
        return [member_of.get(name, name) for name in self.ranges]

    def morris_factors(self) -> list[str]:
        """What a Morris design ranks: its groups (first-seen order) or its parameters."""
        groups = self.factor_groups()
        return list(dict.fromkeys(groups)) if groups else list(self.ranges)

    def varied(self) -> list[str]:
        """Names of the parameters the design varies, in first-seen order."""
        if self.type == "full_factorial":
            return list(self.factors)
        if self.type in SAMPLED:
            return list(self.ranges)
        names: list[str] = []
        for point in self.points:
            names += [k for k in point if k not in names]
        return names


@dataclass
class Spec:
    """A validated experiment spec.

    Attributes:
        name: Short name of the experiment.
        description: What it is for.
        strategies: Strategy names compared (every design point runs every strategy).
        replicates: Replicates per design point and strategy.
        steps: Weeks per run.
        seed: Root entropy (None: fresh entropy, recorded in the manifest).
        metrics: Metric columns kept (None: all registered metrics).
        out: Output folder (relative paths are relative to the working directory).
        plugins: Plugin modules or ``.py`` paths (paths resolved against the spec file).
        check: Verify the model's invariants every week.
        fixed: Parameter values shared by every run.
        design: The design.
        baseline: Strategy the report compares others with (paired differences).
        risk_threshold: Final-year unmet share counted as a bad outcome, or None for
            the median of the baseline strategy at the same design point.
        discovery_threshold: Scenario discovery counts a design point as a win when the
            mean paired difference in unmet share is below this; None: when its 95% CI
            is below zero.
        regret_tolerance: Regret (unmet share) within which a strategy counts as as
            good as the best at a design point.
        source: The spec file, if read from one.
    """

    name: str
    description: str = ""
    strategies: list[str] = field(default_factory=lambda: ["direct"])
    replicates: int = 1
    steps: int = 520
    seed: int | None = None
    metrics: list[str] | None = None
    out: str = ""
    plugins: list[str] = field(default_factory=list)
    check: bool = False
    fixed: dict[str, Any] = field(default_factory=dict)
    design: Design = field(default_factory=Design)
    baseline: str = "direct"
    risk_threshold: float | None = None
    discovery_threshold: float | None = None
    regret_tolerance: float | None = None
    source: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Plain, JSON-friendly form (what the manifest records)."""
        design: dict[str, Any] = {"type": self.design.type}
        if self.design.type == "full_factorial":
            design["factors"] = copy.deepcopy(self.design.factors)
        elif self.design.type in SAMPLED:
            design["ranges"] = {k: list(v) for k, v in self.design.ranges.items()}
            if self.design.ranges_from is not None:
                design["ranges_from"] = self.design.ranges_from
            if self.design.type == "latin_hypercube":
                design["samples"] = self.design.samples
            elif self.design.type == "morris":
                design["trajectories"] = self.design.trajectories
                design["levels"] = self.design.levels
                if self.design.groups:
                    design["groups"] = {k: list(v) for k, v in self.design.groups.items()}
            else:
                design["base_samples"] = self.design.base_samples
                design["second_order"] = self.design.second_order
            design["seed"] = self.design.seed
        elif self.design.type == "points":
            design["points"] = copy.deepcopy(self.design.points)
        elif self.design.type == "ensemble":
            design.update(copy.deepcopy(self.design.ensemble))
        return {
            "name": self.name,
            "description": self.description,
            "strategies": list(self.strategies),
            "replicates": self.replicates,
            "steps": self.steps,
            "seed": self.seed,
            "metrics": None if self.metrics is None else list(self.metrics),
            "plugins": list(self.plugins),
            "check": self.check,
            "fixed": _jsonable(self.fixed),
            "design": _jsonable(design),
            "baseline": self.baseline,
            "risk_threshold": self.risk_threshold,
            **{
                key: getattr(self, key)
                for key in ("discovery_threshold", "regret_tolerance")
                if getattr(self, key) is not None
            },
        }


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


# --- reading ---------------------------------------------------------------------------
def load_spec(path: str | Path) -> Spec:
    """Read and validate a spec file (structure and every value; plugins not loaded).

    Args:
        path: The TOML file.

    Raises:
        SpecError: If the file is missing, not TOML, or any field is wrong.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise _fail("spec", f"cannot read {str(path)!r}: {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _fail("spec", f"{str(path)!r} is not valid TOML: {exc}") from None
    return parse_spec(data, source=path)


def parse_spec(data: dict[str, Any], source: Path | None = None) -> Spec:
    """Validate the structure of a spec read from TOML (values are checked too).

    Plugins named by the spec must be loaded before :func:`check_values` (strategy,
    scenario and metric names may come from them); :func:`parse_spec` only checks the
    structure and the types.

    Args:
        data: The parsed TOML document.
        source: The file it came from (relative plugin paths are resolved against it).

    Raises:
        SpecError: Naming the first field that is wrong.
    """
    _no_unknown_keys(data, TOP_KEYS, "spec")
    default_name = source.stem if source is not None else "experiment"
    spec = Spec(name=_str(data, "name", "spec", default_name))
    spec.source = str(source) if source is not None else None
    spec.description = _str(data, "description", "spec", "")
    spec.strategies = _str_list(data, "strategies", "spec", ["direct"], non_empty=True)
    if len(set(spec.strategies)) != len(spec.strategies):
        raise _fail("spec.strategies", "must not name a strategy twice")
    spec.replicates = _int(data, "replicates", "spec", 1, lo=1, hi=100_000)
    spec.steps = _int(data, "steps", "spec", 520, lo=1, hi=10_000)
    spec.seed = _int(data, "seed", "spec", None, lo=0, hi=2**128 - 1)
    metrics = data.get("metrics")
    spec.metrics = None if metrics is None else _str_list(data, "metrics", "spec", [])
    out = _str(data, "out", "spec", "")
    spec.out = out or str(Path("results") / spec.name)
    plugins = _str_list(data, "plugins", "spec", [])
    base = source.parent if source is not None else Path.cwd()
    spec.plugins = [_resolve_plugin(p, base) for p in plugins]
    _load_spec_plugins(spec.plugins)
    spec.check = _bool(data, "check", "spec", False)

    fixed = data.get("fixed", {})
    if not isinstance(fixed, dict):
        raise _fail("spec.fixed", "must be a table of parameter = value")
    spec.fixed = {
        name: _parameter_value(f"spec.fixed.{name}", name, v) for name, v in fixed.items()
    }
    spec.design = _parse_design(data.get("design"), base, fixed=set(spec.fixed))
    overlap = set(spec.fixed) & set(spec.design.varied())
    if overlap:
        name = sorted(overlap)[0]
        raise _fail(f"spec.fixed.{name}", "is also varied by the design; set it in one place")

    report = data.get("report", {})
    if not isinstance(report, dict):
        raise _fail("spec.report", "must be a table")
    _no_unknown_keys(report, REPORT_KEYS, "spec.report")
    default_baseline = "direct" if "direct" in spec.strategies else spec.strategies[0]
    spec.baseline = _str(report, "baseline", "spec.report", default_baseline)
    if spec.baseline not in spec.strategies:
        raise _fail(
            "spec.report.baseline",
            f"must be one of the spec's strategies ({', '.join(spec.strategies)}), "
            f"got {spec.baseline!r}",
        )
    threshold = report.get("risk_threshold")
    if threshold is not None:
        if isinstance(threshold, bool) or not isinstance(threshold, int | float):
            raise _fail("spec.report.risk_threshold", f"must be a number, got {threshold!r}")
        if not 0.0 <= threshold <= 1.0:
            raise _fail("spec.report.risk_threshold", f"must be from 0 to 1, got {threshold!r}")
        spec.risk_threshold = float(threshold)
    for key, lo, hi in (("discovery_threshold", -1.0, 1.0), ("regret_tolerance", 0.0, 1.0)):
        value = report.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _fail(
                f"spec.report.{key}", f"must be a number from {lo:g} to {hi:g}, got {value!r}"
            )
        if not lo <= value <= hi:
            raise _fail(f"spec.report.{key}", f"must be from {lo:g} to {hi:g}, got {value!r}")
        setattr(spec, key, float(value))
    if design_size(spec.design) * len(spec.strategies) * spec.replicates > MAX_RUNS:
        raise _fail("spec", f"describes more than {MAX_RUNS} runs")
    return spec


def check_values(spec: Spec) -> None:
    """Check names that depend on the registries (after plugins are loaded).

    Raises:
        SpecError: For an unknown strategy, scenario or metric.
    """
    from model.metrics import metric_names
    from model.scenarios import scenario_names
    from model.strategies import strategy_names

    places = [("spec.fixed.scenario", spec.fixed.get("scenario"))]
    places += [
        (f"spec.design.factors.scenario[{i}]", v)
        for i, v in enumerate(spec.design.factors.get("scenario", []))
    ]
    places += [
        (f"spec.design.points[{i}].scenario", point.get("scenario"))
        for i, point in enumerate(spec.design.points)
    ]
    for path, scenario in places:
        if scenario is not None and scenario not in scenario_names():
            raise _fail(path, f"must be {describe_range('scenario')}, got {scenario!r}")

    known = strategy_names()
    for i, name in enumerate(spec.strategies):
        if name not in known:
            raise _fail(f"spec.strategies[{i}]", f"must be one of {', '.join(known)}, got {name!r}")
    if spec.metrics is not None:
        known_metrics = metric_names()
        for i, name in enumerate(spec.metrics):
            if name not in known_metrics:
                raise _fail(
                    f"spec.metrics[{i}]",
                    f"unknown metric {name!r}; see 'civic-sim list metrics' for the allowed names",
                )


def checked_fixed_value(spec: Spec, name: str, value: Any) -> Any:
    """Check a value given with ``civic-sim sweep --set NAME=VALUE`` for ``[fixed]``.

    Raises:
        SpecError: If the name is unknown, reserved or varied by the design, or the value
            is not allowed.
    """
    if name in spec.design.varied():
        raise _fail(f"--set {name}", "is varied by the spec's design; set it in one place")
    if isinstance(value, tuple):
        value = list(value)
    return _parameter_value(f"--set {name}", name, value)


def _load_spec_plugins(plugins: list[str]) -> None:
    """Load the spec's plugins before its values are checked: a plugin may register the
    parameters, strategies, scenarios and metrics the spec names."""
    from model.plugins import load_plugin

    for i, name in enumerate(plugins):
        try:
            load_plugin(name)
        except ValueError as exc:
            raise _fail(f"spec.plugins[{i}]", str(exc)) from None


def spec_from_dict(data: dict[str, Any]) -> Spec:
    """Rebuild a :class:`Spec` from its :meth:`Spec.as_dict` form (a manifest's ``spec``),
    validated as a spec file would be (its plugins are loaded).

    Raises:
        SpecError: If the recorded spec is no longer valid (a plugin is missing, say).
    """
    table = {k: v for k, v in data.items() if k not in ("baseline", "risk_threshold")}
    table = {k: v for k, v in table.items() if v is not None}
    report = {k: data[k] for k in ("baseline", "risk_threshold") if data.get(k) is not None}
    if report:
        table["report"] = report
    design = dict(table.get("design") or {})
    if design.get("type") == "single":
        table.pop("design", None)
    elif design:
        table["design"] = {k: v for k, v in design.items() if v is not None}
    return parse_spec(table)


def _resolve_plugin(name: str, base: Path) -> str:
    if name.endswith(".py") or "/" in name:
        path = Path(name)
        return str(path if path.is_absolute() else (base / path).resolve())
    return name


def _no_unknown_keys(table: dict, allowed, where: str) -> None:
    for key in table:
        if key not in allowed:
            raise _fail(f"{where}.{key}", f"unknown key; allowed keys: {', '.join(allowed)}")


def _str(table: dict, key: str, where: str, default: str) -> str:
    value = table.get(key, default)
    if not isinstance(value, str):
        raise _fail(f"{where}.{key}", f"must be a string, got {value!r}")
    return value


def _bool(table: dict, key: str, where: str, default: bool) -> bool:
    value = table.get(key, default)
    if not isinstance(value, bool):
        raise _fail(f"{where}.{key}", f"must be true or false, got {value!r}")
    return value


def _int(table: dict, key: str, where: str, default, *, lo: int, hi: int):
    value = table.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(f"{where}.{key}", f"must be an integer from {lo} to {hi}, got {value!r}")
    if not lo <= value <= hi:
        raise _fail(f"{where}.{key}", f"must be an integer from {lo} to {hi}, got {value!r}")
    return value


def _str_list(table: dict, key: str, where: str, default, *, non_empty=False) -> list[str]:
    value = table.get(key, default)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail(f"{where}.{key}", f"must be a list of strings, got {value!r}")
    if non_empty and not value:
        raise _fail(f"{where}.{key}", "must name at least one")
    return list(value)


_PARAM_PREFIX = re.compile(r"^parameter '[^']+' ")


def _strip_parameter_prefix(message: str) -> str:
    """``parameter 'x' must be ...`` -> ``must be ...`` (the path already names it)."""
    return _PARAM_PREFIX.sub("", message)


def _parameter_value(path: str, name: str, value: Any) -> Any:
    """Check one parameter value (name, type and range; not cross-field rules)."""
    if name in RESERVED:
        raise _fail(path, f"is set with the top-level '{RESERVED[name]}' key, not here")
    if name not in PARAMETER_FIELDS:
        raise _fail(
            path, "unknown parameter; see 'civic-sim list parameters' for the allowed names"
        )
    meta = PARAMETER_FIELDS[name].metadata
    default = PARAMETER_FIELDS[name].default
    if meta["choices"]:
        if not isinstance(value, str):
            raise _fail(path, f"must be a name ({describe_range(name)}), got {value!r}")
        if not isinstance(meta["choices"], str) and value not in meta["choices"]:
            raise _fail(path, f"must be {describe_range(name)}, got {value!r}")
        return value  # a strategy or scenario is checked in check_values (plugins loaded)
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise _fail(path, f"must be true or false, got {value!r}")
        return value
    if isinstance(value, str) or isinstance(value, bool) or isinstance(value, dict):
        raise _fail(path, f"must be {describe_range(name)}, got {value!r}")
    if isinstance(default, tuple) and not isinstance(value, list):
        raise _fail(path, f"must be {describe_range(name)}, got {value!r}")
    try:
        converted = coerce(name, value)
    except ValueError as exc:
        raise _fail(path, _strip_parameter_prefix(str(exc))) from None
    if isinstance(converted, tuple):
        if len(converted) != len(default) or any(not math.isfinite(v) or v < 0 for v in converted):
            raise _fail(path, f"must be {describe_range(name)}, got {value!r}")
        return list(converted)
    lo, hi = meta["lo"], meta["hi"]
    if converted is not None and (
        not math.isfinite(float(converted))
        or (lo is not None and converted < lo)
        or (hi is not None and converted > hi)
    ):
        raise _fail(path, f"must be {describe_range(name)}, got {value!r}")
    return converted


def _parse_ranges(design: dict, fixed: set[str]) -> tuple[dict[str, tuple], str | None]:
    """The ``ranges`` of a sampled design: a table, or the name of a kind."""
    from model.parameters import parameters_of_kind

    ranges = design.get("ranges")
    if isinstance(ranges, str):
        if ranges not in RANGE_KINDS:
            raise _fail(
                "spec.design.ranges",
                f"must be a table of parameter = [low, high] or one of "
                f"{', '.join(repr(k) for k in RANGE_KINDS)}, got {ranges!r}",
            )
        declared = {k: v for k, v in parameters_of_kind(ranges).items() if k not in fixed}
        if not declared:
            raise _fail(
                "spec.design.ranges",
                f"no parameter of kind {ranges!r} declares a plausible range (outside "
                "spec.fixed); give explicit ranges as a table of parameter = [low, high]",
            )
        return dict(declared), ranges
    if not isinstance(ranges, dict) or not ranges:
        raise _fail("spec.design.ranges", "must be a table of parameter = [low, high]")
    out = {}
    for name, bounds in ranges.items():
        path = f"spec.design.ranges.{name}"
        if name in PARAMETER_FIELDS and (
            PARAMETER_FIELDS[name].metadata["choices"]
            or isinstance(PARAMETER_FIELDS[name].default, tuple)
        ):
            raise _fail(path, "only numeric parameters can have a range")
        if not isinstance(bounds, list) or len(bounds) != 2:
            raise _fail(path, f"must be [low, high], got {bounds!r}")
        low = _parameter_value(f"{path}[0]", name, bounds[0])
        high = _parameter_value(f"{path}[1]", name, bounds[1])
        if low is None or high is None:
            raise _fail(path, f"must be [low, high] with two numbers, got {bounds!r}")
        if low >= high:
            raise _fail(path, f"low must be below high, got {bounds!r}")
        out[name] = (low, high)
    return out, None


def _parse_groups(groups: Any, ranges: dict[str, tuple], fixed: set[str]) -> dict[str, list[str]]:
    """Morris ``[design.groups]``: group name = [parameters of the design's ranges].

    A member the spec fixes (``[fixed]``, ``--set``) leaves its group, as it leaves
    ``ranges = "invented"``; a group left empty is dropped.
    """
    if groups is None:
        return {}
    where = "spec.design.groups"
    if not isinstance(groups, dict) or not groups:
        raise _fail(where, "must be a table of group name = [parameter, ...]")
    out: dict[str, list[str]] = {}
    seen: dict[str, str] = {}
    for group, members in groups.items():
        path = f"{where}.{group}"
        if not isinstance(members, list) or not members:
            raise _fail(path, f"must be a non-empty list of parameter names, got {members!r}")
        for i, name in enumerate(members):
            if isinstance(name, str) and name in fixed and name not in ranges:
                continue
            if not isinstance(name, str) or name not in ranges:
                raise _fail(
                    f"{path}[{i}]",
                    f"must name a parameter the design varies (one of spec.design.ranges), "
                    f"got {name!r}",
                )
            if name in seen:
                raise _fail(
                    f"{path}[{i}]",
                    f"{name!r} is already in group {seen[name]!r}; a parameter belongs to "
                    "one group at most",
                )
            seen[name] = group
        if group in ranges and members != [group]:
            raise _fail(
                path,
                f"a group may not be named after the parameter {group!r} unless it is that "
                "parameter alone (a parameter in no group is a group of its own)",
            )
        kept = [m for m in members if m in ranges]
        if kept:
            out[group] = kept
    if len(set(seen.get(n, n) for n in ranges)) < 2:
        raise _fail(where, "a Morris design needs at least two groups (or parameters alone)")
    return out


def _is_integer_parameter(name: str) -> bool:
    return isinstance(PARAMETER_FIELDS[name].default, int) or name in ("width", "height")


def _parse_design(design: Any, base: Path | None = None, fixed: set[str] | None = None) -> Design:
    fixed = fixed or set()
    if design is None:
        return Design()
    if not isinstance(design, dict):
        raise _fail("spec.design", "must be a table")
    kind = design.get("type")
    if kind not in DESIGN_KEYS:
        raise _fail("spec.design.type", f"must be one of {', '.join(DESIGN_KEYS)}, got {kind!r}")
    _no_unknown_keys(design, DESIGN_KEYS[kind], "spec.design")
    out = Design(type=kind)
    if kind == "ensemble":
        from experiments.ensemble import parse_ensemble_design

        try:
            read = parse_ensemble_design(design, base or Path.cwd(), _parameter_value)
        except SpecError:
            raise
        except ValueError as exc:
            raise SpecError(str(exc)) from None
        out.points, out.ensemble = read["points"], read["record"]
        out.ensemble["combos"] = read["combos"]
    elif kind == "full_factorial":
        factors = design.get("factors")
        if not isinstance(factors, dict) or not factors:
            raise _fail("spec.design.factors", "must be a table of parameter = [values, ...]")
        for name, values in factors.items():
            path = f"spec.design.factors.{name}"
            if not isinstance(values, list) or not values:
                raise _fail(path, f"must be a non-empty list of values, got {values!r}")
            checked = [_parameter_value(f"{path}[{i}]", name, v) for i, v in enumerate(values)]
            out.factors[name] = checked
    elif kind in SAMPLED:
        out.ranges, out.ranges_from = _parse_ranges(design, fixed)
        out.seed = _int(design, "seed", "spec.design", None, lo=0, hi=2**32 - 1)
        if kind == "latin_hypercube":
            out.samples = _int(design, "samples", "spec.design", None, lo=1, hi=MAX_RUNS)
            if out.samples is None:
                raise _fail("spec.design.samples", "is required for a latin_hypercube design")
        elif kind == "morris":
            out.trajectories = _int(design, "trajectories", "spec.design", None, lo=2, hi=10_000)
            if out.trajectories is None:
                raise _fail("spec.design.trajectories", "is required for a morris design")
            out.levels = _int(design, "levels", "spec.design", 4, lo=2, hi=100)
            out.groups = _parse_groups(design.get("groups"), out.ranges, fixed)
            for name, (low, high) in out.ranges.items():
                if _is_integer_parameter(name) and (high - low) % (out.levels - 1):
                    where = (
                        "spec.design.levels" if out.ranges_from else f"spec.design.ranges.{name}"
                    )
                    raise _fail(
                        where,
                        f"integer parameter {name!r} ranges over [{low}, {high}]; with "
                        f"{out.levels} levels every Morris level must be a whole number, "
                        f"so high - low must be a multiple of levels - 1 = {out.levels - 1}",
                    )
        else:
            out.base_samples = _int(design, "base_samples", "spec.design", None, lo=2, hi=2**20)
            if out.base_samples is None:
                raise _fail("spec.design.base_samples", "is required for a sobol design")
            if out.base_samples & (out.base_samples - 1):
                raise _fail(
                    "spec.design.base_samples",
                    "must be a power of two (Sobol' sequences balance only then), for example "
                    f"{1 << (out.base_samples.bit_length() - 1)} or "
                    f"{1 << out.base_samples.bit_length()}, got {out.base_samples}",
                )
            out.second_order = _bool(design, "second_order", "spec.design", False)
    else:
        points = design.get("points")
        if not isinstance(points, list) or not points:
            raise _fail("spec.design.points", "must be a non-empty list of tables")
        for i, point in enumerate(points):
            path = f"spec.design.points[{i}]"
            if not isinstance(point, dict):
                raise _fail(path, f"must be a table of parameter = value, got {point!r}")
            out.points.append(
                {name: _parameter_value(f"{path}.{name}", name, v) for name, v in point.items()}
            )
    return out


def design_size(design: Design) -> int:
    """Count the design points."""
    if design.type == "full_factorial":
        return math.prod(len(v) for v in design.factors.values())
    if design.type == "latin_hypercube":
        return design.samples
    if design.type == "morris":
        return design.trajectories * (len(design.morris_factors()) + 1)
    if design.type == "sobol":
        k = len(design.ranges)
        return design.base_samples * ((2 * k + 2) if design.second_order else (k + 2))
    if design.type in ("points", "ensemble"):
        return len(design.points)
    return 1


# --- expanding -------------------------------------------------------------------------
def design_seed(spec: Spec, root_entropy: int) -> int | None:
    """Seed of a sampled design: the spec's, or one derived from the root entropy."""
    if spec.design.type not in SAMPLED:
        return None
    if spec.design.seed is not None:
        return spec.design.seed
    return int(np.random.SeedSequence(root_entropy).generate_state(1, dtype=np.uint32)[0])


def expand_design(spec: Spec, root_entropy: int) -> list[dict[str, Any]]:
    """Make the design points: one dict of varied parameter values per point."""
    design = spec.design
    if design.type == "full_factorial":
        names = list(design.factors)
        return [dict(zip(names, combo, strict=True)) for combo in product(*design.factors.values())]
    if design.type == "latin_hypercube":
        from scipy.stats import qmc

        names = list(design.ranges)
        sampler = qmc.LatinHypercube(d=len(names), seed=design_seed(spec, root_entropy))
        unit = sampler.random(design.samples)
        points = []
        for row in unit:
            point = {}
            for name, u in zip(names, row, strict=True):
                low, high = design.ranges[name]
                value = low + float(u) * (high - low)
                if isinstance(low, int) and isinstance(high, int):
                    value = int(round(value))
                else:
                    value = round(value, 12)
                point[name] = value
            points.append(point)
        return points
    if design.type in ("morris", "sobol"):
        from experiments import sensitivity

        return sensitivity.design_points(design, design_seed(spec, root_entropy))
    if design.type in ("points", "ensemble"):
        return [dict(p) for p in design.points]
    return [{}]


def point_label(point: dict[str, Any]) -> str:
    """Short label of a design point (``scenario=austerity, budget_scale=0.8``).

    A point that sets many parameters (a Morris or Sobol design) names the first
    :data:`LABEL_PARAMETERS` and counts the rest; the point index is the key.
    """
    if not point:
        return "default"
    parts = []
    for name, value in list(point.items())[:LABEL_PARAMETERS]:
        text = f"{value:.3g}" if isinstance(value, float) else str(value)
        parts.append(f"{name}={text}")
    if len(point) > LABEL_PARAMETERS:
        parts.append(f"+{len(point) - LABEL_PARAMETERS} more")
    return ", ".join(parts)


#: Parameters named in a design point's label.
LABEL_PARAMETERS = 4


def point_path(spec: Spec, index: int) -> str:
    """Name the spec field a design point comes from (for error messages)."""
    if spec.design.type == "points":
        return f"spec.design.points[{index}]"
    if spec.design.type == "single":
        return "spec.fixed"
    return f"spec.design (point {index})"


def resolve_point(spec: Spec, point: dict[str, Any], strategy: str) -> dict[str, Any]:
    """Return the overrides of one run (fixed values, then the point, then strategy)."""
    values = {**spec.fixed, **point, "strategy": strategy}
    return {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}


def validate_points(spec: Spec, points: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Resolve every design point and strategy through ``Parameters.resolve``.

    Returns:
        The full parameter dict of each (point, strategy), as ``[point][strategy]``.

    Raises:
        SpecError: Naming the design point whose parameters are not allowed.
    """
    resolved = []
    for i, point in enumerate(points):
        by_strategy = {}
        for strategy in spec.strategies:
            try:
                params = Parameters.resolve(**resolve_point(spec, point, strategy))
            except ValueError as exc:
                raise _fail(point_path(spec, i), str(exc)) from None
            by_strategy[strategy] = params.as_dict()
        resolved.append(by_strategy)
    return resolved
