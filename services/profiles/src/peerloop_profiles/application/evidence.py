"""Evidence of people's skills: store each item, then publish the person's new summary.

An item is stored first (idempotently, by its key), then the person's summary of that
skill is recomputed from all their items and saved with its `skill-evidence-changed`
in one write, conditioned on the person's version. The items are read after the
person, so of two writers racing on one person the one saving last counted both items;
a crash between the two steps is repaired by the redelivery, which finds the item and
publishes the summary. Feedback and its session come on different topics, in either
order: a rating whose session is not known yet waits in the store and counts once the
session arrives.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from peerloop_contracts.matching import FeedbackGiven, SessionCompleted

from peerloop_profiles.application.errors import NotTaughtBy, PersonNotFound, SelfEndorsement
from peerloop_profiles.application.ports import EvidenceRepository
from peerloop_profiles.application.use_cases import Profiles
from peerloop_profiles.domain import changes, evidence
from peerloop_profiles.domain.changes import Decision
from peerloop_profiles.domain.errors import PersonErased, SelfTaughtSession
from peerloop_profiles.domain.evidence import EvidenceItem
from peerloop_profiles.domain.model import Person, SkillEvidence

log = logging.getLogger("peerloop.profiles")

DEFAULT_HALF_LIFE = timedelta(days=365)


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Evidence:
    profiles: Profiles
    items: EvidenceRepository
    half_life: timedelta = DEFAULT_HALF_LIFE
    clock: Callable[[], datetime] = field(default=_now)

    async def session_completed(
        self, session: SessionCompleted, *, traceparent: str | None = None
    ) -> None:
        """The teacher taught the skill once more; the learner learned it."""
        if session.learner_id == session.teacher_id:
            raise SelfTaughtSession(session.session_id)
        at = session.completed_at
        await self._add(
            evidence.taught(session.teacher_id, session.session_id, session.skill_id, at),
            traceparent,
        )
        await self._add(
            evidence.learned(session.learner_id, session.session_id, session.skill_id, at),
            traceparent,
        )

    async def feedback_given(
        self, feedback: FeedbackGiven, *, traceparent: str | None = None
    ) -> None:
        """A learner's rating of their teacher; a teacher's rating of a learner is no
        evidence of the learner's skill (they were learning it) and is left out."""
        if feedback.role_of_rated != "teacher" or feedback.from_id == feedback.to_id:
            return
        await self._add(
            evidence.rated(feedback.to_id, feedback.session_id, feedback.rating), traceparent
        )

    async def endorse(
        self,
        learner_id: str,
        helper_id: str,
        skill_id: str,
        *,
        traceparent: str | None = None,
    ) -> SkillEvidence | None:
        """A learner vouches for what a helper taught them; once per learner and skill (a
        repeat changes nothing). The helper's evidence after it is answered."""
        if learner_id == helper_id:
            raise SelfEndorsement(helper_id)
        helper = await self.profiles.get(helper_id)
        if helper.erased:
            raise PersonErased(helper_id)
        learner = await self.profiles.people.get(learner_id)
        if learner is None or not any(
            s.teacher_id == helper_id and s.skill_id == skill_id for s in learner.skills_learned
        ):
            raise NotTaughtBy(learner_id, helper_id, skill_id)
        known = next(
            (
                i
                for i in await self.items.of(helper_id)
                if i.kind is evidence.EvidenceKind.ENDORSED
                and i.skill_id == skill_id
                and i.source == learner_id
            ),
            None,
        )
        item = known or evidence.endorsed(helper_id, skill_id, learner_id, self.clock())
        person = await self._add(item, traceparent)
        return person.evidence_for(skill_id) if person else None

    async def of(self, person_id: str, skill_id: str) -> SkillEvidence | None:
        """The evidence as last published (its score as of its `as_of`)."""
        return (await self.profiles.get(person_id)).evidence_for(skill_id)

    def score_now(self, summary: SkillEvidence) -> float:
        return evidence.score_at(summary, self.clock(), self.half_life)

    async def _add(self, item: EvidenceItem, traceparent: str | None) -> Person | None:
        person = await self.profiles.people.get(item.person_id)
        if person is None or person.erased:
            log.info("evidence about unknown or erased person %s, skipped", item.person_id)
            return None
        await self.items.put(item)

        async def decide(current: Person) -> Decision:
            items = await self.items.of(current.person_id)
            skill_id = evidence.skill_of(items, item)
            summary = evidence.summarise(items, skill_id, self.half_life) if skill_id else None
            return changes.record_evidence(current, summary, self.half_life_days)

        try:
            return await self.profiles.apply(item.person_id, decide, traceparent=traceparent)
        except PersonNotFound:
            return None

    @property
    def half_life_days(self) -> float:
        return self.half_life / timedelta(days=1)
