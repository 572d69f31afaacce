"""Kafka consumers of the matching service: which event goes to which use case."""

from __future__ import annotations

from peerloop_contracts.base import Event
from peerloop_contracts.matching import FeedbackGiven, HelpRequested, MatchDeclined, MatchExpired
from peerloop_contracts.profiles import (
    AvailabilityChanged,
    ProfileErased,
    ProfileRegistered,
    ProfileUpdated,
    SkillAcquired,
    SkillEvidenceChanged,
    SkillOffered,
    SkillWithdrawn,
)
from peerloop_contracts.states import PersonState
from peerloop_runtime.kafka import Handler

from peerloop_matching.application.help_requests import HelpRequests
from peerloop_matching.application.programmes import Programmes
from peerloop_matching.application.read_model import CandidateProjection


def candidate_handlers(projection: CandidateProjection) -> dict[type[Event], Handler]:
    """The candidates read model, from what profiles and feedback publish: the person's
    state topic (to start from) beside the change events (to follow)."""
    return {
        ProfileRegistered: projection.on_profile,
        ProfileUpdated: projection.on_profile,
        AvailabilityChanged: projection.on_availability,
        SkillOffered: projection.on_skill_offered,
        SkillWithdrawn: projection.on_skill_withdrawn,
        SkillAcquired: projection.on_skill_acquired,
        SkillEvidenceChanged: projection.on_skill_evidence_changed,
        ProfileErased: projection.on_profile_erased,
        PersonState: projection.on_person_state,
        FeedbackGiven: projection.on_feedback,
    }


def request_handlers(help_requests: HelpRequests) -> dict[type[Event], Handler]:
    return {HelpRequested: help_requests.on_help_requested}


def programme_handlers(programmes: Programmes) -> dict[type[Event], Handler]:
    return {MatchDeclined: programmes.on_declined, MatchExpired: programmes.on_declined}
