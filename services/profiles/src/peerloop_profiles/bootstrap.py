"""Builds the profiles service: its runtime, stores, use cases and consumer.

Tests pass their own adapters (an in-memory repository) and get the same graph.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from peerloop_runtime.kafka import RetryPolicy
from peerloop_runtime.service import ServiceRuntime

from peerloop_profiles.adapters.mongo_directory import COLLECTION as DIRECTORY
from peerloop_profiles.adapters.mongo_directory import MongoDirectory
from peerloop_profiles.adapters.mongo_evidence import COLLECTION as EVIDENCE
from peerloop_profiles.adapters.mongo_evidence import MongoEvidence
from peerloop_profiles.adapters.mongo_people import COLLECTION, MongoPersonRepository
from peerloop_profiles.application.evidence import Evidence
from peerloop_profiles.application.ports import (
    DirectoryRepository,
    EvidenceRepository,
    PersonRepository,
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


def bootstrap(
    settings: Settings | None = None,
    *,
    people: PersonRepository | None = None,
    directory: DirectoryRepository | None = None,
    retry: RetryPolicy | None = None,
    evidence_items: EvidenceRepository | None = None,
) -> ProfilesService:
    settings = settings or Settings()
    runtime = ServiceRuntime(name="profiles", settings=settings, outbox_collections=[COLLECTION])
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
    )
