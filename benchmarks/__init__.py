"""Speed and scale benchmarks (``make bench``): every ``bench_*.py`` module's ``main()``."""
