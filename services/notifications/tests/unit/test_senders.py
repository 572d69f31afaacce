"""Senders: what goes on the wire, and which failures are worth retrying."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator

import aiosmtplib
import pytest
from peerloop_notifications.adapters import email_sender
from peerloop_notifications.adapters.email_sender import SmtpSender
from peerloop_notifications.adapters.senders import DeliveryError, Outgoing
from peerloop_notifications.adapters.webhook_sender import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    WebhookSender,
    verify_signature,
)
from peerloop_runtime.outbound import OutboundClient, OutboundSettings

MESSAGE = Outgoing("email:p-1:ev-1:match-proposed", "p-1@example.com", "Subject <x>", "Body & more")


LOCAL = OutboundSettings.model_validate(
    {"allow_networks": ["127.0.0.1/32"], "plain_http_networks": ["127.0.0.1/32"]}
)
SECRET = "k" * 32


@contextlib.asynccontextmanager
async def receiver(status: int, seen: list[tuple[dict[str, str], bytes]]) -> AsyncIterator[str]:
    """A real HTTP listener on 127.0.0.1 answering `status`, recording what it got."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode()
        headers = dict(line.split(": ", 1) for line in head.split("\r\n")[1:] if ": " in line)
        lowered = {k.lower(): v for k, v in headers.items()}
        body = await reader.readexactly(int(lowered.get("content-length", "0")))
        seen.append((lowered, body))
        extra = "Location: http://127.0.0.1:9/elsewhere\r\n" if 300 <= status < 400 else ""
        writer.write(
            f"HTTP/1.1 {status} X\r\n{extra}Content-Length: 24\r\nConnection: close\r\n\r\n"
            "internal secret answer!!".encode()
        )
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/T/B"
    finally:
        server.close()
        await server.wait_closed()


async def _send(
    url: str, *, settings: OutboundSettings = LOCAL, secrets: list[str] | None = None
) -> None:
    client = OutboundClient(settings)
    try:
        sender = WebhookSender(secrets=secrets or [SECRET], client=client, deadline_seconds=5)
        await sender.send(Outgoing("webhook:p-1:ev-1:x", url, "Hi <b>", "a & b"))
    finally:
        await client.aclose()


async def test_webhook_posts_slack_json_signed_over_timestamp_and_body():
    seen: list[tuple[dict[str, str], bytes]] = []
    async with receiver(200, seen) as url:
        await _send(url)
    headers, body = seen[0]
    assert json.loads(body) == {
        "text": "*Hi &lt;b&gt;*\na &amp; b",
        "delivery_id": "webhook:p-1:ev-1:x",
    }
    signature = headers[SIGNATURE_HEADER.lower()]
    assert verify_signature([SECRET], body, signature)
    assert headers[DELIVERY_HEADER.lower()] == "webhook:p-1:ev-1:x"
    timestamp = int(signature.split(",")[0].removeprefix("t="))
    assert abs(time.time() - timestamp) < 5
    assert not verify_signature([SECRET], body.replace(b"Hi", b"Ho"), signature), "tampered"
    assert not verify_signature([SECRET], body, signature, now=timestamp + 301), "stale"
    assert not verify_signature(["other" * 8], body, signature), "another key"
    resigned = signature.replace(f"t={timestamp}", f"t={timestamp + 100}")
    assert not verify_signature([SECRET], body, resigned, now=timestamp + 100), "new timestamp"


async def test_during_a_key_change_each_key_signs_and_either_verifies():
    seen: list[tuple[dict[str, str], bytes]] = []
    new, old = "n" * 32, "o" * 32
    async with receiver(200, seen) as url:
        await _send(url, secrets=[new, old])
    headers, body = seen[0]
    signature = headers[SIGNATURE_HEADER.lower()]
    assert signature.count("v1=") == 2
    assert verify_signature([old], body, signature)  # a receiver not yet told of the new key
    assert verify_signature([new], body, signature)  # one already switched
    assert not verify_signature(["x" * 32], body, signature)


@pytest.mark.parametrize(
    ("status", "permanent"),
    [(500, False), (503, False), (429, False), (408, False), (400, True), (404, True), (410, True)],
)
async def test_webhook_failures_are_retried_only_when_the_receiver_may_recover(status, permanent):
    async with receiver(status, []) as url:
        with pytest.raises(DeliveryError) as caught:
            await _send(url)
    assert caught.value.permanent is permanent
    assert caught.value.reason == f"HTTP {status}", "only the status, never the answer"


@pytest.mark.parametrize("status", [301, 302, 307, 308])
async def test_a_redirect_fails_for_good_and_is_not_followed(status):
    seen: list[tuple[dict[str, str], bytes]] = []
    async with receiver(status, seen) as url:
        with pytest.raises(DeliveryError) as caught:
            await _send(url)
    assert (
        caught.value.permanent
        and caught.value.reason == f"HTTP {status} (redirects are not followed)"
    )
    assert len(seen) == 1


async def test_an_internal_receiver_is_refused_without_contact_and_named_by_category():
    seen: list[tuple[dict[str, str], bytes]] = []
    async with receiver(200, seen) as url:
        with pytest.raises(DeliveryError) as caught:
            await _send(url.replace("http://", "https://"), settings=OutboundSettings())
    assert caught.value.reason == "refused: loopback address" and caught.value.permanent
    assert seen == []


def test_email_carries_a_message_id_stable_across_retries():
    sender = SmtpSender(host="127.0.0.1", port=1025, sender="Peerloop <n@peerloop.local>")
    first, again = sender.build(MESSAGE), sender.build(MESSAGE)
    assert first["Message-ID"] == again["Message-ID"]
    assert first["Message-ID"] == "<email.p-1.ev-1.match-proposed@peerloop.notifications>"
    assert first["To"] == "p-1@example.com" and first.get_content().strip() == "Body & more"


@pytest.mark.parametrize(
    ("error", "permanent"),
    [
        (aiosmtplib.SMTPConnectError("refused"), False),
        (aiosmtplib.SMTPResponseException(451, "try later"), False),
        (aiosmtplib.SMTPResponseException(554, "no"), True),
        (
            aiosmtplib.SMTPRecipientsRefused(
                [aiosmtplib.SMTPRecipientRefused(550, "no such user", "x")]
            ),
            True,
        ),
        (
            aiosmtplib.SMTPRecipientsRefused(
                [aiosmtplib.SMTPRecipientRefused(452, "mailbox full", "x")]
            ),
            False,
        ),
        (TimeoutError(), False),
    ],
)
async def test_smtp_failures_are_retried_only_when_the_server_may_recover(
    monkeypatch, error, permanent
):
    async def fail(*_args, **_kwargs):
        raise error

    monkeypatch.setattr(email_sender.aiosmtplib, "send", fail)
    with pytest.raises(DeliveryError) as caught:
        await SmtpSender(host="127.0.0.1", port=1025, sender="n@peerloop.local").send(MESSAGE)
    assert caught.value.permanent is permanent
