"""What a command can be refused for; entrypoints map each to an HTTP status."""

from __future__ import annotations


class DomainError(Exception):
    """A command was refused; the message says why in words a person understands."""


class NotFoundError(DomainError):
    pass


class NotAllowedError(DomainError):
    """The acting person has no part in this (e.g. not the proposed helper)."""


class InvalidTransitionError(DomainError):
    """The request is not in a state where this is possible."""


class StaleVersionError(DomainError):
    """The caller acted on an older version than the one stored."""


class UnknownPersonError(DomainError):
    """Matching has not learned of this person yet: its read model lags behind profiles.

    Not the caller's fault (their token says who they are), so it is answered as a
    moment's unavailability, never as a client error.
    """

    retry_after_seconds = 2


class ErasedPersonError(DomainError):
    """The person was erased: their token may live on, but they can ask nothing any more."""


class IdempotencyKeyReusedError(DomainError):
    """An idempotency key already names a different ask of the same requester."""
