"""The tie network: the "synaptic" web along which referrals and recruitment travel.

Ties are undirected edges between residents (neighbours plus a few long ties: a
spatially embedded small world, Watts & Strogatz 1998) and between volunteers and
residents (formed when a volunteer joins and when a match is made -- hubs add bridging
ties when they broker). Edges are kept as arrays of slots; edges of people who leave are
dropped at once, so a reused slot never inherits old ties.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

_EMPTY = np.zeros(0, dtype=np.int64)


def _unique_pairs(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct (a, b) pairs, sorted, via one 64-bit key per pair."""
    if a.size == 0:
        return a, b
    key = np.unique((a << 32) | b)
    return key >> 32, key & 0xFFFFFFFF


class TieNetwork:
    """Resident-resident and volunteer-resident ties."""

    def __init__(self):
        self.rr_a = _EMPTY.copy()
        self.rr_b = _EMPTY.copy()
        self.vr_v = _EMPTY.copy()
        self.vr_r = _EMPTY.copy()
        self._csr: sparse.csr_matrix | None = None

    # --- building ---------------------------------------------------------------------
    def add_resident_ties(self, a, b, *, distinct: bool = False) -> None:
        """Add resident-resident ties (self-ties and duplicates are ignored).

        Args:
            a: One end of each tie (resident slots).
            b: The other end.
            distinct: The caller guarantees the new ties are new and distinct (e.g. ties
                of newly arrived residents), which skips the costly de-duplication.
        """
        a = np.atleast_1d(np.asarray(a, dtype=np.int64))
        b = np.atleast_1d(np.asarray(b, dtype=np.int64))
        keep = a != b
        lo = np.concatenate([self.rr_a, np.minimum(a[keep], b[keep])])
        hi = np.concatenate([self.rr_b, np.maximum(a[keep], b[keep])])
        self.rr_a, self.rr_b = (lo, hi) if distinct else _unique_pairs(lo, hi)
        self._csr = None

    def add_volunteer_ties(self, v, r) -> None:
        """Add volunteer-resident ties (duplicates are ignored)."""
        v = np.concatenate([self.vr_v, np.atleast_1d(np.asarray(v, dtype=np.int64))])
        r = np.concatenate([self.vr_r, np.atleast_1d(np.asarray(r, dtype=np.int64))])
        self.vr_v, self.vr_r = _unique_pairs(v, r)

    # --- removal ----------------------------------------------------------------------
    def drop_residents(self, slots) -> None:
        """Drop every tie of these residents."""
        slots = np.asarray(slots, dtype=np.int64)
        if slots.size == 0:
            return
        keep = ~(np.isin(self.rr_a, slots) | np.isin(self.rr_b, slots))
        self.rr_a, self.rr_b = self.rr_a[keep], self.rr_b[keep]
        keep = ~np.isin(self.vr_r, slots)
        self.vr_v, self.vr_r = self.vr_v[keep], self.vr_r[keep]
        self._csr = None

    def drop_volunteers(self, slots) -> None:
        """Drop every tie of these volunteers."""
        slots = np.asarray(slots, dtype=np.int64)
        if slots.size == 0:
            return
        keep = ~np.isin(self.vr_v, slots)
        self.vr_v, self.vr_r = self.vr_v[keep], self.vr_r[keep]

    # --- queries ----------------------------------------------------------------------
    def resident_degree(self, capacity: int) -> np.ndarray:
        """Number of live ties of each resident slot (to residents and volunteers)."""
        deg = np.bincount(self.rr_a, minlength=capacity)[:capacity]
        deg = deg + np.bincount(self.rr_b, minlength=capacity)[:capacity]
        return deg + np.bincount(self.vr_r, minlength=capacity)[:capacity]

    def volunteers_known(self, capacity: int) -> np.ndarray:
        """Number of volunteers each resident slot is tied to."""
        return np.bincount(self.vr_r, minlength=capacity)[:capacity]

    def resident_neighbours(self, capacity: int) -> sparse.csr_matrix:
        """Resident-resident adjacency as a CSR matrix (cached until ties change)."""
        if self._csr is None or self._csr.shape[0] != capacity:
            ones = np.ones(self.rr_a.size * 2, dtype=np.int8)
            rows = np.concatenate([self.rr_a, self.rr_b])
            cols = np.concatenate([self.rr_b, self.rr_a])
            self._csr = sparse.csr_matrix((ones, (rows, cols)), shape=(capacity, capacity))
        return self._csr

    def residents_reachable(self, volunteer: int, capacity: int) -> np.ndarray:
        """Residents a volunteer hears about through ties: tied ones and their neighbours."""
        direct = self.vr_r[self.vr_v == volunteer]
        if direct.size == 0:
            return direct
        csr = self.resident_neighbours(capacity)
        second = np.concatenate([csr.indices[csr.indptr[r] : csr.indptr[r + 1]] for r in direct])
        return np.unique(np.concatenate([direct, second]))

    @property
    def count(self) -> int:
        """Total number of ties."""
        return int(self.rr_a.size + self.vr_v.size)
