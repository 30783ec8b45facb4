"""Random streams: common random numbers for exogenous shocks, a separate stream for decisions.

MODEL.md section 4 asks for separate ``SeedSequence`` children for exogenous processes
(demography, need onset, business closures) and for decisions, so that two strategies
run on one seed face the same population shocks.

Exogenous per-person draws are *counter-based*: the uniform number a resident gets for
"death in week t" is a hash of (stream key, purpose, person number, week). It does not
depend on how many numbers anything else drew, so the same person faces the same shock
in the same week under every strategy, even when the populations have drifted apart.
Arrivals are numbered in order over the run; the k-th arrival's age, home and family are
counter-based draws keyed by k, so they too are the same under every strategy.
"""

from __future__ import annotations

import numpy as np

from model import kernels

# constants of SplitMix64 (the hash itself is kernels.draw)
_GOLDEN = 0x9E3779B97F4A7C15
_M2 = 0x94D049BB133111EB
_MASK = (1 << 64) - 1

# One number per purpose, so that e.g. death and need-onset draws are independent.
PURPOSES = {
    "death": 1,
    "need_up": 2,
    "need_down": 3,
    "closure": 4,
    "shock": 5,
    "asset": 6,
    "arrival_round": 7,
    "arrival_age": 8,
    "arrival_x": 9,
    "arrival_y": 10,
    "arrival_need": 11,
    "arrival_level": 12,
    "arrival_carer": 13,
    "arrival_band": 14,
    "arrival_hours": 15,
    "volunteer_age": 16,
}


def to_seed_sequence(seed: int | np.random.SeedSequence | None) -> np.random.SeedSequence:
    """A SeedSequence from an int, an existing SeedSequence, or fresh OS entropy."""
    if isinstance(seed, np.random.SeedSequence):
        return seed
    return np.random.SeedSequence(seed)


def children(sequence: np.random.SeedSequence, n: int) -> list[np.random.SeedSequence]:
    """The first ``n`` children of ``sequence``, as ``sequence.spawn(n)`` gives them on a
    fresh sequence, without spawning: ``spawn`` counts the children it has made, so the
    same SeedSequence passed to two models would otherwise seed them differently."""
    return [
        np.random.SeedSequence(
            sequence.entropy, spawn_key=(*sequence.spawn_key, i), pool_size=sequence.pool_size
        )
        for i in range(n)
    ]


class RandomStreams:
    """The model's independent random streams, spawned from one SeedSequence.

    Attributes:
        setup: Generator for the initial world (layer, population, ties, businesses).
        decisions: Generator for everything that depends on model state and choices
            (matching, recruitment, quitting, activities).
        mesa_seed: Integer seed for Mesa's own ``random`` (grid helpers).
    """

    def __init__(self, seed: int | np.random.SeedSequence | None):
        self.seed_sequence = to_seed_sequence(seed)
        setup, exogenous, decisions, mesa = children(self.seed_sequence, 4)
        self.setup = np.random.default_rng(setup)
        self.decisions = np.random.default_rng(decisions)
        self._key = np.uint64(exogenous.generate_state(1, dtype=np.uint64)[0])
        self.mesa_seed = int(mesa.generate_state(1, dtype=np.uint32)[0])

    def _salt(self, purpose: str, week: int) -> np.uint64:
        """The hash salt of one purpose and week (in Python integers, mod 2**64, since
        numpy's uint64 arithmetic would wrap silently), mixed with the stream's key."""
        tag = (PURPOSES[purpose] * _GOLDEN + week * _M2) & _MASK
        return np.uint64(tag ^ int(self._key))

    def exogenous_uniform(self, purpose: str, ids: np.ndarray, week: int) -> np.ndarray:
        """Uniform numbers in [0, 1) for each id, the same under every strategy.

        Args:
            purpose: One of :data:`PURPOSES` (what the draw is for).
            ids: Person (or business) numbers, unique for the whole run.
            week: The week of the draw.
        """
        return kernels.uniforms(
            np.ascontiguousarray(ids, dtype=np.int64), self._salt(purpose, week)
        )

    def happens(self, purpose: str, ids: np.ndarray, week: int, probability, among) -> np.ndarray:
        """Which slots an exogenous event happens to this week: those marked in ``among``
        whose :meth:`exogenous_uniform` draw falls below their ``probability`` (an array
        over the slots, or one number for all).

        Returns:
            The slots, ascending.
        """
        return kernels.happens(
            np.ascontiguousarray(ids, dtype=np.int64),
            self._salt(purpose, week),
            np.ascontiguousarray(np.atleast_1d(probability), dtype=np.float64),
            np.ascontiguousarray(among, dtype=bool),
        )

    def exogenous_uniforms(self, purposes, ids: np.ndarray, week: int) -> np.ndarray:
        """:meth:`exogenous_uniform` for several purposes at once: one row per purpose."""
        return np.stack([self.exogenous_uniform(p, ids, week) for p in purposes])
