"""A delivery of one notification on one outbound channel, and the moves it may make.

pending → sending (a worker claimed an attempt, holding a lease)
sending → sent | failed | skipped | pending (retry later) | sending (the lease ran out: taken over)

`sent`, `failed` and `skipped` are final. Each move is a pure function of the
delivery in hand; the stores make the same move atomically, conditional on the
state they read (see `application.ports.NotificationStore`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from peerloop_notifications.domain.retry import Backoff


class DeliveryState(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"


TRANSITIONS: dict[DeliveryState, frozenset[DeliveryState]] = {
    DeliveryState.PENDING: frozenset({DeliveryState.SENDING}),
    DeliveryState.SENDING: frozenset(
        {
            DeliveryState.SENT,
            DeliveryState.FAILED,
            DeliveryState.SKIPPED,
            DeliveryState.PENDING,
            DeliveryState.SENDING,
        }
    ),
    DeliveryState.SENT: frozenset(),
    DeliveryState.FAILED: frozenset(),
    DeliveryState.SKIPPED: frozenset(),
}
FINAL = frozenset(state for state, onward in TRANSITIONS.items() if not onward)


class InvalidTransitionError(Exception):
    """A delivery was asked to move where its state does not lead."""

    def __init__(self, state: DeliveryState, to: DeliveryState, why: str = "") -> None:
        super().__init__(f"a {state} delivery cannot become {to}{': ' + why if why else ''}")
        self.state = state
        self.to = to


@dataclass(frozen=True)
class Lease:
    owner: str
    until: datetime


@dataclass(frozen=True)
class Delivery:
    state: DeliveryState = DeliveryState.PENDING
    attempts: int = 0
    next_attempt_at: datetime | None = None
    lease: Lease | None = None
    last_error: str | None = None
    finished_at: datetime | None = None
    """When it became sent, failed or skipped."""

    @classmethod
    def queued(cls, at: datetime) -> Delivery:
        return cls(next_attempt_at=at)

    def is_due(self, now: datetime) -> bool:
        """Whether a worker may claim it now: due and pending, or its sender's lease ran out."""
        if self.state is DeliveryState.PENDING:
            return self.next_attempt_at is not None and self.next_attempt_at <= now
        return (
            self.state is DeliveryState.SENDING
            and self.lease is not None
            and self.lease.until < now
        )

    def held_by(self, owner: str) -> bool:
        return (
            self.state is DeliveryState.SENDING
            and self.lease is not None
            and self.lease.owner == owner
        )

    def _move(self, to: DeliveryState, **changes: Any) -> Delivery:
        if to not in TRANSITIONS[self.state]:
            raise InvalidTransitionError(self.state, to)
        return replace(self, state=to, **changes)

    def claimed(self, owner: str, now: datetime, lease: timedelta, *, attempt: int) -> Delivery:
        """Attempt number `attempt` (more than those made) by `owner`, leased until now + lease."""
        if not self.is_due(now):
            raise InvalidTransitionError(self.state, DeliveryState.SENDING, "not due")
        if attempt <= self.attempts:
            raise InvalidTransitionError(self.state, DeliveryState.SENDING, "attempt already made")
        return self._move(DeliveryState.SENDING, lease=Lease(owner, now + lease), attempts=attempt)

    def _settled(self, owner: str, to: DeliveryState, **changes: Any) -> Delivery:
        if not self.held_by(owner):
            raise InvalidTransitionError(self.state, to, f"not held by {owner}")
        return self._move(to, lease=None, **changes)

    def sent(self, owner: str, now: datetime) -> Delivery:
        return self._settled(owner, DeliveryState.SENT, finished_at=now, last_error=None)

    def failed(self, owner: str, now: datetime, error: str) -> Delivery:
        return self._settled(owner, DeliveryState.FAILED, finished_at=now, last_error=error)

    def skipped(self, owner: str, now: datetime, reason: str) -> Delivery:
        return self._settled(owner, DeliveryState.SKIPPED, finished_at=now, last_error=reason)

    def rescheduled(self, owner: str, at: datetime, error: str) -> Delivery:
        return self._settled(owner, DeliveryState.PENDING, next_attempt_at=at, last_error=error)


def gives_up(*, permanent: bool, attempts: int, backoff: Backoff) -> bool:
    """After a failed attempt: fail for good (True) or try again later (False)."""
    return permanent or backoff.exhausted(attempts)
