"""Subscribe to Peerloop's `session-completed` events with nothing but aiokafka and jsonschema.

What an outside system (an LMS crediting learning, an analytics job) needs to do:

- read the CloudEvents attributes from the Kafka headers (binary content mode);
- refuse an impostor: only the event type's owner publishes it, and the schema
  says which `ce_source` that is (`x-ce-source`);
- validate the JSON value against the committed schema, *tolerantly*: producer
  schemas are closed, but a newer producer may add optional fields, which a
  subscriber must ignore rather than reject;
- deliveries are at-least-once: skip an event whose (`ce_source`, `ce_id`) was
  already handled, and one whose `sequence` is not newer than the last seen for
  its key;
- commit the offset only after the event was handled.

    python examples/session_completed_subscriber.py --bootstrap 127.0.0.1:9092

Dedupe state lives in memory here; a real subscriber keeps it with its own data,
written in the same transaction or document as the effect.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import sys
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer
from jsonschema import Draft202012Validator

TOPIC = "peerloop.session-completed.v1"
CE_TYPE = "io.peerloop.session-completed.v1"
SCHEMA = Path(__file__).resolve().parent.parent / "contracts/schemas/session-completed/v1.json"


def tolerant(schema: Any) -> Any:
    """The schema with every `additionalProperties: false` lifted: unknown fields pass."""
    if isinstance(schema, dict):
        return {
            key: (True if key == "additionalProperties" and value is False else tolerant(value))
            for key, value in schema.items()
        }
    if isinstance(schema, list):
        return [tolerant(item) for item in schema]
    return schema


class Subscriber:
    def __init__(self, schema: dict[str, Any]) -> None:
        self.validator = Draft202012Validator(
            tolerant(copy.deepcopy(schema)), format_checker=Draft202012Validator.FORMAT_CHECKER
        )
        self.owner: str = schema["x-ce-source"]
        self.seen_ids: set[tuple[str, str]] = set()
        self.last_sequence: dict[str, int] = {}

    def handle(self, key: bytes | None, headers: dict[str, str], value: bytes | None) -> str:
        """One line saying what happened to the record."""
        if headers.get("ce_type") != CE_TYPE:
            return f"skipped: not {CE_TYPE} (ce_type={headers.get('ce_type')!r})"
        if headers.get("ce_source") != self.owner:
            # Whoever may write the topic, only the owner may speak for this type.
            return (
                f"rejected {headers.get('ce_id')}: ce_source {headers.get('ce_source')!r} "
                f"is not the owner {self.owner!r}"
            )
        event_id = (headers["ce_source"], headers["ce_id"])
        if event_id in self.seen_ids:
            return f"skipped duplicate {headers['ce_source']} {headers['ce_id']}"
        try:
            data = json.loads(value or b"")
        except ValueError:
            # A real subscriber parks such a record (its own dead-letter topic) and moves on.
            return f"rejected {headers['ce_id']}: the value is not JSON"
        errors = sorted(self.validator.iter_errors(data), key=lambda e: list(e.path))
        if errors:
            where = "/".join(map(str, errors[0].path)) or "(event)"
            return f"rejected {headers['ce_id']}: {where}: {errors[0].message}"
        aggregate = key.decode() if key else headers["ce_subject"]
        if data["sequence"] <= self.last_sequence.get(aggregate, 0):
            self.seen_ids.add(event_id)
            return f"skipped stale {aggregate} sequence {data['sequence']}"
        # The effect of the event would be written here, together with the dedupe state.
        self.seen_ids.add(event_id)
        self.last_sequence[aggregate] = data["sequence"]
        return (
            f"learner {data['learner_id']} learned {data['skill_id']} (level {data['level']}) "
            f"from {data['teacher_id']} in session {data['session_id']} "
            f"[{aggregate} sequence {data['sequence']}, ce_id {headers['ce_id']}]"
        )


async def run(args: argparse.Namespace, subscriber: Subscriber) -> int:
    consumer = AIOKafkaConsumer(
        TOPIC,
        bootstrap_servers=args.bootstrap,
        group_id=args.group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    idle = 0.0
    try:
        while True:
            batch = await consumer.getmany(timeout_ms=1000)
            if not batch:
                # Idle time counts only once partitions are ours: joining takes a while.
                idle += 1.0 if consumer.assignment() else 0.0
                if args.exit_when_idle and idle >= args.exit_when_idle:
                    return 0
                continue
            idle = 0.0
            for records in batch.values():
                for record in records:
                    headers = {k: v.decode(errors="replace") for k, v in record.headers}
                    print(subscriber.handle(record.key, headers, record.value), flush=True)
            await consumer.commit()  # only after every record of the batch was handled
    finally:
        await consumer.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", default="127.0.0.1:9092", help="Kafka bootstrap servers")
    parser.add_argument("--group", default="lms-session-credits", help="your consumer group")
    parser.add_argument("--schema", default=str(SCHEMA), help="the committed JSON Schema")
    parser.add_argument(
        "--exit-when-idle",
        type=float,
        default=0,
        metavar="SECONDS",
        help="stop after this long without new events (0: run until interrupted)",
    )
    args = parser.parse_args()
    subscriber = Subscriber(json.loads(Path(args.schema).read_text(encoding="utf-8")))
    try:
        return asyncio.run(run(args, subscriber))
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
