"""The workshop server's memory stays flat over 100 sessions opened and closed.

A real ``solara run app.py --production`` server; the sessions are lightweight page
clients speaking Solara's websocket protocol (``benchmarks/room_client.py``), five at a
time. Half leave as a closing browser tab does (Solara's close request); half just drop
the connection (a laptop lid shut), which Solara frees after its kernel cull timeout
(``SOLARA_KERNEL_CULL_TIMEOUT``, set short here; the page's own default is 3 minutes).
Each session builds its model, steps a week and presses Reset, so every path that makes
a model is exercised.
"""

from __future__ import annotations

import pytest

from benchmarks.bench_room import MEMORY_CYCLES, MEMORY_WARM_UP, memory_check

pytestmark = pytest.mark.slow

#: Growth allowed between the 20th and the 100th session (a leaked session costs
#: several MB: its model alone is about 3 MB at the workshop size).
ALLOWED_GROWTH_MB = 40.0


def test_memory_stays_flat_over_100_open_close_cycles():
    warm, end = memory_check(MEMORY_CYCLES)  # raises if a session is not freed
    growth = end - warm
    print(
        f"server RSS after {MEMORY_WARM_UP} sessions {warm:.0f} MB, "
        f"after {MEMORY_CYCLES}: {end:.0f} MB"
    )
    assert growth <= ALLOWED_GROWTH_MB, (
        f"memory grew {growth:.0f} MB over {MEMORY_CYCLES - MEMORY_WARM_UP} sessions"
    )
