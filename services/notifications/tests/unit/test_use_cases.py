"""Every use case of the service with the in-memory stores (no broker, no database).

Notify on each event kind; preferences; delivery attempts, retries, leases and
racing workers; the directory of people; erasure.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from peerloop_contracts.base import Event
from peerloop_contracts.envelope import CloudEventMeta
from peerloop_contracts.matching import (
    FeedbackGiven,
    HelpRequestCancelled,
    HelpRequestUnmatched,
    HelpRequestWaiting,
    MatchAccepted,
    MatchDeclined,
    MatchExpired,
    MatchProposed,
    SessionCompleted,
)
from peerloop_contracts.profiles import (
    AvailabilityChanged,
    ProfileErased,
    ProfileRegistered,
    ProfileUpdated,
    SkillAcquired,
    WorkingHours,
)
from peerloop_notifications.adapters.memory_notifications import InMemoryNotificationStore
from peerloop_notifications.adapters.memory_people import InMemoryPeopleStore
from peerloop_notifications.adapters.senders import InboxReveal
from peerloop_notifications.application.delivery import DeliveryWorker
from peerloop_notifications.application.directory import Directory
from peerloop_notifications.application.events import delivered
from peerloop_notifications.application.notify import Notifier
from peerloop_notifications.application.ports import DeliveryError, Outgoing, StalePreferencesError
from peerloop_notifications.domain.kinds import KINDS, ONLY_BY_EMAIL
from peerloop_notifications.domain.notification import REDACTED
from peerloop_notifications.domain.preferences import ChannelSwitches, Preferences
from peerloop_notifications.domain.retry import Backoff

NOON = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
BASE = {"request_id": "r-1", "requester_id": "req", "sequence": 3}
LEASE = timedelta(seconds=30)


class Clock:
    def __init__(self, at: datetime = NOON) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, delta: timedelta) -> None:
        self.at += delta


@dataclass
class Fakes:
    store: InMemoryNotificationStore
    people: InMemoryPeopleStore
    clock: Clock
    woken: list[str]

    def notifier(self) -> Notifier:
        return Notifier(
            people=self.people,
            store=self.store,
            on_inbox=lambda p: self.woken.append(f"inbox:{p}"),
            on_outbound=lambda nid: self.woken.append(f"worker:{nid}"),
            now=self.clock,
        )

    def directory(self) -> Directory:
        return Directory(people=self.people, notifications=self.store)

    def worker(
        self,
        sender: RecordingSender,
        owner: str = "worker",
        on_outbox: Callable[[str], None] = lambda _nid: None,
    ) -> DeliveryWorker:
        return DeliveryWorker(
            store=self.store,
            people=self.people,
            senders={"inbox": InboxReveal(), "email": sender, "webhook": sender},
            backoff=Backoff(base_seconds=1, max_seconds=4, max_attempts=3),
            lease=LEASE,
            now=self.clock,
            owner=owner,
            on_outbox=on_outbox,
        )


class RecordingSender:
    def __init__(self, *failures: DeliveryError | Exception) -> None:
        self.failures = list(failures)
        self.sent: list[Outgoing] = []

    async def send(self, message: Outgoing) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(message)


def meta(event: Event) -> CloudEventMeta:
    return CloudEventMeta(source="peerloop/test", type=event.ce_type(), subject=event.subject)


def registered(person_id: str, name: str, sequence: int = 1) -> ProfileRegistered:
    return ProfileRegistered(
        person_id=person_id,
        display_name=name,
        email=f"{person_id}@example.com",
        team="platform",
        time_zone="UTC",
        sequence=sequence,
    )


@pytest.fixture
async def fakes() -> Fakes:
    f = Fakes(InMemoryNotificationStore(), InMemoryPeopleStore(), Clock(), [])
    for pid, name in (
        ("req", "Rita Requester"),
        ("help", "Hugo Helper"),
        ("learn", "Lena Learner"),
    ):
        event = registered(pid, name)
        await f.directory().on_profile(event, meta(event))
    return f


PROPOSED = MatchProposed(
    **BASE,
    proposal_id="pr-1",
    helper_id="help",
    skill_id="kubernetes",
    task="Our pods restart in a loop",
    score=0.8,
    breakdown=[],
    attempt=1,
    expires_at=NOON + timedelta(days=1),
)
FEEDBACK = FeedbackGiven(
    **BASE,
    session_id="s-1",
    from_id="learn",
    to_id="help",
    role_of_rated="teacher",
    rating=5,
    comment="Clear and patient",
)
EVENTS: list[tuple[Event, list[tuple[str, str]]]] = [
    (PROPOSED, [("help", "match-proposed")]),
    (
        MatchAccepted(
            **BASE,
            proposal_id="pr-1",
            helper_id="help",
            session_id="s-1",
            skill_id="kubernetes",
            scheduled_at=NOON + timedelta(hours=3),
        ),
        [
            ("req", "match-accepted"),
            ("req", "session-reminder"),
            ("help", "session-reminder"),
            ("req", "session-invitation"),
            ("help", "session-invitation"),
        ],
    ),
    (
        MatchDeclined(
            **BASE, proposal_id="pr-1", helper_id="help", skill_id="kubernetes", will_retry=True
        ),
        [("req", "match-declined")],
    ),
    (
        MatchExpired(
            **BASE, proposal_id="pr-1", helper_id="help", skill_id="kubernetes", will_retry=False
        ),
        [("req", "match-expired")],
    ),
    (
        HelpRequestUnmatched(
            **BASE, skill_id="mongodb", reason="no_one_offers", candidates_tried=0
        ),
        [("req", "help-request-unmatched")],
    ),
    (HelpRequestCancelled(**BASE, skill_id="kubernetes"), [("req", "help-request-cancelled")]),
    (
        SessionCompleted(
            **BASE,
            session_id="s-1",
            learner_id="learn",
            teacher_id="help",
            skill_id="kubernetes",
            level=3,
            duration_minutes=45,
            completed_at=NOON,
        ),
        [("learn", "session-completed"), ("help", "session-completed")],
    ),
    (FEEDBACK, [("help", "feedback-received")]),
    (
        SkillAcquired(
            person_id="learn",
            skill_id="kubernetes",
            skill_name="Kubernetes",
            level=2,
            teacher_id="help",
            session_id="s-1",
            acquired_at=NOON,
            sequence=7,
        ),
        [("learn", "teach-back-invitation")],
    ),
    (
        HelpRequestWaiting(
            **BASE,
            skill_id="mongodb",
            reason="all_away",
            waiting_since=NOON,
            until=NOON + timedelta(days=14),
        ),
        [("req", "help-request-waiting")],
    ),
    # A proposal that ends a wait tells the requester too: their request moved.
    (
        PROPOSED.model_copy(update={"waited_since": NOON - timedelta(hours=2)}),
        [("help", "match-proposed"), ("req", "help-request-moved")],
    ),
]


def test_the_cases_cover_every_kind() -> None:
    assert {kind for _, expected in EVENTS for _, kind in expected} == set(KINDS)


@pytest.mark.parametrize(("event", "expected"), EVENTS, ids=[type(e).__name__ for e, _ in EVENTS])
async def test_each_event_notifies_its_recipients_in_the_inbox_and_by_email(
    fakes: Fakes, event: Event, expected: list[tuple[str, str]]
) -> None:
    await fakes.notifier().handle(event, m := meta(event))
    stored = sorted((d["person_id"], d["kind"], d["channel"]) for d in fakes.store.docs.values())
    assert stored == sorted(
        (p, k, c)
        for p, k in expected
        for c in ("email", "inbox")
        if c == "email" or k not in ONLY_BY_EMAIL
    )
    for pid, kind in expected:
        mail = fakes.store.docs[f"email:{pid}:{m.id}:{kind}"]
        assert mail["state"] == "pending" and mail["attempts"] == 0
        assert f"worker:email:{pid}:{m.id}:{kind}" in fakes.woken


async def test_preferences_keep_one_line_of_versions(fakes: Fakes) -> None:
    digest = Preferences(digest=True)
    assert await fakes.people.set_preferences("req", digest, 0) == 1
    with pytest.raises(StalePreferencesError):
        await fakes.people.set_preferences("req", Preferences(), 0)  # version 1 is taken
    with pytest.raises(StalePreferencesError):
        await fakes.people.set_preferences("req", Preferences(), 5)  # would leave a gap
    person = await fakes.people.get("req")
    assert person is not None and (person.preferences_version, person.preferences) == (1, digest)
    # Two writers from the same version: exactly one wins.
    results = await asyncio.gather(
        *(fakes.people.set_preferences("req", Preferences(digest_hour=h), 1) for h in (6, 7)),
        return_exceptions=True,
    )
    assert sorted(type(r).__name__ for r in results) == ["StalePreferencesError", "int"]


async def test_switched_off_channels_and_a_webhook_url_decide_the_channels(fakes: Fakes) -> None:
    prefs = Preferences.model_validate(
        {
            "per_kind": {"feedback-received": {"email": False}},
            "webhook_url": "https://hooks.example.com/x",
        }
    )
    await fakes.people.set_preferences("help", prefs, 0)
    await fakes.notifier().handle(FEEDBACK, m := meta(FEEDBACK))
    await fakes.notifier().handle(PROPOSED, p := meta(PROPOSED))
    assert {d["_id"] for d in fakes.store.docs.values()} == {
        f"inbox:help:{m.id}:feedback-received",
        f"webhook:help:{m.id}:feedback-received",
        f"inbox:help:{p.id}:match-proposed",
        f"email:help:{p.id}:match-proposed",
        f"webhook:help:{p.id}:match-proposed",
    }


async def _queued_mail(fakes: Fakes, event: Event = FEEDBACK) -> str:
    await fakes.notifier().handle(event, m := meta(event))
    [nid] = [n for n in fakes.store.docs if n.startswith("email:") and m.id in n]
    return nid


async def test_a_due_email_is_sent_once_and_announced(fakes: Fakes) -> None:
    nid = await _queued_mail(fakes)
    sender = RecordingSender()
    outboxed: list[str] = []
    worker = fakes.worker(sender, on_outbox=outboxed.append)
    assert await worker.run_once(nid) is True
    assert await worker.run_once() is False  # nothing else due
    assert [s.delivery_id for s in sender.sent] == [nid]
    assert sender.sent[0].address == "help@example.com"
    doc = fakes.store.docs[nid]
    assert (doc["state"], doc["attempts"], doc["sent_at"]) == ("sent", 1, NOON)
    assert "lease" not in doc and outboxed == [nid]
    assert fakes.store.outbox_topics(nid) == ["peerloop.notification-delivered.v1"]


async def test_transient_failures_back_off_until_the_attempts_are_spent(fakes: Fakes) -> None:
    nid = await _queued_mail(fakes)
    sender = RecordingSender(*(DeliveryError("smtp 451") for _ in range(3)))
    worker = fakes.worker(sender)
    for attempt in (1, 2):
        assert await worker.run_once() is True
        doc = fakes.store.docs[nid]
        assert (doc["state"], doc["attempts"], doc["last_error"]) == (
            "pending",
            attempt,
            "smtp 451",
        )
        assert doc["next_attempt_at"] > fakes.clock()
        assert await worker.run_once() is False  # not due until the backoff is over
        fakes.clock.advance(timedelta(seconds=5))
    assert await worker.run_once() is True
    doc = fakes.store.docs[nid]
    assert (doc["state"], doc["attempts"]) == ("failed", 3) and sender.sent == []
    assert fakes.store.outbox_topics(nid) == ["peerloop.notification-failed.v1"]


@pytest.mark.parametrize(
    ("failure", "state"),
    [
        (DeliveryError("smtp 550", permanent=True), "failed"),
        (RuntimeError("sender bug"), "pending"),  # counts as a failed attempt, retried
    ],
)
async def test_permanent_failures_fail_at_once_and_sender_bugs_are_retried(
    fakes: Fakes, failure: Exception, state: str
) -> None:
    nid = await _queued_mail(fakes)
    await fakes.worker(RecordingSender(failure)).run_once(nid)
    assert (fakes.store.docs[nid]["state"], fakes.store.docs[nid]["attempts"]) == (state, 1)


async def test_a_dead_workers_lease_runs_out_and_another_sends_while_the_first_cannot_settle(
    fakes: Fakes,
) -> None:
    nid = await _queued_mail(fakes)
    claimed = await fakes.store.claim(nid, "dead", fakes.clock(), LEASE)  # then it died
    assert claimed is not None and claimed.delivery is not None
    sender = RecordingSender()
    alive = fakes.worker(sender, owner="alive")
    assert await alive.run_once() is False  # the lease still holds
    fakes.clock.advance(LEASE + timedelta(seconds=1))
    assert await alive.run_once() is True
    assert [s.delivery_id for s in sender.sent] == [nid]
    assert fakes.store.docs[nid]["attempts"] == 2
    # The dead worker coming back cannot overwrite what the live one settled.
    assert not await fakes.store.mark_sent(
        nid, "dead", fakes.clock(), delivered(claimed, attempts=1)
    )
    assert fakes.store.outbox_topics(nid) == ["peerloop.notification-delivered.v1"]


async def test_racing_workers_send_each_delivery_exactly_once(fakes: Fakes) -> None:
    for n in range(12):
        event = FEEDBACK.model_copy(update={"session_id": f"s-{n}"})
        await fakes.notifier().handle(event, meta(event))
    sender = RecordingSender()
    workers = [fakes.worker(sender, owner=f"w{i}") for i in range(4)]

    async def drain(worker: DeliveryWorker) -> None:
        while await worker.run_once():
            pass

    await asyncio.gather(*(drain(w) for w in workers))
    ids = [s.delivery_id for s in sender.sent]
    assert len(ids) == 12 and len(set(ids)) == 12
    assert all(
        d["state"] == "sent" and d["attempts"] == 1
        for d in fakes.store.docs.values()
        if d["channel"] == "email"
    )


async def test_a_recipient_not_known_yet_is_retried_until_the_profile_arrives(fakes: Fakes) -> None:
    event = FEEDBACK.model_copy(update={"to_id": "newcomer"})
    nid = await _queued_mail(fakes, event)
    sender = RecordingSender()
    worker = fakes.worker(sender)
    await worker.run_once(nid)
    assert fakes.store.docs[nid]["last_error"] == "recipient not known yet"
    profile = registered("newcomer", "Nia")
    await fakes.directory().on_profile(profile, meta(profile))
    fakes.clock.advance(timedelta(seconds=5))
    assert await worker.run_once() is True
    assert [s.address for s in sender.sent] == ["newcomer@example.com"]


async def test_a_channel_switched_off_after_queueing_is_skipped(fakes: Fakes) -> None:
    nid = await _queued_mail(fakes)
    await fakes.people.set_preferences(
        "help", Preferences(channels=ChannelSwitches(email=False)), 0
    )
    sender = RecordingSender()
    await fakes.worker(sender).run_once(nid)
    doc = fakes.store.docs[nid]
    assert (doc["state"], doc["last_error"]) == ("skipped", "email switched off")
    assert sender.sent == []


async def test_a_digest_sends_the_days_mails_as_one(fakes: Fakes) -> None:
    await fakes.people.set_preferences("help", Preferences(digest=True, digest_hour=8), 0)
    for event in (FEEDBACK, PROPOSED):
        await fakes.notifier().handle(event, meta(event))
    sender = RecordingSender()
    worker = fakes.worker(sender)
    assert await worker.run_once() is False  # waits for 08:00 tomorrow
    fakes.clock.advance(timedelta(hours=20))
    assert await worker.run_once() is True
    [digest] = sender.sent
    assert digest.delivery_id.startswith("digest:")
    assert "Clear and patient" in digest.body and "Our pods restart in a loop" in digest.body
    assert {d["state"] for d in fakes.store.docs.values() if d["channel"] == "email"} == {"sent"}


async def test_a_reminder_shows_up_in_the_inbox_at_its_time(fakes: Fakes) -> None:
    event = EVENTS[1][0]
    await fakes.notifier().handle(event, m := meta(event))
    nid = f"inbox:help:{m.id}:session-reminder"
    page = await fakes.store.inbox_page("help", fakes.clock(), offset=0, limit=10)
    assert page.total == 0
    fakes.clock.advance(timedelta(hours=2))
    page = await fakes.store.inbox_page("help", fakes.clock(), offset=0, limit=10)
    assert [n.id for n in page.items] == [nid]
    await fakes.worker(RecordingSender()).run_once(nid)
    assert fakes.store.docs[nid]["state"] == "sent"


async def test_a_cancelled_request_drops_its_reminders(fakes: Fakes) -> None:
    accepted, cancelled = EVENTS[1][0], EVENTS[5][0]
    await fakes.notifier().handle(accepted, meta(accepted))
    await fakes.notifier().handle(cancelled, meta(cancelled))
    assert not [d for d in fakes.store.docs.values() if d["kind"] == "session-reminder"]


async def test_the_directory_applies_only_newer_facts_each_with_its_own_sequence(
    fakes: Fakes,
) -> None:
    directory = fakes.directory()
    # The availability change (sequence 4) arrives before the update that came earlier (3).
    moved = AvailabilityChanged(
        person_id="req",
        time_zone="Europe/Berlin",
        weekly_capacity=3,
        working_hours=WorkingHours(),
        sequence=4,
    )
    await directory.on_availability(moved, meta(moved))
    renamed = ProfileUpdated(
        person_id="req",
        display_name="Rita R.",
        email="rita@example.com",
        team="platform",
        time_zone="UTC",
        sequence=3,
    )
    await directory.on_profile(renamed, meta(renamed))
    stale = ProfileUpdated(
        person_id="req",
        display_name="Old",
        email="old@example.com",
        team="platform",
        time_zone="UTC",
        sequence=2,
    )
    await directory.on_profile(stale, meta(stale))
    person = await fakes.people.get("req")
    assert person is not None
    assert (person.display_name, person.email, person.time_zone) == (
        "Rita R.",
        "rita@example.com",
        "Europe/Berlin",
    )


async def test_erasure_deletes_the_persons_own_data_and_blocks_late_profile_events(
    fakes: Fakes,
) -> None:
    await fakes.people.set_preferences("learn", Preferences(digest=True), 0)
    event = EVENTS[6][0]  # session-completed: learn and help both notified
    await fakes.notifier().handle(event, meta(event))
    await fakes.store.claim(
        next(n for n in fakes.store.docs if n.startswith("email:learn")), "w", NOON, LEASE
    )
    erased = ProfileErased(person_id="learn", sequence=9)
    await fakes.directory().on_erased(erased, meta(erased))
    assert not [d for d in fakes.store.docs.values() if d["person_id"] == "learn"]
    assert not [c for c in fakes.store.claims.values() if c["person_id"] == "learn"]
    assert not [p for p in fakes.store.docs.values() if p["person_id"] == "learn"]
    assert not fakes.people.preferences
    late = registered("learn", "Lena Again", sequence=8)
    await fakes.directory().on_profile(late, meta(late))
    person = await fakes.people.get("learn")
    assert person is not None and person.erased and person.display_name is None
    # Nothing new for them either.
    await fakes.notifier().handle(event, meta(event))
    assert not [d for d in fakes.store.docs.values() if d["person_id"] == "learn"]


async def test_erasure_redacts_the_persons_name_and_words_in_everybody_elses_texts(
    fakes: Fakes,
) -> None:
    await fakes.people.set_preferences("help", Preferences(digest=True, digest_hour=8), 0)
    for event in (FEEDBACK, PROPOSED):  # learn's comment and req's task, both to help
        await fakes.notifier().handle(event, meta(event))

    def texts() -> str:
        return " ".join(d["subject"] + " " + d["body"] for d in fakes.store.docs.values())

    assert "Lena Learner" in texts() and "Clear and patient" in texts()

    erased = ProfileErased(person_id="learn", sequence=9)
    await fakes.directory().on_erased(erased, meta(erased))
    await fakes.directory().on_erased(erased, meta(erased))  # redelivered: nothing more to do
    assert "Lena Learner" not in texts() and "Clear and patient" not in texts()
    assert REDACTED in texts()
    assert "Rita Requester" in texts() and "Our pods restart in a loop" in texts()  # others stay
    # The digest is rendered from the redacted mails.
    fakes.clock.advance(timedelta(hours=20))
    sender = RecordingSender()
    await fakes.worker(sender).run_once()
    [digest] = sender.sent
    assert "Lena" not in digest.body and "Clear and patient" not in digest.body
