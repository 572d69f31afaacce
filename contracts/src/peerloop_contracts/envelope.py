"""The CloudEvents envelope in Kafka binary mode.

The record value is the JSON event data; the attributes travel as headers
`ce_specversion`, `ce_id`, `ce_source`, `ce_type`, `ce_time`, `ce_subject`,
plus `content-type` and, when there is a trace, W3C `traceparent`.
The record key is the subject (the aggregate id) so each entity stays ordered.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/json"

_HEADER_FIELDS = {
    "ce_specversion": "specversion",
    "ce_id": "id",
    "ce_source": "source",
    "ce_type": "type",
    "ce_time": "time",
    "ce_subject": "subject",
    "content-type": "datacontenttype",
    "traceparent": "traceparent",
}
REQUIRED_HEADERS = ("ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "ce_subject")


class EnvelopeError(ValueError):
    """Headers do not form a valid CloudEvents binary-mode envelope."""


def new_event_id() -> str:
    return str(uuid.uuid4())


def utc_now() -> datetime:
    return datetime.now(UTC)


class CloudEventMeta(BaseModel):
    """CloudEvents context attributes of one event."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(default_factory=new_event_id, min_length=1)
    source: str = Field(min_length=1)
    type: str = Field(min_length=1)
    subject: str = Field(min_length=1)
    time: datetime = Field(default_factory=utc_now)
    specversion: str = SPEC_VERSION
    datacontenttype: str = CONTENT_TYPE
    traceparent: str | None = None

    def to_headers(self) -> dict[str, str]:
        headers = {
            "ce_specversion": self.specversion,
            "ce_id": self.id,
            "ce_source": self.source,
            "ce_type": self.type,
            "ce_time": self.time.isoformat().replace("+00:00", "Z"),
            "ce_subject": self.subject,
            "content-type": self.datacontenttype,
        }
        if self.traceparent:
            headers["traceparent"] = self.traceparent
        return headers

    @classmethod
    def from_headers(
        cls, headers: Mapping[str, str | bytes] | Iterable[tuple[str, str | bytes]]
    ) -> CloudEventMeta:
        items = headers.items() if isinstance(headers, Mapping) else headers
        decoded = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in items}
        missing = [h for h in REQUIRED_HEADERS if not decoded.get(h)]
        if missing:
            raise EnvelopeError(f"missing CloudEvents header(s): {', '.join(missing)}")
        if decoded["ce_specversion"] != SPEC_VERSION:
            raise EnvelopeError(f"unsupported ce_specversion {decoded['ce_specversion']!r}")
        fields = {_HEADER_FIELDS[k]: v for k, v in decoded.items() if k in _HEADER_FIELDS and v}
        try:
            return cls.model_validate(fields)
        except ValueError as exc:
            raise EnvelopeError(f"invalid CloudEvents header: {exc}") from exc
