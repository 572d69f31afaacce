"""The matching use cases wired to the in-memory stores: memory speed, no infrastructure."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from peerloop_contracts.base import Event
from peerloop_contracts.envelope import CloudEventMeta
from peerloop_contracts.matching import HelpRequested
from peerloop_contracts.profiles import ProfileRegistered, SkillOffered
from peerloop_contracts.skills import default_catalogue
from peerloop_matching.adapters.memory_candidates import InMemoryCandidates
from peerloop_matching.adapters.memory_pairing_blocks import InMemoryPairingBlocks
from peerloop_matching.adapters.memory_programmes import InMemoryProgrammes
from peerloop_matching.adapters.memory_requests import InMemoryHelpRequests
from peerloop_matching.application.help_requests import (
    HelpRequests,
    MatchingPolicy,
    NewHelpRequest,
)
from peerloop_matching.application.index_sync import IndexSync
from peerloop_matching.application.org_rules import OrgRules
from peerloop_matching.application.programmes import Programmes
from peerloop_matching.application.read_model import CandidateProjection
from peerloop_matching.application.task_fit import TaskFit
from peerloop_matching.bootstrap import related_both_ways
from peerloop_matching.domain.scoring import Weights
from peerloop_matching.domain.skill_index import SkillIndex

META = CloudEventMeta(source="test", type="test", subject="test")
START = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)  # a Wednesday
TTL = timedelta(hours=4)


def registered(
    person_id: str, *, team: str | None = None, manager_id: str | None = None
) -> ProfileRegistered:
    """A person on their own team (unless `team`), in UTC."""
    return ProfileRegistered(
        person_id=person_id,
        display_name=person_id,
        email=f"{person_id}@example.com",
        team=team or f"team-{person_id}",
        manager_id=manager_id,
        time_zone="UTC",
        sequence=1,
    )


def offered(
    person_id: str, skill: str, *, level: int = 4, capacity: int = 2, description: str = ""
) -> SkillOffered:
    return SkillOffered(
        person_id=person_id,
        skill_id=skill,
        skill_name=skill,
        level=level,
        weekly_capacity=capacity,
        description=description,
        sequence=2,
    )


@dataclass
class Clock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, by: timedelta) -> None:
        self.now += by


@dataclass
class Matching:
    requests: InMemoryHelpRequests = field(default_factory=InMemoryHelpRequests)
    candidates: InMemoryCandidates = field(default_factory=InMemoryCandidates)
    clock: Clock = field(default_factory=Clock)
    woken: list[str] = field(default_factory=list)
    blocks: InMemoryPairingBlocks = field(default_factory=InMemoryPairingBlocks)
    programme_store: InMemoryProgrammes = field(default_factory=InMemoryProgrammes)
    longest_wait: timedelta = timedelta(0)
    """0: a request nobody can take ends unmatched at once; more: it waits that long."""
    task_fit: TaskFit | None = None
    weights: Weights = field(default_factory=Weights)

    def __post_init__(self) -> None:
        catalogue = default_catalogue()
        self.index = SkillIndex(related=related_both_ways(catalogue))
        self.sync = IndexSync(self.candidates, self.index)
        self.rules = OrgRules(self.index, self.blocks)
        policy = MatchingPolicy(
            weights=self.weights,
            proposal_ttl=TTL,
            requester_wait=timedelta(0),
            longest_wait=self.longest_wait,
        )
        self.use_cases = HelpRequests(
            self.requests,
            self.candidates,
            self.sync,
            catalogue,
            policy,
            on_outbox=self.woken.append,
            clock=self.clock,
            rules=self.rules,
            task_fit=self.task_fit,
        )
        self.programmes = Programmes(
            self.programme_store,
            self.requests,
            self.sync,
            catalogue,
            self.rules,
            policy,
            clock=self.clock,
        )
        self.projection = CandidateProjection(self.candidates, self.sync, self.use_cases)

    async def person(
        self,
        person_id: str,
        *,
        teaches: str | None = None,
        level: int = 4,
        capacity: int = 2,
        team: str | None = None,
        manager_id: str | None = None,
        description: str = "",
    ) -> None:
        """A registered person, teaching `teaches` if given (each their own team unless
        `team`)."""
        await self.projection.on_profile(
            registered(person_id, team=team, manager_id=manager_id), META
        )
        if teaches is not None:
            await self.projection.on_skill_offered(
                offered(
                    person_id, teaches, level=level, capacity=capacity, description=description
                ),
                META,
            )

    async def ask(
        self, requester: str, skill: str = "python", level: int = 2, task: str = "a task"
    ) -> str:
        """Create a request and deliver its help-requested event: matched or unmatched."""
        request = await self.use_cases.create(NewHelpRequest(requester, skill, level, task))
        await self.use_cases.on_help_requested(self.requested(request.request_id), META)
        return request.request_id

    def requested(self, request_id: str) -> HelpRequested:
        first = self.requests.events(request_id)[0]
        assert isinstance(first, HelpRequested)
        return first

    def event_names(self, request_id: str) -> list[str]:
        return [_name(e) for e in self.requests.events(request_id)]

    async def held_by(self, helper: str) -> list[str]:
        candidate = await self.candidates.get(helper)
        assert candidate is not None
        return [f"{r.kind}:{r.proposal_id}" for r in candidate.reservations]


def _name(event: Event) -> str:
    return type(event).event_name
