"""PROGRAMMES: assigning a whole cohort at once, within every mentor's capacity.

`python -m bench.programme_solver [--mentees 10000] [--mentors 200000] [--top-k 50]`,
or `python -m bench programmes`. No broker or store: synthetic people (the matching
benchmark's generator, seeded), each mentee's best `top_k` mentors from the matching
engine's own index (`candidate_pairs`, timed apart), then the global assignment
(`solve`, median of a few runs). The yardstick, in the same run on the same
candidates, is greedy one-at-a-time matching in order of arrival, which is what
one-off requests amount to: the figures show what it costs the later mentees.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import time
import tracemalloc
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
from peerloop_contracts.skills import default_catalogue
from peerloop_matching.bootstrap import related_both_ways
from peerloop_matching.domain.availability import week_start
from peerloop_matching.domain.candidate import Hours
from peerloop_matching.domain.programmes.candidates import Mentee, candidate_pairs
from peerloop_matching.domain.programmes.figures import Figures, figures
from peerloop_matching.domain.programmes.rules import Org, PairingRules, Person
from peerloop_matching.domain.programmes.solver import (
    Assignment,
    Match,
    Options,
    Problem,
    solve,
)
from peerloop_matching.domain.scoring import Weights
from peerloop_matching.domain.skill_index import SkillIndex

from bench.bench_matching import NOW, ZONES, skill_universe, synthetic_people
from bench.report import Results, print_table, verdict

GOAL_S = 1.5
GOAL_SKILLS = 5
"""The programme's goal skills: the most offered ones, so mentees compete for mentors."""

T = TypeVar("T")


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


CPU_S: dict[int, float] = {}
"""Median CPU seconds of the last `_timed` call per function id: on a shared machine wall
time includes waiting for a core, CPU time does not."""


def _timed(fn: Callable[[], T], runs: int) -> tuple[T, float]:
    """The last result and the median wall time of `runs` calls (CPU time in `CPU_S`)."""
    times: list[float] = []
    cpu: list[float] = []
    result: T | None = None
    for _ in range(runs):
        started, cpu_started = time.perf_counter(), time.process_time()
        result = fn()
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
    assert result is not None
    CPU_S[id(fn)] = statistics.median(cpu)
    return result, statistics.median(times)


def greedy_by_arrival(problem: Problem) -> Assignment:
    """Each mentee in turn takes their best candidate with room left, as one-off requests do."""
    pairs = problem.pairs
    left = {m: problem.capacity_of(m) for m in pairs.mentors}
    matches: list[Match] = []
    for mentee in pairs.mentees:
        rows = pairs.rows_of(mentee)
        for row in rows[np.argsort(-pairs.score[rows], kind="stable")].tolist():
            mentor = pairs.mentors[pairs.mentor[row]]
            if left[mentor] > 0:
                left[mentor] -= 1
                matches.append(Match(mentee, mentor, float(pairs.score[row])))
                break
    return Assignment(tuple(matches), ())


def _population(
    mentees: int, mentors: int, seed: int
) -> tuple[SkillIndex, list[Mentee], Org, float]:
    rng = random.Random(seed)
    started = time.perf_counter()
    index = SkillIndex(related=related_both_ways(default_catalogue()), weights=Weights())
    people: list[Person] = []
    for n, candidate in enumerate(synthetic_people(mentors, rng)):
        index.put(candidate)
        # A hierarchy eight wide: person-n reports to person-(n // 8).
        people.append(
            Person(candidate.person_id, candidate.team, f"person-{n // 8}" if n else None)
        )
    build_s = time.perf_counter() - started
    skills, _ = skill_universe()
    teams = sorted({p.team for p in people})
    cohort = []
    for i in range(mentees):
        team = rng.choice(teams)
        mentee_id = f"mentee-{i}"
        people.append(Person(mentee_id, team, f"person-{rng.randrange(mentors)}"))
        cohort.append(
            Mentee(
                mentee_id,
                rng.choice(skills[:GOAL_SKILLS]),
                rng.randint(1, 3),
                team=team,
                time_zone=rng.choice(ZONES),
                hours=Hours(),
            )
        )
    not_again = [
        (f"mentee-{rng.randrange(mentees)}", f"person-{rng.randrange(mentors)}")
        for _ in range(mentees // 10)
    ]
    return index, cohort, Org.of(people, not_again), build_s


def _row(name: str, f: Figures, total: float, seconds: float) -> list[Any]:
    return [
        name,
        seconds,
        f.pairs,
        total,
        f.mean_score,
        f.worst_score,
        f.max_load,
        f.load_gini,
        f.cross_team_share,
        f.overlap_share,
    ]


def measure(
    mentees: int = 10_000, mentors: int = 200_000, top_k: int = 50, runs: int = 3, seed: int = 11
) -> dict[str, Any]:
    index, cohort, org, build_s = _population(mentees, mentors, seed)
    rss_index = _rss_mb()
    print(f"  {mentors:,} mentors indexed in {build_s:.1f}s; candidates …", flush=True)
    started = time.perf_counter()
    found = candidate_pairs(
        cohort, index, weights=Weights(), now=NOW, top_k=top_k, org=org, rules=PairingRules()
    )
    candidates_s = time.perf_counter() - started
    rss_candidates = _rss_mb()
    pairs = found.pairs
    caps = random.Random(seed + 1)
    capacity = {m: caps.choice((1, 1, 2, 3)) for m in pairs.mentors}
    teams = {m.person_id: m.team for m in cohort}
    problem = Problem(pairs, capacity, teams=teams, reasons=found.reasons)
    fair_problem = Problem(
        pairs, capacity, teams=teams, reasons=found.reasons, options=Options(fairness=True)
    )
    diverse_problem = Problem(
        pairs, capacity, teams=teams, reasons=found.reasons, options=Options(per_team=1)
    )

    load_before = os.getloadavg()[0]

    def plain() -> Assignment:
        return solve(problem)

    solved, solve_s = _timed(plain, runs)
    solve_cpu_s = CPU_S[id(plain)]
    tracemalloc.start()
    solve(problem)
    traced_mb = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    greedy, greedy_s = _timed(lambda: greedy_by_arrival(problem), runs)
    fair, fair_s = _timed(lambda: solve(fair_problem), 1)
    diverse, diverse_s = _timed(lambda: solve(diverse_problem), 1)
    rss_solve = _rss_mb()

    monday = week_start(NOW)
    people_teams = {p.person_id: p.team for p in org.people.values()}
    schedules = {m.person_id: (m.time_zone, m.hours) for m in cohort} | {
        p: (c.time_zone, c.hours) for p in pairs.mentors if (c := index.get(p)) is not None
    }

    def figs(a: Assignment) -> Figures:
        return figures(
            a, mentors=pairs.mentors, teams=people_teams, schedules=schedules, monday=monday
        )

    rows = [
        _row("greedy by arrival", figs(greedy), greedy.total, greedy_s),
        _row("solver (max sum)", figs(solved), solved.total, solve_s),
        _row("solver, fairness", figs(fair), fair.total, fair_s),
        _row("solver, ≤ 1 per team", figs(diverse), diverse.total, diverse_s),
    ]
    print_table(
        f"PROGRAMMES {mentees:,} mentees × {mentors:,} mentors, top-{top_k}: "
        f"{len(pairs):,} candidate pairs, {sum(capacity.values()):,} places",
        [
            "assignment",
            "s",
            "pairs",
            "sum",
            "mean",
            "worst",
            "max load",
            "gini",
            "cross-team",
            "≥2h overlap",
        ],
        rows,
    )
    unassigned: dict[str, int] = {}
    for u in solved.unassigned:
        unassigned[u.reason] = unassigned.get(u.reason, 0) + 1
    greedy_worst = min(m.score for m in greedy.matches)
    solved_worst = min(m.score for m in solved.matches)
    fair_worst = min(m.score for m in fair.matches)
    print(
        f"  candidates {candidates_s:.1f}s ({candidates_s / mentees * 1000:.1f} ms a mentee); "
        f"solve median of {runs}: {solve_s:.2f}s wall, {solve_cpu_s:.2f}s CPU "
        f"= {solve_s / greedy_s:.1f}× greedy; load average {load_before:.1f} → "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; "
        f"unassigned: {unassigned or 'none'}\n"
        f"  vs greedy: sum {solved.total - greedy.total:+.1f}, "
        f"worst {greedy_worst:.3f} → {solved_worst:.3f}; fairness: worst {solved_worst:.3f} → "
        f"{fair_worst:.3f} for sum {fair.total - solved.total:+.2f} "
        f"and {fair_s:.1f}s\n"
        f"  peak RSS MB: {rss_index:.0f} after the index, {rss_candidates:.0f} after candidates, "
        f"{rss_solve:.0f} after every solve; numpy in one solve {traced_mb:.0f} MB (tracemalloc; "
        "OR-Tools' own arrays are not traced)",
        flush=True,
    )
    line = verdict(f"programmes solve s ÷ {GOAL_S} s", solve_s / GOAL_S, "≤ 1", solve_s <= GOAL_S)
    return {
        "mentees": mentees,
        "mentors": mentors,
        "top_k": top_k,
        "pairs": len(pairs),
        "places": sum(capacity.values()),
        "index_build_s": build_s,
        "candidates_s": candidates_s,
        "solve_s": solve_s,
        "solve_cpu_s": solve_cpu_s,
        "load_average": load_before,
        "greedy_s": greedy_s,
        "fair_s": fair_s,
        "diverse_s": diverse_s,
        "ratio_to_greedy": solve_s / greedy_s,
        "rows": [
            dict(
                zip(
                    [
                        "assignment",
                        "s",
                        "pairs",
                        "sum",
                        "mean",
                        "worst",
                        "max_load",
                        "gini",
                        "cross_team",
                        "overlap",
                    ],
                    r,
                    strict=True,
                )
            )
            for r in rows
        ],
        "unassigned": unassigned,
        "peak_rss_mb": {"index": rss_index, "candidates": rss_candidates, "solve": rss_solve},
        "solve_numpy_peak_mb": traced_mb,
        "verdict": line,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument("--mentees", type=int, default=10_000)
    parser.add_argument("--mentors", type=int, default=200_000)
    parser.add_argument("--top-k", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    results = Results()
    results.add("programmes", measure(args.mentees, args.mentors, args.top_k, args.runs, args.seed))
    print(f"\nresults: {results.write()}")


if __name__ == "__main__":
    main()
