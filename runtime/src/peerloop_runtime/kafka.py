"""FastStream Kafka wiring with the reliability rules of the design.

- Producers use `acks="all"` and the idempotent producer.
- Consumers commit only after the handler's write (`AckPolicy.NACK_ON_ERROR`),
  never ack-first.
- A record must be what it claims: its `ce_type` belongs on the topic it came
  from and its `ce_source` is that type's owner (`Event.owner`). Anything else
  is an impostor and is dead-lettered unhandled: the broker's ACLs decide who
  may write a topic, this decides that a writer cannot pass off another
  service's events.
- An event that cannot be parsed, or whose handler keeps failing, goes to
  `<topic>.dlq` with headers saying why and where it came from, and the
  partition moves on. Only failures of the infrastructure itself (store or
  broker unreachable) are retried without bound, because every later event
  would fail the same way and dead-lettering them would lose the flow.
- With `batch=True` a consumer takes up to `max_records` records at a time
  (across its partitions) and commits once, after the whole batch is applied.
  Each record is still parsed and checked alone (a bad one is dead-lettered
  with its own reason, the rest go on). Records of one key on one partition
  are applied in offset order; different keys run concurrently, so a batch
  costs about as many store round trips as its longest key, not the sum of
  all. Event types with a `batch_handlers` entry are applied in one call for
  the whole batch (its writes grouped); if that call fails, those records are
  applied one by one through their ordinary handler, so retries and
  dead-lettering stay per record. A transient failure nacks the batch: every
  partition rewinds to its first record of the batch and the idempotent
  handlers make the redelivery a no-op for what was already applied (a
  record dead-lettered in the failed attempt may be dead-lettered twice).
- No handler call may hang the partition: one that runs past the retry
  policy's `deadline` is cancelled and counts as a transient failure (the
  record is redelivered). Without the bound, a handler left waiting on a
  store connection that died holds its partitions until the broker's
  `max.poll.interval.ms` (5 min) gives them to another replica.
- On a compacted state topic a record with a null value is a tombstone: the
  handler of that state type gets a `Tombstone` (its type and key) instead of
  an event. A null value on any other topic is unparseable.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiokafka import ConsumerRecord, TopicPartition
from aiokafka.errors import (
    CorruptRecordException,
    MessageSizeTooLargeError,
    RecordListTooLargeError,
)
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaMessage
from peerloop_contracts.base import Event
from peerloop_contracts.envelope import CloudEventMeta, EnvelopeError, utc_now
from peerloop_contracts.states import EntityState, Tombstone
from peerloop_contracts.topics import dlq_topic
from pydantic import ValidationError

from peerloop_runtime.logs import current_event_id, current_trace_id, trace_id_of
from peerloop_runtime.metrics import (
    CONSUMER_LAG,
    DEAD_LETTERS,
    EVENTS_CONSUMED,
    HANDLER_SECONDS,
)
from peerloop_runtime.outbox import OutboxEntry
from peerloop_runtime.outbox_relay import DeadLettered
from peerloop_runtime.tracing import consuming

log = logging.getLogger("peerloop.kafka")

Handler = Callable[[Any, CloudEventMeta], Awaitable[None]]
BatchHandler = Callable[[Sequence[tuple[Any, CloudEventMeta]]], Awaitable[None]]
"""Applies several events in one go, with the effect of applying them one by one in order.

It must be idempotent like a `Handler` (a batch may be redelivered whole) and raise
if any event could not be applied; the consumer then applies them one by one."""


def make_broker(bootstrap_servers: str, *, client_id: str, **options: Any) -> KafkaBroker:
    """A broker whose producer waits for all in-sync replicas and never duplicates on retry."""
    options.setdefault("logger", logging.getLogger("peerloop.faststream"))  # JSON, like ours
    return KafkaBroker(
        bootstrap_servers,
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        **options,
    )


async def publish_entry(broker: KafkaBroker, entry: OutboxEntry) -> DeadLettered | None:
    """Publish one outbox entry and wait for the broker's acknowledgement.

    A record the broker will never take (`permanent_refusal`) goes to the topic's
    dead-letter twin instead, and the answer says so; any other failure raises,
    so the relay keeps the entry and tries again.
    """
    try:
        # FastStream sends a keyed None as a real null value: a tombstone.
        await broker.publish(
            entry.value.encode() if entry.value is not None else None,
            topic=entry.topic,
            key=entry.key.encode(),
            headers=dict(entry.headers),
        )
    except Exception as exc:
        reason = permanent_refusal(exc)
        if reason is None:
            raise
        return await dead_letter_entry(broker, entry, reason, exc)
    return None


_PAYLOAD_REFUSALS: tuple[tuple[type[Exception], str], ...] = (
    # The client's own size check (`max_request_size`) and the broker's
    # (`message.max.bytes`, the topic's `max.message.bytes`) both raise this.
    (MessageSizeTooLargeError, "too_large"),
    (RecordListTooLargeError, "too_large"),
    (CorruptRecordException, "invalid_record"),
)


def permanent_refusal(exc: BaseException) -> str | None:
    """The reason code when the broker will never take this record, None when a retry may.

    Only faults of the record itself are permanent: the same bytes fail the same
    way on every attempt, so waiting would only hold back the aggregate's later
    events. A fault of the topic or the connection is not, even when it looks
    final: an unknown topic (the topic job has not run yet) or a refused ACL is
    fixed by an operator, and every record of that topic fails alike, so
    dead-lettering them would lose the flow, like an unreachable broker.
    """
    for kind, reason in _PAYLOAD_REFUSALS:
        if isinstance(exc, kind):
            return reason
    return None


_ENVELOPE_HEADER_CHARS = 512


async def dead_letter_entry(
    broker: KafkaBroker, entry: OutboxEntry, reason: str, exc: BaseException
) -> DeadLettered:
    """Put a refused entry on its topic's dead-letter twin, with the reason in headers.

    A record refused for its size goes without its payload: an envelope (id, type,
    subject, size, reason) cannot be refused the same way. Any other refusal keeps
    the payload; should the twin refuse that too, the envelope goes instead.
    """
    detail = _short(exc)
    headers = {
        **{k: v[:_ENVELOPE_HEADER_CHARS] for k, v in entry.headers.items()},
        "dlq_reason": f"refused by the broker: {reason}: {detail}",
        "dlq_error_type": type(exc).__name__,
        "dlq_source_topic": entry.topic,
        "dlq_source": "outbox",
        "dlq_payload_bytes": str(len(_payload(entry))),
        "dlq_failed_at": utc_now().isoformat(),
    }
    target = dlq_topic(entry.topic)
    if reason != "too_large":
        try:
            await broker.publish(
                _payload(entry),
                topic=target,
                key=entry.key.encode(),
                headers={**headers, "dlq_payload": "kept"},
            )
            return DeadLettered(reason, detail)
        except Exception as again:
            if permanent_refusal(again) is None:
                raise
    await broker.publish(
        refused_envelope(entry, reason, detail),
        topic=target,
        key=entry.key.encode()[:_ENVELOPE_HEADER_CHARS],
        headers={**headers, "dlq_payload": "omitted", "content-type": "application/json"},
    )
    return DeadLettered(reason, detail)


def _payload(entry: OutboxEntry) -> bytes:
    return entry.value.encode() if entry.value is not None else b""


def refused_envelope(entry: OutboxEntry, reason: str, detail: str) -> bytes:
    """What is known of a refused entry without its payload: small by construction."""
    cut = _ENVELOPE_HEADER_CHARS
    return json.dumps(
        {
            "id": entry.id[:cut],
            "type": entry.headers.get("ce_type", "")[:cut],
            "subject": entry.headers.get("ce_subject", entry.key)[:cut],
            "topic": entry.topic,
            "size_bytes": len(_payload(entry)),
            "reason": reason,
            "detail": detail,
            "created_at": entry.created_at.isoformat(),
        }
    ).encode()


@dataclass(frozen=True)
class RetryPolicy:
    """How a failing handler is retried before its event is dead-lettered."""

    max_attempts: int = 4
    base_delay: float = 0.2
    max_delay: float = 5.0
    transient: tuple[type[BaseException], ...] = ()
    """Infrastructure failures: retried (with backoff, via redelivery) until they pass."""
    deadline: float = 60.0
    """Seconds one handler call may take before it is cancelled and retried as transient."""

    def delay(self, attempt: int) -> float:
        """Exponential backoff with full jitter."""
        ceiling = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not crypto


@dataclass
class ConsumerStats:
    consumed: int = 0
    dead_lettered: int = 0
    by_topic: dict[str, int] = field(default_factory=dict)


class HandlerDeadlineError(TimeoutError):
    """A handler call ran past its deadline: treated as an infrastructure failure."""


async def _within(deadline: float, call: Awaitable[None]) -> None:
    try:
        async with asyncio.timeout(deadline):
            await call
    except TimeoutError as exc:
        raise HandlerDeadlineError(f"handler still running after {deadline:g} s") from exc


class DeadLetter(Exception):  # noqa: N818 - it is a verdict, not an error kind
    """Raised by a handler for an event that can never succeed (a rule says no)."""


@dataclass
class EventConsumer:
    """One consumer group over the topics of the events it handles, dispatching by `ce_type`."""

    broker: KafkaBroker
    group_id: str
    handlers: Mapping[type[Event], Handler]
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    stats: ConsumerStats = field(default_factory=ConsumerStats)
    service: str = ""
    """Label of this consumer's metrics; defaults to the consumer group."""
    batch: bool = False
    """Take records in batches and commit once per batch (see the module's docstring)."""
    max_records: int = 200
    """Most records in one batch."""
    batch_timeout_ms: int = 10
    """How long a fetch waits when nothing is buffered; a buffered record is taken at once.

    Short, because after an empty fetch FastStream's batch subscriber sleeps this long
    again before the next one: a record arriving then waits out the sleep."""
    lanes: int = 16
    """Keys applied concurrently within a batch (about the store's connection pool)."""
    batch_handlers: Mapping[type[Event], BatchHandler] = field(default_factory=dict)
    """Event types whose records of one batch are applied in one call."""
    every_replica: bool = False
    """Join no group: this replica reads every partition from the beginning at each start
    and commits nothing (`group_id` then only names it in metrics and dead letters). For
    a compacted topic each replica holds whole in memory; its handlers must not need the
    store, since a failure cannot be redelivered."""

    def __post_init__(self) -> None:
        self._transient: tuple[type[BaseException], ...] = (
            *self.retry.transient,
            HandlerDeadlineError,
        )
        self._by_type = {cls.ce_type(): (cls, h) for cls, h in self.handlers.items()}
        self._start_ends: dict[TopicPartition, int] | None = None
        self._caught_up = False
        unhandled = set(self.batch_handlers) - set(self.handlers)
        if unhandled:
            # The per-record handler is the fallback of a failed batch call.
            raise ValueError(f"batch handlers without a handler: {sorted(map(str, unhandled))}")
        self.service = self.service or self.group_id
        topics = sorted({cls.topic() for cls in self.handlers})
        options: dict[str, Any] = {}
        if self.batch:
            options = {
                "batch": True,
                "max_records": self.max_records,
                "batch_timeout_ms": self.batch_timeout_ms,
            }
        self.subscriber = self.broker.subscriber(
            *topics,
            group_id=None if self.every_replica else self.group_id,
            # Without a group there is nothing to commit to (aiokafka refuses to).
            ack_policy=AckPolicy.MANUAL if self.every_replica else AckPolicy.NACK_ON_ERROR,
            auto_offset_reset="earliest",
            decoder=_raw_body,
            title=f"{self.group_id}",
            **options,
        )
        self.subscriber(self._consume_batch if self.batch else self._consume)

    @property
    def topics(self) -> list[str]:
        return sorted({cls.topic() for cls in self.handlers})

    def assigned_partitions(self) -> int:
        consumer = getattr(self.subscriber, "consumer", None)
        return len(consumer.assignment()) if consumer is not None else 0

    async def caught_up(self) -> bool:
        """Whether an `every_replica` consumer has read its topics up to the ends they had
        when first asked (a replica is not ready before its in-memory copy is whole);
        always true for a group's consumer."""
        if not self.every_replica or self._caught_up:
            return True
        consumer = getattr(self.subscriber, "consumer", None)
        assignment = list(consumer.assignment()) if consumer is not None else []
        if consumer is None or not assignment:
            return False
        if self._start_ends is None:
            self._start_ends = await consumer.end_offsets(assignment)
        for partition, end in self._start_ends.items():
            if await consumer.position(partition) < end:
                return False
        self._caught_up = True
        return True

    async def _consume(self, body: bytes, message: KafkaMessage) -> None:
        record = message.raw_message
        assert isinstance(record, ConsumerRecord)
        self._observe_lag(message, record)
        admitted = await self._admit(record, body)
        if admitted is not None:
            await self._apply(admitted)

    async def _consume_batch(self, _bodies: Any, message: KafkaMessage) -> None:
        """One batch: admit each record, apply them (per key in order), then FastStream commits."""
        records = message.raw_message
        assert isinstance(records, tuple)
        admitted: list[_Admitted] = []
        for record in records:
            self._observe_lag(message, record)
            one = await self._admit(record, record.value if record.value is not None else b"")
            if one is not None:
                admitted.append(one)
        singles = [a for a in admitted if a.event_cls not in self.batch_handlers]
        grouped: dict[BatchHandler, list[_Admitted]] = {}
        for a in admitted:
            if a.event_cls in self.batch_handlers:
                grouped.setdefault(self.batch_handlers[a.event_cls], []).append(a)
        # Per-record types first: in notifications these are the directory's facts about
        # people, which the grouped notifications then read (as one at a time would have).
        await self._apply_in_lanes(singles)
        for batch_handler, items in grouped.items():
            await self._apply_grouped(batch_handler, items)

    async def _admit(self, record: ConsumerRecord[Any, Any], body: bytes) -> _Admitted | None:
        """Parse and check one record; None when it was dead-lettered instead."""
        self.stats.consumed += 1
        self.stats.by_topic[record.topic] = self.stats.by_topic.get(record.topic, 0) + 1
        started = time.perf_counter()
        try:
            meta = CloudEventMeta.from_headers(record.headers or ())
            entry = self._by_type.get(meta.type)
            if entry is None:
                raise EnvelopeError(f"no handler for ce_type {meta.type!r} on {record.topic}")
            event_cls, handler = entry
            refusal = impostor_reason(event_cls, record.topic, meta.source)
            if refusal is None:
                event = _decode(event_cls, record, body, meta)
        except (EnvelopeError, ValidationError, ValueError) as exc:
            await self._dead_letter(record, f"unparseable: {_short(exc)}", type(exc).__name__, 0)
            return None
        if refusal is not None:
            await self._dead_letter(record, f"impostor: {refusal}", "ImpostorEvent", 0)
            return None
        return _Admitted(record, event_cls, handler, event, meta, started)

    async def _apply(self, a: _Admitted) -> None:
        event_token = current_event_id.set(a.meta.id)
        trace_token = current_trace_id.set(trace_id_of(a.meta.traceparent))
        try:
            with consuming(a.record.topic, a.meta.traceparent, a.meta.id):
                await self._handle_with_retries(a.record, a.handler, a.event, a.meta)
        finally:
            current_event_id.reset(event_token)
            current_trace_id.reset(trace_token)
        self._count(a)

    def _count(self, a: _Admitted) -> None:
        EVENTS_CONSUMED.labels(self.service, a.record.topic).inc()
        HANDLER_SECONDS.labels(self.service, a.record.topic).observe(
            time.perf_counter() - a.started
        )

    async def _apply_in_lanes(self, admitted: Sequence[_Admitted]) -> None:
        """Records of one key on one partition in offset order; keys concurrently."""
        if not admitted:
            return
        lanes: dict[tuple[str, int, object], list[_Admitted]] = {}
        for a in admitted:
            lanes.setdefault((a.record.topic, a.record.partition, a.record.key), []).append(a)
        gate = asyncio.Semaphore(self.lanes)

        async def run(lane: list[_Admitted]) -> None:
            async with gate:
                for a in lane:
                    await self._apply(a)

        outcomes = await asyncio.gather(
            *(run(lane) for lane in lanes.values()), return_exceptions=True
        )
        # Every lane ran to its end or its failure; the first failure nacks the batch.
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome

    async def _apply_grouped(self, batch_handler: BatchHandler, items: list[_Admitted]) -> None:
        try:
            await _within(self.retry.deadline, batch_handler([(a.event, a.meta) for a in items]))
        except self._transient as exc:
            log.warning("transient failure on a batch of %d, will redeliver: %s", len(items), exc)
            await asyncio.sleep(self.retry.delay(1))
            raise
        except Exception as exc:
            # Find the culprit the slow way: one by one, with retries and dead-lettering each.
            log.warning("batch of %d failed (%s); applying one by one", len(items), _short(exc))
            await self._apply_in_lanes(items)
            return
        for a in items:
            self._count(a)

    def _observe_lag(self, message: KafkaMessage, record: ConsumerRecord[Any, Any]) -> None:
        consumer = getattr(message, "consumer", None)
        highwater = getattr(consumer, "highwater", None)
        if highwater is None:
            return
        with contextlib.suppress(Exception):  # metrics must never fail a handler
            high = highwater(TopicPartition(record.topic, record.partition))
            if high is not None:
                lag = max(0, high - record.offset - 1)
                CONSUMER_LAG.labels(self.service, record.topic, str(record.partition)).set(lag)

    async def _handle_with_retries(
        self, record: ConsumerRecord[Any, Any], handler: Handler, event: Any, meta: CloudEventMeta
    ) -> None:
        attempt = 0
        while True:
            attempt += 1
            try:
                await _within(self.retry.deadline, handler(event, meta))
                return
            except DeadLetter as exc:
                await self._dead_letter(record, f"rejected: {exc}", "DeadLetter", attempt)
                return
            except self._transient as exc:
                # Infrastructure is down: sleep, then let the broker redeliver (nack).
                log.warning("transient failure on %s, will redeliver: %s", record.topic, exc)
                await asyncio.sleep(self.retry.delay(min(attempt, 6)))
                raise
            except Exception as exc:
                if attempt >= self.retry.max_attempts:
                    log.exception("giving up on %s@%s", record.topic, record.offset)
                    await self._dead_letter(
                        record, f"handler failed: {_short(exc)}", type(exc).__name__, attempt
                    )
                    return
                await asyncio.sleep(self.retry.delay(attempt))

    async def _dead_letter(
        self, record: ConsumerRecord[Any, Any], reason: str, error_type: str, attempts: int
    ) -> None:
        headers = {k: _text(v) for k, v in (record.headers or ())}
        headers.update(
            {
                "dlq_reason": reason,
                "dlq_error_type": error_type,
                "dlq_source_topic": record.topic,
                "dlq_source_partition": str(record.partition),
                "dlq_source_offset": str(record.offset),
                "dlq_consumer_group": self.group_id,
                "dlq_attempts": str(attempts),
                "dlq_failed_at": utc_now().isoformat(),
            }
        )
        await self.broker.publish(
            record.value if record.value is not None else b"",
            topic=dlq_topic(record.topic),
            key=record.key,
            headers=headers,
        )
        self.stats.dead_lettered += 1
        DEAD_LETTERS.labels(self.service, record.topic).inc()
        log.warning(
            "dead-lettered %s[%s]@%s: %s", record.topic, record.partition, record.offset, reason
        )


@dataclass(frozen=True)
class _Admitted:
    """A record that parsed and passed the owner check, with what applies it."""

    record: ConsumerRecord[Any, Any]
    event_cls: type[Event]
    handler: Handler
    event: Any
    """The decoded event, or a `Tombstone` for a null value on a state topic."""
    meta: CloudEventMeta
    started: float


def _decode(
    event_cls: type[Event], record: ConsumerRecord[Any, Any], body: bytes, meta: CloudEventMeta
) -> Event | Tombstone:
    """The event, or the `Tombstone` a null value on a state topic stands for."""
    if record.value is None and issubclass(event_cls, EntityState):
        key = record.key.decode() if isinstance(record.key, bytes) else meta.subject
        if key != meta.subject:
            raise EnvelopeError(f"tombstone key {key!r} is not its ce_subject {meta.subject!r}")
        return Tombstone(event_cls, key)
    return event_cls.decode(body)


def impostor_reason(event_cls: type[Event], topic: str, source: str) -> str | None:
    """Why a record of `event_cls` read from `topic` with this `ce_source` is refused, or None.

    The topic is checked too: a service allowed to write one topic must not
    smuggle another type (and a forged owner) onto it for consumers of both.
    """
    if topic != event_cls.topic():
        return f"ce_type {event_cls.ce_type()} does not travel on {topic}"
    if source != event_cls.ce_source():
        return (
            f"ce_source {source!r} is not the owner {event_cls.ce_source()!r} "
            f"of {event_cls.ce_type()}"
        )
    return None


def _raw_body(message: Any) -> Any:
    """Hand the handler the undecoded bytes: parsing is ours, so a bad body is dead-lettered."""
    return message.body


def _text(value: bytes | str) -> str:
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    return value


def _short(exc: BaseException, limit: int = 500) -> str:
    text = str(exc).replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def topics_of(events: Iterable[type[Event]]) -> list[str]:
    return sorted({e.topic() for e in events})
