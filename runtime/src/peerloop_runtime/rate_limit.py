"""Limits per person on creating calls: 429 with `Retry-After` beyond them.

    install_rate_limits(app, "matching", settings.rate_limit)  # ServiceRuntime.instrument does it
    @router.post("", dependencies=[rate_limited("help_requests")])

Each route class (`help_requests`, `profile_writes`, `preference_changes`) has a
rate `N/period` per caller: a token bucket of N tokens refilled over the period
(GCRA, `admit`), so a caller may burst N calls and then goes on at N per period.
The caller is the verified principal (its person id, else the token's subject);
service accounts and admins are exempt unless configured otherwise, so provisioning
(HR's account), the demo seed's provisioning and operators are never throttled.

The buckets live in the process. With N replicas behind a balancer the effective
limit is up to N× the configured one. A shared counter in the store would make it
exact but put a store write in front of every creating call, which already writes
the store once; these limits stop floods, not the odd extra call, so the cheaper
in-process bucket is the choice. A call the service answers with a failure that
says "retry" (a 5xx: store unavailable, requester not known yet) gives its token
back (`rate_limited(…, give_back_on=…)`, the store's outages by default): clients
retrying as they are told are not throttled for the service's own trouble.

Settings (`PEERLOOP_RATE_LIMIT__…`): `ENABLED` (default true), `EXEMPT_SERVICE_ACCOUNTS`,
`EXEMPT_ADMINS` (default true), and per class `HELP_REQUESTS=30/minute`,
`PROFILE_WRITES=60/minute`, `PREFERENCE_CHANGES=30/minute`.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from prometheus_client import Counter
from pydantic import AfterValidator, BaseModel, Field, PrivateAttr

from peerloop_runtime.auth import CurrentPrincipal, Principal
from peerloop_runtime.mongo import TRANSIENT_STORE_ERRORS

RouteClass = Literal["help_requests", "profile_writes", "preference_changes"]

_PERIODS = {"second": 1.0, "minute": 60.0, "hour": 3600.0, "day": 86400.0}
_RATE = re.compile(r"^\s*(\d+)\s*(?:/|per)\s*(\d*\.?\d+)?\s*(second|minute|hour|day)?s?\s*$")

RATE_LIMITED = Counter(
    "peerloop_rate_limited_total",
    "Calls refused with 429 because the caller exceeded a route class's limit",
    ["service", "route_class"],
)


@dataclass(frozen=True)
class Rate:
    """`requests` calls per `per_seconds`, bursts of up to `requests` allowed."""

    requests: int
    per_seconds: float

    def __post_init__(self) -> None:
        if self.requests < 1 or not self.per_seconds > 0 or not math.isfinite(self.per_seconds):
            raise ValueError("a rate needs at least 1 request per a positive, finite period")

    @property
    def interval(self) -> float:
        """Seconds one token takes to come back."""
        return self.per_seconds / self.requests

    @classmethod
    def parse(cls, text: str) -> Rate:
        """`20/minute`, `20 per minute`, `5/10 seconds`, `100/3600` (seconds)."""
        match = _RATE.match(text)
        if match is None or (match[2] is None and match[3] is None):
            raise ValueError(f"not a rate: {text!r} (say e.g. '20/minute' or '5/10 seconds')")
        count, amount, unit = match.groups()
        seconds = float(amount or 1) * _PERIODS[unit or "second"]
        return cls(int(count), seconds)

    def __str__(self) -> str:
        return f"{self.requests}/{self.per_seconds:g} seconds"


def _valid_rate(value: str) -> str:
    Rate.parse(value)
    return value


RateSetting = Annotated[str, AfterValidator(_valid_rate)]
"""A rate as text (`20/minute`): environment variables set it as they read."""


class RateLimitSettings(BaseModel):
    enabled: bool = True
    exempt_service_accounts: bool = Field(
        default=True, description="service accounts (provisioning, jobs) are not limited"
    )
    exempt_admins: bool = Field(default=True, description="admins are not limited")
    help_requests: RateSetting = Field(default="30/minute", description="asks for help")
    profile_writes: RateSetting = Field(
        default="60/minute", description="profile creations and changes"
    )
    preference_changes: RateSetting = Field(
        default="30/minute", description="notification preference changes"
    )
    max_tracked: int = Field(
        default=100_000, ge=1, description="buckets kept before full ones are forgotten"
    )
    _rates: dict[str, Rate] = PrivateAttr(default_factory=dict)

    def model_post_init(self, _context: Any) -> None:
        self._rates = {
            name: Rate.parse(getattr(self, name))
            for name in ("help_requests", "profile_writes", "preference_changes")
        }

    def rate(self, route_class: RouteClass) -> Rate:
        return self._rates[route_class]


def admit(tat: float | None, now: float, rate: Rate) -> tuple[float, float]:
    """One call against a bucket (GCRA): the bucket's new state, and seconds to wait.

    `tat` is the bucket's theoretical arrival time (None: a fresh bucket). A wait
    of 0 admits the call; otherwise the call is refused and the state is unchanged.
    """
    tat = now if tat is None else max(tat, now)
    allowed_from = tat - rate.per_seconds + rate.interval
    if now < allowed_from:
        return tat, allowed_from - now
    return tat + rate.interval, 0.0


@dataclass
class RateLimiter:
    settings: RateLimitSettings
    clock: Callable[[], float] = time.monotonic
    _buckets: dict[tuple[str, str], float] = field(default_factory=dict)

    def take(self, route_class: RouteClass, caller: str) -> float:
        """Seconds to wait before `caller` may call again; 0 when this call is admitted."""
        now = self.clock()
        key = (route_class, caller)
        tat, wait = admit(self._buckets.get(key), now, self.settings.rate(route_class))
        if (
            wait == 0
            and key not in self._buckets
            and len(self._buckets) >= self.settings.max_tracked
        ):
            self._forget_full(now)
        self._buckets[key] = tat
        return wait

    def give_back(self, route_class: RouteClass, caller: str) -> None:
        """Return the token of an admitted call the service could not serve."""
        key = (route_class, caller)
        if key in self._buckets:
            self._buckets[key] -= self.settings.rate(route_class).interval

    def _forget_full(self, now: float) -> None:
        """A bucket that has refilled is the same as no bucket: drop those."""
        for key in [k for k, tat in self._buckets.items() if tat <= now]:
            del self._buckets[key]

    def exempt(self, principal: Principal) -> bool:
        if not self.settings.enabled:
            return True
        if principal.is_service_account and self.settings.exempt_service_accounts:
            return True
        return principal.is_admin and self.settings.exempt_admins


@dataclass
class _State:
    service: str
    limiter: RateLimiter


def install_rate_limits(
    app: FastAPI,
    service: str,
    settings: RateLimitSettings,
    *,
    clock: Callable[[], float] = time.monotonic,
) -> RateLimiter:
    """Limits for the app's `rate_limited` routes, whose OpenAPI operations then list 429."""
    limiter = RateLimiter(settings, clock)
    app.state.peerloop_rate_limits = _State(service, limiter)
    _document_429(app)
    return limiter


TOO_MANY_REQUESTS: dict[str, Any] = {
    "description": "the caller made too many such calls: retry after `Retry-After` seconds",
    "headers": {
        "Retry-After": {
            "description": "seconds until the call is admitted again",
            "schema": {"type": "integer", "minimum": 1},
        }
    },
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {"detail": {"type": "string"}},
                "required": ["detail"],
            }
        }
    },
}


def _document_429(app: FastAPI) -> None:
    """Add the 429 answer to every limited operation when the document is first built."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        fresh = app.openapi_schema is None
        schema = build()
        if fresh:
            for route in app.routes:
                if isinstance(route, APIRoute) and _is_limited(route.dependant):
                    for method in route.methods or ():
                        operation = schema["paths"][route.path_format][method.lower()]
                        operation.setdefault("responses", {})["429"] = TOO_MANY_REQUESTS
        return schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented override


def _is_limited(dependant: Dependant) -> bool:
    return any(
        getattr(d.call, _MARK, None) is not None or _is_limited(d) for d in dependant.dependencies
    )


_MARK = "peerloop_rate_limited"


_WHAT = {
    "help_requests": "help requests",
    "profile_writes": "profile changes",
    "preference_changes": "preference changes",
}


def rate_limited(
    route_class: RouteClass, *, give_back_on: tuple[type[BaseException], ...] = ()
) -> Any:
    """A route dependency: the caller's call counts against `route_class`; 429 beyond it.

    A call that fails with a store outage or one of `give_back_on` (failures the
    caller is told to retry) gives its token back.
    """
    retry = (*TRANSIENT_STORE_ERRORS, *give_back_on)

    async def check(request: Request, principal: CurrentPrincipal) -> AsyncIterator[None]:
        state = getattr(request.app.state, "peerloop_rate_limits", None)
        if not isinstance(state, _State):
            raise RuntimeError("install_rate_limits(app, …) was not called on this app")
        limiter = state.limiter
        if limiter.exempt(principal):
            yield
            return
        caller = principal.person_id or f"sub:{principal.subject}"
        wait = limiter.take(route_class, caller)
        if wait > 0:
            RATE_LIMITED.labels(state.service, route_class).inc()
            seconds = max(1, math.ceil(wait))
            rate = limiter.settings.rate(route_class)
            raise HTTPException(
                status_code=429,
                detail=f"too many {_WHAT[route_class]}: at most {rate.requests} per "
                f"{rate.per_seconds:g} seconds for each person; retry in {seconds} s",
                headers={"Retry-After": str(seconds)},
            )
        try:
            yield
        except retry:
            limiter.give_back(route_class, caller)
            raise

    setattr(check, _MARK, route_class)
    return Depends(check)
