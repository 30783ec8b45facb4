"""The data structures under the model: populations, the cell index, ties, window sums."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from model import kernels
from model.kernels import window_sums
from model.population import Population
from model.space import CellIndex, civic_potential_layer
from model.streams import RandomStreams
from model.ties import TieNetwork


def test_population_reuses_lowest_free_slots_and_resets_columns():
    pop = Population({"age": (float, 0.0), "level": (np.int8, 0)}, capacity=2)
    a = pop.add(3, age=[70.0, 80.0, 90.0], level=[1, 2, 3])
    assert list(a) == [0, 1, 2] and pop.n_slots >= 3
    pop.remove(np.array([1]))
    assert pop.count == 2 and pop.age[1] == 0.0 and pop.level[1] == 0
    b = pop.add(1, age=66.0)
    assert list(b) == [1] and list(pop.live) == [0, 1, 2]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(1, 5)), min_size=1, max_size=40))
def test_population_always_claims_the_lowest_free_slots(steps):
    """Adds and removes in any order: slots are the lowest free ones, counts and the live
    list agree with a plain set of occupied slots, and freed slots are reset."""
    pop = Population({"age": (float, 0.0)}, capacity=3)
    occupied: set[int] = set()
    rng = np.random.default_rng(len(steps))
    for adding, n in steps:
        if adding:
            free = [s for s in range(pop.n_slots) if s not in occupied]
            free += list(range(pop.n_slots, pop.n_slots + n))
            slots = pop.add(n, age=70.0)
            assert list(slots) == sorted(free)[:n]
            occupied.update(slots.tolist())
        elif occupied:
            leaving = rng.choice(sorted(occupied), size=min(n, len(occupied)), replace=False)
            pop.remove(np.concatenate([leaving, leaving[:1]]))  # a repeat is harmless
            occupied.difference_update(leaving.tolist())
            assert (pop.age[leaving] == 0.0).all()
        assert pop.count == len(occupied)
        assert list(pop.live) == sorted(occupied)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 12), st.integers(0, 12)), max_size=40),
    st.lists(st.integers(0, 15), max_size=6),
)
def test_dropping_ties_matches_a_plain_reading(edges, leaving):
    """Dropping the ties of leaving residents keeps the others in order and takes each
    dropped tie off both ends' counts, as a plain loop would."""
    a = np.array([e[0] for e in edges], dtype=np.int64)
    b = np.array([e[1] for e in edges], dtype=np.int64)
    degree = np.bincount(np.concatenate([a, b]), minlength=16).astype(np.int64)
    gone = set(leaving)
    keep = [i for i in range(a.size) if a[i] not in gone and b[i] not in gone]
    expected = degree.copy()
    for i in set(range(a.size)) - set(keep):
        expected[a[i]] -= 1
        expected[b[i]] -= 1
    kept, dropped = kernels.drop_resident_ties(a, b, np.array(leaving, dtype=np.int64), degree)
    assert kept == len(keep)
    gone_keys = sorted((e[0] << 32) | e[1] for i, e in enumerate(edges) if i not in set(keep))
    assert sorted(dropped.tolist()) == gone_keys
    assert list(a[:kept]) == [e[0] for e in (edges[i] for i in keep)]
    assert list(b[:kept]) == [e[1] for e in (edges[i] for i in keep)]
    assert list(degree) == list(expected)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.booleans(), st.floats(0, 40), st.floats(0, 40)), min_size=1),
    st.lists(st.tuples(st.integers(0, 60), st.booleans()), max_size=20),
)
def test_seeking_help_and_pairings_of_leavers_match_plain_readings(residents, pairs):
    alive = np.array([r[0] for r in residents], dtype=bool)
    need = np.array([r[1] for r in residents])
    family = np.array([r[2] for r in residents])
    pair_res = np.array([p[0] % len(residents) for p in pairs], dtype=np.int32)
    pair_alive = np.array([p[1] for p in pairs], dtype=bool)
    paired = {int(p) for p, ok in zip(pair_res, pair_alive, strict=True) if ok}
    expected = [
        i for i in range(alive.size) if alive[i] and need[i] - family[i] > 1e-9 and i not in paired
    ]
    seeking, gap = kernels.seeking_help(alive, need, family, pair_res, pair_alive)
    assert list(seeking) == expected
    np.testing.assert_array_equal(gap, need[expected] - family[expected])
    leavers = np.array(sorted({int(p) for p in pair_res[::2]}), dtype=np.int64)
    rows = kernels.rows_naming(pair_res, pair_alive, leavers)
    assert list(rows) == [
        i for i in range(pair_res.size) if pair_alive[i] and pair_res[i] in set(leavers)
    ]


@settings(max_examples=50, deadline=None)
@given(
    st.integers(1, 30),
    st.integers(1, 30),
    st.integers(0, 6),
    st.lists(st.tuples(st.integers(0, 29), st.integers(0, 29)), min_size=1, max_size=20),
)
def test_window_sums_match_a_direct_sum(width, height, radius, points):
    rng = np.random.default_rng(width * 31 + height)
    grid = rng.integers(0, 4, (width, height)).astype(np.int64)
    x = np.array([p[0] % width for p in points], dtype=np.int64)
    y = np.array([p[1] % height for p in points], dtype=np.int64)
    expected = [
        grid[max(0, i - radius) : i + radius + 1, max(0, j - radius) : j + radius + 1].sum()
        for i, j in zip(x, y, strict=True)
    ]
    np.testing.assert_allclose(window_sums(grid, x, y, radius), expected)


def test_cell_index_finds_exactly_the_residents_in_the_square():
    index = CellIndex(10, 10, depth=1)
    slots = np.arange(6)
    x = np.array([0, 0, 5, 5, 5, 9])
    y = np.array([0, 0, 5, 6, 9, 9])
    index.add(slots, x, y)  # two in one cell: the index deepens
    assert sorted(index.near(5, 5, 1)) == [2, 3]
    assert sorted(index.near(0, 0, 0)) == [0, 1]
    index.remove(np.array([3]), np.array([5]), np.array([6]))
    assert sorted(index.near(5, 5, 4)) == [2, 4, 5]


def test_tie_counts_follow_additions_and_removals():
    ties = TieNetwork()
    ties.add_resident_ties([0, 0, 1, 1], [1, 2, 0, 3])  # (0,1) given twice
    ties.add_volunteer_ties([7, 7], [2, 3])
    assert list(ties.resident_degree(5)) == [2, 2, 2, 2, 0]
    assert list(ties.volunteers_known(5)) == [0, 0, 1, 1, 0]
    ties.drop_residents([1])
    assert list(ties.resident_degree(5)) == [1, 0, 2, 1, 0]
    ties.drop_volunteers([7])
    assert list(ties.resident_degree(5)) == [1, 0, 1, 0, 0]
    vols, reached = ties.residents_reachable(np.array([7]), 5)
    assert vols.size == 0 and reached.size == 0
    ties.add_volunteer_ties([8], [0])
    vols, reached = ties.residents_reachable(np.array([8]), 5)
    assert sorted(reached) == [0, 2]  # tied to 0, and 0's neighbour 2 (1 has gone)
    assert set(vols) == {8}


def test_exogenous_draws_are_uniform_and_keyed():
    streams = RandomStreams(5)
    u = streams.exogenous_uniform("death", np.arange(200_000), 3)
    assert 0 <= u.min() and u.max() < 1 and abs(u.mean() - 0.5) < 0.005
    again = RandomStreams(5).exogenous_uniform("death", np.arange(10), 3)
    np.testing.assert_array_equal(u[:10], again)
    other = streams.exogenous_uniform("need_up", np.arange(10), 3)
    assert not np.array_equal(u[:10], other)


@settings(max_examples=30, deadline=None)
@given(st.floats(0.0, 1.0), st.floats(0.0, 0.5), st.floats(0.0, 20.0))
def test_civic_layer_stays_in_range_with_the_requested_mean(mean, spread, patchiness):
    layer = civic_potential_layer((30, 25), mean, spread, patchiness, np.random.default_rng(1))
    assert layer.min() >= 0 and layer.max() <= 1
    if 0.02 < mean < 0.98:
        assert abs(layer.mean() - mean) < 0.05


def test_bulk_window_query_matches_one_at_a_time():
    index = CellIndex(12, 9, depth=2)
    rng = np.random.default_rng(3)
    x, y = rng.integers(0, 12, 60), rng.integers(0, 9, 60)
    index.add(np.arange(60), x, y)
    qx, qy = rng.integers(0, 12, 15), rng.integers(0, 9, 15)
    point, slots = index.near_many(qx, qy, 2)
    for k in range(15):
        assert sorted(slots[point == k]) == sorted(index.near(qx[k], qy[k], 2))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 6), min_size=1, max_size=5), st.integers(0, 4))
def test_random_neighbours_are_distinct_and_as_many_as_asked(group_sizes, k):
    from model.kernels import sample_groups

    point = np.repeat(np.arange(len(group_sizes)), group_sizes).astype(np.int64)
    u = np.random.default_rng(k).random((len(group_sizes), k))
    picked = sample_groups(point, u)
    assert len(set(picked.tolist())) == picked.size
    chosen = np.bincount(point[picked], minlength=len(group_sizes))
    assert chosen.tolist() == [min(k, m) for m in group_sizes]


def test_random_neighbours_are_chosen_uniformly():
    from model.kernels import sample_groups

    point = np.zeros(5, dtype=np.int64)
    rng = np.random.default_rng(0)
    counts = np.zeros(5)
    for _ in range(4000):
        counts[sample_groups(point, rng.random((1, 2)))] += 1
    np.testing.assert_allclose(counts / 4000, 2 / 5, atol=0.03)  # each 2 in 5
