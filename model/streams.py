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
    "arrival_spouse": 16,
    "arrival_self_funder": 17,
    "carer_death": 18,
    "carer_breakdown": 19,
    "carer_new": 20,
    "carer_band": 21,
    "carer_hours": 22,
    "care_home": 23,
    "carer_lifespan": 24,
    "arrival_carer_lifespan": 25,
    "volunteer_trait": 26,
    "volunteer_age": 27,
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

    def salt(self, purpose: str, week: int) -> np.uint64:
        """The hash salt of one purpose and week, for compiled loops that draw with
        :func:`model.kernels.draw` themselves (the same numbers as
        :meth:`exogenous_uniform`)."""
        return self._salt(purpose, week)

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

    def happens_to(
        self, purpose: str, slots: np.ndarray, ids: np.ndarray, week: int, probability
    ) -> np.ndarray:
        """:meth:`happens` for a few ``slots`` only: those whose draw (keyed by their id in
        ``ids``, a column over all slots) falls below their ``probability`` (one per slot
        in ``slots``, or one number). The same draws as :meth:`happens` would make, without
        working out a probability for everyone.

        Returns:
            The slots it happens to, in the order given.
        """
        slots = np.asarray(slots, dtype=np.int64)
        draws = self.exogenous_uniform(purpose, ids[slots], week)
        return slots[draws < probability]

    def exogenous_uniforms(self, purposes, ids: np.ndarray, week: int) -> np.ndarray:
        """:meth:`exogenous_uniform` for several purposes at once: one row per purpose."""
        return np.stack([self.exogenous_uniform(p, ids, week) for p in purposes])


def bernoulli_positions(rng: np.random.Generator, n: int, probability: float) -> np.ndarray:
    """Positions ``i < n`` of the successes of ``n`` independent trials with this
    ``probability``, ascending: the same distribution as
    ``np.flatnonzero(rng.random(n) < probability)``, drawn as geometric gaps between
    successes (:func:`kernels.bernoulli_hits`, seeded by one draw from ``rng``), so a rare
    event among many costs only as much as it happens."""
    salt = np.uint64(rng.integers(0, 2**63, dtype=np.int64))
    return kernels.bernoulli_hits(int(n), float(probability), salt)
