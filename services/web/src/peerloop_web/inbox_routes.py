"""The inbox: unread first, marking read, and new items live (server-sent events)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse

from peerloop_web.context import Csrf, Person, render, state_of
from peerloop_web.service_api import ServiceError

router = APIRouter()

ITEM_LINKS = {
    "match-proposed": "/requests/{request_id}/proposals/{proposal_id}",
    "match-accepted": "/requests/{request_id}/session",
    "session-reminder": "/requests/{request_id}/session",
    "session-completed": "/requests/{request_id}/session",
    "feedback-received": "/requests/{request_id}/session",
    "match-declined": "/requests/{request_id}",
    "match-expired": "/requests/{request_id}",
    "help-request-unmatched": "/requests/{request_id}",
    "help-request-waiting": "/requests/{request_id}",
    "help-request-moved": "/requests/{request_id}",
    "help-request-cancelled": "/requests/{request_id}",
    "teach-back-invitation": "/profile?offer={skill_id}&level={level}#skills",
}


def link_of(item: dict[str, object]) -> str | None:
    """Where an inbox item leads; None when it names nothing to open."""
    pattern = ITEM_LINKS.get(str(item.get("kind")))
    links = item.get("links")
    if pattern is None or not isinstance(links, dict):
        return None
    try:
        return pattern.format(**links)
    except KeyError:
        return None


async def _inbox_page(who: Person, request: Request, template: str, **extra: Any) -> Response:
    problem = None
    try:
        inbox = await who.api.inbox(limit=100)
    except ServiceError as exc:
        inbox, problem = {"items": [], "unread": 0, "total": 0}, exc.message
    return await render(
        who, request, template, inbox=inbox, link_of=link_of, problem=problem, **extra
    )


@router.get("/inbox")
async def inbox(who: Person, request: Request) -> Response:
    return await _inbox_page(who, request, "inbox.html")


@router.get("/inbox/list")
async def inbox_list(who: Person, request: Request) -> Response:
    return await _inbox_page(who, request, "_inbox_list.html", fragment=True)


@router.post("/inbox/{notification_id}/read", dependencies=[Csrf])
async def mark_read(who: Person, notification_id: str) -> Response:
    try:
        await who.api.mark_read(notification_id)
    except ServiceError as exc:
        who.session.flash(exc.message)
    return RedirectResponse("/inbox", status_code=303)


@router.post("/inbox/read-all", dependencies=[Csrf])
async def mark_all_read(who: Person) -> Response:
    try:
        await who.api.mark_all_read()
    except ServiceError as exc:
        who.session.flash(exc.message)
    return RedirectResponse("/inbox", status_code=303)


@router.get("/inbox/stream")
async def stream(who: Person, request: Request) -> Response:
    """The notifications service's stream for me, passed through as it comes."""
    http = state_of(request).http
    upstream = http.build_request(
        "GET",
        who.api.inbox_stream_url(),
        headers={"Authorization": f"Bearer {who.api.token}", "Accept": "text/event-stream"},
        timeout=httpx.Timeout(10.0, read=None),
    )
    answer = await http.send(upstream, stream=True)
    if answer.status_code != 200:
        await answer.aclose()
        # Nothing to stream yet (a person notifications has not heard of): the page polls.
        return Response(status_code=204)

    async def frames() -> AsyncIterator[bytes]:
        try:
            async for chunk in answer.aiter_raw():
                yield chunk
        finally:
            await answer.aclose()

    return StreamingResponse(
        frames(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
