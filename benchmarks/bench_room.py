"""Twenty laptops on one workshop server: Step-to-redraw latency under load.

Starts its own ``solara run app.py --production`` server on a free port of 127.0.0.1,
connects lightweight page clients that speak Solara's websocket protocol
(``benchmarks/room_client.py``; a real browser each would cost more than the server on a
2-core machine), and measures, from the click on **Step** to the moment the page has the
new week everywhere (the counter, the map and all four charts), in four phases:

1. *alone*: one session stepping on an idle server (the floor);
2. *20 stepping*: twenty sessions each pressing Step, with a pause of 0.3-1.2 s between
   presses (a room following the facilitator, quickly);
3. *19 playing + projector*: nineteen sessions playing at the default pace while the
   projector's session (projector mode on) presses Step every second;
4. *10 stepping + 10 playing*: half the room steps, half plays.

Then, on a second server, the memory check: 100 sessions opened and closed (five at a
time; half close as a browser tab does, half just drop the connection, freed by Solara's
kernel cull timeout, set to 2 s here), each building its model, stepping and pressing
Reset; the server's RSS after the first 20 and after all 100, once every session has been
freed (``tests/test_app_memory.py`` asserts it stays flat).

Target: p95 at most 500 ms in every phase, for everyone's steps and for the projector's.
For the players it prints frames a second and weeks a second (the pace to keep is 10
years in 30 s, 17.3 weeks a second), and for each phase the server's CPU use (per cent
of one core, and CPU milliseconds per redraw: a figure that a busy machine distorts
less than the latencies). The whole bench takes about three minutes; the
server is stopped at the end, whatever happens.

Run alone with ``python -m benchmarks.bench_room`` or with the rest by ``make bench``.
Figures on a machine shared with other work are pessimistic.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from benchmarks.room_client import PageClient

ROOT = Path(__file__).resolve().parents[1]
TARGET_P95_MS = 500.0
PHASE_SECONDS = 30.0
SESSIONS = 20


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A workshop server in a subprocess (stopped on exit)."""

    def __init__(self, env: dict | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        solara = Path(sys.executable).with_name("solara")
        log = open(os.environ.get("BENCH_ROOM_LOG", os.devnull), "w")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [
                str(solara),
                "run",
                "app.py",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--production",
            ],
            cwd=ROOT,
            env={**os.environ, "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False", **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def __enter__(self):
        deadline = time.monotonic() + 120
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("the workshop server exited during start-up")
            try:
                with urllib.request.urlopen(self.url + "/readyz", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the workshop server did not start within 120 s")
            time.sleep(0.3)
        return self

    def __exit__(self, *exc):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def cpu_seconds(self) -> float:
        """CPU time the server process has used so far (user + system, seconds)."""
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_mb(self) -> float:
        """Resident memory of the server process (MB)."""
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return float("nan")


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return (
        values[min(len(values) - 1, int(round(q * (len(values) - 1))))] if values else float("nan")
    )


async def stepper(page: PageClient, until: float, latencies: list[float], pause=(0.3, 1.2)):
    """Press Step, wait for the whole redraw, pause, repeat (Reset at year 10)."""
    rng = random.Random(page.kernel_id)
    while time.monotonic() < until:
        if page.disabled("civic-step"):
            await page.click("civic-reset")
            await page.wait_until(lambda: page.shown == 0 and not page.disabled("civic-step"), 30)
        want = page.shown + 1
        start = time.perf_counter()
        await page.click("civic-step")
        done = await page.wait_week(want, timeout=60)
        latencies.append((done - start) * 1000)
        await asyncio.sleep(rng.uniform(*pause))


async def player(page: PageClient, until: float, stats: list[tuple[int, int, float]]):
    """Press Play and watch the frames arrive (Reset and Play again at year 10)."""
    frames, weeks, t0 = 0, 0, time.monotonic()
    await page.click("civic-play")
    last = page.shown
    while time.monotonic() < until:
        try:
            await page.wait_week(last + 1, timeout=max(0.1, until - time.monotonic()))
        except TimeoutError:
            break
        frames += 1
        weeks += page.shown - last
        last = page.shown
        if last >= 520:
            await page.click("civic-reset")
            await page.wait_until(lambda: page.shown == 0, 30)
            await asyncio.sleep(0.5)
            await page.click("civic-play")
            last = 0
    await page.click("civic-play")  # pause
    stats.append((frames, weeks, time.monotonic() - t0))


async def open_pages(url: str, n: int) -> list[PageClient]:
    pages = []
    for _ in range(n):
        page = PageClient(url)
        await page.open()
        pages.append(page)
    return pages


async def phase(url, steppers: int, players: int, projector: bool, seconds: float, cpu=None):
    """Run one phase; return Step latencies (ms), the projector's, the players' stats and
    the server's CPU seconds a second during the phase (if ``cpu`` reads them)."""
    pages = await open_pages(url, steppers + players + (1 if projector else 0))
    await asyncio.sleep(1.0)
    cpu0, t0 = (cpu() if cpu else 0.0), time.monotonic()
    until = time.monotonic() + seconds
    step_ms: list[float] = []
    projector_ms: list[float] = []
    play_stats: list[tuple[int, int, float]] = []
    tasks = []
    k = 0
    if projector:
        proj = pages[k]
        k += 1
        await proj.set_value("civic-projector-switch", True)
        await asyncio.sleep(1.0)
        tasks.append(stepper(proj, until, projector_ms, pause=(1.0, 1.0)))
    for _ in range(steppers):
        tasks.append(stepper(pages[k], until, step_ms))
        k += 1
    for _ in range(players):
        tasks.append(player(pages[k], until, play_stats))
        k += 1
    await asyncio.gather(*tasks)
    load = ((cpu() - cpu0) / (time.monotonic() - t0)) if cpu else float("nan")
    for page in pages:
        await page.close()
    return step_ms, projector_ms, play_stats, load


def row(name: str, ms: list[float]) -> str:
    if not ms:
        return f"  {name:<34} (none)"
    verdict = "OK" if pct(ms, 0.95) <= TARGET_P95_MS else "OVER"
    return (
        f"  {name:<34} n={len(ms):4d}  median {statistics.median(ms):6.0f} ms  "
        f"p95 {pct(ms, 0.95):6.0f} ms  max {max(ms):6.0f} ms  {verdict}"
    )


def play_row(stats) -> str:
    if not stats:
        return ""
    fps = [f / s for f, _w, s in stats]
    wps = [w / s for _f, w, s in stats]
    return (
        f"  {'players':<34} n={len(stats):4d}  {statistics.median(fps):.1f} frames/s each, "
        f"{statistics.median(wps):.1f} weeks/s each (pace 17.3)"
    )


def cpu_row(load: float, steps: int, seconds: float, frames: int = 0) -> str:
    per = 1000 * load * seconds / max(1, steps + frames)
    return f"  {'server CPU':<34} {100 * load:4.0f}% of a core, {per:.1f} ms per redraw"


async def run_all(server: Server) -> dict[str, list[float]]:
    url, cpu = server.url, server.cpu_seconds
    results = {}
    print(
        f"bench_room: {os.cpu_count()} cores, {SESSIONS} sessions, phases of {PHASE_SECONDS:.0f} s"
    )
    ms, _p, _s, _load = await phase(url, 1, 0, False, 12, cpu)
    results["alone"] = ms
    print(row("1 session, idle server", ms), flush=True)
    ms, _p, _s, load = await phase(url, SESSIONS, 0, False, PHASE_SECONDS, cpu)
    results["20 stepping"] = ms
    print(row(f"{SESSIONS} sessions stepping", ms), flush=True)
    print(cpu_row(load, len(ms), PHASE_SECONDS), flush=True)
    _ms, proj, stats, load = await phase(url, 0, SESSIONS - 1, True, PHASE_SECONDS, cpu)
    results["projector while 19 play"] = proj
    print(row(f"projector stepping, {SESSIONS - 1} playing", proj), flush=True)
    print(play_row(stats), flush=True)
    print(cpu_row(load, len(proj), PHASE_SECONDS, sum(f for f, _w, _s in stats)), flush=True)
    ms, _p, stats, load = await phase(url, SESSIONS // 2, SESSIONS // 2, False, PHASE_SECONDS, cpu)
    results["10 stepping + 10 playing"] = ms
    print(row(f"{SESSIONS // 2} stepping while {SESSIONS // 2} play", ms), flush=True)
    print(play_row(stats), flush=True)
    print(cpu_row(load, len(ms), PHASE_SECONDS, sum(f for f, _w, _s in stats)), flush=True)
    return results


MEMORY_CYCLES = 100
MEMORY_WARM_UP = 20
MEMORY_AT_ONCE = 5


def kernels(url: str) -> int:
    """Sessions the server holds (Solara's ``/resourcez``)."""
    with urllib.request.urlopen(url + "/resourcez", timeout=10) as r:
        return int(json.load(r)["kernels"]["total"])


async def open_close(url: str, goodbye: bool) -> None:
    """One session: open, step a week, Reset, leave (with or without saying goodbye)."""
    page = PageClient(url)
    await page.open()
    await page.click("civic-step")
    await page.wait_week(1, timeout=60)
    await page.click("civic-reset")
    await page.wait_until(lambda: page.shown == 0, 60)
    await page.close(goodbye=goodbye)


async def open_close_cycles(url: str, first: int, last: int) -> None:
    """Sessions ``first`` to ``last - 1``, :data:`MEMORY_AT_ONCE` at a time."""
    for start in range(first, last, MEMORY_AT_ONCE):
        await asyncio.gather(
            *(open_close(url, goodbye=(k % 2 == 0)) for k in range(start, start + MEMORY_AT_ONCE))
        )


def settled_rss(server: Server, timeout: float = 60.0) -> float:
    """Wait until every session has been freed; return the server's RSS then (MB)."""
    deadline = time.monotonic() + timeout
    while kernels(server.url) and time.monotonic() < deadline:
        time.sleep(0.5)
    if kernels(server.url):
        raise RuntimeError(f"{kernels(server.url)} sessions were not freed within {timeout:.0f} s")
    time.sleep(1.0)
    return server.rss_mb()


def memory_check(cycles: int = MEMORY_CYCLES) -> tuple[float, float]:
    """The server's RSS (MB) after :data:`MEMORY_WARM_UP` and after ``cycles`` sessions
    opened and closed, on a fresh server whose cull timeout is 2 s."""
    with Server(env={"SOLARA_KERNEL_CULL_TIMEOUT": "2s"}) as server:
        asyncio.run(open_close_cycles(server.url, 0, MEMORY_WARM_UP))
        warm = settled_rss(server)
        asyncio.run(open_close_cycles(server.url, MEMORY_WARM_UP, cycles))
        end = settled_rss(server)
    return warm, end


def main() -> dict[str, list[float]]:
    """Run the phases against a fresh server; print the latency table; return it."""
    start = time.monotonic()
    with Server() as server:
        results = asyncio.run(run_all(server))
        print(f"  server memory after the phases: {server.rss_mb():.0f} MB RSS")
    worst = max(pct(ms, 0.95) for ms in results.values() if ms)
    verdict = "OK" if worst <= TARGET_P95_MS else "TOO SLOW"
    print(
        f"bench_room: worst Step-to-redraw p95 {worst:.0f} ms (target <= {TARGET_P95_MS:.0f} ms) "
        f"{verdict}  ({time.monotonic() - start:.0f} s)"
    )
    t0 = time.monotonic()
    warm, end = memory_check()
    print(
        f"bench_room: server RSS after {MEMORY_WARM_UP} sessions opened and closed {warm:.0f} MB, "
        f"after {MEMORY_CYCLES}: {end:.0f} MB ({end - warm:+.0f} MB; every session freed)  "
        f"({time.monotonic() - t0:.0f} s)"
    )
    return results


if __name__ == "__main__":
    main()
