"""Erasure reaches other people's texts: on the real broker and store."""

from __future__ import annotations

import pytest
from peerloop_contracts.matching import FeedbackGiven
from peerloop_contracts.profiles import ProfileErased
from peerloop_notifications.domain.notification import REDACTED

pytestmark = pytest.mark.integration


async def test_an_erased_persons_name_and_words_leave_everybody_elses_inbox_and_mail(
    as_person, settings_for, publish, run_id, running, eventually, person
):
    rater, rated = f"rater-{run_id}", f"rated-{run_id}"
    comment = f"Patient and clear {run_id}"
    async with running(settings_for()) as (app, client):
        await publish.event(person(rater, name="Ria Rater"))
        await publish.event(person(rated, name="Rob Rated"))

        async def known() -> bool:
            answer = await client.get(f"/people/{rated}/preferences", auth=as_person(rated))
            return answer.status_code == 200

        await eventually(known)
        # The mail waits in quiet hours all day, so it is still queued when the erasure comes.
        quiet = {"quiet_hours": {"start": "00:00", "end": "23:59"}}
        saved = await client.put(
            f"/people/{rated}/preferences",
            json={"expected_version": 0, "preferences": quiet},
            auth=as_person(rated),
        )
        assert saved.status_code == 200, saved.text
        await publish.event(
            FeedbackGiven(
                request_id=f"r-{run_id}",
                requester_id=rater,
                session_id=f"s-{run_id}",
                from_id=rater,
                to_id=rated,
                role_of_rated="teacher",
                rating=5,
                comment=comment,
                sequence=7,
            )
        )

        async def texts() -> str:
            answer = await client.get(f"/people/{rated}/inbox", auth=as_person(rated))
            items = answer.json()["items"]
            return " ".join(i["subject"] + " " + i["body"] for i in items)

        async def named() -> bool:
            return "Ria Rater" in await texts() and comment in await texts()

        await eventually(named)
        await publish.event(ProfileErased(person_id=rater, sequence=9))

        async def redacted() -> bool:
            text = await texts()
            return "Ria Rater" not in text and comment not in text and REDACTED in text

        await eventually(redacted)
        mails = [
            doc
            async for doc in app.state.service.store.collection.find(
                {"person_id": rated, "channel": "email"}
            )
        ]
    assert len(mails) == 1 and mails[0]["state"] == "pending"
    assert "Ria" not in mails[0]["subject"] + mails[0]["body"]
    assert comment not in mails[0]["body"] and REDACTED in mails[0]["body"]
    assert "Rob" in mails[0]["body"]  # the recipient's own name stays
