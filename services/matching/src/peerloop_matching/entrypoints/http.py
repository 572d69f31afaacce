"""HTTP API of the matching service. Thin: parse, call the use case, map refusals.

The acting person is the bearer token's; who may do what is in `access.py` and the
service README's table.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request, Response, status
from peerloop_runtime.auth import CurrentPrincipal, require_person
from peerloop_runtime.http_errors import Answer, Refusals, field_error, install_refusals
from peerloop_runtime.rate_limit import rate_limited

from peerloop_matching.application.help_requests import HelpRequests, NewHelpRequest
from peerloop_matching.application.slots import suggest_slots
from peerloop_matching.bootstrap import MatchingService, bootstrap
from peerloop_matching.config import Settings
from peerloop_matching.domain.errors import (
    DomainError,
    ErasedPersonError,
    IdempotencyKeyReusedError,
    InvalidTransitionError,
    NotAllowedError,
    NotFoundError,
    StaleVersionError,
    UnknownPersonError,
)
from peerloop_matching.entrypoints.access import (
    ANSWER_RULE,
    ASK_RULE,
    CANCEL_RULE,
    SESSION_RULE,
    may_read_requests,
    reader_of,
)
from peerloop_matching.entrypoints.programme_http import people_router
from peerloop_matching.entrypoints.programme_http import router as programme_router
from peerloop_matching.entrypoints.schemas import (
    AcceptIn,
    CancelIn,
    CancelSessionIn,
    ConfirmIn,
    DeclineIn,
    FeedbackIn,
    NewHelpRequestIn,
    NotHappenedIn,
    RescheduleIn,
)
from peerloop_matching.entrypoints.task_skills_api import inferred_skill
from peerloop_matching.entrypoints.task_skills_api import router as task_skills_router
from peerloop_matching.entrypoints.views import (
    HelpRequestView,
    SlotsView,
    WhyThisMatch,
    request_view,
    slots_view,
    why_view,
)

REFUSALS: Refusals = {
    # Any other refusal: the request is not in a state where this is possible.
    DomainError: status.HTTP_409_CONFLICT,
    NotFoundError: status.HTTP_404_NOT_FOUND,
    NotAllowedError: status.HTTP_403_FORBIDDEN,
    InvalidTransitionError: status.HTTP_409_CONFLICT,
    StaleVersionError: status.HTTP_409_CONFLICT,
    UnknownPersonError: Answer(
        status.HTTP_503_SERVICE_UNAVAILABLE,
        headers=lambda exc: {"Retry-After": str(exc.retry_after_seconds)},
    ),
    IdempotencyKeyReusedError: Answer(
        status.HTTP_422_UNPROCESSABLE_CONTENT,
        detail=lambda exc: field_error(["header", "Idempotency-Key"], str(exc), "reused"),
    ),
    ErasedPersonError: status.HTTP_409_CONFLICT,
}


def _use_cases(request: Request) -> HelpRequests:
    service: MatchingService = request.app.state.service
    return service.help_requests


UseCases = Annotated[HelpRequests, Depends(_use_cases)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        pattern=r"^[\x21-\x7e]+$",
        description="Retrying with the same key returns the first request (answered with"
        " `Idempotent-Replayed: true`) instead of asking again; keys are per requester.",
    ),
]

router = APIRouter(prefix="/help-requests", tags=["help requests"])
_ERRORS: dict[int | str, dict[str, str]] = {
    401: {"description": "no valid bearer token"},
    403: {"description": "the caller has no part in this (the rule is named)"},
    404: {"description": "no such help request"},
    409: {"description": "invalid transition, or `expected_version` is stale"},
}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses={
        422: {
            "description": "invalid input, or an `Idempotency-Key` already used for a different ask"
        },
        503: {"description": "matching has not received the requester's profile yet: retry"},
    },
    summary="Ask for help with a skill for the task in hand (publishes help-requested)",
    # An ask refused because matching lacks the requester's profile yet is a "retry".
    dependencies=[rate_limited("help_requests", give_back_on=(UnknownPersonError,))],
)
async def create_help_request(
    body: NewHelpRequestIn,
    caller: CurrentPrincipal,
    use_cases: UseCases,
    response: Response,
    http_request: Request,
    idempotency_key: IdempotencyKey = None,
) -> HelpRequestView:
    """The requester is the caller: nobody asks in someone else's name. A request that
    names no skill is made for the best skill inferred from the task; the answer's
    `inferred_skills` shows every skill inferred (and the `Skill-Inferred` header says so)."""
    requester = require_person(caller, ASK_RULE)
    fields = body.model_dump()
    inferred: list[str] = []
    if body.skill is None:
        fields["skill"], inferred = await inferred_skill(http_request, body.task)
        response.headers["Skill-Inferred"] = fields["skill"]
    request, replayed = await use_cases.create_once(
        NewHelpRequest(requester_id=requester, **fields), idempotency_key
    )
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return request_view(request, requester).model_copy(update={"inferred_skills": inferred})


@router.get("/{request_id}", responses=_ERRORS)
async def get_help_request(
    request_id: str, caller: CurrentPrincipal, use_cases: UseCases
) -> HelpRequestView:
    may_read_requests(caller)
    request = await use_cases.get(request_id)
    return request_view(request, reader_of(request, caller))


@router.get(
    "/{request_id}/why",
    responses=_ERRORS,
    summary="Why this match: every proposal's score breakdown, newest last",
)
async def why_this_match(
    request_id: str, caller: CurrentPrincipal, use_cases: UseCases
) -> list[WhyThisMatch]:
    may_read_requests(caller)
    request = await use_cases.get(request_id)
    return why_view(request, reader_of(request, caller))


@router.get(
    "/{request_id}/proposals/{proposal_id}/slots",
    responses=_ERRORS,
    summary="The first times both people's working hours overlap, for the proposal's session",
)
async def proposal_slots(
    request_id: str,
    proposal_id: str,
    caller: CurrentPrincipal,
    use_cases: UseCases,
    days: Annotated[int, Query(ge=1, le=28, description="how many days ahead to look")] = 7,
    limit: Annotated[int, Query(ge=1, le=20, description="at most this many slots")] = 3,
) -> SlotsView:
    may_read_requests(caller)
    request = await use_cases.get(request_id)
    reader = reader_of(request, caller)
    if reader is not None and all(
        p.proposal_id != proposal_id for p in request.proposals_visible_to(reader)
    ):
        raise NotFoundError(f"no proposal {proposal_id} on request {request_id}")
    suggestion = await suggest_slots(
        use_cases, request, proposal_id, now=use_cases.clock(), days=days, limit=limit
    )
    return slots_view(proposal_id, request.max_minutes, suggestion)


@router.post(
    "/{request_id}/cancel",
    responses=_ERRORS,
    summary="The requester withdraws the request (publishes help-request-cancelled)",
)
async def cancel(
    request_id: str, caller: CurrentPrincipal, use_cases: UseCases, body: CancelIn | None = None
) -> HelpRequestView:
    person = require_person(caller, CANCEL_RULE)
    body = body or CancelIn()
    request = await use_cases.cancel(
        request_id, person, reason=body.reason, expected_version=body.expected_version
    )
    return request_view(request, person)


@router.post(
    "/{request_id}/proposals/{proposal_id}/accept",
    responses=_ERRORS,
    summary="The proposed helper accepts: a session exists (publishes match-accepted)",
)
async def accept(
    request_id: str,
    proposal_id: str,
    caller: CurrentPrincipal,
    use_cases: UseCases,
    body: AcceptIn | None = None,
) -> HelpRequestView:
    person = require_person(caller, ANSWER_RULE)
    body = body or AcceptIn()
    request = await use_cases.accept(
        request_id,
        proposal_id,
        person,
        scheduled_at=body.scheduled_at,
        expected_version=body.expected_version,
    )
    return request_view(request, person)


@router.post(
    "/{request_id}/proposals/{proposal_id}/decline",
    responses=_ERRORS,
    summary="The proposed helper declines; the next candidate is asked",
)
async def decline(
    request_id: str,
    proposal_id: str,
    caller: CurrentPrincipal,
    use_cases: UseCases,
    body: DeclineIn | None = None,
) -> HelpRequestView:
    person = require_person(caller, ANSWER_RULE)
    body = body or DeclineIn()
    request = await use_cases.decline(
        request_id, proposal_id, person, reason=body.reason, expected_version=body.expected_version
    )
    return request_view(request, person)


@router.post(
    "/{request_id}/session/confirm",
    responses=_ERRORS,
    summary="A participant confirms the session happened; both → session-completed",
)
async def confirm(
    request_id: str, caller: CurrentPrincipal, use_cases: UseCases, body: ConfirmIn | None = None
) -> HelpRequestView:
    person = require_person(caller, SESSION_RULE)
    body = body or ConfirmIn()
    request = await use_cases.confirm(
        request_id,
        person,
        minutes=body.duration_minutes,
        expected_version=body.expected_version,
    )
    return request_view(request, person)


@router.post(
    "/{request_id}/session/not-happened",
    responses=_ERRORS,
    summary="A participant reports the session did not take place",
)
async def not_happened(
    request_id: str,
    caller: CurrentPrincipal,
    use_cases: UseCases,
    body: NotHappenedIn | None = None,
) -> HelpRequestView:
    person = require_person(caller, SESSION_RULE)
    body = body or NotHappenedIn()
    request = await use_cases.report_not_happened(
        request_id, person, expected_version=body.expected_version
    )
    return request_view(request, person)


@router.post(
    "/{request_id}/session/reschedule",
    responses=_ERRORS,
    summary="A participant moves the session to another time (publishes session-rescheduled)",
)
async def reschedule(
    request_id: str, caller: CurrentPrincipal, body: RescheduleIn, use_cases: UseCases
) -> HelpRequestView:
    person = require_person(caller, SESSION_RULE)
    request = await use_cases.reschedule(
        request_id, person, scheduled_at=body.scheduled_at, expected_version=body.expected_version
    )
    return request_view(request, person)


@router.post(
    "/{request_id}/session/cancel",
    responses=_ERRORS,
    summary="A participant calls the session off (publishes session-cancelled)",
)
async def cancel_session(
    request_id: str,
    caller: CurrentPrincipal,
    use_cases: UseCases,
    body: CancelSessionIn | None = None,
) -> HelpRequestView:
    person = require_person(caller, SESSION_RULE)
    body = body or CancelSessionIn()
    request = await use_cases.cancel_session(
        request_id, person, reason=body.reason, expected_version=body.expected_version
    )
    return request_view(request, person)


@router.post(
    "/{request_id}/session/feedback",
    responses=_ERRORS,
    summary="A participant rates the completed session (publishes feedback-given)",
)
async def feedback(
    request_id: str, caller: CurrentPrincipal, body: FeedbackIn, use_cases: UseCases
) -> HelpRequestView:
    person = require_person(caller, SESSION_RULE)
    request = await use_cases.give_feedback(
        request_id,
        person,
        rating=body.rating,
        comment=body.comment,
        expected_version=body.expected_version,
    )
    return request_view(request, person)


def create_app(settings: Settings | None = None, service: MatchingService | None = None) -> FastAPI:
    service = service or bootstrap(settings)
    runtime = service.runtime
    app = FastAPI(title="Peerloop matching", version="0.1.0", lifespan=runtime.lifespan)
    app.state.service = service
    app.state.runtime = runtime
    runtime.instrument(app)
    runtime.secure(app)
    app.include_router(runtime.health_router())
    app.include_router(router)
    app.include_router(programme_router)
    app.include_router(people_router)
    app.include_router(task_skills_router)
    install_refusals(app, REFUSALS)
    return app
