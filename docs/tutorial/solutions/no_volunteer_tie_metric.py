"""Exercise (c): a new metric -- the share of older residents tied to no volunteer.

The "synaptic" argument is about connections: a resident who knows no volunteer cannot
be referred, visited or recruited through the network. ``model.ties`` keeps the
volunteer-resident ties; ``volunteers_known(n_slots)`` counts, for every resident slot,
the volunteers they are tied to. The metric is registered with a name, a function of the
model and a one-line description; from then on every run collects it every week, and
the CLI, experiment specs and the workshop page offer it.
"""

from __future__ import annotations

from model.metrics import ratio, register_metric


def share_no_volunteer_tie(model) -> float:
    """Share of living older residents with no tie to any active volunteer (0-1)."""
    r = model.residents
    live = r.live
    known = model.ties.volunteers_known(r.n_slots)[live]
    return ratio((known == 0).sum(), live.size)


# replace=True: loading this file twice (a notebook, the CLI and a spec) is harmless.
register_metric(
    "share_no_volunteer_tie",
    share_no_volunteer_tie,
    "Share of older residents tied to no active volunteer (0-1)",
    replace=True,
)
