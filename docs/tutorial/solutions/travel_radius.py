"""Exercise (d): how far volunteers travel, against the Casserole Club's one-mile radius.

``travel_radius`` (cells of about 100 m; the default 16 is one mile, the Casserole Club's
matching radius) limits how far a coordinator sends a volunteer and how far a volunteer
goes to someone they heard of through ties. Two scenarios make the comparison a
one-word choice, and a metric shows how far volunteers actually travel.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from model import CivicModel, Scenario, register_scenario
from model.metrics import register_metric

# replace=True: loading this file twice (a notebook, the CLI and a spec) is harmless.
register_scenario(
    Scenario(
        "walking_distance",
        "Walking distance",
        "Volunteers only go to someone within about 400 m (4 cells), a five-minute walk, "
        "instead of the Casserole Club's one mile.",
        {"travel_radius": 4},
    ),
    replace=True,
)
register_scenario(
    Scenario(
        "two_miles",
        "Two miles",
        "Volunteers go up to two miles (32 cells): twice the Casserole Club radius.",
        {"travel_radius": 32},
    ),
    replace=True,
)


def mean_pairing_distance(model) -> float:
    """Mean straight-line distance between paired volunteers and residents (cells; 0 if none)."""
    pairs, r, v = model.pairs, model.residents, model.volunteers
    live = pairs.live
    if live.size == 0:
        return 0.0
    vol, res = pairs.vol[live], pairs.res[live]
    return float(np.hypot(v.x[vol] - r.x[res], v.y[vol] - r.y[res]).mean())


register_metric(
    "mean_pairing_distance",
    mean_pairing_distance,
    "Mean distance between paired volunteers and residents (cells of 100 m)",
    replace=True,
)


def compare(
    radii=(4, 16, 32), strategy="facilitator", seeds=range(3), residents=1000, steps=156
) -> pd.DataFrame:
    """Mean of the last year's metrics for each travel radius, on the same seeds.

    Returns:
        A DataFrame indexed by ``travel_radius`` with pairings, matches brokered, unmet
        low-level hours, active volunteers and the mean pairing distance.
    """
    columns = [
        "pairings",
        "matches_brokered",
        "unmet_low_level_hours",
        "active_volunteers",
        "mean_pairing_distance",
    ]
    rows = []
    for radius in radii:
        for seed in seeds:
            frame = CivicModel(
                strategy=strategy, residents=residents, seed=seed, travel_radius=radius
            ).run(steps)
            rows.append({"travel_radius": radius, **frame[columns].iloc[-52:].mean()})
    return pd.DataFrame(rows).groupby("travel_radius").mean()


if __name__ == "__main__":
    print(compare().round(2))
