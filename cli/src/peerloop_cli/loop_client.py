"""A thin client of the three services' public HTTP APIs, for the demo and e2e tests.

Every call acts as a person with their own access token from the identity provider;
people it has not met are registered there first, as HR provisioning would.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from peerloop_cli.identity import Tokens

Json = dict[str, Any]


class LoopError(RuntimeError):
    pass


@dataclass
class PeerloopClient:
    profiles_url: str
    matching_url: str
    notifications_url: str
    tokens: Tokens
    timeout: float = 30.0

    def __post_init__(self) -> None:
        self.http = httpx.AsyncClient(timeout=self.timeout)
        self.requesters: dict[str, str] = {}
        """Who asked each request this client made: its default reader."""

    async def close(self) -> None:
        await self.http.aclose()

    async def _call(self, method: str, url: str, *, person: str, **options: Any) -> Json:
        answer = await self._send(method, url, person=person, **options)
        result: Json = answer.json() if answer.content else {}
        return result

    async def _send(
        self,
        method: str,
        url: str,
        *,
        person: str,
        json: Json | None = None,
        params: dict[str, Any] | None = None,
        traceparent: str | None = None,
        idempotency_key: str | None = None,
    ) -> httpx.Response:
        headers: dict[str, str] = {}
        if traceparent:
            headers["traceparent"] = traceparent
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        answer = await self.http.request(
            method,
            url,
            json=json,
            params=params,
            headers=headers,
            auth=self.tokens.as_person(person),
        )
        if answer.status_code >= 400:
            raise LoopError(f"{method} {url}: HTTP {answer.status_code} {answer.text[:500]}")
        return answer

    # ------------------------------------------------------------------ profiles

    async def register(
        self, person_id: str, name: str, team: str, time_zone: str, weekly_capacity: int = 3
    ) -> Json:
        return await self._call(
            "POST",
            f"{self.profiles_url}/people",
            person=person_id,
            json={
                "person_id": person_id,
                "display_name": name,
                "email": f"{person_id}@example.com",
                "team": team,
                "time_zone": time_zone,
                "weekly_capacity": weekly_capacity,
            },
        )

    async def offer(self, person_id: str, skill: str, level: int, capacity: int = 2) -> Json:
        return await self._call(
            "POST",
            f"{self.profiles_url}/people/{person_id}/skills",
            person=person_id,
            json={
                "skill": skill,
                "level": level,
                "description": f"happy to help with {skill}",
                "weekly_capacity": capacity,
            },
        )

    async def set_away(self, person_id: str, start: str, end: str) -> Json:
        return await self._call(
            "PUT",
            f"{self.profiles_url}/people/{person_id}/availability",
            person=person_id,
            json={"weekly_capacity": 3, "away_periods": [{"start": start, "end": end}]},
        )

    async def person(self, person_id: str) -> Json:
        """The whole profile, as the person sees it."""
        return await self._call("GET", f"{self.profiles_url}/people/{person_id}", person=person_id)

    # ------------------------------------------------------------------ matching

    async def ask(
        self,
        requester: str,
        skill: str | None,
        level: int,
        task: str,
        *,
        traceparent: str | None = None,
        idempotency_key: str | None = None,
    ) -> Json:
        """As the requester. With `idempotency_key`, asking again after a failure cannot ask
        twice. Without `skill`, matching infers it from the task."""
        body: Json = {"desired_level": level, "task": task}
        if skill is not None:
            body["skill"] = skill
        made = await self._call(
            "POST",
            f"{self.matching_url}/help-requests",
            person=requester,
            json=body,
            traceparent=traceparent,
            idempotency_key=idempotency_key,
        )
        self.requesters[made["request_id"]] = requester
        return made

    def _reader(self, request_id: str, reader: str | None) -> str:
        if reader is None and request_id not in self.requesters:
            raise LoopError(f"who reads {request_id}? this client did not ask it: name a reader")
        return reader or self.requesters[request_id]

    async def request(self, request_id: str, reader: str | None = None) -> Json:
        """As `reader`, by default the requester of a request this client asked."""
        return await self._call(
            "GET",
            f"{self.matching_url}/help-requests/{request_id}",
            person=self._reader(request_id, reader),
        )

    async def why(self, request_id: str, reader: str | None = None) -> list[Json]:
        answer = await self._send(
            "GET",
            f"{self.matching_url}/help-requests/{request_id}/why",
            person=self._reader(request_id, reader),
        )
        result: list[Json] = answer.json()
        return result

    async def decide(self, request_id: str, proposal_id: str, helper: str, verb: str) -> Json:
        url = f"{self.matching_url}/help-requests/{request_id}/proposals/{proposal_id}/{verb}"
        return await self._call("POST", url, person=helper, json={})

    async def confirm(self, request_id: str, person: str, minutes: int = 45) -> Json:
        url = f"{self.matching_url}/help-requests/{request_id}/session/confirm"
        return await self._call("POST", url, person=person, json={"duration_minutes": minutes})

    async def feedback(self, request_id: str, person: str, rating: int, comment: str) -> Json:
        url = f"{self.matching_url}/help-requests/{request_id}/session/feedback"
        return await self._call(
            "POST", url, person=person, json={"rating": rating, "comment": comment}
        )

    async def wait_for_request(
        self,
        request_id: str,
        check: Callable[[Json], bool],
        limit: float = 60.0,
        reader: str | None = None,
    ) -> Json:
        async def poll() -> Json:
            return await self.request(request_id, reader)

        return await wait_for(poll, check, limit, f"help request {request_id}")

    @staticmethod
    def pending_proposal(request: Json) -> Json | None:
        pending = [p for p in request.get("proposals", []) if p.get("status") == "pending"]
        return pending[-1] if pending else None

    # ------------------------------------------------------------------ notifications

    async def inbox(self, person_id: str) -> list[Json]:
        """Every inbox item of a person, all pages."""
        items: list[Json] = []
        offset: int | None = 0
        while offset is not None:
            answer = await self.http.get(
                f"{self.notifications_url}/people/{person_id}/inbox",
                params={"limit": 100, "offset": offset},
                auth=self.tokens.as_person(person_id),
            )
            if answer.status_code == 404:
                return items  # notifications has not heard of them yet
            answer.raise_for_status()
            page = answer.json()
            items.extend(page["items"])
            offset = page.get("next_offset")
        return items

    async def wait_for_inbox(
        self, person_id: str, kind: str, count: int = 1, limit: float = 60.0
    ) -> list[Json]:
        async def poll() -> list[Json]:
            return [i for i in await self.inbox(person_id) if i.get("kind") == kind]

        return await wait_for(
            poll, lambda items: len(items) >= count, limit, f"{kind} in {person_id}'s inbox"
        )


T = TypeVar("T")


async def wait_for(
    poll: Callable[[], Awaitable[T]],
    check: Callable[[T], bool],
    limit: float,
    what: str,
    *,
    interval: float = 0.3,
) -> T:
    deadline = asyncio.get_running_loop().time() + limit
    last: T | None = None
    while asyncio.get_running_loop().time() < deadline:
        last = await poll()
        if last is not None and check(last):
            return last
        await asyncio.sleep(interval)
    raise LoopError(f"timed out after {limit:.0f}s waiting for {what}; last seen: {last!r:.800}")
