"""Value types shared by several events."""

from __future__ import annotations

import re
from collections.abc import Sized
from datetime import date
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, ValidationInfo, field_validator, model_validator

from peerloop_contracts.base import TOLERANT, WireModel

MAX_STORED_INT = 2**63 - 1
"""The largest integer the store keeps (BSON int64): a bound for any number sent to it."""

# Bidi embeddings, overrides and isolates reorder what a reader sees ("Trojan Source");
# right-to-left text needs none of them (the marks U+200E/U+200F stay allowed).
_BIDI = "\u202a-\u202e\u2066-\u2069"
# Invisible in a name, they make two different strings look the same; ZWJ and ZWNJ
# stay allowed, scripts and emoji need them.
_INVISIBLE = "\u200b\u2060\ufeff"
_CONTROL = re.compile(f"[\\x00-\\x1f\\x7f-\\x9f\\u2028\\u2029{_BIDI}{_INVISIBLE}]")
_CONTROL_BUT_LINES = re.compile(f"[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f{_BIDI}]")


def _producing(info: ValidationInfo) -> bool:
    """Bounds added after an event was published hold for what is produced from now on.

    A consumer decoding tolerantly (`Event.decode`) still reads the events already on a
    topic that were produced before the bound existed: each published revision is a
    promise to its subscribers (see schema_tools.compatibility).
    """
    return not (info.context and info.context.get(TOLERANT))


def _one_line(value: str, info: ValidationInfo) -> str:
    if _producing(info) and _CONTROL.search(value):
        raise ValueError("must be one line without control or invisible characters")
    return value


def _text(value: str, info: ValidationInfo) -> str:
    if _producing(info) and _CONTROL_BUT_LINES.search(value):
        raise ValueError(
            "must not contain control or bidi override characters other than newlines and tabs"
        )
    return value


ONE_LINE = AfterValidator(_one_line)
"""Refuses control, bidi override and invisible characters and line breaks: for names,
teams, labels and ids."""
TEXT = AfterValidator(_text)
"""Refuses control and bidi override characters other than newlines and tabs: for free text."""


def at_most(limit: int) -> AfterValidator:
    """A length cap (characters or items) on what is produced; see `_producing`."""

    def check(value: Sized, info: ValidationInfo) -> Sized:
        if _producing(info) and len(value) > limit:
            unit = "characters" if isinstance(value, str) else "items"
            raise ValueError(f"at most {limit} {unit}")
        return value

    return AfterValidator(check)


def _storable(value: int, info: ValidationInfo) -> int:
    if _producing(info) and not -MAX_STORED_INT - 1 <= value <= MAX_STORED_INT:
        raise ValueError(f"must be between {-MAX_STORED_INT - 1} and {MAX_STORED_INT}")
    return value


STORABLE = AfterValidator(_storable)
"""Refuses integers the store cannot hold (beyond int64)."""

PersonId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
ERASED_PERSON = "erased"
"""Stands for an erased person where a record must keep someone's place (a past session's
teacher); never a person's own id, so profiles refuses to register it."""
EntityId = Annotated[str, at_most(200), ONE_LINE]
"""The id of a proposal, session, notification or event."""
DisplayName = Annotated[str, Field(min_length=1, max_length=200), ONE_LINE]
Team = Annotated[str, Field(min_length=1, max_length=100), ONE_LINE]
Location = Annotated[str, Field(max_length=100), ONE_LINE]
Language = Annotated[str, at_most(50), ONE_LINE]
SkillName = Annotated[str, Field(min_length=1, max_length=100), ONE_LINE]
TimeZoneName = Annotated[str, at_most(64), ONE_LINE]
Description = Annotated[str, Field(max_length=2000), TEXT]
Task = Annotated[str, Field(min_length=1, max_length=2000), TEXT]
Reason = Annotated[str, Field(max_length=500), TEXT]
Comment = Annotated[str, Field(max_length=2000), TEXT]
Label = Annotated[str, at_most(200), ONE_LINE]
"""A short machine-made one-line string (a kind, a score term's name, an explanation)."""
Count = Annotated[int, Field(ge=0), STORABLE]

MAX_LANGUAGES = 20
MAX_AWAY_PERIODS = 50
SkillId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9+#.-]*$")]
Level = Annotated[int, Field(ge=1, le=5, description="1 = beginner … 5 = expert")]

_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class WorkingHours(WireModel):
    """Local working hours in the person's time zone; days are ISO weekdays 1 (Mon)–7 (Sun)."""

    start: str = Field(default="09:00", examples=["09:00"])
    end: str = Field(default="17:00", examples=["17:30"])
    days: Annotated[list[Annotated[int, Field(ge=1, le=7)]], at_most(7)] = Field(
        default_factory=lambda: [1, 2, 3, 4, 5]
    )

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
