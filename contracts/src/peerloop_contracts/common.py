"""Value types shared by several events."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from peerloop_contracts.base import WireModel

MAX_STORED_INT = 2**63 - 1
"""The largest integer the store keeps (BSON int64): a bound for any number sent to it."""

PersonId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
SkillId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9+#.-]*$")]
Level = Annotated[int, Field(ge=1, le=5, description="1 = beginner … 5 = expert")]

_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class WorkingHours(WireModel):
    """Local working hours in the person's time zone; days are ISO weekdays 1 (Mon)–7 (Sun)."""

    start: str = Field(default="09:00", examples=["09:00"])
    end: str = Field(default="17:00", examples=["17:30"])
    days: list[Annotated[int, Field(ge=1, le=7)]] = Field(default_factory=lambda: [1, 2, 3, 4, 5])

    @field_validator("start", "end")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        if not _HHMM.match(value):
            raise ValueError("must be HH:MM, 24-hour clock")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> WorkingHours:
        if self.start >= self.end:
            raise ValueError("working hours must end after they start")
        return self

    def minutes(self) -> tuple[int, int]:
        def to_min(hhmm: str) -> int:
            hours, mins = hhmm.split(":")
            return int(hours) * 60 + int(mins)

        return to_min(self.start), to_min(self.end)


class AwayPeriod(WireModel):
    """A date range (inclusive) in which a person takes no sessions."""

    start: date
    end: date

    @model_validator(mode="after")
    def _ordered(self) -> AwayPeriod:
        if self.end < self.start:
            raise ValueError("an away period must not end before it starts")
        return self


SessionFormat = Literal["call", "pairing", "chat"]
Urgency = Literal["low", "normal", "high"]
