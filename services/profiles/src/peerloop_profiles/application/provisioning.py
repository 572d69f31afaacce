"""Provisioning by the organisation's identity system: its users become people, groups teams.

Each call stores the directory entry (what the identity system sent, answered back as
is) and applies its meaning to the person through the `Profiles` use cases, so the
events are the ones any other change publishes: `profile-registered` for a new user,
`profile-updated` for a new name, team or manager, availability without capacity while
deactivated, `profile-erased` when the user is deleted.

Identity systems retry. A user's person id is derived from the userName, so a create
retried after a lost answer meets the person it made (one person) and ends with the
entry the first attempt could not store; a create whose entry exists is `NameTaken`
(409, as SCIM says). Replacing with the same values changes nothing and publishes
nothing. The person is written before the entry, so an entry never names a person
who is not there.
"""

from __future__ import annotations

import contextlib
import hashlib
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from peerloop_profiles.application.errors import (
    AlreadyRegistered,
    EntryNotFound,
    NameTaken,
    PersonNotFound,
    StaleEntry,
)
from peerloop_profiles.application.ports import DirectoryRepository
from peerloop_profiles.application.use_cases import Profiles
from peerloop_profiles.domain.directory import (
    Account,
    DirectoryEntry,
    EntryKind,
    check_team_name,
    name_key,
    profile_details,
    team_for,
)
from peerloop_profiles.domain.errors import RuleViolation
from peerloop_profiles.domain.model import ProfileDetails

DEFAULT_WEEKLY_CAPACITY = 1
"""A provisioned person can take one request a week until they say otherwise."""


def _now() -> datetime:
    return datetime.now(UTC)


def person_id_for(user_name: str) -> str:
    """The same userName always gives the same person id: a retried create finds its person."""
    return "p-" + hashlib.sha256(name_key(user_name).encode()).hexdigest()[:20]


@dataclass
class Provisioning:
    profiles: Profiles
    directory: DirectoryRepository
    clock: Callable[[], datetime] = field(default=_now)

    async def get(self, kind: EntryKind, entry_id: str) -> DirectoryEntry:
        entry = await self.directory.get(kind, entry_id)
        if entry is None:
            raise EntryNotFound(kind, entry_id)
        return entry

    async def find(
        self, kind: EntryKind, *, name: str | None = None, external_id: str | None = None
    ) -> list[DirectoryEntry]:
        return await self.directory.find(kind, name=name, external_id=external_id)

    # -- users -------------------------------------------------------------------------

    async def create_user(
        self, account: Account, *, external_id: str | None, attributes: dict[str, Any]
    ) -> DirectoryEntry:
        if await self.directory.find(EntryKind.USER, name=account.user_name):
            raise NameTaken(account.user_name)
        person_id = person_id_for(account.user_name)
        if await self.directory.get(EntryKind.USER, person_id) is not None:
            # That id went to a user renamed since; this name gets a fresh one.
            person_id = f"p-{uuid.uuid4().hex[:20]}"
        team = team_for((), account.department)
        details = profile_details(account, team, None)
        try:
            await self.profiles.register(
                details, person_id=person_id, weekly_capacity=DEFAULT_WEEKLY_CAPACITY
            )
        except AlreadyRegistered:
            # A retry after the person was stored and the entry was not.
            await self._update_person(person_id, account, team)
        await self.profiles.set_active(person_id, account.active)
        now = self.clock()
        entry = DirectoryEntry(
            entry_id=person_id,
            kind=EntryKind.USER,
            name=account.user_name,
            external_id=external_id,
            department=account.department,
            attributes=attributes,
            created=now,
            modified=now,
        )
        await self.directory.add(entry)
        return entry

    async def replace_user(
        self,
        entry_id: str,
        account: Account,
        *,
        external_id: str | None,
        attributes: dict[str, Any],
        expected_version: int | None = None,
    ) -> DirectoryEntry:
        entry = await self._current(EntryKind.USER, entry_id, expected_version)
        if name_key(account.user_name) != name_key(entry.name) and await self.directory.find(
            EntryKind.USER, name=account.user_name
        ):
            raise NameTaken(account.user_name)
        groups = await self.directory.find(EntryKind.GROUP, member=entry_id)
        await self._update_person(
            entry_id, account, team_for((g.name for g in groups), account.department)
        )
        await self.profiles.set_active(entry_id, account.active)
        return await self._store(
            entry,
            name=account.user_name,
            external_id=external_id,
            department=account.department,
            attributes=attributes,
        )

    async def delete_user(self, entry_id: str, *, expected_version: int | None = None) -> None:
        """Erasure, the same as `DELETE /people/{id}`; the user leaves their groups."""
        await self._current(EntryKind.USER, entry_id, expected_version)
        # A person gone by other means: the entry goes all the same.
        with contextlib.suppress(PersonNotFound):
            await self.profiles.erase(entry_id)
        for group in await self.directory.find(EntryKind.GROUP, member=entry_id):
            await self._store(
                group,
                members=tuple(m for m in group.members if m != entry_id),
                attributes={
                    **group.attributes,
                    "members": [
                        m
                        for m in group.attributes.get("members") or []
                        if m.get("value") != entry_id
                    ],
                },
            )
        await self.directory.delete(EntryKind.USER, entry_id)

    # -- groups (teams) ------------------------------------------------------------------

    async def create_group(
        self,
        name: str,
        members: Iterable[str],
        *,
        external_id: str | None,
        attributes: dict[str, Any],
    ) -> DirectoryEntry:
        check_team_name(name)
        member_ids = await self._known_users(members)
        now = self.clock()
        entry = DirectoryEntry(
            entry_id=f"t-{uuid.uuid4().hex[:20]}",
            kind=EntryKind.GROUP,
            name=name,
            external_id=external_id,
            members=member_ids,
            attributes=attributes,
            created=now,
            modified=now,
        )
        await self.directory.add(entry)
        await self._reteam(member_ids)
        return entry

    async def replace_group(
        self,
        entry_id: str,
        name: str,
        members: Iterable[str],
        *,
        external_id: str | None,
        attributes: dict[str, Any],
        expected_version: int | None = None,
    ) -> DirectoryEntry:
        entry = await self._current(EntryKind.GROUP, entry_id, expected_version)
        check_team_name(name)
        member_ids = await self._known_users(members)
        stored = await self._store(
            entry, name=name, external_id=external_id, members=member_ids, attributes=attributes
        )
        affected = (
            set(member_ids) | set(entry.members)
            if name != entry.name
            else (set(member_ids) ^ set(entry.members))
        )
        await self._reteam(sorted(affected))
        return stored

    async def delete_group(self, entry_id: str, *, expected_version: int | None = None) -> None:
        entry = await self._current(EntryKind.GROUP, entry_id, expected_version)
        await self.directory.delete(EntryKind.GROUP, entry_id)
        await self._reteam(entry.members)

    # -- internals ------------------------------------------------------------------------

    async def _current(
        self, kind: EntryKind, entry_id: str, expected_version: int | None
    ) -> DirectoryEntry:
        entry = await self.get(kind, entry_id)
        if expected_version is not None and entry.version != expected_version:
            raise StaleEntry(entry_id, expected_version, entry.version)
        return entry

    async def _store(self, entry: DirectoryEntry, **changes: Any) -> DirectoryEntry:
        changed = entry.model_copy(update=changes)
        if changed == entry:
            return entry
        stored = changed.model_copy(update={"version": entry.version + 1, "modified": self.clock()})
        if not await self.directory.replace(stored, entry.version):
            current = await self.get(entry.kind, entry.entry_id)
            raise StaleEntry(entry.entry_id, entry.version, current.version)
        return stored

    async def _update_person(self, person_id: str, account: Account, team: str) -> None:
        def edit(current: ProfileDetails) -> ProfileDetails:
            return profile_details(account, team, current)

        await self.profiles.update_profile(person_id, edit)

    async def _known_users(self, members: Iterable[str]) -> tuple[str, ...]:
        ids = tuple(dict.fromkeys(members))
        for member in ids:
            if await self.directory.get(EntryKind.USER, member) is None:
                raise RuleViolation("members", f"no user {member}: a team's members are users")
        return ids

    async def _reteam(self, person_ids: Iterable[str]) -> None:
        """Each person's team again, from the groups they are in now."""
        for person_id in person_ids:
            user = await self.directory.get(EntryKind.USER, person_id)
            if user is None:
                continue
            groups = await self.directory.find(EntryKind.GROUP, member=person_id)
            try:
                await self.profiles.update_profile(
                    person_id, _with_team(team_for((g.name for g in groups), user.department))
                )
            except PersonNotFound:
                continue


def _with_team(team: str) -> Callable[[ProfileDetails], ProfileDetails]:
    def edit(details: ProfileDetails) -> ProfileDetails:
        return details.model_copy(update={"team": team})

    return edit
