"""Home, asking for help, a request, a proposal for me, a session."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from peerloop_web.context import Csrf, Person, SignedIn, form_values, render
from peerloop_web.home_data import gather_home
from peerloop_web.presenting import (
    FORMATS,
    LEVELS,
    STATE_WORDS,
    URGENCIES,
    bars,
    default_needed_by,
    end_of_day,
    local_moment,
    now_pending,
    role_of,
    shown,
    skill_choices,
    skill_name,
)
from peerloop_web.service_api import TRY_AGAIN, ServiceError

Json = dict[str, Any]
router = APIRouter()
ASK_RETRY_SECONDS = 8.0


def _see(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


async def _profile_or_none(who: SignedIn) -> Json | None:
    try:
        return await who.api.person()
    except ServiceError as exc:
        if exc.status == 404:
            return None
        raise


async def _time_zone(who: SignedIn) -> str | None:
    try:
        profile = await who.api.person()
    except ServiceError:
        return None
    tz = profile.get("time_zone")
    return tz if isinstance(tz, str) else None


async def _names(who: SignedIn, person_ids: set[str]) -> dict[str, str]:
    async def one(pid: str) -> tuple[str, str]:
        try:
            return pid, str((await who.api.person(pid)).get("display_name") or pid)
        except ServiceError:
            return pid, pid

    return dict(await asyncio.gather(*(one(p) for p in sorted(person_ids))))


def _helpers(request: Json) -> set[str]:
    return {str(p["helper_id"]) for p in request.get("proposals", [])} | {
        str(request["requester_id"])
    }


def _common() -> dict[str, Any]:
    return {
        "state_words": STATE_WORDS,
        "skill_name": skill_name,
        "bars": bars,
        "shown": shown,
    }


# ---------------------------------------------------------------------- home


@router.get("/")
async def home(who: Person, request: Request) -> Response:
    profile = await _profile_or_none(who)
    if profile is None:
        return _see("/welcome")
    data = await gather_home(who.api, who.session.asked)
    return await render(
        who,
        request,
        "home.html",
        home=data,
        tz=profile.get("time_zone"),
        name=profile.get("display_name") or who.login.display_name,
        **_common(),
    )


@router.get("/home/live")
async def home_live(who: Person, request: Request) -> Response:
    data = await gather_home(who.api, who.session.asked)
    tz = await _time_zone(who)
    return await render(
        who, request, "_home_live.html", fragment=True, home=data, tz=tz, **_common()
    )


# ---------------------------------------------------------------------- ask


async def _ask_page(
    who: SignedIn,
    request: Request,
    values: dict[str, str],
    *,
    problem: str | None = None,
    fields: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    return await render(
        who,
        request,
        "ask.html",
        status_code=status_code,
        values=values,
        problem=problem,
        fields=fields or {},
        skills=skill_choices(),
        levels=LEVELS,
        urgencies=URGENCIES,
        formats=FORMATS,
    )


@router.get("/ask")
async def ask_form(who: Person, request: Request, skill: str = "") -> Response:
    values = {
        "task": "",
        "skill": skill,
        "level": "2",
        "urgency": "normal",
        "format": "call",
        "needed_by": default_needed_by(),
        "idempotency_key": str(uuid.uuid4()),
    }
    return await _ask_page(who, request, values)


def _check_ask(values: dict[str, str]) -> dict[str, str]:
    fields: dict[str, str] = {}
    if not values.get("task", "").strip():
        fields["task"] = "Say what you are working on, in a sentence or two."
    if not values.get("skill", "").strip():
        fields["skill"] = "Name the skill you need, e.g. Kubernetes or SQL."
    if values.get("level") not in {str(n) for n, _ in LEVELS}:
        fields["level"] = "Choose a level from 1 to 5."
    needed_by = values.get("needed_by", "")
    if needed_by:
        try:
            if date.fromisoformat(needed_by) < date.today():
                fields["needed_by"] = "Choose today or a later day."
        except ValueError:
            fields["needed_by"] = "Give a date like 2026-12-24."
    return fields


async def _ask_once_or_retry(who: SignedIn, body: Json, key: str) -> Json:
    """Matching answers 503 for a requester it has not heard of yet; the same key makes
    asking again safe, so the app retries briefly before telling the person."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + ASK_RETRY_SECONDS
    while True:
        try:
            return await who.api.ask(body, key)
        except ServiceError as exc:
            if not exc.temporary or loop.time() >= deadline:
                raise
            await asyncio.sleep(min(exc.retry_after or 1.0, 2.0))


@router.post("/ask", dependencies=[Csrf])
async def ask(who: Person, request: Request) -> Response:
    values = form_values(await request.form())
    values.setdefault("idempotency_key", str(uuid.uuid4()))
    fields = _check_ask(values)
    if fields:
        return await _ask_page(
            who,
            request,
            values,
            problem="Please correct the marked fields.",
            fields=fields,
            status_code=422,
        )
    body: Json = {
        "task": values["task"].strip(),
        "skill": values["skill"].strip(),
        "desired_level": int(values["level"]),
        "urgency": values.get("urgency", "normal"),
        "format": values.get("format", "call"),
    }
    if values.get("needed_by"):
        tz = await _time_zone(who)
        body["needed_by"] = end_of_day(date.fromisoformat(values["needed_by"]), tz).isoformat()
    try:
        made = await _ask_once_or_retry(who, body, values["idempotency_key"])
    except ServiceError as exc:
        renamed = {("level" if k == "desired_level" else k): v for k, v in exc.fields.items()}
        return await _ask_page(
            who,
            request,
            values,
            problem=TRY_AGAIN if exc.temporary else exc.message,
            fields=renamed,
            status_code=exc.status,
        )
    who.session.remember_request(made["request_id"])
    return _see(f"/requests/{made['request_id']}")


# ---------------------------------------------------------------------- a request


async def _request_context(who: SignedIn, request_id: str) -> dict[str, Any]:
    req = await who.api.help_request(request_id)
    why = await who.api.why(request_id)
    names = await _names(who, _helpers(req))
    return {
        "req": req,
        "why": {w["proposal_id"]: w for w in why},
        "names": names,
        "pending": now_pending(req),
        "tz": await _time_zone(who),
        "role": role_of(req.get("session"), who.me),
        **_common(),
    }


async def _error_page(who: SignedIn, request: Request, exc: ServiceError) -> Response:
    return await render(who, request, "problem.html", status_code=exc.status, problem=exc.message)


@router.get("/requests/{request_id}")
async def a_request(who: Person, request: Request, request_id: str) -> Response:
    try:
        context = await _request_context(who, request_id)
    except ServiceError as exc:
        return await _error_page(who, request, exc)
    if context["req"]["requester_id"] != who.me:
        mine = [p for p in context["req"]["proposals"] if p["helper_id"] == who.me]
        if mine:
            return _see(f"/requests/{request_id}/proposals/{mine[-1]['proposal_id']}")
    return await render(who, request, "request.html", **context)


@router.get("/requests/{request_id}/live")
async def a_request_live(who: Person, request: Request, request_id: str) -> Response:
    try:
        context = await _request_context(who, request_id)
    except ServiceError as exc:
        return Response(exc.message, status_code=exc.status)
    return await render(who, request, "_request_live.html", fragment=True, **context)


@router.post("/requests/{request_id}/cancel", dependencies=[Csrf])
async def cancel(who: Person, request: Request, request_id: str) -> Response:
    values = form_values(await request.form())
    reason = values.get("reason", "").strip() or None
    try:
        await who.api.act(request_id, "cancel", {"reason": reason})
    except ServiceError as exc:
        who.session.flash(exc.message)
        return _see(f"/requests/{request_id}")
    who.session.flash("Your request is cancelled.")
    return _see(f"/requests/{request_id}")


# ---------------------------------------------------------------------- a proposal for me


async def _proposal_page(
    who: SignedIn,
    request: Request,
    request_id: str,
    proposal_id: str,
    *,
    values: dict[str, str] | None = None,
    problem: str | None = None,
    fields: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    try:
        context = await _request_context(who, request_id)
    except ServiceError as exc:
        return await _error_page(who, request, exc)
    proposal = next(
        (p for p in context["req"]["proposals"] if p["proposal_id"] == proposal_id), None
    )
    if proposal is None or proposal["helper_id"] != who.me:
        return await render(
            who, request, "problem.html", status_code=404, problem="That proposal is not yours."
        )
    slots: list[Json] = []
    if proposal["status"] == "pending":
        # Suggestions only: the page works without them.
        with contextlib.suppress(ServiceError):
            slots = await who.api.proposal_slots(request_id, proposal_id)
    return await render(
        who,
        request,
        "proposal.html",
        status_code=status_code,
        proposal=proposal,
        slots=slots,
        values=values or {},
        problem=problem,
        fields=fields or {},
        **context,
    )


@router.get("/requests/{request_id}/proposals/{proposal_id}")
async def a_proposal(who: Person, request: Request, request_id: str, proposal_id: str) -> Response:
    return await _proposal_page(who, request, request_id, proposal_id)


@router.post("/requests/{request_id}/proposals/{proposal_id}/accept", dependencies=[Csrf])
async def accept(who: Person, request: Request, request_id: str, proposal_id: str) -> Response:
    values = form_values(await request.form())
    body: Json = {}
    when = values.get("scheduled_at", "").strip()
    slot = values.get("slot", "").strip()
    if when or slot:
        try:
            if when:
                body["scheduled_at"] = local_moment(when, await _time_zone(who)).isoformat()
            else:
                body["scheduled_at"] = _aware(slot).isoformat()
        except ValueError:
            return await _proposal_page(
                who,
                request,
                request_id,
                proposal_id,
                values=values,
                problem="Please correct the marked fields.",
                fields={"scheduled_at": "Give a date and time, or leave it empty."},
                status_code=422,
            )
    try:
        await who.api.act(request_id, f"proposals/{proposal_id}/accept", body)
    except ServiceError as exc:
        return await _proposal_page(
            who,
            request,
            request_id,
            proposal_id,
            values=values,
            problem=exc.message,
            fields=exc.fields,
            status_code=exc.status,
        )
    who.session.flash("Thank you! The session is agreed; the learner has been told.")
    return _see(f"/requests/{request_id}/session")


def _aware(text: str) -> datetime:
    """A suggested slot as the form sends it back: a moment with its offset."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError("a suggested slot carries its offset")
    return moment


@router.post("/requests/{request_id}/proposals/{proposal_id}/decline", dependencies=[Csrf])
async def decline(who: Person, request: Request, request_id: str, proposal_id: str) -> Response:
    values = form_values(await request.form())
    reason = values.get("reason", "").strip() or None
    try:
        await who.api.act(request_id, f"proposals/{proposal_id}/decline", {"reason": reason})
    except ServiceError as exc:
        return await _proposal_page(
            who,
            request,
            request_id,
            proposal_id,
            values=values,
            problem=exc.message,
            fields=exc.fields,
            status_code=exc.status,
        )
    who.session.flash("Declined. We ask the next person.")
    return _see("/")


# ---------------------------------------------------------------------- a session


async def _session_page(
    who: SignedIn,
    request: Request,
    request_id: str,
    *,
    values: dict[str, str] | None = None,
    problem: str | None = None,
    fields: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    try:
        context = await _request_context(who, request_id)
    except ServiceError as exc:
        return await _error_page(who, request, exc)
    if context["role"] is None:
        return await render(
            who,
            request,
            "problem.html",
            status_code=404,
            problem="There is no session of yours for this request (yet).",
        )
    return await render(
        who,
        request,
        "session.html",
        status_code=status_code,
        session=context["req"]["session"],
        values=values or {},
        problem=problem,
        fields=fields or {},
        **context,
    )


@router.get("/requests/{request_id}/session")
async def a_session(who: Person, request: Request, request_id: str) -> Response:
    return await _session_page(who, request, request_id)


def _positive_int(text: str, low: int, high: int) -> int | None:
    try:
        number = int(text)
    except ValueError:
        return None
    return number if low <= number <= high else None


async def _session_step(
    who: SignedIn,
    request: Request,
    request_id: str,
    path: str,
    body: Json,
    done: str,
    values: dict[str, str],
) -> Response:
    try:
        await who.api.act(request_id, path, body)
    except ServiceError as exc:
        return await _session_page(
            who,
            request,
            request_id,
            values=values,
            problem=exc.message,
            fields=exc.fields,
            status_code=exc.status,
        )
    who.session.flash(done)
    return _see(f"/requests/{request_id}/session")


@router.post("/requests/{request_id}/session/confirm", dependencies=[Csrf])
async def confirm(who: Person, request: Request, request_id: str) -> Response:
    values = form_values(await request.form())
    minutes = _positive_int(values.get("duration_minutes", ""), 1, 1440)
    if minutes is None:
        return await _session_page(
            who,
            request,
            request_id,
            values=values,
            problem="Please correct the marked fields.",
            fields={"duration_minutes": "How many minutes did it take? A number from 1 to 1440."},
            status_code=422,
        )
    return await _session_step(
        who,
        request,
        request_id,
        "session/confirm",
        {"duration_minutes": minutes},
        "Thanks for confirming.",
        values,
    )


@router.post("/requests/{request_id}/session/not-happened", dependencies=[Csrf])
async def not_happened(who: Person, request: Request, request_id: str) -> Response:
    return await _session_step(
        who, request, request_id, "session/not-happened", {}, "Noted: it did not take place.", {}
    )


@router.post("/requests/{request_id}/session/feedback", dependencies=[Csrf])
async def feedback(who: Person, request: Request, request_id: str) -> Response:
    values = form_values(await request.form())
    rating = _positive_int(values.get("rating", ""), 1, 5)
    if rating is None:
        return await _session_page(
            who,
            request,
            request_id,
            values=values,
            problem="Please correct the marked fields.",
            fields={"rating": "Choose from 1 to 5 stars."},
            status_code=422,
        )
    comment = values.get("comment", "").strip() or None
    return await _session_step(
        who,
        request,
        request_id,
        "session/feedback",
        {"rating": rating, "comment": comment},
        "Thank you for your feedback.",
        values,
    )
