"""Benchmarks (docs: BENCHMARKS.md, spec: quality.md "Performance"). Run `python -m bench.run_all`."""
