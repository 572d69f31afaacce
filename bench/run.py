"""One entry point for every benchmark: `python -m bench [all|PART ...]`, PARTS below.

Kafka and the store are started on the PEERLOOP_* ports (or reused when running);
the services run as processes with databases and consumer groups of their own.
Every part prints one table and a one-line verdict; all of them go to one JSON
file under bench/results/ so two runs can be compared.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import time
from pathlib import Path
from typing import Any

import httpx
from peerloop_cli.identity import SERVICES, IdentityProvider, Tokens
from peerloop_cli.infra import stack
from peerloop_contracts.profiles import ProfileRegistered, SkillOffered

from bench import (
    auth_tokens,
    consume_cost,
    flows,
    http_load,
    insights_replay,
    matching_speed,
    profiling,
    programme_solver,
    task_skills,
    yardsticks,
)
from bench.observer import FlowObserver
from bench.platform_ctl import end_offsets, new_deployment, skip_history, start_stack, store_kind
from bench.report import RESULTS_DIR, Results, print_profile

PARTS = (
    "yardsticks",
    "p1",
    "p3",
    "http",
    "p2",
    "p4",
    "auth",
    "programmes",
    "insights",
    "task-skills",
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__.split("\n", 1)[0] if __doc__ else None
    )
    parser.add_argument(
        "parts",
        nargs="*",
        default="all",
        choices=("all", *PARTS),
        help="what to run (default: all)",
    )
    size = parser.add_argument_group("sizes (defaults fit a 2-core machine in a few minutes)")
    size.add_argument("--records", type=int, default=100_000, help="perf-tool records")
    size.add_argument("--latency-records", type=int, default=2_000, help="EndToEndLatency records")
    size.add_argument("--flows", type=int, default=100, help="P1 help requests")
    size.add_argument("--concurrency", type=int, default=16, help="P1 concurrent callers")
    size.add_argument("--latency-flows", type=int, default=60, help="P3 help requests")
    size.add_argument(
        "--rate", type=float, default=0.0, help="P3 requests/s (default: half of P1's peak)"
    )
    size.add_argument("--http-seconds", type=int, default=10, help="wrk duration per endpoint")
    size.add_argument("--http-connections", type=int, default=32)
    size.add_argument("--sizes", default="10000,100000", help="P4 profile counts")
    size.add_argument("--million", action="store_true", help="P4 also at 1,000,000 profiles")
    size.add_argument("--requests", type=int, default=500, help="P4 requests timed per size")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="sample the services with py-spy during P1 and P2 and print the hottest code",
    )
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds to wait per phase")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    return parser.parse_args(argv)


def selected(args: argparse.Namespace) -> set[str]:
    parts = [args.parts] if isinstance(args.parts, str) else args.parts
    return set(PARTS) if "all" in parts else set(parts)


async def live_loop(
    args: argparse.Namespace,
    parts: set[str],
    endpoints: stack.Endpoints,
    yard: dict[str, Any],
    results: Results,
) -> None:
    """P1, P3 and HTTP against one deployment of the three services."""
    deployment = new_deployment("live")
    await skip_history(endpoints.kafka_bootstrap, deployment)
    baseline = await end_offsets(
        endpoints.kafka_bootstrap, [ProfileRegistered.topic(), SkillOffered.topic()]
    )
    print("  starting the services …", flush=True)
    await asyncio.to_thread(deployment.up, endpoints)
    profile_dir = args.results_dir / f"profile-{time.strftime('%Y%m%dT%H%M%S')}"
    try:
        async with (
            Tokens(IdentityProvider.from_env()) as tokens,
            # People are provisioned as HR would (the service account); asks carry each
            # requester's own token (`flows.fire`).
            httpx.AsyncClient(
                timeout=60.0,
                limits=httpx.Limits(max_connections=64),
                auth=tokens.as_service(*SERVICES["hr"]),
            ) as http,
            FlowObserver(endpoints.kafka_bootstrap) as observer,
        ):
            total = args.flows + args.latency_flows + 10
            population = await flows.seed(
                http, tokens, deployment, endpoints.kafka_bootstrap, total, baseline
            )
            await flows.warm_up(http, deployment, observer, population)
            peak = args.rate * 2
            if "p1" in parts or ("p3" in parts and not args.rate):
                recordings = _profile_services(deployment, profile_dir) if args.profile else []
                p1 = await flows.throughput(
                    http,
                    deployment,
                    observer,
                    population,
                    flows=args.flows,
                    concurrency=args.concurrency,
                    producer_records_per_s=yard["producer"]["records_per_s"],
                    within_s=args.timeout,
                )
                p1["profile"] = {r.service: r.finish() for r in recordings}
                _print_profiles(p1["profile"])
                results.add("p1", p1)
                peak = p1["flows_per_s"]
            if "p3" in parts:
                if not peak or math.isnan(peak):
                    raise RuntimeError("P3 needs a peak rate: P1 completed no flows")
                results.add(
                    "p3",
                    await flows.latency(
                        http,
                        deployment,
                        observer,
                        population,
                        flows=args.latency_flows,
                        rate=peak / 2,
                        broker_p50_ms=broker_p50_ms(yard),
                        within_s=args.timeout,
                    ),
                )
            if "http" in parts:
                # A skill nobody offers: every POST is a real request, none uses up helpers.
                results.add(
                    "http",
                    await http_load.measure(
                        deployment.url("matching"),
                        await tokens.for_person(population.requesters[0]),
                        f"{population.skill}-nobody",
                        seconds=args.http_seconds,
                        connections=args.http_connections,
                    ),
                )
    finally:
        await asyncio.to_thread(deployment.down)


def broker_p50_ms(yard: dict[str, Any]) -> float:
    """EndToEndLatency prints whole milliseconds: below 1 ms its p50 reads 0, so use the mean."""
    latency = yard["end_to_end"]
    return float(latency["p50_ms"] or latency["avg_ms"])


def _profile_services(deployment: Any, directory: Path) -> list[profiling.Recording]:
    recordings = []
    for service in ("matching", "notifications", "profiles"):
        pid = deployment.process(service).pid()
        if pid is not None and (rec := profiling.record(service, pid, directory)) is not None:
            recordings.append(rec)
    return recordings


def _print_profiles(profiles: dict[str, Any]) -> None:
    for service, profile in profiles.items():
        if profile:
            print_profile(service, profile)


async def run(args: argparse.Namespace) -> Path:
    parts = selected(args)
    results = Results()
    results.add("arguments", {k: str(v) for k, v in vars(args).items()})
    needs_platform = parts - {"p4", "auth", "programmes", "task-skills"}
    endpoints = await asyncio.to_thread(start_stack) if needs_platform else None
    if endpoints is not None:
        # The figures hold for one store: say which in the results.
        results.add(
            "servers",
            {
                "kafka_bootstrap": endpoints.kafka_bootstrap,
                "store": store_kind(endpoints.mongodb_uri),
            },
        )
        print(f"  store: {store_kind(endpoints.mongodb_uri)}", flush=True)
    yard: dict[str, Any] = {}
    if endpoints is not None and parts & {"yardsticks", "p1", "p3"}:
        yard = await yardsticks.measure(
            endpoints.kafka_bootstrap,
            yardsticks.Sizes(records=args.records, latency_records=args.latency_records),
        )
        results.add("yardsticks", yard)
    if endpoints is not None and parts & {"p1", "p3", "http"}:
        await live_loop(args, parts, endpoints, yard, results)
    if endpoints is not None and "p2" in parts:
        profile_dir = args.results_dir / f"profile-p2-{time.strftime('%Y%m%dT%H%M%S')}"
        results.add(
            "p2",
            await consume_cost.measure(
                endpoints, within_s=args.timeout, profile_dir=profile_dir if args.profile else None
            ),
        )
    if "p4" in parts:
        sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
        if args.million:
            sizes.append(1_000_000)
        results.add("p4", await asyncio.to_thread(matching_speed.measure, sizes, args.requests, 20))
    if "auth" in parts:
        results.add("auth", await auth_tokens.measure())
    if "programmes" in parts:
        results.add("programmes", await asyncio.to_thread(programme_solver.measure))
    if endpoints is not None and "insights" in parts:
        results.add("insights", await insights_replay.measure(endpoints))
    if "task-skills" in parts:
        understood = await asyncio.to_thread(task_skills.measure)
        task_skills.print_table(understood)
        results.add("task-skills", understood)
    return results.write(args.results_dir)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    started = time.monotonic()
    path = asyncio.run(run(args))
    print(f"\nresults: {path} ({time.monotonic() - started:.0f}s)")
    summary = json.loads(path.read_text())["sections"]
    verdicts = [part.get("verdict") for part in summary.values() if isinstance(part, dict)]
    for line in verdicts:
        if line:
            print(f"  {line}")
