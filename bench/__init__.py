"""Benchmarks: a dataset generator (``bench.generate``) and the figure suite (``bench.run``)."""
