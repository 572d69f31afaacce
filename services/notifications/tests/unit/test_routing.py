"""Routing rules: event → recipients → kinds → texts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from peerloop_contracts.matching import (
    FeedbackGiven,
    HelpRequestCancelled,
    HelpRequested,
    HelpRequestUnmatched,
    HelpRequestWaiting,
    MatchAccepted,
    MatchDeclined,
    MatchExpired,
    MatchProposed,
    ScoreComponent,
    SessionCancelled,
    SessionCompleted,
    SessionRescheduled,
)
from peerloop_contracts.profiles import SkillAcquired, SkillOffered
from peerloop_notifications.domain.calendar import CalendarSession
from peerloop_notifications.domain.routing import booking_of, intents_for
from peerloop_notifications.domain.texts import render

WHEN = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)
NAMES = {"req": "Rita Requester", "help": "Hugo Helper", "learn": "Lena Learner"}
BASE = {"request_id": "r-1", "requester_id": "req", "sequence": 3}

PROPOSED = MatchProposed(
    **BASE,
    proposal_id="pr-1",
    helper_id="help",
    skill_id="kubernetes",
    task="Our pods restart in a loop after the upgrade",
    score=0.81,
    breakdown=[
        ScoreComponent(
            name="skill_fit",
            weight=0.4,
            value=1.0,
            contribution=0.4,
            explanation="offers Kubernetes at level 4",
        ),
        ScoreComponent(
            name="fair_load",
            weight=0.2,
            value=0.9,
            contribution=0.18,
            explanation="has not helped anyone for three weeks",
        ),
    ],
    attempt=1,
    expires_at=WHEN,
)

CASES = [
    # event, [(recipient, kind)], phrases the recipient's text must contain
    (
        PROPOSED,
        [("help", "match-proposed")],
        [
            "Rita Requester",
            "Kubernetes",
            "Our pods restart in a loop",
            "offers Kubernetes at level 4",
            "has not helped anyone for three weeks",
            "0.81",
        ],
    ),
    (
        MatchAccepted(
            **BASE, proposal_id="pr-1", helper_id="help", session_id="s-1", skill_id="kubernetes"
        ),
        [("req", "match-accepted")],
        ["Hugo Helper", "accepted", "Kubernetes"],
    ),
    (
        MatchDeclined(
            **BASE,
            proposal_id="pr-1",
            helper_id="help",
            skill_id="kubernetes",
            reason="on call this week",
            will_retry=True,
        ),
        [("req", "match-declined")],
        ["Hugo Helper", "on call this week", "asking the next best person"],
    ),
    (
        MatchDeclined(
            **BASE, proposal_id="pr-1", helper_id="help", skill_id="kubernetes", will_retry=False
        ),
        [("req", "match-declined")],
        ["nobody else to ask"],
    ),
    (
        MatchExpired(
            **BASE, proposal_id="pr-1", helper_id="help", skill_id="kubernetes", will_retry=True
        ),
        [("req", "match-expired")],
        ["did not answer in time", "asking the next best person"],
    ),
    (
        HelpRequestUnmatched(
            **BASE, skill_id="mongodb", reason="no_one_offers", candidates_tried=0
        ),
        [("req", "help-request-unmatched")],
        ["no one offers", "Nobody offers this skill yet", "MongoDB"],
    ),
    (
        HelpRequestUnmatched(
            **BASE, skill_id="kubernetes", reason="all_declined", candidates_tried=3
        ),
        [("req", "help-request-unmatched")],
        ["after asking 3 people", "all declined", "Rephrase the task"],
    ),
    (
        HelpRequestCancelled(**BASE, skill_id="kubernetes", reason="solved it myself"),
        [("req", "help-request-cancelled")],
        ["cancelled", "solved it myself"],
    ),
    (
        SessionCompleted(
            **BASE,
            session_id="s-1",
            learner_id="learn",
            teacher_id="help",
            skill_id="kubernetes",
            level=3,
            duration_minutes=45,
            completed_at=WHEN,
        ),
        [("learn", "session-completed"), ("help", "session-completed")],
        ["45-minute", "rate it"],
    ),
    (
        FeedbackGiven(
            **BASE,
            session_id="s-1",
            from_id="learn",
            to_id="help",
            role_of_rated="teacher",
            rating=5,
            comment="Clear and patient",
        ),
        [("help", "feedback-received")],
        ["Lena Learner", "5 out of 5", "a teacher", "Clear and patient"],
    ),
    (
        SkillAcquired(
            person_id="learn",
            skill_id="kubernetes",
            skill_name="Kubernetes",
            level=2,
            teacher_id="help",
            session_id="s-1",
            acquired_at=WHEN,
            sequence=7,
        ),
        [("learn", "teach-back-invitation")],
        [
            "you just learned Kubernetes",
            "offer it to the next person",
            "Hugo Helper",
            "counts as evidence of Kubernetes",
        ],
    ),
]


@pytest.mark.parametrize(
    ("event", "expected", "phrases"), CASES, ids=[type(c[0]).__name__ for c in CASES]
)
def test_event_reaches_the_right_people_with_the_right_text(event, expected, phrases):
    intents = intents_for(event)
    assert [(i.recipient_id, i.kind) for i in intents] == expected
    first = intents[0]
    text = render(
        first.kind, first.context, recipient_name=NAMES.get(first.recipient_id), names=NAMES
    )
    whole = f"{text.subject}\n{text.body}"
    for phrase in phrases:
        assert phrase in whole, f"{phrase!r} missing from:\n{whole}"
    assert "\n" not in text.subject


def test_session_completed_asks_both_for_feedback_naming_the_other():
    event = CASES[8][0]
    texts = {
        i.recipient_id: render(i.kind, i.context, recipient_name=NAMES[i.recipient_id], names=NAMES)
        for i in intents_for(event)
    }
    assert "Hugo Helper" in texts["learn"].subject
    assert "Lena Learner" in texts["help"].subject
    assert "thank you for teaching" in texts["help"].body
    assert "thank you for teaching" not in texts["learn"].body


def test_unknown_people_are_named_politely():
    intent = intents_for(PROPOSED)[0]
    text = render(intent.kind, intent.context, recipient_name=None, names={})
    assert text.subject.startswith("A colleague") or "a colleague" in text.subject
    assert text.body.startswith("Hi there,")


@pytest.mark.parametrize(
    "event",
    [
        HelpRequested(**BASE, skill_id="kubernetes", desired_level=2, task="x"),
        SkillOffered(
            person_id="p", skill_id="go", skill_name="Go", level=3, weekly_capacity=1, sequence=1
        ),
    ],
)
def test_events_nobody_needs_to_hear_about(event):
    assert intents_for(event) == []


def test_a_scheduled_session_reminds_both_an_hour_before():
    event = MatchAccepted(
        **BASE,
        proposal_id="pr-1",
        helper_id="help",
        session_id="s-1",
        skill_id="kubernetes",
        scheduled_at=WHEN,
    )
    intents = intents_for(event)
    assert [(i.recipient_id, i.kind) for i in intents] == [
        ("req", "match-accepted"),
        ("req", "session-reminder"),
        ("help", "session-reminder"),
        ("req", "session-invitation"),
        ("help", "session-invitation"),
    ]
    reminders = intents[1:3]
    assert {i.deliver_at for i in reminders} == {datetime(2026, 12, 3, 14, 0, tzinfo=UTC)}
    assert {i.pointless_after for i in reminders} == {WHEN}
    assert {i.request_id for i in reminders} == {"r-1"}
    text = render(reminders[1].kind, reminders[1].context, recipient_name="Hugo", names=NAMES)
    assert text.subject == "Reminder: Kubernetes session with Rita Requester at 15:00 UTC"
    accepted = render(intents[0].kind, intents[0].context, recipient_name="Rita", names=NAMES)
    assert "planned for 2026-12-03 15:00 UTC" in accepted.body


def test_items_link_to_what_they_are_about():
    """An app opens the proposal, session or skill an item tells of: the ids travel along."""
    [proposed] = intents_for(PROPOSED)
    assert proposed.links == {
        "request_id": "r-1",
        "proposal_id": "pr-1",
        "skill_id": "kubernetes",
    }
    [invitation] = intents_for(CASES[-1][0])
    assert invitation.links == {"session_id": "s-1", "skill_id": "kubernetes", "level": 2}


SESSION = {"session_id": "s-1", "learner_id": "req", "teacher_id": "help", "skill_id": "kubernetes"}
ACCEPTED_AT = MatchAccepted(
    **BASE, proposal_id="pr-1", helper_id="help", session_id="s-1", skill_id="kubernetes",
    scheduled_at=WHEN, minutes=45,
)  # fmt: skip
MOVED = SessionRescheduled(
    **BASE, **SESSION, scheduled_at=WHEN.replace(hour=17), minutes=45, revision=1,
    rescheduled_by="help",
)  # fmt: skip
CALLED_OFF = SessionCancelled(**BASE, **SESSION, revision=2, cancelled_by="help", reason="ill")
KNOWN = CalendarSession("s-1", "r-1", "Kubernetes", WHEN, 45, "req", "help", 1)

# (event, the calendar's version before, the version it describes: (start hour, revision,
# cancelled) or None, each person's subject)
BOOKINGS = {
    "accepted with a time": (
        ACCEPTED_AT, None, (15, 0, False),
        {"req": "In your calendar: Kubernetes session with Hugo Helper",
         "help": "In your calendar: Kubernetes session with Rita Requester"},
    ),
    "moved": (
        MOVED, KNOWN, (17, 1, False),
        {"req": "Moved: Kubernetes session with Hugo Helper",
         "help": "Moved: Kubernetes session with Rita Requester"},
    ),
    "called off": (
        CALLED_OFF, KNOWN, (15, 2, True),
        {"req": "Cancelled: Kubernetes session with Hugo Helper",
         "help": "Cancelled: Kubernetes session with Rita Requester"},
    ),
    "called off, never in a calendar": (
        CALLED_OFF, None, None,
        {"req": "Cancelled: Kubernetes session with Hugo Helper",
         "help": "Cancelled: Kubernetes session with Rita Requester"},
    ),
    "accepted without a time": (
        ACCEPTED_AT.model_copy(update={"scheduled_at": None}), None, None, {},
    ),
}  # fmt: skip


@pytest.mark.parametrize(("event", "known", "version", "subjects"), BOOKINGS.values(), ids=BOOKINGS)
def test_sessions_in_calendars(event, known, version, subjects):
    booking = booking_of(event, known)
    if version is None:
        assert booking is None
    else:
        assert booking is not None
        assert (booking.starts_at.hour, booking.revision, booking.cancelled) == version
        assert booking.session_id == "s-1"
        assert booking.participants == ("req", "help")
        assert booking.minutes == 45
    invitations = [i for i in intents_for(event) if i.kind == "session-invitation"]
    texts = {
        i.recipient_id: render(i.kind, i.context, recipient_name=None, names=NAMES).subject
        for i in invitations
    }
    assert texts == subjects


def test_a_moved_session_is_reminded_of_at_its_new_time():
    reminders = [i for i in intents_for(MOVED) if i.kind == "session-reminder"]
    assert {i.recipient_id for i in reminders} == {"req", "help"}
    assert {i.pointless_after for i in reminders} == {MOVED.scheduled_at}


def test_the_reason_for_calling_off_is_quoted_only_to_the_other_person():
    intents = {i.recipient_id: i for i in intents_for(CALLED_OFF)}
    assert intents["req"].quoted == {"help": ("ill",)}
    assert intents["help"].quoted == {}
    body = render("session-invitation", intents["req"].context, recipient_name="Rita", names=NAMES)
    assert '"ill"' in body.body


def test_a_waiting_request_tells_its_requester_why_and_until_when():
    event = HelpRequestWaiting(
        **BASE,
        skill_id="kubernetes",
        reason="all_away",
        detail="2 possible helper(s) are away or at capacity this week; 0 were asked already",
        waiting_since=WHEN,
        until=datetime(2026, 12, 17, 15, 0, tzinfo=UTC),
    )
    [intent] = intents_for(event)
    assert (intent.recipient_id, intent.kind, intent.links["request_id"]) == (
        "req",
        "help-request-waiting",
        "r-1",
    )
    text = render(intent.kind, intent.context, recipient_name="Rita", names=NAMES)
    assert text.subject == "Your request for help with Kubernetes is waiting for a helper"
    assert "everyone who offers it is away" in text.body
    assert "If nobody can by 2026-12-17 15:00 UTC" in text.body


def test_a_proposal_that_ends_a_wait_tells_the_requester_it_moved():
    moved = PROPOSED.model_copy(update={"waited_since": datetime(2026, 12, 1, 9, 0, tzinfo=UTC)})
    helper, requester = intents_for(moved)
    assert (helper.recipient_id, helper.kind) == ("help", "match-proposed")
    assert (requester.recipient_id, requester.kind) == ("req", "help-request-moved")
    text = render(requester.kind, requester.context, recipient_name="Rita", names=NAMES)
    assert "has moved" in text.subject
    assert "waited since 2026-12-01 09:00 UTC" in text.body and "Hugo Helper" in text.body
    # A first proposal (no wait) tells only the helper.
    assert [i.kind for i in intents_for(PROPOSED)] == ["match-proposed"]
