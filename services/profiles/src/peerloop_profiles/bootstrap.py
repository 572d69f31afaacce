"""Builds the profiles service: its runtime, stores, use cases and consumer.

Tests pass their own adapters (an in-memory repository) and get the same graph.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from peerloop_runtime.kafka import RetryPolicy
from peerloop_runtime.organisation_skills import follow_organisation_skills
from peerloop_runtime.service import ServiceRuntime

from peerloop_profiles.adapters.mongo_directory import COLLECTION as DIRECTORY
from peerloop_profiles.adapters.mongo_directory import MongoDirectory
from peerloop_profiles.adapters.mongo_evidence import COLLECTION as EVIDENCE
from peerloop_profiles.adapters.mongo_evidence import MongoEvidence
from peerloop_profiles.adapters.mongo_people import COLLECTION, MongoPersonRepository
from peerloop_profiles.adapters.mongo_skills import COLLECTION as SKILLS
from peerloop_profiles.adapters.mongo_skills import MongoSkillDefinitions
from peerloop_profiles.application.evidence import Evidence
from peerloop_profiles.application.organisation_skills import OrganisationSkills
from peerloop_profiles.application.ports import (
    DirectoryRepository,
    EvidenceRepository,
    PersonRepository,
    SkillDefinitionRepository,
)
from peerloop_profiles.application.provisioning import Provisioning
from peerloop_profiles.application.use_cases import Profiles
from peerloop_profiles.config import Settings
from peerloop_profiles.entrypoints.consumers import session_completed_handlers


@dataclass(frozen=True)
class ProfilesService:
    settings: Settings
    runtime: ServiceRuntime
    people: PersonRepository
    profiles: Profiles
    provisioning: Provisioning
    evidence: Evidence
    skills: OrganisationSkills


def bootstrap(
    settings: Settings | None = None,
    *,
    people: PersonRepository | None = None,
    directory: DirectoryRepository | None = None,
    retry: RetryPolicy | None = None,
    evidence_items: EvidenceRepository | None = None,
    definitions: SkillDefinitionRepository | None = None,
) -> ProfilesService:
    settings = settings or Settings()
    runtime = ServiceRuntime(
        name="profiles", settings=settings, outbox_collections=[COLLECTION, SKILLS]
    )
    if people is None:
        store = MongoPersonRepository(runtime.collection(COLLECTION))
        runtime.on_start(store.ensure_indexes)
        people = store
    if directory is None:
        entries = MongoDirectory(runtime.collection(DIRECTORY))
        runtime.on_start(entries.ensure_indexes)
        directory = entries
    if evidence_items is None:
        items = MongoEvidence(runtime.collection(EVIDENCE))
        runtime.on_start(items.ensure_indexes)
        evidence_items = items
    profiles = Profiles(people, on_outbox=runtime.relay.notify, on_erase=evidence_items.forget)
    if definitions is None:
        skill_store = MongoSkillDefinitions(runtime.collection(SKILLS))
        runtime.on_start(skill_store.ensure_indexes)
        definitions = skill_store
    # The process's catalogue: offers are normalised and type-ahead answered with it.
    # Every replica reads every definition (no group), from the compacted topic's start.
    layer = follow_organisation_skills(runtime)
    skills = OrganisationSkills(
        definitions,
        layer,
        on_outbox=lambda skill_id: runtime.relay.notify(skill_id, collection=SKILLS),
    )
    provisioning = Provisioning(profiles, directory)
    evidence = Evidence(
        profiles, evidence_items, half_life=timedelta(days=settings.evidence_half_life_days)
    )
    runtime.add_consumer(session_completed_handlers(profiles, evidence), retry=retry)
    return ProfilesService(
        settings=settings,
        runtime=runtime,
        people=people,
        profiles=profiles,
        provisioning=provisioning,
        evidence=evidence,
        skills=skills,
    )
