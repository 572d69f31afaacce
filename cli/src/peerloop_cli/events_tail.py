"""`peerloop events tail`: every Peerloop event as it flows, decoded."""

from __future__ import annotations

import json
import re

from aiokafka import AIOKafkaConsumer
from peerloop_contracts.topics import topic_name
from rich.console import Console

ALL_EVENT_TOPICS = re.compile(r"^peerloop\.[a-z-]+\.v\d+(\.dlq)?$")


async def tail(bootstrap: str, types: list[str], from_beginning: bool, console: Console) -> None:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest" if from_beginning else "latest",
    )
    if types:
        consumer.subscribe(topics=[topic_name(t) for t in types])
    else:
        consumer.subscribe(pattern=ALL_EVENT_TOPICS.pattern)
    await consumer.start()
    try:
        async for record in consumer:
            headers = {k: v.decode(errors="replace") for k, v in record.headers or ()}
            if record.value is None:
                body = "(tombstone: a state topic forgets this key)"
            else:
                try:
                    body = json.dumps(json.loads(record.value), indent=2, ensure_ascii=False)
                except ValueError:
                    body = repr(record.value)
            ce_type = headers.get("ce_type", "?")
            console.print(
                f"[bold]{ce_type}[/] key={record.key.decode() if record.key else None} "
                f"[dim]{record.topic}[{record.partition}]@{record.offset}[/]"
            )
            for name in sorted(headers):
                console.print(f"  [dim]{name}:[/] {headers[name]}", highlight=False)
            console.print(body, markup=False, highlight=False)
    finally:
        await consumer.stop()
