"""In-memory evidence items with the same contract as the Mongo store (for unit tests)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from peerloop_profiles.domain.evidence import EvidenceItem, EvidenceKind


@dataclass
class InMemoryEvidence:
    items: dict[tuple[str, str, str, str], EvidenceItem] = field(default_factory=dict)

    async def put(self, item: EvidenceItem) -> None:
        self.items[item.key] = item

    async def of(self, person_id: str) -> list[EvidenceItem]:
        return [i for i in self.items.values() if i.person_id == person_id]

    async def forget(self, person_id: str) -> None:
        for key, item in list(self.items.items()):
            if item.person_id == person_id:
                del self.items[key]
            elif item.kind is EvidenceKind.ENDORSED and item.source == person_id:
                del self.items[key]
                kept = item.model_copy(update={"source": anonymous_source()})
                self.items[kept.key] = kept


def anonymous_source() -> str:
    """Stands in for an erased endorser: unique, so the endorsement still counts once."""
    return f"erased-{uuid.uuid4().hex}"
