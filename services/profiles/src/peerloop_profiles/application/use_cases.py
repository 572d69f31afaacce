"""The profiles use cases: load a person, let the domain decide, save state and events at once.

Every write is a single-document update conditioned on the version that was read,
carrying the events it publishes in the document's outbox, so a change and its
events are stored together or not at all. A client that sends the version it
read gets `VersionConflict` when someone else changed the person meanwhile; a
caller that sends none (the event consumer, a blind update) is retried on a
fresh read instead.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import random
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from peerloop_contracts.common import AwayPeriod, WorkingHours
from peerloop_contracts.matching import SessionCompleted
from peerloop_contracts.states import PersonState
from peerloop_runtime.outbox import OutboxEntry, outbox_entry, tombstone_entry

from peerloop_profiles.application.errors import PersonNotFound, VersionConflict
from peerloop_profiles.application.ports import PersonRepository
from peerloop_profiles.domain import changes
from peerloop_profiles.domain.changes import Decision
from peerloop_profiles.domain.errors import PersonErased
from peerloop_profiles.domain.model import LearningGoal, OfferedSkill, Person, ProfileDetails
from peerloop_profiles.domain.rules import canonical_skill

log = logging.getLogger("peerloop.profiles")

MAX_WRITE_ATTEMPTS = 8
RETRY_PAUSE_SECONDS = 0.01


def _now() -> datetime:
    return datetime.now(UTC)


def _new_person_id() -> str:
    return f"p-{uuid.uuid4().hex[:16]}"


@dataclass
class Profiles:
    people: PersonRepository
    on_outbox: Callable[[str], None] = lambda _person_id: None
    """Told the person id after a write that queued events (wakes the outbox relay)."""
    clock: Callable[[], datetime] = field(default=_now)
    on_erase: Callable[[str], Awaitable[None]] | None = None
    """Forgets what other stores keep about an erased person (their evidence items)."""

    async def register(
        self,
        details: ProfileDetails,
        *,
        person_id: str | None = None,
        weekly_capacity: int,
        away_periods: Iterable[AwayPeriod] = (),
        traceparent: str | None = None,
    ) -> Person:
        decision = changes.register(
            person_id or _new_person_id(),
            details,
            weekly_capacity=weekly_capacity,
            away_periods=away_periods,
        )
        person = decision.person.model_copy(update={"version": 1})
        await self.people.add(person, _entries(decision, traceparent))
        self.on_outbox(person.person_id)
        return person

    async def get(self, person_id: str) -> Person:
        person = await self.people.get(person_id)
        if person is None:
            raise PersonNotFound(person_id)
        return person

    async def update_profile(
        self,
        person_id: str,
        edit: Callable[[ProfileDetails], ProfileDetails],
        *,
        expected_version: int | None = None,
        traceparent: str | None = None,
    ) -> Person:
        """`edit` turns the current details into the new ones (a partial update)."""

        def decide(person: Person) -> Decision:
            if person.details is None:
                raise PersonErased(person_id)
            return changes.update_profile(person, edit(person.details))

        return await self._change(person_id, decide, expected_version, traceparent)

    async def offer_skill(
        self,
        person_id: str,
        offer: OfferedSkill,
        *,
        replace_only: bool = False,
        expected_version: int | None = None,
        traceparent: str | None = None,
    ) -> Person:
        return await self._change(
            person_id,
            lambda p: changes.offer_skill(p, offer, replace_only=replace_only),
            expected_version,
            traceparent,
        )

    async def withdraw_skill(
        self,
        person_id: str,
        skill: str,
        *,
        expected_version: int | None = None,
        traceparent: str | None = None,
    ) -> Person:
        skill_id = canonical_skill(skill)
        return await self._change(
            person_id,
            lambda p: changes.withdraw_skill(p, skill_id),
            expected_version,
            traceparent,
        )

    async def set_learning_goal(
        self,
        person_id: str,
        goal: LearningGoal,
        *,
        expected_version: int | None = None,
        traceparent: str | None = None,
    ) -> Person:
        return await self._change(
            person_id,
            lambda p: changes.set_learning_goal(p, goal),
            expected_version,
            traceparent,
        )

    async def remove_learning_goal(
        self,
        person_id: str,
        skill: str,
        *,
        expected_version: int | None = None,
        traceparent: str | None = None,
    ) -> Person:
        skill_id = canonical_skill(skill)
        return await self._change(
            person_id,
            lambda p: changes.remove_learning_goal(p, skill_id),
            expected_version,
            traceparent,
        )

    async def set_availability(
        self,
        person_id: str,
        *,
        weekly_capacity: int,
        away_periods: Iterable[AwayPeriod],
        working_hours: WorkingHours | None = None,
        time_zone: str | None = None,
        proposals_paused_until: date | None = None,
        expected_version: int | None = None,
        traceparent: str | None = None,
    ) -> Person:
        periods = tuple(away_periods)
        return await self._change(
            person_id,
            lambda p: changes.set_availability(
                p,
                weekly_capacity=weekly_capacity,
                away_periods=periods,
                working_hours=working_hours,
                time_zone=time_zone,
                proposals_paused_until=proposals_paused_until,
            ),
            expected_version,
            traceparent,
        )

    async def set_active(
        self, person_id: str, active: bool, *, traceparent: str | None = None
    ) -> Person:
        """Deactivation by the identity system: out of matching until reactivated."""
        return await self._change(
            person_id, lambda p: changes.set_active(p, active), None, traceparent
        )

    async def erase(
        self,
        person_id: str,
        *,
        expected_version: int | None = None,
        traceparent: str | None = None,
    ) -> Person:
        at = self.clock()
        erased = await self._change(
            person_id, lambda p: changes.erase(p, at), expected_version, traceparent
        )
        if self.on_erase is not None:
            # Also when erased before: an erasure retried after a crash here completes.
            await self.on_erase(person_id)
        return erased

    async def people_offering(
        self, skill: str, *, after: str | None = None, limit: int = 20
    ) -> tuple[str, list[Person]]:
        skill_id = canonical_skill(skill)
        return skill_id, await self.people.offering(skill_id, after=after, limit=limit)

    async def record_session(
        self, session: SessionCompleted, *, traceparent: str | None = None
    ) -> None:
        """The learner gains the skill, the teacher's count goes up; each at most once.

        A person this service does not know (never registered here) is skipped: the
        session still counts for the other participant.
        """
        for person_id, decide in (
            (session.learner_id, lambda p: changes.record_learning(p, session)),
            (session.teacher_id, lambda p: changes.record_teaching(p, session)),
        ):
            try:
                await self._change(person_id, decide, None, traceparent)
            except PersonNotFound:
                log.info("session %s: unknown person %s, skipped", session.session_id, person_id)

    async def apply(
        self,
        person_id: str,
        decide: Callable[[Person], Awaitable[Decision]],
        *,
        traceparent: str | None = None,
    ) -> Person:
        """A change decided from the person and what is read after them (another use case's),
        saved and retried like every change here: a lost race decides again."""
        return await self._change(person_id, decide, None, traceparent)

    async def _change(
        self,
        person_id: str,
        decide: Callable[[Person], Decision | Awaitable[Decision]],
        expected_version: int | None,
        traceparent: str | None,
    ) -> Person:
        for attempt in range(MAX_WRITE_ATTEMPTS):
            if attempt:
                # Jitter spreads writers that lost the same race, so they do not collide again.
                await asyncio.sleep(random.uniform(0, RETRY_PAUSE_SECONDS * attempt))  # noqa: S311
            person = await self.get(person_id)
            if expected_version is not None and person.version != expected_version:
                raise VersionConflict(person_id, expected_version, person.version)
            decided = decide(person)
            decision = await decided if inspect.isawaitable(decided) else decided
            if decision.person == person:
                return person
            stored = decision.person.model_copy(update={"version": person.version + 1})
            if await self.people.save(stored, person.version, _entries(decision, traceparent)):
                if decision.events:
                    self.on_outbox(person.person_id)
                return stored
            if expected_version is not None:
                raise VersionConflict(person_id, expected_version, None)
        raise VersionConflict(person_id, person.version, None)


def _entries(decision: Decision, traceparent: str | None) -> list[OutboxEntry]:
    """The change events, then the person's state after them, in the same write.

    An erasure's state is a tombstone: the compacted topic then forgets the person.
    """
    entries = [outbox_entry(event, traceparent=traceparent) for event in decision.events]
    if not decision.events:
        return entries
    if decision.state is not None:
        entries.append(outbox_entry(decision.state, traceparent=traceparent))
    elif decision.person.erased:
        entries.append(
            tombstone_entry(PersonState, decision.person.person_id, traceparent=traceparent)
        )
    return entries
