"""Compiled loops for the model's bookkeeping (numba).

The *rules* of the model are numpy formulas in ``agents/``, written for students to read
and change. Around them sits bookkeeping: who lives near whom, which ties end when
someone leaves, who is matched to whom. Each week that bookkeeping touches a handful of
people, and as numpy it is dozens of calls on tiny arrays, each costing more than the
work it does. Here it is written as the plain loops it describes, compiled by numba
(``docs/design-notes.md`` explains the choice). Every function has a pure-Python
meaning and no state of its own: arrays in, arrays out (or updated in place, as said).

The signatures are given, so the compiled code is loaded (or built, the first time on a
machine, then cached beside this file) when the module is imported, never in the middle
of a run.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_UNIT = 1.0 / 9007199254740992.0  # 2 ** -53

# Signatures take C-contiguous arrays only (numba compiles tighter loops for them); callers
# pass whole columns, fancy-indexed copies or np.ascontiguousarray results.
I8, I16, I32, I64 = "int8[::1]", "int16[::1]", "int32[::1]", "int64[::1]"
F64, BOOL = "float64[::1]", "boolean[::1]"
I64_2D, I64_3D, F64_2D = "int64[:, ::1]", "int64[:, :, ::1]", "float64[:, ::1]"


@njit("float64(int64, uint64)", cache=True)
def draw(id_, salt):
    """SplitMix64 of ``id * golden + salt`` (wrapping), as a float in [0, 1): the
    counter-based draw of :mod:`model.streams`, depending on nothing but the id and salt."""
    x = np.uint64(id_) * _GOLDEN + salt
    x = (x ^ (x >> np.uint64(30))) * _M1
    x = (x ^ (x >> np.uint64(27))) * _M2
    x = x ^ (x >> np.uint64(31))
    return np.float64(x >> np.uint64(11)) * _UNIT


@njit(f"{F64}({I64}, uint64)", cache=True)
def uniforms(ids, salt):
    """:func:`draw` for each of ``ids``."""
    out = np.empty(ids.size, dtype=np.float64)
    for i in range(ids.size):
        out[i] = draw(ids[i], salt)
    return out


@njit(f"int64({I64_3D}, {I64}, {I64}, {I64}, int64)", cache=True)
def cell_add(padded, slots, x, y, margin):
    """Put each slot in the first free place of its cell (x, y) of the padded index.

    Returns:
        How many were placed: fewer than all when a cell is full (deepen and call again
        with the rest).
    """
    depth = padded.shape[2]
    for i in range(slots.size):
        row = padded[x[i] + margin, y[i] + margin]
        placed = False
        for d in range(depth):
            if row[d] < 0:
                row[d] = slots[i]
                placed = True
                break
        if not placed:
            return i
    return slots.size


@njit(f"void({I64_3D}, {I64}, {I64}, {I64}, int64)", cache=True)
def cell_remove(padded, slots, x, y, margin):
    """Clear each slot from its cell (x, y) of the padded index."""
    depth = padded.shape[2]
    for i in range(slots.size):
        row = padded[x[i] + margin, y[i] + margin]
        for d in range(depth):
            if row[d] == slots[i]:
                row[d] = -1


@njit(
    f"Tuple(({I64}, {I64}))({I64_3D}, {I64}, {I64}, int64, int64, {BOOL})",
    cache=True,
)
def cell_near(padded, x, y, radius, margin, wanted):
    """Residents within ``radius`` cells of each point (a square), in cell order; only
    those marked in ``wanted`` if it is not empty.

    The padded index has an empty border ``margin >= radius`` wide, so no look-up leaves it.

    Returns:
        (which point, resident slot) pairs, grouped by point.
    """
    depth = padded.shape[2]
    everyone = wanted.size == 0
    most = x.size * (2 * radius + 1) * (2 * radius + 1) * depth
    point = np.empty(most, dtype=np.int64)
    found = np.empty(most, dtype=np.int64)
    k = 0
    for i in range(x.size):
        for cx in range(x[i] + margin - radius, x[i] + margin + radius + 1):
            for cy in range(y[i] + margin - radius, y[i] + margin + radius + 1):
                for d in range(depth):
                    slot = padded[cx, cy, d]
                    if slot >= 0 and (everyone or wanted[slot]):
                        point[k] = i
                        found[k] = slot
                        k += 1
    return point[:k], found[:k]


@njit(f"{I64}({I64}, {F64_2D})", cache=True)
def sample_groups(point, u):
    """A random choice of up to k entries from each run of equal ``point`` values (the
    candidates of one point), without replacement: a partial Fisher-Yates shuffle driven
    by the uniforms ``u[point, :k]``.

    Returns:
        Positions of the chosen entries, point by point, in the order drawn.
    """
    k = u.shape[1]
    picked = np.empty(point.size, dtype=np.int64)
    n = 0
    start = 0
    while start < point.size:
        end = start
        while end < point.size and point[end] == point[start]:
            end += 1
        pool = np.arange(start, end)
        for j in range(min(k, end - start)):
            r = j + int(u[point[start], j] * (end - start - j))
            pool[j], pool[r] = pool[r], pool[j]
            picked[n] = pool[j]
            n += 1
        start = end
    return picked[:n]


@njit([f"int64({I64}, {I64}, int64)", f"int64({I16}, {I32}, int64)"], cache=True)
def bump(counts, index, sign):
    """``counts[index] += sign``, repeats counted.

    Returns:
        The length ``counts`` needs (largest index + 1). If ``counts`` is shorter, it is
        left unchanged: lengthen it and call again.
    """
    needed = 0
    for i in index:
        needed = max(needed, i + 1)
    if needed > counts.size:
        return needed
    for i in index:
        counts[i] += sign
    return needed


@njit(f"{BOOL}({I64})", cache=True)
def marks(slots):
    """A look-up array marking ``slots`` (as long as the largest slot + 1)."""
    size = 0
    for s in slots:
        size = max(size, s + 1)
    marked = np.zeros(size, dtype=np.bool_)
    for s in slots:
        marked[s] = True
    return marked


@njit(f"{I64}({I32}, {BOOL}, {I64})", cache=True)
def rows_naming(column, alive, slots):
    """The live rows (``alive``) whose ``column`` value is one of ``slots``, ascending:
    e.g. the pairings of leaving residents."""
    named = marks(slots)
    size = named.size
    rows = np.empty(column.size, dtype=np.int64)
    n = 0
    for i in range(column.size):
        value = column[i]
        if alive[i] and 0 <= value < size and named[value]:
            rows[n] = i
            n += 1
    return rows[:n]


@njit(f"Tuple((int64, {I64}))({I64}, {I64}, {I64}, {I64})", cache=True)
def drop_resident_ties(a, b, slots, degree):
    """Keep the resident-resident ties (a, b) with neither end one of ``slots``, moved to
    the front of ``a`` and ``b`` in order (in place); both ends of every dropped tie lose
    it in ``degree``.

    Returns:
        How many ties are kept, and the keys ``a << 32 | b`` of those dropped.
    """
    gone = marks(slots)
    size = gone.size
    dropped = np.empty(a.size, dtype=np.int64)
    n = 0
    kept = 0
    for i in range(a.size):
        if (a[i] < size and gone[a[i]]) or (b[i] < size and gone[b[i]]):
            degree[a[i]] -= 1
            degree[b[i]] -= 1
            dropped[n] = (a[i] << 32) | b[i]
            n += 1
        else:
            a[kept] = a[i]
            b[kept] = b[i]
            kept += 1
    return kept, dropped[:n]


@njit(f"Tuple((int64, {I64}))({I64}, {I64}, {I64}, boolean, {I64}, {I64})", cache=True)
def drop_volunteer_ties(v, r, slots, by_volunteer, degree, known):
    """Keep the volunteer-resident ties (v, r) whose volunteer (``by_volunteer``) or
    resident is not one of ``slots``, moved to the front of ``v`` and ``r`` in order (in
    place); the resident of every dropped tie loses it in ``degree`` and ``known``.

    Returns:
        How many ties are kept, and the keys ``v << 32 | r`` of those dropped.
    """
    gone = marks(slots)
    size = gone.size
    dropped = np.empty(v.size, dtype=np.int64)
    n = 0
    kept = 0
    for i in range(v.size):
        end = v[i] if by_volunteer else r[i]
        if end < size and gone[end]:
            degree[r[i]] -= 1
            known[r[i]] -= 1
            dropped[n] = (v[i] << 32) | r[i]
            n += 1
        else:
            v[kept] = v[i]
            r[kept] = r[i]
            kept += 1
    return kept, dropped[:n]


@njit(f"{I64}({I64}, {I64}, int64)", cache=True)
def choose_in_turn(vol, res, n_residents):
    """Compiled copy of :func:`agents.volunteer.choose_in_turn`.

    Volunteers choose in turn: each takes the first candidate on their list that no
    earlier volunteer took. ``vol``/``res`` list candidates grouped by volunteer, in the
    order volunteers choose, best candidate first.

    Returns:
        For each resident slot, the index into ``vol`` of the volunteer who took them, or -1.
    """
    holder = np.full(n_residents, -1, dtype=np.int64)
    i = 0
    while i < vol.size:
        start = i
        taken = False
        while i < vol.size and vol[i] == vol[start]:
            if not taken and holder[res[i]] < 0:
                holder[res[i]] = start
                taken = True
            i += 1
    return holder


@njit(
    f"{I64}({I32}, {I32}, {I16}, {I32}, {I32}, {I16}, {I64}, int64, int64)",
    cache=True,
)
def broker(ax, ay, ahub, hx, hy, hhub, room, radius, k):
    """Compiled copy of :func:`agents.hub.broker`.

    Askers (residents, in priority order) are matched to helpers (volunteers with
    ``room``) of their own hub, in rounds.

    Each asker's candidates are the ``k`` nearest helpers of its hub closer than
    ``radius`` (ties to the lower helper index), found through a bucket grid of side
    ``radius``, so only the 3 x 3 buckets around an asker are searched. In round j each
    asker still unmatched asks their j-th candidate, who accepts while they have room, so
    a helper's room goes to the highest-priority askers of the round. ``room`` is used up
    in place.

    Returns:
        For each asker, its helper or -1.
    """
    n = ax.size
    side = max(radius, 1)
    nbx = (hx.max() if hx.size else 0) // side + 1
    nby = (hy.max() if hy.size else 0) // side + 1
    # helpers by bucket (a counting sort, keeping index order within a bucket)
    start = np.zeros(nbx * nby + 1, dtype=np.int64)
    for h in range(hx.size):
        start[(hx[h] // side) * nby + hy[h] // side + 1] += 1
    start = np.cumsum(start)
    members = np.empty(hx.size, dtype=np.int64)
    fill = start[:-1].copy()
    for h in range(hx.size):
        b = (hx[h] // side) * nby + hy[h] // side
        members[fill[b]] = h
        fill[b] += 1
    limit = radius * radius
    cand = np.full((n, k), -1, dtype=np.int64)
    best = np.full((n, k), np.iinfo(np.int64).max, dtype=np.int64)
    for i in range(n):
        bx, by = ax[i] // side, ay[i] // side
        for cx in range(max(bx - 1, 0), min(bx + 2, nbx)):
            for cy in range(max(by - 1, 0), min(by + 2, nby)):
                b = cx * nby + cy
                for m in range(start[b], start[b + 1]):
                    h = members[m]
                    if hhub[h] != ahub[i]:
                        continue
                    d = (ax[i] - hx[h]) ** 2 + (ay[i] - hy[h]) ** 2
                    if d >= limit:
                        continue
                    if d > best[i, k - 1] or (d == best[i, k - 1] and h > cand[i, k - 1] >= 0):
                        continue
                    j = k - 1  # insert, keeping the k best in (distance, index) order
                    while j > 0 and (
                        best[i, j - 1] > d or (best[i, j - 1] == d and cand[i, j - 1] > h)
                    ):
                        best[i, j] = best[i, j - 1]
                        cand[i, j] = cand[i, j - 1]
                        j -= 1
                    best[i, j] = d
                    cand[i, j] = h
    matched_to = np.full(n, -1, dtype=np.int64)
    for rank in range(k):
        anyone = False
        for i in range(n):
            if matched_to[i] >= 0 or cand[i, rank] < 0:
                continue
            anyone = True
            helper = cand[i, rank]
            if room[helper] > 0:
                room[helper] -= 1
                matched_to[i] = helper
        if not anyone:
            break  # candidates are in order: nobody unmatched has one further down
    return matched_to


@njit(
    f"Tuple(({F64}, {F64}, {F64}, {F64}, {F64}, {BOOL}))"
    f"({I64}, {I64}, {F64}, {I16}, {I32}, {F64}, int64)",
    cache=True,
)
def visits(vol, res, capacity, matches, employer, gap, n_volunteer_slots):
    """Compiled copy of :func:`agents.volunteer.visits`.

    Volunteer hours over the live pairings (``vol``, ``res``).

    Each volunteer splits their capacity evenly over their pairings; a resident offered
    more than their ``gap`` takes only what they lack, every offer scaled down alike. The
    need falling on a volunteer is their share of their residents' gaps.

    Returns:
        (hours per pairing, volunteer hours per resident slot, employee-volunteer hours
        per resident slot, demand per volunteer slot, hours given per volunteer slot,
        visited per resident slot).
    """
    n_res = gap.size
    offered = np.empty(vol.size)
    total = np.zeros(n_res)
    for i in range(vol.size):
        offered[i] = capacity[vol[i]] / max(matches[vol[i]], 1)
        total[res[i]] += offered[i]
    hours = np.empty(vol.size)
    from_neighbours = np.zeros(n_res)
    from_employees = np.zeros(n_res)
    demand = np.zeros(n_volunteer_slots)
    given = np.zeros(n_volunteer_slots)
    visited = np.zeros(n_res, dtype=np.bool_)
    for i in range(vol.size):
        t = total[res[i]]
        scale = gap[res[i]] / t if t > 0 else 0.0
        hours[i] = offered[i] * min(1.0, scale)
        share = offered[i] / t if t > 0 else 0.0
        demand[vol[i]] += gap[res[i]] * share
        if employer[vol[i]] >= 0:
            from_employees[res[i]] += hours[i]
        else:
            from_neighbours[res[i]] += hours[i]
        given[vol[i]] += hours[i]
        if hours[i] > 0:
            visited[res[i]] = True
    return hours, from_neighbours, from_employees, demand, given, visited


@njit(
    f"void({I32}, {BOOL}, {BOOL}, {F64}, int64, float64, {F64}, {F64}, "
    f"{F64}, {F64}, {BOOL}, {I32})",
    cache=True,
)
def activities(
    venue_of,
    alive,
    hosting,
    connection,
    places,
    hours,
    need_low,
    fam_low,
    vol_low,
    biz_low,
    attends,
    attendees,
):
    """Compiled copy of :func:`agents.business.activities`.

    Hosted activities (in place): each business with ``hosting`` set welcomes up to
    ``places`` of the residents whose venue it is (``venue_of``, -1 for none), the
    loneliest (lowest ``connection``) first, ties to the lower slot. An attendee lacking
    low-level support gets up to ``hours`` of it (added to ``biz_low``); ``attends``
    marks attendees and ``attendees`` counts them per business.
    """
    n_venues = hosting.size
    attends[:] = False
    attendees[:] = 0
    if places <= 0:
        return
    # each venue's loneliest regulars so far, in order (slots and their connection);
    # regulars come in slot order, so among equals the lower slot stays ahead
    chosen = np.empty((n_venues, places), dtype=np.int64)
    lowest = np.empty((n_venues, places))
    for i in range(venue_of.size):
        v = venue_of[i]
        if v < 0 or not alive[i] or not hosting[v]:
            continue
        n = attendees[v]
        c = connection[i]
        if n == places and c >= lowest[v, n - 1]:
            continue
        j = min(n, places - 1)
        while j > 0 and lowest[v, j - 1] > c:
            chosen[v, j] = chosen[v, j - 1]
            lowest[v, j] = lowest[v, j - 1]
            j -= 1
        chosen[v, j] = i
        lowest[v, j] = c
        attendees[v] = min(n + 1, places)
    for v in range(n_venues):
        for j in range(attendees[v]):
            slot = chosen[v, j]
            attends[slot] = True
            left = max(need_low[slot] - fam_low[slot] - vol_low[slot] - biz_low[slot], 0.0)
            biz_low[slot] += min(hours, left)


@njit(
    "UniTuple(float64, 2)(float64, float64, float64, float64, float64, float64, float64)",
    cache=True,
)
def unmet_of(need_personal, need_low, fam_personal, fam_low, paid, vol, biz):
    """One resident's unmet hours (personal, low-level): the compiled copy of the rule
    ``agents.resident.unmet_hours``, which says why (a property test compares them).
    Both loops below that need unmet hours call this one function."""
    return (
        max(need_personal - fam_personal - paid, 0.0),
        max(need_low - fam_low - vol - biz, 0.0),
    )


@njit(
    f"{F64}({F64}, {F64}, {F64}, {F64}, {F64}, {F64}, "
    f"{F64}, {F64}, float64, {BOOL}, {F64}, {I32}, {I32}, {F64_2D})",
    cache=True,
)
def settle_week(
    need_personal,
    need_low,
    fam_personal,
    paid_personal,
    fam_low,
    vol_low,
    biz_low,
    recent_unmet,
    memory,
    fully_supported,
    low_support,
    x,
    y,
    unmet_grid,
):
    """The week's unmet need per resident slot, and what follows from it (in place).

    * ``unmet`` = unmet personal plus unmet low-level hours (:func:`unmet_of`);
    * ``recent_unmet += memory * (unmet / need - recent_unmet)`` (0 share with no need);
    * ``fully_supported = unmet == 0`` (to within 1e-9 hours);
    * ``low_support`` = share of low-level need met (1 with no low-level need);
    * ``unmet_grid`` = unmet hours summed per cell (x, y).

    Returns:
        Unmet hours per slot.
    """
    n = need_personal.size
    unmet = np.empty(n)
    unmet_grid[:, :] = 0.0
    for i in range(n):
        need = need_personal[i] + need_low[i]
        up, ul = unmet_of(
            need_personal[i], need_low[i], fam_personal[i], fam_low[i], paid_personal[i],
            vol_low[i], biz_low[i],
        )  # fmt: skip
        gap = up + ul
        unmet[i] = gap
        share = gap / need if need > 0 else 0.0  # no need: the gap is 0 too
        recent_unmet[i] += memory * (share - recent_unmet[i])
        fully_supported[i] = gap <= 1e-9
        low_met = fam_low[i] + vol_low[i] + biz_low[i]
        low_support[i] = low_met / max(need_low[i], 1e-300) if need_low[i] > 0 else 1.0
        unmet_grid[x[i], y[i]] += gap
    return unmet


@njit(f"{F64}({I64_2D}, {I64}, {I64}, int64)", cache=True)
def window_sums(grid, x, y, radius):
    """Sum of ``grid`` over the (2r+1) x (2r+1) square around each (x, y), clipped at
    the edges of the grid."""
    width, height = grid.shape
    out = np.zeros(x.size)
    for i in range(x.size):
        total = 0
        for cx in range(max(x[i] - radius, 0), min(x[i] + radius + 1, width)):
            for cy in range(max(y[i] - radius, 0), min(y[i] + radius + 1, height)):
                total += grid[cx, cy]
        out[i] = total
    return out


@njit(f"{F64}({I64}, {I64}, {I64}, {I64}, {F64}, int64)", cache=True)
def best_within(x, y, item_x, item_y, value, radius):
    """For each point (x, y), the highest ``value`` among items within ``radius`` cells
    (a square), or 0 if none is."""
    out = np.zeros(x.size)
    for i in range(x.size):
        for j in range(item_x.size):
            if abs(item_x[j] - x[i]) <= radius and abs(item_y[j] - y[i]) <= radius:
                out[i] = max(out[i], value[j])
    return out


@njit(f"void({I64_2D}, {I64_2D}, {I32}, {I32}, {BOOL}, int64)", cache=True)
def count_in_cells(all_counts, some_counts, x, y, some, sign):
    """Add ``sign`` to each (x, y) of ``all_counts``, and of ``some_counts`` where
    ``some``."""
    for i in range(x.size):
        all_counts[x[i], y[i]] += sign
        if some[i]:
            some_counts[x[i], y[i]] += sign


#: The totals :func:`week_summary` returns, in order.
WEEK_TOTALS = (
    "need_personal",
    "need_low",
    "fam_personal",
    "fam_low",
    "paid",
    "vol",
    "biz",
    "unmet_personal",
    "unmet_low",
    "unmet",
    "with_unmet",
    "connection",
    "lonely",
)


@njit(
    f"Tuple(({F64}, {F64}, {F64}, {I64}, {F64}, {F64}, {F64_2D}))({BOOL}, {I8}, {F64}, "
    f"{F64}, {F64}, {F64}, {F64}, {F64}, {F64}, {F64}, float64, {I64_2D}, {I32}, {I32}, int64, "
    f"{F64}, {BOOL}, {BOOL}, {F64})",
    cache=True,
)
def week_summary(
    alive,
    level,
    need_personal,
    need_low,
    fam_personal,
    fam_low,
    paid,
    vol,
    biz,
    connection,
    lonely_below,
    block_of,
    x,
    y,
    n_blocks,
    age,
    in_care_home,
    council_funded,
    carer_age,
):
    """Hours not met this week per slot, by type, the week's totals and the care counts,
    in one pass over the slots (what the metrics read, :class:`model.metrics.Snapshot`).

    Unmet hours by type are those of :func:`unmet_of` (the rule
    ``agents.resident.unmet_hours``).

    Returns:
        (unmet personal hours per slot, unmet low-level hours per slot, the totals named
        in :data:`WEEK_TOTALS` (with the live residents' summed ``connection`` and how
        many are below ``lonely_below``), live residents at each need level 0-4, the
        mean unmet hours of the live residents of each block of cells (``block_of[x, y]``
        is the block of cell (x, y), 0 .. n_blocks - 1), for blocks with anyone living
        in them, in block order; then the counts of :data:`CARE_TOTALS` over the live
        residents: residents in care homes (all, council-funded, aged 85+); at home with
        a package and their paid hours; family carers giving care (all, aged 65+);
        residents aged 85+, 65-69 (and with need), 80+ (with need, with unmet need);
        residents with unmet need (above 1e-9 hours) at each level 1-4 -- and, for each
        age band of :data:`AGE_BAND_STARTS`, a column of residents, residents with need
        and residents with unmet need).
    """
    n = alive.size
    unmet_personal = np.empty(n)
    unmet_low = np.empty(n)
    level_counts = np.zeros(5, dtype=np.int64)
    # one local sum per total (kept in registers; each is still added up in slot order)
    t_np = t_nl = t_fp = t_fl = t_paid = t_vol = t_biz = t_up = t_ul = t_u = 0.0
    with_unmet = connected = lonely = 0.0
    block_unmet = np.zeros(n_blocks)
    block_people = np.zeros(n_blocks, dtype=np.int64)
    care = np.zeros(17)
    bands = np.zeros((3, 6))
    for i in range(n):
        up, ul = unmet_of(
            need_personal[i], need_low[i], fam_personal[i], fam_low[i], paid[i], vol[i], biz[i]
        )
        unmet_personal[i] = up
        unmet_low[i] = ul
        t_np += need_personal[i]
        t_nl += need_low[i]
        t_fp += fam_personal[i]
        t_fl += fam_low[i]
        t_paid += paid[i]
        t_vol += vol[i]
        t_biz += biz[i]
        t_up += up
        t_ul += ul
        gap = up + ul
        t_u += gap
        short = gap > 1e-9
        if short:
            with_unmet += 1.0
        if not alive[i]:
            continue
        lv = np.int64(level[i])
        level_counts[lv] += 1
        connected += connection[i]
        if connection[i] < lonely_below:
            lonely += 1.0
        b = block_of[x[i], y[i]]
        block_unmet[b] += gap
        block_people[b] += 1
        # the care counts
        a = age[i]
        needy = lv > 0
        if in_care_home[i]:
            care[0] += 1.0
            if council_funded[i]:
                care[1] += 1.0
            if a >= 85.0:
                care[2] += 1.0
        if paid[i] > 0.0:
            care[3] += 1.0
            care[4] += paid[i]
        if fam_personal[i] + fam_low[i] > 0.0:
            care[5] += 1.0
            if carer_age[i] >= 65.0:
                care[6] += 1.0
        if a >= 85.0:
            care[7] += 1.0
        if a < 70.0:
            care[8] += 1.0
            if needy:
                care[9] += 1.0
        if a >= 80.0:
            care[10] += 1.0
            if needy:
                care[11] += 1.0
            if short:
                care[12] += 1.0
        if needy and short:
            care[12 + lv] += 1.0
        band = np.int64((a - 65.0) * 0.2)  # ages are 65 or more
        if band > 5:
            band = 5
        bands[0, band] += 1.0
        if needy:
            bands[1, band] += 1.0
        if short:
            bands[2, band] += 1.0
    block_means = np.empty(n_blocks)
    k = 0
    for b in range(n_blocks):
        if block_people[b] > 0:
            block_means[k] = block_unmet[b] / block_people[b]
            k += 1
    totals = np.array(
        [
            t_np,
            t_nl,
            t_fp,
            t_fl,
            t_paid,
            t_vol,
            t_biz,
            t_up,
            t_ul,
            t_u,
            with_unmet,
            connected,
            lonely,
        ]
    )
    return unmet_personal, unmet_low, totals, level_counts, block_means[:k], care, bands


#: The care counts :func:`week_summary` returns, in order.
CARE_TOTALS = (
    "in_care_home",
    "council_funded",
    "care_home_85_plus",
    "with_package",
    "package_hours",
    "carers",
    "carers_65_plus",
    "aged_85_plus",
    "aged_65_69",
    "need_65_69",
    "aged_80_plus",
    "need_80_plus",
    "unmet_80_plus",
    "unmet_low",
    "unmet_moderate",
    "unmet_substantial",
    "unmet_critical",
)


#: Lower ends of the age bands of :func:`week_summary` (those of ``world.AGE_BANDS``).
AGE_BAND_STARTS = (65.0, 70.0, 75.0, 80.0, 85.0, 90.0)


@njit(
    f"float64({I64}, {F64}, float64, {F64}, {BOOL}, {BOOL}, {I32})",
    cache=True,
)
def buy_care(order, wanted, hours, paid, eligible, has_package, waiting):
    """Compiled copy of :func:`agents.hub.buy_care`: paid care hours in ``order`` (in
    place): each resident gets the hours they want until ``hours`` run out;
    ``has_package`` marks those with any; ``waiting`` counts weeks eligible but not fully
    served (reset to 0 otherwise).

    Returns:
        The hours bought.
    """
    paid[:] = 0.0
    left = hours
    for i in order:
        given = min(max(left, 0.0), wanted[i])
        paid[i] = given
        left -= given
    bought = 0.0
    for i in range(paid.size):
        has_package[i] = paid[i] > 0
        waiting[i] = waiting[i] + 1 if eligible[i] and wanted[i] - paid[i] > 1e-9 else 0
        bought += paid[i]
    return bought


@njit(
    f"Tuple(({I64}, {I64}))({I64}, {I64}, {I64}, {I64}, {I64}, int64, int64)",
    cache=True,
)
def reachable(volunteers, vr_v, vr_r, rr_a, rr_b, n_volunteer_slots, n_resident_slots):
    """Residents each of ``volunteers`` reaches through ties: those tied to the volunteer
    (``vr_v``, ``vr_r``) and their own resident ties (``rr_a``, ``rr_b``).

    Returns:
        (volunteer slot, resident slot) pairs: first every direct tie, then every second
        step; a resident reached by two paths appears twice.
    """
    asked = np.zeros(n_volunteer_slots, dtype=np.bool_)
    for v in volunteers:
        asked[v] = True
    wanted = np.zeros(n_resident_slots, dtype=np.bool_)
    direct = 0
    for e in range(vr_v.size):
        if asked[vr_v[e]]:
            wanted[vr_r[e]] = True
            direct += 1
    # the resident ties of every resident tied to an asked volunteer, as adjacency lists
    start = np.zeros(n_resident_slots + 1, dtype=np.int64)
    for e in range(rr_a.size):
        if wanted[rr_a[e]]:
            start[rr_a[e] + 1] += 1
        if wanted[rr_b[e]]:
            start[rr_b[e] + 1] += 1
    start = np.cumsum(start)
    neighbour = np.empty(start[-1], dtype=np.int64)
    fill = start[:-1].copy()
    for e in range(rr_a.size):
        if wanted[rr_a[e]]:
            neighbour[fill[rr_a[e]]] = rr_b[e]
            fill[rr_a[e]] += 1
        if wanted[rr_b[e]]:
            neighbour[fill[rr_b[e]]] = rr_a[e]
            fill[rr_b[e]] += 1
    total = direct
    for e in range(vr_v.size):
        if asked[vr_v[e]]:
            total += start[vr_r[e] + 1] - start[vr_r[e]]
    vols = np.empty(total, dtype=np.int64)
    reached = np.empty(total, dtype=np.int64)
    k = 0
    for e in range(vr_v.size):
        if asked[vr_v[e]]:
            vols[k] = vr_v[e]
            reached[k] = vr_r[e]
            k += 1
    for e in range(vr_v.size):
        if asked[vr_v[e]]:
            for m in range(start[vr_r[e]], start[vr_r[e] + 1]):
                vols[k] = vr_v[e]
                reached[k] = neighbour[m]
                k += 1
    return vols, reached


@njit(f"{I64}({I64}, uint64, {F64}, {BOOL})", cache=True)
def happens(ids, salt, probability, among):
    """Slots (marked in ``among``) whose draw ``uniforms(ids, salt)`` falls below their
    ``probability`` (one per slot, or one for all), in slot order."""
    hit = np.empty(ids.size, dtype=np.int64)
    n = 0
    single = probability.size == 1
    for i in range(ids.size):
        if not among[i]:
            continue
        if draw(ids[i], salt) < probability[0 if single else i]:
            hit[n] = i
            n += 1
    return hit[:n]


@njit(f"Tuple(({I64}, {F64}))({BOOL}, {F64}, {F64}, {I32}, {BOOL})", cache=True)
def seeking_help(alive, need_low, fam_low, pair_res, pair_alive):
    """Live residents with more than 1e-9 hours of low-level need left after family and
    no live pairing (``pair_res`` of the pairs marked in ``pair_alive``), ascending, with
    those hours."""
    paired = np.zeros(alive.size, dtype=np.bool_)
    for i in range(pair_res.size):
        if pair_alive[i]:
            paired[pair_res[i]] = True
    seeking = np.empty(alive.size, dtype=np.int64)
    gaps = np.empty(alive.size)
    n = 0
    for i in range(alive.size):
        gap = need_low[i] - fam_low[i]
        if alive[i] and gap > 1e-9 and not paired[i]:
            seeking[n] = i
            gaps[n] = gap
            n += 1
    return seeking[:n], gaps[:n]


@njit(f"{I64}({I64}, {I16}, {I32}, {I8}, {I32}, int64, int64)", cache=True)
def with_room(volunteers, matches, resident_slot, level, weeks_active, pipeline, max_matches):
    """The ``volunteers`` with fewer than ``max_matches`` pairings who have been active
    for at least ``pipeline`` weeks, leaving out older-resident volunteers
    (``resident_slot`` >= 0) who now have a need level."""
    out = np.empty(volunteers.size, dtype=np.int64)
    n = 0
    for v in volunteers:
        own = resident_slot[v]
        if (
            matches[v] < max_matches
            and weeks_active[v] >= pipeline
            and not (own >= 0 and level[own] > 0)
        ):
            out[n] = v
            n += 1
    return out[:n]


@njit(f"{I64}({I32}, {BOOL}, {F64}, {F64})", cache=True)
def pairings_done(pair_res, alive_pairs, need_low, fam_low):
    """Pair slots (alive) whose resident lacks no low-level support after family."""
    out = np.empty(pair_res.size, dtype=np.int64)
    n = 0
    for i in range(pair_res.size):
        if alive_pairs[i] and need_low[pair_res[i]] - fam_low[pair_res[i]] <= 1e-9:
            out[n] = i
            n += 1
    return out[:n]


@njit(f"{I64}({I64}, {I32}, {I64}, {F64})", cache=True)
def pick_fellows(attendees, venue_of, who, u):
    """For each attendee ``attendees[who[i]]`` (``attendees`` ascending), a fellow attendee
    of the same venue (``venue_of``), the ``u[i]``-th of the others in slot order, or -1
    if they came alone."""
    most = 0
    for s in attendees:
        most = max(most, venue_of[s] + 1)
    start = np.zeros(most + 1, dtype=np.int64)
    for s in attendees:
        start[venue_of[s] + 1] += 1
    start = np.cumsum(start)
    members = np.empty(attendees.size, dtype=np.int64)
    fill = start[:-1].copy()
    for s in attendees:  # ascending, so each venue's members stay in slot order
        members[fill[venue_of[s]]] = s
        fill[venue_of[s]] += 1
    partner = np.full(who.size, -1, dtype=np.int64)
    for i in range(who.size):
        me = attendees[who[i]]
        v = venue_of[me]
        n = start[v + 1] - start[v]
        if n < 2:
            continue
        j = int(u[i] * (n - 1))
        own = 0
        while members[start[v] + own] != me:
            own += 1
        if j >= own:
            j += 1
        partner[i] = members[start[v] + j]
    return partner


@njit(
    f"Tuple(({I64}, {F64}))({BOOL}, {BOOL}, {F64}, {F64}, {I32}, {BOOL}, {I64}, {I64}, {I64})",
    cache=True,
)
def waiting_for_help(alive, accepts, need_low, fam_low, pair_res, pair_alive, rr_a, rr_b, known):
    """Live residents lacking more than 1e-9 hours of low-level support after family who
    have not come forward (``accepts`` unset), ascending, and for each the number who
    can refer them: the volunteers they are tied to (``known``) plus their resident ties
    (``rr_a``, ``rr_b``) who have a live pairing."""
    n_res = alive.size
    helped = np.zeros(n_res, dtype=np.bool_)
    for i in range(pair_res.size):
        if pair_alive[i]:
            helped[pair_res[i]] = True
    count = np.zeros(n_res)
    for e in range(rr_a.size):
        if helped[rr_b[e]]:
            count[rr_a[e]] += 1.0
        if helped[rr_a[e]]:
            count[rr_b[e]] += 1.0
    waiting = np.empty(n_res, dtype=np.int64)
    referrers = np.empty(n_res)
    n = 0
    for i in range(n_res):
        if alive[i] and not accepts[i] and need_low[i] - fam_low[i] > 1e-9:
            waiting[n] = i
            referrers[n] = count[i] + (known[i] if i < known.size else 0)
            n += 1
    return waiting[:n], referrers[:n]


@njit(f"Tuple((int64, {I64}))({I64}, {I64}, {I64}, {I64})", cache=True)
def drop_tie_rows(a, b, rows, degree):
    """Drop the ties at positions ``rows`` (ascending, distinct) of ``a`` and ``b`` in
    place, each hole filled by the last tie still kept (so the cost grows with the ties
    dropped, not with all ties; the order of the others changes); both ends of every
    dropped tie lose it in ``degree``.

    Returns:
        How many ties are kept (at the front), and the keys ``a << 32 | b`` of those
        dropped.
    """
    dropped = np.empty(rows.size, dtype=np.int64)
    for k in range(rows.size):
        i = rows[k]
        degree[a[i]] -= 1
        degree[b[i]] -= 1
        dropped[k] = (a[i] << 32) | b[i]
    end = a.size
    # from the highest row down, so a hole is never filled by a tie about to be dropped
    for k in range(rows.size - 1, -1, -1):
        end -= 1
        i = rows[k]
        if i != end:
            a[i] = a[end]
            b[i] = b[end]
    return end, dropped


@njit(f"{I64}({I64_3D}, {I64}, {I64}, {I64}, int64, int64, {F64})", cache=True)
def random_other_near(padded, x, y, me, radius, margin, u):
    """For each point (x, y), one resident chosen at random (the ``u[i]``-th in cell
    order) within ``radius`` cells (a square) other than ``me[i]``, or -1 if there is
    none; the padded index has an empty border ``margin >= radius`` wide."""
    depth = padded.shape[2]
    out = np.full(x.size, -1, dtype=np.int64)
    found = np.empty((2 * radius + 1) * (2 * radius + 1) * depth, dtype=np.int64)
    for i in range(x.size):
        n = 0
        for cx in range(x[i] + margin - radius, x[i] + margin + radius + 1):
            for cy in range(y[i] + margin - radius, y[i] + margin + radius + 1):
                for d in range(depth):
                    slot = padded[cx, cy, d]
                    if slot >= 0 and slot != me[i]:
                        found[n] = slot
                        n += 1
        if n:
            out[i] = found[min(int(u[i] * n), n - 1)]
    return out


@njit(f"{I64}(int64, float64, uint64)", cache=True)
def bernoulli_hits(n, probability, salt):
    """Positions ``i < n`` of the successes of ``n`` independent trials with this
    ``probability``, ascending, drawn as geometric gaps between successes from the
    counter-based uniforms :func:`draw` ``(k, salt)``: the cost grows with the successes,
    not with ``n``."""
    if n <= 0 or probability <= 0.0:
        return np.zeros(0, dtype=np.int64)
    if probability >= 1.0:
        return np.arange(n)
    log_q = np.log1p(-probability)
    out = np.empty(min(n, int(n * probability + 5.0 * np.sqrt(n * probability) + 10)), np.int64)
    hits = 0
    position = -1.0
    k = 0
    while True:
        u = draw(k, salt)
        k += 1
        position += np.floor(np.log1p(-u) / log_q) + 1.0  # a float: no overflow
        if position >= n:
            break
        if hits == out.size:
            grown = np.empty(2 * out.size, np.int64)
            grown[:hits] = out[:hits]
            out = grown
        out[hits] = int(position)
        hits += 1
    return out[:hits]


@njit(f"Tuple((int64, {I64}))({I64}, {I64}, {I64}, {I64}, {I64})", cache=True)
def drop_volunteer_tie_rows(v, r, rows, degree, known):
    """Drop the volunteer-resident ties at positions ``rows`` (ascending, distinct) of
    ``v`` and ``r`` in place, each hole filled by the last tie still kept; the resident
    of every dropped tie loses it in ``degree`` and ``known``.

    Returns:
        How many ties are kept (at the front), and the keys ``v << 32 | r`` of those
        dropped.
    """
    dropped = np.empty(rows.size, dtype=np.int64)
    for k in range(rows.size):
        i = rows[k]
        degree[r[i]] -= 1
        known[r[i]] -= 1
        dropped[k] = (v[i] << 32) | r[i]
    end = v.size
    for k in range(rows.size - 1, -1, -1):
        end -= 1
        i = rows[k]
        if i != end:
            v[i] = v[end]
            r[i] = r[end]
    return end, dropped


@njit(f"{BOOL}({I64}, {I64}, {I32}, {I32}, {BOOL})", cache=True)
def paired_now(v, r, pair_vol, pair_res, pair_alive):
    """For each (``v[i]``, ``r[i]``), whether they are in a live pairing (one pass over
    the pairs per tie asked about: for the few ties that lapse in a week)."""
    out = np.zeros(v.size, dtype=np.bool_)
    for i in range(v.size):
        for j in range(pair_vol.size):
            if pair_alive[j] and pair_vol[j] == v[i] and pair_res[j] == r[i]:
                out[i] = True
                break
    return out


# --- phase kernels: compiled copies of a phase's readable steps ---------------------------
@njit(
    f"Tuple((int64, int64, int64))({BOOL}, {I8}, {BOOL}, {F64}, {F64}, {F64}, {F64}, "
    f"{F64}, {F64}, {I64}, {I32}, int64, uint64, uint64, uint64, uint64, uint64, "
    f"float64, float64, float64, float64, float64, {F64}, {F64}, {F64}, float64, float64)",
    cache=True,
)
def carer_events(
    alive,
    level,
    in_care_home,
    age,
    family_hours,
    carer_age,
    carer_death_age,
    fam_personal,
    fam_low,
    person_id,
    breakdown_week,
    t,
    salt_breakdown,
    salt_new,
    salt_band,
    salt_hours,
    salt_life,
    per_hour,
    effect,
    support,
    uptake_weekly,
    generation_gap,
    band_cum,
    band_lo,
    band_hi,
    mortality_at_65,
    slope,
):
    """Compiled copy of ``phases.family_care.carers_stop`` then ``carers_step_in`` (in
    place): carers who reach their age of death or break down (the weekly form of
    ``per_hour * hours given last week * (1 - effect * support)``) stop, a breakdown setting
    ``breakdown_week = t``; then a resident at home with need and no carer gains a son or
    daughter with chance ``uptake_weekly``, with hours from the Census bands
    (``band_cum``, ``band_lo``, ``band_hi``), an age ``generation_gap`` years younger and a
    death age from the life table's Gompertz hazard. Draws are those of
    :mod:`model.streams` (the same salts).

    Returns:
        (carer deaths, breakdowns, new carers).
    """
    deaths = 0
    breakdowns = 0
    new = 0
    for i in range(alive.size):
        if not alive[i]:
            continue
        if family_hours[i] > 0:
            stop = False
            if carer_age[i] >= carer_death_age[i]:
                stop = True
                deaths += 1
            else:
                given = fam_personal[i] + fam_low[i]
                if given > 0:
                    q = per_hour * given * (1.0 - effect * support)
                    q = min(max(q, 0.0), 1.0)
                    u = draw(person_id[i], salt_breakdown)
                    # the weekly chance is never above the yearly q, so a draw of at least
                    # q needs no power (the same events: see the note on weekly chances)
                    if u < q and u < 1.0 - (1.0 - q) ** (1.0 / 52.0):
                        stop = True
                        breakdowns += 1
                        breakdown_week[i] = t
            if stop:
                family_hours[i] = 0.0
                carer_age[i] = 0.0
                carer_death_age[i] = 0.0
        if family_hours[i] <= 0 and level[i] > 0 and not in_care_home[i]:
            if draw(person_id[i], salt_new) < uptake_weekly:
                new += 1
                u_band = draw(person_id[i], salt_band)
                band = 0
                while band < 2 and band_cum[band] <= u_band:
                    band += 1
                u_hours = draw(person_id[i], salt_hours)
                family_hours[i] = band_lo[band] + u_hours * (band_hi[band] - band_lo[band])
                carer_age[i] = age[i] - generation_gap
                u = max(1.0 - draw(person_id[i], salt_life), 1e-300)
                if slope <= 0:
                    carer_death_age[i] = carer_age[i] - np.log(u) / mortality_at_65
                else:
                    now = np.exp(slope * (carer_age[i] - 65.0))
                    carer_death_age[i] = (
                        65.0 + np.log(now - slope / mortality_at_65 * np.log(u)) / slope
                    )
    return deaths, breakdowns, new


@njit(
    f"{I64}({BOOL}, {BOOL}, {I8}, {F64}, {I32}, {F64}, {F64}, {F64}, {F64}, {I64}, int64, "
    "uint64, float64, float64, float64, float64, float64, int64)",
    cache=True,
)
def admission_draws(
    alive,
    in_care_home,
    level,
    age,
    breakdown_week,
    need_personal,
    need_low,
    fam_personal,
    fam_low,
    person_id,
    t,
    salt,
    rate,
    level_ratio,
    age_slope,
    family_factor,
    crisis_factor,
    crisis_weeks,
):
    """Compiled copy of the draws of ``phases.care_homes.admit``: the residents at home
    with need whose draw falls below :func:`agents.resident.care_home_admission_probability`
    (with their missing family care and crisis), in slot order."""
    moving = np.empty(alive.size, dtype=np.int64)
    n = 0
    base_at = np.empty(5)  # the base rate of each level (the same power, made once)
    for lv in range(5):
        base_at[lv] = rate / level_ratio ** (4.0 - lv)
    for i in range(alive.size):
        if not alive[i] or in_care_home[i] or level[i] <= 0:
            continue
        need = need_personal[i] + need_low[i]
        missing = 1.0 - (fam_personal[i] + fam_low[i]) / max(need, 1e-300) if need > 0 else 0.0
        base = base_at[level[i]]
        crisis = crisis_factor if t - breakdown_week[i] < crisis_weeks else 1.0
        yearly = base * np.exp(age_slope * (age[i] - 85.0)) * (1.0 + family_factor * missing)
        yearly = yearly * crisis
        q = min(max(yearly, 0.0), 1.0)
        u = draw(person_id[i], salt)
        # u >= q needs no power (the same events: see the note on weekly chances)
        if u < q and u < 1.0 - (1.0 - q) ** (1.0 / 52.0):
            moving[n] = i
            n += 1
    return moving[:n]


# Weekly chances in the phase kernels above: they test ``u < q`` before working out the
# weekly form ``1 - (1 - q) ** (1 / 52)`` of a yearly probability q in [0, 1]. That form is
# never above q, in exact arithmetic and as computed in doubles (checked on 30 million q
# from 1e-20 to 1, and at 0, 1 and the doubles next to them), so a draw u >= q can never
# fall below it: skipping the power there gives the same events, and most draws are far
# above q.


# --- which rules have a compiled copy ------------------------------------------------------
#: The rules of ``agents/`` a kernel here copies: rule -> its compiled copy (None where a
#: phase kernel copies several rules at once), and the fingerprint of the rule's source
#: that the copy was checked against. A copy is used only while the rule's source is that
#: one, so a rule a student edits in ``agents/`` (or replaces from a plugin) is used as it
#: is. ``tests/test_kernels.py`` checks every copy against its rule and that these
#: fingerprints are the shipped sources'.
COPIES = {
    "agents.hub.buy_care": ("buy_care", "0130c51ea30a3695"),
    "agents.hub.broker": ("broker", "2520494eeea066a3"),
    "agents.volunteer.choose_in_turn": ("choose_in_turn", "5287dcf3e3912e23"),
    "agents.volunteer.visits": ("visits", "0a24247922d2839a"),
    "agents.business.activities": ("activities", "8142f16587ba356a"),
    "agents.carer.carer_breakdown_probability": (None, "92be851f7734fe0d"),
    "agents.carer.new_carer_probability": (None, "025a9dce8b46e6c5"),
    "agents.carer.carer_ages": (None, "98284a98881dc1a2"),
    "agents.carer.carer_death_age": (None, "bc79a99a9b2650de"),
    "agents.resident.care_home_admission_probability": (None, "350876402867c71e"),
    "agents.resident.weekly": (None, "1158d6f87054b330"),
}

_CHECKED: dict = {}


def fingerprint(rule) -> str:
    """A short fingerprint of what a function does (:func:`fingerprint_source` of its
    source), or "" if its source cannot be read."""
    import inspect

    try:
        return fingerprint_source(inspect.getsource(rule))
    except (OSError, TypeError, SyntaxError):
        return ""


def fingerprint_source(source: str) -> str:
    """A short fingerprint of a function's source: its parsed code without its docstring,
    so editing the code changes it and rewording the docstring or reformatting does not.

    The code is written out by :func:`_shape`, not ``ast.dump``, whose output changes
    between Python versions (3.12 added ``type_params``; 3.13 leaves empty fields out), so
    the fingerprint is the same on every supported Python."""
    import ast
    import hashlib
    import textwrap

    func = ast.parse(textwrap.dedent(source)).body[0]
    body = func.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        func.body = body[1:]  # the docstring
    return hashlib.sha256(_shape(func).encode()).hexdigest()[:16]


def _shape(node) -> str:
    """A parsed node written out with its node types and non-empty fields only (no
    positions), the same on every Python version."""
    import ast

    if isinstance(node, ast.AST):
        parts = [type(node).__name__]
        for name, value in ast.iter_fields(node):
            if value is None or (isinstance(value, list) and not value):
                continue
            parts.append(f"{name}={_shape(value)}")
        return "(" + " ".join(parts) + ")"
    if isinstance(node, list):
        return "[" + ",".join(_shape(item) for item in node) + "]"
    return repr(node)


def _is_shipped(rule) -> bool:
    """Whether ``rule`` is a rule with a copy here, with the source the copy was checked
    against (the answer is kept per function object)."""
    known = _CHECKED.get(rule)
    if known is None:
        name = f"{getattr(rule, '__module__', '')}.{getattr(rule, '__qualname__', '')}"
        entry = COPIES.get(name)
        known = entry is not None and fingerprint(rule) == entry[1]
        _CHECKED[rule] = known
    return known


def use(rule):
    """The fast way to apply a rule of ``agents/``: its compiled copy while the rule is the
    shipped one, the rule itself once a student has edited it (in ``agents/``) or replaced
    it (from a plugin).

    Phases look the rule up through its module at the moment of the call
    (``kernels.use(hub.buy_care)(...)``), so a replaced rule takes effect at once.
    """
    if _is_shipped(rule):
        copy = COPIES[f"{rule.__module__}.{rule.__qualname__}"][0]
        if copy is not None:
            return globals()[copy]
    return rule


def shipped(*rules) -> bool:
    """Whether every one of ``rules`` is the shipped rule, so that a phase kernel that
    copies them all may run instead of the readable steps (``tests/test_kernels.py`` checks
    each phase kernel against those steps)."""
    return all(_is_shipped(rule) for rule in rules)
