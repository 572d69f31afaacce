"""P1 (end-to-end throughput) and P3 (help-requested → match-proposed latency) on live services.

A flow starts with `POST /help-requests` and ends when its match-proposed was
published and the proposed helper's inbox notification was stored (seen as the
notification-delivered event of that inbox item).
"""

from __future__ import annotations

import asyncio
import math
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from peerloop_cli.identity import Tokens
from peerloop_cli.platform import Deployment
from peerloop_contracts.profiles import ProfileRegistered, SkillOffered

from bench.observer import FlowObserver
from bench.platform_ctl import CpuMeter, end_offsets, wait_consumed
from bench.report import fmt, percentile, print_table, verdict

P1_GOAL_FLOWS_PER_S = 100.0
P1_GOAL_RATIO = 0.002
P3_GOAL_P50_MS = 15.0
P3_GOAL_P99_MS = 100.0
"""Issue #21's goals for P1 and P3."""

HELPER_CAPACITY = 50
"""The most sessions a week profiles accepts: few helpers can then take a whole run."""


@dataclass
class Population:
    skill: str
    helpers: list[str]
    requesters: list[str]
    tokens: Tokens
    _next: int = 0

    def requester(self) -> str:
        self._next += 1
        return self.requesters[self._next % len(self.requesters)]


@dataclass
class FlowRun:
    request_ids: list[str] = field(default_factory=list)
    posted_at: dict[str, float] = field(default_factory=dict)
    started: float = 0.0
    posted: float = 0.0


async def _post(
    http: httpx.AsyncClient, url: str, body: dict[str, Any], auth: httpx.Auth | None = None
) -> dict[str, Any]:
    answer = await (http.post(url, json=body, auth=auth) if auth else http.post(url, json=body))
    if answer.status_code >= 300:
        raise RuntimeError(f"POST {url}: HTTP {answer.status_code} {answer.text[:300]}")
    result: dict[str, Any] = answer.json() if answer.content else {}
    return result


async def seed(
    http: httpx.AsyncClient,
    tokens: Tokens,
    deployment: Deployment,
    bootstrap: str,
    flows: int,
    baseline: dict[str, int],
) -> Population:
    """Helpers offering one skill of this run with room for every flow, and some requesters."""
    tag = uuid.uuid4().hex[:6]
    skill = f"bench-skill-{tag}"
    helpers = [f"bench-{tag}-h{i}" for i in range(max(10, math.ceil(2 * flows / HELPER_CAPACITY)))]
    requesters = [f"bench-{tag}-r{i}" for i in range(10)]
    profiles = deployment.url("profiles")
    gate = asyncio.Semaphore(8)

    async def person(person_id: str, offers: bool) -> None:
        async with gate:
            await _post(
                http,
                f"{profiles}/people",
                {
                    "person_id": person_id,
                    "display_name": f"Bench {person_id}",
                    "email": f"{person_id}@example.com",
                    "team": f"team-{hash(person_id) % 5}",
                    "time_zone": "Europe/Berlin",
                    "weekly_capacity": HELPER_CAPACITY,
                },
            )
            if offers:
                await _post(
                    http,
                    f"{profiles}/people/{person_id}/skills",
                    {"skill": skill, "level": 4, "weekly_capacity": HELPER_CAPACITY},
                )

    await asyncio.gather(
        *(person(h, True) for h in helpers), *(person(r, False) for r in requesters)
    )
    # The requesters log in before the clock starts: a token grant is not a flow's cost.
    for r in requesters:
        await tokens.for_new_person(r, email=f"{r}@example.com", name=f"Bench {r}")
    # Matching must know every helper before the clock starts.
    await asyncio.sleep(1.0)  # the outbox relay publishes after the HTTP answer
    ends = await end_offsets(bootstrap, [ProfileRegistered.topic(), SkillOffered.topic()])
    # The groups started at `baseline` (see skip_history): they owe what was written since.
    owed = {topic: end - baseline.get(topic, 0) for topic, end in ends.items()}
    await wait_consumed(http, deployment.url("matching"), owed, within_s=300)
    registered = ProfileRegistered.topic()
    await wait_consumed(
        http, deployment.url("notifications"), {registered: owed[registered]}, within_s=300
    )
    return Population(skill, helpers, requesters, tokens)


async def fire(
    http: httpx.AsyncClient,
    deployment: Deployment,
    population: Population,
    count: int,
    *,
    concurrency: int = 0,
    rate: float = 0.0,
) -> FlowRun:
    """POST `count` help requests: `concurrency` callers (closed loop) or `rate`/s (open loop)."""
    url = f"{deployment.url('matching')}/help-requests"
    run = FlowRun(started=time.time())
    gate = asyncio.Semaphore(concurrency or count)

    async def one(i: int) -> None:
        if rate:
            await asyncio.sleep(max(0.0, run.started + i / rate - time.time()))
        async with gate:
            requester = population.requester()
            sent = time.time()
            created = await _post(
                http,
                url,
                {"skill": population.skill, "desired_level": 3, "task": f"benchmark flow {i}"},
                auth=population.tokens.as_person(requester, register=False),
            )
            run.request_ids.append(created["request_id"])
            run.posted_at[created["request_id"]] = sent

    await asyncio.gather(*(one(i) for i in range(count)))
    run.posted = time.time()
    return run


async def warm_up(
    http: httpx.AsyncClient, deployment: Deployment, observer: FlowObserver, population: Population
) -> None:
    run = await fire(http, deployment, population, 5, concurrency=5)
    if not await observer.wait_settled(run.request_ids, within_s=120):
        raise RuntimeError("warm-up flows did not finish within 120 s: is the loop working?")
    if any(r in observer.unmatched_ms for r in run.request_ids):
        raise RuntimeError("warm-up requests were reported unmatched: matching lacks the helpers")


async def throughput(
    http: httpx.AsyncClient,
    deployment: Deployment,
    observer: FlowObserver,
    population: Population,
    *,
    flows: int,
    concurrency: int,
    producer_records_per_s: float,
    within_s: float,
) -> dict[str, Any]:
    meter = CpuMeter(deployment)
    meter.start()
    run = await fire(http, deployment, population, flows, concurrency=concurrency)
    finished = await observer.wait_settled(run.request_ids, within_s=within_s)
    cpu = meter.stop()
    done = [r for r in run.request_ids if r in observer.seen_at]
    unmatched = [r for r in run.request_ids if r in observer.unmatched_ms]
    ends = [observer.stored_ms[observer.proposal_event[r]] / 1000 for r in done]
    elapsed = (max(ends) if ends else time.time()) - run.started
    rate = len(done) / elapsed if elapsed > 0 else math.nan
    ratio = rate / producer_records_per_s
    print_table(
        f"P1 end-to-end throughput: {flows} help requests, {concurrency} concurrent callers",
        ["measure", "value"],
        [
            ["flows completed (proposed + notification stored)", len(done)],
            ["reported unmatched", len(unmatched)],
            ["not finished in time", flows - len(done) - len(unmatched)],
            ["wall seconds, first POST → last notification", elapsed],
            ["POSTs answered per second", flows / max(1e-9, run.posted - run.started)],
            ["flows per second", rate],
            ["producer yardstick records/s", producer_records_per_s],
            *[[f"CPU s per flow, {s}", cpu[s] / max(1, len(done))] for s in sorted(cpu)],
        ],
    )
    # Issue #21: at least 100 flows/s, and at least 0.002 of the producer yardstick.
    met = rate >= P1_GOAL_FLOWS_PER_S and ratio >= P1_GOAL_RATIO
    line = verdict(
        "P1 throughput",
        f"{fmt(rate)} flows/s, ratio {fmt(ratio)} to the producer",
        f"≥ {P1_GOAL_FLOWS_PER_S:.0f} flows/s and ratio ≥ {P1_GOAL_RATIO}",
        met,
    )
    return {
        "flows": flows,
        "concurrency": concurrency,
        "completed": len(done),
        "unmatched": len(unmatched),
        "finished_in_time": finished,
        "elapsed_s": elapsed,
        "flows_per_s": rate,
        "posts_per_s": flows / max(1e-9, run.posted - run.started),
        "cpu_s_per_flow": {s: cpu[s] / max(1, len(done)) for s in cpu},
        "ratio_to_producer": ratio,
        "verdict": line,
    }


async def latency(
    http: httpx.AsyncClient,
    deployment: Deployment,
    observer: FlowObserver,
    population: Population,
    *,
    flows: int,
    rate: float,
    broker_p50_ms: float,
    within_s: float,
) -> dict[str, Any]:
    run = await fire(http, deployment, population, flows, rate=rate)
    await observer.wait_settled(run.request_ids, within_s=within_s)
    gaps = [
        float(observer.proposed_ms[r] - observer.requested_ms[r])
        for r in run.request_ids
        if r in observer.proposed_ms and r in observer.requested_ms
    ]
    http_to_proposed = [
        observer.proposed_ms[r] - run.posted_at[r] * 1000
        for r in run.request_ids
        if r in observer.proposed_ms
    ]

    def span(start: dict[str, int], end: dict[str, int]) -> list[float]:
        return [float(end[r] - start[r]) for r in run.request_ids if r in start and r in end]

    # Where the time goes, from each event's ce_time (made) and CreateTime (published).
    stages = {
        "POST: help-requested made → published": span(
            observer.requested_created_ms, observer.requested_ms
        ),
        "matching: help-requested published → match-proposed made": span(
            observer.requested_ms, observer.proposed_created_ms
        ),
        "matching: match-proposed made → published": span(
            observer.proposed_created_ms, observer.proposed_ms
        ),
    }
    p50, p99 = percentile(gaps, 0.50), percentile(gaps, 0.99)
    ratio = p50 / broker_p50_ms if broker_p50_ms > 0 else math.nan
    print_table(
        f"P3 latency: {flows} help requests at {rate:.1f}/s (half of P1's peak)",
        ["span", "samples", "p50 ms", "p99 ms", "max ms"],
        [
            ["help-requested → match-proposed", len(gaps), p50, p99, max(gaps, default=math.nan)],
            [
                "POST sent → match-proposed",
                len(http_to_proposed),
                percentile(http_to_proposed, 0.5),
                percentile(http_to_proposed, 0.99),
                max(http_to_proposed, default=math.nan),
            ],
            *[
                [
                    f"  {name}",
                    len(v),
                    percentile(v, 0.5),
                    percentile(v, 0.99),
                    max(v, default=math.nan),
                ]
                for name, v in stages.items()
            ],
            ["broker EndToEndLatency p50 (yardstick)", "", broker_p50_ms, math.nan, math.nan],
        ],
    )
    # Issue #21: absolute bounds; the broker's own latency is printed beside them.
    met = p50 <= P3_GOAL_P50_MS and p99 <= P3_GOAL_P99_MS
    line = verdict(
        "P3 help-requested → match-proposed",
        f"p50 {fmt(p50)} ms, p99 {fmt(p99)} ms",
        f"p50 ≤ {P3_GOAL_P50_MS:.0f} ms and p99 ≤ {P3_GOAL_P99_MS:.0f} ms",
        met,
    )
    return {
        "flows": flows,
        "rate_per_s": rate,
        "samples": len(gaps),
        "p50_ms": p50,
        "p99_ms": p99,
        "post_to_proposed_p50_ms": percentile(http_to_proposed, 0.5),
        "post_to_proposed_p99_ms": percentile(http_to_proposed, 0.99),
        "broker_p50_ms": broker_p50_ms,
        "stages_p50_ms": {name: percentile(v, 0.5) for name, v in stages.items()},
        "ratio_p50": ratio,
        "verdict": line,
    }
