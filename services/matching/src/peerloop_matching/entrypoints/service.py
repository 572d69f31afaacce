"""Wiring: one process serves HTTP, consumes events, relays the outbox and sweeps expiries."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import timedelta

from fastapi import FastAPI
from peerloop_contracts.matching import FeedbackGiven, HelpRequested
from peerloop_contracts.profiles import (
    AvailabilityChanged,
    ProfileErased,
    ProfileRegistered,
    ProfileUpdated,
    SkillAcquired,
    SkillOffered,
    SkillWithdrawn,
)
from peerloop_contracts.runtime.kafka import EventConsumer, RetryPolicy
from peerloop_contracts.runtime.mongo import TRANSIENT_STORE_ERRORS
from peerloop_contracts.runtime.service import ServiceRuntime
from peerloop_contracts.skills import SkillCatalogue, default_catalogue

from peerloop_matching.adapters.candidate_store import CandidateStore
from peerloop_matching.adapters.request_store import RequestStore
from peerloop_matching.application.expiry import ExpirySweeper
from peerloop_matching.application.help_requests import HelpRequests, MatchingPolicy
from peerloop_matching.application.index_sync import IndexSync
from peerloop_matching.application.read_model import CandidateProjection
from peerloop_matching.config import Settings
from peerloop_matching.domain.skill_index import SkillIndex

REQUESTS = "help_requests"
CANDIDATES = "candidates"


def related_both_ways(catalogue: SkillCatalogue) -> Callable[[str], tuple[str, ...]]:
    """The catalogue lists relations one way; an expert in either can help with the other."""
    links: dict[str, set[str]] = {}
    for skill_id in catalogue.ids():
        for other in catalogue.related(skill_id):
            links.setdefault(skill_id, set()).add(other)
            links.setdefault(other, set()).add(skill_id)
    frozen = {k: tuple(sorted(v - {k})) for k, v in links.items()}
    return lambda skill_id: frozen.get(skill_id, ())


class MatchingService:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.runtime = ServiceRuntime(
            "matching",
            settings,
            outbox_collections=[REQUESTS],
        )
        catalogue = default_catalogue()
        weights = settings.weights.to_weights()
        self.index = SkillIndex(related=related_both_ways(catalogue), weights=weights)
        self.candidates = CandidateStore(self.runtime.collection(CANDIDATES))
        self.request_store = RequestStore(self.runtime.collection(REQUESTS))
        self.sync = IndexSync(self.candidates, self.index)
        self.help_requests = HelpRequests(
            self.request_store,
            self.candidates,
            self.sync,
            catalogue,
            MatchingPolicy(
                weights=weights,
                proposal_ttl=settings.proposal_ttl,
                requester_wait=timedelta(seconds=settings.requester_wait_seconds),
            ),
            notify=self.runtime.relay.notify,
        )
        self.projection = CandidateProjection(self.candidates, self.sync, self.help_requests)
        self.sweeper = ExpirySweeper(self.help_requests, settings.expiry_sweep_seconds)
        self._register_consumers()

    def _register_consumers(self) -> None:
        retry = RetryPolicy(transient=TRANSIENT_STORE_ERRORS)
        group = self.runtime.group_id
        projection = self.projection
        # Two groups: a burst of profile changes never delays matching, nor the reverse.
        self.runtime.consumers.append(
            EventConsumer(
                self.runtime.broker,
                group_id=f"{group}.candidates",
                handlers={
                    ProfileRegistered: projection.on_profile,
                    ProfileUpdated: projection.on_profile,
                    AvailabilityChanged: projection.on_availability,
                    SkillOffered: projection.on_skill_offered,
                    SkillWithdrawn: projection.on_skill_withdrawn,
                    SkillAcquired: projection.on_skill_acquired,
                    ProfileErased: projection.on_profile_erased,
                    FeedbackGiven: projection.on_feedback,
                },
                retry=retry,
                # Batches of records, one key's in order, keys concurrently, one commit.
                batch=True,
            )
        )
        self.runtime.consumers.append(
            EventConsumer(
                self.runtime.broker,
                group_id=f"{group}.requests",
                handlers={HelpRequested: self.help_requests.on_help_requested},
                retry=retry,
                # Batches of records, one key's in order, keys concurrently, one commit.
                batch=True,
            )
        )

    async def start(self) -> None:
        await self.candidates.ensure_indexes()
        await self.request_store.ensure_indexes()
        # The index must be whole before the first help request is matched.
        await self.sync.refresh()
        await self.runtime.start()
        self.sync.start(self.settings.index_refresh_seconds)
        self.sweeper.start()

    async def stop(self) -> None:
        await self.sweeper.stop()
        await self.sync.stop()
        await self.runtime.stop()

    @contextlib.asynccontextmanager
    async def lifespan(self, _app: FastAPI) -> AsyncIterator[None]:
        await self.start()
        try:
            yield
        finally:
            await asyncio.wait_for(self.stop(), timeout=self.settings.shutdown_grace_seconds)
