"""Kafka consumers of the profiles service: parse, dispatch, nothing else."""

from __future__ import annotations

from peerloop_contracts.envelope import CloudEventMeta
from peerloop_contracts.matching import SessionCompleted
from peerloop_contracts.runtime.kafka import DeadLetter, EventConsumer, RetryPolicy
from peerloop_contracts.runtime.mongo import TRANSIENT_STORE_ERRORS
from peerloop_contracts.runtime.service import ServiceRuntime

from peerloop_profiles.application.use_cases import ProfilesService
from peerloop_profiles.domain.errors import SelfTaughtSession


def session_completed_consumer(
    runtime: ServiceRuntime, service: ProfilesService, *, retry: RetryPolicy | None = None
) -> EventConsumer:
    """Records what a completed session taught; registered on the runtime's broker."""

    async def on_session_completed(event: SessionCompleted, meta: CloudEventMeta) -> None:
        try:
            await service.record_session(event, traceparent=meta.traceparent)
        except SelfTaughtSession as exc:
            raise DeadLetter(str(exc)) from exc

    consumer = EventConsumer(
        runtime.broker,
        group_id=runtime.group_id,
        handlers={SessionCompleted: on_session_completed},
        retry=retry or RetryPolicy(transient=TRANSIENT_STORE_ERRORS),
    )
    runtime.consumers.append(consumer)
    return consumer
