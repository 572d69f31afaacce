"""The documented receiver (examples/webhook_receiver.py) takes a real delivery from the
service's sender and refuses it replayed, stale, altered or signed with another key."""

from __future__ import annotations

import ast
import hashlib
import hmac
import importlib.util
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from peerloop_notifications.adapters.senders import DeliveryError, Outgoing
from peerloop_notifications.adapters.webhook_sender import SIGNATURE_HEADER, WebhookSender
from peerloop_runtime.outbound import OutboundClient, OutboundSettings

EXAMPLE = Path(__file__).resolve().parents[4] / "examples" / "webhook_receiver.py"
NEW, OLD = "n" * 32, "o" * 32
LOCAL = OutboundSettings.model_validate(
    {"allow_networks": ["127.0.0.1/32"], "plain_http_networks": ["127.0.0.1/32"]}
)


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("webhook_receiver", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[dict[str, Any]], list[tuple[bytes, dict[str, str]]]]]:
    """The example on a real port; also records each raw request, as an eavesdropper would."""
    example = _load()
    messages: list[dict[str, Any]] = []
    raw: list[tuple[bytes, dict[str, str]]] = []
    srv = example.server([OLD], messages.append, port=0)  # a receiver still on the old key
    genuine = srv.RequestHandlerClass

    class Recording(genuine):  # type: ignore[misc, valid-type]
        def do_POST(self) -> None:  # noqa: N802 (the name http.server calls)
            body = self.rfile.peek(int(self.headers.get("Content-Length", "0")))
            raw.append((bytes(body), dict(self.headers)))
            super().do_POST()

    srv.RequestHandlerClass = Recording
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}/hook", messages, raw
    finally:
        srv.shutdown()
        srv.server_close()


def test_the_example_needs_nothing_but_the_standard_library() -> None:
    tree = ast.parse(EXAMPLE.read_text())
    imported = {
        (node.names[0].name if isinstance(node, ast.Import) else node.module or "").split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
    }
    assert not {name for name in imported if name.startswith("peerloop")}
    assert imported <= {"__future__", *__import__("sys").stdlib_module_names}, imported


async def _deliver(url: str) -> None:
    client = OutboundClient(LOCAL)
    try:
        sender = WebhookSender(secrets=[NEW, OLD], client=client, deadline_seconds=5)
        await sender.send(Outgoing("webhook:p-1:ev-1:match-proposed", url, "Hello", "body"))
    finally:
        await client.aclose()


def _resign(body: bytes, timestamp: int, secret: str = OLD) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


async def test_a_real_delivery_is_accepted_once_and_its_copies_refused(receiver) -> None:  # type: ignore[no-untyped-def]
    url, messages, raw = receiver
    await _deliver(url)
    assert [m["delivery_id"] for m in messages] == ["webhook:p-1:ev-1:match-proposed"]
    body, headers = raw[0]
    signature = headers[SIGNATURE_HEADER]
    async with httpx.AsyncClient() as http:

        async def post(content: bytes, sig: str | None) -> httpx.Response:
            extra = {} if sig is None else {SIGNATURE_HEADER: sig}
            return await http.post(url, content=content, headers=extra)

        replayed = await post(body, signature)
        assert replayed.status_code == 409 and "seen before" in replayed.text

        stale_at = int(time.time()) - 600
        stale = await post(body, _resign(body, stale_at))
        assert stale.status_code == 400 and "stale" in stale.text

        tampered = await post(body.replace(b"Hello", b"Pay me"), signature)
        assert tampered.status_code == 400 and "does not match" in tampered.text

        forged = await post(body, _resign(body, int(time.time()), "x" * 32))
        assert forged.status_code == 400 and "does not match" in forged.text

        assert (await post(body, None)).status_code == 400
    assert len(messages) == 1


async def test_a_delivery_signed_only_with_a_key_the_receiver_lacks_fails(receiver) -> None:  # type: ignore[no-untyped-def]
    url, messages, _raw = receiver
    client = OutboundClient(LOCAL)
    try:
        sender = WebhookSender(secrets=[NEW], client=client, deadline_seconds=5)
        with pytest.raises(DeliveryError) as caught:
            await sender.send(Outgoing("webhook:p-1:ev-2:x", url, "s", "b"))
    finally:
        await client.aclose()
    assert caught.value.reason == "HTTP 400" and caught.value.permanent
    assert messages == []
