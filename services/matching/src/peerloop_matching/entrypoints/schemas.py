"""HTTP request bodies. Everything an outsider sends is checked here (→ 422)."""

from __future__ import annotations

from datetime import datetime

from peerloop_contracts.common import (
    MAX_STORED_INT,
    Comment,
    Level,
    Reason,
    SessionFormat,
    Task,
    Urgency,
)
from peerloop_contracts.envelope import utc_now
from peerloop_contracts.skills import default_catalogue
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Versioned(_Body):
    expected_version: int | None = Field(
        default=None,
        ge=0,
        le=MAX_STORED_INT,
        description="The `version` the caller last saw; 409 if the request changed since.",
    )


class NewHelpRequestIn(_Body):
    """The requester is the caller (the bearer token), never a field."""

    skill: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="canonical skill id or an alias (e.g. k8s); left out, the skill is "
        "inferred from the task (the best of the skills `POST /task-skills` suggests)",
    )
    desired_level: Level
    task: Task = Field(description="the task in hand")
    needed_by: AwareDatetime | None = None
    urgency: Urgency = "normal"
    format: SessionFormat = "call"
    max_minutes: int = Field(default=60, ge=5, le=480)

    @field_validator("skill")
    @classmethod
    def _skill_name(cls, value: str | None) -> str | None:
        if value is not None:
            default_catalogue().canonical(value)  # refuses names that make no skill id
        return value

    @field_validator("task")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("describe the task in hand")
        return value

    @field_validator("needed_by")
    @classmethod
    def _ahead(cls, value: datetime | None) -> datetime | None:
        if value is not None and value <= utc_now():
            raise ValueError("needed_by is in the past")
        return value


class AcceptIn(_Versioned):
    scheduled_at: AwareDatetime | None = None


class DeclineIn(_Versioned):
    reason: Reason | None = None


class CancelIn(_Versioned):
    reason: Reason | None = None


class ConfirmIn(_Versioned):
    duration_minutes: int | None = Field(default=None, ge=1, le=1440)


class NotHappenedIn(_Versioned):
    pass


class FeedbackIn(_Versioned):
    rating: int = Field(ge=1, le=5)
    comment: Comment | None = None


class RescheduleIn(_Versioned):
    scheduled_at: AwareDatetime = Field(description="the session's new start; must lie ahead")


class CancelSessionIn(_Versioned):
    reason: Reason | None = None
