"""Suggested times for a proposal: the first slots both people's working hours share.

Read from matching's own read model (time zone, working hours, days away, as the
profile events carried them); a person it does not know yet works 09–17 UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from peerloop_matching.application.help_requests import HelpRequests
from peerloop_matching.domain.candidate import Candidate, Hours
from peerloop_matching.domain.errors import NotFoundError
from peerloop_matching.domain.help_request import HelpRequest
from peerloop_matching.domain.slots import Slot, WorkingWeek, shared_slots


@dataclass(frozen=True)
class Suggestion:
    slots: list[Slot]
    time_zones: dict[str, str]
    """Per participant (requester, helper): the zone their hours were read in."""


def _week(person: Candidate | None) -> WorkingWeek:
    if person is None:
        return WorkingWeek("UTC", Hours())
    return WorkingWeek(person.time_zone, person.hours, person.away)


async def suggest_slots(
    use_cases: HelpRequests,
    request: HelpRequest,
    proposal_id: str,
    *,
    now: datetime,
    days: int,
    limit: int,
) -> Suggestion:
    proposal = next((p for p in request.proposals if p.proposal_id == proposal_id), None)
    if proposal is None:
        raise NotFoundError(f"no proposal {proposal_id} on request {request.request_id}")
    people = [request.requester_id, proposal.helper_id]
    found = [use_cases.sync.index.get(p) or await use_cases.candidates.get(p) for p in people]
    weeks = [_week(person) for person in found]
    slots = shared_slots(
        weeks[0], weeks[1], after=now, days=days, minutes=request.max_minutes, limit=limit
    )
    return Suggestion(slots, {p: w.time_zone for p, w in zip(people, weeks, strict=True)})
