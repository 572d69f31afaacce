"""Peerloop benchmarks: each number is printed beside a yardstick measured in the same run.

Run from the repository root: `.venv/bin/python -m bench all` (see bench/README.md).
"""
