"""Kafka consumers of the profiles service: parse, dispatch, nothing else."""

from __future__ import annotations

from peerloop_contracts.base import Event
from peerloop_contracts.envelope import CloudEventMeta
from peerloop_contracts.matching import SessionCompleted
from peerloop_runtime.kafka import DeadLetter, Handler

from peerloop_profiles.application.use_cases import Profiles
from peerloop_profiles.domain.errors import SelfTaughtSession


def session_completed_handlers(profiles: Profiles) -> dict[type[Event], Handler]:
    """Records what a completed session taught."""

    async def on_session_completed(event: SessionCompleted, meta: CloudEventMeta) -> None:
        try:
            await profiles.record_session(event, traceparent=meta.traceparent)
        except SelfTaughtSession as exc:
            raise DeadLetter(str(exc)) from exc

    return {SessionCompleted: on_session_completed}
