"""Experiments with civic-sim: spec files, the batch runner, the result store and reports.

Data flows one way: a spec (:mod:`experiments.spec`) expands into runs; the runner
(:mod:`experiments.runner`) takes the folder's lock (:mod:`experiments.lock`), executes
the runs on an executor (:mod:`experiments.executors`, which also handles Ctrl-C) and
writes each finished run to the store (:mod:`experiments.store`); analysis
(:mod:`experiments.analysis`) reads the store; plots (:mod:`experiments.plots`), the
report's sections (:mod:`experiments.report`, :mod:`experiments.sections`, with the plain
words of :mod:`experiments.headline`) and the comparison of two sweeps
(:mod:`experiments.compare`) present it. The command-line interface is
:mod:`experiments.cli`. Global sensitivity
analysis (:mod:`experiments.sensitivity`), scenario discovery (:mod:`experiments.discovery`)
and robustness (:mod:`experiments.robustness`) add report sections
(:mod:`experiments.exploration`); :func:`evaluate` runs the model once as a function, and
:mod:`experiments.ema` wraps it for the EMA Workbench.
"""

__all__ = ["evaluate"]


def __getattr__(name: str):
    """``experiments.evaluate``, imported when first asked for: every command imports
    this package, and :func:`evaluate` brings SciPy's statistics with it (0.4 s)."""
    if name == "evaluate":
        from experiments.evaluation import evaluate

        return evaluate
    raise AttributeError(f"module 'experiments' has no attribute {name!r}")
