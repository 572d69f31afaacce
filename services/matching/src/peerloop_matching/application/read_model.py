"""Profile events → the candidate read model (and reputation from feedback).

Every handler is idempotent: the store applies a part only if its sequence is
newer, and a rating only once per session and role.

The person's state record (the compacted `person-state` topic) is applied as
every part at once (`apply_state`: an offer the state lacks is withdrawn), and
its sequence becomes a floor: a change event not newer than the state is already
in it and changes nothing, a newer one still applies, and so does its part if it
came before the state. That
is how a fresh deployment with an empty store rebuilds its candidates after the
change events are gone (read the state topic from the beginning, then follow),
and the state and change events may arrive in any order meanwhile.

A change that may let a person help (an offer, availability: capacity, away periods,
hours; a state) wakes the requests waiting for what they offer.
"""

from __future__ import annotations

from peerloop_contracts.envelope import CloudEventMeta
from peerloop_contracts.matching import FeedbackGiven
from peerloop_contracts.profiles import (
    AvailabilityChanged,
    ProfileErased,
    ProfileRegistered,
    ProfileUpdated,
    SkillAcquired,
    SkillEvidenceChanged,
    SkillOffered,
    SkillWithdrawn,
)
from peerloop_contracts.states import PersonState, Tombstone

from peerloop_matching.application.help_requests import HelpRequests
from peerloop_matching.application.index_sync import IndexSync
from peerloop_matching.application.ports import CandidateRepository, PersonParts
from peerloop_matching.domain.candidate import Candidate

ERASED_BY_TOMBSTONE = 0
"""The erased sequence recorded when only the state's tombstone said so (it has none)."""


class CandidateProjection:
    def __init__(self, store: CandidateRepository, sync: IndexSync, requests: HelpRequests) -> None:
        self.store = store
        self.sync = sync
        self.requests = requests

    async def on_profile(
        self, event: ProfileRegistered | ProfileUpdated, _meta: CloudEventMeta
    ) -> None:
        part = {
            "team": event.team,
            "manager_id": event.manager_id,
            "time_zone": event.time_zone,
            "working_hours": event.working_hours.model_dump(),
        }
        await self._changed(await self.store.apply_profile(event.person_id, event.sequence, part))

    async def on_availability(self, event: AvailabilityChanged, _meta: CloudEventMeta) -> None:
        part = {
            "weekly_capacity": event.weekly_capacity,
            "time_zone": event.time_zone,
            "working_hours": event.working_hours.model_dump(),
            "away_periods": [
                {"start": a.start.isoformat(), "end": a.end.isoformat()} for a in event.away_periods
            ],
            "proposals_paused_until": event.proposals_paused_until.isoformat()
            if event.proposals_paused_until
            else None,
        }
        applied = await self.store.apply_availability(event.person_id, event.sequence, part)
        await self._changed(applied)
        # Capacity 0 (gone from the organisation's directory, say) also ends what the
        # helper was still asked: their pending proposals move on. Read from the store,
        # so a redelivered event still moves them, and a stale one no longer does.
        current = applied or await self.store.get(event.person_id)
        if current is not None and current.weekly_capacity == 0:
            await self.requests.withdraw_helper(event.person_id)

    async def on_skill_offered(self, event: SkillOffered, _meta: CloudEventMeta) -> None:
        part = {
            "skill_id": event.skill_id,
            "level": event.level,
            "willing_to_teach": event.willing_to_teach,
            "weekly_capacity": event.weekly_capacity,
            "description": event.description,
            "withdrawn": False,
        }
        applied = await self.store.apply_offer(
            event.person_id, event.skill_id, event.sequence, part
        )
        await self._changed(applied)

    async def on_skill_withdrawn(self, event: SkillWithdrawn, _meta: CloudEventMeta) -> None:
        # Kept as a tombstone with its sequence, so an older offer arriving late stays withdrawn.
        part = {"skill_id": event.skill_id, "withdrawn": True}
        applied = await self.store.apply_offer(
            event.person_id, event.skill_id, event.sequence, part
        )
        self.sync.put(applied)

    async def on_skill_acquired(self, event: SkillAcquired, _meta: CloudEventMeta) -> None:
        # Recorded, but not offered: a learner becomes a candidate when they offer to teach it.
        part = {"skill_id": event.skill_id, "level": event.level}
        applied = await self.store.apply_learned(
            event.person_id, event.skill_id, event.sequence, part
        )
        self.sync.put(applied)

    async def on_skill_evidence_changed(
        self, event: SkillEvidenceChanged, _meta: CloudEventMeta
    ) -> None:
        # For the "why" (and the evidence weight, 0 by default): nothing waits on it.
        part = {
            "skill_id": event.skill_id,
            "score": event.score,
            "as_of": event.as_of.isoformat(),
            "half_life_days": event.half_life_days,
            "sessions_taught": event.sessions_taught,
            "endorsements": event.endorsements,
        }
        applied = await self.store.apply_evidence(
            event.person_id, event.skill_id, event.sequence, part
        )
        self.sync.put(applied)

    async def on_profile_erased(self, event: ProfileErased, _meta: CloudEventMeta) -> None:
        await self._forget(event.person_id, event.sequence)

    async def on_person_state(self, record: PersonState | Tombstone, _meta: CloudEventMeta) -> None:
        if isinstance(record, Tombstone):
            # The erasure itself; `profile-erased` (kept forever) says the same.
            await self._forget(record.key, ERASED_BY_TOMBSTONE)
            return
        hours = record.working_hours.model_dump()
        parts = PersonParts(
            profile={
                "team": record.team,
                "manager_id": record.manager_id,
                "time_zone": record.time_zone,
                "working_hours": hours,
            },
            availability={
                "weekly_capacity": record.weekly_capacity,
                "time_zone": record.time_zone,
                "working_hours": hours,
                "away_periods": [
                    {"start": a.start.isoformat(), "end": a.end.isoformat()}
                    for a in record.away_periods
                ],
                "proposals_paused_until": record.proposals_paused_until.isoformat()
                if record.proposals_paused_until
                else None,
            },
            offers={
                o.skill_id: {
                    "skill_id": o.skill_id,
                    "level": o.level,
                    "willing_to_teach": o.willing_to_teach,
                    "weekly_capacity": o.weekly_capacity,
                    "description": o.description,
                    "withdrawn": False,
                }
                for o in record.offers
            },
            learned={
                s.skill_id: {"skill_id": s.skill_id, "level": s.level} for s in record.learned
            },
        )
        await self._changed(await self.store.apply_state(record.person_id, record.sequence, parts))

    async def _forget(self, person_id: str, sequence: int) -> None:
        await self.requests.forget_person(person_id)
        await self.store.erase(person_id, sequence)
        self.sync.index.remove(person_id)

    async def _changed(self, candidate: Candidate | None) -> None:
        """Into the index first, so the waiting requests it wakes are matched with it. A
        redelivered event changes nothing and wakes nothing; a wake lost to a crash is
        caught up by the waiting sweep."""
        self.sync.put(candidate)
        if candidate is not None:
            await self.requests.wake_for(candidate)

    async def on_feedback(self, event: FeedbackGiven, _meta: CloudEventMeta) -> None:
        # Reputation is a helper's: only ratings of teachers count.
        if event.role_of_rated != "teacher":
            return
        key = f"{event.session_id}:{event.role_of_rated}"
        self.sync.put(await self.store.record_rating(event.to_id, key, event.rating))
