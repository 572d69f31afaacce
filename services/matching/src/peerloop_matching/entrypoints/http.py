"""HTTP API of the matching service. Thin: parse, call the use case, map refusals.

The acting person travels in the `X-Person-Id` header (authentication in front of
the service sets it); the requester of a new request is a body field.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Header, Request, Response, status
from fastapi.responses import JSONResponse

from peerloop_matching.application.help_requests import HelpRequests, NewHelpRequest
from peerloop_matching.config import Settings
from peerloop_matching.domain.errors import (
    DomainError,
    IdempotencyKeyReusedError,
    InvalidTransitionError,
    NotAllowedError,
    NotFoundError,
    StaleVersionError,
    UnknownPersonError,
)
from peerloop_matching.domain.help_request import HelpRequest
from peerloop_matching.entrypoints.schemas import (
    AcceptIn,
    ActingPerson,
    CancelIn,
    ConfirmIn,
    DeclineIn,
    FeedbackIn,
    NewHelpRequestIn,
    NotHappenedIn,
    WhyThisMatch,
)
from peerloop_matching.entrypoints.service import MatchingService

_STATUS: dict[type[DomainError], int] = {
    NotFoundError: status.HTTP_404_NOT_FOUND,
    NotAllowedError: status.HTTP_403_FORBIDDEN,
    InvalidTransitionError: status.HTTP_409_CONFLICT,
    StaleVersionError: status.HTTP_409_CONFLICT,
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
    403: {"description": "the acting person has no part in this"},
    404: {"description": "no such help request"},
    409: {"description": "invalid transition, or `expected_version` is stale"},
}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=HelpRequest,
    responses={
        422: {
            "description": "invalid input, a requester matching does not know, or an"
            " `Idempotency-Key` already used for a different ask"
        }
    },
    summary="Ask for help with a skill for the task in hand (publishes help-requested)",
)
async def create_help_request(
    body: NewHelpRequestIn,
    use_cases: UseCases,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> HelpRequest:
    request, replayed = await use_cases.create_once(
        NewHelpRequest(**body.model_dump()), idempotency_key
    )
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return request


@router.get("/{request_id}", response_model=HelpRequest, responses=_ERRORS)
async def get_help_request(request_id: str, use_cases: UseCases) -> HelpRequest:
    return await use_cases.get(request_id)


@router.get(
    "/{request_id}/why",
    response_model=list[WhyThisMatch],
    responses=_ERRORS,
    summary="Why this match: every proposal's score breakdown, newest last",
)
async def why_this_match(request_id: str, use_cases: UseCases) -> list[WhyThisMatch]:
    request = await use_cases.get(request_id)
    return [
        WhyThisMatch(
            proposal_id=p.proposal_id,
            helper_id=p.helper_id,
            status=p.status,
            score=p.score,
            breakdown=p.breakdown,
        )
        for p in request.proposals
    ]


@router.post("/{request_id}/cancel", response_model=HelpRequest, responses=_ERRORS)
async def cancel(
    request_id: str, person: ActingPerson, use_cases: UseCases, body: CancelIn | None = None
) -> HelpRequest:
    body = body or CancelIn()
    return await use_cases.cancel(
        request_id, person, reason=body.reason, expected_version=body.expected_version
    )


@router.post(
    "/{request_id}/proposals/{proposal_id}/accept",
    response_model=HelpRequest,
    responses=_ERRORS,
    summary="The proposed helper accepts: a session exists (publishes match-accepted)",
)
async def accept(
    request_id: str,
    proposal_id: str,
    person: ActingPerson,
    use_cases: UseCases,
    body: AcceptIn | None = None,
) -> HelpRequest:
    body = body or AcceptIn()
    return await use_cases.accept(
        request_id,
        proposal_id,
        person,
        scheduled_at=body.scheduled_at,
        expected_version=body.expected_version,
    )


@router.post(
    "/{request_id}/proposals/{proposal_id}/decline",
    response_model=HelpRequest,
    responses=_ERRORS,
    summary="The proposed helper declines; the next candidate is asked",
)
async def decline(
    request_id: str,
    proposal_id: str,
    person: ActingPerson,
    use_cases: UseCases,
    body: DeclineIn | None = None,
) -> HelpRequest:
    body = body or DeclineIn()
    return await use_cases.decline(
        request_id, proposal_id, person, reason=body.reason, expected_version=body.expected_version
    )


@router.post(
    "/{request_id}/session/confirm",
    response_model=HelpRequest,
    responses=_ERRORS,
    summary="A participant confirms the session happened; both → session-completed",
)
async def confirm(
    request_id: str, person: ActingPerson, use_cases: UseCases, body: ConfirmIn | None = None
) -> HelpRequest:
    body = body or ConfirmIn()
    return await use_cases.confirm(
        request_id,
        person,
        minutes=body.duration_minutes,
        expected_version=body.expected_version,
    )


@router.post(
    "/{request_id}/session/not-happened",
    response_model=HelpRequest,
    responses=_ERRORS,
    summary="A participant reports the session did not take place",
)
async def not_happened(
    request_id: str, person: ActingPerson, use_cases: UseCases, body: NotHappenedIn | None = None
) -> HelpRequest:
    body = body or NotHappenedIn()
    return await use_cases.report_not_happened(
        request_id, person, expected_version=body.expected_version
    )


@router.post(
    "/{request_id}/session/feedback",
    response_model=HelpRequest,
    responses=_ERRORS,
    summary="A participant rates the completed session (publishes feedback-given)",
)
async def feedback(
    request_id: str, person: ActingPerson, body: FeedbackIn, use_cases: UseCases
) -> HelpRequest:
    return await use_cases.give_feedback(
        request_id,
        person,
        rating=body.rating,
        comment=body.comment,
        expected_version=body.expected_version,
    )


async def _refused(_request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, UnknownPersonError):
        return JSONResponse(
            {"detail": [{"loc": ["body", "requester_id"], "msg": str(exc), "type": "unknown"}]},
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        )
    if isinstance(exc, IdempotencyKeyReusedError):
        return JSONResponse(
            {"detail": [{"loc": ["header", "Idempotency-Key"], "msg": str(exc), "type": "reused"}]},
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        )
    code = next(
        (c for kind, c in _STATUS.items() if isinstance(exc, kind)), status.HTTP_409_CONFLICT
    )
    return JSONResponse({"detail": str(exc)}, status_code=code)


def create_app(settings: Settings | None = None) -> FastAPI:
    service = MatchingService(settings or Settings())
    app = FastAPI(title="Peerloop matching", version="0.1.0", lifespan=service.lifespan)
    app.state.service = service
    app.state.runtime = service.runtime
    service.runtime.instrument(app)
    app.include_router(service.runtime.health_router())
    app.include_router(router)
    app.add_exception_handler(DomainError, _refused)
    return app
