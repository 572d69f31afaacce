"""The three services' public HTTP APIs, called with the signed-in person's access token.

Every refusal becomes a `ServiceError` a page can show: which field was wrong (from a
422's `loc`), a sentence for the top of the page, and whether trying again soon helps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

Json = dict[str, Any]
TRY_AGAIN = (
    "The service is busy for a moment. Please try again in a moment; nothing you typed is lost."
)


@dataclass
class ServiceError(Exception):
    status: int
    message: str
    fields: dict[str, str] = field(default_factory=dict)
    retry_after: float | None = None

    @property
    def temporary(self) -> bool:
        return self.status in (502, 503, 504)

    def __str__(self) -> str:
        return f"HTTP {self.status}: {self.message}"


def _field_errors(detail: list[Any]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for problem in detail:
        if not isinstance(problem, dict):
            continue
        loc = [str(part) for part in problem.get("loc", []) if part not in ("body", "query")]
        name = loc[0] if loc else "_"
        message = str(problem.get("msg", "is not valid")).removeprefix("Value error, ")
        fields.setdefault(name, message)
    return fields


def error_from(answer: httpx.Response) -> ServiceError:
    retry_after: float | None = None
    if answer.status_code in (502, 503, 504):
        try:
            retry_after = float(answer.headers.get("Retry-After", "1"))
        except ValueError:
            retry_after = 1.0
        return ServiceError(answer.status_code, TRY_AGAIN, retry_after=retry_after)
    try:
        detail = answer.json().get("detail")
    except ValueError:
        detail = None
    if isinstance(detail, list):
        fields = _field_errors(detail)
        return ServiceError(answer.status_code, "Please correct the marked fields.", fields)
    if answer.status_code == 403:
        text = "You may not do that here"
        return ServiceError(403, f"{text}: {detail}." if detail else f"{text}.")
    if answer.status_code == 404:
        return ServiceError(404, "That no longer exists, or it was never there.")
    if answer.status_code == 409:
        return ServiceError(
            409, f"That changed in the meantime: {detail}." if detail else "That changed meanwhile."
        )
    return ServiceError(
        answer.status_code, str(detail or f"The service answered {answer.status_code}.")
    )


@dataclass
class ServiceUrls:
    profiles: str
    matching: str
    notifications: str
    insights: str = "http://127.0.0.1:8105"


class ServiceApi:
    """One person's view of the services; made per browser request with a fresh token."""

    def __init__(
        self, http: httpx.AsyncClient, urls: ServiceUrls, token: str, person_id: str
    ) -> None:
        self._http = http
        self._urls = urls
        self._token = token
        self.person_id = person_id

    @property
    def urls(self) -> ServiceUrls:
        return self._urls

    @property
    def token(self) -> str:
        return self._token

    async def call(
        self,
        method: str,
        url: str,
        *,
        json: Json | None = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        try:
            answer = await self._http.request(
                method,
                url,
                json=json,
                params=params,
                headers={"Authorization": f"Bearer {self._token}", **(headers or {})},
            )
        except httpx.HTTPError as exc:
            raise ServiceError(503, TRY_AGAIN, retry_after=1.0) from exc
        if answer.status_code >= 400:
            raise error_from(answer)
        return answer.json() if answer.content else {}

    # ------------------------------------------------------------------ profiles

    def _me(self) -> str:
        return f"{self._urls.profiles}/people/{self.person_id}"

    async def person(self, person_id: str | None = None) -> Json:
        who = person_id or self.person_id
        result: Json = await self.call("GET", f"{self._urls.profiles}/people/{who}")
        return result

    async def register(self, body: Json) -> Json:
        result: Json = await self.call(
            "POST", f"{self._urls.profiles}/people", json={"person_id": self.person_id, **body}
        )
        return result

    async def offer_skill(self, body: Json) -> Json:
        result: Json = await self.call("POST", f"{self._me()}/skills", json=body)
        return result

    async def withdraw_skill(self, skill_id: str) -> None:
        await self.call("DELETE", f"{self._me()}/skills/{skill_id}")

    async def set_goal(self, body: Json) -> None:
        await self.call("POST", f"{self._me()}/learning-goals", json=body)

    async def remove_goal(self, skill_id: str) -> None:
        await self.call("DELETE", f"{self._me()}/learning-goals/{skill_id}")

    async def set_availability(self, body: Json) -> None:
        await self.call("PUT", f"{self._me()}/availability", json=body)

    async def people_offering(self, skill: str, after: str | None = None) -> Json:
        params: dict[str, Any] = {"offers": skill, "limit": 50}
        if after:
            params["after"] = after
        result: Json = await self.call("GET", f"{self._urls.profiles}/people", params=params)
        return result

    # ------------------------------------------------------------------ matching

    def _request_url(self, request_id: str) -> str:
        return f"{self._urls.matching}/help-requests/{request_id}"

    async def ask(self, body: Json, idempotency_key: str) -> Json:
        result: Json = await self.call(
            "POST",
            f"{self._urls.matching}/help-requests",
            json=body,
            headers={"Idempotency-Key": idempotency_key},
        )
        return result

    async def help_request(self, request_id: str) -> Json:
        result: Json = await self.call("GET", self._request_url(request_id))
        return result

    async def why(self, request_id: str) -> list[Json]:
        result: list[Json] = await self.call("GET", f"{self._request_url(request_id)}/why")
        return result

    async def proposal_slots(self, request_id: str, proposal_id: str) -> list[Json]:
        """The first times both people's working hours share, for this proposal."""
        result: Json = await self.call(
            "GET", f"{self._request_url(request_id)}/proposals/{proposal_id}/slots"
        )
        slots: list[Json] = result.get("slots", [])
        return slots

    async def act(self, request_id: str, path: str, body: Json | None = None) -> Json:
        """A step on a request: `cancel`, `proposals/{id}/accept`, `session/confirm`, ..."""
        result: Json = await self.call(
            "POST", f"{self._request_url(request_id)}/{path}", json=body or {}
        )
        return result

    # ------------------------------------------------------------------ insights

    @staticmethod
    def _figures_params(window: str, team: str | None) -> dict[str, Any]:
        return {"window": window, **({"team": team} if team else {})}

    async def insights(self, window: str, team: str | None) -> Json:
        result: Json = await self.call(
            "GET", f"{self._urls.insights}/insights", params=self._figures_params(window, team)
        )
        return result

    async def insights_csv(self, section: str, window: str, team: str | None) -> httpx.Response:
        try:
            answer = await self._http.get(
                f"{self._urls.insights}/insights/export/{section}.csv",
                params=self._figures_params(window, team),
                headers={"Authorization": f"Bearer {self._token}"},
            )
        except httpx.HTTPError as exc:
            raise ServiceError(503, TRY_AGAIN, retry_after=1.0) from exc
        if answer.status_code >= 400:
            raise error_from(answer)
        return answer

    # ------------------------------------------------------------------ notifications

    def _inbox(self) -> str:
        return f"{self._urls.notifications}/people/{self.person_id}"

    async def inbox(self, limit: int = 50) -> Json:
        """The first page of the inbox; empty while notifications has not heard of me."""
        try:
            result: Json = await self.call(
                "GET", f"{self._inbox()}/inbox", params={"limit": limit, "offset": 0}
            )
        except ServiceError as exc:
            if exc.status == 404:
                return {"items": [], "total": 0, "unread": 0}
            raise
        return result

    async def mark_read(self, notification_id: str) -> None:
        await self.call("POST", f"{self._inbox()}/inbox/{notification_id}/read")

    async def mark_all_read(self) -> None:
        await self.call("POST", f"{self._inbox()}/inbox/read-all")

    def inbox_stream_url(self) -> str:
        return f"{self._inbox()}/inbox/stream"

    async def preferences(self) -> Json:
        result: Json = await self.call("GET", f"{self._inbox()}/preferences")
        return result

    async def set_preferences(self, version: int, preferences: Json) -> Json:
        result: Json = await self.call(
            "PUT",
            f"{self._inbox()}/preferences",
            json={"expected_version": version, "preferences": preferences},
        )
        return result

    async def new_calendar_feed(self) -> str:
        """A new private feed URL of my sessions (the previous one stops working)."""
        result: Json = await self.call("POST", f"{self._inbox()}/calendar-feed")
        return str(result["url"])

    async def revoke_calendar_feed(self) -> None:
        await self.call("DELETE", f"{self._inbox()}/calendar-feed")
