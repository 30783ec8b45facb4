"""Comparing a run made again with the run a sweep stored (``civic-sim run --from``).

Same parameters and seed give the same table bit for bit on one machine. On another CPU
numpy and glibc pick other code for ``exp``, ``pow`` and sums (AVX-512, AVX2, FMA or
none), which changes the last bits of a hazard or a total but, as measured, no event: every
count stays identical and continuous metrics agree to about 1e-15 (docs/design-notes.md,
"The same numbers on another CPU"). So a repeated run is one of three things:
identical bit for bit; the same events with floats that differ only in their last bits;
or different.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

#: Float metrics closer than this (relative, and absolute near zero) differ only in the
#: last bits, as runs on two CPUs do (measured at most 8e-16 relative).
LAST_BITS = 1e-12


@dataclass
class Comparison:
    """How a repeated run compares with the stored one.

    Attributes:
        differ: Columns that differ beyond the last bits (or exist in one table only).
        last_bits: Float columns that differ, but only in their last bits.
        largest: The largest relative difference among ``last_bits`` (0 if none).
    """

    differ: list[str] = field(default_factory=list)
    last_bits: list[str] = field(default_factory=list)
    largest: float = 0.0

    @property
    def identical(self) -> bool:
        """Bit for bit the same table."""
        return not self.differ and not self.last_bits


def compare_runs(stored: pd.DataFrame, again: pd.DataFrame) -> Comparison:
    """Compare two run tables column by column (see :class:`Comparison`)."""
    result = Comparison()
    for column in sorted(set(stored.columns) | set(again.columns)):
        if column not in stored or column not in again:
            result.differ.append(column)
            continue
        old, new = stored[column], again[column]
        if old.equals(new):
            continue
        if _floats(old) and _floats(new) and len(old) == len(new):
            a, b = old.to_numpy(dtype=float), new.to_numpy(dtype=float)
            if np.allclose(b, a, rtol=LAST_BITS, atol=LAST_BITS, equal_nan=True):
                result.last_bits.append(column)
                with np.errstate(divide="ignore", invalid="ignore"):
                    gap = np.where(a != 0, np.abs(a - b) / np.abs(a), np.abs(a - b))
                result.largest = max(result.largest, float(np.nanmax(gap)))
                continue
        result.differ.append(column)
    return result


def _floats(series: pd.Series) -> bool:
    return pd.api.types.is_float_dtype(series.dtype)
