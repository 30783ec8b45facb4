"""Space: grid size, the civic-potential layer, hub placement and distance helpers.

A cell is a street block of about 100 m (MODEL.md section 2). The grid is a Mesa
``OrthogonalMooreGrid``; civic potential is a Mesa ``PropertyLayer`` on it.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage, optimize, special

from model import kernels


def grid_size(p) -> tuple[int, int]:
    """Width and height: as given, or a square that holds residents at ``resident_density``."""
    if p.width is not None and p.height is not None:
        return p.width, p.height
    cells = max(25, math.ceil(p.residents / p.resident_density))
    if p.width is not None:
        return p.width, max(5, math.ceil(cells / p.width))
    if p.height is not None:
        return max(5, math.ceil(cells / p.height)), p.height
    side = max(5, math.ceil(math.sqrt(cells)))
    return side, side


def civic_potential_layer(shape, mean, spread, patchiness, rng) -> np.ndarray:
    """A spatially autocorrelated field in [0, 1] with exactly the given mean.

    Gaussian noise smoothed over ``patchiness`` cells and standardised (``z``), then
    ``expit(c + s * z)`` with spread ``s = spread / (mean (1 - mean))`` in logit units and
    the offset ``c`` solved so that the field's mean is ``mean``. ``mean`` 0 gives 0
    everywhere and 1 gives 1 everywhere.
    """
    if mean <= 0.0:
        return np.zeros(shape)
    if mean >= 1.0:
        return np.ones(shape)
    noise = rng.standard_normal(shape)
    if patchiness > 0:
        noise = ndimage.gaussian_filter(noise, sigma=patchiness, mode="reflect")
    sd = noise.std()
    z = (noise - noise.mean()) / sd if sd > 0 else np.zeros(shape)
    slope = spread / (mean * (1.0 - mean))
    if not 1e-9 < mean < 1.0 - 1e-9 or slope == 0 or not z.any():
        return np.full(shape, float(mean))  # no spread, or a mean within 1e-9 of 0 or 1

    def excess(c):
        return special.expit(c + slope * z).mean() - mean

    # at these offsets every cell is at most / at least the mean, so the root lies between
    centre, reach = math.log(mean) - math.log1p(-mean), slope * np.abs(z).max() + 1.0
    if not excess(centre - reach) <= 0 <= excess(centre + reach):
        return np.full(shape, float(mean))
    offset = optimize.brentq(excess, centre - reach, centre + reach)
    return special.expit(offset + slope * z)


def hub_positions(width: int, height: int, n: int) -> list[tuple[int, int]]:
    """``n`` hub cells on a regular lattice covering the grid (one in the centre if n = 1)."""
    cols = max(1, round(math.sqrt(n * width / height)))
    rows = math.ceil(n / cols)
    spots = []
    for k in range(n):
        i, j = k % cols, k // cols
        spots.append((int((i + 0.5) * width / cols), int((j + 0.5) * height / rows)))
    return spots


def nearest_hub(x: np.ndarray, y: np.ndarray, hubs: np.ndarray) -> np.ndarray:
    """Index of the nearest hub for each (x, y) (ties to the lower index)."""
    if len(hubs) == 1:
        return np.zeros(len(x), dtype=np.int16)
    d = (x[:, None] - hubs[None, :, 0]) ** 2 + (y[:, None] - hubs[None, :, 1]) ** 2
    return np.argmin(d, axis=1).astype(np.int16)


_EVERYONE = np.zeros(0, dtype=bool)  # an empty mask: no filter


class CellIndex:
    """Which resident slots live in each cell: a padded (width, height, depth) array.

    Looking up everyone within a radius is one array slice, so forming ties for
    arrivals and new volunteers costs microseconds at any population size. The array
    carries an empty border ``margin`` cells wide, so a square of radius up to
    ``margin`` never needs clipping at the edge of the map.

    Args:
        width: Grid width.
        height: Grid height.
        depth: Residents per cell to make room for at first (the index deepens as needed).
        margin: Widest radius looked up often (wider ones work too, a little slower).
    """

    def __init__(self, width: int, height: int, depth: int = 4, margin: int = 0):
        self.width, self.height, self.margin = width, height, max(0, int(margin))
        pad = 2 * self.margin
        self._padded = np.full((width + pad, height + pad, depth), -1, dtype=np.int64)

    @property
    def members(self) -> np.ndarray:
        """Resident slots per cell, shape (width, height, depth); -1 marks a free place."""
        m = self.margin
        return self._padded[m : m + self.width, m : m + self.height]

    def add(self, slots: np.ndarray, x: np.ndarray, y: np.ndarray) -> None:
        """Record residents (slots) living at cells (x, y), each in the first free place
        of its cell (the index deepens when a cell is full)."""
        slots = np.ascontiguousarray(slots, dtype=np.int64)
        x, y = np.ascontiguousarray(x, dtype=np.int64), np.ascontiguousarray(y, dtype=np.int64)
        done = 0
        while True:
            done += kernels.cell_add(self._padded, slots[done:], x[done:], y[done:], self.margin)
            if done == slots.size:
                return
            self._deepen()

    def _deepen(self) -> None:
        w, h, d = self._padded.shape
        self._padded = np.concatenate(
            [self._padded, np.full((w, h, d), -1, dtype=np.int64)], axis=2
        )

    def remove(self, slots: np.ndarray, x: np.ndarray, y: np.ndarray) -> None:
        """Forget residents (slots) at cells (x, y)."""
        kernels.cell_remove(
            self._padded,
            np.ascontiguousarray(slots, dtype=np.int64),
            np.ascontiguousarray(x, dtype=np.int64),
            np.ascontiguousarray(y, dtype=np.int64),
            self.margin,
        )

    def near_many(self, x: np.ndarray, y: np.ndarray, radius: int, wanted=None):
        """Residents within ``radius`` cells of each of many points, in one go.

        Args:
            x: Points' x.
            y: Points' y.
            radius: Half the side of the square around each point.
            wanted: Optional mask over resident slots: only these are returned.

        Returns:
            (which point, resident slot) pairs, as two arrays, grouped by point.
        """
        x, y = np.ascontiguousarray(x, dtype=np.int64), np.ascontiguousarray(y, dtype=np.int64)
        mask = _EVERYONE if wanted is None else np.ascontiguousarray(wanted, dtype=bool)
        if radius <= self.margin:  # the border keeps every look-up inside the array
            return kernels.cell_near(self._padded, x, y, radius, self.margin, mask)
        w, h = self.width, self.height
        offsets = np.arange(-radius, radius + 1)
        cx = x[:, None, None] + offsets[None, :, None]
        cy = y[:, None, None] + offsets[None, None, :]
        inside = (cx >= 0) & (cx < w) & (cy >= 0) & (cy < h)
        block = self.members[np.clip(cx, 0, w - 1), np.clip(cy, 0, h - 1)]
        block = np.where(inside[..., None], block, -1).reshape(len(x), -1)
        flat = block.ravel()
        found = np.flatnonzero(flat >= 0)
        point, slots = found // max(block.shape[1], 1), flat[found]
        if wanted is None:
            return point, slots
        keep = mask[slots]
        return point[keep], slots[keep]

    def random_other(self, slots: np.ndarray, x, y, radius: int, u: np.ndarray) -> np.ndarray:
        """For each resident ``slots[i]`` at (x, y), another resident chosen at random
        (the ``u[i]``-th of them in cell order) within ``radius`` cells, or -1 if none."""
        slots = np.ascontiguousarray(slots, dtype=np.int64)
        x, y = np.ascontiguousarray(x, dtype=np.int64), np.ascontiguousarray(y, dtype=np.int64)
        u = np.ascontiguousarray(u, dtype=np.float64)
        if radius <= self.margin:
            return kernels.random_other_near(self._padded, x, y, slots, radius, self.margin, u)
        point, found = self.near_many(x, y, radius)
        other = found != slots[point]
        point, found = point[other], found[other]
        out = np.full(slots.size, -1, dtype=np.int64)
        first = np.searchsorted(point, np.arange(slots.size), side="left")
        count = np.bincount(point, minlength=slots.size)
        has = count > 0
        pick = first[has] + np.minimum((u[has] * count[has]).astype(np.int64), count[has] - 1)
        out[has] = found[pick]
        return out

    def near(self, x: int, y: int, radius: int) -> np.ndarray:
        """Slots of residents within ``radius`` cells of (x, y) (a square), in cell order."""
        block = self.members[
            max(0, x - radius) : x + radius + 1, max(0, y - radius) : y + radius + 1
        ].ravel()
        return block[block >= 0]
