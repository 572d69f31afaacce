"""The organisation layer of the catalogue, applied from `organisation-skill-defined` records.

Profiles and matching apply the same records the same way: every replica follows the
compacted topic from its beginning, so each holds the whole layer; the replica that made
a definition applies it at once, before its record comes back.
"""

from __future__ import annotations

from peerloop_contracts.skills import Skill, SkillCatalogue
from peerloop_contracts.states import OrganisationSkillDefined, Tombstone


def as_skill(definition: OrganisationSkillDefined) -> Skill:
    return Skill(
        id=definition.skill_id,
        name=definition.name,
        aliases=tuple(definition.aliases),
        related=tuple(definition.related),
        description=definition.description,
        source="organisation",
        broader=tuple(definition.broader),
    )


class OrganisationLayer:
    """Applies definitions to one catalogue, each skill's newest only."""

    def __init__(self, catalogue: SkillCatalogue) -> None:
        self.catalogue = catalogue
        self._applied: dict[str, int] = {}
        """skill id -> sequence of the newest definition (or removal) applied."""

    def apply(self, record: OrganisationSkillDefined | Tombstone) -> bool:
        """True when the catalogue changed; an older record than one applied is ignored."""
        if isinstance(record, Tombstone):
            # A tombstone carries no sequence; on the topic it follows every definition
            # of its key, and a removal made here was already noted by `removed`.
            self.catalogue.undefine(record.key)
            return True
        if record.sequence <= self._applied.get(record.skill_id, 0):
            return False
        self._applied[record.skill_id] = record.sequence
        self.catalogue.define(as_skill(record))
        return True

    def removed(self, skill_id: str, sequence: int) -> None:
        """A removal made here: forget the skill, and ignore older definitions of it."""
        self._applied[skill_id] = sequence
        self.catalogue.undefine(skill_id)

    async def on_record(self, record: OrganisationSkillDefined | Tombstone, _meta: object) -> None:
        """The consumer handler (every replica, no group) of the definitions topic."""
        self.apply(record)
