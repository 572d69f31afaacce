"""The organisation's pairing rules in every matching, one-off requests and programmes alike.

Nobody is proposed their own manager or anyone else in their reporting line (the
`manager_id` chain of matching's read model, both directions), and two people one of
whom asked not to be paired with the other again are never paired. The rules
themselves are the programme domain's (`domain/programmes/rules.py`); this module
gives them the people matching knows and the blocks people asked for.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from peerloop_matching.application.ports import PairingBlockRepository
from peerloop_matching.domain.engine import Need, Outcome
from peerloop_matching.domain.programmes.rules import (
    Org,
    PairingRules,
    Person,
    conflict,
    excluded_upfront,
)
from peerloop_matching.domain.skill_index import SkillIndex

ANY_PAIR = PairingRules()
"""One-off matching: the reporting line and "not again" apply, no team rule."""


class IndexPeople(Mapping[str, Person]):
    """The people of the skill index as the rules see them: team and manager."""

    def __init__(self, index: SkillIndex) -> None:
        self.index = index

    def __getitem__(self, person_id: str) -> Person:
        candidate = self.index.get(person_id)
        if candidate is None:
            raise KeyError(person_id)
        return Person(candidate.person_id, candidate.team, candidate.manager_id)

    def __iter__(self) -> Iterator[str]:
        return self.index.person_ids()

    def __len__(self) -> int:
        return len(self.index)


@dataclass(frozen=True)
class OrgView:
    org: Org
    rules: PairingRules = ANY_PAIR

    def excluded_upfront(self, person_id: str) -> frozenset[str]:
        return excluded_upfront(person_id, self.org, self.rules)

    def allowed(self, need: Need, search: Callable[[Need], Outcome]) -> Outcome:
        """`search`'s outcome without the helpers the rules refuse; searched again past
        them, so a refused best few never hide an allowed next one."""
        requester = need.requester.person_id
        refused = False
        while True:
            outcome = search(need)
            kept = tuple(
                s
                for s in outcome.ranked
                if conflict(requester, s.candidate.person_id, self.org, self.rules) is None
            )
            if kept:
                return replace(outcome, ranked=kept)
            if not outcome.ranked:
                break
            refused = True
            need = replace(need, tried=need.tried | {s.candidate.person_id for s in outcome.ranked})
        if outcome.unmatched_reason == "all_declined" and (
            refused or self.excluded_upfront(requester)
        ):
            return replace(
                outcome,
                detail=f"{outcome.detail}, or are in the requester's reporting line "
                "or asked not to be paired again",
            )
        return outcome


class OrgRules:
    def __init__(self, index: SkillIndex, blocks: PairingBlockRepository | None = None) -> None:
        self.index = index
        self.blocks = blocks

    async def org_around(self, *person_ids: str) -> OrgView:
        return await self.org_for(person_ids)

    async def org_for(self, person_ids: Collection[str], rules: PairingRules = ANY_PAIR) -> OrgView:
        """The organisation with every block involving `person_ids` (the people about to be
        matched)."""
        pairs = await self.blocks.pairs_involving(person_ids) if self.blocks else []
        return OrgView(Org(IndexPeople(self.index), frozenset(frozenset(p) for p in pairs)), rules)

    async def not_again(self, person_id: str, other_id: str, now: datetime) -> list[str]:
        """`person_id` asks never to be paired with `other_id` again; whom they named so far."""
        if self.blocks is None:
            raise RuntimeError("no store for pairing blocks is configured")
        await self.blocks.add(person_id, other_id, now)
        return await self.blocks.asked_by(person_id)

    async def asked_by(self, person_id: str) -> list[str]:
        return await self.blocks.asked_by(person_id) if self.blocks else []

    async def forget(self, person_id: str) -> None:
        """Erasure: the blocks they asked for and those naming them go."""
        if self.blocks is not None:
            await self.blocks.forget(person_id)
