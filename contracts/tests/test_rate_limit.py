"""Limits per person: the bucket arithmetic on a fake clock, and the 429 a route answers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from peerloop_runtime.auth import TokenVerifier, install_auth
from peerloop_runtime.auth.testing import LocalIssuer
from peerloop_runtime.rate_limit import (
    Rate,
    RateLimiter,
    RateLimitSettings,
    admit,
    install_rate_limits,
    rate_limited,
)
from prometheus_client import REGISTRY
from pydantic import ValidationError
from pymongo.errors import AutoReconnect


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("text", "rate"),
    [
        ("20/minute", Rate(20, 60)),
        ("20 per minute", Rate(20, 60)),
        ("1/second", Rate(1, 1)),
        ("5/10 seconds", Rate(5, 10)),
        ("100/3600", Rate(100, 3600)),
        ("3/hours", Rate(3, 3600)),
        ("1000/day", Rate(1000, 86400)),
    ],
)
def test_rates_read_as_people_write_them(text: str, rate: Rate) -> None:
    assert Rate.parse(text) == rate


@pytest.mark.parametrize("text", ["", "ten/minute", "0/minute", "5", "5/0", "5/lightyear", "-1/s"])
def test_nonsense_rates_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        Rate.parse(text)


def test_settings_refuse_a_nonsense_rate_by_name() -> None:
    with pytest.raises(ValidationError, match="not a rate: '3/lightyear'"):
        RateLimitSettings(help_requests="3/lightyear")


# (seconds since the start, expected wait): 3 per 30 s, a token back every 10 s.
THREE_PER_30S: list[tuple[float, float]] = [
    (0, 0),  # a burst of three
    (0, 0),
    (0, 0),
    (0, 10),  # the fourth waits for the first token back
    (4, 6),  # refused calls do not cost: still 6 s to go
    (10, 0),  # one token back, taken
    (10, 10),
    (25, 0),  # 15 s later: one and a half tokens back
    (25, 5),
    (100, 0),  # long idle: the full burst again, never more
    (100, 0),
    (100, 0),
    (100, 10),
]


def test_a_bucket_bursts_then_refills_at_the_rate() -> None:
    rate = Rate(3, 30)
    tat: float | None = None
    for at, expected in THREE_PER_30S:
        tat, wait = admit(tat, 1000 + at, rate)
        assert wait == pytest.approx(expected), at


@pytest.mark.parametrize(
    ("rate", "calls_at_once", "admitted"),
    [(Rate(1, 1), 5, 1), (Rate(20, 60), 25, 20), (Rate(60, 60), 60, 60), (Rate(2, 3600), 3, 2)],
)
def test_a_burst_admits_exactly_the_limit(rate: Rate, calls_at_once: int, admitted: int) -> None:
    tat: float | None = None
    waits = []
    for _ in range(calls_at_once):
        tat, wait = admit(tat, 0.0, rate)
        waits.append(wait)
    assert sum(1 for w in waits if w == 0) == admitted
    assert all(w == pytest.approx(rate.interval) for w in waits[admitted:])


def test_people_and_route_classes_have_buckets_of_their_own() -> None:
    clock = FakeClock()
    limiter = RateLimiter(RateLimitSettings(help_requests="2/minute"), clock)
    assert [limiter.take("help_requests", "ada") for _ in range(3)] == [0, 0, 30]
    assert limiter.take("help_requests", "bob") == 0
    assert limiter.take("profile_writes", "ada") == 0
    limiter.give_back("help_requests", "ada")
    assert limiter.take("help_requests", "ada") == 0


def test_refilled_buckets_are_forgotten_when_too_many_are_kept() -> None:
    clock = FakeClock()
    limiter = RateLimiter(RateLimitSettings(help_requests="1/minute", max_tracked=3), clock)
    for person in ("a", "b", "c"):
        limiter.take("help_requests", person)
    clock.now += 61
    limiter.take("help_requests", "d")
    assert set(limiter._buckets) == {("help_requests", "d")}


# --------------------------------------------------------------------------- on a route


class StoreHiccup(Exception):
    pass


def _app(issuer: LocalIssuer, clock: FakeClock, **limits: Any) -> FastAPI:
    app = FastAPI()
    install_auth(app, TokenVerifier(issuer.settings(), issuer.key_source))
    install_rate_limits(app, "test", RateLimitSettings(**limits), clock=clock)

    @app.post("/asks", dependencies=[rate_limited("help_requests")])
    async def ask(flaky: bool = False) -> dict[str, str]:
        if flaky:
            raise AutoReconnect("store gone for a moment")
        return {"asked": "yes"}

    return app


@pytest.fixture
def issuer() -> LocalIssuer:
    return LocalIssuer()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def http(issuer: LocalIssuer, clock: FakeClock) -> AsyncIterator[httpx.AsyncClient]:
    app = _app(issuer, clock, help_requests="2/minute")
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
        yield client


def _as(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _refused(route_class: str) -> float:
    labels = {"service": "test", "route_class": route_class}
    return REGISTRY.get_sample_value("peerloop_rate_limited_total", labels) or 0.0


async def test_beyond_the_limit_a_person_gets_429_with_retry_after(
    http: httpx.AsyncClient, issuer: LocalIssuer, clock: FakeClock
) -> None:
    ada = _as(issuer.person_token("ada"))
    before = _refused("help_requests")
    assert [(await http.post("/asks", headers=ada)).status_code for _ in range(2)] == [200, 200]
    clock.now += 0.5
    refused = await http.post("/asks", headers=ada)
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "30"  # 29.5 s, rounded up
    assert refused.json() == {
        "detail": "too many help requests: at most 2 per 60 seconds for each person; retry in 30 s"
    }
    assert _refused("help_requests") == before + 1
    # Another person is not affected.
    assert (await http.post("/asks", headers=_as(issuer.person_token("bob")))).status_code == 200
    clock.now += 30
    assert (await http.post("/asks", headers=ada)).status_code == 200


async def test_service_accounts_and_admins_are_exempt(
    http: httpx.AsyncClient, issuer: LocalIssuer
) -> None:
    hr = _as(issuer.service_token("peerloop-hr", scope="profiles:provision"))
    admin = _as(issuer.person_token("root", groups=["peerloop-admins"]))
    for caller in (hr, admin):
        assert {(await http.post("/asks", headers=caller)).status_code for _ in range(10)} == {200}


async def test_limits_can_be_switched_off_or_tightened_for_exempt_callers(
    issuer: LocalIssuer, clock: FakeClock
) -> None:
    off = _app(issuer, clock, enabled=False, help_requests="1/minute")
    strict = _app(issuer, clock, exempt_admins=False, help_requests="1/minute")
    admin = _as(issuer.person_token("root", groups=["peerloop-admins"]))
    codes = {}
    for name, app in (("off", off), ("strict", strict)):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
            codes[name] = [(await client.post("/asks", headers=admin)).status_code for _ in "ab"]
    assert codes == {"off": [200, 200], "strict": [200, 429]}


async def test_a_call_the_store_failed_gives_its_token_back(
    http: httpx.AsyncClient, issuer: LocalIssuer
) -> None:
    ada = _as(issuer.person_token("ada"))
    for _ in range(5):
        assert (await http.post("/asks?flaky=true", headers=ada)).status_code == 500
    assert [(await http.post("/asks", headers=ada)).status_code for _ in range(3)] == [
        200,
        200,
        429,
    ]


async def test_no_token_is_401_before_any_limit(http: httpx.AsyncClient) -> None:
    assert (await http.post("/asks")).status_code == 401


def test_limited_operations_document_429_with_retry_after(
    issuer: LocalIssuer, clock: FakeClock
) -> None:
    app = _app(issuer, clock)

    @app.get("/open")
    async def unlimited() -> dict[str, str]:
        return {}

    paths = app.openapi()["paths"]
    answer = paths["/asks"]["post"]["responses"]["429"]
    assert "Retry-After" in answer["headers"]
    assert "429" not in paths["/open"]["get"]["responses"]
    assert app.openapi() is app.openapi()  # built once
