"""Turning the services' answers into what a page shows: words for states, bar widths,
local times, the skill catalogue for type-ahead."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from peerloop_contracts.skills import default_catalogue

Json = dict[str, Any]

STATE_WORDS = {
    "requested": "Looking for a helper",
    "proposed": "Waiting for a helper's answer",
    "waiting": "Waiting for someone who can help",
    "accepted": "Session agreed",
    "completed": "Session took place",
    "not_happened": "Session did not take place",
    "unmatched": "Nobody could take it",
    "cancelled": "Cancelled",
}
OPEN_STATES = ("requested", "proposed", "waiting")
COMPONENT_WORDS = {
    "skill_fit": "Knows the skill",
    "level_margin": "Level above what you need",
    "hours_overlap": "Shared working hours",
    "fair_load": "Has helped least lately",
    "reputation": "Ratings from others",
    "cross_team": "From another team",
    "repeat_pairing": "You paired often before",
    "available_soon": "At work sooner (you need it soon)",
    "task_fit": "Their offer is close to your task",
    "evidence": "Taught it before (sessions, ratings, endorsements)",
}
URGENCIES = (("low", "Low: this week is fine"), ("normal", "Normal"), ("high", "High: blocked now"))
FORMATS = (("call", "Call"), ("pairing", "Pairing at the keyboard"), ("chat", "Chat"))
LEVELS = ((1, "1 beginner"), (2, "2"), (3, "3 can work with it"), (4, "4"), (5, "5 expert"))


@dataclass(frozen=True)
class SkillChoice:
    value: str
    label: str


@cache
def skill_choices() -> tuple[SkillChoice, ...]:
    """Every name and alias of the curated catalogue, so typing `k8s` offers Kubernetes
    (the ESCO layer, hundreds of skills, is searched through profiles' `GET /skills`)."""
    catalogue = default_catalogue()
    choices: list[SkillChoice] = []
    for skill in catalogue.skills("peerloop") + catalogue.skills("organisation"):
        choices.append(SkillChoice(skill.name, skill.id))
        choices.extend(SkillChoice(alias, f"{skill.name} ({skill.id})") for alias in skill.aliases)
    return tuple(choices)


def skill_name(skill_id: str) -> str:
    return default_catalogue().display_name(skill_id)


@cache
def time_zones() -> tuple[str, ...]:
    return tuple(sorted(z for z in available_timezones() if "/" in z and not z.startswith("Etc")))


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def end_of_day(day: date, tz: str | None) -> datetime:
    return datetime.combine(day, time(23, 59), tzinfo=zone(tz))


def local_moment(text: str, tz: str | None) -> datetime:
    """An `<input type=datetime-local>` value, read in the person's own time zone."""
    return datetime.fromisoformat(text).replace(tzinfo=zone(tz))


def shown(moment: str | None, tz: str | None) -> str:
    if not moment:
        return ""
    value = datetime.fromisoformat(moment).astimezone(zone(tz))
    return value.strftime("%a %d %b %Y, %H:%M") + f" ({value.tzname()})"


@dataclass(frozen=True)
class Bar:
    name: str
    label: str
    explanation: str
    contribution: float
    percent: int
    negative: bool


def bars(breakdown: list[Json]) -> list[Bar]:
    """One bar per score component; the longest possible bar is the heaviest weight, so
    lengths compare across components."""
    widest = max((abs(float(c.get("weight", 0))) for c in breakdown), default=1.0) or 1.0
    result = []
    for part in breakdown:
        # + 0.0 turns a rounded -0.0 into 0.0: "-0.00" reads like a penalty that is not there.
        contribution = round(float(part.get("contribution", 0)), 2) + 0.0
        result.append(
            Bar(
                name=str(part["name"]),
                label=COMPONENT_WORDS.get(str(part["name"]), str(part["name"])),
                explanation=str(part.get("explanation", "")),
                contribution=contribution,
                percent=min(100, round(abs(contribution) / widest * 100)),
                negative=contribution < 0,
            )
        )
    return result


def role_of(session: Json | None, person_id: str) -> str | None:
    if not session:
        return None
    if session.get("learner_id") == person_id:
        return "learner"
    if session.get("teacher_id") == person_id:
        return "teacher"
    return None


def now_pending(request: Json) -> Json | None:
    pending = [p for p in request.get("proposals", []) if p.get("status") == "pending"]
    return pending[-1] if pending else None


def default_needed_by() -> str:
    return (date.today() + timedelta(days=7)).isoformat()
