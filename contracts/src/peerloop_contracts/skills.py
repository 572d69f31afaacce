"""The skill catalogue: one canonical id per skill, its aliases, broader and related skills.

Two layers, the first winning: Peerloop's curated catalogue (`data/skills.yaml`, tech skills
and the business skills people ask about) and the open ESCO taxonomy imported by
`contracts/tools/import_esco.py` (`data/esco-skills.json`). An ESCO skill that names a
curated one (by id, name or alias) only adds its labels as aliases. Unknown skills are
accepted in normalised form, so in-house skills work even before anyone registers them.

A third layer, the organisation's, changes at run time without a release: an admin
defines a skill of its own or adds aliases to a curated or ESCO one in profiles, which
publishes each definition on a compacted topic (`states.OrganisationSkillDefined`); every
replica of profiles and matching applies them to its process's catalogue (`define`,
`undefine`). `revision` counts the changes, so what is derived from the catalogue (related
skills both ways, skill vectors) knows when to derive again.

Profiles normalises offered skills with it; matching resolves requests and finds related
skills with it; both offer type-ahead through `search`.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_left
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from typing import Literal

import yaml

_SEPARATORS = re.compile(r"[\s_/]+")
_INVALID = re.compile(r"[^a-z0-9+#.-]")
_DASHES = re.compile(r"-{2,}")
_SKILL_ID = re.compile(r"^[a-z0-9][a-z0-9+#.-]{0,63}$")
_WORDS = re.compile(r"[^a-z0-9+#]+")

CURATED_RELATED_WEIGHT = 0.5
"""How much a curated `related` skill counts for the one asked for (matching's discount)."""
RELATED_WEIGHT = 0.5
"""The most an ESCO co-occurrence relation counts (scaled by the occupations' overlap)."""
BROADER_WEIGHT = 0.3
"""How much the broader ESCO group counts for a skill in it: a generalist, not an expert."""

_FUZZY_MIN = 4
"""Typo-tolerant matching only for queries and names this long (shorter ones are noise)."""
_FUZZY_SHARE = 0.4
"""Share of the query's letter triples a name must have to be offered for a typo."""

Source = Literal["peerloop", "esco", "organisation"]


@dataclass(frozen=True)
class Skill:
    id: str
    name: str
    aliases: tuple[str, ...]
    related: tuple[str, ...]
    description: str = ""
    source: Source = "peerloop"
    uri: str = ""
    broader: tuple[str, ...] = ()
    related_weights: tuple[float, ...] = field(default=(), compare=False)
    """Weight of each `related` skill, same order; empty means `CURATED_RELATED_WEIGHT` each."""

    def relations(self) -> tuple[tuple[str, float], ...]:
        weights = self.related_weights or (CURATED_RELATED_WEIGHT,) * len(self.related)
        return tuple(zip(self.related, weights, strict=True))


@dataclass(frozen=True)
class Suggestion:
    """One type-ahead answer: the skill, the name or alias that matched, and how well."""

    skill: Skill
    matched: str
    score: float


def normalise(text: str) -> str:
    """Case, spacing and separators folded: `"  Spring Boot "` -> `"spring-boot"`."""
    slug = _SEPARATORS.sub("-", text.strip().lower())
    slug = _DASHES.sub("-", _INVALID.sub("", slug)).strip("-.")
    if not slug:
        raise ValueError(f"{text!r} is not a skill name")
    return slug


def _folded(text: str) -> str:
    return " ".join(_WORDS.split(text.lower())).strip()


def _trigrams(text: str) -> set[str]:
    padded = f"  {text} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


class SkillCatalogue:
    def __init__(self, skills: list[Skill]) -> None:
        self._by_id: dict[str, Skill] = {}
        self._lookup: dict[str, str] = {}
        self._terms: dict[str, list[tuple[str, str, frozenset[str]]]] = {}
        """skill id -> (folded term, original name or alias, its trigrams) for type-ahead."""
        self._by_trigram: dict[str, set[str]] = {}
        self._words: list[tuple[str, str]] = []
        """(word of a term, skill id), sorted: prefix look-ups by bisection."""
        self._sorted = True
        self._base: dict[str, Skill] = {}
        """A curated or ESCO skill as it was before the organisation added aliases to it."""
        self.revision = 0
        """Counts the changes since construction; derived data compares it to rebuild."""
        for skill in skills:
            self.add(skill)

    def add(self, skill: Skill) -> Skill:
        """Adds a skill, or merges it into the one it names; returns the skill as catalogued.

        A later layer never renames an earlier one: a skill whose id or name is already
        known only adds the aliases nobody else uses; an alias another skill holds stays its.
        """
        existing = next(
            (self._lookup[key] for key in self._keys(skill.id, skill.name) if key in self._lookup),
            None,
        )
        if existing is not None:
            base = self._by_id[existing]
            extra = tuple(
                name
                for name in (skill.name, *skill.aliases)
                if self._free(name, existing) and name not in base.aliases and name != base.name
            )
            merged = Skill(
                id=base.id,
                name=base.name,
                aliases=base.aliases + extra,
                related=base.related,
                description=base.description or skill.description,
                source=base.source,
                uri=base.uri or skill.uri,
                broader=base.broader or skill.broader,
                related_weights=base.related_weights,
            )
            self._index(merged)
            return merged
        self._index(skill)
        return skill

    def holder(self, name: str) -> str | None:
        """The id of the skill this name or alias already belongs to, if any."""
        keys = self._keys(name)
        return self._lookup.get(keys[0]) if keys else None

    def base(self, skill_id: str) -> Skill | None:
        """The skill without the organisation's aliases (None for an organisation skill)."""
        skill = self._base.get(skill_id) or self._by_id.get(skill_id)
        return None if skill is None or skill.source == "organisation" else skill

    def define(self, skill: Skill) -> Skill:
        """Applies one organisation definition, replacing the previous one of that id.

        On a curated or ESCO id only the aliases count: they are added to that skill
        (its name and relations stay). Otherwise `skill` becomes the organisation's skill.
        Names and aliases held by another skill stay that skill's (the definition was
        checked where it was made; a replica applies what was published).
        """
        base = self.base(skill.id)
        self.undefine(skill.id)
        if base is None:
            defined = Skill(
                id=skill.id,
                name=skill.name,
                aliases=tuple(a for a in skill.aliases if self._free(a, skill.id)),
                related=skill.related,
                description=skill.description,
                source="organisation",
                broader=skill.broader,
            )
        else:
            self._base[skill.id] = base
            extra = tuple(
                a
                for a in dict.fromkeys(skill.aliases)
                if self._free(a, skill.id) and a not in base.aliases and a != base.name
            )
            defined = Skill(
                id=base.id,
                name=base.name,
                aliases=base.aliases + extra,
                related=base.related,
                description=base.description,
                source=base.source,
                uri=base.uri,
                broader=base.broader,
                related_weights=base.related_weights,
            )
        self._index(defined)
        return defined

    def undefine(self, skill_id: str) -> None:
        """Forgets the organisation's definition of `skill_id` (a curated one loses only
        the aliases the organisation added); nothing happens for an id it never defined."""
        current = self._by_id.get(skill_id)
        if current is None or (current.source != "organisation" and skill_id not in self._base):
            return
        self._unindex(current)
        base = self._base.pop(skill_id, None)
        if base is not None:
            self._index(base)

    def _unindex(self, skill: Skill) -> None:
        # A full pass over the word list: definitions are rare, type-ahead is not.
        for name in (skill.id, skill.name, *skill.aliases):
            for key in self._keys(name):
                if self._lookup.get(key) == skill.id:
                    del self._lookup[key]
        for _, _, grams in self._terms.pop(skill.id, []):
            for gram in grams:
                self._by_trigram.get(gram, set()).discard(skill.id)
        self._words = [w for w in self._words if w[1] != skill.id]
        del self._by_id[skill.id]
        self.revision += 1

    def _keys(self, *names: str) -> list[str]:
        keys = []
        for name in names:
            try:
                keys.append(normalise(name))
            except ValueError:
                continue
        return keys

    def _free(self, name: str, skill_id: str) -> bool:
        keys = self._keys(name)
        return bool(keys) and self._lookup.get(keys[0], skill_id) == skill_id

    def _index(self, skill: Skill) -> None:
        self._by_id[skill.id] = skill
        terms = []
        for name in (skill.id, skill.name, *skill.aliases):
            for key in self._keys(name):
                self._lookup.setdefault(key, skill.id)
            folded = _folded(name)
            if folded and self._free(name, skill.id):
                terms.append((folded, name, frozenset(_trigrams(folded))))
        self._terms[skill.id] = terms
        for folded, _, grams in terms:
            self._words.extend((word, skill.id) for word in folded.split())
            if len(folded) >= _FUZZY_MIN:
                for gram in grams:
                    self._by_trigram.setdefault(gram, set()).add(skill.id)
        self._sorted = False
        self.revision += 1

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

    def get(self, skill_id: str) -> Skill | None:
        return self._by_id.get(skill_id)

    def display_name(self, skill_id: str) -> str:
        skill = self._by_id.get(skill_id)
        return skill.name if skill else skill_id

    def related(self, skill_id: str) -> tuple[str, ...]:
        skill = self._by_id.get(skill_id)
        return tuple(s for s in skill.related if s in self._by_id) if skill else ()

    def relations(self, skill_id: str) -> tuple[tuple[str, float], ...]:
        """Related and broader skills with the weight each relation carries."""
        skill = self._by_id.get(skill_id)
        if skill is None:
            return ()
        return tuple((s, w) for s, w in skill.relations() if s in self._by_id) + tuple(
            (b, BROADER_WEIGHT) for b in skill.broader
        )

    def known(self, skill_id: str) -> bool:
        return skill_id in self._by_id

    def ids(self) -> list[str]:
        return sorted(self._by_id)

    def skills(self, source: Source | None = None) -> list[Skill]:
        """Every skill (or those of one layer) with its aliases, by id."""
        # `.get`: a worker thread (task-skill vectors) may read while a definition lands.
        found = (self._by_id.get(skill_id) for skill_id in self.ids())
        return [s for s in found if s is not None and (source is None or s.source == source)]

    def search(self, query: str, limit: int = 10) -> list[Suggestion]:
        """Type-ahead: skills whose name or alias starts with, contains a word starting with,
        or (for typos) shares letter triples with `query`, best first.

        Scores: exact 4, prefix 3, a word's prefix 2, else trigram similarity (0..1); a
        curated or organisation skill gets +0.5 over an ESCO one, a shorter name wins a tie.
        """
        q = _folded(query)
        if not q:
            return []
        if not self._sorted:
            self._words.sort()
            self._sorted = True
        first = q.split()[0]
        found: set[str] = set()
        at = bisect_left(self._words, (first, ""))
        while at < len(self._words) and self._words[at][0].startswith(first):
            found.add(self._words[at][1])
            at += 1
        grams = frozenset(_trigrams(q))
        if len(found) < limit and len(q) >= _FUZZY_MIN:
            counts: dict[str, int] = {}
            for gram in grams:
                for skill_id in self._by_trigram.get(gram, ()):
                    counts[skill_id] = counts.get(skill_id, 0) + 1
            found.update(s for s, n in counts.items() if n >= _FUZZY_SHARE * len(grams))
        best: list[Suggestion] = []
        for skill_id in found:
            skill = self._by_id[skill_id]
            top = (0.0, "")
            for folded, name, term_grams in self._terms[skill_id]:
                if folded == q:
                    s = 4.0
                elif folded.startswith(q):
                    s = 3.0
                elif f" {q}" in f" {folded}":
                    s = 2.0
                elif len(folded) >= _FUZZY_MIN:
                    s = len(grams & term_grams) / len(grams | term_grams)
                else:
                    continue
                if s > top[0] or (s == top[0] and len(name) < len(top[1])):
                    top = (s, name)
            if top[0] < _FUZZY_SHARE:
                continue
            bonus = 0.5 if skill.source != "esco" else 0.0
            best.append(Suggestion(skill, top[1], round(top[0] + bonus, 4)))
        best.sort(key=lambda s: (-s.score, len(s.skill.name), s.skill.id))
        return best[:limit]

    def __len__(self) -> int:
        return len(self._by_id)


def _curated() -> list[Skill]:
    raw = yaml.safe_load(files("peerloop_contracts").joinpath("data/skills.yaml").read_text())
    return [
        Skill(
            id=item["id"],
            name=item["name"],
            aliases=tuple(item.get("aliases", ())),
            related=tuple(item.get("related", ())),
            description=item.get("description", ""),
        )
        for item in raw["skills"]
    ]


def _esco() -> list[Skill]:
    raw = json.loads(files("peerloop_contracts").joinpath("data/esco-skills.json").read_text())
    groups = [
        Skill(id=g["id"], name=g["name"] or g["id"], aliases=(), related=(), source="esco")
        for g in raw["groups"]
    ]
    return groups + [
        Skill(
            id=item["id"],
            name=item["name"],
            aliases=tuple(item["aliases"]),
            related=tuple(r for r, _ in item["related"]),
            related_weights=tuple(w for _, w in item["related"]),
            description=item["description"],
            source="esco",
            uri=item["uri"],
            broader=tuple(item["broader"]),
        )
        for item in raw["skills"]
    ]


def esco_version() -> str:
    raw = json.loads(files("peerloop_contracts").joinpath("data/esco-skills.json").read_text())
    return str(raw["version"])


@cache
def default_catalogue() -> SkillCatalogue:
    """The process's catalogue: curated and ESCO, plus the organisation layer this process
    has applied (one object per process, so every part of a service sees one catalogue)."""
    return SkillCatalogue(_curated() + _esco())
