"""What a channel sender promises, and how it reports a failure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class DeliveryError(Exception):
    """A send did not succeed. `permanent` failures are not retried."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


@dataclass(frozen=True)
class Outgoing:
    """One message leaving the service. `delivery_id` is stable across retries so a
    receiver can drop a copy sent again after a crash in mid-send."""

    delivery_id: str
    address: str
    subject: str
    body: str


class Sender(Protocol):
    async def send(self, message: Outgoing) -> None: ...


class InboxReveal:
    """The inbox "channel" of a deferred item: it shows up by its `visible_at`, so
    there is nothing to send; the worker only records the delivery."""

    async def send(self, message: Outgoing) -> None:
        return None
