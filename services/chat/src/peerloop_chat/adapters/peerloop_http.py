"""Matching and profiles' public HTTP APIs, called as the chat service account acting for
the linked person (`Peerloop-Acting-For`, accepted by services configured for it; see
runtime auth.delegation). The account's token comes by the client-credentials grant and
is reused until shortly before it expires."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
from peerloop_runtime.auth.delegation import ACTING_FOR_HEADER

from peerloop_chat.application.ports import ApiRefusedError, Asked, Reason, Why

RETRY_AFTER_CAP = 5.0
"""Matching answers 503 + Retry-After while it waits for a new person's profile."""


@dataclass(frozen=True)
class ServiceAccount:
    token_url: str
    client_id: str
    client_secret: str
    scope: str


class ServiceToken:
    def __init__(self, http: httpx.AsyncClient, account: ServiceAccount) -> None:
        self._http = http
        self._account = account
        self._token: str | None = None
        self._renew_at = 0.0
        self._lock = asyncio.Lock()

    async def get(self) -> str:
        async with self._lock:
            if self._token is None or time.monotonic() >= self._renew_at:
                self._token, lifetime = await self._fetch()
                self._renew_at = time.monotonic() + max(lifetime - 60, lifetime / 2)
            return self._token

    async def _fetch(self) -> tuple[str, float]:
        try:
            answer = await self._http.post(
                self._account.token_url,
                data={"grant_type": "client_credentials", "scope": self._account.scope},
                auth=(self._account.client_id, self._account.client_secret),
            )
        except httpx.HTTPError as exc:
            raise ApiRefusedError(
                503, "Peerloop's sign-in service is unreachable; try again."
            ) from exc
        if answer.status_code != 200:
            raise ApiRefusedError(503, "Peerloop's sign-in service refused the chat app.")
        body = answer.json()
        return str(body["access_token"]), float(body.get("expires_in", 60))


def _refusal(answer: httpx.Response) -> ApiRefusedError:
    try:
        detail = answer.json().get("detail")
    except ValueError:
        detail = None
    if isinstance(detail, list):
        detail = "; ".join(str(d.get("msg", d)) for d in detail if isinstance(d, dict))
    if answer.status_code == 404:
        return ApiRefusedError(404, "That ask no longer exists.")
    if answer.status_code in (502, 503, 504):
        return ApiRefusedError(answer.status_code, "Peerloop is busy for a moment; try again.")
    return ApiRefusedError(
        answer.status_code, str(detail or f"Peerloop answered {answer.status_code}.")
    )


class PeerloopHttpApi:
    def __init__(
        self,
        http: httpx.AsyncClient,
        token: ServiceToken,
        *,
        matching_url: str,
        profiles_url: str,
        busy_retries: int = 3,
    ) -> None:
        self._http = http
        self._token = token
        self._matching = matching_url.rstrip("/")
        self._profiles = profiles_url.rstrip("/")
        self._busy_retries = busy_retries

    async def _call(
        self,
        person: str | None,
        method: str,
        url: str,
        *,
        json: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        """As `person`, or as the service account itself (public reads) when None."""
        acting = {ACTING_FOR_HEADER: person} if person is not None else {}
        for attempt in range(self._busy_retries + 1):
            try:
                answer = await self._http.request(
                    method,
                    url,
                    json=json,
                    headers={
                        "Authorization": f"Bearer {await self._token.get()}",
                        **acting,
                        **(headers or {}),
                    },
                )
            except httpx.HTTPError as exc:
                raise ApiRefusedError(503, "Peerloop is unreachable; try again.") from exc
            if answer.status_code < 400:
                return answer.json()
            if answer.status_code == 503 and attempt < self._busy_retries:
                await asyncio.sleep(_retry_after(answer))
                continue
            raise _refusal(answer)
        raise AssertionError("unreachable")

    async def ask(
        self, person: str, *, skill: str | None, task: str, level: int, idempotency_key: str
    ) -> Asked:
        body: dict[str, object] = {"task": task, "desired_level": level}
        if skill is not None:
            body["skill"] = skill
        created = await self._call(
            person,
            "POST",
            f"{self._matching}/help-requests",
            json=body,
            headers={"Idempotency-Key": idempotency_key},
        )
        return Asked(str(created["request_id"]), str(created["skill_id"]))

    async def accept(self, person: str, request_id: str, proposal_id: str) -> None:
        await self._call(person, "POST", self._proposal(request_id, proposal_id, "accept"), json={})

    async def decline(self, person: str, request_id: str, proposal_id: str) -> None:
        await self._call(
            person, "POST", self._proposal(request_id, proposal_id, "decline"), json={}
        )

    async def why(self, person: str, request_id: str) -> list[Why]:
        answer = await self._call(person, "GET", f"{self._request(request_id)}/why")
        return [
            Why(
                proposal_id=str(p["proposal_id"]),
                score=float(p["score"]),
                reasons=tuple(
                    Reason(str(c["explanation"]), float(c["contribution"])) for c in p["breakdown"]
                ),
            )
            for p in answer
        ]

    async def confirm(self, person: str, request_id: str) -> None:
        await self._call(person, "POST", f"{self._request(request_id)}/session/confirm", json={})

    async def not_happened(self, person: str, request_id: str) -> None:
        await self._call(
            person, "POST", f"{self._request(request_id)}/session/not-happened", json={}
        )

    async def rate(self, person: str, request_id: str, rating: int) -> None:
        await self._call(
            person,
            "POST",
            f"{self._request(request_id)}/session/feedback",
            json={"rating": rating},
        )

    async def display_name(self, person: str) -> str:
        """The public part of a profile, read as the service account; else the id itself."""
        try:
            answer = await self._call(
                None, "GET", f"{self._profiles}/people/{quote(person, safe='')}"
            )
        except ApiRefusedError:
            return person
        name = answer.get("display_name") if isinstance(answer, dict) else None
        return str(name or person)

    def _request(self, request_id: str) -> str:
        return f"{self._matching}/help-requests/{quote(request_id, safe='')}"

    def _proposal(self, request_id: str, proposal_id: str, verb: str) -> str:
        return f"{self._request(request_id)}/proposals/{quote(proposal_id, safe='')}/{verb}"


def _retry_after(answer: httpx.Response) -> float:
    try:
        return min(float(answer.headers.get("Retry-After", "1")), RETRY_AFTER_CAP)
    except ValueError:
        return 1.0
