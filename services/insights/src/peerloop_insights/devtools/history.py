"""A generated history of learning events, as profiles and matching would publish it.

Deterministic for a seed: the replay test and the benchmark feed the same history to a
live consumer and to a replay and compare the figures.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from peerloop_contracts import matching, profiles
from peerloop_contracts.base import Event
from peerloop_contracts.envelope import CloudEventMeta

SKILLS = (
    "python", "kubernetes", "mongodb", "kafka", "react", "terraform", "go", "rust",
    "sql", "security", "graphql", "docker", "observability", "java", "typescript", "ml",
)  # fmt: skip
TEAMS = ("billing", "payments", "platform", "search", "mobile", "data", "identity", "growth")

Item = tuple[Event, CloudEventMeta]


def meta_of(event: Event, at: datetime) -> CloudEventMeta:
    return CloudEventMeta(
        source=event.ce_source(), type=event.ce_type(), subject=event.subject, time=at
    )


@dataclass
class History:
    people: int = 200
    seed: int = 7
    start: datetime = field(default_factory=lambda: datetime(2026, 6, 1, tzinfo=UTC))
    days: int = 180
    erase_every: int = 0
    """Erase every n-th person near the end (0: nobody)."""

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)  # noqa: S311 - a reproducible history, not secrets
        self._person_seq: dict[str, int] = {}
        self._n_request = 0

    def _pseq(self, pid: str) -> int:
        self._person_seq[pid] = self._person_seq.get(pid, 0) + 1
        return self._person_seq[pid]

    def _item(self, event: Event, at: datetime) -> Item:
        return event, meta_of(event, at)

    def events(self, limit: int) -> Iterator[Item]:
        """About `limit` events (the people first, then help requests until the limit)."""
        rng = self.rng
        ids = [f"p-{i}" for i in range(self.people)]
        count = 0
        for pid in ids:
            team = rng.choice(TEAMS)
            yield self._item(
                profiles.ProfileRegistered(
                    person_id=pid,
                    display_name=f"Person {pid}",
                    email=f"{pid}@example.com",
                    team=team,
                    time_zone="Europe/Berlin",
                    sequence=self._pseq(pid),
                ),
                self.start,
            )
            count += 1
            for skill in rng.sample(SKILLS, rng.randint(0, 3)):
                yield self._item(self._offer(pid, skill), self.start + timedelta(minutes=1))
                count += 1
        span = timedelta(days=self.days).total_seconds()
        while count < limit:
            at = self.start + timedelta(seconds=rng.uniform(0, span))
            for item in self._request(ids, at):
                yield item
                count += 1
        if self.erase_every:
            end = self.start + timedelta(days=self.days, hours=1)
            for pid in ids[:: self.erase_every]:
                yield self._item(
                    profiles.ProfileErased(person_id=pid, sequence=self._pseq(pid)), end
                )

    def _offer(self, pid: str, skill: str) -> profiles.SkillOffered:
        return profiles.SkillOffered(
            person_id=pid,
            skill_id=skill,
            skill_name=skill.title(),
            level=4,
            weekly_capacity=2,
            sequence=self._pseq(pid),
        )

    def _request(self, ids: list[str], at: datetime) -> Iterator[Item]:
        rng = self.rng
        self._n_request += 1
        rid = f"r-{self._n_request}"
        requester, helper = rng.sample(ids, 2)
        skill = rng.choice(SKILLS)
        seq = 1
        common = {"request_id": rid, "requester_id": requester}
        yield self._item(
            matching.HelpRequested(
                **common, skill_id=skill, desired_level=3, task="help", sequence=seq
            ),
            at,
        )
        fate = rng.random()
        if fate < 0.08:
            seq += 1
            yield self._item(
                matching.HelpRequestUnmatched(
                    **common, skill_id=skill, reason="no_one_offers", sequence=seq
                ),
                at + timedelta(seconds=2),
            )
            return
        if fate < 0.12:
            return  # still waiting
        proposed = at + timedelta(minutes=rng.uniform(0.1, 30))
        seq += 1
        yield self._item(
            matching.MatchProposed(
                **common, proposal_id=f"{rid}-1", helper_id=helper, skill_id=skill, task="help",
                score=0.8, breakdown=[], attempt=1, expires_at=proposed + timedelta(days=1),
                sequence=seq,
            ),
            proposed,
        )  # fmt: skip
        accepted = proposed + timedelta(minutes=rng.uniform(5, 600))
        seq += 1
        yield self._item(
            matching.MatchAccepted(
                **common, proposal_id=f"{rid}-1", helper_id=helper, session_id=f"s-{rid}",
                skill_id=skill, sequence=seq,
            ),
            accepted,
        )  # fmt: skip
        done = accepted + timedelta(hours=rng.uniform(1, 72))
        seq += 1
        if rng.random() < 0.1:
            yield self._item(
                matching.SessionNotHappened(
                    **common, session_id=f"s-{rid}", learner_id=requester, teacher_id=helper,
                    reported_by=helper, sequence=seq,
                ),
                done,
            )  # fmt: skip
            return
        yield self._item(
            matching.SessionCompleted(
                **common, session_id=f"s-{rid}", learner_id=requester, teacher_id=helper,
                skill_id=skill, level=3, duration_minutes=45, completed_at=done, sequence=seq,
            ),
            done,
        )  # fmt: skip
        seq += 1
        yield self._item(
            matching.FeedbackGiven(
                **common, session_id=f"s-{rid}", from_id=requester, to_id=helper,
                role_of_rated="teacher", rating=rng.choice((3, 4, 4, 5, 5)), sequence=seq,
            ),
            done + timedelta(minutes=5),
        )  # fmt: skip
        yield self._item(
            profiles.SkillAcquired(
                person_id=requester, skill_id=skill, skill_name=skill.title(), level=3,
                teacher_id=helper, session_id=f"s-{rid}", acquired_at=done,
                sequence=self._pseq(requester),
            ),
            done,
        )  # fmt: skip
        if rng.random() < 0.3:
            yield self._item(self._offer(requester, skill), done + timedelta(days=1))
