"""Speed of the workshop page: one week's step plus the server-side redraw.

The redraw is everything the page computes for a frame (``app.py`` via
``model/views.py``): counters, the neighbourhood map and its legend, and the four live
charts from the metrics table. Measured at the default workshop size (800 residents,
a 40 x 40 grid) for every registered strategy, a few years into the run so that the
charts hold a realistic number of weeks. Target: median under 250 ms.

Run alone with ``python -m benchmarks.bench_app`` or with the rest by ``make bench``.
"""

from __future__ import annotations

import statistics
import time

from model import views
from model.civic_model import CivicModel

WARM_WEEKS = 156  # three years in: the charts hold three years of weeks
FRAMES = 40
TARGET_MS = 250.0


def frame(model, background: str = "civic") -> int:
    """One Play frame on the server: step one week, then everything the page redraws."""
    model.step()
    counters = views.counters(model)
    view = views.neighbourhood(model, background)
    pictures = [views.svg_neighbourhood(view, "map"), views.legend_html(view)]
    pictures += views.svg_charts(model.metrics_frame())
    return len(counters) + sum(len(p) for p in pictures)


def measure(strategy: str, frames: int = FRAMES, warm: int = WARM_WEEKS) -> list[float]:
    """Milliseconds of each of ``frames`` step+redraw frames for one strategy."""
    model = CivicModel(strategy=strategy, residents=views.WORKSHOP_RESIDENTS, seed=1)
    for _ in range(warm):
        model.step()
    times = []
    for k in range(frames):
        start = time.perf_counter()
        frame(model, "civic" if k % 2 else "unmet")
        times.append((time.perf_counter() - start) * 1000.0)
    return times


def main() -> float:
    """Print the median step+redraw time (ms) per strategy and overall; return it."""
    every = []
    for name, title, _description in views.strategy_options():
        times = measure(name)
        every += times
        p95 = sorted(times)[int(0.95 * (len(times) - 1))]
        print(
            f"bench_app {title:<18} step+redraw median {statistics.median(times):6.1f} ms"
            f"  p95 {p95:6.1f} ms"
        )
    median = statistics.median(every)
    verdict = "OK" if median < TARGET_MS else "TOO SLOW"
    print(
        f"bench_app workshop page (800 residents, 40x40): median step+redraw "
        f"{median:.1f} ms (target < {TARGET_MS:.0f} ms) {verdict}"
    )
    return median


if __name__ == "__main__":
    main()
