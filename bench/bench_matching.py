"""Matching speed: p50/p95 time to rank helpers for one request, and memory, by population.

    .venv/bin/python bench/bench_matching.py                   # 10k and 100k profiles
    .venv/bin/python bench/bench_matching.py --sizes 5000,20000
    .venv/bin/python bench/bench_matching.py --million         # adds 1M (several minutes)

Profiles are synthetic: skills drawn with a long-tailed popularity (a few skills
are offered by many, most by few), time zones from five continents, teams of
about 50, some load and ratings. Each request asks for a skill drawn with the
same popularity, so popular skills are asked for most, as in real life. The
yardstick, measured in the same run, is what the in-memory skill index avoids:
a scan of every profile per request (timed on a sample of requests).
"""

from __future__ import annotations

import argparse
import gc
import itertools
import random
import statistics
import time
import tracemalloc
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

from peerloop_contracts.skills import default_catalogue
from peerloop_matching.bootstrap import related_both_ways
from peerloop_matching.domain.availability import week_mask, week_start
from peerloop_matching.domain.candidate import Candidate, Hours, Offer, Reservation, iso_week
from peerloop_matching.domain.engine import Need, find_helpers, rank_all
from peerloop_matching.domain.scoring import Requester, Weights
from peerloop_matching.domain.skill_index import SkillIndex

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
ZONES = (
    "Europe/Berlin",
    "Europe/London",
    "America/New_York",
    "America/Sao_Paulo",
    "Asia/Kolkata",
    "Asia/Tokyo",
    "Australia/Sydney",
    "UTC",
)
IN_HOUSE_SKILLS = 400


def skill_universe() -> tuple[list[str], list[float]]:
    """Skills and their cumulative popularity weights."""
    skills = [s.id for s in default_catalogue().skills("peerloop")] + [
        f"inhouse-{i}" for i in range(IN_HOUSE_SKILLS)
    ]
    # Zipf-like popularity: the k-th skill is offered (and asked for) about 1/k as often.
    return skills, list(itertools.accumulate(1.0 / (rank + 1) for rank in range(len(skills))))


def synthetic_people(count: int, rng: random.Random) -> Iterable[Candidate]:
    skills, cumulative = skill_universe()
    weeks = [iso_week(NOW - timedelta(weeks=k)) for k in range(6)]
    for n in range(count):
        offered = set(rng.choices(skills, cum_weights=cumulative, k=rng.randint(1, 4)))
        reservations = tuple(
            Reservation(
                proposal_id=f"p{n}-{k}",
                request_id=f"r{n}-{k}",
                skill_id=next(iter(offered)),
                week=rng.choice(weeks),
                kind="session",
                created_at=NOW - timedelta(days=rng.randint(0, 20)),
            )
            for k in range(rng.choice((0, 0, 0, 1, 1, 2)))
        )
        ratings = rng.randint(0, 12)
        yield Candidate(
            person_id=f"person-{n}",
            team=f"team-{n % max(1, count // 50)}",
            time_zone=rng.choice(ZONES),
            hours=Hours(),
            weekly_capacity=rng.choice((None, 2, 3, 5)),
            offers={
                s: Offer(s, rng.randint(1, 5), rng.random() < 0.9, rng.randint(0, 3))
                for s in offered
            },
            rating_sum=sum(rng.randint(3, 5) for _ in range(ratings)),
            rating_count=ratings,
            reservations=reservations,
            partners=tuple(f"person-{rng.randrange(count)}" for _ in range(len(reservations))),
        )


def percentile(samples: Sequence[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def bench(size: int, requests: int, scan_sample: int, seed: int) -> dict[str, float]:
    rng = random.Random(seed)
    catalogue = default_catalogue()
    gc.collect()
    tracemalloc.start()
    started = time.perf_counter()
    weights_cfg = Weights()
    index = SkillIndex(related=related_both_ways(catalogue), weights=weights_cfg)
    for candidate in synthetic_people(size, rng):
        index.put(candidate)
    build_s = time.perf_counter() - started
    memory_mb = tracemalloc.get_traced_memory()[0] / 1e6
    tracemalloc.stop()

    skills, cumulative = skill_universe()
    monday = week_start(NOW)
    people = [index.get(f"person-{i}") for i in range(size)]
    asks = []
    for _ in range(requests):
        requester = people[rng.randrange(size)]
        assert requester is not None
        asks.append(
            Need(
                skill_id=rng.choices(skills, cum_weights=cumulative)[0],
                desired_level=rng.randint(1, 4),
                requester=Requester(
                    requester.person_id,
                    requester.team,
                    week_mask(requester.time_zone, requester.hours, monday),
                ),
            )
        )

    for need in asks[:50]:  # warm up: standings for the week, time-zone masks
        find_helpers(need, index, weights=weights_cfg, now=NOW)
    timings: list[float] = []
    looked_at: list[int] = []
    for need in asks:
        t0 = time.perf_counter()
        outcome = find_helpers(need, index, weights=weights_cfg, now=NOW)
        timings.append((time.perf_counter() - t0) * 1000)
        looked_at.append(sum(1 for _ in index.offerers(need.skill_id)))
        assert outcome.ranked or outcome.unmatched_reason

    # Yardstick: the same scoring over a scan of every profile, as without the index.
    related = related_both_ways(catalogue)
    scans: list[float] = []
    for need in asks[:scan_sample]:
        t0 = time.perf_counter()
        wanted = (need.skill_id, *related(need.skill_id))
        scanned = ((c, s) for c in people if c is not None for s in wanted if s in c.offers)
        reference = rank_all(need, scanned, weights=weights_cfg, now=NOW)
        scans.append((time.perf_counter() - t0) * 1000)
        fast = find_helpers(need, index, weights=weights_cfg, now=NOW)
        assert [r.candidate.person_id for r in fast.ranked] == [
            r.candidate.person_id for r in reference.ranked
        ], "the index gave a different answer than scoring everyone"

    return {
        "size": size,
        "build_s": build_s,
        "memory_mb": memory_mb,
        "p50_ms": statistics.median(timings),
        "p95_ms": percentile(timings, 0.95),
        "p99_ms": percentile(timings, 0.99),
        "max_ms": max(timings),
        "mean_offerers": statistics.fmean(looked_at),
        "max_offerers": max(looked_at),
        "scan_p50_ms": statistics.median(scans),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--sizes",
        default="10000,100000",
        help="comma-separated profile counts (default 10000,100000)",
    )
    parser.add_argument("--million", action="store_true", help="also run 1,000,000 profiles")
    parser.add_argument("--requests", type=int, default=1000, help="requests timed per size")
    parser.add_argument(
        "--scan-sample", type=int, default=20, help="requests timed with the full-scan yardstick"
    )
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    if args.million:
        sizes.append(1_000_000)

    print(
        f"{'profiles':>9} {'build s':>8} {'mem MB':>7} {'p50 ms':>7} {'p95 ms':>7} "
        f"{'p99 ms':>7} {'max ms':>7} {'offerers':>9} {'scan p50':>9} {'speed-up':>8}"
    )
    for size in sizes:
        r = bench(size, args.requests, args.scan_sample, args.seed)
        print(
            f"{size:>9,} {r['build_s']:>8.1f} {r['memory_mb']:>7.0f} {r['p50_ms']:>7.2f} "
            f"{r['p95_ms']:>7.2f} {r['p99_ms']:>7.2f} {r['max_ms']:>7.2f} "
            f"{r['mean_offerers']:>9.0f} {r['scan_p50_ms']:>9.1f} "
            f"{r['scan_p50_ms'] / r['p50_ms']:>7.0f}x",
            flush=True,
        )
    print(
        "p50/p95/p99: time to find the best 20 helpers for one request through the skill "
        "index; offerers: mean offers of the asked skill and its related skills; scan p50: "
        "scoring every profile instead (the yardstick, same answers checked); "
        "speed-up = scan p50 / p50; mem: the index and its profiles (tracemalloc)."
    )


if __name__ == "__main__":
    main()
