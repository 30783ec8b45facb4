"""The end-of-run results card in plain words: A against B, the gap, what it means.

Numbers are averages over the run's last year (52 weeks), as the experiment reports
use final-year measures: a single week is noisier than the difference the room is
asked about. Words say what a gap means in people and in hours of care (and in
full-time care workers' weeks, a unit a room can picture).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

#: Hours a week of one full-time care worker (a unit for "what the gap means").
FULL_TIME_HOURS = 37.5

#: Metric columns the results card reads.
RESULT_COLUMNS = ("residents_with_unmet_need", "unmet_hours", "residents", "active_volunteers")


@dataclass(frozen=True)
class Outcome:
    """One run's last-year averages.

    Attributes:
        label: What the run was (strategy, scenario, seed).
        weeks: Weeks run.
        people: Older residents with some unmet need (mean over the last year).
        hours: Unmet care hours a week (mean over the last year).
        residents: Older residents alive (mean over the last year).
        volunteers: Active volunteers (mean over the last year).
    """

    label: str
    weeks: int
    people: float
    hours: float
    residents: float
    volunteers: float

    @property
    def share(self) -> float:
        """Share of older residents with some unmet need."""
        return self.people / self.residents if self.residents else 0.0


def outcome(label: str, weeks: int, columns: Mapping[str, np.ndarray]) -> Outcome:
    """Average the last year (up to 52 weeks) of a run's weekly columns."""

    def last_year(name: str) -> float:
        values = np.asarray(columns.get(name, ()), dtype=float)
        return float(values[-52:].mean()) if values.size else 0.0

    return Outcome(
        label=label,
        weeks=int(weeks),
        people=last_year("residents_with_unmet_need"),
        hours=last_year("unmet_hours"),
        residents=last_year("residents"),
        volunteers=last_year("active_volunteers"),
    )


def _signed(value: float, unit: str, more: str, fewer: str) -> str:
    amount = abs(value)
    if round(amount) == 0:
        return f"about the same {unit}"
    return f"{amount:,.0f} {more if value > 0 else fewer} {unit}"


def gap_sentences(a: Outcome, b: Outcome, name_a: str = "A", name_b: str = "B") -> list[str]:
    """What the gap between two outcomes means, in people and in hours (B against A).

    Args:
        a: The outcome compared against.
        b: The outcome compared.
        name_a: What to call ``a`` in the sentences.
        name_b: What to call ``b``.
    """
    people = b.people - a.people
    hours = b.hours - a.hours
    rel_people = people / a.people if a.people else 0.0
    rel_hours = hours / a.hours if a.hours else 0.0
    out = [
        f"{name_b} leaves {_signed(people, 'older people', 'more', 'fewer')} with some care "
        f"they need not given each week ({rel_people:+.0%} against {name_a}).",
        f"{name_b} leaves {_signed(hours, 'hours of care a week', 'more', 'fewer')} unmet "
        f"({rel_hours:+.0%}): about {abs(hours) * 52:,.0f} hours a year, the work of "
        f"{abs(hours) / FULL_TIME_HOURS:.1f} full-time care workers.",
    ]
    return out


def chance_sentence(differences: Sequence[float], name_a: str = "A", name_b: str = "B") -> str:
    """How the gap looks over other seeds (other neighbourhoods with the same rules).

    Args:
        differences: B minus A, residents with unmet need in the last year, one per seed.
        name_a: What to call the first strategy.
        name_b: What to call the second.
    """
    d = np.asarray(differences, dtype=float)
    if d.size == 0:
        return ""
    lower = int((d < -0.5).sum())
    higher = int((d > 0.5).sum())
    lo, hi = float(d.min()), float(d.max())
    verdict = (
        f"{name_b} had fewer people with unmet need in {lower} of {d.size}"
        if lower >= higher
        else f"{name_b} had more people with unmet need in {higher} of {d.size}"
    )
    if lo < 0 < hi:
        tail = "the gap changes sign from seed to seed, so chance is as big as the strategy here."
    else:
        tail = "the gap keeps its sign on every seed, so it is the strategy, not chance."
    return f"Over {d.size} other seeds, {verdict} (gap {lo:+,.0f} to {hi:+,.0f} people): {tail}"
