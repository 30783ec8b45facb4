"""ABC-SMC inside the history-matched region, with pyabc doing the SMC.

After history matching (:mod:`experiments.history_matching`) has ruled out the parameter
sets that cannot reproduce the targets, approximate Bayesian computation by sequential
Monte Carlo (Toni et al. 2009; Beaumont et al. 2009) turns the non-implausible region
into a weighted sample of the approximate posterior. pyabc's :class:`pyabc.ABCSMC` does
all of the SMC: the proposals (a multivariate normal kernel around the last population,
:class:`pyabc.transition.MultivariateNormalTransition`), the importance weights
(prior over proposal density), the epsilon schedule (:class:`pyabc.QuantileEpsilon` or a
fixed list), the stopping rules and its own history database. This module supplies four
things pyabc cannot know:

* **the prior** (:class:`RegionPrior`): uniform on the prior box restricted to the
  non-implausible region of every wave's emulators. History matching only removed
  parameter sets whose likelihood is negligible (implausibility above the cutoff), so
  this is the calibration's uniform prior truncated to where the posterior can have
  mass; it needs no choice of bandwidth (as a KDE over the members would) and does not
  cut the region to the few members that were run (as their bounding box would);
* **the distance**: a standardised Euclidean (or maximum) distance over the same targets
  as history matching, each difference divided by ``sqrt(obs_sd^2 + discrepancy^2)``
  (pyabc's :class:`pyabc.distance.PNormDistance` with those fixed weights);
* **the model** (:class:`_BatchModel`): a pyabc model whose ``sample`` does not simulate
  but hands its parameters to
* **the sampler** (:class:`BatchSampler`), a :class:`pyabc.sampler.Sampler` that runs each
  round of proposals as *one batch* through a ``simulate`` function (for civic-sim, one
  sweep of the project's runner and store per batch, so runs are parallel on processes
  or Dask and a killed calibration resumes from the stored runs).

How a batch is made without changing pyabc: the sampler calls pyabc's ``simulate_one``
(the closure that draws a proposal, simulates it, computes the distance and the weight)
``k`` times, each in its own thread, one after the other: a thread runs until its model
call, posts the proposal and waits, and only then does the next thread start. So the
proposals are drawn in a fixed order from numpy's global random state (which pyabc uses)
exactly as a single-core sampler would draw them. The ``k`` proposals are simulated
together; then the threads are released one at a time, in order, to finish pyabc's
distance, acceptance and weight. Of the accepted particles the first ``n`` in proposal
order form the population (like pyabc's own parallel samplers, so the population does not
favour quickly simulated proposals). The threads only take turns; nothing runs
concurrently in this process, and with the same seed and the same simulated values every
proposal, population and weight is the same: a rerun asks for the same runs.

This module knows nothing about civic-sim: :func:`abc_smc` takes ``simulate(points,
label) -> means`` (n x T), so a toy model with a known posterior checks it
(``tests/test_abc.py``), and :mod:`experiments.calibrate` passes one that goes through the
runner and store.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from experiments import history_matching as hm

#: Smallest acceptance rate the batch size plans for (a rarer acceptance takes more
#: batches, not one huge one).
MIN_PLANNED_RATE = 0.05

#: Largest batch, as a multiple of the population size.
MAX_BATCH_FACTOR = 4


class AbcError(ValueError):
    """An ABC-SMC problem a user can act on (one line)."""


@dataclass
class AbcSettings:
    """What ``[abc]`` in a calibration spec asks for.

    Attributes:
        populations: Most populations (generations) ``t = 0, 1, ...``.
        population_size: Accepted particles per population.
        epsilon: ``"quantile"`` (each population's threshold is the ``alpha`` quantile
            of the last one's weighted distances) or a list of thresholds (one per
            population).
        alpha: The quantile of ``epsilon = "quantile"``.
        initial_epsilon: Threshold of population 0: a number, ``inf`` (default: the first
            population is a sample of the prior region, every proposal accepted) or
            ``"from_sample"`` (pyabc's: the ``alpha`` quantile of a calibration sample
            from the prior, which costs one population of runs more).
        min_epsilon: Stop once a population's threshold is at most this.
        max_evaluations: Stop once this many parameter sets were simulated in all
            (None: no limit).
        min_acceptance_rate: Stop after a population accepted fewer of its proposals.
        distance: ``"euclidean"`` (p = 2) or ``"max"`` (p = inf, like the largest
            implausibility) over the standardised target differences.
        kernel_scale: Multiplies the proposal kernel's covariance (pyabc's
            ``MultivariateNormalTransition(scaling=...)``; Silverman's bandwidth at 1).
        replicates: Seeds averaged per parameter set (None: the calibration's).
    """

    populations: int = 3
    population_size: int = 50
    epsilon: str | list[float] = "quantile"
    alpha: float = 0.5
    initial_epsilon: float | str = math.inf
    min_epsilon: float = 0.0
    max_evaluations: int | None = None
    min_acceptance_rate: float = 0.0
    distance: str = "euclidean"
    kernel_scale: float = 1.0
    replicates: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """Plain form (recorded in the ensemble's metadata)."""
        return {
            "populations": self.populations,
            "population_size": self.population_size,
            "epsilon": self.epsilon,
            "alpha": self.alpha,
            "initial_epsilon": self.initial_epsilon
            if isinstance(self.initial_epsilon, str) or math.isfinite(self.initial_epsilon)
            else "inf",
            "min_epsilon": self.min_epsilon,
            "max_evaluations": self.max_evaluations,
            "min_acceptance_rate": self.min_acceptance_rate,
            "distance": self.distance,
            "kernel_scale": self.kernel_scale,
            "replicates": self.replicates,
        }


#: ``simulate(points, label) -> means``: n x T or wider, the replicate means of the targets
#: in the order of the observations (columns beyond them, such as held-out targets, are
#: carried along to the result); ``label`` names the batch (``population-1/batch-2``) so
#: the caller can store it.
BatchSimulator = Callable[[list[dict[str, float]], str], np.ndarray]


def _pyabc():
    import pyabc

    return pyabc


# --- the prior ---------------------------------------------------------------------------
def region_prior(box: hm.Box, inside: Callable[[np.ndarray], np.ndarray], share: float):
    """A pyabc prior uniform on the part of ``box`` where ``inside`` holds.

    Args:
        box: The calibration's prior box.
        inside: ``unit points (n x d) -> bool (n)``: the non-implausible region (for a
            history match, :meth:`experiments.history_matching.HistoryMatch.passes`).
        share: The share of the box the region covers (its density is
            ``1 / (share x box volume)``; only ratios matter to the weights).

    Returns:
        A :class:`RegionPrior` (a :class:`pyabc.DistributionBase`).
    """
    pyabc = _pyabc()

    class RegionPrior(pyabc.DistributionBase):
        """Uniform on the non-implausible region (rejection from the box).

        ``rvs`` draws candidates from numpy's global random state (pyabc's) in blocks
        and keeps those inside, in order; ``pdf`` is the constant density inside and 0
        outside (so pyabc re-proposes a perturbed particle that left the region, without
        simulating it).
        """

        block = 256

        def __init__(self):
            self._queue: list[np.ndarray] = []
            self._density = 1.0 / (max(share, 1e-12) * float(np.prod(box.high - box.low)))
            self._cache: dict[tuple[float, ...], bool] = {}

        def rvs(self, *args, **kwargs):
            tries = 0
            while not self._queue:
                unit = np.random.random_sample((self.block, box.dim))
                self._queue = list(unit[inside(unit)])
                tries += 1
                if tries > 400 and not self._queue:
                    raise AbcError(
                        "the plausible region is too small to sample: no point of "
                        f"{400 * self.block} drawn from the prior box is inside it"
                    )
            unit = self._queue.pop(0)
            values = box.low + unit * (box.high - box.low)
            return pyabc.Parameter({n: float(v) for n, v in zip(box.names, values, strict=True)})

        def pdf(self, x):
            values = np.array([float(x[n]) for n in box.names])
            key = tuple(values)
            if key not in self._cache:
                unit = box.to_unit(values[None, :])
                ok = bool(np.all((unit >= 0.0) & (unit <= 1.0)) and inside(unit)[0])
                self._cache[key] = ok
            return self._density if self._cache[key] else 0.0

    return RegionPrior()


# --- the model and the sampler -------------------------------------------------------------
_turn = threading.local()


class _Aborted(BaseException):
    """Ends a waiting proposal thread when its batch is abandoned (an error elsewhere)."""


class _Slot:
    """One proposal of a batch: its thread's parameters, simulated values and particle."""

    def __init__(self):
        self.parameters: dict[str, float] | None = None
        self.statistics: dict[str, float] | None = None
        self.particle = None
        self.error: BaseException | None = None
        self.abort = False
        self.posted = threading.Event()
        self.release = threading.Event()
        self.finished = threading.Event()

    def run(self, simulate_one: Callable) -> None:
        _turn.slot = self
        try:
            self.particle = simulate_one()
        except _Aborted:
            pass
        except BaseException as exc:  # re-raised in the sampler's thread
            self.error = exc
        finally:
            self.posted.set()
            self.finished.set()


def _batch_model():
    pyabc = _pyabc()

    class BatchModel(pyabc.Model):
        """The pyabc model: posts the proposal to the batch and waits for its values."""

        def sample(self, pars):
            slot: _Slot = getattr(_turn, "slot", None)
            if slot is None or slot.parameters is not None:
                raise RuntimeError("the batch model is only called once per proposal")
            slot.parameters = {k: float(v) for k, v in dict(pars).items()}
            slot.posted.set()
            slot.release.wait()
            if slot.abort:
                raise _Aborted
            return slot.statistics

    return BatchModel(name="civic-sim")


def batch_sampler(evaluate: Callable[[list[dict[str, float]], int, int], list[dict]]):
    """A pyabc sampler that simulates each round of proposals as one batch.

    Args:
        evaluate: ``evaluate(parameters, t, batch) -> statistics``: the summary
            statistics (``{target: value}``) of every proposal of batch ``batch`` of
            population ``t`` (``t = -1``: pyabc's calibration sample).

    Returns:
        A :class:`BatchSampler`.
    """
    pyabc = _pyabc()

    class BatchSampler(pyabc.sampler.Sampler):
        """Proposals drawn in order, simulated as one batch, evaluated in order.

        The batch size is planned from the last population's acceptance rate (``alpha``
        before any is known): enough proposals for the particles still missing,
        at most :data:`MAX_BATCH_FACTOR` population sizes and the evaluations left.
        """

        def __init__(self, first_rate: float, later_rate: float):
            super().__init__()
            self.first_rate = first_rate
            self.rate = later_rate
            self.batches: dict[int, int] = {}

        def sample_until_n_accepted(
            self, n, simulate_one, t, *, max_eval=np.inf, all_accepted=False, ana_vars=None
        ):
            sample = self._create_empty_sample()
            accepted = evaluations = batch = 0
            rate = 1.0 if all_accepted else self.first_rate if t <= 0 else self.rate
            while accepted < n and evaluations < max_eval:
                # a fifth more than the rate says: acceptance falls as epsilon shrinks
                want = math.ceil(1.2 * (n - accepted) / max(rate, MIN_PLANNED_RATE))
                size = int(min(want, MAX_BATCH_FACTOR * n, max_eval - evaluations))
                particles = self._batch(simulate_one, max(size, 1), t, batch)
                batch += 1
                for particle in particles:
                    if accepted == n:
                        break  # the first n accepted in proposal order
                    sample.append(particle)
                    evaluations += 1
                    accepted += bool(particle.accepted)
            self.nr_evaluations_ = evaluations
            self.batches[t] = batch
            if t >= 1 and evaluations:
                self.rate = accepted / evaluations
            if accepted < n:
                sample.ok = False
            return sample

        def _batch(self, simulate_one, size, t, batch):
            slots: list[_Slot] = []
            try:
                for _ in range(size):
                    slot = _Slot()
                    slots.append(slot)
                    threading.Thread(target=slot.run, args=(simulate_one,), daemon=True).start()
                    slot.posted.wait()  # one thread at a time draws its proposal
                    if slot.error is not None:
                        raise slot.error
                    if slot.parameters is None:
                        raise RuntimeError("a proposal finished without simulating")
                values = evaluate([s.parameters for s in slots], t, batch)
                particles = []
                for slot, statistics in zip(slots, values, strict=True):
                    slot.statistics = statistics
                    slot.release.set()
                    slot.finished.wait()  # one thread at a time finishes its particle
                    if slot.error is not None:
                        raise slot.error
                    particles.append(slot.particle)
                return particles
            finally:
                for slot in slots:
                    if not slot.finished.is_set():
                        slot.abort = True
                        slot.release.set()
                        slot.finished.wait()

    return BatchSampler


# --- the run ------------------------------------------------------------------------------
@dataclass
class Population:
    """One ABC-SMC population, as the report shows it.

    Attributes:
        t: 0, 1, ...
        epsilon: Its acceptance threshold.
        evaluations: Parameter sets simulated (proposals).
        accepted: Particles accepted.
        batches: Batches the proposals were simulated in.
        ess: Effective sample size of its weights (Kish).
    """

    t: int
    epsilon: float
    evaluations: int
    accepted: int
    batches: int
    ess: float

    @property
    def acceptance_rate(self) -> float:
        """Accepted over simulated."""
        return self.accepted / self.evaluations if self.evaluations else math.nan


@dataclass
class AbcResult:
    """What ABC-SMC found.

    Attributes:
        settings: The settings it ran with.
        names: Parameter names.
        values: The last population's parameters (n x d).
        weights: Their importance weights (summing to 1).
        distances: Their distances.
        statistics: Their simulated target means (n x T, and any further columns the
            simulator returned).
        populations: Every population's diagnostics.
        calibration_evaluations: Runs of pyabc's calibration sample (0 unless
            ``initial_epsilon = "from_sample"``).
        stopped: Why it stopped.
        database: pyabc's history database (``sqlite:///...``).
        pyabc_version: The pyabc that ran it.
    """

    settings: AbcSettings
    names: tuple[str, ...]
    values: np.ndarray
    weights: np.ndarray
    distances: np.ndarray
    statistics: np.ndarray
    populations: list[Population] = field(default_factory=list)
    calibration_evaluations: int = 0
    stopped: str = ""
    database: str = ""
    pyabc_version: str = ""

    @property
    def ess(self) -> float:
        """Effective sample size of the final weights."""
        return float(1.0 / np.sum(self.weights**2))

    @property
    def evaluations(self) -> int:
        """Parameter sets simulated in all (calibration sample included)."""
        return self.calibration_evaluations + sum(p.evaluations for p in self.populations)


def standardised_weights(observations: Sequence[hm.Observation]) -> dict[str, float]:
    """``1 / sqrt(obs_sd^2 + discrepancy^2)`` per target: the distance's weights."""
    return {o.name: 1.0 / math.sqrt(o.fixed_variance) for o in observations}


def _epsilon(settings: AbcSettings):
    pyabc = _pyabc()
    if isinstance(settings.epsilon, list):
        return pyabc.epsilon.ListEpsilon(list(settings.epsilon))
    return pyabc.QuantileEpsilon(initial_epsilon=settings.initial_epsilon, alpha=settings.alpha)


def _rounded(point: dict[str, float], box: hm.Box) -> dict[str, float]:
    """A proposal as the runs see it: whole numbers rounded, floats to 12 digits."""
    out = {}
    for name, is_int in zip(box.names, box.integer or (False,) * box.dim, strict=True):
        value = float(point[name])
        out[name] = int(round(value)) if is_int else round(value, 12)
    return out


def abc_smc(
    simulate: BatchSimulator,
    box: hm.Box,
    inside: Callable[[np.ndarray], np.ndarray],
    region_share: float,
    observations: Sequence[hm.Observation],
    settings: AbcSettings,
    *,
    seed: int,
    database: Path,
) -> AbcResult:
    """Run ABC-SMC (pyabc) with every proposal simulated in batches by ``simulate``.

    Args:
        simulate: ``simulate(points, label) -> means`` (n x T, in the order of
            ``observations``).
        box: The prior box (names, ranges, whole-number parameters).
        inside: Which unit-cube points are in the plausible region.
        region_share: The share of the box it covers.
        observations: The targets (value, observation error, discrepancy).
        settings: Populations, epsilon, stopping rules.
        seed: Seeds numpy's global random state, which pyabc draws from.
        database: pyabc's history database file (replaced if it exists: a rerun replays
            the same populations from the stored runs).

    Raises:
        AbcError: If a population cannot be filled (within ``max_evaluations``).
    """
    pyabc = _pyabc()
    names = [o.name for o in observations]
    statistics: dict[tuple, np.ndarray] = {}

    def evaluate(parameters: list[dict[str, float]], t: int, batch: int) -> list[dict]:
        points = [_rounded(p, box) for p in parameters]
        label = ("calibration-sample" if t < 0 else f"population-{t}") + f"/batch-{batch + 1}"
        means = np.asarray(simulate(points, label), dtype=float)
        out = []
        for point, row in zip(points, means, strict=True):
            statistics[tuple(point.values())] = row
            out.append({n: float(v) for n, v in zip(names, row[: len(names)], strict=True)})
        return out

    distance = pyabc.distance.PNormDistance(
        p=2 if settings.distance == "euclidean" else np.inf,
        fixed_weights=standardised_weights(observations),
    )
    # population 0 at epsilon inf accepts every proposal; later ones about alpha of them
    # at first, then what the last population accepted
    sampler = batch_sampler(evaluate)(
        first_rate=1.0 if settings.initial_epsilon == math.inf else settings.alpha,
        later_rate=settings.alpha if not isinstance(settings.epsilon, list) else 0.5,
    )
    transition = pyabc.transition.MultivariateNormalTransition(scaling=settings.kernel_scale)
    smc = pyabc.ABCSMC(
        _batch_model(),
        region_prior(box, inside, region_share),
        distance,
        population_size=settings.population_size,
        transitions=transition,
        eps=_epsilon(settings),
        sampler=sampler,
    )
    database = Path(database)
    database.parent.mkdir(parents=True, exist_ok=True)
    database.unlink(missing_ok=True)
    url = f"sqlite:///{database.resolve()}"
    loggers = [logging.getLogger(n) for n in ("ABC", "ABC.History", "ABC.Sampler")]
    levels = [lg.level for lg in loggers]
    state = np.random.get_state()
    try:
        for lg in loggers:
            lg.setLevel(logging.WARNING)
        np.random.seed(seed % 2**32)
        smc.new(url, {o.name: float(o.value) for o in observations})
        with np.errstate(invalid="ignore"):  # pyabc's inf - inf at an infinite first epsilon
            history = smc.run(
                minimum_epsilon=settings.min_epsilon,
                max_nr_populations=settings.populations,
                min_acceptance_rate=settings.min_acceptance_rate,
                max_total_nr_simulations=settings.max_evaluations or np.inf,
            )
    finally:
        np.random.set_state(state)
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)
    table = history.get_all_populations()
    if history.n_populations == 0:
        raise AbcError(
            f"ABC-SMC accepted no population of {settings.population_size} particles "
            "within the evaluations allowed; raise abc.max_evaluations or the first epsilon"
        )
    populations = []
    calibration = 0
    for row in table.itertuples():
        if row.t < 0:
            calibration = int(row.samples)
            continue
        _, w = history.get_distribution(m=0, t=int(row.t))
        populations.append(
            Population(
                t=int(row.t),
                epsilon=float(row.epsilon),
                evaluations=int(row.samples),
                accepted=int(row.particles),
                batches=int(sampler.batches.get(int(row.t), 0)),
                ess=float(pyabc.weighted_statistics.effective_sample_size(w)),
            )
        )
    population = history.get_population(t=history.max_t)
    params = [_rounded({n: p.parameter[n] for n in box.names}, box) for p in population.particles]
    weights = np.array([p.weight for p in population.particles], dtype=float)
    weights = weights / weights.sum()
    result = AbcResult(
        settings=settings,
        names=tuple(box.names),
        values=np.array([list(p.values()) for p in params], dtype=float),
        weights=weights,
        distances=np.array([p.distance for p in population.particles], dtype=float),
        statistics=np.vstack([statistics[tuple(p.values())] for p in params]),
        populations=populations,
        calibration_evaluations=calibration,
        stopped=_why_stopped(settings, populations, history.total_nr_simulations),
        database=url,
        pyabc_version=pyabc.__version__,
    )
    return result


def _why_stopped(settings: AbcSettings, populations: list[Population], total: int) -> str:
    last = populations[-1]
    if last.epsilon <= settings.min_epsilon:
        return f"epsilon {last.epsilon:.3g} reached min_epsilon {settings.min_epsilon:g}"
    if settings.min_acceptance_rate and last.acceptance_rate < settings.min_acceptance_rate:
        return (
            f"acceptance {last.acceptance_rate:.1%} fell below min_acceptance_rate "
            f"{settings.min_acceptance_rate:g}"
        )
    if settings.max_evaluations and total >= settings.max_evaluations:
        return f"{total} evaluations reached max_evaluations {settings.max_evaluations}"
    if len(populations) < settings.populations:
        return f"population {len(populations)} could not be filled"
    return f"{settings.populations} populations (the most asked for)"


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q) -> np.ndarray:
    """Quantiles of weighted values (the inverse of the weighted empirical distribution,
    interpolated between the midpoints of each value's weight)."""
    values = np.asarray(values, dtype=float)
    weights = np.asarray(weights, dtype=float)
    values, weights = values[weights > 0], weights[weights > 0]
    order = np.argsort(values)
    v, w = values[order], weights[order]
    cumulative = (np.cumsum(w) - 0.5 * w) / np.sum(w)
    return np.interp(q, cumulative, v)
