"""P4: the matching engine's own benchmark (bench/bench_matching.py), run and judged here."""

from __future__ import annotations

import math
from typing import Any

from bench.bench_matching import bench as engine_bench
from bench.report import print_table, verdict

GOAL_SIZE = 100_000
GOAL_P95_MS = 10.0


def measure(sizes: list[int], requests: int, scan_sample: int, seed: int = 7) -> dict[str, Any]:
    rows = [engine_bench(size, requests, scan_sample, seed) for size in sizes]
    print_table(
        f"P4 matching: top-k for one request, {requests} requests per size",
        [
            "profiles",
            "build s",
            "memory MB",
            "p50 ms",
            "p95 ms",
            "p99 ms",
            "scan p50 ms",
            "speed-up",
        ],
        [
            [
                int(r["size"]),
                r["build_s"],
                r["memory_mb"],
                r["p50_ms"],
                r["p95_ms"],
                r["p99_ms"],
                r["scan_p50_ms"],
                r["scan_p50_ms"] / r["p50_ms"],
            ]
            for r in rows
        ],
    )
    print("  assignment time (cohort matching): not measured, cohort matching does not exist yet")
    at_goal = next((r for r in rows if r["size"] == GOAL_SIZE), None)
    p95 = at_goal["p95_ms"] if at_goal else math.nan
    line = verdict(
        f"P4 p95 ms at {GOAL_SIZE:,} profiles ÷ {GOAL_P95_MS:.0f} ms",
        p95 / GOAL_P95_MS,
        "≤ 1",
        None if at_goal is None else p95 <= GOAL_P95_MS,
    )
    return {"sizes": rows, "p95_ms_at_goal_size": p95, "verdict": line}
