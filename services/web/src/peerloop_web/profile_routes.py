"""My profile (skills I offer, learning goals, availability, notification preferences),
the first-time "create my profile" step, and finding colleagues who offer a skill."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from peerloop_web.context import Csrf, Person, SignedIn, form_values, render
from peerloop_web.presenting import LEVELS, skill_choices, skill_name, time_zones
from peerloop_web.service_api import ServiceError

Json = dict[str, Any]
router = APIRouter()
DAYS = ((1, "Mon"), (2, "Tue"), (3, "Wed"), (4, "Thu"), (5, "Fri"), (6, "Sat"), (7, "Sun"))
CHANNELS = (("inbox", "In the app"), ("email", "By e-mail"), ("webhook", "To my chat webhook"))


def _see(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


# ---------------------------------------------------------------------- welcome


@router.get("/welcome")
async def welcome(who: Person, request: Request) -> Response:
    values = {
        "display_name": who.login.display_name,
        "email": who.login.email,
        "team": "",
        "time_zone": "Europe/Berlin",
    }
    return await render(who, request, "welcome.html", values=values, fields={}, zones=time_zones())


@router.post("/welcome", dependencies=[Csrf])
async def create_profile(who: Person, request: Request) -> Response:
    values = form_values(await request.form())
    body = {k: values.get(k, "").strip() for k in ("display_name", "email", "team", "time_zone")}
    try:
        await who.api.register(body)
    except ServiceError as exc:
        return await render(
            who,
            request,
            "welcome.html",
            status_code=exc.status,
            values=values,
            fields=exc.fields,
            problem=exc.message,
            zones=time_zones(),
        )
    who.session.flash("Welcome! Your profile is ready.")
    return _see("/")


# ---------------------------------------------------------------------- profile


async def _profile_page(
    who: SignedIn,
    request: Request,
    *,
    form: str | None = None,
    values: dict[str, str] | None = None,
    problem: str | None = None,
    fields: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    try:
        person = await who.api.person()
    except ServiceError as exc:
        if exc.status == 404:
            return _see("/welcome")
        return await render(
            who, request, "problem.html", status_code=exc.status, problem=exc.message
        )
    try:
        prefs: Json | None = await who.api.preferences()
    except ServiceError:
        prefs = None
    return await render(
        who,
        request,
        "profile.html",
        status_code=status_code,
        person=person,
        prefs=prefs,
        form=form,
        values=values or {},
        problem=problem,
        fields=fields or {},
        skills=skill_choices(),
        levels=LEVELS,
        days=DAYS,
        channels=CHANNELS,
        zones=time_zones(),
        skill_name=skill_name,
    )


@router.get("/profile")
async def profile(who: Person, request: Request, offer: str = "", level: str = "") -> Response:
    """`?offer=` (from a teach-back invitation) fills in the offer form, ready to send."""
    if offer:
        values = {"skill": offer, "level": level or "2", "weekly_capacity": "1"}
        return await _profile_page(who, request, form="skills", values=values)
    return await _profile_page(who, request)


def _int(values: dict[str, str], name: str, low: int, high: int, fields: dict[str, str]) -> int:
    try:
        number = int(values.get(name, ""))
    except ValueError:
        number = low - 1
    if not low <= number <= high:
        fields[name] = f"A whole number from {low} to {high}."
    return number


async def _change(
    who: SignedIn,
    request: Request,
    form: str,
    values: dict[str, str],
    fields: dict[str, str],
    call: Callable[[], Awaitable[Any]],
    done: str,
) -> Response:
    if fields:
        return await _profile_page(
            who,
            request,
            form=form,
            values=values,
            fields=fields,
            problem="Please correct the marked fields.",
            status_code=422,
        )
    try:
        await call()
    except ServiceError as exc:
        return await _profile_page(
            who,
            request,
            form=form,
            values=values,
            fields=exc.fields,
            problem=exc.message,
            status_code=exc.status,
        )
    who.session.flash(done)
    return _see(f"/profile#{form}")


@router.post("/profile/skills", dependencies=[Csrf])
async def offer_skill(who: Person, request: Request) -> Response:
    values = form_values(await request.form())
    fields: dict[str, str] = {}
    skill = values.get("skill", "").strip()
    if not skill:
        fields["skill"] = "Name the skill you offer."
    level = _int(values, "level", 1, 5, fields)
    capacity = _int(values, "weekly_capacity", 0, 20, fields)
    body = {
        "skill": skill,
        "level": level,
        "description": values.get("description", "").strip(),
        "weekly_capacity": capacity,
    }
    notification = values.get("notification_id")
    if notification and not fields:
        # The teach-back invitation is answered: it need not wait in the inbox any more.
        with contextlib.suppress(ServiceError):
            await who.api.mark_read(notification)
    return await _change(
        who,
        request,
        "skills",
        values,
        fields,
        lambda: who.api.offer_skill(body),
        f"You now offer {skill_name(skill) if skill else 'it'}. Thank you for passing it on!",
    )


@router.post("/profile/skills/{skill_id}/withdraw", dependencies=[Csrf])
async def withdraw_skill(who: Person, request: Request, skill_id: str) -> Response:
    return await _change(
        who,
        request,
        "skills",
        {},
        {},
        lambda: who.api.withdraw_skill(skill_id),
        f"You no longer offer {skill_name(skill_id)}.",
    )


@router.post("/profile/goals", dependencies=[Csrf])
async def set_goal(who: Person, request: Request) -> Response:
    values = form_values(await request.form())
    fields: dict[str, str] = {}
    skill = values.get("goal_skill", "").strip()
    if not skill:
        fields["goal_skill"] = "Name the skill you want to learn."
    level = _int(values, "target_level", 1, 5, fields)
    return await _change(
        who,
        request,
        "goals",
        values,
        fields,
        lambda: who.api.set_goal({"skill": skill, "target_level": level}),
        "Learning goal saved.",
    )


@router.post("/profile/goals/{skill_id}/remove", dependencies=[Csrf])
async def remove_goal(who: Person, request: Request, skill_id: str) -> Response:
    return await _change(
        who,
        request,
        "goals",
        {},
        {},
        lambda: who.api.remove_goal(skill_id),
        "Learning goal removed.",
    )


@router.post("/profile/availability", dependencies=[Csrf])
async def availability(who: Person, request: Request) -> Response:
    form = await request.form()
    values = form_values(form)
    fields: dict[str, str] = {}
    capacity = _int(values, "capacity", 0, 20, fields)
    days = sorted(int(d) for d in form.getlist("days") if isinstance(d, str) and d.isdigit())
    if not days:
        fields["days"] = "Choose at least one working day."
    start, end = values.get("start", ""), values.get("end", "")
    if not start or not end or start >= end:
        fields["end"] = "Working hours must end after they start."
    away: list[Json] = []
    kept = [k for k in form.getlist("keep_away") if isinstance(k, str)]
    for period in kept:
        first, _, last = period.partition("/")
        away.append({"start": first, "end": last})
    new_start, new_end = values.get("away_start", ""), values.get("away_end", "")
    if new_start or new_end:
        try:
            if date.fromisoformat(new_end) < date.fromisoformat(new_start):
                fields["away_end"] = "The last day away must not be before the first."
            away.append({"start": new_start, "end": new_end})
        except ValueError:
            fields["away_end"] = "Give both the first and the last day away."
    body = {
        "weekly_capacity": capacity,
        "away_periods": away,
        "working_hours": {"start": start, "end": end, "days": days},
        "time_zone": values.get("time_zone", "").strip() or None,
    }
    values["days"] = ",".join(str(d) for d in days)
    return await _change(
        who,
        request,
        "availability",
        values,
        fields,
        lambda: who.api.set_availability(body),
        "Availability saved.",
    )


@router.post("/profile/preferences", dependencies=[Csrf])
async def preferences(who: Person, request: Request) -> Response:
    form = await request.form()
    values = form_values(form)
    try:
        current = await who.api.preferences()
    except ServiceError as exc:
        return await _profile_page(
            who, request, form="preferences", problem=exc.message, status_code=exc.status
        )
    chosen = {c for c in form.getlist("channels") if isinstance(c, str)}
    prefs = dict(current.get("preferences") or {})
    prefs["channels"] = {name: name in chosen for name, _ in CHANNELS}
    prefs["digest"] = values.get("digest") == "on"
    return await _change(
        who,
        request,
        "preferences",
        values,
        {},
        lambda: who.api.set_preferences(int(current.get("version", 0)), prefs),
        "Notification preferences saved.",
    )


@router.post("/profile/calendar-feed", dependencies=[Csrf])
async def calendar_feed(who: Person, request: Request) -> Response:
    """The feed URL is shown once, on this page: notifications keeps only its digest."""
    try:
        url = await who.api.new_calendar_feed()
    except ServiceError as exc:
        return await _profile_page(
            who, request, form="calendar", problem=exc.message, status_code=exc.status
        )
    return await _profile_page(who, request, form="calendar", values={"feed_url": url})


@router.post("/profile/calendar-feed/revoke", dependencies=[Csrf])
async def revoke_calendar_feed(who: Person, request: Request) -> Response:
    return await _change(
        who,
        request,
        "calendar",
        {},
        {},
        who.api.revoke_calendar_feed,
        "Your calendar feed is revoked: its URL no longer works.",
    )


# ---------------------------------------------------------------------- people


@router.get("/people")
async def people(who: Person, request: Request, offers: str = "", after: str = "") -> Response:
    page: Json | None = None
    problem = None
    if offers.strip():
        try:
            page = await who.api.people_offering(offers.strip(), after or None)
        except ServiceError as exc:
            problem = exc.message
    return await render(
        who,
        request,
        "people.html",
        offers=offers,
        page=page,
        problem=problem,
        skills=skill_choices(),
        skill_name=skill_name,
    )
