"""A person's choices: which channels per kind, quiet hours, daily digest."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from peerloop_contracts.notifications import Channel
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator, model_validator

from peerloop_notifications.domain.kinds import ONLY_BY_EMAIL, Kind

_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def valid_time_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown IANA time zone {name!r}") from exc
    return name


class ChannelSwitches(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    inbox: bool = True
    email: bool = True
    webhook: bool = True

    def enabled(self, channel: Channel) -> bool:
        return bool(getattr(self, channel))


class QuietHours(BaseModel):
    """Local times between which e-mail and webhook wait; may span midnight (22:00–07:00)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: str = Field(examples=["22:00"])
    end: str = Field(examples=["07:00"])

    @field_validator("start", "end")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        if not _HHMM.match(value):
            raise ValueError("must be HH:MM, 24-hour clock")
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> QuietHours:
        if self.start == self.end:
            raise ValueError("quiet hours must not start and end at the same time")
        return self


class Preferences(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    channels: ChannelSwitches = Field(
        default_factory=ChannelSwitches, description="channels for every kind not overridden"
    )
    per_kind: dict[Kind, ChannelSwitches] = Field(
        default_factory=dict, description="overrides for single kinds of notification"
    )
    webhook_url: HttpUrl | None = Field(
        default=None, description="Slack/Teams-style incoming webhook; no URL, no webhook"
    )
    quiet_hours: QuietHours | None = None
    digest: bool = Field(
        default=False, description="send e-mail once a day as one digest instead of one by one"
    )
    digest_hour: int = Field(default=8, ge=0, le=23, description="local hour of the digest")


def channels_for(prefs: Preferences, kind: Kind) -> list[Channel]:
    """The channels one notification goes out on; the webhook needs a URL as well."""
    switches = prefs.per_kind.get(kind, prefs.channels)
    chosen: list[Channel] = []
    if switches.inbox:
        chosen.append("inbox")
    if switches.email:
        chosen.append("email")
    if switches.webhook and prefs.webhook_url is not None:
        chosen.append("webhook")
    if kind in ONLY_BY_EMAIL:
        return [c for c in chosen if c == "email"]
    return chosen
