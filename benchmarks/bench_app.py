"""Speed of the workshop page's frame: one week's step plus the server-side drawing.

A frame is everything the run's worker computes for the page (``workshop/frames.py``):
the counters, the neighbourhood map, its legend and colour bar, and the four live
charts from the weekly metrics. Measured at the default workshop size (800 residents, a
40 x 40 grid) for every registered strategy, a few years into the run so that the
charts hold a realistic number of weeks. Target: median under 250 ms. What the web
server adds on top (sending the frame to twenty pages at once) is measured by
``bench_room``.

Run alone with ``python -m benchmarks.bench_app`` or with the rest by ``make bench``.
"""

from __future__ import annotations

import statistics
import time
from types import SimpleNamespace

from model.civic_model import CivicModel
from workshop import frames, settings

WARM_WEEKS = 156  # three years in: the charts hold three years of weeks
FRAMES = 40
TARGET_MS = 250.0


def fake_run(model, background: str) -> SimpleNamespace:
    """The parts of a ``workshop.runs.Run`` that drawing a frame reads."""
    return SimpleNamespace(
        models=(model,),
        extras={"settings": settings.default_settings(), "background": background},
        horizon=settings.HORIZON_WEEKS,
        playing=True,
        notice="",
        at_horizon=False,
    )


def frame(model, background: str = "civic") -> int:
    """One Play frame on the server: step one week, then draw everything the page shows."""
    model.step()
    drawn = frames.draw_workshop(fake_run(model, background))
    return sum(len(block) for block in drawn.blocks)


def measure(strategy: str, frames_: int = FRAMES, warm: int = WARM_WEEKS) -> list[float]:
    """Milliseconds of each of ``frames_`` step+draw frames for one strategy."""
    model = CivicModel(strategy=strategy, residents=settings.WORKSHOP_RESIDENTS, seed=1)
    for _ in range(warm):
        model.step()
    times = []
    for k in range(frames_):
        start = time.perf_counter()
        frame(model, "civic" if k % 2 else "unmet")
        times.append((time.perf_counter() - start) * 1000.0)
    return times


def main() -> float:
    """Print the median step+draw time (ms) per strategy and overall; return it."""
    every = []
    for name, title, _description in settings.strategy_options():
        times = measure(name)
        every += times
        p95 = sorted(times)[int(0.95 * (len(times) - 1))]
        print(
            f"bench_app {title:<18} step+draw median {statistics.median(times):6.1f} ms"
            f"  p95 {p95:6.1f} ms"
        )
    median = statistics.median(every)
    verdict = "OK" if median < TARGET_MS else "TOO SLOW"
    print(
        f"bench_app workshop frame (800 residents, 40x40): median step+draw "
        f"{median:.1f} ms (target < {TARGET_MS:.0f} ms) {verdict}"
    )
    return median


if __name__ == "__main__":
    main()
