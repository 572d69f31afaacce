"""One notification: what one person reads about one event, on one channel.

Inbox items are shown from `visible_at` on and carry a read mark; outbound ones
(e-mail, webhook) carry a `Delivery`. A deferred inbox item (a reminder) has a
delivery as well: the worker records when it showed up.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from peerloop_contracts.notifications import Channel
from peerloop_runtime.outbox import OutboxEntry

from peerloop_notifications.domain.delivery import Delivery
from peerloop_notifications.domain.kinds import Kind

REDACTED = "a former colleague"
"""What stands where an erased person was named."""


def notification_id(person_id: str, source_event_id: str, channel: Channel, kind: str) -> str:
    # The kind is part of it: one event can mean two things to one person (an
    # acceptance now, a reminder later).
    return f"{channel}:{person_id}:{source_event_id}:{kind}"


@dataclass(frozen=True)
class Notification:
    id: str
    person_id: str
    kind: Kind
    channel: Channel
    source_event_id: str
    source_type: str
    subject: str
    body: str
    created_at: datetime
    request_id: str | None = None
    links: Mapping[str, str | int] = field(default_factory=dict)
    mentions: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Other people in the texts: per person id, their name and their words as written
    there, so that their erasure can take them out again (`forget`)."""
    visible_at: datetime | None = None
    """Inbox only: shown from this moment on."""
    read: bool = False
    delivered_at: datetime | None = None
    digest: bool = False
    """E-mail only: waits for the person's daily digest."""
    delivery: Delivery | None = None
    outbox: tuple[OutboxEntry, ...] = ()
    """Events to publish with this notification, written in the same write."""
    calendar: str | None = None
    """E-mail only: an iCalendar invitation (iTIP) to send along, in the reader's zone."""

    @property
    def is_inbox(self) -> bool:
        return self.channel == "inbox"

    def visible(self, now: datetime) -> bool:
        return self.is_inbox and self.visible_at is not None and self.visible_at <= now

    def forget(self, person_id: str) -> Notification:
        """This notification with the person's name and words replaced by `REDACTED`."""
        said = self.mentions.get(person_id)
        if said is None:
            return self
        return replace(
            self,
            subject=redact_text(self.subject, said),
            body=redact_text(self.body, said),
            # The invitation names them and carries their address: it goes whole.
            calendar=None,
            mentions={p: t for p, t in self.mentions.items() if p != person_id},
        )


def redact_text(text: str, words: Iterable[str]) -> str:
    """`text` with every whole-word occurrence of each of `words` replaced by `REDACTED`."""
    for word in sorted({w.strip() for w in words if w and w.strip()}, key=len, reverse=True):
        text = re.sub(rf"(?<!\w){re.escape(word)}(?!\w)", REDACTED, text)
    return text
