"""What an admin may define in the organisation's layer: each refusal with its field."""

from __future__ import annotations

from typing import Any

import pytest
from peerloop_contracts.skills import Skill, SkillCatalogue
from peerloop_profiles.domain.errors import RuleViolation
from peerloop_profiles.domain.organisation_skills import define


def catalogue() -> SkillCatalogue:
    return SkillCatalogue(
        [
            Skill(id="kubernetes", name="Kubernetes", aliases=("k8s",), related=()),
            Skill(id="accounting", name="Accounting", aliases=(), related=(), source="esco"),
            Skill(
                id="acme-crm", name="Acme CRM", aliases=("crm",), related=(), source="organisation"
            ),
        ]
    )


@pytest.mark.parametrize(
    ("skill_id", "fields", "field", "says"),
    [
        ("Acme Ledger", {"name": "Acme Ledger"}, "skill_id", "not a skill id"),
        ("-ledger", {"name": "Ledger"}, "skill_id", "not a skill id"),
        ("x" * 65, {"name": "Ledger"}, "skill_id", "not a skill id"),
        ("k8s", {"name": "K8s"}, "skill_id", "'kubernetes'"),
        ("acme-ledger", {}, "name", "needs a name"),
        ("acme-ledger", {"name": "   "}, "name", "1 to 100"),
        ("acme-ledger", {"name": "!!!"}, "name", "not a skill name"),
        ("acme-ledger", {"name": "Acme CRM"}, "name", "'acme-crm'"),
        ("acme-ledger", {"name": "Ledger", "aliases": ["k8s"]}, "aliases", "'kubernetes'"),
        ("acme-ledger", {"name": "Ledger", "aliases": ["CRM"]}, "aliases", "'acme-crm'"),
        (
            "acme-ledger",
            {"name": "Ledger", "aliases": [f"l{i}" for i in range(21)]},
            "aliases",
            "at most 20",
        ),
        ("acme-ledger", {"name": "Ledger", "related": ["nope"]}, "related", "not a skill"),
        ("acme-ledger", {"name": "Ledger", "broader": ["acme-ledger"]}, "broader", "itself"),
        ("kubernetes", {"name": "Kube"}, "name", "curated skill (Kubernetes): only aliases"),
        ("kubernetes", {"description": "ours"}, "description", "only aliases"),
        ("accounting", {"related": ["kubernetes"]}, "related", "ESCO skill"),
        ("acme-ledger", {"name": "Ledger", "description": "x" * 2001}, "description", "2000"),
    ],
)
def test_a_bad_definition_is_refused_with_its_field(
    skill_id: str, fields: dict[str, Any], field: str, says: str
) -> None:
    fields.setdefault("name", None)
    with pytest.raises(RuleViolation) as refused:
        define(catalogue(), skill_id, **fields)
    assert refused.value.field == field
    assert says in refused.value.message


@pytest.mark.parametrize(
    ("skill_id", "fields", "name", "aliases", "extends"),
    [
        ("acme-ledger", {"name": " Acme Ledger "}, "Acme Ledger", (), False),
        # The name itself, an alias said twice: nothing to add.
        (
            "acme-ledger",
            {"name": "Acme Ledger", "aliases": ["ledger", "Ledger", "acme ledger"]},
            "Acme Ledger",
            ("ledger",),
            False,
        ),
        # A curated skill: its own name (given or not), the organisation's aliases only.
        ("kubernetes", {"aliases": ["kube-ops", "k8s"]}, "Kubernetes", ("kube-ops",), True),
        ("kubernetes", {"name": "Kubernetes", "aliases": ["kops"]}, "Kubernetes", ("kops",), True),
        # An organisation skill redefined keeps its own name and aliases.
        (
            "acme-crm",
            {"name": "Acme CRM", "aliases": ["crm", "sales"]},
            "Acme CRM",
            ("crm", "sales"),
            False,
        ),
    ],
)
def test_a_good_definition_is_what_gets_stored(
    skill_id: str, fields: dict[str, Any], name: str, aliases: tuple[str, ...], extends: bool
) -> None:
    fields.setdefault("name", None)
    decided = define(catalogue(), skill_id, **fields)
    assert (decided.name, decided.aliases, decided.extends) == (name, aliases, extends)


def test_relations_must_be_known_and_are_kept_once() -> None:
    decided = define(
        catalogue(), "acme-ledger", name="Ledger", related=["accounting", "accounting"]
    )
    assert decided.related == ("accounting",)
