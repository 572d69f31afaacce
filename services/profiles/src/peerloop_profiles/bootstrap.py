"""Builds the profiles service: its runtime, stores, use cases and consumer.

Tests pass their own adapters (an in-memory repository) and get the same graph.
"""

from __future__ import annotations

from dataclasses import dataclass

from peerloop_runtime.kafka import RetryPolicy
from peerloop_runtime.service import ServiceRuntime

from peerloop_profiles.adapters.mongo_people import COLLECTION, MongoPersonRepository
from peerloop_profiles.application.ports import PersonRepository
from peerloop_profiles.application.use_cases import Profiles
from peerloop_profiles.config import Settings
from peerloop_profiles.entrypoints.consumers import session_completed_handlers


@dataclass(frozen=True)
class ProfilesService:
    settings: Settings
    runtime: ServiceRuntime
    people: PersonRepository
    profiles: Profiles


def bootstrap(
    settings: Settings | None = None,
    *,
    people: PersonRepository | None = None,
    retry: RetryPolicy | None = None,
) -> ProfilesService:
    settings = settings or Settings()
    runtime = ServiceRuntime(name="profiles", settings=settings, outbox_collections=[COLLECTION])
    if people is None:
        store = MongoPersonRepository(runtime.collection(COLLECTION))
        runtime.on_start(store.ensure_indexes)
        people = store
    profiles = Profiles(people, on_outbox=runtime.relay.notify)
    runtime.add_consumer(session_completed_handlers(profiles), retry=retry)
    return ProfilesService(settings=settings, runtime=runtime, people=people, profiles=profiles)
