"""Experiments with civic-sim: spec files, the batch runner, the result store and reports.

Data flows one way: a spec (:mod:`experiments.spec`) expands into runs; the runner
(:mod:`experiments.runner`) executes them on an executor and writes each finished run
to the store (:mod:`experiments.store`); analysis (:mod:`experiments.analysis`) reads
the store; plots (:mod:`experiments.plots`) and the report (:mod:`experiments.report`)
present it. The command-line interface is :mod:`experiments.cli`. Global sensitivity
analysis (:mod:`experiments.sensitivity`), scenario discovery (:mod:`experiments.discovery`)
and robustness (:mod:`experiments.robustness`) add report sections; :func:`evaluate` runs
the model once as a function, and :mod:`experiments.ema` wraps it for the EMA Workbench.
"""

from experiments.evaluation import evaluate

__all__ = ["evaluate"]
