"""The skill catalogue: one canonical id per skill, its aliases and related skills.

Profiles normalises offered skills with it; matching resolves requests and finds
related skills with it. Unknown skills are accepted in normalised form, so an
organisation's in-house skills work without editing the catalogue.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

import yaml

_SEPARATORS = re.compile(r"[\s_/]+")
_INVALID = re.compile(r"[^a-z0-9+#.-]")
_DASHES = re.compile(r"-{2,}")
_SKILL_ID = re.compile(r"^[a-z0-9][a-z0-9+#.-]{0,63}$")


@dataclass(frozen=True)
class Skill:
    id: str
    name: str
    aliases: tuple[str, ...]
    related: tuple[str, ...]


def normalise(text: str) -> str:
    """Case, spacing and separators folded: `"  Spring Boot "` -> `"spring-boot"`."""
    slug = _SEPARATORS.sub("-", text.strip().lower())
    slug = _DASHES.sub("-", _INVALID.sub("", slug)).strip("-.")
    if not slug:
        raise ValueError(f"{text!r} is not a skill name")
    return slug


class SkillCatalogue:
    def __init__(self, skills: list[Skill]) -> None:
        self._by_id = {s.id: s for s in skills}
        self._lookup: dict[str, str] = {}
        for skill in skills:
            for name in (skill.id, skill.name, *skill.aliases):
                self._lookup[normalise(name)] = skill.id

    def canonical(self, text: str) -> str:
        """The canonical id for a name or alias; unknown skills keep their normalised form.

        Refuses (ValueError) a name that makes no valid skill id (common.SkillId), so
        nothing accepted here fails when it is published.
        """
        slug = normalise(text)
        skill_id = self._lookup.get(slug, slug)
        if not _SKILL_ID.match(skill_id):
            raise ValueError(
                f"{text!r} does not make a skill id (at most 64 letters, digits, + # . -, "
                "starting with a letter or digit)"
            )
        return skill_id

    def display_name(self, skill_id: str) -> str:
        skill = self._by_id.get(skill_id)
        return skill.name if skill else skill_id

    def related(self, skill_id: str) -> tuple[str, ...]:
        skill = self._by_id.get(skill_id)
        return skill.related if skill else ()

    def known(self, skill_id: str) -> bool:
        return skill_id in self._by_id

    def ids(self) -> list[str]:
        return sorted(self._by_id)

    def skills(self) -> list[Skill]:
        """Every skill with its aliases, by id (type-ahead over names and aliases)."""
        return [self._by_id[skill_id] for skill_id in self.ids()]

    def __len__(self) -> int:
        return len(self._by_id)


@cache
def default_catalogue() -> SkillCatalogue:
    raw = yaml.safe_load(files("peerloop_contracts").joinpath("data/skills.yaml").read_text())
    return SkillCatalogue(
        [
            Skill(
                id=item["id"],
                name=item["name"],
                aliases=tuple(item.get("aliases", ())),
                related=tuple(item.get("related", ())),
            )
            for item in raw["skills"]
        ]
    )
