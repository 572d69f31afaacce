"""Chat webhooks (Slack/Teams incoming-webhook JSON), signed so a copy cannot be replayed.

`Peerloop-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">` — one
`v1` per valid key while a key changes (new key first). The body names its delivery
(`delivery_id`, stable across retries), so the timestamp says when and the body says
which message to whom; a receiver checks the signature, refuses a timestamp more than
`TOLERANCE_SECONDS` away and drops a `delivery_id` it has seen (docs/webhooks.md).
The call itself goes through the shared outbound policy (`runtime.outbound`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass

from peerloop_runtime.outbound import OutboundClient, OutboundError

from peerloop_notifications.adapters.senders import DeliveryError, Outgoing
from peerloop_notifications.domain.texts import Text, chat_text

SIGNATURE_HEADER = "Peerloop-Signature"
DELIVERY_HEADER = "Peerloop-Delivery"
TOLERANCE_SECONDS = 300


def _mac(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign(secrets: Sequence[str], body: bytes, *, timestamp: int) -> str:
    """The signature header: the timestamp, then one `v1` per key, the newest first."""
    return ",".join([f"t={timestamp}", *(f"v1={_mac(s, timestamp, body)}" for s in secrets)])


def verify_signature(
    secrets: Sequence[str],
    body: bytes,
    header: str | None,
    *,
    now: float | None = None,
    tolerance: int = TOLERANCE_SECONDS,
) -> bool:
    """The receiver's check: a fresh timestamp and a `v1` made with one of `secrets`."""
    if not header:
        return False
    pairs = [part.strip().partition("=") for part in header.split(",")]
    stamps = [value for key, _, value in pairs if key == "t"]
    signatures = [value for key, _, value in pairs if key == "v1"]
    if len(stamps) != 1 or not stamps[0].isdigit():
        return False
    timestamp = int(stamps[0])
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = [_mac(secret, timestamp, body) for secret in secrets]
    return any(hmac.compare_digest(e, s) for e in expected for s in signatures)


def _is_retryable(status: int) -> bool:
    return status in (408, 425, 429) or status >= 500


@dataclass
class WebhookSender:
    secrets: Sequence[str]
    """The signing keys, the current one first (two while a key changes)."""
    client: OutboundClient
    deadline_seconds: float = 10.0

    def payload(self, message: Outgoing) -> bytes:
        return json.dumps(
            {
                "text": chat_text(Text(subject=message.subject, body=message.body)),
                "delivery_id": message.delivery_id,
            },
            ensure_ascii=False,
        ).encode()

    async def send(self, message: Outgoing) -> None:
        body = self.payload(message)
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(self.secrets, body, timestamp=int(time.time())),
            DELIVERY_HEADER: message.delivery_id,
        }
        try:
            response = await self.client.post(
                message.address,
                content=body,
                headers=headers,
                deadline_seconds=self.deadline_seconds,
            )
        except OutboundError as exc:
            # Only the category: what an internal host said stays out of the owner's record.
            raise DeliveryError(exc.category, permanent=exc.permanent) from exc
        status = response.status_code
        if 200 <= status < 300:
            return
        if 300 <= status < 400:
            raise DeliveryError(f"HTTP {status} (redirects are not followed)", permanent=True)
        raise DeliveryError(f"HTTP {status}", permanent=not _is_retryable(status))
