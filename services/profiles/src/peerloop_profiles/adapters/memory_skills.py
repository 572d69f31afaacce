"""In-memory skill definitions with the same contract as the Mongo store (for unit tests)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from peerloop_runtime.outbox import OutboxEntry

from peerloop_profiles.application.errors import SkillNameTaken
from peerloop_profiles.domain.organisation_skills import SkillDefinition


@dataclass
class InMemorySkillDefinitions:
    definitions: dict[str, SkillDefinition] = field(default_factory=dict)
    outbox: list[OutboxEntry] = field(default_factory=list)

    async def get(self, skill_id: str) -> SkillDefinition | None:
        return self.definitions.get(skill_id)

    async def add(self, definition: SkillDefinition, outbox: Sequence[OutboxEntry]) -> bool:
        if definition.skill_id in self.definitions:
            return False
        self._check_keys(definition)
        self.definitions[definition.skill_id] = definition
        self.outbox.extend(outbox)
        return True

    async def save(
        self, definition: SkillDefinition, expected_version: int, outbox: Sequence[OutboxEntry]
    ) -> bool:
        current = self.definitions.get(definition.skill_id)
        if current is None or current.version != expected_version:
            return False
        self._check_keys(definition)
        self.definitions[definition.skill_id] = definition
        self.outbox.extend(outbox)
        return True

    def _check_keys(self, definition: SkillDefinition) -> None:
        if definition.removed:
            return
        mine = set(definition.keys())
        for other in self.definitions.values():
            live = other.skill_id != definition.skill_id and not other.removed
            if live and mine & set(other.keys()):
                raise SkillNameTaken(definition.skill_id)
