"""Use cases of a help request: create, match, answer, cancel, confirm, rate, expire, forget,
and wait: a request nobody can take now waits, and is tried again when a person who
could help appears (`wake_for`), on a timer (`recheck_waiting`), until its wait ends
(`end_waits_due`).

Each command loads the request, decides with the aggregate (and the engine when a
helper must be found), and saves state and events in one conditional update of
the request's document. Capacity lives on the helper's document, so it is
reserved before the save and released again if the save loses a race; releasing
or converting after a successful save is idempotent, and a reservation that was
never released stops counting when its proposal expires.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from peerloop_contracts.base import Event
from peerloop_contracts.common import SessionFormat, Urgency
from peerloop_contracts.envelope import CloudEventMeta, utc_now
from peerloop_contracts.matching import HelpRequested, WaitingReason
from peerloop_contracts.skills import SkillCatalogue
from peerloop_runtime.tracing import current_traceparent, resuming

from peerloop_matching.application.index_sync import IndexSync
from peerloop_matching.application.org_rules import OrgRules
from peerloop_matching.application.ports import CandidateRepository, HelpRequestRepository
from peerloop_matching.application.task_fit import TaskFit
from peerloop_matching.domain.availability import week_mask, week_start
from peerloop_matching.domain.candidate import Candidate, Reservation, iso_week
from peerloop_matching.domain.engine import Need, find_helpers
from peerloop_matching.domain.errors import (
    DomainError,
    ErasedPersonError,
    IdempotencyKeyReusedError,
    InvalidTransitionError,
    NotFoundError,
    StaleVersionError,
    UnknownPersonError,
)
from peerloop_matching.domain.help_request import (
    MATCHABLE_STATES,
    HelpRequest,
    idempotent_request_id,
)
from peerloop_matching.domain.scoring import Requester, Weights
from peerloop_matching.domain.task_fit import PAST_TASKS
from peerloop_matching.domain.urgency import (
    favour_sooner,
    minutes_until_working,
    pressure,
    proposal_ttl,
)
from peerloop_matching.domain.waiting import (
    can_help_now,
    skills_to_wake,
    wait_until,
    waiting_reason,
)

log = logging.getLogger("peerloop.matching")

MAX_SAVE_TRIES = 5
WITHDRAWN_REASON = "the helper is no longer available"
SHORTLIST = 20
"""Best helpers ranked per round; each is asked for capacity until one has it."""
MAX_MATCH_ROUNDS = 3
"""Rounds when the index was behind the store on the shortlisted helpers' load."""
WAKE_BATCH = 100
"""Waiting requests tried again per person who changed (oldest first) or per sweep."""
WAKE_ON_RELEASE = 5
"""Waiting requests tried again when a helper's hold is released: one slot came free."""

AfterSave = Callable[[], Awaitable[Candidate | None]]


@dataclass(frozen=True)
class MatchingPolicy:
    weights: Weights = field(default_factory=Weights)
    proposal_ttl: timedelta = timedelta(days=1)
    requester_wait: timedelta = timedelta(seconds=5)
    """How long an ask waits for matching to learn of a requester who just registered."""
    longest_wait: timedelta = timedelta(days=14)
    """A request nobody can take waits at most this long (from its creation), or until its
    `needed_by` if sooner, then ends unmatched."""
    recheck_every: timedelta = timedelta(minutes=5)
    """A waiting request is tried again this often even without an event about a helper."""
    first_recheck: timedelta = timedelta(seconds=10)
    """A request that just began to wait is tried again this soon: a helper another replica
    applied in the instant this one matched with an index a moment behind woke nothing
    (the request was not waiting yet), and is in every index after it."""


@dataclass(frozen=True)
class NewHelpRequest:
    requester_id: str
    skill: str
    desired_level: int
    task: str
    needed_by: datetime | None = None
    urgency: Urgency = "normal"
    format: SessionFormat = "call"
    max_minutes: int = 60


@dataclass
class _Decision:
    events: list[Event]
    held: tuple[str, str, str] | None = None
    """(helper, proposal) whose capacity was reserved for this decision."""
    after: list[AfterSave] = field(default_factory=list)


Decide = Callable[[HelpRequest, datetime], Awaitable[_Decision]]


class HelpRequests:
    def __init__(
        self,
        requests: HelpRequestRepository,
        candidates: CandidateRepository,
        sync: IndexSync,
        catalogue: SkillCatalogue,
        policy: MatchingPolicy,
        on_outbox: Callable[[str], None] = lambda _request_id: None,
        clock: Callable[[], datetime] = utc_now,
        rules: OrgRules | None = None,
        task_fit: TaskFit | None = None,
    ) -> None:
        self.task_fit = task_fit
        """None: no embedding model, so no `task_fit` in the score."""
        self.requests = requests
        self.candidates = candidates
        self.sync = sync
        self.catalogue = catalogue
        self.policy = policy
        self.on_outbox = on_outbox
        self.clock = clock
        self.rules = rules or OrgRules(sync.index)

    # -- queries ---------------------------------------------------------------------------

    async def get(self, request_id: str) -> HelpRequest:
        request = await self.requests.load(request_id)
        if request is None:
            raise NotFoundError(f"no help request {request_id}")
        return request

    # -- commands --------------------------------------------------------------------------

    async def create(self, command: NewHelpRequest) -> HelpRequest:
        request, _replayed = await self.create_once(command)
        return request

    async def create_once(
        self, command: NewHelpRequest, idempotency_key: str | None = None
    ) -> tuple[HelpRequest, bool]:
        """Create a request; with a key, a retried ask returns the first one instead.

        A client whose POST timed out, or met a store outage, cannot know whether the
        request was stored; retrying with the same key cannot ask twice. The second
        value says whether the request already existed.
        """
        await self._wait_for_requester(command.requester_id)
        request_id = (
            f"r-{uuid.uuid4().hex[:16]}"
            if idempotency_key is None
            else idempotent_request_id(command.requester_id, idempotency_key)
        )
        request, events = HelpRequest.create(
            request_id=request_id,
            requester_id=command.requester_id,
            skill_id=self.catalogue.canonical(command.skill),
            desired_level=command.desired_level,
            task=command.task,
            needed_by=command.needed_by,
            urgency=command.urgency,
            format=command.format,
            max_minutes=command.max_minutes,
            created_at=self.clock(),
            traceparent=current_traceparent(),
        )
        if await self.requests.insert(request, events):
            self.on_outbox(request.request_id)
            return request, False
        stored = await self.requests.load(request_id)
        if stored is None or not stored.asks_the_same_as(request):
            # None: erased since; the key cannot name a new ask either.
            raise IdempotencyKeyReusedError(
                f"idempotency key {idempotency_key!r} was already used for another help request"
            )
        # Its events may still wait in the outbox if the first attempt died after storing.
        self.on_outbox(request_id)
        return stored, True

    async def _wait_for_requester(self, requester_id: str) -> None:
        """A person who registered a moment ago is not refused while matching catches up."""
        deadline = asyncio.get_running_loop().time() + self.policy.requester_wait.total_seconds()
        while await self.candidates.get(requester_id) is None:
            if await self.candidates.erased(requester_id):
                raise ErasedPersonError(f"{requester_id} was erased and can ask for no help")
            if asyncio.get_running_loop().time() >= deadline:
                raise UnknownPersonError(
                    f"matching has not received the profile of {requester_id} yet "
                    "(just registered, or no profile yet); retry in a moment"
                )
            await asyncio.sleep(0.2)

    async def on_help_requested(self, event: HelpRequested, _meta: CloudEventMeta) -> None:
        """Find the first helper. A redelivered event finds the request already past it."""
        for _ in range(MAX_SAVE_TRIES):
            request = await self.requests.load(event.request_id)
            if request is None or request.state != "requested" or request.proposals:
                return  # another service's test history, erased, cancelled, or already matched
            now = self.clock()
            events, held = await self._match(request, now)
            if await self._commit(request, _Decision(events, held)):
                return
        raise RuntimeError(f"help request {event.request_id} kept changing while matching")

    async def decline(
        self,
        request_id: str,
        proposal_id: str,
        helper_id: str,
        *,
        reason: str | None = None,
        expected_version: int | None = None,
    ) -> HelpRequest:
        async def decide(request: HelpRequest, now: datetime) -> _Decision:
            events = request.decline(
                proposal_id, helper_id, reason=reason, now=now, will_retry=True
            )
            more, held = await self._match(request, now)
            if held is None and request.programme_id is None:
                events = [events[0].model_copy(update={"will_retry": False})]
            return _Decision(
                [*events, *more],
                held,
                [self._freed(helper_id, proposal_id)],
            )

        return await self._run(request_id, decide, expected_version)

    async def accept(
        self,
        request_id: str,
        proposal_id: str,
        helper_id: str,
        *,
        scheduled_at: datetime | None = None,
        expected_version: int | None = None,
    ) -> HelpRequest:
        async def decide(request: HelpRequest, now: datetime) -> _Decision:
            events = request.accept(proposal_id, helper_id, scheduled_at=scheduled_at, now=now)
            return _Decision(
                events,
                after=[
                    lambda: self.candidates.hold_for_session(
                        helper_id,
                        proposal_id=proposal_id,
                        request_id=request.request_id,
                        skill_id=request.skill_id,
                        learner_id=request.requester_id,
                        now=now,
                    )
                ],
            )

        return await self._run(request_id, decide, expected_version)

    async def cancel(
        self,
        request_id: str,
        actor: str,
        *,
        reason: str | None = None,
        expected_version: int | None = None,
    ) -> HelpRequest:
        async def decide(request: HelpRequest, now: datetime) -> _Decision:
            pending = request.pending
            events = request.cancel(actor, reason=reason, now=now)
            after: list[AfterSave] = []
            if pending is not None:
                after.append(self._freed(pending.helper_id, pending.proposal_id))
            return _Decision(events, after=after)

        return await self._run(request_id, decide, expected_version)

    async def confirm(
        self,
        request_id: str,
        actor: str,
        *,
        minutes: int | None = None,
        expected_version: int | None = None,
    ) -> HelpRequest:
        async def decide(request: HelpRequest, now: datetime) -> _Decision:
            return _Decision(request.confirm(actor, minutes=minutes, now=now))

        return await self._run(request_id, decide, expected_version)

    async def reschedule(
        self,
        request_id: str,
        actor: str,
        *,
        scheduled_at: datetime,
        expected_version: int | None = None,
    ) -> HelpRequest:
        async def decide(request: HelpRequest, now: datetime) -> _Decision:
            return _Decision(request.reschedule(actor, scheduled_at=scheduled_at, now=now))

        return await self._run(request_id, decide, expected_version)

    async def cancel_session(
        self,
        request_id: str,
        actor: str,
        *,
        reason: str | None = None,
        expected_version: int | None = None,
    ) -> HelpRequest:
        async def decide(request: HelpRequest, _now: datetime) -> _Decision:
            events = request.cancel_session(actor, reason=reason)
            accepted = next(p for p in request.proposals if p.status == "accepted")
            return _Decision(
                events,
                after=[lambda: self.candidates.release(accepted.helper_id, accepted.proposal_id)],
            )

        return await self._run(request_id, decide, expected_version)

    async def report_not_happened(
        self, request_id: str, actor: str, *, expected_version: int | None = None
    ) -> HelpRequest:
        async def decide(request: HelpRequest, _now: datetime) -> _Decision:
            events = request.report_not_happened(actor)
            accepted = next(p for p in request.proposals if p.status == "accepted")
            return _Decision(
                events,
                after=[self._freed(accepted.helper_id, accepted.proposal_id)],
            )

        return await self._run(request_id, decide, expected_version)

    async def give_feedback(
        self,
        request_id: str,
        actor: str,
        *,
        rating: int,
        comment: str | None = None,
        expected_version: int | None = None,
    ) -> HelpRequest:
        async def decide(request: HelpRequest, now: datetime) -> _Decision:
            return _Decision(request.give_feedback(actor, rating=rating, comment=comment, now=now))

        return await self._run(request_id, decide, expected_version)

    async def expire_due(self) -> int:
        """Move every proposal past its expiry on to the next helper; how many were moved."""
        moved = 0
        for request_id in await self.requests.due_for_expiry(self.clock()):
            try:
                await self._run(request_id, self._expire, None, resume=True)
                moved += 1
            except DomainError as exc:
                log.debug("not expiring %s: %s", request_id, exc)
        return moved

    async def withdraw_helper(self, person_id: str) -> int:
        """A helper who takes no more requests: each proposal still waiting on them is
        declined on their behalf and moves on to the next helper; how many moved."""
        moved = 0
        for request in await self.requests.helped_by(person_id):
            pending = request.pending
            if pending is None or pending.helper_id != person_id:
                continue
            try:
                await self.decline(
                    request.request_id, pending.proposal_id, person_id, reason=WITHDRAWN_REASON
                )
                moved += 1
            except (InvalidTransitionError, StaleVersionError):
                continue  # answered, cancelled or moved on meanwhile
        return moved

    async def wake_for(self, candidate: Candidate, *, limit: int = WAKE_BATCH) -> int:
        """A person changed who may now help: try the requests waiting for what they offer,
        oldest first; how many were proposed. Replicas racing for one request are kept
        apart by its version: one proposal wins, the other finds it no longer waiting."""
        now = self.clock()
        if not can_help_now(candidate, now.date(), now):
            return 0
        skills = skills_to_wake(candidate, self.sync.index.related)
        return await self._wake(await self.requests.waiting_for(skills, limit=limit))

    async def recheck_waiting(self) -> int:
        """Try waiting requests whose recheck is due: capacity also comes back by itself
        (a new week, an unanswered proposal's hold lapsing), and people back from away."""
        return await self._wake(await self.requests.recheck_due(self.clock(), limit=WAKE_BATCH))

    async def end_waits_due(self) -> int:
        """End every wait past its `needed_by` or the longest wait; how many ended."""
        ended = 0
        for request_id in await self.requests.waits_over(self.clock(), limit=WAKE_BATCH):
            try:
                await self._run(
                    request_id,
                    lambda request, now: self._decided(request.end_wait(now=now)),
                    None,
                    resume=True,
                )
                ended += 1
            except DomainError as exc:
                log.debug("not ending the wait of %s: %s", request_id, exc)
        return ended

    async def forget_person(self, person_id: str) -> None:
        """Erasure: drop their requests, and their name and words from requests they helped with."""
        await self.rules.forget(person_id)
        for request in await self.requests.requested_by(person_id):
            for proposal in request.holds_capacity_of():
                self.sync.put(
                    await self.candidates.release(proposal.helper_id, proposal.proposal_id)
                )
            await self.requests.delete(request.request_id)
            self.on_outbox(request.request_id)  # the tombstone of its state
        for request in await self.requests.helped_by(person_id):
            request.forget(person_id)
            # The redacted state replaces the published one: a sequence no change event has.
            request.sequence += 1
            await self.requests.overwrite(request)
            self.on_outbox(request.request_id)

    # -- internals -------------------------------------------------------------------------

    def _freed(self, helper_id: str, proposal_id: str) -> AfterSave:
        """Release a helper's hold; the capacity it frees goes to a request waiting for them
        at once (declined, expired, cancelled, not happened), not at the next recheck."""

        async def release() -> Candidate | None:
            helper = await self.candidates.release(helper_id, proposal_id)
            if helper is not None:
                self.sync.put(helper)
                await self.wake_for(helper, limit=WAKE_ON_RELEASE)
            return helper

        return release

    @staticmethod
    async def _decided(events: list[Event]) -> _Decision:
        return _Decision(events)

    async def _wake(self, request_ids: list[str]) -> int:
        proposed = 0
        for request_id in request_ids:
            try:
                request = await self._run(request_id, self._try_again, None, resume=True)
            except DomainError as exc:
                log.debug("not trying %s again: %s", request_id, exc)
                continue
            proposed += request.state == "proposed"
        return proposed

    async def _try_again(self, request: HelpRequest, now: datetime) -> _Decision:
        if request.state != "waiting":
            raise InvalidTransitionError(f"request {request.request_id} no longer waits")
        events, held = await self._match(request, now)
        return _Decision(events, held)

    async def _expire(self, request: HelpRequest, now: datetime) -> _Decision:
        pending = request.pending
        events = request.expire(now=now, will_retry=True)
        assert pending is not None  # expire() refuses a request without one
        more, held = await self._match(request, now)
        if held is None and request.programme_id is None:
            events = [events[0].model_copy(update={"will_retry": False})]
        return _Decision(
            [*events, *more],
            held,
            [self._freed(pending.helper_id, pending.proposal_id)],
        )

    async def _run(
        self,
        request_id: str,
        decide: Decide,
        expected_version: int | None,
        *,
        resume: bool = False,
    ) -> HelpRequest:
        """`resume`: work nobody asked for just now (sweeps, wake-ups) joins the ask's trace."""
        for _ in range(MAX_SAVE_TRIES):
            request = await self.get(request_id)
            if expected_version is not None and request.version != expected_version:
                raise StaleVersionError(
                    f"help request {request_id} is at version {request.version}, "
                    f"not {expected_version}: reload it and try again"
                )
            with resuming("matching revisit", request.traceparent if resume else None):
                decision = await decide(request, self.clock())
                committed = await self._commit(request, decision)
            if committed:
                return request
        raise StaleVersionError(f"help request {request_id} is changing too fast; try again")

    async def _commit(self, request: HelpRequest, decision: _Decision) -> bool:
        if not await self.requests.save(request, decision.events):
            if decision.held is not None:
                self.sync.put(await self.candidates.release(*decision.held))
            return False
        if decision.events:
            self.on_outbox(request.request_id)
        for step in decision.after:
            self.sync.put(await step())
        return True

    async def _match(
        self, request: HelpRequest, now: datetime
    ) -> tuple[list[Event], tuple[str, str, str] | None]:
        """Propose the best helper who still has capacity, or wait (saying why there is none)."""
        if request.state not in MATCHABLE_STATES:
            raise InvalidTransitionError(f"request {request.request_id} is {request.state}")
        if request.programme_id is not None:
            return [], None  # the programme places its mentee again (`Programmes.on_declined`)
        org = await self.rules.org_around(request.requester_id)
        need = Need(
            skill_id=request.skill_id,
            desired_level=request.desired_level,
            requester=await self._requester(request.requester_id, now),
            tried=request.tried_helpers | org.excluded_upfront(request.requester_id),
        )
        pressed = pressure(request.urgency, request.needed_by, now)
        ttl = proposal_ttl(self.policy.proposal_ttl, pressed, request.needed_by, now)
        monday = week_start(now)
        fit_weight = self.policy.weights.task_fit
        task_vector = (
            self.task_fit.task_vector(request.task)
            if self.task_fit is not None and fit_weight > 0
            else None
        )  # once per request, whatever the rounds
        for _ in range(MAX_MATCH_ROUNDS):
            outcome = org.allowed(
                need,
                lambda need: find_helpers(
                    need, self.sync.index, weights=self.policy.weights, now=now, limit=SHORTLIST
                ),
            )
            if not outcome.ranked:
                assert outcome.unmatched_reason is not None
                reason = waiting_reason(
                    outcome.unmatched_reason, unavailable=outcome.unavailable, away=outcome.away
                )
                return self._wait(request, reason, outcome.detail, now), None
            ranked = outcome.ranked
            if self.task_fit is not None and task_vector is not None:
                past = await self.requests.tasks_taught(
                    [s.candidate.person_id for s in ranked], PAST_TASKS
                )
                ranked = self.task_fit.rerank(task_vector, ranked, fit_weight, past)
            minutes = (
                {
                    s.candidate.person_id: minutes_until_working(
                        week_mask(s.candidate.time_zone, s.candidate.hours, monday), now
                    )
                    for s in ranked
                }
                if pressed.level > 0
                else {}  # only a pressing request looks at who is at work sooner
            )
            for scored in favour_sooner(ranked, minutes, pressed, ttl):
                helper = scored.candidate.person_id
                reservation = Reservation(
                    proposal_id=request.next_proposal_id(),
                    request_id=request.request_id,
                    skill_id=scored.skill_id,
                    week=iso_week(now),
                    kind="pending",
                    created_at=now,
                    expires_at=now + ttl,
                    holder=secrets.token_hex(8),
                )
                reserved = await self.candidates.reserve(helper, reservation, now)
                if reserved is not None:
                    self.sync.put(reserved)
                    events = request.propose(scored, now=now, ttl=ttl)
                    return events, (helper, reservation.proposal_id, reservation.holder)
                # The index was behind the store about this helper: catch up, so the next
                # round ranks them by what the store says.
                fresh = await self.candidates.get(helper)
                if fresh is None:
                    self.sync.index.remove(helper)
                else:
                    self.sync.put(fresh)
        detail = "every helper found reached capacity while being asked"
        return self._wait(request, "all_at_capacity", detail, now), None

    def _wait(
        self, request: HelpRequest, reason: WaitingReason, detail: str, now: datetime
    ) -> list[Event]:
        return request.wait(
            reason,
            detail,
            now=now,
            until=wait_until(request.created_at, request.needed_by, self.policy.longest_wait),
            recheck_at=now + self._recheck_after(request),
        )

    def _recheck_after(self, request: HelpRequest) -> timedelta:
        if request.state == "waiting":
            return self.policy.recheck_every
        return min(self.policy.first_recheck, self.policy.recheck_every)

    async def _requester(self, person_id: str, now: datetime) -> Requester:
        person = self.sync.index.get(person_id) or await self.candidates.get(person_id)
        if person is None:
            return Requester(person_id=person_id, team="", week_mask=0)
        return Requester(
            person_id=person_id,
            team=person.team,
            week_mask=week_mask(person.time_zone, person.hours, week_start(now)),
        )
