"""One replica of a consumer, run as its own process by test_partition_scaling.py.

It joins consumer group `--group` with the platform's `EventConsumer`, handles
`skill-offered` events of one skill, and appends one JSON line per handled
event to `--handled`. Whenever its partition assignment changes it rewrites
`--assignment`. SIGTERM stops it the way a service stops: the broker is closed,
which commits what was handled and leaves the group.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
from pathlib import Path

from peerloop_contracts.envelope import CloudEventMeta
from peerloop_contracts.profiles import SkillOffered
from peerloop_runtime.kafka import EventConsumer, make_broker


async def run(bootstrap: str, group: str, skill: str, handled: Path, assignment: Path) -> None:
    broker = make_broker(bootstrap, client_id=f"{group}-{os.getpid()}")
    out = handled.open("a", encoding="utf-8")

    async def handle(event: SkillOffered, meta: CloudEventMeta) -> None:
        if event.skill_id != skill:
            return  # the topic's history from other tests
        out.write(json.dumps({"person_id": event.person_id, "ce_id": meta.id}) + "\n")
        out.flush()

    consumer = EventConsumer(broker, group_id=group, handlers={SkillOffered: handle})
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)

    await broker.start()
    last: list[int] | None = None
    try:
        while not stop.is_set():
            kafka_consumer = getattr(consumer.subscriber, "consumer", None)
            current = (
                sorted(tp.partition for tp in kafka_consumer.assignment())
                if kafka_consumer is not None
                else []
            )
            if current != last:
                tmp = assignment.with_suffix(".tmp")
                tmp.write_text(json.dumps({"pid": os.getpid(), "partitions": current}))
                tmp.replace(assignment)  # readers never see half a file
                last = current
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=0.2)
    finally:
        await broker.stop()
        out.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--group", required=True)
    parser.add_argument("--skill", required=True)
    parser.add_argument("--handled", type=Path, required=True)
    parser.add_argument("--assignment", type=Path, required=True)
    args = parser.parse_args()
    # One access-log line per message would drown a failure's output.
    logging.getLogger("faststream").setLevel(logging.WARNING)
    asyncio.run(run(args.bootstrap, args.group, args.skill, args.handled, args.assignment))


if __name__ == "__main__":
    main()
