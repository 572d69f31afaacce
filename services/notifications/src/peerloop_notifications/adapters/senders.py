"""Senders' shared names (defined with the ports), and the inbox "sender"."""

from __future__ import annotations

from peerloop_notifications.application.ports import DeliveryError, Outgoing, Sender

__all__ = ["DeliveryError", "InboxReveal", "Outgoing", "Sender"]


class InboxReveal:
    """The inbox "channel" of a deferred item: it shows up by its `visible_at`, so
    there is nothing to send; the worker only records the delivery."""

    async def send(self, message: Outgoing) -> None:
        return None
