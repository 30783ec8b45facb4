"""History matching: rule out the parameter values that cannot reproduce the targets.

The method of Vernon et al. (2010) and Andrianakis et al. (2015), for a stochastic model.
For every target ``t`` with public value ``z_t`` and a parameter set ``x``, the
*implausibility* is

    I_t(x) = |z_t - E[f_t(x)]| / sqrt(V_obs,t + V_md,t + V_em,t(x) + V_rep,t)

where ``V_obs`` is the observation error of the figure (the target's ``obs_sd``
squared), ``V_md`` the model discrepancy (how far even the best parameters may sit from
reality, because the model is a simplification), ``V_em(x)`` the emulator's uncertainty
about the model's mean at ``x`` (zero at a point that was run, in the simulated check)
and ``V_rep`` the replicate noise of the compared quantity (the variance between seeds
of one run's statistic divided by the replicates averaged). A parameter set is
*non-implausible* when its largest implausibility over the targets is at most the cutoff
(3, by Pukelsheim's three-sigma rule for unimodal distributions).

Waves: wave 1 runs a Latin hypercube over the prior box; a Gaussian-process emulator per
target (scikit-learn) is fitted on the replicate means of the runs; the emulators say
which part of the box is non-implausible; the next wave's points are drawn from that
part; its emulators are fitted on its runs only (they are sharper there) and a point must
pass every wave's emulators. The result keeps every wave, the share of the prior box ruled
out, which targets ruled out what, the emulators' leave-one-out checks and the run
parameter sets whose *simulated* replicate means are non-implausible (the ensemble).

This module knows nothing about civic-sim: :func:`history_match` takes a ``simulate``
function ``points -> (means, replicate variances)``, so a toy function with a known
plausible region checks it (``tests/test_history_matching.py``), and
:mod:`experiments.calibrate` passes one that goes through the project's runner and store.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

#: Pukelsheim's three-sigma rule: at least 95% of any unimodal distribution lies within
#: three standard deviations of its mean.
DEFAULT_CUTOFF = 3.0


class HistoryMatchingError(ValueError):
    """A history-matching problem a user can act on (for example an empty region)."""


@dataclass(frozen=True)
class Observation:
    """One target as history matching sees it.

    Attributes:
        name: The target's name.
        value: The public figure ``z``.
        obs_sd: Its observation error (standard deviation).
        discrepancy_sd: Model discrepancy (standard deviation).
    """

    name: str
    value: float
    obs_sd: float
    discrepancy_sd: float

    @property
    def fixed_variance(self) -> float:
        """``V_obs + V_md``: the part of the denominator that does not depend on ``x``."""
        return self.obs_sd**2 + self.discrepancy_sd**2


@dataclass(frozen=True)
class Box:
    """The prior: a ``[low, high]`` range per parameter (uniform within it).

    Attributes:
        names: Parameter names.
        low: Lower ends.
        high: Upper ends.
        integer: Which parameters take whole numbers.
    """

    names: tuple[str, ...]
    low: np.ndarray
    high: np.ndarray
    integer: tuple[bool, ...] = ()

    @classmethod
    def from_ranges(cls, ranges: dict[str, tuple[float, float]], integer: Sequence[str] = ()):
        """A box from ``{name: (low, high)}``."""
        names = tuple(ranges)
        low = np.array([float(ranges[n][0]) for n in names])
        high = np.array([float(ranges[n][1]) for n in names])
        if np.any(high <= low):
            bad = names[int(np.argmax(high <= low))]
            raise HistoryMatchingError(f"parameter {bad!r}: the range needs low below high")
        return cls(names, low, high, tuple(n in integer for n in names))

    @property
    def dim(self) -> int:
        """Number of parameters."""
        return len(self.names)

    def to_unit(self, values: np.ndarray) -> np.ndarray:
        """Parameter values to the unit cube."""
        return (np.asarray(values, dtype=float) - self.low) / (self.high - self.low)

    def from_unit(self, unit: np.ndarray) -> np.ndarray:
        """Unit-cube points to parameter values (whole numbers rounded)."""
        values = self.low + np.asarray(unit, dtype=float) * (self.high - self.low)
        for j, is_int in enumerate(self.integer):
            if is_int:
                values[:, j] = np.round(values[:, j])
        return values

    def points(self, unit: np.ndarray) -> list[dict[str, float]]:
        """Unit-cube points as parameter dicts (floats rounded to 12 digits)."""
        values = self.from_unit(unit)
        out = []
        for row in values:
            point = {}
            for name, value, is_int in zip(
                self.names, row, self.integer or (False,) * self.dim, strict=True
            ):
                point[name] = int(value) if is_int else round(float(value), 12)
            out.append(point)
        return out


# --- the emulator ----------------------------------------------------------------------
class TargetEmulator:
    """A Gaussian-process emulator of one target's replicate mean over the unit cube.

    A constant times an anisotropic squared-exponential kernel plus a small white-noise
    term (scikit-learn's :class:`~sklearn.gaussian_process.GaussianProcessRegressor`),
    on standardised outputs; the known noise of each training mean (replicate variance
    over replicates) enters as the per-point ``alpha``, so the emulator does not chase
    replicate noise and its variance includes it where no run was made.

    Args:
        seed: Seed of the optimiser's restarts.
        restarts: Extra optimiser restarts for the hyperparameters.
    """

    def __init__(self, seed: int = 0, restarts: int = 2):
        self.seed = seed
        self.restarts = restarts
        self.gp = None
        self._mean = 0.0
        self._scale = 1.0
        self._x: np.ndarray | None = None
        self._y: np.ndarray | None = None
        self._alpha: np.ndarray | None = None

    def fit(self, x: np.ndarray, y: np.ndarray, noise_var: np.ndarray) -> TargetEmulator:
        """Fit on unit-cube points ``x`` (n x d), means ``y`` and their noise variances.

        Returns:
            self
        """
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel

        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        noise_var = np.nan_to_num(np.asarray(noise_var, dtype=float), nan=0.0)
        self._mean = float(np.mean(y))
        self._scale = float(np.std(y)) or 1.0
        y_n = (y - self._mean) / self._scale
        alpha = noise_var / self._scale**2 + 1e-8
        dim = x.shape[1]
        kernel = ConstantKernel(1.0, (1e-2, 1e2)) * RBF(
            length_scale=np.full(dim, 0.5), length_scale_bounds=(0.03, 30.0)
        ) + WhiteKernel(1e-3, (1e-6, 0.5))
        gp = GaussianProcessRegressor(
            kernel=kernel,
            alpha=alpha,
            normalize_y=False,
            n_restarts_optimizer=self.restarts,
            random_state=self.seed,
        )
        with warnings.catch_warnings():
            # bounds reached (a flat target, an inactive parameter) are expected here
            warnings.simplefilter("ignore")
            gp.fit(x, y_n)
        self.gp = gp
        self._x, self._y, self._alpha = x, y_n, alpha
        return self

    def predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Emulated mean and variance of the target at unit-cube points."""
        mean, sd = self.gp.predict(np.asarray(x, dtype=float), return_std=True)
        return mean * self._scale + self._mean, (sd * self._scale) ** 2

    def leave_one_out(self) -> tuple[np.ndarray, np.ndarray]:
        """Leave-one-out predictions at the training points (fitted hyperparameters).

        With ``K`` the training covariance (kernel plus noise), the prediction of point
        ``i`` from the others has residual ``(K^-1 y)_i / (K^-1)_ii`` and variance
        ``1 / (K^-1)_ii`` (Rasmussen & Williams 2006, section 5.4.2).

        Returns:
            The left-out means and variances, in target units.
        """
        k = self.gp.kernel_(self._x) + np.diag(self._alpha)
        inverse = np.linalg.inv(k)
        diag = np.diag(inverse)
        residual = (inverse @ self._y) / diag
        mean = (self._y - residual) * self._scale + self._mean
        return mean, (1.0 / diag) * self._scale**2


def loo_standardised_errors(emulator: TargetEmulator, y: np.ndarray) -> np.ndarray:
    """``(y_i - LOO mean_i) / LOO sd_i`` at every training point: about N(0, 1) when the
    emulator is honest; many beyond +-3 mean it is over-confident."""
    mean, var = emulator.leave_one_out()
    return (np.asarray(y, dtype=float) - mean) / np.sqrt(var)


# --- implausibility ----------------------------------------------------------------------
def implausibility(
    observations: Sequence[Observation],
    mean: np.ndarray,
    model_var: np.ndarray,
    replicate_var: np.ndarray,
) -> np.ndarray:
    """``I_t`` of every point and target.

    Args:
        observations: The targets (T of them).
        mean: Emulated (or simulated) means, n x T.
        model_var: Emulator variance (zero for simulated means), n x T.
        replicate_var: Replicate noise of the compared quantity, T or n x T.

    Returns:
        n x T implausibilities.
    """
    z = np.array([o.value for o in observations])
    fixed = np.array([o.fixed_variance for o in observations])
    denominator = np.sqrt(fixed + np.asarray(model_var) + np.asarray(replicate_var))
    return np.abs(z - np.asarray(mean)) / denominator


def max_implausibility(values: np.ndarray, rule: str = "max") -> np.ndarray:
    """Reduce n x T implausibilities to one per point: the largest (``max``) or the second
    largest (``second_max``, robust to one badly emulated target)."""
    if rule == "second_max" and values.shape[1] > 1:
        return np.sort(values, axis=1)[:, -2]
    return np.max(values, axis=1)


# --- waves -------------------------------------------------------------------------------
@dataclass
class Wave:
    """One wave: where it ran, what it found, and its emulators.

    Attributes:
        index: 1, 2, ...
        unit: The wave's run points in the unit cube (n x d).
        means: Replicate means of the targets at those points (n x T).
        replicate_var: Between-replicate variance of one run's statistic (n x T).
        emulators: One emulator per target.
        loo: Leave-one-out standardised errors per target (n x T).
        replicate_noise: Pooled replicate noise of the compared quantity per target (T).
    """

    index: int
    unit: np.ndarray
    means: np.ndarray
    replicate_var: np.ndarray
    emulators: list[TargetEmulator]
    loo: np.ndarray
    replicate_noise: np.ndarray

    def emulate(self, unit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Emulated means and variances (n x T) at unit-cube points."""
        pairs = [e.predict(unit) for e in self.emulators]
        return np.column_stack([p[0] for p in pairs]), np.column_stack([p[1] for p in pairs])


@dataclass
class HistoryMatch:
    """Everything history matching found.

    Attributes:
        box: The prior box.
        observations: The targets matched.
        cutoff: The implausibility cutoff.
        rule: ``max`` or ``second_max``.
        waves: Every wave, in order.
        replicates: Replicates averaged per run point.
        prior_sample: A uniform sample of the prior box (unit cube) used for the shares.
        prior_pass: For each wave, which prior-sample points pass the emulators of
            waves 1..k (so ``prior_pass[-1]`` is the final non-implausible region).
        target_pass: Wave-1 pass of each target alone over the prior sample (N x T).
        ensemble_unit: Run points whose simulated means are non-implausible (unit cube).
        ensemble_means: Their simulated target means.
        ensemble_implausibility: Their largest simulated implausibility.
        ensemble_wave: The wave each came from.
        ensemble_row: Its row among that wave's run points.
        notes: Things a user should know (for example a wave that found no points).
    """

    box: Box
    observations: list[Observation]
    cutoff: float
    rule: str
    waves: list[Wave] = field(default_factory=list)
    replicates: int = 1
    prior_sample: np.ndarray | None = None
    prior_pass: list[np.ndarray] = field(default_factory=list)
    target_pass: np.ndarray | None = None
    ensemble_unit: np.ndarray | None = None
    ensemble_means: np.ndarray | None = None
    ensemble_implausibility: np.ndarray | None = None
    ensemble_wave: np.ndarray | None = None
    ensemble_row: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def share_ruled_out(self) -> float:
        """Share of the prior box the emulators of every wave rule out."""
        return float(1.0 - self.prior_pass[-1].mean()) if self.prior_pass else 0.0

    def share_ruled_out_by_wave(self) -> list[float]:
        """Cumulative share ruled out after each wave."""
        return [float(1.0 - p.mean()) for p in self.prior_pass]

    def share_ruled_out_by_target(self) -> dict[str, float]:
        """Share of the prior box each target alone rules out (wave-1 emulators)."""
        return {
            o.name: float(1.0 - self.target_pass[:, t].mean())
            for t, o in enumerate(self.observations)
        }

    def constraint_table(self) -> dict[str, dict[str, float]]:
        """Which targets constrain which parameters: for each target, the width of the
        central 90% of each parameter among the prior points that target alone keeps
        (wave 1), as a share of the prior width (1: no constraint; small: constrained)."""
        out = {}
        for t, o in enumerate(self.observations):
            kept = self.prior_sample[self.target_pass[:, t]]
            row = {}
            for j, name in enumerate(self.box.names):
                if len(kept) < 2:
                    row[name] = 0.0
                else:
                    lo, hi = np.quantile(kept[:, j], [0.05, 0.95])
                    row[name] = min(1.0, float((hi - lo) / 0.9))
            out[o.name] = row
        return out

    def passes(self, unit: np.ndarray) -> np.ndarray:
        """Whether unit-cube points pass the emulators of every wave."""
        ok = np.ones(len(unit), dtype=bool)
        for wave in self.waves:
            ok &= wave_pass(wave, unit, self)
        return ok


def wave_pass(wave: Wave, unit: np.ndarray, match: HistoryMatch) -> np.ndarray:
    """Whether unit-cube points are non-implausible by one wave's emulators."""
    mean, var = wave.emulate(unit)
    values = implausibility(match.observations, mean, var, wave.replicate_noise)
    return max_implausibility(values, match.rule) <= match.cutoff


def latin_hypercube(n: int, dim: int, rng: np.random.Generator) -> np.ndarray:
    """A Latin hypercube of ``n`` points in the unit cube (scipy's)."""
    from scipy.stats import qmc

    return qmc.LatinHypercube(d=dim, seed=rng).random(n)


def sample_region(
    match: HistoryMatch, n: int, rng: np.random.Generator, candidates: int = 20000
) -> np.ndarray:
    """Draw ``n`` points of the current non-implausible region (unit cube).

    Candidates come from a Latin hypercube of the whole box; the accepted ones are
    thinned to ``n`` by a greedy maximin choice (spread over the region, not clumped).
    When the region is small, more candidates are made by jittering accepted points
    (Gaussian steps of a tenth of their spread), checked against every wave again.

    Raises:
        HistoryMatchingError: If no candidate is non-implausible.
    """
    pool = latin_hypercube(candidates, match.box.dim, rng)
    kept = pool[match.passes(pool)]
    rounds = 0
    while 0 < len(kept) < 4 * n and rounds < 5:
        spread = np.maximum(kept.std(axis=0), 0.02)
        parents = kept[rng.integers(len(kept), size=candidates)]
        moved = np.clip(parents + rng.normal(0.0, 0.1, parents.shape) * spread, 0.0, 1.0)
        kept = np.vstack([kept, moved[match.passes(moved)]])
        rounds += 1
    if not len(kept):
        raise HistoryMatchingError(
            f"the non-implausible region is empty after wave {len(match.waves)}: no parameter "
            f"set of {candidates} tried reproduces every target within the cutoff "
            f"{match.cutoff:g}; widen the parameter ranges, raise the model discrepancy or "
            "the cutoff, or drop the target that rules everything out"
        )
    return maximin_subset(kept, n, rng)


def maximin_subset(points: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Greedily pick ``n`` of ``points`` far from each other (all if there are fewer)."""
    if len(points) <= n:
        return points
    if len(points) > 5000:
        points = points[rng.choice(len(points), 5000, replace=False)]
    chosen = [int(rng.integers(len(points)))]
    distance = np.linalg.norm(points - points[chosen[0]], axis=1)
    for _ in range(n - 1):
        nxt = int(np.argmax(distance))
        chosen.append(nxt)
        distance = np.minimum(distance, np.linalg.norm(points - points[nxt], axis=1))
    return points[chosen]


#: ``simulate(points) -> (means, replicate variances)``, both n x T, one row per point.
Simulator = Callable[[list[dict[str, float]], int], tuple[np.ndarray, np.ndarray]]


def fit_wave(
    index: int,
    unit: np.ndarray,
    means: np.ndarray,
    replicate_var: np.ndarray,
    replicates: int,
    seed: int = 0,
) -> Wave:
    """Fit one emulator per target on a wave's runs and check them by leave-one-out."""
    noise_of_mean = replicate_var / max(replicates, 1)
    emulators, loo = [], []
    for t in range(means.shape[1]):
        emulator = TargetEmulator(seed=seed + t).fit(unit, means[:, t], noise_of_mean[:, t])
        emulators.append(emulator)
        loo.append(loo_standardised_errors(emulator, means[:, t]))
    pooled = np.nanmean(replicate_var, axis=0) if replicates > 1 else np.zeros(means.shape[1])
    return Wave(
        index=index,
        unit=unit,
        means=means,
        replicate_var=replicate_var,
        emulators=emulators,
        loo=np.column_stack(loo),
        replicate_noise=np.nan_to_num(pooled) / max(replicates, 1),
    )


def history_match(
    simulate: Simulator,
    box: Box,
    observations: Sequence[Observation],
    *,
    points_per_wave: Sequence[int],
    replicates: int,
    cutoff: float = DEFAULT_CUTOFF,
    rule: str = "max",
    seed: int = 0,
    prior_sample_size: int = 20000,
    candidates: int = 20000,
) -> HistoryMatch:
    """Run the waves and return what they found.

    Args:
        simulate: ``simulate(points, wave) -> (means, replicate_var)``: the replicate means
            and between-replicate variances of every target at each point (n x T).
        box: The prior box.
        observations: The targets.
        points_per_wave: Run points of each wave (the first is a Latin hypercube).
        replicates: Replicates per point (for the replicate noise).
        cutoff: Implausibility cutoff.
        rule: ``max`` or ``second_max``.
        seed: Seed of every random choice (designs, candidates, optimiser restarts).
        prior_sample_size: Size of the uniform prior sample the shares are measured on.
        candidates: Candidates tried per wave when sampling the region.

    Raises:
        HistoryMatchingError: If the region is empty before the last wave, or if no run
            point is non-implausible in the end.
    """
    if rule not in ("max", "second_max"):
        raise HistoryMatchingError(f"rule must be max or second_max, got {rule!r}")
    rng = np.random.default_rng(seed)
    match = HistoryMatch(box=box, observations=list(observations), cutoff=cutoff, rule=rule)
    match.replicates = replicates
    match.prior_sample = rng.random((prior_sample_size, box.dim))
    for index, n in enumerate(points_per_wave, start=1):
        if index == 1:
            unit = latin_hypercube(n, box.dim, rng)
        else:
            unit = sample_region(match, n, rng, candidates)
            if len(unit) < n:
                match.notes.append(
                    f"wave {index}: the region gave {len(unit)} distinct points of {n} asked"
                )
        values = box.from_unit(unit)
        unit = box.to_unit(values)  # whole-number parameters: where the runs really are
        means, replicate_var = simulate(box.points(unit), index)
        wave = fit_wave(
            index,
            unit,
            np.asarray(means),
            np.asarray(replicate_var),
            replicates,
            seed=seed + 1000 * index,
        )
        match.waves.append(wave)
        ok = np.ones(len(match.prior_sample), dtype=bool)
        for w in match.waves:
            ok &= wave_pass(w, match.prior_sample, match)
        match.prior_pass.append(ok)
        if index == 1:
            mean, var = wave.emulate(match.prior_sample)
            values_t = implausibility(match.observations, mean, var, wave.replicate_noise)
            match.target_pass = values_t <= cutoff
    _choose_ensemble(match)
    return match


def simulated_implausibility(match: HistoryMatch, wave: Wave) -> np.ndarray:
    """Implausibility of a wave's run points from their simulated means (n x T)."""
    return implausibility(
        match.observations, wave.means, np.zeros_like(wave.means), wave.replicate_noise
    )


def _choose_ensemble(match: HistoryMatch) -> None:
    """The run points (every wave) whose simulated means are non-implausible."""
    units, means, worst, waves, rows = [], [], [], [], []
    for wave in match.waves:
        values = max_implausibility(simulated_implausibility(match, wave), match.rule)
        keep = values <= match.cutoff
        units.append(wave.unit[keep])
        means.append(wave.means[keep])
        worst.append(values[keep])
        waves.append(np.full(int(keep.sum()), wave.index))
        rows.append(np.flatnonzero(keep))
    match.ensemble_unit = np.vstack(units)
    match.ensemble_means = np.vstack(means)
    match.ensemble_implausibility = np.concatenate(worst)
    match.ensemble_wave = np.concatenate(waves)
    match.ensemble_row = np.concatenate(rows)
    if not len(match.ensemble_unit):
        best = min(
            float(np.min(max_implausibility(simulated_implausibility(match, w), match.rule)))
            for w in match.waves
        )
        raise HistoryMatchingError(
            f"no run parameter set is plausible: the best run's largest implausibility is "
            f"{best:.2f} (cutoff {match.cutoff:g}); widen the parameter ranges, raise the "
            "model discrepancy or the cutoff, or drop the target that rules everything out"
        )


def loo_summary(wave: Wave, cutoff: float = 3.0) -> list[tuple[float, float]]:
    """Per target: the share of leave-one-out standardised errors beyond ``cutoff`` and
    their root mean square (about 1 for a well-calibrated emulator)."""
    out = []
    for t in range(wave.loo.shape[1]):
        errors = wave.loo[:, t]
        errors = errors[np.isfinite(errors)]
        if not len(errors):
            out.append((math.nan, math.nan))
            continue
        out.append((float(np.mean(np.abs(errors) > cutoff)), float(np.sqrt(np.mean(errors**2)))))
    return out
