"""Tools for tests and benchmarks; no part of the running service."""
