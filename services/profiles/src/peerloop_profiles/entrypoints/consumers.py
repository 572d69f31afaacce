"""Kafka consumers of the profiles service: parse, dispatch, nothing else."""

from __future__ import annotations

from peerloop_contracts.base import Event
from peerloop_contracts.envelope import CloudEventMeta
from peerloop_contracts.matching import FeedbackGiven, SessionCompleted
from peerloop_runtime.kafka import DeadLetter, Handler

from peerloop_profiles.application.evidence import Evidence
from peerloop_profiles.application.use_cases import Profiles
from peerloop_profiles.domain.errors import SelfTaughtSession


def session_completed_handlers(
    profiles: Profiles, evidence: Evidence | None = None
) -> dict[type[Event], Handler]:
    """Records what a completed session taught, and the evidence of it and its feedback."""

    async def on_session_completed(event: SessionCompleted, meta: CloudEventMeta) -> None:
        try:
            await profiles.record_session(event, traceparent=meta.traceparent)
            if evidence is not None:
                await evidence.session_completed(event, traceparent=meta.traceparent)
        except SelfTaughtSession as exc:
            raise DeadLetter(str(exc)) from exc

    async def on_feedback_given(event: FeedbackGiven, meta: CloudEventMeta) -> None:
        if evidence is not None:
            await evidence.feedback_given(event, traceparent=meta.traceparent)

    handlers: dict[type[Event], Handler] = {SessionCompleted: on_session_completed}
    if evidence is not None:
        handlers[FeedbackGiven] = on_feedback_given
    return handlers
