"""Run every benchmark module (``benchmarks/bench_*.py``) and print its figures."""

import importlib
import pkgutil
import sys
import time

import benchmarks


def main() -> int:
    """Import each ``bench_*`` module and call its ``main()``; report failures at the end."""
    names = sorted(
        m.name for m in pkgutil.iter_modules(benchmarks.__path__) if m.name.startswith("bench_")
    )
    wanted = sys.argv[1:]
    failed = []
    for name in names:
        if wanted and name not in wanted and name.removeprefix("bench_") not in wanted:
            continue
        print(f"== {name} ==", flush=True)
        start = time.perf_counter()
        try:
            importlib.import_module(f"benchmarks.{name}").main()
        except Exception as exc:  # noqa: BLE001 - keep going, report at the end
            failed.append(f"{name}: {exc}")
            print(f"FAILED: {exc}", flush=True)
        print(f"({time.perf_counter() - start:.0f} s)\n", flush=True)
    for line in failed:
        print("failed:", line)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
