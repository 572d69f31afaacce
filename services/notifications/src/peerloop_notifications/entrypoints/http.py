"""HTTP API of the notifications service: inbox, live stream, deliveries, preferences."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Path, Query, Request, Response
from fastapi.responses import StreamingResponse
from peerloop_contracts.common import MAX_STORED_INT
from peerloop_runtime.auth import CurrentPrincipal, Forbidden, PublicRoute
from peerloop_runtime.http_errors import Refusals, install_refusals
from peerloop_runtime.outbound import OutboundError, check_url
from peerloop_runtime.rate_limit import rate_limited
from pydantic import BaseModel, Field

from peerloop_notifications.application.live_feed import StreamLimitError, inbox_stream, item_view
from peerloop_notifications.application.ports import StalePreferencesError
from peerloop_notifications.application.queries import InboxQueries
from peerloop_notifications.bootstrap import NotificationsService, bootstrap
from peerloop_notifications.config import Settings
from peerloop_notifications.domain.delivery import Delivery as OutboundDelivery
from peerloop_notifications.domain.notification import Notification
from peerloop_notifications.domain.person import Person
from peerloop_notifications.domain.preferences import Preferences


class InboxPage(BaseModel):
    items: list[dict[str, Any]]
    total: int
    unread: int
    offset: int
    limit: int
    next_offset: int | None


class UnreadCount(BaseModel):
    unread: int


class MarkedRead(BaseModel):
    marked: int


class Delivery(BaseModel):
    id: str
    kind: str
    channel: str
    state: str
    attempts: int
    next_attempt_at: str | None
    last_error: str | None
    subject: str


class PreferencesView(BaseModel):
    person_id: str
    version: int
    preferences: Preferences


class PreferencesChange(BaseModel):
    expected_version: int = Field(
        ge=0,
        le=MAX_STORED_INT,
        description="the version read; 409 if it changed since",
    )
    preferences: Preferences


def _delivery_view(n: Notification) -> Delivery:
    delivery = n.delivery or OutboundDelivery()
    return Delivery(
        id=n.id,
        kind=n.kind,
        channel=n.channel,
        state=delivery.state.value,
        attempts=delivery.attempts,
        next_attempt_at=delivery.next_attempt_at.isoformat() if delivery.next_attempt_at else None,
        last_error=delivery.last_error,
        subject=n.subject,
    )


def _service(request: Request) -> NotificationsService:
    service: NotificationsService = request.app.state.service
    return service


def _queries(request: Request) -> InboxQueries:
    return _service(request).queries


QueriesDep = Annotated[InboxQueries, Depends(_queries)]


OWN_RULE = "inbox, live stream, deliveries and preferences are the person's own only"


async def _known_person(person_id: str, caller: CurrentPrincipal, queries: QueriesDep) -> Person:
    """The caller themself; decided before the store is read, so nothing tells of others."""
    if caller.person_id != person_id:
        raise Forbidden(OWN_RULE)
    person = await queries.registered(person_id)
    if person is None:
        raise HTTPException(404, f"unknown person {person_id!r}")
    return person


PersonDep = Annotated[Person, Depends(_known_person)]


def inbox_router() -> APIRouter:
    router = APIRouter(prefix="/people/{person_id}", tags=["inbox"])

    @router.get("/inbox", summary="Inbox, unread first, newest first")
    async def list_inbox(
        person: PersonDep,
        queries: QueriesDep,
        offset: Annotated[int, Query(ge=0, le=MAX_STORED_INT)] = 0,
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
    ) -> InboxPage:
        page = await queries.inbox(person.person_id, offset=offset, limit=limit)
        more = offset + len(page.items) < page.total
        return InboxPage(
            items=[item_view(doc) for doc in page.items],
            total=page.total,
            unread=page.unread,
            offset=offset,
            limit=limit,
            next_offset=offset + len(page.items) if more else None,
        )

    @router.get("/inbox/unread-count", summary="How many inbox items are unread")
    async def unread_count(person: PersonDep, queries: QueriesDep) -> UnreadCount:
        return UnreadCount(unread=await queries.unread(person.person_id))

    @router.post("/inbox/read-all", summary="Mark every inbox item read")
    async def read_all(person: PersonDep, queries: QueriesDep) -> MarkedRead:
        return MarkedRead(marked=await queries.mark_all_read(person.person_id))

    @router.post("/inbox/{notification_id}/read", summary="Mark one inbox item read")
    async def read_one(
        notification_id: str, person: PersonDep, queries: QueriesDep
    ) -> dict[str, Any]:
        doc = await queries.mark_read(person.person_id, notification_id)
        if doc is None:
            raise HTTPException(404, f"no inbox item {notification_id!r}")
        return item_view(doc)

    @router.get(
        "/inbox/stream",
        summary="New inbox items as Server-Sent Events",
        response_class=StreamingResponse,
    )
    async def stream(person: PersonDep, queries: QueriesDep, request: Request) -> StreamingResponse:
        try:
            subscription = queries.live(person.person_id)
        except StreamLimitError as exc:
            raise HTTPException(
                429, exc.reason, headers={"Retry-After": str(exc.retry_after_seconds)}
            ) from exc
        frames = inbox_stream(queries.feed, subscription, disconnected=request.is_disconnected)
        return StreamingResponse(
            frames,
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    @router.get("/deliveries", summary="E-mail and webhook deliveries with their state")
    async def deliveries(
        person: PersonDep,
        queries: QueriesDep,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
    ) -> list[Delivery]:
        return [_delivery_view(n) for n in await queries.deliveries(person.person_id, limit=limit)]

    return router


def preferences_router() -> APIRouter:
    router = APIRouter(prefix="/people/{person_id}", tags=["preferences"])

    @router.get("/preferences", summary="Channels per kind, quiet hours, digest")
    async def get_preferences(person: PersonDep) -> PreferencesView:
        return PreferencesView(
            person_id=person.person_id,
            version=person.preferences_version,
            preferences=person.preferences,
        )

    @router.put(
        "/preferences",
        summary="Replace the preferences (optimistic version check)",
        dependencies=[rate_limited("preference_changes")],
    )
    async def put_preferences(
        change: PreferencesChange, person: PersonDep, queries: QueriesDep, request: Request
    ) -> PreferencesView:
        _check_webhook_url(change.preferences, _service(request).settings)
        version = await queries.set_preferences(
            person.person_id, change.preferences, change.expected_version
        )
        return PreferencesView(
            person_id=person.person_id, version=version, preferences=change.preferences
        )

    return router


class CalendarFeed(BaseModel):
    url: str = Field(description="the private feed: anyone holding it reads the sessions")
    path: str


CALENDAR_TOKEN = Path(
    min_length=32,
    max_length=64,
    pattern=r"^[A-Za-z0-9_-]+$",
    description="the secret of a feed URL, as handed out",
)


def calendar_router() -> APIRouter:
    router = APIRouter(tags=["calendar"])

    @router.post(
        "/people/{person_id}/calendar-feed",
        status_code=201,
        summary="A new private ICS feed URL of the person's sessions; the previous URL ends",
        dependencies=[rate_limited("preference_changes")],
    )
    async def rotate_feed(person: PersonDep, request: Request) -> CalendarFeed:
        service = _service(request)
        token = await service.calendar_feeds.rotate(person.person_id)
        path = f"/calendar/{token}.ics"
        base = service.settings.calendar_public_url.rstrip("/") or str(request.base_url).rstrip("/")
        return CalendarFeed(url=f"{base}{path}", path=path)

    @router.delete(
        "/people/{person_id}/calendar-feed",
        status_code=204,
        summary="Revoke the person's feed URL: it answers 404 from now on",
    )
    async def revoke_feed(person: PersonDep, request: Request) -> Response:
        if not await _service(request).calendar_feeds.revoke(person.person_id):
            raise HTTPException(404, "there is no calendar feed to revoke")
        return Response(status_code=204)

    @router.get(
        "/calendar/{token}.ics",
        summary="A person's sessions as iCalendar, for calendar apps to subscribe to",
        response_class=Response,
        responses={200: {"content": {"text/calendar": {}}}, 404: {"description": "no such feed"}},
        # Calendar apps send no bearer token: the URL's secret is the credential.
        dependencies=[PublicRoute],
    )
    async def calendar_feed(request: Request, token: Annotated[str, CALENDAR_TOKEN]) -> Response:
        text = await _service(request).calendar_feeds.render(token)
        if text is None:
            raise HTTPException(404, "no such calendar feed (it may have been revoked)")
        return Response(
            text,
            media_type="text/calendar",
            headers={
                "Cache-Control": "private, max-age=300",
                "Content-Disposition": 'inline; filename="peerloop.ics"',
            },
        )

    return router


def _check_webhook_url(preferences: Preferences, settings: Settings) -> None:
    """Refuse at once a webhook URL no delivery could use (the delivery checks again)."""
    if preferences.webhook_url is None:
        return
    try:
        check_url(str(preferences.webhook_url), settings.outbound)
    except OutboundError as exc:
        raise HTTPException(
            422,
            [
                {
                    "loc": ["body", "preferences", "webhook_url"],
                    "msg": f"webhook URL {exc.category}: a webhook must be a public https address",
                    "type": "value_error",
                }
            ],
        ) from exc


REFUSALS: Refusals = {StalePreferencesError: 409}


def create_app(
    settings: Settings | None = None, service: NotificationsService | None = None
) -> FastAPI:
    service = service or bootstrap(settings)
    runtime = service.runtime
    app = FastAPI(title="Peerloop notifications", version="0.1.0", lifespan=runtime.lifespan)
    app.state.service = service
    app.state.runtime = runtime
    runtime.instrument(app)
    runtime.secure(app)
    app.include_router(runtime.health_router())
    app.include_router(inbox_router())
    app.include_router(preferences_router())
    app.include_router(calendar_router())
    install_refusals(app, REFUSALS)
    return app
