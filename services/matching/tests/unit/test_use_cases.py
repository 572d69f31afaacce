"""Every help-request use case over the in-memory stores (asking, proposing, answering,
sessions, feedback, cancelling, expiry), with its idempotency and conflicts."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta

import pytest
from matching_fakes import META, TTL, Matching
from peerloop_contracts.matching import MatchDeclined, MatchExpired, SessionCompleted
from peerloop_contracts.profiles import ProfileErased
from peerloop_matching.application.help_requests import NewHelpRequest
from peerloop_matching.application.slots import suggest_slots
from peerloop_matching.domain.errors import (
    ErasedPersonError,
    IdempotencyKeyReusedError,
    InvalidTransitionError,
    NotAllowedError,
    NotFoundError,
    StaleVersionError,
    UnknownPersonError,
)


@pytest.fixture
def m() -> Matching:
    return Matching()


async def _proposed(m: Matching, *helpers: str, capacity: int = 2) -> tuple[str, str]:
    """`lea` asks for python; the helpers teach it. The request id and the helper asked."""
    await m.person("lea")
    for helper in helpers:
        await m.person(helper, teaches="python", capacity=capacity)
    request_id = await m.ask("lea")
    request = await m.use_cases.get(request_id)
    assert request.state == "proposed"
    return request_id, request.proposals[-1].helper_id


async def _accepted(m: Matching) -> tuple[str, str]:
    request_id, helper = await _proposed(m, "tom")
    await m.use_cases.accept(request_id, f"{request_id}.p1", helper)
    return request_id, helper


async def _completed(m: Matching) -> tuple[str, str]:
    request_id, helper = await _accepted(m)
    await m.use_cases.confirm(request_id, "lea")
    await m.use_cases.confirm(request_id, helper, minutes=45)
    return request_id, helper


# -- asking ----------------------------------------------------------------------------------


async def test_asking_stores_the_request_with_its_event_and_wakes_the_relay(m: Matching) -> None:
    await m.person("lea")
    request = await m.use_cases.create(NewHelpRequest("lea", "K8s", 2, "a pod restarts"))
    assert (request.state, request.skill_id, request.version) == ("requested", "kubernetes", 0)
    assert m.event_names(request.request_id) == ["help-requested"]
    assert m.woken == [request.request_id]


async def test_a_requester_matching_has_not_heard_of_is_told_to_retry(m: Matching) -> None:
    with pytest.raises(UnknownPersonError, match="has not received the profile"):
        await m.use_cases.create(NewHelpRequest("nobody", "python", 2, "a task"))
    assert m.requests.requests == {}


async def test_an_erased_requester_is_refused_at_once_not_told_to_retry(m: Matching) -> None:
    await m.person("gone")
    await m.projection.on_profile_erased(ProfileErased(person_id="gone", sequence=5), META)
    with pytest.raises(ErasedPersonError, match="was erased"):
        await m.use_cases.create(NewHelpRequest("gone", "python", 2, "a task"))
    assert m.requests.requests == {}


async def test_an_ask_retried_with_its_key_returns_the_first_request(m: Matching) -> None:
    await m.person("lea")
    ask = NewHelpRequest("lea", "python", 2, "a task")
    first, replayed_first = await m.use_cases.create_once(ask, "key-1")
    again, replayed_again = await m.use_cases.create_once(ask, "key-1")
    assert (replayed_first, replayed_again) == (False, True)
    assert again.request_id == first.request_id
    assert m.event_names(first.request_id) == ["help-requested"]
    assert len(m.requests.requests) == 1


async def test_a_key_reused_for_another_ask_is_refused(m: Matching) -> None:
    await m.person("lea")
    await m.use_cases.create_once(NewHelpRequest("lea", "python", 2, "a task"), "key-1")
    with pytest.raises(IdempotencyKeyReusedError):
        await m.use_cases.create_once(NewHelpRequest("lea", "python", 3, "other"), "key-1")


async def test_one_key_of_two_requesters_names_two_requests(m: Matching) -> None:
    await m.person("lea")
    await m.person("max")
    a, _ = await m.use_cases.create_once(NewHelpRequest("lea", "python", 2, "a task"), "k")
    b, _ = await m.use_cases.create_once(NewHelpRequest("max", "python", 2, "a task"), "k")
    assert a.request_id != b.request_id


async def test_reading_an_unknown_request_is_not_found(m: Matching) -> None:
    with pytest.raises(NotFoundError):
        await m.use_cases.get("r-missing")


# -- proposing -------------------------------------------------------------------------------


async def test_help_requested_proposes_a_helper_and_reserves_their_capacity(m: Matching) -> None:
    request_id, helper = await _proposed(m, "tom")
    assert helper == "tom"
    assert m.event_names(request_id) == ["help-requested", "match-proposed"]
    assert await m.held_by("tom") == [f"pending:{request_id}.p1"]
    assert m.index.get("tom").reservations != ()  # type: ignore[union-attr]


async def test_a_redelivered_help_requested_changes_nothing(m: Matching) -> None:
    request_id, _ = await _proposed(m, "tom")
    await m.use_cases.on_help_requested(m.requested(request_id), META)
    assert m.event_names(request_id) == ["help-requested", "match-proposed"]
    assert len(await m.held_by("tom")) == 1


async def test_nobody_offering_the_skill_leaves_the_request_unmatched(m: Matching) -> None:
    await m.person("lea")
    request = await m.use_cases.get(await m.ask("lea", skill="cobol"))
    assert (request.state, request.unmatched_reason) == ("unmatched", "no_one_offers")
    assert m.event_names(request.request_id) == ["help-requested", "help-request-unmatched"]


async def test_a_helper_at_capacity_is_not_proposed_again(m: Matching) -> None:
    await _proposed(m, "tom", capacity=1)
    await m.person("max")
    blocked = await m.use_cases.get(await m.ask("max"))
    assert (blocked.state, blocked.unmatched_reason) == ("unmatched", "all_at_capacity")


async def test_concurrent_matches_never_take_a_helper_past_capacity(m: Matching) -> None:
    await m.person("tom", teaches="python", capacity=2)
    asking = [f"q{i}" for i in range(5)]
    created = []
    for q in asking:
        await m.person(q)
        created.append(await m.use_cases.create(NewHelpRequest(q, "python", 2, "a task")))
    await asyncio.gather(
        *(m.use_cases.on_help_requested(m.requested(r.request_id), META) for r in created)
    )
    states = sorted([(await m.use_cases.get(r.request_id)).state for r in created])
    assert states == ["proposed", "proposed", "unmatched", "unmatched", "unmatched"]
    assert len(await m.held_by("tom")) == 2


async def test_a_helper_the_index_thought_free_but_the_store_has_full_is_skipped(
    m: Matching,
) -> None:
    await m.person("lea")
    await m.person("tom", teaches="python", capacity=1)
    await m.person("max")
    await m.ask("max")  # tom's only slot
    # Another replica's view: the index has not seen tom's reservation yet.
    tom = m.index.get("tom")
    assert tom is not None
    m.index.put(dataclasses.replace(tom, reservations=()))
    request = await m.use_cases.get(await m.ask("lea"))
    assert (request.state, request.unmatched_reason) == ("unmatched", "all_at_capacity")
    assert len(m.index.get("tom").reservations) == 1  # type: ignore[union-attr]


async def test_a_match_that_loses_its_save_releases_the_helper(
    m: Matching, monkeypatch: pytest.MonkeyPatch
) -> None:
    await m.person("lea")
    await m.person("tom", teaches="python", capacity=1)
    request = await m.use_cases.create(NewHelpRequest("lea", "python", 2, "a task"))
    real_save = m.requests.save

    async def cancelled_meanwhile(req, events):  # type: ignore[no-untyped-def]
        # The requester cancels between the match's load and its save.
        monkeypatch.setattr(m.requests, "save", real_save)
        await m.use_cases.cancel(req.request_id, "lea")
        assert await m.held_by("tom") == [f"pending:{req.request_id}.p1"]
        return await real_save(req, events)

    monkeypatch.setattr(m.requests, "save", cancelled_meanwhile)
    await m.use_cases.on_help_requested(m.requested(request.request_id), META)
    stored = await m.use_cases.get(request.request_id)
    assert (stored.state, stored.proposals) == ("cancelled", [])
    assert await m.held_by("tom") == []


# -- accept / decline / re-propose -----------------------------------------------------------


async def test_a_decline_releases_the_helper_and_proposes_the_next(m: Matching) -> None:
    request_id, first = await _proposed(m, "tom", "ann")
    request = await m.use_cases.decline(request_id, f"{request_id}.p1", first, reason="busy")
    second = request.proposals[1].helper_id
    assert {first, second} == {"tom", "ann"}
    assert (request.state, request.proposals[0].status) == ("proposed", "declined")
    assert await m.held_by(first) == []
    assert await m.held_by(second) == [f"pending:{request_id}.p2"]
    declined = m.requests.events(request_id)[2]
    assert isinstance(declined, MatchDeclined) and declined.will_retry


async def test_the_last_decline_leaves_the_request_unmatched(m: Matching) -> None:
    request_id, helper = await _proposed(m, "tom")
    request = await m.use_cases.decline(request_id, f"{request_id}.p1", helper)
    assert (request.state, request.unmatched_reason) == ("unmatched", "all_declined")
    declined = m.requests.events(request_id)[2]
    assert isinstance(declined, MatchDeclined) and not declined.will_retry
    assert m.event_names(request_id)[-1] == "help-request-unmatched"


async def test_only_the_proposed_helper_answers(m: Matching) -> None:
    request_id, _ = await _proposed(m, "tom")
    await m.person("eve", teaches="go")
    with pytest.raises(NotAllowedError):
        await m.use_cases.accept(request_id, f"{request_id}.p1", "eve")
    with pytest.raises(NotAllowedError):
        await m.use_cases.decline(request_id, f"{request_id}.p1", "eve")


async def test_accepting_opens_a_session_and_holds_the_helper_for_it(m: Matching) -> None:
    request_id, helper = await _accepted(m)
    request = await m.use_cases.get(request_id)
    assert request.state == "accepted" and request.session is not None
    assert (request.session.learner_id, request.session.teacher_id) == ("lea", helper)
    assert await m.held_by(helper) == [f"session:{request_id}.p1"]
    assert (await m.candidates.get(helper)).partners == ("lea",)  # type: ignore[union-attr]
    assert m.event_names(request_id)[-1] == "match-accepted"


async def test_an_answered_proposal_cannot_be_answered_again(m: Matching) -> None:
    request_id, helper = await _accepted(m)
    with pytest.raises(InvalidTransitionError):
        await m.use_cases.accept(request_id, f"{request_id}.p1", helper)
    with pytest.raises(InvalidTransitionError):
        await m.use_cases.decline(request_id, f"{request_id}.p1", helper)


async def test_acting_on_a_stale_version_is_a_conflict(m: Matching) -> None:
    request_id, helper = await _proposed(m, "tom")
    current = (await m.use_cases.get(request_id)).version
    with pytest.raises(StaleVersionError, match="version"):
        await m.use_cases.accept(
            request_id, f"{request_id}.p1", helper, expected_version=current - 1
        )
    accepted = await m.use_cases.accept(
        request_id, f"{request_id}.p1", helper, expected_version=current
    )
    assert accepted.version == current + 1


# -- confirm, not happened, feedback ---------------------------------------------------------


async def test_both_confirmations_complete_the_session_with_the_teachers_minutes(
    m: Matching,
) -> None:
    request_id, helper = await _accepted(m)
    first = await m.use_cases.confirm(request_id, "lea", minutes=30)
    assert first.state == "accepted" and m.event_names(request_id)[-1] == "match-accepted"
    done = await m.use_cases.confirm(request_id, helper, minutes=45)
    completed = m.requests.events(request_id)[-1]
    assert done.state == "completed"
    assert isinstance(completed, SessionCompleted) and completed.duration_minutes == 45


async def test_a_participant_confirms_once_and_strangers_not_at_all(m: Matching) -> None:
    request_id, _ = await _accepted(m)
    await m.use_cases.confirm(request_id, "lea")
    with pytest.raises(InvalidTransitionError, match="already confirmed"):
        await m.use_cases.confirm(request_id, "lea")
    with pytest.raises(NotAllowedError):
        await m.use_cases.confirm(request_id, "eve")


async def test_a_session_that_did_not_happen_frees_the_helper(m: Matching) -> None:
    request_id, helper = await _accepted(m)
    request = await m.use_cases.report_not_happened(request_id, helper)
    assert request.state == "not_happened"
    assert await m.held_by(helper) == []
    assert m.event_names(request_id)[-1] == "session-not-happened"


async def test_feedback_on_a_completed_session_is_given_once_per_participant(
    m: Matching,
) -> None:
    request_id, helper = await _completed(m)
    await m.use_cases.give_feedback(request_id, "lea", rating=5, comment="clear")
    await m.use_cases.give_feedback(request_id, helper, rating=4)
    assert m.event_names(request_id)[-2:] == ["feedback-given", "feedback-given"]
    with pytest.raises(InvalidTransitionError, match="already gave feedback"):
        await m.use_cases.give_feedback(request_id, "lea", rating=1)


async def test_feedback_needs_a_completed_session(m: Matching) -> None:
    request_id, _ = await _accepted(m)
    with pytest.raises(InvalidTransitionError, match="completed session"):
        await m.use_cases.give_feedback(request_id, "lea", rating=5)


# -- cancel ----------------------------------------------------------------------------------


async def test_cancelling_a_proposed_request_releases_the_helper(m: Matching) -> None:
    request_id, helper = await _proposed(m, "tom")
    request = await m.use_cases.cancel(request_id, "lea", reason="solved")
    assert (request.state, request.proposals[0].status) == ("cancelled", "cancelled")
    assert await m.held_by(helper) == []
    assert m.event_names(request_id)[-1] == "help-request-cancelled"


async def test_only_the_requester_cancels_and_only_an_open_request(m: Matching) -> None:
    request_id, helper = await _proposed(m, "tom")
    with pytest.raises(NotAllowedError):
        await m.use_cases.cancel(request_id, helper)
    await m.use_cases.accept(request_id, f"{request_id}.p1", helper)
    with pytest.raises(InvalidTransitionError):
        await m.use_cases.cancel(request_id, "lea")


# -- expiry ----------------------------------------------------------------------------------


async def test_the_sweep_moves_an_expired_proposal_on_to_the_next_helper(m: Matching) -> None:
    request_id, first = await _proposed(m, "tom", "ann")
    assert await m.use_cases.expire_due() == 0  # not yet
    m.clock.advance(TTL)
    assert await m.use_cases.expire_due() == 1
    request = await m.use_cases.get(request_id)
    assert [p.status for p in request.proposals] == ["expired", "pending"]
    assert request.proposals[1].helper_id != first
    assert await m.held_by(first) == []
    expired = m.requests.events(request_id)[2]
    assert isinstance(expired, MatchExpired) and expired.will_retry
    assert await m.use_cases.expire_due() == 0  # the new proposal has its own time


async def test_an_expiry_with_nobody_left_leaves_the_request_unmatched(m: Matching) -> None:
    request_id, _ = await _proposed(m, "tom")
    m.clock.advance(TTL)
    assert await m.use_cases.expire_due() == 1
    request = await m.use_cases.get(request_id)
    assert request.state == "unmatched"
    expired = m.requests.events(request_id)[2]
    assert isinstance(expired, MatchExpired) and not expired.will_retry


async def test_the_sweep_skips_a_proposal_answered_meanwhile(m: Matching) -> None:
    request_id, helper = await _proposed(m, "tom")
    await m.use_cases.accept(request_id, f"{request_id}.p1", helper)
    m.clock.advance(TTL)
    assert await m.use_cases.expire_due() == 0
    assert (await m.use_cases.get(request_id)).state == "accepted"


async def test_a_moved_session_keeps_the_helper_and_a_called_off_one_frees_them(
    m: Matching,
) -> None:
    request_id, helper = await _accepted(m)
    later = m.clock.now + timedelta(days=2)
    moved = await m.use_cases.reschedule(request_id, helper, scheduled_at=later)
    assert moved.session is not None and moved.session.scheduled_at == later
    assert await m.held_by(helper) == [f"session:{request_id}.p1"]
    called_off = await m.use_cases.cancel_session(request_id, "lea", reason="solved it")
    assert called_off.state == "cancelled"
    assert await m.held_by(helper) == []
    assert m.event_names(request_id)[-2:] == ["session-rescheduled", "session-cancelled"]
    with pytest.raises(NotAllowedError):
        await m.use_cases.reschedule(request_id, "eve", scheduled_at=later)


async def test_slots_come_from_both_peoples_working_hours(m: Matching) -> None:
    request_id, helper = await _accepted(m)
    request = await m.use_cases.get(request_id)
    suggestion = await suggest_slots(
        m.use_cases, request, f"{request_id}.p1", now=m.clock.now, days=7, limit=2
    )
    assert suggestion.time_zones == {"lea": "UTC", helper: "UTC"}
    assert len(suggestion.slots) == 2
    assert [s.start.hour for s in suggestion.slots] == [10, 11]  # from now, in 09–17 UTC
    with pytest.raises(NotFoundError):
        await suggest_slots(m.use_cases, request, "r-x.p9", now=m.clock.now, days=7, limit=2)
