"""Work-arounds for the Mesa versions civic-sim supports (3.3 to 3.x, below 4).

Two things in Mesa keep a finished model alive for the rest of the process, so a sweep
worker or the workshop server would grow with every model (``docs/design-notes.md``):

* Mesa 3.3 numbers agents with a class-level ``Agent._ids``, a ``defaultdict`` keyed by
  the model itself. :func:`release_models_from_agent_ids` makes it hold models weakly
  (same numbering: each model's agents count from 1). Mesa 3.4+ has no such table.
* Every Mesa version registers each grid's own cell class with ``copyreg`` (so cells can
  be pickled), a process-wide table; :func:`forget_cell_class_with` removes the entry when
  the model is freed.
"""

from __future__ import annotations

import copyreg
import itertools
import weakref
from collections import defaultdict

from mesa import agent as mesa_agent


class _AgentIdsByModel(weakref.WeakKeyDictionary):
    """Agent-number counters per model, holding the models weakly (a counter per model,
    from 1, made on first use, as Mesa 3.3's ``defaultdict`` does)."""

    def __getitem__(self, model):
        try:
            return super().__getitem__(model)
        except KeyError:
            counter = self[model] = itertools.count(1)
            return counter


def release_models_from_agent_ids() -> None:
    """Make Mesa 3.3's ``Agent._ids`` hold models weakly (nothing to do on Mesa 3.4+)."""
    ids = getattr(mesa_agent.Agent, "_ids", None)
    if isinstance(ids, defaultdict):
        weak = _AgentIdsByModel()
        weak.update(ids)
        mesa_agent.Agent._ids = weak


def forget_cell_class_with(model, grid) -> None:
    """Drop ``grid``'s cell class from ``copyreg`` once ``model`` is freed.

    The class, and the arrays of the property layers its accessors read, would otherwise
    live as long as the process. Pickling a live model still works.
    """
    weakref.finalize(model, copyreg.dispatch_table.pop, grid.cell_klass, None)


release_models_from_agent_ids()
