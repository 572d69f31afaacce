"""The value rules of a profile, table by table."""

from __future__ import annotations

import pytest
from peerloop_profiles.domain.errors import RuleViolation
from peerloop_profiles.domain.rules import (
    canonical_skill,
    check_capacity,
    check_level,
    check_time_zone,
    skill_name,
)


@pytest.mark.parametrize(
    ("zone", "valid"),
    [
        ("Europe/Berlin", True),
        ("America/Argentina/Buenos_Aires", True),
        ("Asia/Kolkata", True),
        ("UTC", True),
        ("Mars/Olympus_Mons", False),
        ("europe/berlin", False),
        ("", False),
        ("../../etc/passwd", False),
        ("+02:00", False),
    ],
)
def test_time_zone_must_be_an_iana_name(zone: str, valid: bool) -> None:
    if valid:
        assert check_time_zone(zone) == zone
    else:
        with pytest.raises(RuleViolation) as caught:
            check_time_zone(zone)
        assert caught.value.field == "time_zone"


@pytest.mark.parametrize(
    ("level", "valid"), [(0, False), (1, True), (3, True), (5, True), (6, False), (-1, False)]
)
def test_levels_are_one_to_five(level: int, valid: bool) -> None:
    if valid:
        assert check_level(level) == level
    else:
        with pytest.raises(RuleViolation, match="between 1 and 5"):
            check_level(level)


@pytest.mark.parametrize(
    ("capacity", "error"),
    [(0, None), (1, None), (50, None), (-1, "0 or more"), (51, "at most 50")],
)
def test_capacity_is_not_negative_and_bounded(capacity: int, error: str | None) -> None:
    if error is None:
        assert check_capacity(capacity) == capacity
    else:
        with pytest.raises(RuleViolation, match=error):
            check_capacity(capacity)


@pytest.mark.parametrize(
    ("name", "skill_id"),
    [
        ("k8s", "kubernetes"),
        (" K8S ", "kubernetes"),
        ("Kubernetes", "kubernetes"),
        ("Spring Boot", "spring"),
        ("golang", "go"),
        ("node.js", "nodejs"),
        ("C#", "c#"),
        ("In-house  Billing_Engine", "in-house-billing-engine"),
    ],
)
def test_skill_names_fold_to_one_canonical_id(name: str, skill_id: str) -> None:
    assert canonical_skill(name) == skill_id


@pytest.mark.parametrize("name", ["", "   ", "!!!", "#tag", "x" * 65])
def test_skill_names_that_make_no_id_are_refused(name: str) -> None:
    with pytest.raises(RuleViolation) as caught:
        canonical_skill(name)
    assert caught.value.field == "skill"


def test_display_names_come_from_the_catalogue_or_the_id() -> None:
    assert skill_name("kubernetes") == "Kubernetes"
    assert skill_name("in-house-billing") == "in-house-billing"
