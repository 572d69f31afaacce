"""Help requests in memory, with the contract of the Mongo store (for unit tests).

Loads hand out copies, as a store does, so a use case that changes a request it
loaded changes nothing until it saves; a save checks the version it was loaded at.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from peerloop_contracts.base import Event
from peerloop_contracts.envelope import utc_now
from peerloop_contracts.states import HelpRequestState, Tombstone

from peerloop_matching.domain.help_request import HelpRequest
from peerloop_matching.domain.request_state import help_request_state
from peerloop_matching.domain.task_fit import PastTask


@dataclass
class InMemoryHelpRequests:
    requests: dict[str, HelpRequest] = field(default_factory=dict)
    outbox: dict[str, list[Event]] = field(default_factory=dict)
    """Every event saved per request, in order (a relay would publish and drop them)."""
    states: dict[str, list[HelpRequestState | Tombstone]] = field(default_factory=dict)
    """Every state record queued per request, in order, as the Mongo store queues them."""

    async def insert(self, request: HelpRequest, events: Sequence[Event]) -> bool:
        if request.request_id in self.requests:
            return False
        self.requests[request.request_id] = request.model_copy(deep=True)
        self.outbox[request.request_id] = list(events)
        self._state(request, events)
        return True

    async def load(self, request_id: str) -> HelpRequest | None:
        stored = self.requests.get(request_id)
        return stored.model_copy(deep=True) if stored is not None else None

    async def save(self, request: HelpRequest, events: Sequence[Event]) -> bool:
        stored = self.requests.get(request.request_id)
        if stored is None or stored.version != request.version:
            return False
        request.version += 1
        self.requests[request.request_id] = request.model_copy(deep=True)
        self.outbox[request.request_id].extend(events)
        self._state(request, events)
        return True

    async def due_for_expiry(self, now: datetime, limit: int = 100) -> list[str]:
        return [
            r.request_id
            for r in self.requests.values()
            if r.state == "proposed" and (p := r.pending) is not None and p.expires_at <= now
        ][:limit]

    def _waiting(self) -> list[HelpRequest]:
        return [r for r in self.requests.values() if r.state == "waiting"]

    async def waiting_for(self, skill_ids: Sequence[str], limit: int = 100) -> list[str]:
        wanted = set(skill_ids)
        found = sorted(
            (r.skill_id, r.created_at, r.request_id)
            for r in self._waiting()
            if r.skill_id in wanted
        )
        return [request_id for _s, _c, request_id in found][:limit]

    async def recheck_due(self, now: datetime, limit: int = 100) -> list[str]:
        found = sorted(
            (r.recheck_at, r.request_id)
            for r in self._waiting()
            if r.recheck_at is not None and r.recheck_at <= now
        )
        return [request_id for _at, request_id in found][:limit]

    async def waits_over(self, now: datetime, limit: int = 100) -> list[str]:
        found = sorted(
            (r.wait_until, r.request_id)
            for r in self._waiting()
            if r.wait_until is not None and r.wait_until <= now
        )
        return [request_id for _at, request_id in found][:limit]

    async def requested_by(self, person_id: str) -> list[HelpRequest]:
        return [
            r.model_copy(deep=True) for r in self.requests.values() if r.requester_id == person_id
        ]

    async def helped_by(self, person_id: str) -> list[HelpRequest]:
        return [
            r.model_copy(deep=True)
            for r in self.requests.values()
            if any(p.helper_id == person_id for p in r.proposals)
        ]

    async def tasks_taught(self, helper_ids: Sequence[str], per_helper: int) -> list[PastTask]:
        taught = sorted(
            (
                r
                for r in self.requests.values()
                if r.state == "completed" and r.session and r.session.teacher_id in helper_ids
            ),
            key=lambda r: r.created_at,
            reverse=True,
        )
        found: list[PastTask] = []
        for helper in helper_ids:
            mine = [r for r in taught if r.session and r.session.teacher_id == helper]
            found += [PastTask(r.request_id, helper, r.task) for r in mine[:per_helper]]
        return found

    async def delete(self, request_id: str) -> None:
        self.requests.pop(request_id, None)
        self.outbox.pop(request_id, None)
        self.states.setdefault(request_id, []).append(Tombstone(HelpRequestState, request_id))

    async def overwrite(self, request: HelpRequest) -> None:
        if request.request_id in self.requests:
            self.requests[request.request_id] = request.model_copy(deep=True)
            self.states.setdefault(request.request_id, []).append(
                help_request_state(request, utc_now())
            )

    def _state(self, request: HelpRequest, events: Sequence[Event]) -> None:
        if events:
            self.states.setdefault(request.request_id, []).append(
                help_request_state(request, utc_now())
            )

    def events(self, request_id: str) -> list[Event]:
        return list(self.outbox.get(request_id, ()))
