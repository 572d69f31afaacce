"""Defining organisation skills with in-memory fakes: the store, the event and the catalogue."""

from __future__ import annotations

import pytest
from peerloop_contracts.organisation_skills import OrganisationLayer
from peerloop_contracts.skills import Skill, SkillCatalogue
from peerloop_contracts.states import OrganisationSkillDefined
from peerloop_profiles.adapters.memory_skills import InMemorySkillDefinitions
from peerloop_profiles.application.errors import SkillChanged, SkillNameTaken, SkillNotDefined
from peerloop_profiles.application.organisation_skills import OrganisationSkills
from peerloop_profiles.domain.errors import RuleViolation
from peerloop_profiles.domain.organisation_skills import SkillDefinition

TOPIC = OrganisationSkillDefined.topic()


def skills() -> tuple[OrganisationSkills, InMemorySkillDefinitions, list[str]]:
    catalogue = SkillCatalogue(
        [Skill(id="kubernetes", name="Kubernetes", aliases=("k8s",), related=())]
    )
    store = InMemorySkillDefinitions()
    woken: list[str] = []
    return OrganisationSkills(store, OrganisationLayer(catalogue), woken.append), store, woken


async def test_a_definition_is_stored_published_and_applied_here_at_once() -> None:
    cases, store, woken = skills()
    made = await cases.define("acme-ledger", name="Acme Ledger", aliases=["ledger"])
    assert made.version == 1 and store.definitions["acme-ledger"] == made
    [entry] = store.outbox
    assert (entry.topic, entry.key) == (TOPIC, "acme-ledger")
    assert OrganisationSkillDefined.decode(entry.value or b"").aliases == ["ledger"]
    assert woken == ["acme-ledger"]
    catalogue = cases.layer.catalogue
    assert catalogue.canonical("Ledger") == "acme-ledger"
    assert [s.skill.id for s in catalogue.search("ledg")] == ["acme-ledger"]


async def test_redefining_replaces_the_aliases_and_an_unchanged_one_writes_nothing() -> None:
    cases, store, _ = skills()
    await cases.define("acme-ledger", name="Acme Ledger", aliases=["ledger"])
    again = await cases.define("acme-ledger", name="Acme Ledger", aliases=["ledger"])
    assert again.version == 1 and len(store.outbox) == 1
    changed = await cases.define("acme-ledger", name="Acme Ledger", aliases=["books"])
    assert changed.version == 2
    catalogue = cases.layer.catalogue
    assert catalogue.canonical("books") == "acme-ledger"
    assert catalogue.canonical("ledger") == "ledger"  # no longer an alias of anything


async def test_aliases_added_to_a_curated_skill_go_with_its_definition() -> None:
    cases, store, _ = skills()
    made = await cases.define("kubernetes", name=None, aliases=["kube-ops"])
    assert made.extends and made.name == "Kubernetes"
    catalogue = cases.layer.catalogue
    assert catalogue.canonical("kube-ops") == "kubernetes"
    await cases.remove("kubernetes")
    assert catalogue.canonical("kube-ops") == "kube-ops"
    assert catalogue.canonical("k8s") == "kubernetes"  # its own alias stays
    assert store.outbox[-1].value is None  # a tombstone


async def test_removal_forgets_the_skill_and_a_second_removal_is_not_found() -> None:
    cases, _, _ = skills()
    await cases.define("acme-ledger", name="Acme Ledger", aliases=["ledger"])
    removed = await cases.remove("acme-ledger")
    assert removed.removed and removed.version == 2
    assert cases.layer.catalogue.get("acme-ledger") is None
    assert await cases.get("acme-ledger") is None
    with pytest.raises(SkillNotDefined):
        await cases.remove("acme-ledger")
    # Defined again later: its version goes on, so no replica takes it for an old record.
    assert (await cases.define("acme-ledger", name="Acme Ledger")).version == 3


async def test_a_stale_version_is_a_conflict_and_a_taken_alias_a_violation() -> None:
    cases, _, _ = skills()
    await cases.define("acme-ledger", name="Acme Ledger", aliases=["ledger"])
    with pytest.raises(SkillChanged):
        await cases.define("acme-ledger", name="Acme Ledger", expected_version=0)
    with pytest.raises(RuleViolation, match="acme-ledger"):
        await cases.define("acme-books", name="Acme Books", aliases=["ledger"])


async def test_the_store_refuses_a_name_another_definition_just_took() -> None:
    # Two replicas each checked against a catalogue that had not heard of the other's.
    store = InMemorySkillDefinitions()
    first = SkillDefinition("acme-ledger", "Acme Ledger", ("ledger",), version=1)
    assert await store.add(first, [])
    with pytest.raises(SkillNameTaken):
        await store.add(SkillDefinition("acme-books", "Books", ("ledger",), version=1), [])
