"""Chat webhooks (Slack/Teams incoming-webhook JSON), signed with HMAC-SHA256.

The receiver recomputes `sha256=<hex HMAC of the raw body>` with the shared
secret and compares it to `X-Peerloop-Signature` (see `verify_signature`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass

import httpx

from peerloop_notifications.adapters.senders import DeliveryError, Outgoing
from peerloop_notifications.domain.texts import Text, chat_text

SIGNATURE_HEADER = "X-Peerloop-Signature"
DELIVERY_HEADER = "X-Peerloop-Delivery"


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(secret: str, body: bytes, header: str | None) -> bool:
    return header is not None and hmac.compare_digest(sign(secret, body), header)


def _is_retryable(status: int) -> bool:
    return status in (408, 425, 429) or status >= 500


@dataclass
class WebhookSender:
    secret: str
    client: httpx.AsyncClient

    async def send(self, message: Outgoing) -> None:
        body = json.dumps(
            {"text": chat_text(Text(subject=message.subject, body=message.body))},
            ensure_ascii=False,
        ).encode()
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(self.secret, body),
            DELIVERY_HEADER: message.delivery_id,
        }
        try:
            response = await self.client.post(message.address, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"webhook unreachable: {type(exc).__name__}: {exc}") from exc
        if response.is_success:
            return
        raise DeliveryError(
            f"webhook answered {response.status_code}",
            permanent=not _is_retryable(response.status_code),
        )
