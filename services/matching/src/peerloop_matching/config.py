"""Settings of the matching service (`PEERLOOP_*` environment variables).

Weights are nested: `PEERLOOP_WEIGHTS__CROSS_TEAM=0.2` sets one of them.
"""

from __future__ import annotations

from datetime import timedelta

from peerloop_runtime.settings import ServiceSettings
from pydantic import BaseModel, Field
from pydantic_settings import SettingsConfigDict

from peerloop_matching.domain.scoring import Weights


class WeightSettings(BaseModel):
    """See `domain/scoring.py`; the defaults are explained in the service README."""

    skill_fit: float = 0.30
    level_margin: float = 0.10
    hours_overlap: float = 0.20
    fair_load: float = 0.15
    reputation: float = 0.15
    cross_team: float = 0.10
    repeat_pairing: float = Field(default=-0.10, le=0, description="a penalty: zero or less")
    related_skill_discount: float = Field(default=0.5, ge=0, le=1)
    task_fit: float = Field(
        default=0.0,
        ge=0,
        description="closeness of the task to the helper's offer description; 0 (the "
        "default, chosen by `python -m bench task-skills`): off",
    )

    evidence: float = Field(
        default=0.0,
        ge=0,
        description="the offered skill's evidence from profiles (sessions taught, ratings, "
        "endorsements, halved per half-life); 0 (the default): explained, ranks nothing",
    )

    def to_weights(self) -> Weights:
        return Weights(**self.model_dump())


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="PEERLOOP_", extra="ignore", env_nested_delimiter="__"
    )

    http_port: int = 8102
    database: str = "peerloop_matching"
    proposal_ttl_seconds: float = Field(default=86_400, gt=0)
    expiry_sweep_seconds: float = Field(default=5.0, gt=0)
    index_refresh_seconds: float = Field(default=0.5, gt=0)
    requester_wait_seconds: float = Field(
        default=5.0,
        ge=0,
        description="how long an ask waits for the requester's profile to reach matching "
        "before answering 503 + Retry-After",
    )
    max_wait_seconds: float = Field(
        default=14 * 86_400,
        ge=0,
        description="how long a request nobody can take waits for a helper (from its "
        "creation; its needed_by ends it sooner) before it ends unmatched; 0: it ends "
        "unmatched at once",
    )
    waiting_recheck_seconds: float = Field(
        default=300,
        gt=0,
        description="how often a waiting request is tried again without an event "
        "(capacity of a new week, people back from away)",
    )
    waiting_first_recheck_seconds: float = Field(
        default=10,
        gt=0,
        description="how soon a request that just began to wait is tried again (a helper "
        "applied by another replica at that instant woke nothing)",
    )
    waiting_sweep_seconds: float = Field(default=5.0, gt=0)
    weights: WeightSettings = Field(default_factory=WeightSettings)

    @property
    def proposal_ttl(self) -> timedelta:
        return timedelta(seconds=self.proposal_ttl_seconds)

    @property
    def max_wait(self) -> timedelta:
        return timedelta(seconds=self.max_wait_seconds)

    @property
    def waiting_recheck(self) -> timedelta:
        return timedelta(seconds=self.waiting_recheck_seconds)

    @property
    def waiting_first_recheck(self) -> timedelta:
        return timedelta(seconds=self.waiting_first_recheck_seconds)
