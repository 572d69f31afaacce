"""Base classes of every wire model.

Producers are strict: constructing an event with an unknown field fails, and the
generated JSON Schema is closed (`additionalProperties: false`). Consumers are
tolerant: `Event.decode` ignores fields a newer producer added, at every depth,
so adding an optional field never breaks an older subscriber.
"""

from __future__ import annotations

from typing import Any, ClassVar, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from peerloop_contracts.topics import ce_source, ce_type, topic_name

TOLERANT = "tolerant"
"""Validation context key set by `Event.decode`: read as a consumer."""


class WireModel(BaseModel):
    """A value carried on the wire: closed when produced, tolerant when consumed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _drop_unknown_when_tolerant(cls, data: Any, info: ValidationInfo) -> Any:
        if isinstance(data, dict) and info.context and info.context.get(TOLERANT):
            known = {f.alias or name for name, f in cls.model_fields.items()} | set(
                cls.model_fields
            )
            return {k: v for k, v in data.items() if k in known}
        return data


class Event(WireModel):
    """One published fact. Subclasses set `event_name`, `version`, `owner` and `aggregate`."""

    event_name: ClassVar[str]
    version: ClassVar[int] = 1
    owner: ClassVar[str]
    """The one service that publishes this type (`profiles`, `matching`, `notifications`).

    It decides the `ce_source` (`peerloop/<owner>`), the Kafka principal allowed to
    write the topic (deploy/kafka_acls.py) and the publisher in the AsyncAPI
    documents; consumers dead-letter a record of this type from any other source.
    """
    aggregate: ClassVar[str]
    """Name of the field holding the aggregate id: the record key and `ce_subject`."""

    sequence: int = Field(
        ge=1,
        description="The aggregate's sequence number after this change; consumers "
        "ignore an event whose sequence is not newer than the one they applied.",
    )

    @field_validator("sequence")
    @classmethod
    def _storable_sequence(cls, value: int, info: ValidationInfo) -> int:
        # The store's int64 (common.MAX_STORED_INT; common imports this module).
        if not (info.context and info.context.get(TOLERANT)) and value > 2**63 - 1:
            raise ValueError("must be at most 9223372036854775807")
        return value

    @classmethod
    def topic(cls) -> str:
        return topic_name(cls.event_name, cls.version)

    @classmethod
    def ce_type(cls) -> str:
        return ce_type(cls.event_name, cls.version)

    @classmethod
    def ce_source(cls) -> str:
        return ce_source(cls.owner)

    @property
    def subject(self) -> str:
        return str(getattr(self, self.aggregate))

    def to_json(self) -> bytes:
        return self.model_dump_json(by_alias=True).encode()

    @classmethod
    def decode(cls, data: bytes | str | dict[str, Any]) -> Self:
        """Parse as a consumer: unknown fields are ignored at every depth."""
        if isinstance(data, dict):
            return cls.model_validate(data, context={TOLERANT: True})
        return cls.model_validate_json(data, context={TOLERANT: True})
