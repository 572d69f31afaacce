"""The organisation's layer of the catalogue, applied and replaced at run time."""

from __future__ import annotations

from peerloop_contracts.organisation_skills import OrganisationLayer
from peerloop_contracts.skills import Skill, SkillCatalogue
from peerloop_contracts.states import OrganisationSkillDefined, Tombstone


def catalogue() -> SkillCatalogue:
    return SkillCatalogue(
        [
            Skill(id="kubernetes", name="Kubernetes", aliases=("k8s",), related=()),
            Skill(id="accounting", name="Accounting", aliases=(), related=()),
        ]
    )


def definition(sequence: int, *aliases: str) -> OrganisationSkillDefined:
    return OrganisationSkillDefined(
        skill_id="acme-ledger",
        name="Acme Ledger",
        aliases=list(aliases),
        related=["accounting"],
        sequence=sequence,
    )


def test_a_definition_is_found_by_type_ahead_and_resolved_and_replaced_whole() -> None:
    cat = catalogue()
    before = cat.revision
    layer = OrganisationLayer(cat)
    assert layer.apply(definition(1, "ledger"))
    assert cat.revision > before
    assert cat.canonical("LEDGER") == "acme-ledger"
    assert cat.search("ledg")[0].skill.id == "acme-ledger"
    assert cat.relations("acme-ledger") == (("accounting", 0.5),)
    layer.apply(definition(2, "books"))
    assert cat.canonical("ledger") == "ledger"
    assert [s.skill.id for s in cat.search("ledg")] == ["acme-ledger"]  # by its name
    assert cat.search("books")[0].matched == "books"
    assert len(cat) == 3


def test_an_older_record_is_ignored_and_a_tombstone_forgets() -> None:
    cat = catalogue()
    layer = OrganisationLayer(cat)
    layer.apply(definition(2, "books"))
    assert not layer.apply(definition(1, "ledger"))
    assert cat.canonical("ledger") == "ledger"
    layer.apply(Tombstone(OrganisationSkillDefined, "acme-ledger"))
    assert cat.get("acme-ledger") is None and cat.search("acme") == []


def test_a_local_removal_is_not_undone_by_its_older_record_coming_back() -> None:
    cat = catalogue()
    layer = OrganisationLayer(cat)
    layer.apply(definition(1, "ledger"))
    layer.removed("acme-ledger", 2)
    assert not layer.apply(definition(1, "ledger"))
    assert cat.get("acme-ledger") is None


def test_aliases_added_to_a_curated_skill_leave_its_name_and_go_with_undefine() -> None:
    cat = catalogue()
    extended = cat.define(
        Skill(id="kubernetes", name="ignored", aliases=("kube-ops", "k8s"), related=())
    )
    assert (extended.name, extended.source) == ("Kubernetes", "peerloop")
    assert extended.aliases == ("k8s", "kube-ops")
    assert cat.define(Skill(id="kubernetes", name="", aliases=("kops",), related=())).aliases == (
        "k8s",
        "kops",
    )
    assert cat.canonical("kube-ops") == "kube-ops"
    cat.undefine("kubernetes")
    assert cat.get("kubernetes") == catalogue().get("kubernetes")
    assert cat.search("kop") == []
    cat.undefine("accounting")  # never defined by the organisation: stays
    assert cat.known("accounting")


def test_an_alias_held_by_another_skill_stays_that_skills() -> None:
    cat = catalogue()
    cat.define(Skill(id="acme-k", name="Acme K", aliases=("k8s",), related=()))
    assert cat.canonical("k8s") == "kubernetes"
    assert cat.holder("k8s") == "kubernetes" and cat.holder("nothing") is None
