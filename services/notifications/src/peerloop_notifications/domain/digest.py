"""Grouping of e-mails waiting for a person's daily digest."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from peerloop_notifications.domain.kinds import KINDS, Kind


@dataclass(frozen=True)
class DigestItem:
    notification_id: str
    kind: Kind
    subject: str
    body: str


@dataclass(frozen=True)
class DigestSection:
    kind: Kind
    items: tuple[DigestItem, ...]


def group_digest(items: Iterable[DigestItem]) -> list[DigestSection]:
    """Sections by kind in a fixed order (the order of `KINDS`), items in arrival order."""
    by_kind: dict[Kind, list[DigestItem]] = {}
    for item in items:
        by_kind.setdefault(item.kind, []).append(item)
    return [DigestSection(kind, tuple(by_kind[kind])) for kind in KINDS if kind in by_kind]
