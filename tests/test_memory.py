"""Finished models are freed: nothing keeps a model (or its agents) alive after ``del``.

A sweep worker builds hundreds of models and the workshop server one per Reset, so a
model that outlives its last reference is a leak that grows with every run. Three
things used to keep models alive: agents in a numpy object array, Mesa's per-grid cell
class in ``copyreg``, and (Mesa 3.3) Mesa's class-level agent counters keyed by model
(``model/mesa_compat.py``). (The flat memory of a sweep worker over 200 runs is
measured by ``make bench``.)
"""

from __future__ import annotations

import copyreg
import gc
import weakref

import pytest

from model.civic_model import FREEZE_ABOVE_CELLS, CivicModel


@pytest.mark.parametrize("strategy", ["direct", "facilitator", "hybrid"])
def test_a_finished_model_and_its_agents_are_freed(strategy):
    model = CivicModel(strategy=strategy, residents=400, seed=3, check=True)
    model.run(60)  # deaths, arrivals, recruits and quits have come and gone
    assert model.volunteers.count > 0
    refs = [weakref.ref(model), weakref.ref(model.residents), weakref.ref(model.grid)]
    refs += [weakref.ref(agent) for agent in list(model.agents)[:50]]
    # Mesa's cell class of this grid (registered globally with copyreg) and a layer's data
    mesa_refs = [weakref.ref(model.grid.cell_klass), weakref.ref(model.grid.unmet_need.data)]
    del model
    gc.collect()
    alive = [r() for r in refs if r() is not None]
    assert not alive, f"{len(alive)} objects outlived their model, e.g. {alive[0]!r}"
    # the class is let go when the model is collected; a class is a cycle of its own, so
    # the next collection frees it
    gc.collect()
    assert all(r() is None for r in mesa_refs)


def test_many_models_in_one_process_do_not_pile_up():
    gc.collect()
    registered = len(copyreg.dispatch_table)
    refs = []
    for seed in range(8):
        model = CivicModel(residents=300, seed=seed)
        model.run(5)
        refs.append(weakref.ref(model))
    del model
    gc.collect()
    assert sum(r() is not None for r in refs) == 0
    assert len(copyreg.dispatch_table) == registered


def test_a_big_frozen_world_is_freed_once_the_next_model_is_built():
    # worlds this big hide their set-up objects from the collector (gc.freeze) while
    # they run; the next model built in the process releases them
    residents = int(FREEZE_ABOVE_CELLS * 0.5) + 100  # 0.5 residents per cell by default
    big = CivicModel(residents=residents, seed=1)
    width, height = big.grid.dimensions
    assert width * height >= FREEZE_ABOVE_CELLS and gc.get_freeze_count() > 0
    ref = weakref.ref(big)
    del big
    CivicModel(residents=200, seed=1)
    # read before collecting: CPython 3.12.1 miscounts the frozen objects after a collection
    assert gc.get_freeze_count() == 0
    gc.collect()
    assert ref() is None
