"""Home: what waits for me, gathered from my inbox and the requests it points at.

Matching lists nobody's requests, so Home follows the links of inbox items (and the
requests asked in this browser session) and reads each request as me.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from peerloop_web.presenting import OPEN_STATES, role_of
from peerloop_web.service_api import ServiceApi, ServiceError

Json = dict[str, Any]
MAX_REQUESTS = 20


@dataclass
class Home:
    proposals_for_me: list[tuple[Json, Json]] = field(default_factory=list)
    my_open_requests: list[Json] = field(default_factory=list)
    upcoming: list[Json] = field(default_factory=list)
    to_confirm: list[Json] = field(default_factory=list)
    to_rate: list[Json] = field(default_factory=list)
    teach_back: list[Json] = field(default_factory=list)
    recent: list[Json] = field(default_factory=list)
    unread: int = 0


async def _read(api: ServiceApi, request_id: str) -> Json | None:
    try:
        return await api.help_request(request_id)
    except ServiceError as exc:
        if exc.status in (403, 404):
            return None
        raise


def _request_ids(asked: list[str], items: list[Json]) -> list[str]:
    ids = dict.fromkeys(asked)
    for item in items:
        rid = (item.get("links") or {}).get("request_id")
        if isinstance(rid, str):
            ids.setdefault(rid)
    return list(ids)[:MAX_REQUESTS]


async def gather_home(api: ServiceApi, asked: list[str]) -> Home:
    inbox = await api.inbox(limit=100)
    items: list[Json] = inbox.get("items", [])
    home = Home(unread=int(inbox.get("unread", 0)))
    home.teach_back = [
        i for i in items if i.get("kind") == "teach-back-invitation" and not i.get("read")
    ]
    requests = await asyncio.gather(*(_read(api, rid) for rid in _request_ids(asked, items)))
    me = api.person_id
    now = datetime.now(UTC)
    for req in requests:
        if req is None:
            continue
        for proposal in req.get("proposals", []):
            if proposal.get("helper_id") == me and proposal.get("status") == "pending":
                home.proposals_for_me.append((req, proposal))
        if req.get("requester_id") == me and req.get("state") in OPEN_STATES:
            home.my_open_requests.append(req)
        session = req.get("session")
        role = role_of(session, me)
        if session is None or role is None:
            continue
        if req.get("state") == "accepted":
            scheduled = session.get("scheduled_at")
            if scheduled and datetime.fromisoformat(scheduled) > now:
                home.upcoming.append(req)
            elif role not in session.get("confirmed_minutes", {}):
                home.to_confirm.append(req)
        elif req.get("state") == "completed" and role not in session.get("feedback", {}):
            home.to_rate.append(req)
    home.recent = [i for i in items if not i.get("read")][:5]
    return home
