"""WEB: how long a page of the web app takes, a page view being the web app plus the
service calls behind it.

`python -m bench.web_pages [--views 40]`. Starts the three services and the web app as
processes on free ports (Kafka, the store and Keycloak from `peerloop infra up`, started
if needed), signs a person in through the real login form, then GETs each page in turn,
sequentially. The yardstick, in the same run and loop: `GET /healthz` of the profiles
service (one HTTP round trip to a service that does nothing) and of the web app. The
ratio page p50 / services' healthz p50 says how many bare round trips a page costs.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import re
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable

import httpx
from peerloop_cli.identity import IdentityProvider, Tokens
from peerloop_cli.infra import stack
from peerloop_cli.infra.process import free_port
from peerloop_cli.platform import SERVICE_NAMES, WEB, Deployment
from peerloop_cli.realm import DEMO_PASSWORD
from peerloop_cli.testing.groups import start_groups_at_end

from bench.report import print_table

FORM_ACTION = re.compile(r'<form[^>]*id="kc-form-login"[^>]*action="([^"]+)"')


def _deployment() -> Deployment:
    tag = uuid.uuid4().hex[:6]
    return Deployment(
        prefix=f"bench-web-{tag}",
        ports={name: free_port() for name in SERVICE_NAMES},
        smtp_port=free_port(),
        web_port=free_port(),
        database_prefix=f"bench_web_{tag}_",
        group_prefix=f"bench-web-{tag}-",
        extra_env={"PEERLOOP_LOG_LEVEL": "WARNING"},
    )


async def _people(deployment: Deployment, tokens: Tokens, tag: str) -> tuple[str, str]:
    """A learner with one request proposed to a helper; returns (learner, request id)."""
    learner, helper, skill = f"bl-{tag}", f"bh-{tag}", f"bench-skill-{tag}"
    for person in (learner, helper):
        await tokens.ensure_person(person, email=f"{person}@example.com", name=f"Bench {person}")
        async with httpx.AsyncClient(timeout=30, auth=tokens.as_person(person)) as http:
            made = await http.post(
                f"{deployment.url('profiles')}/people",
                json={
                    "person_id": person,
                    "display_name": f"Bench {person}",
                    "email": f"{person}@example.com",
                    "team": person[:2],
                    "time_zone": "Europe/Berlin",
                },
            )
            made.raise_for_status()
    async with httpx.AsyncClient(timeout=30, auth=tokens.as_person(helper)) as http:
        offered = await http.post(
            f"{deployment.url('profiles')}/people/{helper}/skills",
            json={"skill": skill, "level": 4, "weekly_capacity": 5},
        )
        offered.raise_for_status()
    async with httpx.AsyncClient(timeout=30, auth=tokens.as_person(learner)) as http:
        for _ in range(60):
            asked = await http.post(
                f"{deployment.url('matching')}/help-requests",
                json={"skill": skill, "desired_level": 2, "task": "a page to measure"},
                headers={"Idempotency-Key": f"bench-{tag}"},
            )
            if asked.status_code != 503:
                break
            await asyncio.sleep(0.5)
        asked.raise_for_status()
        return learner, str(asked.json()["request_id"])


async def _sign_in(web: httpx.AsyncClient, base: str, person: str) -> None:
    page = await web.get(f"{base}/login", follow_redirects=True)
    found = FORM_ACTION.search(page.text)
    if found is None:
        raise RuntimeError(f"no login form at {page.url}")
    done = await web.post(
        html.unescape(found.group(1)),
        data={"username": person, "password": DEMO_PASSWORD, "credentialId": ""},
        follow_redirects=True,
    )
    if str(done.url).rstrip("/") != base or done.status_code != 200:
        raise RuntimeError(f"signing in ended at {done.url} ({done.status_code})")


def _ms(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[max(0, round(0.95 * len(ordered)) - 1)]


async def _timed(get: Callable[[], Awaitable[httpx.Response]], views: int) -> list[float]:
    samples = []
    for _ in range(views):
        started = time.perf_counter()
        answer = await get()
        samples.append((time.perf_counter() - started) * 1000)
        if answer.status_code != 200:
            raise RuntimeError(f"{answer.request.url}: HTTP {answer.status_code}")
    return samples


async def measure(views: int) -> dict[str, dict[str, float]]:
    endpoints = await asyncio.to_thread(stack.up, print)
    deployment = _deployment()
    groups = [
        f"{deployment.group_prefix}{svc}{suffix}"
        for svc in ("profiles", "matching", "notifications")
        for suffix in ("", ".candidates", ".requests", ".programmes")
    ]
    await start_groups_at_end(endpoints.kafka_bootstrap, groups)
    await asyncio.to_thread(deployment.up, endpoints)
    try:
        async with Tokens(IdentityProvider.from_env()) as tokens:
            learner, request_id = await _people(deployment, tokens, uuid.uuid4().hex[:6])
        base = deployment.url(WEB)
        async with httpx.AsyncClient(timeout=30) as web:

            async def like_a_browser(_: httpx.Response) -> None:
                # Browsers send Secure cookies to http://127.0.0.1 (a secure context);
                # httpx keeps them for https only.
                for cookie in web.cookies.jar:
                    cookie.secure = False

            web.event_hooks["response"] = [like_a_browser]
            await _sign_in(web, base, learner)
            targets: dict[str, Callable[[], Awaitable[httpx.Response]]] = {
                "yardstick: profiles /healthz": lambda: web.get(
                    f"{deployment.url('profiles')}/healthz"
                ),
                "web /healthz": lambda: web.get(f"{base}/healthz"),
            }
            for path in ("/", "/ask", f"/requests/{request_id}", "/inbox", "/profile"):
                targets[path] = lambda path=path: web.get(f"{base}{path}")  # type: ignore[misc]
            targets["/people?offers=python"] = lambda: web.get(f"{base}/people?offers=python")
            for get in targets.values():
                await _timed(get, 5)  # warm-up
            results: dict[str, dict[str, float]] = {}
            for name, get in targets.items():
                p50, p95 = _ms(await _timed(get, views))
                results[name] = {"p50_ms": p50, "p95_ms": p95}
    finally:
        await asyncio.to_thread(deployment.down)
    yardstick = results["yardstick: profiles /healthz"]["p50_ms"]
    print_table(
        f"WEB page views ({views} each, sequential)",
        ["page", "p50 ms", "p95 ms", "p50 / yardstick"],
        [[n, r["p50_ms"], r["p95_ms"], r["p50_ms"] / yardstick] for n, r in results.items()],
    )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--views", type=int, default=40, help="GETs per page")
    asyncio.run(measure(parser.parse_args().views))


if __name__ == "__main__":
    main()
