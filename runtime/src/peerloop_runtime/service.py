"""What every service runs besides its own logic: broker, store, outbox relay, health.

A service's `bootstrap.py` builds a `ServiceRuntime`, registers its consumers
(`add_consumer`), background workers (`add_worker`) and start/stop hooks on it, and
hands `runtime.lifespan` to FastAPI. Start order: `on_start` hooks (indexes, warm-up:
done before any consumer joins), store, broker (consumers join their groups), relay,
then workers in the order added. Stop order is the reverse: workers (last added
first, so what they settle lands in outboxes the relay still drains), consumers (in-flight
handlers finish and commit), relay, producer, store, then `on_stop` hooks (clients the
workers used). All of stopping fits in the shutdown grace.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from fastapi import APIRouter, FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from faststream.kafka import KafkaBroker
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from peerloop_contracts.base import Event
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from peerloop_runtime.auth import PublicRoute, TokenVerifier, install_auth
from peerloop_runtime.body_limit import limit_request_bodies
from peerloop_runtime.kafka import (
    BatchHandler,
    EventConsumer,
    Handler,
    RetryPolicy,
    make_broker,
    publish_entry,
)
from peerloop_runtime.kafka_security import kafka_security
from peerloop_runtime.metrics import http_metrics_middleware
from peerloop_runtime.mongo import TRANSIENT_STORE_ERRORS, Document, connect
from peerloop_runtime.outbox_relay import OutboxRelay, ensure_outbox_indexes
from peerloop_runtime.rate_limit import install_rate_limits
from peerloop_runtime.settings import ServiceSettings

log = logging.getLogger("peerloop.service")

Hook = Callable[[], Awaitable[None]]


class Worker(Protocol):
    """A background loop the runtime starts after the relay and stops before the consumers."""

    def start(self) -> None: ...

    def stop(self) -> Awaitable[None]: ...


@dataclass(frozen=True)
class Background:
    """A worker whose own start or stop takes arguments (an interval, a grace)."""

    start: Callable[[], None]
    stop: Callable[[], Awaitable[None]]


@dataclass
class ServiceRuntime:
    name: str
    settings: ServiceSettings
    outbox_collections: Sequence[str] = ()
    consumers: list[EventConsumer] = field(default_factory=list)
    workers: list[Worker] = field(default_factory=list)
    start_hooks: list[Hook] = field(default_factory=list)
    stop_hooks: list[Hook] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.broker: KafkaBroker = make_broker(
            self.settings.kafka_bootstrap_servers,
            client_id=f"peerloop-{self.name}",
            graceful_timeout=self.settings.shutdown_grace_seconds,
            security=kafka_security(
                self.settings.kafka_security_protocol,
                mechanism=self.settings.kafka_sasl_mechanism,
                username=self.settings.kafka_sasl_username,
                password=(
                    self.settings.kafka_sasl_password.get_secret_value()
                    if self.settings.kafka_sasl_password
                    else None
                ),
                ca_file=self.settings.kafka_ssl_cafile,
            ),
        )
        self.client: AsyncMongoClient[Document] = connect(
            self.settings.mongodb_uri,
            app_name=f"peerloop-{self.name}",
            max_pool_size=self.settings.mongodb_max_pool_size,
            slow_command_ms=self.settings.mongodb_slow_command_ms,
        )
        self.db: AsyncDatabase[Document] = self.client[self.settings.database]
        # Readiness pings on their own connection: in a pool exhausted by busy handlers a
        # ping would otherwise queue behind them and report the store as down.
        self.probe_client: AsyncMongoClient[Document] = connect(
            self.settings.mongodb_uri, app_name=f"peerloop-{self.name}-probe", max_pool_size=1
        )
        self.relay = OutboxRelay(
            [self.db[name] for name in self.outbox_collections],
            publish=lambda entry: publish_entry(self.broker, entry),
            service=self.name,
        )
        # Created here, closed in stop(): its HTTP client lives as long as the service.
        self.auth: TokenVerifier | None = (
            TokenVerifier(self.settings.auth) if self.settings.auth is not None else None
        )
        self.started = False

    @property
    def group_id(self) -> str:
        return self.settings.consumer_group or f"peerloop-{self.name}"

    def collection(self, name: str) -> AsyncCollection[Document]:
        return self.db[name]

    def add_consumer(
        self,
        handlers: Mapping[type[Event], Handler],
        *,
        group: str | None = None,
        retry: RetryPolicy | None = None,
        batch: bool = False,
        batch_handlers: Mapping[type[Event], BatchHandler] | None = None,
        max_records: int | None = None,
        every_replica: bool = False,
    ) -> EventConsumer:
        """A consumer group on this runtime's broker, stopped with it.

        `group` names a further group of this service (`<group_id>.<group>`): a burst
        on one never delays the other. Store outages are retried unless `retry` says.
        `max_records` caps a batch (EventConsumer's default otherwise). `every_replica`
        joins no group: each replica reads all of the topics (see `EventConsumer`).
        """
        consumer = EventConsumer(
            self.broker,
            group_id=f"{self.group_id}.{group}" if group else self.group_id,
            handlers=handlers,
            retry=retry
            or RetryPolicy(
                transient=TRANSIENT_STORE_ERRORS, deadline=self.settings.handler_deadline_seconds
            ),
            batch=batch,
            batch_handlers=batch_handlers or {},
            max_records=EventConsumer.max_records if max_records is None else max_records,
            every_replica=every_replica,
        )
        self.consumers.append(consumer)
        return consumer

    def add_worker(self, worker: Worker) -> None:
        self.workers.append(worker)

    def on_start(self, hook: Hook) -> None:
        """Run before any consumer joins (indexes, an index that must be whole first)."""
        self.start_hooks.append(hook)

    def on_stop(self, hook: Hook) -> None:
        """Run after everything else stopped (clients the workers used)."""
        self.stop_hooks.append(hook)

    async def start(self) -> None:
        for hook in self.start_hooks:
            await hook()
        await self.start_infrastructure()
        for worker in self.workers:
            worker.start()
        self.started = True

    async def stop(self) -> None:
        self.started = False
        # Workers first: what they settle lands in outboxes the relay still drains.
        for worker in reversed(self.workers):
            await worker.stop()
        await self.stop_infrastructure()
        for hook in self.stop_hooks:
            await hook()

    async def start_infrastructure(self) -> None:
        for name in self.outbox_collections:
            await ensure_outbox_indexes(self.db[name])
        await self.broker.start()
        self.relay.start()

    async def stop_infrastructure(self) -> None:
        # Consumers first: no new work; in-flight handlers finish and commit.
        for consumer in self.consumers:
            await consumer.subscriber.stop()
        # The relay publishes through the broker's producer: drain it before that stops.
        await self.relay.stop()
        await self.broker.stop()
        await self.client.close()
        await self.probe_client.close()
        if self.auth is not None:
            await self.auth.close()

    @contextlib.asynccontextmanager
    async def lifespan(self, _app: FastAPI) -> AsyncIterator[None]:
        await self.start()
        try:
            yield
        finally:
            await asyncio.wait_for(self.stop(), timeout=self.settings.shutdown_grace_seconds)

    async def readiness(self) -> dict[str, Any]:
        checks: dict[str, Any] = {}
        try:
            await asyncio.wait_for(self.probe_client.admin.command("ping"), timeout=3)
            checks["store"] = "ok"
        except Exception as exc:
            checks["store"] = f"unreachable: {type(exc).__name__}"
        try:
            checks["kafka"] = "ok" if await asyncio.wait_for(self.broker.ping(2), 3) else "down"
        except Exception as exc:
            checks["kafka"] = f"unreachable: {type(exc).__name__}"
        assigned = [c.assigned_partitions() for c in self.consumers]
        checks["consumers"] = "ok" if all(n > 0 for n in assigned) else f"assigned {assigned}"
        if checks["consumers"] == "ok":
            behind = [c.group_id for c in self.consumers if not await _caught_up(c)]
            if behind:
                checks["consumers"] = f"reading from the start: {behind}"
        # The relay's last measurement: counting here would queue on the store connection.
        checks["outbox_backlog"] = self.relay.last_backlog
        return checks

    def instrument(self, app: FastAPI) -> None:
        """Body cap, HTTP request metrics, server spans, 503 while the store is unreachable,
        rate limits."""
        limit_request_bodies(app, self.settings.max_body_bytes)
        app.middleware("http")(http_metrics_middleware(self.name))
        FastAPIInstrumentor.instrument_app(app, excluded_urls="healthz,readyz,metrics")
        for error in TRANSIENT_STORE_ERRORS:
            app.add_exception_handler(error, store_unavailable)
        app.add_exception_handler(RequestValidationError, invalid_request)
        install_rate_limits(app, self.name, self.settings.rate_limit)

    def secure(self, app: FastAPI) -> TokenVerifier:
        """Bearer tokens on `app` (401/403/503 answers, docs policy); see runtime.auth.

        Refuses when PEERLOOP_AUTH__ISSUER and …__AUDIENCE are not set: there is no
        mode that takes every caller at its word.
        """
        if self.auth is None:
            raise RuntimeError(
                f"{self.name}: set PEERLOOP_AUTH__ISSUER and PEERLOOP_AUTH__AUDIENCE "
                "(the identity provider whose tokens this service accepts)"
            )
        install_auth(app, self.auth)
        return self.auth

    def health_router(self) -> APIRouter:
        router = APIRouter(tags=["health"])

        @router.get("/metrics", summary="Prometheus metrics", response_class=PlainTextResponse)
        async def metrics() -> PlainTextResponse:
            return PlainTextResponse(generate_latest(), media_type=CONTENT_TYPE_LATEST)

        @router.get("/healthz", summary="Alive", dependencies=[PublicRoute])
        async def healthz() -> dict[str, str]:
            return {"status": "alive", "service": self.name}

        @router.get(
            "/readyz",
            summary="Kafka and store reachable, consumers assigned",
            dependencies=[PublicRoute],
        )
        async def readyz() -> JSONResponse:
            checks = await self.readiness()
            ready = self.started and all(
                v == "ok" for k, v in checks.items() if k != "outbox_backlog"
            )
            return JSONResponse(
                {"status": "ready" if ready else "not ready", "checks": checks},
                status_code=200 if ready else 503,
            )

        return router


async def _caught_up(consumer: EventConsumer) -> bool:
    try:
        return await asyncio.wait_for(consumer.caught_up(), timeout=3)
    except Exception:  # the broker is slow or gone: the kafka check says which
        return False


def _json_safe(value: Any) -> Any:
    """What a client sent, echoed back: infinities and NaN are not JSON, so they go as text."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


async def invalid_request(_request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's 422, but never a 500 for an input JSON cannot echo (`1e400` is infinity)."""
    assert isinstance(exc, RequestValidationError)
    return JSONResponse(
        {"detail": _json_safe(jsonable_encoder(exc.errors()))},
        status_code=422,
    )


async def store_unavailable(request: Request, exc: Exception) -> JSONResponse:
    """A store outage is the caller's cue to retry, not a server bug: 503 with Retry-After."""
    log.warning("%s %s: store unavailable: %s", request.method, request.url.path, exc)
    return JSONResponse(
        {"detail": "the store is unavailable for a moment; retry shortly"},
        status_code=503,
        headers={"Retry-After": "1"},
    )
