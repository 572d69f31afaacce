"""Organisation skills: an admin defines a skill, or adds aliases to a catalogue one.

The definition and its `organisation-skill-defined` record are one write (the record in
the document's outbox). This replica applies it to its catalogue at once, so the admin's
next type-ahead finds it; every other replica applies the record from the topic.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from peerloop_contracts.organisation_skills import OrganisationLayer
from peerloop_contracts.states import OrganisationSkillDefined
from peerloop_runtime.outbox import outbox_entry, tombstone_entry

from peerloop_profiles.application.errors import SkillChanged, SkillNotDefined
from peerloop_profiles.application.ports import SkillDefinitionRepository
from peerloop_profiles.domain import organisation_skills
from peerloop_profiles.domain.organisation_skills import SkillDefinition


@dataclass
class OrganisationSkills:
    store: SkillDefinitionRepository
    layer: OrganisationLayer
    on_outbox: Callable[[str], None] = lambda _skill_id: None

    async def get(self, skill_id: str) -> SkillDefinition | None:
        """The live definition, if the organisation has one."""
        found = await self.store.get(skill_id)
        return None if found is None or found.removed else found

    async def define(
        self,
        skill_id: str,
        *,
        name: str | None,
        aliases: Sequence[str] = (),
        description: str = "",
        related: Sequence[str] = (),
        broader: Sequence[str] = (),
        expected_version: int | None = None,
        traceparent: str | None = None,
    ) -> SkillDefinition:
        current = await self.store.get(skill_id)
        version = current.version if current is not None else 0
        if expected_version is not None and expected_version != version:
            raise SkillChanged(skill_id, expected_version, version)
        decided = organisation_skills.define(
            self.layer.catalogue,
            skill_id,
            name=name,
            aliases=aliases,
            description=description,
            related=related,
            broader=broader,
        )
        if current is not None and not current.removed and _same(current, decided):
            return current
        stored = replace(decided, version=version + 1)
        outbox = [outbox_entry(stored.state(), traceparent=traceparent)]
        written = (
            await self.store.add(stored, outbox)
            if current is None
            else await self.store.save(stored, version, outbox)
        )
        if not written:
            raise SkillChanged(skill_id, version, None)
        self.on_outbox(skill_id)
        self.layer.apply(stored.state())
        return stored

    async def remove(
        self,
        skill_id: str,
        *,
        expected_version: int | None = None,
        traceparent: str | None = None,
    ) -> SkillDefinition:
        current = await self.get(skill_id)
        if current is None:
            raise SkillNotDefined(skill_id)
        if expected_version is not None and expected_version != current.version:
            raise SkillChanged(skill_id, expected_version, current.version)
        stored = replace(current, version=current.version + 1, removed=True)
        outbox = [tombstone_entry(OrganisationSkillDefined, skill_id, traceparent=traceparent)]
        if not await self.store.save(stored, current.version, outbox):
            raise SkillChanged(skill_id, current.version, None)
        self.on_outbox(skill_id)
        self.layer.removed(skill_id, stored.version)
        return stored


def _same(a: SkillDefinition, b: SkillDefinition) -> bool:
    return replace(a, version=0) == replace(b, version=0)
