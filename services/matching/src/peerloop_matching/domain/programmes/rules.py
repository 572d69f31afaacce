"""The organisation's pairing rules, for every matching and not only programmes.

Nobody is proposed their own manager or anyone else in their reporting line (unless
a programme allows it), a programme may keep pairs within one team or across teams,
and two people who asked not to be paired again never are.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

TeamRule = Literal["any", "same_team", "other_team"]
Conflict = Literal["self", "reporting_line", "same_team_only", "other_team_only", "not_again"]


@dataclass(frozen=True)
class Person:
    person_id: str
    team: str = ""
    manager_id: str | None = None


@dataclass(frozen=True)
class PairingRules:
    allow_reporting_line: bool = False
    team: TeamRule = "any"


@dataclass
class Org:
    """Who reports to whom, who is in which team, and who asked not to be paired again."""

    people: Mapping[str, Person]
    not_again: frozenset[frozenset[str]] = frozenset()
    _chains: dict[str, tuple[str, ...]] = field(default_factory=dict, repr=False)
    _not_again_with: dict[str, set[str]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for pair in self.not_again:
            for person_id in pair:
                self._not_again_with.setdefault(person_id, set()).update(pair - {person_id})

    @classmethod
    def of(cls, people: Iterable[Person], not_again: Iterable[tuple[str, str]] = ()) -> Org:
        return cls(
            {p.person_id: p for p in people},
            frozenset(frozenset(pair) for pair in not_again),
        )

    def team(self, person_id: str) -> str:
        person = self.people.get(person_id)
        return person.team if person else ""

    def managers(self, person_id: str) -> tuple[str, ...]:
        """The reporting line above `person_id`, nearest first. A cycle in the data ends the
        walk where it closes, so a bad `manager_id` can never loop forever."""
        cached = self._chains.get(person_id)
        if cached is not None:
            return cached
        chain: list[str] = []
        seen = {person_id}
        person = self.people.get(person_id)
        while person is not None and person.manager_id and person.manager_id not in seen:
            chain.append(person.manager_id)
            seen.add(person.manager_id)
            person = self.people.get(person.manager_id)
        self._chains[person_id] = found = tuple(chain)
        return found

    def in_reporting_line(self, a: str, b: str) -> bool:
        """Either one manages the other, directly or further up."""
        return b in self.managers(a) or a in self.managers(b)

    def asked_not_again(self, a: str, b: str) -> bool:
        return b in self._not_again_with.get(a, ())

    def not_again_with(self, person_id: str) -> frozenset[str]:
        return frozenset(self._not_again_with.get(person_id, ()))


def conflict(mentee: str, mentor: str, org: Org, rules: PairingRules) -> Conflict | None:
    """Why `mentor` may not be proposed to `mentee`, or None when the pair is allowed."""
    if mentee == mentor:
        return "self"
    if org.asked_not_again(mentee, mentor):
        return "not_again"
    if not rules.allow_reporting_line and org.in_reporting_line(mentee, mentor):
        return "reporting_line"
    if rules.team == "same_team" and org.team(mentee) != org.team(mentor):
        return "same_team_only"
    if rules.team == "other_team" and org.team(mentee) == org.team(mentor):
        return "other_team_only"
    return None


def excluded_upfront(person_id: str, org: Org, rules: PairingRules) -> frozenset[str]:
    """People a search can skip before scoring anyone: the managers above `person_id` and
    everyone they asked not to be paired with again. The rest (their own reports, team
    rules) is checked per candidate with `conflict`."""
    out = set(org.not_again_with(person_id))
    if not rules.allow_reporting_line:
        out.update(org.managers(person_id))
    return frozenset(out)
