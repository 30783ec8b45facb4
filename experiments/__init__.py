"""Experiments with civic-sim: spec files, the batch runner, the result store and reports.

Data flows one way: a spec (:mod:`experiments.spec`) expands into runs; the runner
(:mod:`experiments.runner`) executes them on an executor and writes each finished run
to the store (:mod:`experiments.store`); analysis (:mod:`experiments.analysis`) reads
the store; plots (:mod:`experiments.plots`) and the report (:mod:`experiments.report`)
present it. The command-line interface is :mod:`experiments.cli`.
"""
