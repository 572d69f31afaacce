"""Who may read and change a profile: the README's table, row by row."""

from __future__ import annotations

import pytest
from peerloop_profiles.entrypoints.access import (
    may_change,
    may_register,
    sees_private_part,
)
from peerloop_runtime.auth import Forbidden, Principal


def person(person_id: str, *, admin: bool = False) -> Principal:
    return Principal(f"sub-{person_id}", person_id, admin, frozenset(), "peerloop-cli")


def service(*scopes: str) -> Principal:
    return Principal("sub-svc", None, False, frozenset(scopes), "peerloop-hr")


ADA, BOB = person("ada"), person("bob")
ADMIN = person("root", admin=True)
HR = service("profiles:provision")
INSIGHTS = service("insights:read")

# (caller, target, may see the private part, may change)
TABLE = [
    (ADA, "ada", True, True),
    (BOB, "ada", False, False),
    (ADMIN, "ada", True, True),
    (HR, "ada", True, True),
    (INSIGHTS, "ada", False, False),
]


@pytest.mark.parametrize(("caller", "target", "private", "change"), TABLE)
def test_private_part_and_changes(
    caller: Principal, target: str, private: bool, change: bool
) -> None:
    assert sees_private_part(caller, target) is private
    if change:
        may_change(caller, target)
    else:
        with pytest.raises(Forbidden, match="only the person, an admin or a provisioning"):
            may_change(caller, target)


@pytest.mark.parametrize(
    ("caller", "asked", "registered_as"),
    [
        (ADA, None, "ada"),
        (ADA, "ada", "ada"),
        (ADMIN, "carol", "carol"),
        (ADMIN, None, None),
        (HR, "carol", "carol"),
    ],
)
def test_who_registers_whom(
    caller: Principal, asked: str | None, registered_as: str | None
) -> None:
    assert may_register(caller, asked) == registered_as


@pytest.mark.parametrize(("caller", "asked"), [(ADA, "bob"), (INSIGHTS, "bob"), (INSIGHTS, None)])
def test_nobody_registers_someone_else(caller: Principal, asked: str | None) -> None:
    with pytest.raises(Forbidden, match="registers themself"):
        may_register(caller, asked)
