"""Applying learning events: each batch becomes one appended delta of facts.

Idempotent and order-free by construction (domain.facts): a redelivered batch appends a
delta that merges to nothing new. An erasure is applied after the batch's facts, so a
person's facts of the same batch are already under the token that is then marked erased.
A person state's tombstone is that person's erasure, as `profile-erased` is; a help
request's tombstone (its requester was erased) changes nothing: its counts stay, and the
requester's own erasure removes who asked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from peerloop_contracts.base import Event
from peerloop_contracts.envelope import CloudEventMeta
from peerloop_contracts.profiles import ProfileErased
from peerloop_contracts.states import PersonState, Tombstone

from peerloop_insights.application.ports import FactLog, Pseudonyms
from peerloop_insights.domain.changes import PersonChange, RequestChange, change_of, person_ids
from peerloop_insights.domain.facts import ERASED, Facts


@dataclass(frozen=True)
class Ingest:
    log: FactLog
    pseudonyms: Pseudonyms

    async def handle(self, event: Event | Tombstone, meta: CloudEventMeta) -> None:
        await self.handle_batch([(event, meta)])

    async def handle_batch(
        self, records: Sequence[tuple[Event | Tombstone, CloudEventMeta]]
    ) -> None:
        erasures = [_erased(e) for e, _ in records]
        items = [(e, m) for e, m in records if isinstance(e, Event)]
        named = {pid for e, _ in items if not isinstance(e, ProfileErased) for pid in person_ids(e)}
        tokens = await self.pseudonyms.tokens(named) if named else {}
        delta = Facts()
        for event, meta in items:
            change = change_of(event, meta.time, tokens.__getitem__)
            if isinstance(change, RequestChange):
                delta.merge_request(change.request_id, change.partial)
            elif isinstance(change, PersonChange):
                token = tokens[change.person_id]
                if token != ERASED:
                    delta.merge_person(token, change.partial)
        if delta.requests or delta.people:
            await self.log.append(delta)
        for person_id in erasures:
            if person_id is not None:
                await self.pseudonyms.erase(person_id)


def _erased(record: Event | Tombstone) -> str | None:
    """The person a record erases, if it is an erasure."""
    if isinstance(record, ProfileErased):
        return record.person_id
    if isinstance(record, Tombstone) and record.state is PersonState:
        return record.key
    return None
