"""Inbox, preferences, quiet hours and erasure through the HTTP API, fed by real Kafka events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from peerloop_contracts.matching import FeedbackGiven
from peerloop_contracts.profiles import ProfileErased, SkillAcquired

pytestmark = pytest.mark.integration


def acquired(person_id: str, skill: str, seq: int) -> SkillAcquired:
    return SkillAcquired(
        person_id=person_id,
        skill_id=skill,
        skill_name=skill.title(),
        level=2,
        teacher_id="t-1",
        session_id=f"s-{skill}",
        acquired_at=datetime.now(UTC),
        sequence=seq,
    )


async def test_inbox_lists_unread_first_pages_and_marks_read(
    as_person, settings_for, publish, run_id, running, eventually, person
):
    me = f"learner-{run_id}"
    async with running(settings_for()) as (_, client):
        await publish.event(person(me, name="Lena Learner"))
        for n, skill in enumerate(["alpha", "beta", "gamma"], start=2):
            await publish.event(acquired(me, f"skill-{skill}-{run_id}", n))

        async def three():
            answer = await client.get(f"/people/{me}/inbox", auth=as_person(me))
            return answer.status_code == 200 and answer.json()["total"] == 3

        await eventually(three)
        first = (
            await client.get(f"/people/{me}/inbox", params={"limit": 2}, auth=as_person(me))
        ).json()
        assert first["unread"] == 3 and len(first["items"]) == 2 and first["next_offset"] == 2
        rest = (
            await client.get(f"/people/{me}/inbox", params={"offset": 2}, auth=as_person(me))
        ).json()
        assert rest["next_offset"] is None and len(rest["items"]) == 1
        every = first["items"] + rest["items"]
        assert all(i["kind"] == "teach-back-invitation" for i in every)
        assert all("offer it to the next person" in i["subject"] for i in every)
        assert len({i["id"] for i in every}) == 3

        oldest = every[-1]
        read = await client.post(f"/people/{me}/inbox/{oldest['id']}/read", auth=as_person(me))
        assert read.status_code == 200 and read.json()["read"] is True
        again = await client.post(f"/people/{me}/inbox/{oldest['id']}/read", auth=as_person(me))
        assert again.status_code == 200
        listed = (await client.get(f"/people/{me}/inbox", auth=as_person(me))).json()
        assert [i["read"] for i in listed["items"]] == [False, False, True]  # unread first
        assert (
            await client.get(f"/people/{me}/inbox/unread-count", auth=as_person(me))
        ).json() == {"unread": 2}

        assert (await client.post(f"/people/{me}/inbox/read-all", auth=as_person(me))).json() == {
            "marked": 2
        }
        assert (
            await client.get(f"/people/{me}/inbox/unread-count", auth=as_person(me))
        ).json() == {"unread": 0}

        missing = await client.post(f"/people/{me}/inbox/inbox:{me}:nope/read", auth=as_person(me))
        assert missing.status_code == 404
        assert (
            await client.get(f"/people/nobody-{run_id}/inbox", auth=as_person(f"nobody-{run_id}"))
        ).status_code == 404
        bad = await client.get(f"/people/{me}/inbox", params={"limit": 0}, auth=as_person(me))
        assert bad.status_code == 422
        assert bad.json()["detail"][0]["loc"] == ["query", "limit"]


async def test_preferences_versioned_validated_and_applied_to_channels(
    as_person, settings_for, publish, run_id, running, eventually, person, mail_catcher
):
    me = f"rated-{run_id}"
    async with running(settings_for(smtp_port=mail_catcher.port)) as (_, client):
        await publish.event(person(me, name="Rae Rated"))
        await publish.event(person(f"rater-{run_id}", name="Rob Rater"))

        async def known():
            return (
                await client.get(f"/people/{me}/preferences", auth=as_person(me))
            ).status_code == 200

        await eventually(known)
        view = (await client.get(f"/people/{me}/preferences", auth=as_person(me))).json()
        assert view["version"] == 0 and view["preferences"]["channels"]["email"] is True

        off = {"per_kind": {"feedback-received": {"email": False}}}
        saved = await client.put(
            f"/people/{me}/preferences",
            json={"expected_version": 0, "preferences": off},
            auth=as_person(me),
        )
        assert saved.status_code == 200 and saved.json()["version"] == 1
        stale = await client.put(
            f"/people/{me}/preferences",
            json={"expected_version": 0, "preferences": {}},
            auth=as_person(me),
        )
        assert stale.status_code == 409 and "version 0" in stale.json()["detail"]
        invalid = await client.put(
            f"/people/{me}/preferences",
            json={
                "expected_version": 1,
                "preferences": {"quiet_hours": {"start": "25:00", "end": "07:00"}},
            },
            auth=as_person(me),
        )
        assert invalid.status_code == 422
        assert invalid.json()["detail"][0]["loc"][-2:] == ["quiet_hours", "start"]
        unknown = await client.put(
            f"/people/nobody-{run_id}/preferences",
            json={"expected_version": 0, "preferences": {}},
            auth=as_person(f"nobody-{run_id}"),
        )
        assert unknown.status_code == 404

        await publish.event(
            FeedbackGiven(
                request_id=f"r-{run_id}",
                requester_id=f"rater-{run_id}",
                session_id=f"s-{run_id}",
                from_id=f"rater-{run_id}",
                to_id=me,
                role_of_rated="teacher",
                rating=4,
                comment="Very helpful",
                sequence=9,
            )
        )

        async def inbox_item():
            return (await client.get(f"/people/{me}/inbox", auth=as_person(me))).json()["items"]

        items = await eventually(inbox_item)
        deliveries = (await client.get(f"/people/{me}/deliveries", auth=as_person(me))).json()
    assert items[0]["kind"] == "feedback-received"
    assert items[0]["subject"] == "Rob Rater rated your session 4/5"
    assert deliveries == []  # e-mail switched off for this kind: inbox only
    assert not [m for m in mail_catcher.messages() if m["To"] == f"{me}@example.com"]


async def test_quiet_hours_defer_email_but_not_the_inbox(
    as_person, settings_for, publish, run_id, running, eventually, person, mail_catcher
):
    me = f"sleepy-{run_id}"
    now = datetime.now(UTC).astimezone(tz=None)
    # Quiet hours around "now" in Tokyo time, so they certainly apply.
    tokyo = datetime.now(UTC) + timedelta(hours=9)
    start = (tokyo - timedelta(hours=1)).strftime("%H:%M")
    end = (tokyo + timedelta(hours=2)).strftime("%H:%M")
    async with running(settings_for(smtp_port=mail_catcher.port)) as (_, client):
        await publish.event(person(me, name="Sam Sleepy", time_zone="Asia/Tokyo"))

        async def known():
            return (
                await client.get(f"/people/{me}/preferences", auth=as_person(me))
            ).status_code == 200

        await eventually(known)
        saved = await client.put(
            f"/people/{me}/preferences",
            json={
                "expected_version": 0,
                "preferences": {"quiet_hours": {"start": start, "end": end}},
            },
            auth=as_person(me),
        )
        assert saved.status_code == 200, saved.text
        await publish.event(acquired(me, f"skill-night-{run_id}", 2))

        async def inbox():
            return (await client.get(f"/people/{me}/inbox", auth=as_person(me))).json()["items"]

        await eventually(inbox)
        deliveries = (await client.get(f"/people/{me}/deliveries", auth=as_person(me))).json()
    assert [(d["channel"], d["state"], d["attempts"]) for d in deliveries] == [
        ("email", "pending", 0)
    ]
    waits_until = datetime.fromisoformat(deliveries[0]["next_attempt_at"])
    assert timedelta(hours=1, minutes=55) < waits_until - now.astimezone(UTC) <= timedelta(hours=2)
    assert not [m for m in mail_catcher.messages() if m["To"] == f"{me}@example.com"]


async def test_profile_erased_forgets_the_person_and_later_events_create_nothing(
    as_person, settings_for, publish, run_id, running, eventually, person
):
    me = f"gone-{run_id}"
    async with running(settings_for()) as (app, client):
        await publish.event(person(me, name="Gabi Gone"))
        await publish.event(acquired(me, f"skill-a-{run_id}", 2))

        async def has_item():
            answer = await client.get(f"/people/{me}/inbox", auth=as_person(me))
            return answer.status_code == 200 and answer.json()["total"] == 1

        await eventually(has_item)
        await publish.event(ProfileErased(person_id=me, sequence=3))

        async def forgotten():
            return (await client.get(f"/people/{me}/inbox", auth=as_person(me))).status_code == 404

        await eventually(forgotten)
        late = await publish.event(acquired(me, f"skill-b-{run_id}", 4))
        stale = await publish.event(person(me, name="Gabi Gone", seq=1))
        await publish.event(person(f"marker-{run_id}", name="Marker"))  # consumed after them

        async def marker():
            return (
                await client.get(
                    f"/people/marker-{run_id}/preferences", auth=as_person(f"marker-{run_id}")
                )
            ).status_code == 200

        await eventually(marker)
        store = app.state.service.store.collection
        left = await store.count_documents({"person_id": me})
        person_doc = await app.state.service.people.collection.find_one({"_id": me})
    assert late.id and stale.id
    assert left == 0
    assert person_doc is not None and person_doc.get("erased") is True
    assert "email" not in person_doc and "display_name" not in person_doc


async def test_session_reminder_appears_in_the_inbox_at_its_time(
    as_person, settings_for, publish, run_id, running, eventually, person
):
    from peerloop_contracts.matching import MatchAccepted

    me, helper = f"req-{run_id}", f"help-{run_id}"
    # An hour before the session is a few seconds from now.
    starts = datetime.now(UTC) + timedelta(hours=1, seconds=10)
    async with running(settings_for()) as (app, client):
        await publish.event(person(me, name="Rita Requester"))
        await publish.event(person(helper, name="Hugo Helper"))

        async def both_known():
            answers = [
                await client.get(f"/people/{p}/inbox", auth=as_person(p)) for p in (me, helper)
            ]
            return all(a.status_code == 200 for a in answers)

        await eventually(both_known)  # so the texts can name them
        entry = await publish.event(
            MatchAccepted(
                request_id=f"r-{run_id}",
                requester_id=me,
                proposal_id=f"pr-{run_id}",
                helper_id=helper,
                session_id=f"s-{run_id}",
                skill_id="kubernetes",
                scheduled_at=starts,
                sequence=4,
            )
        )

        async def kinds():
            answer = await client.get(f"/people/{me}/inbox", auth=as_person(me))
            return answer.status_code == 200 and [i["kind"] for i in answer.json()["items"]]

        first = await eventually(kinds)
        if datetime.now(UTC) < starts - timedelta(hours=1, seconds=1):
            assert first == ["match-accepted"]
            assert (await client.get(f"/people/{helper}/inbox", auth=as_person(helper))).json()[
                "total"
            ] == 0

        async def reminded():
            found = await kinds()
            return found if "session-reminder" in found else None

        assert await eventually(reminded, timeout=20) == ["session-reminder", "match-accepted"]
        assert datetime.now(UTC) >= starts - timedelta(hours=1)
        items = (await client.get(f"/people/{helper}/inbox", auth=as_person(helper))).json()[
            "items"
        ]
        assert [i["subject"] for i in items] == [
            f"Reminder: Kubernetes session with Rita Requester at {starts:%H:%M} UTC"
        ]
        store = app.state.service.store.collection

        async def recorded():
            doc = await store.find_one({"_id": f"inbox:{helper}:{entry.id}:session-reminder"})
            return doc if doc and doc.get("state") == "sent" else None

        await eventually(recorded)
