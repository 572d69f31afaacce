"""Builds the insights service: runtime, stores, the ingest consumer, the queries.

It calls no other service: everything it knows comes from the learning events.
Tests pass their own stores and get the same graph.
"""

from __future__ import annotations

from dataclasses import dataclass

from peerloop_runtime.kafka import EventConsumer
from peerloop_runtime.service import ServiceRuntime

from peerloop_insights.adapters.fact_log import MongoFactLog
from peerloop_insights.adapters.pseudonym_store import MongoPseudonyms
from peerloop_insights.application import ports
from peerloop_insights.application.ingest import Ingest
from peerloop_insights.application.queries import InsightsQueries
from peerloop_insights.config import Settings
from peerloop_insights.domain.changes import CONSUMED_EVENTS

FACTS = "facts"
PSEUDONYMS = "pseudonyms"
ERASED_PEOPLE = "erased_people"
ERASED_TOKENS = "erased_tokens"


@dataclass(frozen=True)
class InsightsService:
    settings: Settings
    runtime: ServiceRuntime
    log: ports.FactLog
    pseudonyms: ports.Pseudonyms
    ingest: Ingest
    queries: InsightsQueries
    consumer: EventConsumer


def bootstrap(
    settings: Settings | None = None,
    *,
    log: ports.FactLog | None = None,
    pseudonyms: ports.Pseudonyms | None = None,
) -> InsightsService:
    s = settings or Settings()
    runtime = ServiceRuntime(name="insights", settings=s)
    if log is None:
        mongo_log = MongoFactLog(runtime.collection(FACTS))
        runtime.on_start(mongo_log.ensure_indexes)
        log = mongo_log
    if pseudonyms is None:
        pseudonyms = MongoPseudonyms(
            runtime.collection(PSEUDONYMS),
            runtime.collection(ERASED_PEOPLE),
            runtime.collection(ERASED_TOKENS),
        )
    ingest = Ingest(log=log, pseudonyms=pseudonyms)
    # One call per batch for every type: a batch becomes one delta, one write.
    consumer = runtime.add_consumer(
        dict.fromkeys(CONSUMED_EVENTS, ingest.handle),
        batch=True,
        batch_handlers=dict.fromkeys(CONSUMED_EVENTS, ingest.handle_batch),
        max_records=s.batch_records,
    )
    queries = InsightsQueries(
        log=log, pseudonyms=pseudonyms, k=s.min_people, refresh_seconds=s.refresh_seconds
    )
    return InsightsService(
        settings=s,
        runtime=runtime,
        log=log,
        pseudonyms=pseudonyms,
        ingest=ingest,
        queries=queries,
        consumer=consumer,
    )
