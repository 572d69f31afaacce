"""Builds the matching service: runtime, stores, index, use cases, consumers and workers.

Tests pass their own stores and get the same graph.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from peerloop_contracts.skills import SkillCatalogue, default_catalogue
from peerloop_runtime.organisation_skills import follow_organisation_skills
from peerloop_runtime.periodic import Periodic
from peerloop_runtime.service import ServiceRuntime

from peerloop_matching.adapters.candidate_store import CandidateStore
from peerloop_matching.adapters.e5_embedder import E5Embedder
from peerloop_matching.adapters.pairing_block_store import PairingBlockStore
from peerloop_matching.adapters.programme_store import ProgrammeStore
from peerloop_matching.adapters.request_store import RequestStore
from peerloop_matching.application.expiry import expiry_sweeper
from peerloop_matching.application.help_requests import HelpRequests, MatchingPolicy
from peerloop_matching.application.index_sync import IndexSync, index_follower
from peerloop_matching.application.org_rules import OrgRules
from peerloop_matching.application.ports import (
    CandidateRepository,
    HelpRequestRepository,
    PairingBlockRepository,
    ProgrammeRepository,
)
from peerloop_matching.application.programmes import Programmes
from peerloop_matching.application.read_model import CandidateProjection
from peerloop_matching.application.task_fit import TaskFit
from peerloop_matching.application.waiting import waiting_sweeper
from peerloop_matching.config import Settings
from peerloop_matching.domain.skill_index import SkillIndex
from peerloop_matching.entrypoints.consumers import (
    candidate_handlers,
    programme_handlers,
    request_handlers,
)

REQUESTS = "help_requests"
CANDIDATES = "candidates"
PROGRAMMES = "programmes"
PAIRING_BLOCKS = "pairing_blocks"


def related_both_ways(catalogue: SkillCatalogue) -> Callable[[str], tuple[str, ...]]:
    """The catalogue lists relations one way; an expert in either can help with the other.

    Derived again when the catalogue changed (an organisation skill was defined), at the
    first look-up after it: definitions are rare, look-ups are not.
    """
    derived: tuple[int, dict[str, tuple[str, ...]]] = (-1, {})

    def derive() -> dict[str, tuple[str, ...]]:
        links: dict[str, set[str]] = {}
        for skill_id in catalogue.ids():
            for other in catalogue.related(skill_id):
                links.setdefault(skill_id, set()).add(other)
                links.setdefault(other, set()).add(skill_id)
        return {k: tuple(sorted(v - {k})) for k, v in links.items()}

    def related(skill_id: str) -> tuple[str, ...]:
        nonlocal derived
        if derived[0] != catalogue.revision:
            derived = (catalogue.revision, derive())
        return derived[1].get(skill_id, ())

    return related


@dataclass(frozen=True)
class MatchingService:
    settings: Settings
    runtime: ServiceRuntime
    candidates: CandidateRepository
    request_store: HelpRequestRepository
    index: SkillIndex
    sync: IndexSync
    help_requests: HelpRequests
    projection: CandidateProjection
    sweeper: Periodic
    rules: OrgRules
    programmes: Programmes
    waiting: Periodic


def bootstrap(
    settings: Settings | None = None,
    *,
    candidates: CandidateRepository | None = None,
    requests: HelpRequestRepository | None = None,
    programmes: ProgrammeRepository | None = None,
    blocks: PairingBlockRepository | None = None,
) -> MatchingService:
    settings = settings or Settings()
    runtime = ServiceRuntime("matching", settings, outbox_collections=[REQUESTS, PROGRAMMES])
    if candidates is None:
        candidates = CandidateStore(runtime.collection(CANDIDATES))
        runtime.on_start(candidates.ensure_indexes)
    if requests is None:
        requests = RequestStore(runtime.collection(REQUESTS))
        runtime.on_start(requests.ensure_indexes)
    if programmes is None:
        programmes = ProgrammeStore(runtime.collection(PROGRAMMES))
    if blocks is None:
        block_store = PairingBlockStore(runtime.collection(PAIRING_BLOCKS))
        runtime.on_start(block_store.ensure_indexes)
        blocks = block_store
    # The process's catalogue, with the organisation's skills as profiles publishes them.
    catalogue = default_catalogue()
    weights = settings.weights.to_weights()
    index = SkillIndex(related=related_both_ways(catalogue), weights=weights)
    sync = IndexSync(candidates, index)
    rules = OrgRules(index, blocks)
    policy = MatchingPolicy(
        weights=weights,
        proposal_ttl=settings.proposal_ttl,
        requester_wait=timedelta(seconds=settings.requester_wait_seconds),
        longest_wait=settings.max_wait,
        recheck_every=settings.waiting_recheck,
        first_recheck=settings.waiting_first_recheck,
    )
    task_fit = None
    if weights.task_fit > 0:
        embedder = E5Embedder(threads=1, lazy=True)
        task_fit = TaskFit(embedder)

        async def load_model() -> None:
            await asyncio.to_thread(embedder.load)  # not at the first match, in its loop

        runtime.on_start(load_model)
    help_requests = HelpRequests(
        requests,
        candidates,
        sync,
        catalogue,
        policy,
        on_outbox=runtime.relay.notify,
        rules=rules,
        task_fit=task_fit,
    )
    programme_cases = Programmes(
        programmes,
        requests,
        sync,
        catalogue,
        rules,
        policy,
        on_outbox=lambda programme_id: runtime.relay.notify(programme_id, collection=PROGRAMMES),
        on_request_outbox=runtime.relay.notify,
    )
    projection = CandidateProjection(candidates, sync, help_requests)
    sweeper = expiry_sweeper(help_requests, settings.expiry_sweep_seconds)
    waiting = waiting_sweeper(help_requests, settings.waiting_sweep_seconds)

    async def fill_index() -> None:
        await sync.refresh()

    # The index must be whole before the first help request is matched.
    runtime.on_start(fill_index)
    # Two groups: a burst of profile changes never delays matching, nor the reverse.
    # Batches of records, one key's in order, keys concurrently, one commit.
    runtime.add_consumer(candidate_handlers(projection), group="candidates", batch=True)
    runtime.add_consumer(request_handlers(help_requests), group="requests", batch=True)
    # A programme's declined or expired proposals, placed again by the programme.
    runtime.add_consumer(programme_handlers(programme_cases), group="programmes", batch=True)
    follow_organisation_skills(runtime, catalogue)
    runtime.add_worker(index_follower(sync, settings.index_refresh_seconds))
    runtime.add_worker(sweeper)
    runtime.add_worker(waiting)
    return MatchingService(
        settings=settings,
        runtime=runtime,
        candidates=candidates,
        request_store=requests,
        index=index,
        sync=sync,
        help_requests=help_requests,
        projection=projection,
        sweeper=sweeper,
        rules=rules,
        programmes=programme_cases,
        waiting=waiting,
    )
