"""What the use cases need from storage: the help requests and matching's view of people.

The Mongo adapters (`adapters/request_store.py`, `adapters/candidate_store.py`) and
the in-memory fakes (`adapters/memory_requests.py`, `adapters/memory_candidates.py`)
both honour these contracts, atomicity included; `tests/contract` runs the same
assertions against both.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from peerloop_contracts.base import Event

from peerloop_matching.domain.candidate import Candidate, Reservation
from peerloop_matching.domain.help_request import HelpRequest
from peerloop_matching.domain.programmes.programme import Programme
from peerloop_matching.domain.task_fit import PastTask

Part = dict[str, Any]
"""One part of a person as an event describes it (profile, availability, one skill)."""


@dataclass(frozen=True)
class PersonParts:
    """Every part of a person as one state record gives them, all at one sequence."""

    profile: Part
    availability: Part
    offers: dict[str, Part]
    """skill id -> offer part: every skill offered; a stored offer not here is withdrawn."""
    learned: dict[str, Part]


class HelpRequestRepository(Protocol):
    async def insert(self, request: HelpRequest, events: Sequence[Event]) -> bool:
        """Store a new request with its events; False (nothing written) if its id is taken."""
        ...

    async def load(self, request_id: str) -> HelpRequest | None: ...

    async def save(self, request: HelpRequest, events: Sequence[Event]) -> bool:
        """Store the new state and append its events in one atomic write, only if the stored
        `version` is still `request.version`; then bump `request.version` and return True.
        False (nothing written, `request.version` unchanged) if someone else saved first."""
        ...

    async def due_for_expiry(self, now: datetime, limit: int = 100) -> list[str]:
        """Ids of proposed requests whose pending proposal expired at or before `now`."""
        ...

    async def waiting_for(self, skill_ids: Sequence[str], limit: int = 100) -> list[str]:
        """Ids of waiting requests for any of these skills, by skill then oldest first."""
        ...

    async def recheck_due(self, now: datetime, limit: int = 100) -> list[str]:
        """Ids of waiting requests whose `recheck_at` is at or before `now`, earliest first."""
        ...

    async def waits_over(self, now: datetime, limit: int = 100) -> list[str]:
        """Ids of waiting requests whose `wait_until` is at or before `now`, earliest first."""
        ...

    async def requested_by(self, person_id: str) -> list[HelpRequest]: ...

    async def helped_by(self, person_id: str) -> list[HelpRequest]:
        """Requests with a proposal to `person_id`."""
        ...

    async def tasks_taught(self, helper_ids: Sequence[str], per_helper: int) -> list[PastTask]:
        """The tasks of the latest completed sessions each of these people taught (at most
        `per_helper` each), for `task_fit`."""
        ...

    async def delete(self, request_id: str) -> None:
        """Forget the request (its requester was erased); its state topic gets a tombstone."""
        ...

    async def overwrite(self, request: HelpRequest) -> None:
        """Rewrite the state without events and without a version check (erasure only);
        the rewritten state is published on the state topic."""
        ...


class CandidateRepository(Protocol):
    # -- the read model, from profile events: a part is written only if its sequence is
    #    newer than the stored one, never about an erased person. Each returns the
    #    person after the write, or None when nothing changed.

    async def apply_profile(
        self, person_id: str, sequence: int, part: Part
    ) -> Candidate | None: ...

    async def apply_availability(
        self, person_id: str, sequence: int, part: Part
    ) -> Candidate | None: ...

    async def apply_offer(
        self, person_id: str, skill_id: str, sequence: int, part: Part
    ) -> Candidate | None:
        """One offered (or, with `withdrawn`, withdrawn) skill; each skill has its own sequence."""
        ...

    async def apply_learned(
        self, person_id: str, skill_id: str, sequence: int, part: Part
    ) -> Candidate | None: ...

    async def apply_evidence(
        self, person_id: str, skill_id: str, sequence: int, part: Part
    ) -> Candidate | None:
        """One skill's evidence. The person state does not carry evidence, so a state
        applied meanwhile is no floor for it: only its own older sequence is replaced."""
        ...

    async def apply_state(
        self, person_id: str, sequence: int, parts: PersonParts
    ) -> Candidate | None:
        """Every part as one person state says, at its sequence (an offer it lacks is
        withdrawn), except parts a newer event wrote; from then on no event up to
        `sequence` changes the person. None when nothing changed."""
        ...

    async def erase(self, person_id: str, sequence: int) -> None:
        """Leave a tombstone without personal data (later events cannot bring the person
        back) and drop them from everyone's partners."""
        ...

    async def get(self, person_id: str) -> Candidate | None:
        """The person, or None if unknown or erased."""
        ...

    async def erased(self, person_id: str) -> bool:
        """Whether the person was erased (as opposed to not known yet)."""
        ...

    def changed_since(
        self, watermark: datetime | None
    ) -> AsyncIterator[tuple[str, Candidate | None, datetime]]:
        """(person id, candidate or None when erased, updated_at), oldest change first."""
        ...

    # -- load and reputation: optimistic read-modify-write, safe against concurrent writers.

    async def reserve(
        self, person_id: str, reservation: Reservation, now: datetime
    ) -> Candidate | None:
        """Hold one unit of capacity if the helper can take it (`domain.capacity.take`);
        the helper after it, or None if they cannot. Never past capacity, however many
        reserve at once; reserving one proposal twice holds it once."""
        ...

    async def release(
        self, person_id: str, proposal_id: str, holder: str | None = None
    ) -> Candidate | None:
        """Drop the proposal's reservation (idempotent); the helper after it. With `holder`,
        only if that attempt made it (a lost race leaves the winner's alone)."""
        ...

    async def hold_for_session(
        self,
        person_id: str,
        *,
        proposal_id: str,
        request_id: str,
        skill_id: str,
        learner_id: str,
        now: datetime,
    ) -> Candidate | None:
        """Turn the proposal's reservation into a session's and remember the pairing (once)."""
        ...

    async def record_rating(self, person_id: str, key: str, rating: int) -> Candidate | None:
        """Add a rating once per `key`: a redelivered rating changes nothing."""
        ...


class PairingBlockRepository(Protocol):
    """People who asked not to be paired with someone again (both ways: neither is proposed
    to the other). Only the person who asked sees whom they named."""

    async def add(self, person_id: str, other_id: str, now: datetime) -> None:
        """Idempotent: asking twice keeps one block."""
        ...

    async def asked_by(self, person_id: str) -> list[str]:
        """Whom `person_id` asked not to be paired with, sorted."""
        ...

    async def pairs_involving(self, person_ids: Collection[str]) -> list[tuple[str, str]]:
        """Every block with at least one of `person_ids` on either side."""
        ...

    async def forget(self, person_id: str) -> None:
        """Erasure: every block naming the person goes."""
        ...


class ProgrammeRepository(Protocol):
    async def insert(self, programme: Programme, events: Sequence[Event]) -> None:
        """Store a new programme with its events."""
        ...

    async def load(self, programme_id: str) -> Programme | None: ...

    async def save(self, programme: Programme, events: Sequence[Event]) -> bool:
        """As `HelpRequestRepository.save`: state and events in one write, only if the stored
        `version` is still `programme.version` (then bumped); False if someone saved first."""
        ...
