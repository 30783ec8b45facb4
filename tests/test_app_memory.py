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

import asyncio
import json
import time
import urllib.request

import pytest

from benchmarks.bench_room import Server
from benchmarks.room_client import PageClient

pytestmark = pytest.mark.slow

CYCLES = 100
AT_ONCE = 5
#: Growth allowed between the 20th and the 100th session (a leaked session costs
#: several MB: its model alone is about 3 MB at the workshop size).
ALLOWED_GROWTH_MB = 40.0


def kernels(url: str) -> int:
    with urllib.request.urlopen(url + "/resourcez", timeout=10) as r:
        return int(json.load(r)["kernels"]["total"])


async def one_session(url: str, goodbye: bool) -> None:
    page = PageClient(url)
    await page.open()
    await page.click("civic-step")
    await page.wait_week(1, timeout=60)
    await page.click("civic-reset")
    await page.wait_until(lambda: page.shown == 0, 60)
    await page.close(goodbye=goodbye)


async def cycles(url: str, first: int, last: int) -> None:
    for start in range(first, last, AT_ONCE):
        await asyncio.gather(
            *(one_session(url, goodbye=(k % 2 == 0)) for k in range(start, start + AT_ONCE))
        )


def settle(server: Server, timeout: float = 60.0) -> float:
    """Wait until every session has been freed; return the server's RSS then (MB)."""
    deadline = time.monotonic() + timeout
    while kernels(server.url) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert kernels(server.url) == 0, "sessions were not freed"
    time.sleep(1.0)
    return server.rss_mb()


def test_memory_stays_flat_over_100_open_close_cycles():
    with Server(env={"SOLARA_KERNEL_CULL_TIMEOUT": "2s"}) as server:
        asyncio.run(cycles(server.url, 0, 20))
        warm = settle(server)
        asyncio.run(cycles(server.url, 20, CYCLES))
        end = settle(server)
    growth = end - warm
    print(f"server RSS after 20 sessions {warm:.0f} MB, after {CYCLES}: {end:.0f} MB")
    assert growth <= ALLOWED_GROWTH_MB, f"memory grew {growth:.0f} MB over {CYCLES - 20} sessions"
