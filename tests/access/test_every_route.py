"""Every route of every service, enumerated from the apps themselves, has an access rule.

A new route without an entry in `RULES` fails here, and so does a route whose
entry says more (or less) than the code enforces. Tokens come from an in-memory
issuer, so each refusal below is the one claim it names; the same apps accept
real tokens from the identity provider in the services' integration tests.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from peerloop_matching.config import Settings as MatchingSettings
from peerloop_matching.entrypoints import access as matching_access
from peerloop_matching.entrypoints.http import create_app as matching_app
from peerloop_notifications.config import Settings as NotificationsSettings
from peerloop_notifications.entrypoints import http as notifications_http
from peerloop_notifications.entrypoints.http import create_app as notifications_app
from peerloop_profiles.config import Settings as ProfilesSettings
from peerloop_profiles.entrypoints import access as profiles_access
from peerloop_profiles.entrypoints.http import create_app as profiles_app
from peerloop_runtime.auth import TokenVerifier, routes_without_access_rule
from peerloop_runtime.auth.fastapi_integration import effective_routes
from peerloop_runtime.auth.testing import LocalIssuer, generate_key

pytestmark = pytest.mark.integration

OWNER, STRANGER, ADMIN = "p-owner", "p-stranger", "p-admin"

# Who may call a route:
#   any      every valid token (people and service accounts)
#   person   any person, not a service account
#   manage   the person in the path, an admin or a provisioning service account
#   self     the person in the path only
#   stored   a person; the stored resource decides (tested with real requests elsewhere)
#   admin    an admin only
RULES: dict[str, dict[str, str]] = {
    "profiles": {
        "POST /people": "manage",
        "GET /people": "any",
        "GET /people/{person_id}": "any",
        "PATCH /people/{person_id}": "manage",
        "DELETE /people/{person_id}": "manage",
        "POST /people/{person_id}/skills": "manage",
        "PUT /people/{person_id}/skills/{skill}": "manage",
        "DELETE /people/{person_id}/skills/{skill}": "manage",
        "POST /people/{person_id}/learning-goals": "manage",
        "DELETE /people/{person_id}/learning-goals/{skill}": "manage",
        "PUT /people/{person_id}/availability": "manage",
        "POST /people/{person_id}/skills/{skill}/endorsements": "person",
        "GET /people/{person_id}/skills/{skill}/evidence": "manage",
        "GET /skills": "any",
        "GET /skills/{skill_id}": "any",
        "PUT /skills/{skill_id}": "admin",
        "DELETE /skills/{skill_id}": "admin",
    },
    "matching": {
        "POST /help-requests": "person",
        "GET /help-requests/{request_id}": "stored",
        "GET /help-requests/{request_id}/why": "stored",
        "POST /help-requests/{request_id}/cancel": "person",
        "POST /help-requests/{request_id}/proposals/{proposal_id}/accept": "person",
        "POST /help-requests/{request_id}/proposals/{proposal_id}/decline": "person",
        "POST /help-requests/{request_id}/session/confirm": "person",
        "POST /help-requests/{request_id}/session/not-happened": "person",
        "POST /help-requests/{request_id}/session/feedback": "person",
        "GET /help-requests/{request_id}/proposals/{proposal_id}/slots": "stored",
        "POST /help-requests/{request_id}/session/reschedule": "person",
        "POST /help-requests/{request_id}/session/cancel": "person",
        "POST /programmes": "admin",
        "GET /programmes/{programme_id}": "admin",
        "POST /programmes/{programme_id}/preview": "admin",
        "POST /programmes/{programme_id}/adjust": "admin",
        "POST /programmes/{programme_id}/publish": "admin",
        "POST /programmes/{programme_id}/close": "admin",
        "GET /people/me/not-again": "person",
        "PUT /people/me/not-again/{other_id}": "person",
        "POST /task-skills": "any",
    },
    "notifications": {
        "GET /people/{person_id}/inbox": "self",
        "GET /people/{person_id}/inbox/unread-count": "self",
        "POST /people/{person_id}/inbox/read-all": "self",
        "POST /people/{person_id}/inbox/{notification_id}/read": "self",
        "GET /people/{person_id}/inbox/stream": "self",
        "GET /people/{person_id}/deliveries": "self",
        "GET /people/{person_id}/preferences": "self",
        "PUT /people/{person_id}/preferences": "self",
        "POST /people/{person_id}/calendar-feed": "self",
        "DELETE /people/{person_id}/calendar-feed": "self",
    },
}
# The calendar feed is open on purpose: calendar apps send no token; its URL's secret is
# the credential (tested in services/notifications and tests/e2e/test_calendar.py).
OPEN = {"GET /healthz", "GET /readyz", "GET /calendar/{token}.ics"}
DOCS = {"GET /metrics", "GET /openapi.json", "GET /docs", "GET /docs/oauth2-redirect", "GET /redoc"}

# Bodies valid for the route, so what answers is the rule and not the validation.
BODIES: dict[str, dict[str, Any]] = {
    "POST /people": {
        "person_id": OWNER,
        "display_name": "Owner",
        "email": "owner@example.com",
        "team": "t",
        "time_zone": "UTC",
    },
    "PATCH /people/{person_id}": {"team": "u"},
    "POST /people/{person_id}/skills": {"skill": "python", "level": 3},
    "PUT /people/{person_id}/skills/{skill}": {"level": 3},
    "PUT /skills/{skill_id}": {"aliases": ["route-check-alias"]},
    "POST /people/{person_id}/learning-goals": {"skill": "python", "target_level": 3},
    "PUT /people/{person_id}/availability": {"weekly_capacity": 2},
    "POST /help-requests": {"skill": "python", "desired_level": 2, "task": "a task"},
    "POST /help-requests/{request_id}/session/feedback": {"rating": 5},
    "POST /help-requests/{request_id}/session/reschedule": {"scheduled_at": "2099-01-01T09:00:00Z"},
    "POST /programmes": {
        "name": "Kafka circle",
        "goal_skills": ["kafka"],
        "cohort": [OWNER],
        "capacity": 2,
        "starts_on": "2027-01-04",
        "ends_on": "2027-03-31",
    },
    "POST /programmes/{programme_id}/adjust": {
        "change": "capacity",
        "mentor_id": OWNER,
        "capacity": 1,
    },
    "POST /task-skills": {"task": "a task"},
    "PUT /people/{person_id}/preferences": {"expected_version": 0, "preferences": {}},
}
VALUES = {
    "person_id": OWNER,
    "skill": "python",
    "skill_id": "python",
    "request_id": "r-0000000000000000",
    "proposal_id": "r-0000000000000000.p1",
    "notification_id": "n-1",
    "programme_id": "pg-0000000000000000",
    "other_id": STRANGER,
}

issuer = LocalIssuer()
other_issuer = LocalIssuer(issuer="https://evil.example/realms/peerloop")

BAD_TOKENS: dict[str, Callable[[], str | None]] = {
    "no token": lambda: None,
    "not a JWT": lambda: "not-a-token",
    "expired": lambda: issuer.person_token(OWNER, exp=int(issuer.clock()) - 120),
    "not yet valid": lambda: issuer.person_token(OWNER, nbf=int(issuer.clock()) + 120),
    "wrong issuer": lambda: issuer.person_token(OWNER, iss=other_issuer.issuer),
    "wrong audience": lambda: issuer.person_token(OWNER, aud="account"),
    "alg none": lambda: _alg_none(),
    "another key": lambda: issuer.token(
        key=generate_key("RS256"), header={"kid": issuer.key.kid}, preferred_username=OWNER
    ),
}


def _alg_none() -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none'})}.{part(issuer.claims(preferred_username=OWNER))}."


@dataclass(frozen=True)
class Route:
    service: str
    key: str
    method: str
    url: str
    body: dict[str, Any] | None


def _url(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: VALUES[m.group(1)], path)


def _apps(mongodb_uri: str, db: str) -> dict[str, FastAPI]:
    common: dict[str, Any] = {
        "mongodb_uri": mongodb_uri,
        "kafka_bootstrap_servers": "127.0.0.1:1",  # no route here may reach the broker
        "auth": issuer.settings(),
    }
    apps = {
        "profiles": profiles_app(ProfilesSettings(database=f"{db}_p", **common)),
        "matching": matching_app(
            MatchingSettings(database=f"{db}_m", requester_wait_seconds=0, **common)
        ),
        "notifications": notifications_app(
            NotificationsSettings(database=f"{db}_n", dev_mode=True, **common)
        ),
    }
    for app in apps.values():
        # The in-memory issuer's keys: a real deployment's verifier has no such seam.
        app.state.peerloop_auth.verifier = TokenVerifier(issuer.settings(), issuer.key_source)
    return apps


def _routes(apps: dict[str, FastAPI]) -> list[Route]:
    found = []
    for service, app in apps.items():
        for route in effective_routes(app.routes):
            if not isinstance(getattr(route, "dependant", None), Dependant):
                continue  # the docs pages
            for method in sorted(set(route.methods) - {"HEAD", "OPTIONS"}):
                key = f"{method} {route.path}"
                if key in OPEN or key in DOCS:
                    continue
                found.append(Route(service, key, method, _url(route.path), BODIES.get(key)))
    return found


@pytest.fixture(scope="module")
async def apps(mongodb_uri: str) -> AsyncIterator[dict[str, FastAPI]]:
    built = _apps(mongodb_uri, f"t_routes_{uuid.uuid4().hex[:8]}")
    yield built
    for app in built.values():
        await app.state.runtime.client.close()
        await app.state.runtime.probe_client.close()


async def _call(app: FastAPI, route: Route, token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://svc", timeout=30
    ) as http:
        return await http.request(route.method, route.url, json=route.body or {}, headers=headers)


def _all_routes() -> list[Route]:
    return _routes(_apps("mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=1", "t_list"))


ROUTES = _all_routes()


def test_every_route_has_a_rule_in_the_table_and_in_the_code() -> None:
    listed = {(s, k) for s, table in RULES.items() for k in table}
    assert {(r.service, r.key) for r in ROUTES} == listed
    for app in _apps("mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=1", "t_list").values():
        assert routes_without_access_rule(app) == []


@pytest.mark.parametrize("route", ROUTES, ids=[f"{r.service}:{r.key}" for r in ROUTES])
@pytest.mark.parametrize("case", list(BAD_TOKENS))
async def test_a_bad_token_is_401_on_every_route(
    apps: dict[str, FastAPI], route: Route, case: str
) -> None:
    answer = await _call(apps[route.service], route, BAD_TOKENS[case]())
    assert answer.status_code == 401, answer.text
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    if case != "no token":
        assert 'error="invalid_token"' in answer.headers["WWW-Authenticate"]


def _passes(rule: str, who: str) -> bool:
    """Whether `who` passes the rule for a resource of OWNER."""
    people = ("owner", "stranger", "admin")
    return {
        "any": True,
        "person": who in people,
        "stored": who in people,
        "manage": who in ("owner", "admin", "provisioning"),
        "self": who == "owner",
        "admin": who == "admin",
    }[rule]


CALLERS: dict[str, Callable[[], str]] = {
    "owner": lambda: issuer.person_token(OWNER),
    "stranger": lambda: issuer.person_token(STRANGER),
    "admin": lambda: issuer.person_token(ADMIN, groups=["peerloop-admins"]),
    "provisioning": lambda: issuer.service_token("peerloop-hr", scope="profiles:provision"),
    "service": lambda: issuer.service_token("peerloop-insights", scope="insights:read"),
}
RULE_TEXTS = {
    profiles_access.WRITE_RULE,
    profiles_access.REGISTER_RULE,
    profiles_access.ENDORSE_RULE,
    profiles_access.EVIDENCE_RULE,
    profiles_access.SKILLS_RULE,
    matching_access.ASK_RULE,
    matching_access.READ_RULE,
    matching_access.CANCEL_RULE,
    matching_access.ANSWER_RULE,
    matching_access.SESSION_RULE,
    matching_access.PROGRAMME_RULE,
    matching_access.NOT_AGAIN_RULE,
    notifications_http.OWN_RULE,
}


@pytest.mark.parametrize("route", ROUTES, ids=[f"{r.service}:{r.key}" for r in ROUTES])
@pytest.mark.parametrize("who", list(CALLERS))
async def test_who_passes_each_rule(apps: dict[str, FastAPI], route: Route, who: str) -> None:
    """Passing is anything but 401/403 (404 for the placeholder ids, 422, 2xx)."""
    answer = await _call(apps[route.service], route, CALLERS[who]())
    if _passes(RULES[route.service][route.key], who):
        assert answer.status_code not in (401, 403), answer.text
    else:
        assert answer.status_code == 403, answer.text
        assert answer.json()["detail"] in RULE_TEXTS


@pytest.mark.parametrize(
    ("service", "method", "url", "body"),
    [
        # JSON that Python reads as infinity: the 422 must still be JSON.
        (
            "matching",
            "POST",
            "/help-requests",
            b'{"skill":"python","desired_level":2,"task":"t","max_minutes":1e400}',
        ),
        ("profiles", "PATCH", f"/people/{OWNER}", b'{"team": 1e400}'),
        # Integers beyond what the store keeps never reach it.
        ("notifications", "GET", f"/people/{OWNER}/inbox?offset={2**64}", None),
        (
            "notifications",
            "PUT",
            f"/people/{OWNER}/preferences",
            json.dumps({"expected_version": 2**64, "preferences": {}}).encode(),
        ),
    ],
)
async def test_inputs_the_store_or_json_cannot_hold_are_422_not_500(
    apps: dict[str, FastAPI], service: str, method: str, url: str, body: bytes | None
) -> None:
    # Notifications answers only for people it has heard of.
    await apps["notifications"].state.service.people.apply_profile(
        OWNER,
        1,
        {"display_name": "Owner", "email": "owner@example.com", "time_zone": "UTC"},
        guard="profile_sequence",
    )
    headers = {"Authorization": f"Bearer {issuer.person_token(OWNER)}"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=apps[service]), base_url="http://svc", timeout=30
    ) as http:
        answer = await http.request(method, url, content=body, headers=headers)
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"]
