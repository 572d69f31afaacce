"""MongoDB access shared by the services (PyMongo's async API)."""

from __future__ import annotations

from typing import Any

from pymongo import AsyncMongoClient
from pymongo.errors import (
    AutoReconnect,
    ConnectionFailure,
    NetworkTimeout,
    ServerSelectionTimeoutError,
)

Document = dict[str, Any]

TRANSIENT_STORE_ERRORS: tuple[type[BaseException], ...] = (
    ConnectionFailure,
    AutoReconnect,
    NetworkTimeout,
    ServerSelectionTimeoutError,
)
"""Errors that mean the store is unreachable, not that the operation is wrong."""


def connect(uri: str, *, app_name: str, max_pool_size: int = 100) -> AsyncMongoClient[Document]:
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
        tz_aware=True,
        maxPoolSize=max_pool_size,
    )
