"""What the application needs from its stores."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

from peerloop_insights.domain.facts import Facts


class FactLog(Protocol):
    """Facts appended batch by batch; reading folds them (merging is idempotent)."""

    async def append(self, delta: Facts) -> None: ...

    async def read(self, since: datetime | None) -> tuple[list[Facts], datetime | None]:
        """The deltas written at or after `since` (all when None) and the newest write time."""
        ...


class Pseudonyms(Protocol):
    """The only place a person id meets the token the facts know them by."""

    async def tokens(self, person_ids: Iterable[str]) -> dict[str, str]:
        """Each id's token, made on first sight; ERASED for an erased person."""
        ...

    async def erase(self, person_id: str) -> None:
        """Forget which token was this person's; remember the token as erased."""
        ...

    async def erased_tokens(self) -> set[str]: ...
