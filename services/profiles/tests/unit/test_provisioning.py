"""Provisioning by the identity system (SCIM), on the in-memory stores: what each call does
to the person and which events it queues."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from peerloop_contracts.catalogue import STATE_TOPICS
from peerloop_profiles.adapters.memory_directory import InMemoryDirectory
from peerloop_profiles.adapters.memory_people import InMemoryPersonRepository
from peerloop_profiles.application.errors import NameTaken, StaleEntry
from peerloop_profiles.application.provisioning import Provisioning, person_id_for
from peerloop_profiles.application.use_cases import Profiles
from peerloop_profiles.domain.directory import (
    UNASSIGNED_TEAM,
    Account,
    EntryKind,
    profile_details,
    team_for,
)
from peerloop_profiles.domain.errors import RuleViolation
from peerloop_profiles.domain.model import ProfileDetails, Status

ADA = Account(user_name="Ada@Example.com", email="ada@example.com", department="billing")


class World:
    def __init__(self) -> None:
        self.people = InMemoryPersonRepository()
        self.directory = InMemoryDirectory()
        self.profiles = Profiles(self.people)
        self.provisioning = Provisioning(self.profiles, self.directory)

    def events(self, person_id: str) -> list[tuple[str, dict[str, Any]]]:
        """The change events queued for the person (their state records left out)."""
        return [
            (e.headers["ce_type"].split(".")[2], json.loads(e.value))
            for e in self.people.outbox.get(person_id, [])
            if e.topic not in STATE_TOPICS
        ]

    async def user(self, account: Account = ADA) -> str:
        entry = await self.provisioning.create_user(
            account, external_id="hr-1", attributes={"userName": account.user_name}
        )
        return entry.entry_id


@pytest.fixture
def w() -> World:
    return World()


async def test_a_new_user_registers_a_person_with_the_accounts_details(w: World) -> None:
    boss = await w.user(Account(user_name="boss", email="boss@example.com"))
    pid = await w.user(ADA.model_copy(update={"manager_id": boss, "time_zone": "Europe/Oslo"}))
    person = await w.profiles.get(pid)
    assert pid == person_id_for("ada@example.com")  # case does not matter
    assert person.details == ProfileDetails(
        display_name="Ada@Example.com",
        email="ada@example.com",
        team="billing",
        manager_id=boss,
        time_zone="Europe/Oslo",
    )
    assert [name for name, _ in w.events(pid)] == ["profile-registered", "availability-changed"]
    assert w.events(pid)[0][1]["manager_id"] == boss


async def test_the_same_create_again_is_a_conflict_and_makes_no_second_person(w: World) -> None:
    pid = await w.user()
    with pytest.raises(NameTaken):
        await w.user(ADA.model_copy(update={"user_name": "ADA@example.COM"}))
    assert list(w.people.people) == [pid]
    assert len(w.events(pid)) == 2


async def test_a_create_retried_after_the_person_was_stored_ends_with_one_person(
    w: World,
) -> None:
    """The first attempt stored the person and died before its entry: the retry completes it."""
    pid = person_id_for(ADA.user_name)
    await w.profiles.register(
        profile_details(ADA, "billing", None), person_id=pid, weekly_capacity=1
    )
    assert await w.user() == pid
    assert list(w.people.people) == [pid]
    assert await w.directory.get(EntryKind.USER, pid) is not None
    assert [name for name, _ in w.events(pid)] == ["profile-registered", "availability-changed"]


async def test_deactivation_publishes_no_capacity_and_reactivation_the_persons_own(
    w: World,
) -> None:
    pid = await w.user()
    await w.profiles.set_availability(pid, weekly_capacity=4, away_periods=())
    replace = w.provisioning.replace_user
    await replace(pid, ADA.model_copy(update={"active": False}), external_id="hr-1", attributes={})
    person = await w.profiles.get(pid)
    assert person.status_on(date.today()) is Status.INACTIVE
    assert w.events(pid)[-1][0] == "availability-changed"
    assert w.events(pid)[-1][1]["weekly_capacity"] == 0
    count = len(w.events(pid))
    await replace(pid, ADA.model_copy(update={"active": False}), external_id="hr-1", attributes={})
    assert len(w.events(pid)) == count  # the same again changes nothing
    await replace(pid, ADA, external_id="hr-1", attributes={"back": True})
    assert w.events(pid)[-1][1]["weekly_capacity"] == 4
    assert (await w.profiles.get(pid)).active


async def test_a_stale_version_is_refused_and_writes_nothing(w: World) -> None:
    pid = await w.user()
    with pytest.raises(StaleEntry):
        await w.provisioning.replace_user(
            pid, ADA, external_id=None, attributes={}, expected_version=7
        )
    assert (await w.provisioning.get(EntryKind.USER, pid)).version == 1


async def test_deleting_a_user_erases_the_person_and_takes_them_out_of_their_teams(
    w: World,
) -> None:
    pid = await w.user()
    team = await w.provisioning.create_group(
        "payments", [pid], external_id=None, attributes={"members": [{"value": pid}]}
    )
    await w.provisioning.delete_user(pid)
    assert (await w.profiles.get(pid)).erased
    assert w.events(pid)[-1][0] == "profile-erased"
    assert await w.directory.get(EntryKind.USER, pid) is None
    left = await w.provisioning.get(EntryKind.GROUP, team.entry_id)
    assert left.members == () and left.attributes["members"] == []


async def test_groups_are_teams_and_leaving_the_last_falls_back_to_the_department(
    w: World,
) -> None:
    pid = await w.user()
    team = await w.provisioning.create_group("payments", [pid], external_id=None, attributes={})
    assert (await w.profiles.get(pid)).details.team == "payments"  # type: ignore[union-attr]
    await w.provisioning.replace_group(
        team.entry_id, "payments-core", [pid], external_id=None, attributes={}
    )
    assert (await w.profiles.get(pid)).details.team == "payments-core"  # type: ignore[union-attr]
    await w.provisioning.replace_group(
        team.entry_id, "payments-core", [], external_id=None, attributes={}
    )
    assert (await w.profiles.get(pid)).details.team == "billing"  # type: ignore[union-attr]


async def test_a_team_of_unknown_users_is_refused(w: World) -> None:
    with pytest.raises(RuleViolation, match="members"):
        await w.provisioning.create_group("x", ["p-nobody"], external_id=None, attributes={})
    assert w.directory.entries == {}


@pytest.mark.parametrize(
    ("groups", "department", "team"),
    [
        ((), None, UNASSIGNED_TEAM),
        ((), "billing", "billing"),
        (("web", "api"), "billing", "api"),
    ],
)
def test_team_for(groups: tuple[str, ...], department: str | None, team: str) -> None:
    assert team_for(groups, department) == team


CURRENT = ProfileDetails(
    display_name="Old",
    email="old@example.com",
    team="t",
    location="Oslo",
    time_zone="Europe/Oslo",
    languages=("no",),
)


@pytest.mark.parametrize(
    ("account", "expected"),
    [
        # Not an IANA zone, not a language tag: the person's own stay.
        (
            Account(user_name="u", email="u@example.com", time_zone="CET-ish", language="??"),
            CURRENT.model_copy(
                update={"display_name": "u", "email": "u@example.com", "team": "new"}
            ),
        ),
        (
            Account(
                user_name="u",
                display_name=" Ada ",
                email="u@example.com",
                time_zone="Asia/Tokyo",
                language="ja",
                manager_id="p-boss",
            ),
            CURRENT.model_copy(
                update={
                    "display_name": "Ada",
                    "email": "u@example.com",
                    "team": "new",
                    "time_zone": "Asia/Tokyo",
                    "languages": ("ja", "no"),
                    "manager_id": "p-boss",
                }
            ),
        ),
    ],
)
def test_profile_details_keep_what_scim_does_not_carry(
    account: Account, expected: ProfileDetails
) -> None:
    assert profile_details(account, "new", CURRENT) == expected


def test_a_person_without_an_email_is_refused() -> None:
    with pytest.raises(RuleViolation, match="emails"):
        profile_details(Account(user_name="u"), "t", None)
