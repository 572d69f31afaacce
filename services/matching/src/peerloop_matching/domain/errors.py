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
    pass


class IdempotencyKeyReusedError(DomainError):
    """An idempotency key already names a different ask of the same requester."""
