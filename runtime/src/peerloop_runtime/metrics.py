"""Prometheus metrics every service exposes on `/metrics`.

Names follow Prometheus conventions; labels are bounded (topics, consumer
groups, routes), never ids or personal data.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from prometheus_client import Counter, Gauge, Histogram
from starlette.requests import Request
from starlette.responses import Response

EVENTS_CONSUMED = Counter(
    "peerloop_events_consumed_total", "Events handled by a consumer", ["service", "topic"]
)
EVENTS_PUBLISHED = Counter(
    "peerloop_events_published_total", "Events published by the outbox relay", ["service", "topic"]
)
DEAD_LETTERS = Counter(
    "peerloop_dead_letters_total", "Events sent to a dead-letter topic", ["service", "topic"]
)
OUTBOX_DEAD_LETTERED = Counter(
    "peerloop_outbox_dead_lettered_total",
    "Outbox entries the broker refused for good, sent to the topic's dead-letter twin (alert)",
    ["service", "topic", "reason"],
)
HANDLER_SECONDS = Histogram(
    "peerloop_handler_seconds",
    "Time to handle one consumed event, retries included",
    ["service", "topic"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
CONSUMER_LAG = Gauge(
    "peerloop_consumer_lag",
    "Records behind the partition's high watermark, seen at the last consumed record",
    ["service", "topic", "partition"],
)
OUTBOX_BACKLOG = Gauge(
    "peerloop_outbox_backlog", "Aggregate documents with unpublished events", ["service"]
)
HTTP_REQUESTS = Counter(
    "peerloop_http_requests_total", "HTTP requests served", ["service", "method", "route", "status"]
)
HTTP_SECONDS = Histogram(
    "peerloop_http_request_seconds", "HTTP request latency", ["service", "method", "route"]
)


HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
"""Methods counted by name; any other (a client may send any token) counts as `other`."""


def method_label(method: str) -> str:
    return method if method in HTTP_METHODS else "other"


def route_label(scope: Mapping[str, Any]) -> str:
    """The matched route's template, never the path: ids and probes must not become labels."""
    path = getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) else "unmatched"


def http_metrics_middleware(
    service: str,
) -> Callable[[Request, Callable[[Request], Awaitable[Response]]], Awaitable[Response]]:
    async def middleware(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            return response
        finally:
            route = route_label(request.scope)
            method = method_label(request.method)
            HTTP_REQUESTS.labels(service, method, route, str(status)).inc()
            HTTP_SECONDS.labels(service, method, route).observe(time.perf_counter() - started)

    return middleware
