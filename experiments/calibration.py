"""Calibration targets and the check users run: ``civic-sim calibrate --check``.

Every target lives in one data file, ``experiments/targets.toml``, as a ``[[target]]``
table: which metric column (or derived statistic) of a run it compares, how the weekly
values are reduced (:data:`STATISTICS`) over which weeks (:data:`WINDOWS`), the public
figure and its band, the observation error (for history matching, issue 13) and the
source. ``[check]`` says how the check runs (residents, replicates, weeks, root seed). The
check runs the scenario of each target at ward scale on several replicates (through the
project's runner, so in parallel), reduces each replicate's weekly table to the target's
statistic, and reports the mean and spread over replicates against the band.

Every mistake in the file (an unknown metric, a statistic or window that does not exist,
a band with low above high, a missing field) is one :class:`TargetError` naming the
target and the field.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

#: The targets file shipped with the project.
TARGETS_FILE = Path(__file__).with_name("targets.toml")

TARGET_KEYS = {
    "name",
    "metric",
    "statistic",
    "window",
    "value",
    "low",
    "high",
    "obs_sd",
    "note",
    "source",
    "denominator",
    "scenario",
}
REQUIRED = ("name", "metric", "statistic", "window", "value", "low", "high", "obs_sd", "source")
CHECK_KEYS = {"residents", "replicates", "steps", "seed", "strategy"}


class TargetError(ValueError):
    """A problem with the targets file; the message names the target and field."""


# --- windows: which weeks of a run -----------------------------------------------------------
def _final_year(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.iloc[-52:]


def _first_year(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.iloc[:52]


def _final_two_years(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.iloc[-104:]


def _all(frame: pd.DataFrame) -> pd.DataFrame:
    return frame


#: Named windows: a run's weekly table to the weeks a statistic reads.
WINDOWS: dict[str, Callable[[pd.DataFrame], pd.DataFrame]] = {
    "final_year": _final_year,
    "first_year": _first_year,
    "final_two_years": _final_two_years,
    "all": _all,
}


# --- statistics: a window of weekly values to one number ---------------------------------------
def mean(weeks: pd.DataFrame, metric: str, denominator: str | None) -> float:
    """Mean of the weekly values (of ``metric / denominator`` week by week if one is given)."""
    values = weeks[metric]
    if denominator:
        values = values / weeks[denominator].where(weeks[denominator] != 0)
    return float(values.mean())


def ratio_of_means(weeks: pd.DataFrame, metric: str, denominator: str | None) -> float:
    """``mean(metric) / mean(denominator)`` over the window (default: ``residents``)."""
    return float(weeks[metric].mean() / weeks[denominator or "residents"].mean())


def yearly_rate(weeks: pd.DataFrame, metric: str, denominator: str | None) -> float:
    """Weekly counts summed to a yearly rate per head: ``sum(metric) / years /
    mean(denominator)`` (default ``residents``), e.g. deaths a year per resident."""
    years = len(weeks) / 52.0
    return float(weeks[metric].sum() / years / weeks[denominator or "residents"].mean())


def share_of_sums(weeks: pd.DataFrame, metric: str, denominator: str | None) -> float:
    """``sum(metric) / sum(denominator)`` over the window (e.g. deaths in care homes
    among all deaths)."""
    if not denominator:
        raise TargetError("statistic 'share_of_sums' needs a denominator")
    total = weeks[denominator].sum()
    return float(weeks[metric].sum() / total) if total else math.nan


def year_end_ratio(weeks: pd.DataFrame, metric: str, denominator: str | None) -> float:
    """Mean over the window's years of (the metric in the year's last week / the mean of
    the denominator, default ``residents``, in that year): for running counts such as
    ``long_term_clients_this_year``."""
    per = weeks[denominator or "residents"]
    values = []
    for start in range(0, len(weeks) - 51, 52):
        year = slice(start, start + 52)
        values.append(weeks[metric].iloc[year].iloc[-1] / per.iloc[year].mean())
    return float(np.mean(values)) if values else math.nan


def relative_change(weeks: pd.DataFrame, metric: str, denominator: str | None) -> float:
    """``(mean of the window's last year - mean of its first year) / mean of its first
    year``: the drift of a quantity over the run (of ``metric / denominator`` if given)."""
    values = weeks[metric]
    if denominator:
        values = values / weeks[denominator].where(weeks[denominator] != 0)
    first, last = values.iloc[:52].mean(), values.iloc[-52:].mean()
    return float((last - first) / first) if first else math.nan


def change(weeks: pd.DataFrame, metric: str, denominator: str | None) -> float:
    """``mean of the window's last year - mean of its first year``: the drift of a share
    in its own units (of ``metric / denominator`` if given)."""
    values = weeks[metric]
    if denominator:
        values = values / weeks[denominator].where(weeks[denominator] != 0)
    return float(values.iloc[-52:].mean() - values.iloc[:52].mean())


def yearly_growth(weeks: pd.DataFrame, metric: str, denominator: str | None) -> float:
    """Growth a year of a count between the window's first and last year:
    ``(mean last year / mean first year) ** (1 / years apart) - 1``."""
    values = weeks[metric]
    years_apart = (len(weeks) - 52) / 52.0
    first, last = values.iloc[:52].mean(), values.iloc[-52:].mean()
    if years_apart <= 0 or first <= 0:
        return math.nan
    return float((last / first) ** (1.0 / years_apart) - 1.0)


#: Named statistics: ``f(weeks, metric, denominator) -> float``.
STATISTICS: dict[str, Callable[[pd.DataFrame, str, str | None], float]] = {
    "mean": mean,
    "ratio_of_means": ratio_of_means,
    "yearly_rate": yearly_rate,
    "share_of_sums": share_of_sums,
    "year_end_ratio": year_end_ratio,
    "relative_change": relative_change,
    "change": change,
    "yearly_growth": yearly_growth,
}


# --- the targets file --------------------------------------------------------------------------
@dataclass(frozen=True)
class Target:
    """One calibration target (a ``[[target]]`` table of ``targets.toml``)."""

    name: str
    metric: str
    statistic: str
    window: str
    value: float
    low: float
    high: float
    obs_sd: float
    source: str
    note: str = ""
    denominator: str | None = None
    scenario: str = "baseline"

    def measure(self, frame: pd.DataFrame) -> float:
        """This target's statistic of one run's weekly table."""
        weeks = WINDOWS[self.window](frame)
        return STATISTICS[self.statistic](weeks, self.metric, self.denominator)

    def in_band(self, value: float) -> bool:
        """Whether a model value lies in the band (inclusive)."""
        return bool(self.low <= value <= self.high)


@dataclass
class TargetFile:
    """The targets and how the check runs them."""

    targets: list[Target]
    residents: int = 5000
    replicates: int = 4
    steps: int = 520
    seed: int = 20260110
    strategy: str = "direct"
    source: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def scenarios(self) -> list[str]:
        """The scenarios the targets need, in order of first use."""
        return list(dict.fromkeys(t.scenario for t in self.targets))


def _number(entry: dict, key: str, where: str) -> float:
    value = entry[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise TargetError(f"{where}.{key}: must be a number, got {value!r}")
    return float(value)


def parse_targets(data: dict, source: str = "") -> TargetFile:
    """Validate the contents of a targets file.

    Raises:
        TargetError: Naming the target and field at fault.
    """
    from model.metrics import metric_names
    from model.scenarios import scenario_names

    unknown_top = set(data) - {"target", "check"}
    if unknown_top:
        raise TargetError(f"targets: unknown table(s) {', '.join(sorted(unknown_top))}")
    check = data.get("check", {})
    if not isinstance(check, dict):
        raise TargetError("check: must be a table")
    bad = set(check) - CHECK_KEYS
    if bad:
        raise TargetError(f"check: unknown key(s) {', '.join(sorted(bad))}")
    entries = data.get("target")
    if not isinstance(entries, list) or not entries:
        raise TargetError("target: the file needs at least one [[target]] table")
    metrics = set(metric_names())
    scenarios = set(scenario_names())
    targets, names = [], set()
    for i, entry in enumerate(entries):
        where = f"target[{i}]" + (f" '{entry['name']}'" if "name" in entry else "")
        if not isinstance(entry, dict):
            raise TargetError(f"{where}: must be a table")
        missing = [k for k in REQUIRED if k not in entry]
        if missing:
            raise TargetError(f"{where}: missing {', '.join(missing)}")
        extra = set(entry) - TARGET_KEYS
        if extra:
            raise TargetError(f"{where}: unknown key(s) {', '.join(sorted(extra))}")
        for key in ("metric", "denominator"):
            if key in entry and entry[key] not in metrics:
                raise TargetError(
                    f"{where}.{key}: unknown metric {entry[key]!r}; see 'civic-sim list metrics'"
                )
        if entry["statistic"] not in STATISTICS:
            raise TargetError(
                f"{where}.statistic: must be one of {', '.join(STATISTICS)}, "
                f"got {entry['statistic']!r}"
            )
        if entry["window"] not in WINDOWS:
            raise TargetError(
                f"{where}.window: must be one of {', '.join(WINDOWS)}, got {entry['window']!r}"
            )
        scenario = entry.get("scenario", "baseline")
        if scenario not in scenarios:
            raise TargetError(
                f"{where}.scenario: must be one of {', '.join(sorted(scenarios))}, got {scenario!r}"
            )
        value, low, high = (_number(entry, k, where) for k in ("value", "low", "high"))
        obs_sd = _number(entry, "obs_sd", where)
        if not low <= value <= high:
            raise TargetError(f"{where}: needs low <= value <= high, got {low}, {value}, {high}")
        if obs_sd <= 0:
            raise TargetError(f"{where}.obs_sd: must be above 0, got {obs_sd}")
        if entry["name"] in names:
            raise TargetError(f"{where}.name: used by another target")
        names.add(entry["name"])
        targets.append(
            Target(
                name=str(entry["name"]),
                metric=entry["metric"],
                statistic=entry["statistic"],
                window=entry["window"],
                value=value,
                low=low,
                high=high,
                obs_sd=obs_sd,
                source=str(entry["source"]),
                note=str(entry.get("note", "")),
                denominator=entry.get("denominator"),
                scenario=scenario,
            )
        )
    settings = {}
    for key, lo in (("residents", 20), ("replicates", 1), ("steps", 52), ("seed", 0)):
        if key in check:
            value = check[key]
            if isinstance(value, bool) or not isinstance(value, int) or value < lo:
                raise TargetError(f"check.{key}: must be an integer of at least {lo}")
            settings[key] = value
    if "strategy" in check:
        from model.strategies import strategy_names

        if check["strategy"] not in strategy_names():
            raise TargetError(f"check.strategy: must be one of {', '.join(strategy_names())}")
        settings["strategy"] = check["strategy"]
    return TargetFile(targets=targets, source=source, **settings)


def load_targets(path: str | Path = TARGETS_FILE) -> TargetFile:
    """Read and validate a targets file.

    Raises:
        TargetError: For a missing or broken file, naming the field at fault.
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TargetError(f"targets: no such file {str(path)!r}") from None
    except tomllib.TOMLDecodeError as exc:
        raise TargetError(f"targets: {path.name} is not valid TOML: {exc}") from None
    return parse_targets(data, str(path))


# --- running the check -------------------------------------------------------------------------
def check_tasks(targets: TargetFile, overrides: dict | None = None) -> list:
    """One run per scenario and replicate, on the project's paired seeding (replicate r
    uses ``SeedSequence(seed, spawn_key=(r,))``)."""
    from experiments.runner import RunTask

    tasks = []
    for scenario in targets.scenarios:
        for r in range(targets.replicates):
            tasks.append(
                RunTask(
                    run_id=f"calibrate-{scenario}-r{r:03d}",
                    point=0,
                    point_label=scenario,
                    strategy=targets.strategy,
                    replicate=r,
                    overrides={
                        "scenario": scenario,
                        "strategy": targets.strategy,
                        "residents": targets.residents,
                        **(overrides or {}),
                    },
                    root_entropy=targets.seed,
                    steps=targets.steps,
                )
            )
    return tasks


def evaluate(targets: TargetFile, frames: dict[str, list[pd.DataFrame]]) -> pd.DataFrame:
    """Each target's statistic on every replicate of its scenario, and its summary.

    Args:
        targets: The targets.
        frames: Weekly metric tables by scenario, one per replicate.

    Returns:
        One row per target: name, source, band, value, the model's mean and standard
        deviation over replicates, the replicates' values and whether the mean is in band.
    """
    rows = []
    for t in targets.targets:
        values = [t.measure(frame) for frame in frames[t.scenario]]
        model_mean = float(np.mean(values))
        rows.append(
            {
                "target": t.name,
                "scenario": t.scenario,
                "source": t.source,
                "value": t.value,
                "low": t.low,
                "high": t.high,
                "obs_sd": t.obs_sd,
                "model_mean": model_mean,
                "model_sd": float(np.std(values, ddof=1)) if len(values) > 1 else 0.0,
                "replicates": values,
                "in_band": t.in_band(model_mean),
            }
        )
    return pd.DataFrame(rows)


def run_check(
    targets: TargetFile,
    *,
    executor: str = "processes",
    workers: int | None = None,
    overrides: dict | None = None,
    progress: bool = False,
) -> pd.DataFrame:
    """Run every scenario of the targets on the check's replicates and evaluate them.

    Raises:
        RuntimeError: If a run fails (with its traceback).
    """
    from experiments.runner import run_tasks

    tasks = check_tasks(targets, overrides)
    frames: dict[str, list[pd.DataFrame]] = {s: [] for s in targets.scenarios}
    results = {}
    for result in run_tasks(tasks, executor=executor, workers=workers, progress=progress):
        if result.status != "done":
            raise RuntimeError(f"calibration run {result.run_id} failed:\n{result.traceback}")
        results[result.run_id] = result.frame
    for task in tasks:  # replicate order, whatever order they finished in
        frames[task.point_label].append(results[task.run_id])
    return evaluate(targets, frames)


def _fmt(value: float) -> str:
    if not math.isfinite(value):
        return "nan"
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:,.0f}"
    if magnitude >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def format_table(table: pd.DataFrame) -> str:
    """The check's table as aligned text: target | source | band | model | in band."""
    header = ("target", "source", "band", "model (mean +- sd)", "in band")
    lines = []
    for row in table.itertuples():
        scenario = "" if row.scenario == "baseline" else f" [{row.scenario}]"
        lines.append(
            (
                f"{row.target}{scenario}",
                row.source,
                f"{_fmt(row.low)} - {_fmt(row.high)}",
                f"{_fmt(row.model_mean)} +- {_fmt(row.model_sd)}",
                "yes" if row.in_band else "NO",
            )
        )
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(header)]
    widths[1] = min(widths[1], 60)

    def fit(text: str, width: int) -> str:
        return text if len(text) <= width else text[: width - 3] + "..."

    out = [" | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    out.append("-|-".join("-" * w for w in widths))
    for line in lines:
        out.append(" | ".join(fit(c, w).ljust(w) for c, w in zip(line, widths, strict=True)))
    return "\n".join(out)
