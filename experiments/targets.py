"""Calibration targets (``experiments/targets.toml``) and the statistics that compare a
run with them.

A target names a weekly metric, a statistic over a window of years, the public figure
and the band a replicate average must fall in. :func:`evaluate` computes a target's
statistic for one run's metrics table; :func:`check` averages it over replicate runs
and says whether it is in band.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

TARGETS = Path(__file__).with_name("targets.toml")
STATISTICS = ("mean", "yearly_rate", "change", "growth")
_WINDOW = re.compile(r"^years? (\d+)(?:-(\d+))?$")


@dataclass(frozen=True)
class Target:
    """One calibration target (one ``[[target]]`` table)."""

    name: str
    metric: str
    statistic: str
    window: str
    value: float
    low: float
    high: float
    obs_sd: float
    note: str
    source: str
    per: str | None = None
    strategy: str = "direct"

    @property
    def years(self) -> tuple[int, int]:
        """First and last year of the window (inclusive)."""
        match = _WINDOW.match(self.window)
        first = int(match.group(1))
        return first, int(match.group(2) or first)


def load_targets(path: str | Path = TARGETS) -> list[Target]:
    """The targets of a TOML file, checked; raises ValueError naming a bad field."""
    with open(path, "rb") as handle:
        tables = tomllib.load(handle).get("target", [])
    fields = set(Target.__dataclass_fields__)
    targets = []
    for i, table in enumerate(tables):
        where = f"target {i + 1} ({table.get('name', '?')})"
        unknown = set(table) - fields
        if unknown:
            raise ValueError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
        target = Target(**table)
        if target.statistic not in STATISTICS:
            raise ValueError(f"{where}: statistic must be one of {', '.join(STATISTICS)}")
        if not _WINDOW.match(target.window):
            raise ValueError(f"{where}: window must be 'year N' or 'years A-B'")
        if target.statistic == "yearly_rate" and not target.per:
            raise ValueError(f"{where}: statistic 'yearly_rate' needs a 'per' metric")
        if not target.low <= target.value <= target.high:
            raise ValueError(f"{where}: value must lie between low and high")
        targets.append(target)
    return targets


def evaluate(target: Target, frame: pd.DataFrame) -> float:
    """The target's statistic for one run's weekly metrics table."""
    first, last = target.years
    years = frame["year"]
    window = frame[(years >= first) & (years <= last)]
    if target.statistic == "mean":
        return float(window[target.metric].mean())
    if target.statistic == "yearly_rate":
        by_year = window.groupby("year")
        rates = by_year[target.metric].sum() / by_year[target.per].mean().replace(0, np.nan)
        return float(rates.mean())
    start = frame.loc[years == first, target.metric].mean()
    end = frame.loc[years == last, target.metric].mean()
    if target.statistic == "change":
        return float(end - start)
    return float(end / start - 1.0) if start else 0.0


def check(targets: list[Target], runs: dict[str, list[pd.DataFrame]]) -> pd.DataFrame:
    """Each target's replicate average (runs by strategy) against its band."""
    rows = []
    for target in targets:
        values = [evaluate(target, frame) for frame in runs[target.strategy]]
        mean = float(np.mean(values))
        rows.append(
            {
                "target": target.name,
                "value": target.value,
                "low": target.low,
                "high": target.high,
                "model": mean,
                "sd between runs": float(np.std(values, ddof=1)) if len(values) > 1 else 0.0,
                "in band": target.low <= mean <= target.high,
            }
        )
    return pd.DataFrame(rows)
