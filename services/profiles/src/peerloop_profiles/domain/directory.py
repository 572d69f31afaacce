"""Accounts provisioned by the organisation's identity system (SCIM), and what they mean here.

An entry is a user or a group as the identity system keeps it here; a user entry's id is
the person id it provisions, a group is a team. The rules below turn an account into the
person's profile details; they are pure, so the SCIM layer and the bulk import agree.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from peerloop_profiles.domain.errors import RuleViolation
from peerloop_profiles.domain.model import ProfileDetails
from peerloop_profiles.domain.rules import is_time_zone

UNASSIGNED_TEAM = "unassigned"
"""The team of someone in no group and with no department."""
DEFAULT_TIME_ZONE = "UTC"
TEAM_MAX_LENGTH = 100


class EntryKind(StrEnum):
    USER = "User"
    GROUP = "Group"


class DirectoryEntry(BaseModel):
    """One provisioned resource: its identity-system attributes, kept as they were sent."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    entry_id: str
    kind: EntryKind
    name: str
    """userName of a user, displayName of a group: what the identity system looks them up by."""
    external_id: str | None = None
    department: str | None = None
    """A user's department (enterprise extension): their team while they are in no group."""
    members: tuple[str, ...] = ()
    """A group's member ids (people)."""
    attributes: dict[str, Any]
    """The resource as the identity system sent it (without id and meta), answered back as is."""
    version: int = 1
    created: datetime
    modified: datetime


class Account(BaseModel):
    """What a provisioned user says about the person, already picked from the resource."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    user_name: str
    display_name: str | None = None
    email: str | None = None
    active: bool = True
    department: str | None = None
    manager_id: str | None = None
    time_zone: str | None = None
    language: str | None = None


def name_key(name: str) -> str:
    """userName is case-insensitive (RFC 7643 §4.1.1): one key for every spelling."""
    return name.casefold()


def team_for(group_names: Iterable[str], department: str | None) -> str:
    """A person's team: their group (the first by name), else their department."""
    groups = sorted(group_names)
    if groups:
        return groups[0]
    return department or UNASSIGNED_TEAM


def check_team_name(name: str) -> str:
    if not name.strip() or len(name) > TEAM_MAX_LENGTH or "\n" in name:
        raise RuleViolation("displayName", f"a team name has 1 to {TEAM_MAX_LENGTH} characters")
    return name


_LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*$")


def profile_details(account: Account, team: str, current: ProfileDetails | None) -> ProfileDetails:
    """The person's details from their account; what SCIM does not carry stays as it was.

    A time zone that is not an IANA name (identity systems send free text) keeps the
    current one, or UTC for someone new; so does a language that is not a language tag.
    """
    if not account.email:
        raise RuleViolation("emails", "a work e-mail address is required")
    zone = account.time_zone if account.time_zone and is_time_zone(account.time_zone) else None
    language = account.language
    if language and not _LANGUAGE_TAG.match(language):
        language = None
    base = current or ProfileDetails(
        display_name=account.user_name,
        email=account.email,
        team=team,
        time_zone=DEFAULT_TIME_ZONE,
    )
    languages = base.languages
    if language and language not in languages:
        languages = (language, *languages)
    return base.model_copy(
        update={
            "display_name": (account.display_name or account.user_name).strip()[:200],
            "email": account.email,
            "team": team,
            "manager_id": account.manager_id,
            "time_zone": zone or base.time_zone,
            "languages": languages[:20],
        }
    )
