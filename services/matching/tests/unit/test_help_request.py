"""Every transition of a help request: allowed ones with their events, refused ones with why."""

from __future__ import annotations

from datetime import timedelta

import pytest
from matching_builders import NOW, person
from peerloop_matching.domain.errors import InvalidTransitionError, NotAllowedError
from peerloop_matching.domain.help_request import HelpRequest, idempotent_request_id
from peerloop_matching.domain.scoring import Component, Scored

TTL = timedelta(hours=1)
WAIT = timedelta(days=14)
RECHECK = timedelta(minutes=5)


def _scored(helper: str) -> Scored:
    return Scored(
        candidate=person(helper),
        skill_id="python",
        components=(Component("skill_fit", 0.3, 1.0, "offers python"),),
    )


def _new() -> HelpRequest:
    request, events = HelpRequest.create(
        request_id="r-1",
        requester_id="req",
        skill_id="python",
        desired_level=3,
        task="fix the flaky test",
        created_at=NOW,
    )
    assert [e.event_name for e in events] == ["help-requested"]
    return request


def _at(state: str) -> HelpRequest:
    """A request driven to `state` through the real transitions."""
    request = _new()
    if state == "requested":
        return request
    if state == "unmatched":
        request.give_up("no_one_offers", "nobody")
        return request
    if state == "cancelled":
        request.cancel("req", reason=None, now=NOW)
        return request
    if state == "waiting":
        request.wait("no_one_offers", "nobody", now=NOW, until=NOW + WAIT, recheck_at=NOW + RECHECK)
        return request
    request.propose(_scored("h1"), now=NOW, ttl=TTL)
    if state == "proposed":
        return request
    if state == "declined":  # declined, waiting for the next helper
        request.decline("r-1.p1", "h1", reason="busy", now=NOW, will_retry=True)
        return request
    request.accept("r-1.p1", "h1", scheduled_at=None, now=NOW)
    if state == "accepted":
        return request
    if state == "not_happened":
        request.report_not_happened("req")
        return request
    request.confirm("req", minutes=30, now=NOW)
    request.confirm("h1", minutes=45, now=NOW)
    assert state == "completed"
    return request


ACTIONS = {
    "propose h2": lambda r: r.propose(_scored("h2"), now=NOW, ttl=TTL),
    "give up": lambda r: r.give_up("all_declined", "all asked"),
    "h1 declines": lambda r: r.decline("r-1.p1", "h1", reason=None, now=NOW, will_retry=True),
    "h1 accepts": lambda r: r.accept("r-1.p1", "h1", scheduled_at=None, now=NOW),
    "expire": lambda r: r.expire(now=NOW + TTL, will_retry=False),
    "requester cancels": lambda r: r.cancel("req", reason=None, now=NOW),
    "learner confirms": lambda r: r.confirm("req", minutes=None, now=NOW),
    "not happened": lambda r: r.report_not_happened("h1"),
    "learner rates": lambda r: r.give_feedback("req", rating=5, comment="great", now=NOW),
    "teacher moves it": lambda r: r.reschedule("h1", scheduled_at=NOW + TTL, now=NOW),
    "learner calls it off": lambda r: r.cancel_session("req", reason=None),
    "wait": lambda r: r.wait(
        "all_away", "all away", now=NOW, until=NOW + WAIT, recheck_at=NOW + RECHECK
    ),
    "end wait": lambda r: r.end_wait(now=NOW + WAIT),
}

ALLOWED = {
    ("requested", "propose h2"): (["match-proposed"], "proposed"),
    ("requested", "give up"): (["help-request-unmatched"], "unmatched"),
    ("requested", "requester cancels"): (["help-request-cancelled"], "cancelled"),
    ("proposed", "h1 declines"): (["match-declined"], "requested"),
    ("proposed", "h1 accepts"): (["match-accepted"], "accepted"),
    ("proposed", "expire"): (["match-expired"], "requested"),
    ("proposed", "requester cancels"): (["help-request-cancelled"], "cancelled"),
    ("declined", "propose h2"): (["match-proposed"], "proposed"),
    ("declined", "give up"): (["help-request-unmatched"], "unmatched"),
    ("declined", "requester cancels"): (["help-request-cancelled"], "cancelled"),
    ("accepted", "learner confirms"): ([], "accepted"),
    ("accepted", "not happened"): (["session-not-happened"], "not_happened"),
    ("completed", "learner rates"): (["feedback-given"], "completed"),
    ("accepted", "teacher moves it"): (["session-rescheduled"], "accepted"),
    ("accepted", "learner calls it off"): (["session-cancelled"], "cancelled"),
    ("requested", "wait"): (["help-request-waiting"], "waiting"),
    ("declined", "wait"): (["help-request-waiting"], "waiting"),
    ("waiting", "wait"): ([], "waiting"),  # told once; only the newer reason is noted
    ("waiting", "propose h2"): (["match-proposed"], "proposed"),
    ("waiting", "give up"): (["help-request-unmatched"], "unmatched"),
    ("waiting", "requester cancels"): (["help-request-cancelled"], "cancelled"),
    ("waiting", "end wait"): (["help-request-unmatched"], "unmatched"),
}
STATES = ["requested", "proposed", "declined", "waiting", "accepted", "completed",
          "not_happened", "unmatched", "cancelled"]  # fmt: skip


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("action", list(ACTIONS))
def test_transition_table(state, action):
    request = _at(state)
    before = request.sequence
    if (state, action) in ALLOWED:
        names, after = ALLOWED[(state, action)]
        events = ACTIONS[action](request)
        assert [e.event_name for e in events] == names
        assert [e.sequence for e in events] == list(range(before + 1, before + 1 + len(events)))
        assert request.state == after
    else:
        with pytest.raises(InvalidTransitionError):
            ACTIONS[action](request)
        assert request.sequence == before


@pytest.mark.parametrize(
    ("state", "action"),
    [
        ("proposed", lambda r: r.accept("r-1.p1", "h2", scheduled_at=None, now=NOW)),
        ("proposed", lambda r: r.decline("r-1.p1", "req", reason=None, now=NOW, will_retry=True)),
        ("proposed", lambda r: r.cancel("h1", reason=None, now=NOW)),
        ("accepted", lambda r: r.confirm("stranger", minutes=None, now=NOW)),
        ("accepted", lambda r: r.report_not_happened("stranger")),
        ("accepted", lambda r: r.reschedule("stranger", scheduled_at=NOW + TTL, now=NOW)),
        ("accepted", lambda r: r.cancel_session("stranger", reason=None)),
        ("completed", lambda r: r.give_feedback("stranger", rating=3, comment=None, now=NOW)),
    ],
)
def test_only_the_people_involved_may_act(state, action):
    with pytest.raises(NotAllowedError):
        action(_at(state))


def test_a_proposal_does_not_expire_before_its_time():
    with pytest.raises(InvalidTransitionError):
        _at("proposed").expire(now=NOW + TTL - timedelta(seconds=1), will_retry=True)


def test_a_declined_helper_cannot_be_proposed_again():
    request = _at("declined")
    with pytest.raises(InvalidTransitionError):
        request.propose(_scored("h1"), now=NOW, ttl=TTL)


def test_both_confirm_then_session_completed_with_the_teachers_duration():
    request = _at("accepted")
    assert request.confirm("h1", minutes=50, now=NOW) == []
    with pytest.raises(InvalidTransitionError):
        request.confirm("h1", minutes=50, now=NOW)
    [done] = request.confirm("req", minutes=30, now=NOW)
    assert done.event_name == "session-completed"
    assert (done.learner_id, done.teacher_id, done.duration_minutes) == ("req", "h1", 50)  # type: ignore[attr-defined]


def test_each_participant_rates_once_and_rates_the_other():
    request = _at("completed")
    [by_learner] = request.give_feedback("req", rating=4, comment=None, now=NOW)
    [by_teacher] = request.give_feedback("h1", rating=5, comment="keen", now=NOW)
    assert (by_learner.to_id, by_learner.role_of_rated) == ("h1", "teacher")  # type: ignore[attr-defined]
    assert (by_teacher.to_id, by_teacher.role_of_rated) == ("req", "learner")  # type: ignore[attr-defined]
    with pytest.raises(InvalidTransitionError):
        request.give_feedback("req", rating=1, comment=None, now=NOW)


def test_the_proposal_carries_its_score_breakdown():
    [proposed] = _new().propose(_scored("h1"), now=NOW, ttl=TTL)
    assert proposed.breakdown[0].name == "skill_fit"  # type: ignore[attr-defined]
    assert proposed.expires_at == NOW + TTL  # type: ignore[attr-defined]


def test_one_idempotency_key_names_one_request_per_requester():
    first = idempotent_request_id("req", "k-1")
    assert first == idempotent_request_id("req", "k-1")
    assert first != idempotent_request_id("req", "k-2")
    assert first != idempotent_request_id("other", "k-1")  # keys are each requester's own
    assert first.startswith("r-") and len(first) == 18


@pytest.mark.parametrize(
    ("change", "same"),
    [
        ({}, True),
        ({"created_at": NOW + timedelta(seconds=5)}, True),  # a retry comes later
        ({"needed_by": NOW + timedelta(days=1, microseconds=999)}, True),  # store keeps ms
        ({"needed_by": NOW + timedelta(days=1, milliseconds=1)}, False),
        ({"task": "another task"}, False),
        ({"skill_id": "go"}, False),
        ({"desired_level": 4}, False),
        ({"urgency": "high"}, False),
        ({"format": "chat"}, False),
        ({"max_minutes": 30}, False),
        ({"requester_id": "other"}, False),
    ],
)
def test_a_retried_ask_is_the_same_only_if_everything_asked_is(change: dict, same: bool):
    asked = {
        "request_id": "r-1",
        "requester_id": "req",
        "skill_id": "python",
        "desired_level": 3,
        "task": "fix the flaky test",
        "needed_by": NOW + timedelta(days=1),
        "created_at": NOW,
    }
    stored, _ = HelpRequest.create(**asked)
    retried, _ = HelpRequest.create(**{**asked, **change})
    assert stored.asks_the_same_as(retried) is same


# -- forget (erasure of a helper) ------------------------------------------------------------


def test_forget_drops_a_helpers_name_reason_explanations_and_the_sessions_comments() -> None:
    request = _new()
    request.propose(_scored("h1"), now=NOW, ttl=TTL)
    request.decline("r-1.p1", "h1", reason="h1 is on leave", now=NOW, will_retry=True)
    request.propose(_scored("h2"), now=NOW, ttl=TTL)
    request.accept("r-1.p2", "h2", scheduled_at=None, now=NOW)
    request.confirm("req", minutes=30, now=NOW)
    request.confirm("h2", minutes=30, now=NOW)
    request.give_feedback("req", rating=5, comment="h2 was great", now=NOW)
    request.give_feedback("h2", rating=4, comment="keen learner", now=NOW)
    sequence = request.sequence

    request.forget("h1")
    assert [(p.helper_id, p.reason) for p in request.proposals] == [
        ("erased", None),
        ("h2", None),
    ]
    assert request.proposals[0].breakdown[0].explanation == ""
    assert request.proposals[1].breakdown[0].explanation == "offers python"
    assert request.session is not None
    assert request.session.feedback["learner"].comment == "h2 was great"  # not about h1

    request.forget("h2")
    assert request.session.teacher_id == "erased"
    assert {r: (f.rating, f.comment) for r, f in request.session.feedback.items()} == {
        "learner": (5, None),
        "teacher": (4, None),
    }
    assert "h1" not in request.model_dump_json() and "h2" not in request.model_dump_json()
    assert (request.state, request.sequence) == ("completed", sequence)  # no event


def test_forget_keeps_a_requesters_own_cancel_reason_on_a_helpers_proposal() -> None:
    request = _new()
    request.propose(_scored("h1"), now=NOW, ttl=TTL)
    request.cancel("req", reason="solved it", now=NOW)
    request.forget("h1")
    assert [(p.helper_id, p.reason) for p in request.proposals] == [("erased", "solved it")]


def test_a_requester_is_not_forgotten_from_their_own_request() -> None:
    with pytest.raises(InvalidTransitionError, match="deleted"):
        _new().forget("req")


def test_each_change_of_a_session_raises_its_revision():
    request = _at("accepted")
    moved = request.reschedule("h1", scheduled_at=NOW + TTL, now=NOW)
    again = request.reschedule("req", scheduled_at=NOW + 2 * TTL, now=NOW)
    called_off = request.cancel_session("req", reason="solved")
    revisions = [e.revision for e in (*moved, *again, *called_off)]  # type: ignore[attr-defined]
    assert revisions == [1, 2, 3]
    assert request.session is not None
    assert request.session.scheduled_at == NOW + 2 * TTL


def test_a_session_cannot_move_into_the_past():
    with pytest.raises(InvalidTransitionError, match="ahead"):
        _at("accepted").reschedule("h1", scheduled_at=NOW, now=NOW)


def test_a_proposal_ends_the_wait_and_says_since_when_it_waited():
    request = _at("waiting")
    [event] = request.propose(_scored("h2"), now=NOW + timedelta(hours=3), ttl=TTL)
    assert event.model_dump()["waited_since"] == NOW
    assert request.proposals[-1].waited_since == NOW  # shown with the proposal too
    assert (request.waiting_reason, request.waiting_since, request.wait_until) == (None,) * 3
    assert request.recheck_at is None
    # Declined, it waits again, from then, and tells the requester again.
    request.decline("r-1.p1", "h2", reason=None, now=NOW + timedelta(hours=4), will_retry=False)
    [again] = request.wait(
        "all_declined", "asked", now=NOW + timedelta(hours=4), until=NOW + WAIT, recheck_at=NOW
    )
    assert again.model_dump()["waiting_since"] == NOW + timedelta(hours=4)
    assert again.model_dump()["candidates_tried"] == 1


def test_a_first_proposal_says_no_wait():
    [event] = _new().propose(_scored("h2"), now=NOW, ttl=TTL)
    assert event.model_dump()["waited_since"] is None


def test_waiting_again_notes_the_newer_reason_silently():
    request = _at("waiting")
    later = NOW + timedelta(hours=1)
    assert request.wait("all_away", "away", now=later, until=NOW + WAIT, recheck_at=later) == []
    assert (request.waiting_reason, request.waiting_detail) == ("all_away", "away")
    assert (request.waiting_since, request.recheck_at) == (NOW, later)


def test_a_wait_already_over_ends_unmatched_at_once():
    request = _new()
    [event] = request.wait("all_away", "away", now=NOW, until=NOW, recheck_at=NOW)
    assert event.event_name == "help-request-unmatched"
    assert (request.state, request.unmatched_reason) == ("unmatched", "all_at_capacity")


def test_a_wait_ends_only_when_it_is_over_with_the_reason_it_waited_for():
    request = _at("waiting")
    with pytest.raises(InvalidTransitionError):
        request.end_wait(now=NOW + WAIT - timedelta(seconds=1))
    [event] = request.end_wait(now=NOW + WAIT)
    fields = event.model_dump()
    assert (fields["reason"], fields["waited_since"]) == ("no_one_offers", NOW)
    assert fields["detail"] == "waited until 2026-12-16 10:00 UTC: nobody"
