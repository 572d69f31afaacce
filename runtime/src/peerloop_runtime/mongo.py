"""MongoDB access shared by the services (PyMongo's async API)."""

from __future__ import annotations

import logging
import time
from typing import Any

from pymongo import AsyncMongoClient, monitoring
from pymongo.errors import (
    AutoReconnect,
    ConnectionFailure,
    NetworkTimeout,
    ServerSelectionTimeoutError,
)

Document = dict[str, Any]

TRANSIENT_STORE_ERRORS: tuple[type[Exception], ...] = (
    ConnectionFailure,
    AutoReconnect,
    NetworkTimeout,
    ServerSelectionTimeoutError,
)
"""Errors that mean the store is unreachable, not that the operation is wrong."""


log = logging.getLogger("peerloop.store")


class SlowCommandLog(monitoring.CommandListener):
    """Logs store commands slower than `threshold_ms` with the collection and filter keys.

    Where the time goes when a store answers slowly (a query the server cannot
    serve from an index, a connection shared by too much work).
    """

    def __init__(self, threshold_ms: float) -> None:
        self.threshold_ms = threshold_ms
        self._started: dict[int, tuple[float, str]] = {}

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self._started[event.request_id] = (time.perf_counter(), _describe(event.command))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        self._finish(event.request_id, event.duration_micros)

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        self._finish(event.request_id, event.duration_micros)

    def _finish(self, request_id: int, duration_micros: int) -> None:
        started = self._started.pop(request_id, None)
        if started is None:
            return
        elapsed_ms = duration_micros / 1000
        if elapsed_ms >= self.threshold_ms:
            log.warning("slow store command: %.0f ms %s", elapsed_ms, started[1])


def _describe(command: Any) -> str:
    name = next(iter(command), "?")
    target = command.get(name)
    shape = {
        key: sorted(command[key]) if isinstance(command[key], dict) else "…"
        for key in ("filter", "query", "sort")
        if key in command
    }
    for key in ("updates", "deletes"):
        if command.get(key):
            shape[key] = sorted(command[key][0].get("q", {}))
    return f"{name} {target} {shape}"


def connect(
    uri: str, *, app_name: str, max_pool_size: int = 100, slow_command_ms: float = 0
) -> AsyncMongoClient[Document]:
    # Short selection timeout: a handler sees an outage quickly and backs off
    # instead of holding the partition for the 30 s default.
    return AsyncMongoClient(
        uri,
        appname=app_name,
        serverSelectionTimeoutMS=5_000,
        connectTimeoutMS=5_000,
        # A reply that never comes must not hold the (possibly only) connection forever:
        # the operation fails as a transient error and is retried.
        socketTimeoutMS=30_000,
        # Nor may a handler queue forever for a connection of a pool whose
        # connections all hang: waiting fails as a transient error too.
        waitQueueTimeoutMS=10_000,
        tz_aware=True,
        maxPoolSize=max_pool_size,
        event_listeners=[SlowCommandLog(slow_command_ms)] if slow_command_ms > 0 else [],
    )
