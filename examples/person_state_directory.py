"""Build a directory of Peerloop's people from the compacted state topic, then follow it.

What a subscriber that starts late (a new HR integration, an analytics job a year after
go-live) does with nothing but aiokafka and jsonschema:

- read `peerloop.person-state.v1` **from the beginning**: after compaction it holds the
  latest full state of every person, whatever the change-event topics still keep;
- the record key is the person id; the **last record of a key wins**, so apply a state
  only if its `sequence` is newer than the one you hold;
- a record with a **null value is a tombstone**: the person was erased; delete what you
  hold about them (compaction later removes their older records from the topic too);
- validate tolerantly against the committed schema (unknown fields pass);
- once every partition is read to the end offset it had at the start, the directory
  is whole ("bootstrapped"); keep reading to follow every change as it happens.

    python examples/person_state_directory.py --bootstrap 127.0.0.1:9092

The directory lives in memory here, so it reads the topic from the beginning on every
start; a real subscriber keeps it in its own store with the sequence per person, and
may then commit offsets in a consumer group instead.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import sys
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from jsonschema import Draft202012Validator

TOPIC = "peerloop.person-state.v1"
CE_TYPE = "io.peerloop.person-state.v1"
SCHEMA = Path(__file__).resolve().parent.parent / "contracts/schemas/person-state/v1.json"


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


class Directory:
    def __init__(self, schema: dict[str, Any]) -> None:
        self.validator = Draft202012Validator(
            tolerant(copy.deepcopy(schema)), format_checker=Draft202012Validator.FORMAT_CHECKER
        )
        self.owner: str = schema["x-ce-source"]
        self.people: dict[str, dict[str, Any]] = {}

    def apply(self, key: bytes | None, headers: dict[str, str], value: bytes | None) -> str:
        """One line saying what the record did to the directory."""
        if headers.get("ce_type") != CE_TYPE or headers.get("ce_source") != self.owner:
            return f"skipped: not {CE_TYPE} from {self.owner}"
        person_id = key.decode() if key else headers.get("ce_subject", "")
        if value is None:
            # A tombstone: the person was erased. Forget them, whatever came before.
            known = self.people.pop(person_id, None) is not None
            return f"forgot {person_id} (erased{'' if known else ', never seen'})"
        try:
            data = json.loads(value)
        except ValueError:
            return f"rejected {person_id}: the value is not JSON"
        errors = sorted(self.validator.iter_errors(data), key=lambda e: list(e.path))
        if errors:
            where = "/".join(map(str, errors[0].path)) or "(state)"
            return f"rejected {person_id}: {where}: {errors[0].message}"
        held = self.people.get(person_id)
        if held is not None and data["sequence"] <= held["sequence"]:
            return f"skipped stale {person_id} sequence {data['sequence']}"
        self.people[person_id] = data
        offers = ", ".join(f"{o['skill_id']} {o['level']}" for o in data["offers"]) or "nothing"
        return (
            f"person {person_id} {data['display_name']} ({data['team']}) offers {offers} "
            f"[sequence {data['sequence']}]"
        )


async def run(args: argparse.Namespace, directory: Directory) -> int:
    # No group: every partition, from the beginning, on every start (see the docstring).
    consumer = AIOKafkaConsumer(
        TOPIC,
        bootstrap_servers=args.bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        ends: dict[TopicPartition, int] | None = None
        bootstrapped, idle = False, 0.0
        while True:
            batch = await consumer.getmany(timeout_ms=1000)
            if ends is None and consumer.assignment():
                # Where the topic ended when we joined: reading up to here is the bootstrap.
                ends = await consumer.end_offsets(list(consumer.assignment()))
            for records in batch.values():
                for record in records:
                    headers = {k: v.decode(errors="replace") for k, v in record.headers}
                    print(directory.apply(record.key, headers, record.value), flush=True)
            if not bootstrapped and ends is not None:
                positions = [await consumer.position(tp) for tp in ends]
                if all(at >= end for at, end in zip(positions, ends.values(), strict=True)):
                    bootstrapped = True
                    print(f"bootstrapped: {len(directory.people)} people; following", flush=True)
            idle = 0.0 if batch else idle + 1.0
            if bootstrapped and args.exit_when_idle and idle >= args.exit_when_idle:
                return 0
    finally:
        await consumer.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", default="127.0.0.1:9092", help="Kafka bootstrap servers")
    parser.add_argument("--schema", default=str(SCHEMA), help="the committed JSON Schema")
    parser.add_argument(
        "--exit-when-idle",
        type=float,
        default=0,
        metavar="SECONDS",
        help="after the bootstrap, stop after this long without new records (0: follow forever)",
    )
    args = parser.parse_args()
    directory = Directory(json.loads(Path(args.schema).read_text(encoding="utf-8")))
    try:
        return asyncio.run(run(args, directory))
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
