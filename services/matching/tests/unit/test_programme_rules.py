"""The organisation's pairing rules: reporting line, team rules, never again."""

from __future__ import annotations

import pytest
from peerloop_matching.domain.programmes.rules import (
    Org,
    PairingRules,
    Person,
    conflict,
    excluded_upfront,
)

# ceo ← cto ← lead ← dev, and ops in another team under the ceo.
ORG = Org.of(
    [
        Person("ceo", "board"),
        Person("cto", "eng", "ceo"),
        Person("lead", "eng", "cto"),
        Person("dev", "eng", "lead"),
        Person("peer", "eng", "lead"),
        Person("ops", "ops", "ceo"),
        Person("loop-a", "x", "loop-b"),
        Person("loop-b", "x", "loop-c"),
        Person("loop-c", "x", "loop-a"),
    ],
    not_again=[("dev", "ops")],
)


@pytest.mark.parametrize(
    ("mentee", "mentor", "rules", "expected"),
    [
        ("dev", "dev", PairingRules(), "self"),
        ("dev", "lead", PairingRules(), "reporting_line"),  # own manager
        ("dev", "ceo", PairingRules(), "reporting_line"),  # further up the line
        ("lead", "dev", PairingRules(), "reporting_line"),  # own report
        ("ceo", "dev", PairingRules(), "reporting_line"),
        ("dev", "peer", PairingRules(), None),  # same manager is not a reporting line
        ("dev", "lead", PairingRules(allow_reporting_line=True), None),
        ("dev", "ops", PairingRules(), "not_again"),
        ("ops", "dev", PairingRules(allow_reporting_line=True), "not_again"),
        ("peer", "ops", PairingRules(team="same_team"), "same_team_only"),
        ("peer", "dev", PairingRules(team="same_team"), None),
        ("peer", "dev", PairingRules(team="other_team"), "other_team_only"),
        ("peer", "ops", PairingRules(team="other_team"), None),
        ("loop-a", "loop-c", PairingRules(), "reporting_line"),
        ("loop-a", "dev", PairingRules(), None),  # a cycle ends the walk
        ("stranger", "dev", PairingRules(), None),  # unknown people have no line
    ],
)
def test_conflicts(mentee, mentor, rules, expected):
    assert conflict(mentee, mentor, ORG, rules) == expected


@pytest.mark.parametrize(
    ("person", "expected"),
    [
        ("dev", ("lead", "cto", "ceo")),
        ("ceo", ()),
        ("loop-a", ("loop-b", "loop-c")),
        ("loop-c", ("loop-a", "loop-b")),
        ("stranger", ()),
    ],
)
def test_the_reporting_line_is_walked_once_even_through_a_cycle(person, expected):
    assert ORG.managers(person) == expected


def test_a_self_manager_is_no_line():
    assert Org.of([Person("solo", manager_id="solo")]).managers("solo") == ()


@pytest.mark.parametrize(
    ("person", "rules", "expected"),
    [
        ("dev", PairingRules(), {"lead", "cto", "ceo", "ops"}),
        ("dev", PairingRules(allow_reporting_line=True), {"ops"}),
        ("ops", PairingRules(), {"ceo", "dev"}),
        ("peer", PairingRules(), {"lead", "cto", "ceo"}),
    ],
)
def test_what_a_search_skips_up_front(person, rules, expected):
    assert excluded_upfront(person, ORG, rules) == expected
