"""CivicModel: civic energy and the demand for care (the Mesa model).

Older residents, volunteers, council hubs and local businesses on a neighbourhood grid.
The council either delivers care directly or acts as a facilitator hub (the "synaptic
public services" idea of the LGIU essays in ``../shared/seeds/``). ``docs/ODD.md``
describes the model in full; this file holds the weekly schedule and the bookkeeping of
who is in the world. The rules are in ``agents/``; each phase of the week is in
``model/phases/``.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from mesa import DataCollector, Model
from mesa.discrete_space import OrthogonalMooreGrid, PropertyLayer

from agents import Business, Hub, Resident, Volunteer, resident
from agents import volunteer as volunteer_rules
from model import burn_in, kernels, mesa_compat, metrics, world
from model.checks import check_invariants
from model.parameters import Parameters
from model.phases import (
    businesses,
    care_delivery,
    care_homes,
    civic_energy,
    council,
    demography,
    family_care,
    matching,
    need_dynamics,
    tie_dynamics,
)
from model.population import Population
from model.space import CellIndex, civic_potential_layer, grid_size, hub_positions
from model.strategies import Spending, get_strategy
from model.streams import RandomStreams
from model.ties import TieNetwork

#: The weekly phases, in the documented order (MODEL.md section 3, ODD section 3).
PHASES = (
    ("demography", demography.run),
    ("need dynamics", need_dynamics.run),
    ("family care", family_care.run),
    ("care homes", care_homes.run),
    ("council strategy", council.run),
    ("matching", matching.run),
    ("care delivery", care_delivery.run),
    ("ties", tie_dynamics.run),
    ("civic energy", civic_energy.run),
    ("businesses", businesses.run),
)

RESIDENT_COLUMNS = {
    "person_id": (np.int64, -1),
    "x": (np.int32, 0),
    "y": (np.int32, 0),
    "age": (np.float64, 0.0),
    "level": (np.int8, 0),
    "family_hours": (np.float64, 0.0),
    "carer_age": (np.float64, 0.0),
    "carer_death_age": (np.float64, 0.0),
    "breakdown_week": (np.int32, -(10**6)),
    "self_funder": (bool, False),
    "in_care_home": (bool, False),
    "council_funded": (bool, False),
    "lts_year": (np.int32, -(10**6)),
    "connection": (np.float64, 0.0),
    "recent_unmet": (np.float64, 0.0),
    "low_support": (np.float64, 1.0),
    "fully_supported": (bool, False),
    "waiting": (np.int32, 0),
    "has_package": (bool, False),
    "hub": (np.int16, 0),
    "need_personal": (np.float64, 0.0),
    "need_low": (np.float64, 0.0),
    "fam_personal": (np.float64, 0.0),
    "fam_low": (np.float64, 0.0),
    "paid_personal": (np.float64, 0.0),
    "vol_low": (np.float64, 0.0),
    "biz_low": (np.float64, 0.0),
    "attends": (bool, False),
    "visited": (bool, False),
    "volunteer": (np.int32, -1),
    "near_business": (np.int32, -1),
    "accepts_help": (bool, False),
    "volunteer_trait": (bool, False),
}

VOLUNTEER_COLUMNS = {
    "x": (np.int32, 0),
    "y": (np.int32, 0),
    "capacity": (np.float64, 0.0),
    "energy": (np.float64, 1.0),
    "hours_given": (np.float64, 0.0),
    "demand": (np.float64, 0.0),
    "matches": (np.int16, 0),
    "resident_slot": (np.int32, -1),
    "employer": (np.int32, -1),
    "hub": (np.int16, 0),
    "weeks_active": (np.int32, 0),
    "age": (np.float64, 0.0),
}

BUSINESS_COLUMNS = {
    "business_id": (np.int64, -1),
    "x": (np.int32, 0),
    "y": (np.int32, 0),
    "engagement": (np.float64, 0.0),
    "hosts": (bool, False),
    "open": (bool, True),
    "community_owned": (bool, False),
    "grant_share": (np.float64, 0.0),
    "employees": (np.int16, 0),
    "attendees": (np.int32, 0),
}

PAIR_COLUMNS = {
    "vol": (np.int32, -1),
    "res": (np.int32, -1),
    "hours": (np.float64, 0.0),
    "brokered": (bool, False),
    "weeks": (np.int32, 0),
}


#: Worlds with at least this many grid cells freeze their set-up objects (see
#: :func:`_spare_the_garbage_collector`).
FREEZE_ABOVE_CELLS = 50_000


def _release_frozen_worlds() -> None:
    """Let earlier frozen worlds be collected again once nothing uses them."""
    if gc.get_freeze_count():
        gc.unfreeze()


def _spare_the_garbage_collector(cells: int) -> None:
    """Move a big world's objects out of the collector's sight after set-up.

    A borough-sized world holds about a million Python objects (Mesa's grid cells and
    agents) that live as long as the model; every full collection walks them all (about
    a second each). Freezing them after set-up spares those walks. Small worlds are left
    alone, where a collection is cheap. The next model releases the freeze
    (:func:`_release_frozen_worlds`), so finished models are still freed.
    """
    if cells >= FREEZE_ABOVE_CELLS:
        gc.collect()
        gc.freeze()


def _read_mesa_rng(rng, seed_sequence, overrides: dict) -> tuple:
    """Read Mesa's ``rng=`` as civic-sim's seed: returns (seed_sequence, overrides).

    Raises:
        ValueError: If a seed is given twice, or ``rng`` is of a kind that cannot seed.
    """
    if overrides.get("seed") is not None or seed_sequence is not None:
        raise ValueError("pass either rng or seed (or seed_sequence), not both")
    if isinstance(rng, np.random.SeedSequence):
        return rng, overrides
    if isinstance(rng, np.random.BitGenerator):
        rng = np.random.Generator(rng)
    if isinstance(rng, np.random.Generator):
        return None, {**overrides, "seed": int(rng.integers(2**63 - 1))}
    if isinstance(rng, int | np.integer) and not isinstance(rng, bool):
        return None, {**overrides, "seed": int(rng)}
    if isinstance(rng, list | tuple) and rng and all(isinstance(x, int | np.integer) for x in rng):
        return np.random.SeedSequence([int(x) for x in rng]), overrides
    raise ValueError(
        "rng must be an integer, a list of integers, a numpy SeedSequence or a numpy "
        f"Generator, got {rng!r}"
    )


@dataclass
class WeekTally:
    """Counts and money of the current week, reset at the start of each step.

    ``spent`` is the money the council actually spent per line; money a facilitation
    line cannot use is not spent and is counted in ``facilitation_unspent`` (ODD 7.3).
    """

    deaths: int = 0
    care_home_deaths: int = 0
    arrivals: int = 0
    admissions: int = 0
    placements_refused: int = 0
    carer_deaths: int = 0
    carer_breakdowns: int = 0
    new_carers: int = 0
    recruits: int = 0
    quits: int = 0
    matches_brokered: int = 0
    matches_found: int = 0
    budget: float = 0.0
    paid_hours: float = 0.0
    spent: Spending = field(default_factory=Spending)
    overspend: float = 0.0
    facilitation_unspent: float = 0.0
    new_ties: int = 0
    ended_ties: int = 0
    not_asking: int = 0


class CivicModel(Model):
    """A neighbourhood of older residents, volunteers, hubs and businesses.

    Args:
        params: Full parameters; if omitted they are resolved from ``scenario`` and the
            keyword overrides (``CivicModel(strategy="facilitator", residents=800, seed=3)``).
        rng: Mesa's way to seed a model (what ``mesa.batch_run`` passes), instead of
            ``seed``: an integer is the ``seed``; a ``numpy.random.SeedSequence`` (or a
            list of integers, its entropy) is used as ``seed_sequence``; a numpy
            ``Generator`` gives a seed drawn from it.
        seed_sequence: A ``numpy.random.SeedSequence`` to use instead of ``seed``
            (experiments pass ``SeedSequence(root, spawn_key=(r,))`` for replicate r).
        check: Verify the invariants after every week and raise an explanatory
            :class:`model.checks.InvariantError` if a rule breaks one.
        **overrides: Parameter values by name (including ``scenario`` and ``seed``).
    """

    def __init__(
        self,
        params: Parameters | None = None,
        *,
        rng=None,
        seed_sequence: np.random.SeedSequence | None = None,
        check: bool = False,
        **overrides,
    ):
        _release_frozen_worlds()
        if rng is not None:
            seed_sequence, overrides = _read_mesa_rng(rng, seed_sequence, overrides)
        if params is None:
            params = Parameters.resolve(**overrides)
        elif overrides:
            params = params.replace(**overrides)
        self.p = params
        self.streams = RandomStreams(seed_sequence if seed_sequence is not None else params.seed)
        super().__init__(rng=self.streams.mesa_seed)
        self.check = check
        self.strategy = get_strategy(params.strategy)
        self.week = WeekTally()
        self.cumulative_unmet_hours = 0.0
        #: This week: t <= 0 during the burn-in, then 1, 2, ... (``model.steps``).
        self.t = -params.burn_in_weeks
        self.lts_counted_year = None
        self.lts_clients_this_year = 0

        width, height = grid_size(params)
        self.grid = OrthogonalMooreGrid((width, height), torus=False, random=self.random)
        mesa_compat.forget_cell_class_with(self, self.grid)
        self.civic = civic_potential_layer(
            (width, height),
            params.civic_potential,
            params.civic_spread,
            params.civic_patchiness,
            self.streams.setup,
        )
        self.grid.add_property_layer(PropertyLayer.from_data("civic_potential", self.civic))
        self.grid.add_property_layer(
            PropertyLayer("unmet_need", (width, height), default_value=0.0, dtype=float)
        )

        self.residents = Population(RESIDENT_COLUMNS, capacity=params.residents)
        self.volunteers = Population(VOLUNTEER_COLUMNS, capacity=max(64, params.residents // 8))
        self.businesses = Population(BUSINESS_COLUMNS, capacity=64)
        self.pairs = Population(PAIR_COLUMNS, capacity=max(64, params.residents // 8))
        self.ties = TieNetwork()
        self.cell_index = CellIndex(
            width, height, margin=max(params.tie_radius, params.discovery_radius)
        )
        #: active volunteers living in each cell: all of them, and working-age neighbours
        self.volunteer_counts = np.zeros((width, height), dtype=np.int64)
        self.neighbour_counts = np.zeros((width, height), dtype=np.int64)
        #: working-age neighbours volunteering, per neighbourhood (world.neighbourhoods)
        self.neighbourhood_counts = np.zeros(world.neighbourhoods(self)[1], dtype=np.int64)
        self.next_person_id = 0
        self.arrivals_so_far = 0
        #: Older residents at week 0 (the budget's reference population).
        self.initial_residents = params.residents

        n_hubs = max(1, -(-params.residents // params.residents_per_hub))
        self.hub_xy = np.array(hub_positions(width, height, n_hubs), dtype=np.int32)
        self.hubs = [Hub(self, i, self.grid[tuple(xy)]) for i, xy in enumerate(self.hub_xy)]
        self.council = council.Council(n_hubs)

        world.populate(self)
        burn_in.run(self)
        self.strategy.setup(self)

        self.datacollector = DataCollector(model_reporters=metrics.reporters())
        # Mesa's convention: the collector's row k is the state after k steps, so row 0 is
        # the initial state (mesa.batch_run reads it so); metrics_frame() leaves it out
        self.datacollector.collect(self)
        _spare_the_garbage_collector(width * height)

    # --- the week ------------------------------------------------------------------------
    def step(self):
        """One week: the phases in their documented order, then collect the metrics."""
        self.t = self.steps
        self.advance_week()
        self.cumulative_unmet_hours += float(metrics.unmet_hours(self))
        self.datacollector.collect(self)

    def advance_week(self) -> None:
        """The phases of week ``self.t`` in their documented order, the strategy's hook and
        (with ``check``) the invariants; no metrics (the burn-in runs weeks this way)."""
        self.week = WeekTally()
        formed, ended = self.ties.formed, self.ties.ended
        for _name, phase in PHASES:
            phase(self)
        self.strategy.after_week(self)
        self.week.new_ties = self.ties.formed - formed
        self.week.ended_ties = self.ties.ended - ended
        if self.check:
            check_invariants(self)

    def run(self, steps: int, progress=None) -> pd.DataFrame:
        """Run ``steps`` weeks and return the metrics table (one row per week).

        Args:
            steps: Number of weeks.
            progress: Optional callable invoked with the week number after each step.
        """
        for _ in range(steps):
            self.step()
            if progress is not None:
                progress(self.steps)
        return self.metrics_frame()

    def metrics_frame(self) -> pd.DataFrame:
        """The weekly metrics as a DataFrame, one row per week run (``step`` 1, 2, ...).

        The initial state (``step`` 0), which Mesa's ``DataCollector`` also holds, is left
        out: before the first week nobody has been assessed, so its hours are all zero.
        """
        frame = self.datacollector.get_model_vars_dataframe()
        return frame.iloc[1:].reset_index(drop=True)

    # --- who is in the world -------------------------------------------------------------
    def add_residents(self, **columns) -> np.ndarray:
        """Add older residents (arrays per column) and their Mesa agents; return slots."""
        n = len(columns["x"])
        ids = np.arange(self.next_person_id, self.next_person_id + n, dtype=np.int64)
        self.next_person_id += n
        slots = self.residents.add(n, person_id=ids, **columns)
        r = self.residents
        self.cell_index.add(slots, r.x[slots], r.y[slots])
        r.volunteer_trait[slots] = world.is_potential_volunteer(self, slots)
        _personal, low = resident.need_hours(r.level[slots], self.p)
        _fam_personal, fam_low = resident.family_care(_personal, low, r.family_hours[slots])
        r.low_support[slots] = np.where(low > 0, fam_low / np.maximum(low, 1e-300), 1.0)
        cells = zip(r.x[slots].tolist(), r.y[slots].tolist(), strict=True)
        for slot, cell in zip(slots.tolist(), cells, strict=True):
            r.agent[slot] = Resident(self, slot, self.grid[cell])
        return slots

    def remove_residents(self, slots: np.ndarray) -> None:
        """Remove residents (death): their pairings, ties and volunteering end too."""
        if len(slots) == 0:
            return
        r = self.residents
        as_volunteers = r.volunteer[slots]
        self.remove_volunteers(as_volunteers[as_volunteers >= 0])
        self.end_pairings_of_residents(slots)
        self.ties.drop_residents(slots)
        for slot in slots.tolist():
            r.agent[slot].remove()
        self.cell_index.remove(slots, r.x[slots], r.y[slots])
        r.remove(slots)

    def add_volunteers(self, **columns) -> np.ndarray:
        """Add volunteers and their Mesa agents; return slots.

        A volunteer's ``age`` (unless given) is their own for a young-old resident, else
        drawn evenly over :data:`agents.volunteer.WORKING_AGE` from a counter-based
        stream keyed by slot and week, which draws from no other stream (so adding it
        changed no other number).
        """
        n = len(columns["x"])
        slots = self.volunteers.add(n, **columns)
        v = self.volunteers
        if "age" not in columns:
            low, high = volunteer_rules.WORKING_AGE
            u = self.streams.exogenous_uniform("volunteer_age", slots, self.t)
            own = v.resident_slot[slots]
            v.age[slots] = np.where(
                own >= 0, self.residents.age[np.maximum(own, 0)], low + (high - low) * u
            )
        self._count_volunteers(slots, +1)
        cells = zip(v.x[slots].tolist(), v.y[slots].tolist(), strict=True)
        for slot, cell in zip(slots.tolist(), cells, strict=True):
            v.agent[slot] = Volunteer(self, slot, self.grid[cell])
        own = v.resident_slot[slots]
        older = own >= 0  # older residents who volunteer
        self.residents.volunteer[own[older]] = slots[older]
        return slots

    def remove_volunteers(self, slots: np.ndarray) -> None:
        """Remove volunteers (quitting): their pairings and ties end."""
        slots = np.asarray(slots, dtype=np.int64)
        if slots.size == 0:
            return
        v = self.volunteers
        self.week.quits += int(slots.size)
        self._end_pairings_of(self.pairs.vol, slots)
        self.ties.drop_volunteers(slots)
        self._count_volunteers(slots, -1)
        as_resident = v.resident_slot[slots]
        self.residents.volunteer[as_resident[as_resident >= 0]] = -1
        employers = v.employer[slots]
        np.subtract.at(self.businesses.employees, employers[employers >= 0], 1)
        for slot in slots.tolist():
            v.agent[slot].remove()
        v.remove(slots)

    def _count_volunteers(self, slots: np.ndarray, sign: int) -> None:
        v = self.volunteers
        neighbours = (v.employer[slots] < 0) & (v.resident_slot[slots] < 0)
        kernels.count_in_cells(
            self.volunteer_counts, self.neighbour_counts, v.x[slots], v.y[slots], neighbours, sign
        )
        area, _n = world.neighbourhoods(self)
        x, y = v.x[slots][neighbours], v.y[slots][neighbours]
        np.add.at(self.neighbourhood_counts, area[x, y], sign)

    def add_pairings(
        self, vols: np.ndarray, res: np.ndarray, brokered: bool, **columns
    ) -> np.ndarray:
        """Pair volunteers with residents (a persistent match). A pairing that lasts
        ``pairing_tie_weeks`` makes the two tied (:mod:`model.phases.tie_dynamics`; at
        once if that is 0).

        Args:
            vols: Volunteer slots.
            res: Resident slots (one per volunteer).
            brokered: Whether a coordinator made the match.
            **columns: Values for extra pair columns (added with ``pairs.add_column``).

        Returns:
            The new pairs' slots.
        """
        if len(vols) == 0:
            return np.zeros(0, dtype=np.int64)
        slots = self.pairs.add(len(vols), vol=vols, res=res, brokered=brokered, **columns)
        self._count_matches(slots, +1)
        if self.p.pairing_tie_weeks == 0:
            self.ties.add_volunteer_ties(vols, res)
        return slots

    def end_pairings_of_residents(self, slots: np.ndarray) -> None:
        """End the live pairings of these residents (they died or moved into a care home)."""
        self._end_pairings_of(self.pairs.res, slots)

    def _end_pairings_of(self, side: np.ndarray, slots: np.ndarray) -> None:
        """End the live pairings whose ``side`` (``pairs.res`` or ``pairs.vol``) is one of
        ``slots``."""
        slots = np.ascontiguousarray(slots, dtype=np.int64)
        self.end_pairings(kernels.rows_naming(side, self.pairs.alive, slots))

    def end_pairings(self, which: np.ndarray) -> None:
        """End pairings: ``which`` is a mask over pair slots, or the pair slots."""
        which = np.asarray(which)
        ended = np.flatnonzero(which) if which.dtype == bool else which
        if ended.size == 0:
            return
        self._count_matches(ended, -1)
        self.pairs.remove(ended)

    def _count_matches(self, pair_slots: np.ndarray, sign: int) -> None:
        """Add ``sign`` to the match count of the volunteer of each pairing."""
        matches = self.volunteers.matches
        if kernels.bump(matches, self.pairs.vol[pair_slots], sign) > matches.size:
            raise IndexError("a pairing names a volunteer slot beyond the volunteers' columns")

    # --- convenience for views and students ------------------------------------------------
    @property
    def year(self) -> int:
        """Current year of the run (0 in the first 52 weeks)."""
        return max(0, self.steps - 1) // 52

    @property
    def year_of_week(self) -> int:
        """Year of week ``t``, counting the burn-in's years as negative (``(t - 1) // 52``)."""
        return (self.t - 1) // 52


__all__ = ["Business", "CivicModel", "Hub", "Resident", "Volunteer", "PHASES"]
