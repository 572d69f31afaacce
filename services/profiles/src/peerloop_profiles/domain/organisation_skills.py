"""What an admin may define in the organisation's layer of the skill catalogue.

An organisation skill is the organisation's own: it has a name, aliases, a description
and relations. A curated or ESCO skill is Peerloop's: the organisation may only add
aliases to it (renaming it would change what every other system calls it). No name or
alias may belong to two skills, or a request naming it could mean either.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from peerloop_contracts.skills import SkillCatalogue, normalise
from peerloop_contracts.states import (
    MAX_SKILL_ALIASES,
    MAX_SKILL_RELATIONS,
    OrganisationSkillDefined,
)

from peerloop_profiles.domain.errors import RuleViolation

MAX_NAME = 100
MAX_DESCRIPTION = 2000
_SKILL_ID = re.compile(r"^[a-z0-9][a-z0-9+#.-]{0,63}$")


@dataclass(frozen=True)
class SkillDefinition:
    """The organisation's definition of one skill, as stored (`removed` once deleted)."""

    skill_id: str
    name: str
    aliases: tuple[str, ...] = ()
    description: str = ""
    related: tuple[str, ...] = ()
    broader: tuple[str, ...] = ()
    extends: bool = False
    """True for a curated or ESCO skill: only `aliases` is the organisation's."""
    version: int = 0
    removed: bool = False

    def keys(self) -> list[str]:
        """The normalised names this definition holds (unique across definitions)."""
        names = (
            (self.skill_id, *self.aliases)
            if self.extends
            else (self.skill_id, self.name, *self.aliases)
        )
        return sorted({normalise(n) for n in names})

    def state(self) -> OrganisationSkillDefined:
        return OrganisationSkillDefined(
            skill_id=self.skill_id,
            name=self.name,
            aliases=list(self.aliases),
            description=self.description,
            related=list(self.related),
            broader=list(self.broader),
            extends=self.extends,
            sequence=self.version,
        )


def check_skill_id(skill_id: str) -> str:
    if not _SKILL_ID.match(skill_id) or normalise(skill_id) != skill_id:
        raise RuleViolation(
            "skill_id",
            f"{skill_id!r} is not a skill id: at most 64 lower-case letters, digits and "
            "+ # . -, starting with a letter or digit (e.g. acme-ledger)",
        )
    return skill_id


def _name(text: str, field: str) -> str:
    text = text.strip()
    if not text or len(text) > MAX_NAME:
        raise RuleViolation(field, f"{text!r}: a name is 1 to {MAX_NAME} characters")
    try:
        normalise(text)
    except ValueError as exc:
        raise RuleViolation(field, str(exc)) from exc
    return text


def _unheld(catalogue: SkillCatalogue, text: str, skill_id: str, field: str) -> None:
    holder = catalogue.holder(text)
    if holder is not None and holder != skill_id:
        raise RuleViolation(field, f"{text!r} already names the skill {holder!r}")


def _relations(
    catalogue: SkillCatalogue, ids: Sequence[str], skill_id: str, field: str
) -> tuple[str, ...]:
    unique = tuple(dict.fromkeys(ids))
    if len(unique) > MAX_SKILL_RELATIONS:
        raise RuleViolation(field, f"at most {MAX_SKILL_RELATIONS} skills, got {len(unique)}")
    for other in unique:
        if other == skill_id:
            raise RuleViolation(field, f"{skill_id!r} cannot be related to itself")
        if not catalogue.known(other):
            raise RuleViolation(field, f"{other!r} is not a skill of the catalogue")
    return unique


def define(
    catalogue: SkillCatalogue,
    skill_id: str,
    *,
    name: str | None,
    aliases: Sequence[str] = (),
    description: str = "",
    related: Sequence[str] = (),
    broader: Sequence[str] = (),
) -> SkillDefinition:
    """The definition to store, checked against the catalogue as it stands now.

    `aliases` is the whole list the organisation gives the skill (a new definition
    replaces the previous one), so leaving an alias out removes it.
    """
    check_skill_id(skill_id)
    _unheld(catalogue, skill_id, skill_id, "skill_id")
    base = catalogue.base(skill_id)
    if base is not None:
        refused = [
            f
            for f, given in (
                ("description", description),
                ("related", related),
                ("broader", broader),
            )
            if given
        ]
        if (name is not None and name.strip() != base.name) or refused:
            field = "name" if name is not None and name.strip() != base.name else refused[0]
            raise RuleViolation(
                field,
                f"{skill_id!r} is a {'curated' if base.source == 'peerloop' else 'ESCO'} "
                f"skill ({base.name}): only aliases can be added to it",
            )
        name = base.name
    elif name is None:
        raise RuleViolation("name", "a new skill needs a name")
    else:
        name = _name(name, "name")
        _unheld(catalogue, name, skill_id, "name")
    taken = {normalise(name)} | ({normalise(a) for a in base.aliases} if base else set())
    kept: list[str] = []
    for alias in aliases:
        alias = _name(alias, "aliases")
        key = normalise(alias)
        if key in taken:
            continue  # the name itself, or said twice: nothing to add
        _unheld(catalogue, alias, skill_id, "aliases")
        taken.add(key)
        kept.append(alias)
    if len(kept) > MAX_SKILL_ALIASES:
        raise RuleViolation("aliases", f"at most {MAX_SKILL_ALIASES} aliases, got {len(kept)}")
    if len(description) > MAX_DESCRIPTION:
        raise RuleViolation("description", f"at most {MAX_DESCRIPTION} characters")
    return SkillDefinition(
        skill_id=skill_id,
        name=name,
        aliases=tuple(kept),
        description=description.strip(),
        related=_relations(catalogue, related, skill_id, "related"),
        broader=_relations(catalogue, broader, skill_id, "broader"),
        extends=base is not None,
    )
