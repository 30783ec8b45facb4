"""The model as an EMA Workbench model: uncertainties and levers from the declarations.

Every parameter of :mod:`model.parameters` declares a kind and a plausible range.
:func:`build_model` turns them into an ``ema_workbench.Model`` around
:func:`experiments.evaluate`:

* **uncertainties**: the parameters of the kinds asked for (default ``invented`` and
  ``data``) at their plausible ranges (``RealParameter``, or ``IntegerParameter`` for
  whole numbers);
* **levers**: the ``lever`` parameters at their plausible ranges, less the four
  facilitation shares (they must add up to 1, which independent sampling breaks), plus
  the council ``strategy`` as a ``CategoricalParameter``;
* **outcomes**: the final-year outcomes as ``ScalarOutcome`` (minimise unmet need and
  cost, maximise volunteers);
* **constants**: weeks, replicate and root seed, and any fixed values.

Recipe (``docs/experiments.md``)::

    from ema_workbench import SequentialEvaluator, perform_experiments
    from ema_workbench.analysis import prim
    from experiments.ema import build_model

    model = build_model(uncertainties=["civic_potential", "recruitment_rate"],
                        levers=["budget_scale"], steps=260, fixed={"residents": 500})
    with SequentialEvaluator(model) as evaluator:
        experiments, outcomes = perform_experiments(model, scenarios=50, policies=2,
                                                    evaluator=evaluator)

Runs are paired as in a sweep: every experiment uses ``SeedSequence(seed, spawn_key=(r,))``
with the same replicate ``r``, so policies face the same random numbers.
Requires the ``analysis`` extra (``pip install civic-sim[analysis]``).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from typing import Any

from experiments.analysis import OUTCOMES

#: Levers left out by default: they must add up to 1 with each other.
LINKED_LEVERS = ("share_coordinators", "share_volunteer_support", "share_outreach", "share_grants")


class Evaluator:
    """The function EMA calls: keyword parameter values in, outcomes out (picklable)."""

    def __init__(self, steps: int, replicate: int, seed: int, fixed: dict[str, Any]):
        self.steps = steps
        self.replicate = replicate
        self.seed = seed
        self.fixed = dict(fixed)

    def __call__(self, **values: Any) -> dict[str, float]:
        """Run the model with the fixed values and ``values``; final-year outcomes."""
        from experiments.evaluation import evaluate

        for key in ("steps", "replicate", "seed"):
            values.pop(key, None)
        values = {k: (v.item() if hasattr(v, "item") else v) for k, v in values.items()}
        return evaluate({**self.fixed, **values}, self.steps, self.replicate, self.seed)


def _names(selection: Iterable[str] | str, default_kinds: tuple[str, ...]) -> list[str]:
    from model.parameters import KINDS, PARAMETER_FIELDS, parameters_of_kind

    if isinstance(selection, str):
        selection = [selection]
    names: list[str] = []
    for item in selection:
        if item in KINDS:
            names += [n for n in parameters_of_kind(item) if n not in names]
        elif item in PARAMETER_FIELDS:
            names.append(item)
        else:
            raise ValueError(
                f"unknown parameter or kind {item!r}; kinds are {', '.join(KINDS)}, and "
                "'civic-sim list parameters' shows the names"
            )
    return names or [n for k in default_kinds for n in parameters_of_kind(k)]


def _parameter(name: str, low_high: tuple | None = None):
    from ema_workbench import IntegerParameter, RealParameter

    from model.parameters import plausible_range

    low, high = low_high or plausible_range(name) or (None, None)
    if low is None:
        raise ValueError(f"parameter {name!r} declares no plausible range; give one")
    if isinstance(low, int) and isinstance(high, int):
        return IntegerParameter(name, low, high)
    return RealParameter(name, float(low), float(high))


def build_model(
    name: str = "civicsim",
    uncertainties: Iterable[str] | str = ("invented", "data"),
    levers: Iterable[str] | str = ("lever",),
    strategies: Iterable[str] | None = None,
    steps: int = 520,
    replicate: int = 0,
    seed: int = 0,
    fixed: dict[str, Any] | None = None,
    ranges: dict[str, tuple] | None = None,
):
    """An ``ema_workbench.Model`` of civic-sim.

    Args:
        name: The EMA model's name (letters and digits only).
        uncertainties: Parameter names and/or kinds whose parameters are uncertainties.
        levers: Parameter names and/or kinds whose parameters are levers (the linked
            facilitation shares are left out when taken from a kind).
        strategies: Strategies the ``strategy`` lever chooses from (default: all
            registered); an empty list leaves the strategy out (set it in ``fixed``).
        steps: Weeks per run.
        replicate: Replicate index of every run (paired seeding).
        seed: Root entropy.
        fixed: Parameter values held constant.
        ranges: Ranges replacing declared ones, ``{name: (low, high)}``.

    Returns:
        The model, with ``uncertainties``, ``levers``, ``outcomes`` and ``constants`` set.

    Raises:
        ValueError: For an unknown name, or a parameter without a range.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "ipyparallel not installed": not needed here
        from ema_workbench import CategoricalParameter, Constant, Model, ScalarOutcome

    from model.strategies import strategy_names

    fixed = dict(fixed or {})
    ranges = dict(ranges or {})
    unc = [n for n in _names(uncertainties, ("invented", "data")) if n not in fixed]
    from_kind = isinstance(levers, str) or any(item == "lever" for item in levers)
    lev = [
        n
        for n in _names(levers, ("lever",))
        if n not in fixed and n not in unc and not (from_kind and n in LINKED_LEVERS)
    ]
    model = Model(name, function=Evaluator(steps, replicate, seed, fixed))
    model.uncertainties = [_parameter(n, ranges.get(n)) for n in unc]
    lever_params = [_parameter(n, ranges.get(n)) for n in lev]
    choices = strategy_names() if strategies is None else list(strategies)
    if choices and "strategy" not in fixed:
        lever_params.append(CategoricalParameter("strategy", choices))
    model.levers = lever_params
    model.outcomes = [
        ScalarOutcome(
            o.name, kind=ScalarOutcome.MINIMIZE if o.lower_is_better else ScalarOutcome.MAXIMIZE
        )
        for o in OUTCOMES
    ]
    model.constants = [
        Constant("steps", steps),
        Constant("replicate", replicate),
        Constant("seed", seed),
    ]
    return model
