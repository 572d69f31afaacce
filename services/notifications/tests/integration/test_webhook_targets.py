"""Webhook URLs that would reach inside are refused when stored, and again when sent."""

from __future__ import annotations

import pytest
from peerloop_notifications.domain.preferences import Preferences
from peerloop_runtime.outbound import OutboundSettings

from .test_exactly_once_delivery import _register, proposal

pytestmark = pytest.mark.integration

INTERNAL = [
    ("http://hooks.example.com/T/B", "plain http"),
    ("https://127.0.0.1:8103/hook", "loopback address"),
    ("https://2130706433/hook", "loopback address"),
    ("https://0x7f.0.0.1/hook", "loopback address"),
    ("https://[::1]/hook", "loopback address"),
    ("https://[::ffff:127.0.0.1]/hook", "loopback address"),
    ("https://localhost./hook", "loopback address"),
    ("https://10.1.2.3/hook", "private address"),
    ("https://[fd00::1]/hook", "private address"),
    ("https://100.64.0.1/hook", "private address"),
    ("https://169.254.169.254/latest/meta-data/", "cloud metadata address"),
    ("https://[fd00:ec2::254]/", "cloud metadata address"),
    ("https://user:pw@hooks.example.com/", "credentials in the URL"),
]


async def test_the_preferences_api_refuses_internal_and_plain_http_webhooks(
    as_person, settings_for, publish, run_id, running, eventually, person
):
    me = f"hooked-{run_id}"
    async with running(settings_for(outbound=OutboundSettings())) as (_, client):
        await publish.event(person(me, name="Hanna Hook"))

        async def known() -> bool:
            answer = await client.get(f"/people/{me}/preferences", auth=as_person(me))
            return answer.status_code == 200

        await eventually(known)
        for url, why in INTERNAL:
            answer = await client.put(
                f"/people/{me}/preferences",
                json={"expected_version": 0, "preferences": {"webhook_url": url}},
                auth=as_person(me),
            )
            assert answer.status_code == 422, (url, answer.text)
            detail = answer.json()["detail"][0]
            assert detail["loc"] == ["body", "preferences", "webhook_url"]
            assert why in detail["msg"] and "public https" in detail["msg"], detail
        stored = await client.put(
            f"/people/{me}/preferences",
            json={
                "expected_version": 0,
                "preferences": {"webhook_url": "https://hooks.example.com/T/B"},
            },
            auth=as_person(me),
        )
        assert stored.status_code == 200, stored.text


async def test_a_stored_internal_url_is_refused_at_delivery_without_contact(
    as_person, settings_for, publish, run_id, running, eventually, person, webhook_receiver
):
    """A URL stored before the check existed (or whose name now resolves inside): the
    delivery refuses it, the receiver on 127.0.0.1 hears nothing, the owner reads why."""
    helper = f"help-{run_id}"
    async with running(settings_for(outbound=OutboundSettings())) as (app, client):
        await _register(client, as_person, publish, person, eventually, run_id, webhook_url=None)
        url = webhook_receiver.url.replace("http://", "https://") + f"/{run_id}"
        await app.state.service.people.set_preferences(
            helper, Preferences.model_validate({"webhook_url": url}), 0
        )
        await publish.event(proposal(run_id))

        async def settled():
            answer = await client.get(f"/people/{helper}/deliveries", auth=as_person(helper))
            hooks = [d for d in answer.json() if d["channel"] == "webhook"]
            return hooks if hooks and hooks[0]["state"] == "failed" else None

        [delivery] = await eventually(settled)
    assert delivery["last_error"] == "refused: loopback address"
    assert delivery["attempts"] == 1, "a refusal is not retried"
    assert webhook_receiver.received == []
