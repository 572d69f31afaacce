"""The kinds of notification people receive, and the channels they can arrive on."""

from __future__ import annotations

from typing import Literal, get_args

from peerloop_contracts.notifications import Channel

Kind = Literal[
    "match-proposed",
    "match-accepted",
    "session-reminder",
    "session-invitation",
    "match-declined",
    "match-expired",
    "help-request-unmatched",
    "help-request-waiting",
    "help-request-moved",
    "help-request-cancelled",
    "session-completed",
    "feedback-received",
    "teach-back-invitation",
]

KINDS: tuple[Kind, ...] = get_args(Kind)
OUTBOUND_CHANNELS: tuple[Channel, ...] = ("email", "webhook")
"""Channels that leave the service and so go through the delivery queue."""

TIME_BOUND: frozenset[Kind] = frozenset({"session-reminder", "session-invitation"})
"""Kinds tied to a moment: never held back for quiet hours or the digest."""

ONLY_BY_EMAIL: frozenset[Kind] = frozenset({"session-invitation"})
"""Kinds that exist to carry an e-mail attachment (the calendar invitation): the inbox
already tells of the session (match-accepted), so they go nowhere else."""
