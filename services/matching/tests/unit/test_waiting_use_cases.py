"""A request nobody can take now waits, moves as soon as someone can, ends at its deadline."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import pytest
from matching_fakes import META, START, TTL, Matching
from opentelemetry import trace
from opentelemetry.trace import SpanContext, TraceFlags
from peerloop_contracts.base import Event
from peerloop_contracts.common import AwayPeriod, WorkingHours
from peerloop_contracts.matching import HelpRequestUnmatched, HelpRequestWaiting, MatchProposed
from peerloop_contracts.profiles import AvailabilityChanged
from peerloop_matching.application.help_requests import NewHelpRequest
from peerloop_matching.domain.help_request import HelpRequest
from peerloop_runtime.tracing import current_traceparent

WAIT = timedelta(days=14)


@pytest.fixture
def m() -> Matching:
    return Matching(longest_wait=WAIT)


def _availability(person_id: str, *, away: bool, sequence: int) -> AvailabilityChanged:
    today = START.date()
    return AvailabilityChanged(
        person_id=person_id,
        weekly_capacity=5,
        time_zone="UTC",
        working_hours=WorkingHours(),
        away_periods=[AwayPeriod(start=today, end=today + timedelta(days=3))] if away else [],
        sequence=sequence,
    )


async def test_nobody_offering_the_skill_waits_and_the_first_offer_is_proposed(
    m: Matching,
) -> None:
    await m.person("lea")
    request_id = await m.ask("lea", skill="cobol")
    request = await m.use_cases.get(request_id)
    assert (request.state, request.waiting_reason) == ("waiting", "no_one_offers")
    assert request.wait_until == START + WAIT
    assert m.event_names(request_id) == ["help-requested", "help-request-waiting"]
    waiting = m.requests.events(request_id)[-1]
    assert isinstance(waiting, HelpRequestWaiting) and waiting.until == START + WAIT

    m.clock.advance(timedelta(hours=2))
    await m.person("tom", teaches="cobol")  # the offer event wakes it
    moved = await m.use_cases.get(request_id)
    assert (moved.state, moved.proposals[0].helper_id) == ("proposed", "tom")
    proposed = m.requests.events(request_id)[-1]
    assert isinstance(proposed, MatchProposed) and proposed.waited_since == START


async def test_an_offer_of_a_related_skill_wakes_the_request_too(m: Matching) -> None:
    await m.person("lea")
    request_id = await m.ask("lea", skill="kubernetes")
    related = m.index.related("kubernetes")
    assert related, "the catalogue relates kubernetes to other skills"
    await m.person("tom", teaches=related[0])
    assert (await m.use_cases.get(request_id)).state == "proposed"


async def test_everyone_away_waits_as_all_away_and_moves_when_one_comes_back(
    m: Matching,
) -> None:
    await m.person("tom", teaches="python")
    await m.projection.on_availability(_availability("tom", away=True, sequence=3), META)
    await m.person("lea")
    request_id = await m.ask("lea")
    assert (await m.use_cases.get(request_id)).waiting_reason == "all_away"
    await m.projection.on_availability(_availability("tom", away=False, sequence=4), META)
    assert (await m.use_cases.get(request_id)).state == "proposed"


async def test_capacity_coming_back_by_itself_is_caught_by_the_recheck(m: Matching) -> None:
    await m.person("tom", teaches="python", capacity=1)
    await m.person("max")
    await m.person("lea")
    await m.ask("max")  # tom's only slot, held until the proposal expires
    request_id = await m.ask("lea")
    assert (await m.use_cases.get(request_id)).waiting_reason == "all_at_capacity"
    assert await m.use_cases.recheck_waiting() == 0  # not due yet
    m.clock.advance(TTL + timedelta(minutes=1))  # max's proposal lapsed: tom is free
    assert await m.use_cases.recheck_waiting() == 1
    request = await m.use_cases.get(request_id)
    assert (request.state, request.proposals[0].helper_id) == ("proposed", "tom")


async def test_a_recheck_that_finds_nobody_waits_quietly_until_the_next_one(m: Matching) -> None:
    await m.person("lea")
    request_id = await m.ask("lea", skill="cobol")
    m.clock.advance(timedelta(minutes=6))
    assert await m.use_cases.recheck_waiting() == 0
    request = await m.use_cases.get(request_id)
    assert request.recheck_at == m.clock.now + timedelta(minutes=5)
    assert m.event_names(request_id) == ["help-requested", "help-request-waiting"]


async def test_a_wait_ends_unmatched_at_the_needed_by(m: Matching) -> None:
    await m.person("lea")
    created = await m.use_cases.create(
        NewHelpRequest("lea", "cobol", 2, "a task", needed_by=START + timedelta(days=2))
    )
    await m.use_cases.on_help_requested(m.requested(created.request_id), META)
    assert (await m.use_cases.get(created.request_id)).wait_until == START + timedelta(days=2)
    m.clock.advance(timedelta(days=1))
    assert await m.use_cases.end_waits_due() == 0
    m.clock.advance(timedelta(days=1))
    assert await m.use_cases.end_waits_due() == 1
    request = await m.use_cases.get(created.request_id)
    assert (request.state, request.unmatched_reason) == ("unmatched", "no_one_offers")
    ended = m.requests.events(created.request_id)[-1]
    assert isinstance(ended, HelpRequestUnmatched) and ended.waited_since == START


async def test_the_last_decline_makes_the_request_wait_not_end(m: Matching) -> None:
    await m.person("tom", teaches="python")
    await m.person("lea")
    request_id = await m.ask("lea")
    await m.use_cases.decline(request_id, f"{request_id}.p1", "tom")
    request = await m.use_cases.get(request_id)
    assert (request.state, request.waiting_reason) == ("waiting", "all_declined")
    # A newcomer offering the skill is proposed; tom is not asked twice.
    await m.person("ann", teaches="python")
    request = await m.use_cases.get(request_id)
    assert [p.helper_id for p in request.proposals] == ["tom", "ann"]


async def test_a_waiting_request_can_be_cancelled_and_no_longer_wakes(m: Matching) -> None:
    await m.person("lea")
    request_id = await m.ask("lea", skill="cobol")
    await m.use_cases.cancel(request_id, "lea")
    await m.person("tom", teaches="cobol")
    request = await m.use_cases.get(request_id)
    assert (request.state, request.proposals, request.waiting_reason) == ("cancelled", [], None)


async def test_an_urgent_request_gives_the_helper_less_time_and_says_why(m: Matching) -> None:
    await m.person("tom", teaches="python")
    await m.person("lea")
    created = await m.use_cases.create(
        NewHelpRequest("lea", "python", 2, "prod is down", urgency="high")
    )
    await m.use_cases.on_help_requested(m.requested(created.request_id), META)
    [proposal] = (await m.use_cases.get(created.request_id)).proposals
    assert proposal.expires_at - proposal.proposed_at == TTL / 2.5
    soon = proposal.breakdown[-1]
    assert (soon.name, soon.value) == ("available_soon", 1.0)
    assert soon.explanation == "at work now; high urgency: asked to answer within 1 h 36 min"


async def test_capacity_freed_by_a_decline_goes_to_a_waiting_request_at_once(
    m: Matching,
) -> None:
    await m.person("tom", teaches="python", capacity=1)
    await m.person("max")
    await m.person("lea")
    first = await m.ask("max")  # tom's only slot
    waiting = await m.ask("lea")
    assert (await m.use_cases.get(waiting)).waiting_reason == "all_at_capacity"
    await m.use_cases.decline(first, f"{first}.p1", "tom")
    request = await m.use_cases.get(waiting)
    assert (request.state, request.proposals[0].helper_id) == ("proposed", "tom")
    assert await m.held_by("tom") == [f"pending:{waiting}.p1"]


async def test_a_helper_another_replica_applied_as_the_request_began_to_wait_is_found_soon(
    m: Matching,
) -> None:
    await m.person("lea")
    request_id = await m.ask("lea", skill="cobol")
    # Another replica applied tom's offer: it is in the store (and, after the follower's
    # next pass, in this index), but it woke nothing, the request was not waiting yet.
    await m.candidates.apply_profile("tom", 1, {"team": "tom", "time_zone": "UTC"})
    await m.candidates.apply_offer(
        "tom",
        "cobol",
        2,
        {"skill_id": "cobol", "level": 4, "willing_to_teach": True, "weekly_capacity": 2},
    )
    await m.sync.refresh()
    assert (await m.use_cases.get(request_id)).state == "waiting"
    m.clock.advance(timedelta(seconds=11))  # the first recheck, not the 5-minute one
    assert await m.use_cases.recheck_waiting() == 1
    assert (await m.use_cases.get(request_id)).proposals[0].helper_id == "tom"


async def test_a_proposal_made_later_by_a_wake_up_continues_the_ask_s_trace(
    m: Matching, monkeypatch: pytest.MonkeyPatch
) -> None:
    ask_trace = 0x0AF7651916CD43DD8448EB211C80319C
    http_span = trace.NonRecordingSpan(
        SpanContext(ask_trace, 0x00F067AA0BA902B7, is_remote=False, trace_flags=TraceFlags(1))
    )
    await m.person("lea")
    with trace.use_span(http_span):
        request_id = await m.ask("lea", skill="cobol")  # nobody offers it: it waits
    saved_in: list[str | None] = []
    save = m.requests.save

    async def traced_save(request: HelpRequest, events: Sequence[Event]) -> bool:
        saved_in.append(current_traceparent())
        return await save(request, events)

    monkeypatch.setattr(m.requests, "save", traced_save)
    offer_span = trace.NonRecordingSpan(
        SpanContext(0x1234, 0x5678, is_remote=True, trace_flags=TraceFlags(1))
    )
    with trace.use_span(offer_span):  # the offer's consumer span wakes it
        await m.person("tom", teaches="cobol")
    assert (await m.use_cases.get(request_id)).state == "proposed"
    assert saved_in and all(
        tp is not None and tp.split("-")[1] == format(ask_trace, "032x") for tp in saved_in
    ), saved_in
