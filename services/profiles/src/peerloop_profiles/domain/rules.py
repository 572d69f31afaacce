"""The value rules of a profile, as pure functions that raise `RuleViolation`."""

from __future__ import annotations

import re
import zoneinfo
from functools import cache

from peerloop_contracts.skills import default_catalogue

from peerloop_profiles.domain.errors import RuleViolation

MIN_LEVEL = 1
MAX_LEVEL = 5
MAX_WEEKLY_CAPACITY = 50
"""The contracts cap capacity here; more than 50 sessions a week is a typo, not a plan."""

_SKILL_ID = re.compile(r"^[a-z0-9][a-z0-9+#.-]{0,63}$")


@cache
def _known_time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def is_time_zone(name: str) -> bool:
    """Only IANA names: `ZoneInfo` would also accept file paths, which no person lives in."""
    return name in _known_time_zones()


def check_time_zone(name: str, field: str = "time_zone") -> str:
    if not is_time_zone(name):
        raise RuleViolation(field, f"{name!r} is not an IANA time zone (e.g. Europe/Berlin)")
    return name


def check_level(level: int, field: str = "level") -> int:
    if not MIN_LEVEL <= level <= MAX_LEVEL:
        raise RuleViolation(field, f"must be between {MIN_LEVEL} and {MAX_LEVEL}, got {level}")
    return level


def check_capacity(capacity: int, field: str = "weekly_capacity") -> int:
    if capacity < 0:
        raise RuleViolation(field, f"must be 0 or more, got {capacity}")
    if capacity > MAX_WEEKLY_CAPACITY:
        raise RuleViolation(field, f"must be at most {MAX_WEEKLY_CAPACITY}, got {capacity}")
    return capacity


def canonical_skill(name: str, field: str = "skill") -> str:
    """Case, spacing and known aliases fold to one id: `" K8s "` -> `"kubernetes"`."""
    try:
        skill_id = default_catalogue().canonical(name)
    except ValueError as exc:
        raise RuleViolation(field, str(exc)) from exc
    if not _SKILL_ID.match(skill_id):
        raise RuleViolation(field, f"{name!r} does not make a skill id (letters, digits, + # . -)")
    return skill_id


def skill_name(skill_id: str) -> str:
    return default_catalogue().display_name(skill_id)
