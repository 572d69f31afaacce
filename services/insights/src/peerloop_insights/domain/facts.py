"""The facts insights keeps about each help request and each person, and how they merge.

Every event becomes a partial fact; partials merge field by field with rules that do
not care about order or repetition (a time keeps its earliest value, a state the value
of the highest sequence, an identity field its one value). Events of one aggregate
travel on different topics, so a consumer sees them in any order, and a batch may be
redelivered: with these rules the stored facts are the same either way, which is what
makes consumers idempotent and a replay give the live run's figures.

People appear only by an opaque token (see application.pseudonyms), never by their id.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, TypeVar

Stamped = tuple[int, str]
"""A value and the sequence of the event that set it: the highest sequence wins."""
StampedInt = tuple[int, int]

ERASED = "erased"
"""Stands for an erased person in the facts: counted in totals, never as a person."""

WAITING_STATES = frozenset({"open", "proposed"})


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)


_T = TypeVar("_T", Stamped, StampedInt)


def _newest(a: _T | None, b: _T | None) -> _T | None:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)


def _either(a: str | None, b: str | None) -> str | None:
    # One value per request (its requester, skill, teacher); ERASED replaces it for good.
    if a == ERASED or b == ERASED:
        return ERASED
    return a if a is not None else b


@dataclass
class RequestFacts:
    requester: str | None = None
    skill: str | None = None
    teacher: str | None = None
    learner: str | None = None
    requested_at: datetime | None = None
    proposed_at: datetime | None = None
    accepted_at: datetime | None = None
    completed_at: datetime | None = None
    not_happened_at: datetime | None = None
    state: Stamped | None = None
    teacher_rating: StampedInt | None = None
    """The rating the learner gave the teacher."""
    learner_rating: StampedInt | None = None

    def merge(self, other: RequestFacts) -> None:
        for name in ("requester", "skill", "teacher", "learner"):
            setattr(self, name, _either(getattr(self, name), getattr(other, name)))
        for name in (
            "requested_at",
            "proposed_at",
            "accepted_at",
            "completed_at",
            "not_happened_at",
        ):
            setattr(self, name, _earliest(getattr(self, name), getattr(other, name)))
        self.state = _newest(self.state, other.state)
        self.teacher_rating = _newest(self.teacher_rating, other.teacher_rating)
        self.learner_rating = _newest(self.learner_rating, other.learner_rating)

    @property
    def state_name(self) -> str | None:
        return self.state[1] if self.state else None

    def people(self) -> tuple[str | None, ...]:
        return (self.requester, self.teacher, self.learner)

    def replace_person(self, token: str, by: str) -> None:
        for name in ("requester", "teacher", "learner"):
            if getattr(self, name) == token:
                setattr(self, name, by)


@dataclass
class PersonFacts:
    team: Stamped | None = None
    offers: dict[str, tuple[int, bool]] = field(default_factory=dict)
    """Per skill: whether the person offers to teach it now, by the newest sequence."""
    first_offered: dict[str, datetime] = field(default_factory=dict)
    acquired: dict[str, datetime] = field(default_factory=dict)
    """Per skill: when the person first learned it in a session."""
    offer_list: tuple[int, tuple[str, ...]] | None = None
    """The whole list of skills on offer, from a person state of that sequence: a skill
    missing from it is off (withdrawn) as of then, which per-skill stamps cannot say."""

    def merge(self, other: PersonFacts) -> None:
        self.team = _newest(self.team, other.team)
        if other.offer_list is not None and (
            self.offer_list is None or other.offer_list > self.offer_list
        ):
            self.offer_list = other.offer_list
        for skill, stamped in other.offers.items():
            held = self.offers.get(skill)
            self.offers[skill] = stamped if held is None else max(held, stamped)
        for dates, theirs in (
            (self.first_offered, other.first_offered),
            (self.acquired, other.acquired),
        ):
            for skill, at in theirs.items():
                dates[skill] = min(dates.get(skill, at), at)

    @property
    def team_name(self) -> str | None:
        return self.team[1] if self.team else None

    def offering(self) -> frozenset[str]:
        if self.offer_list is None:
            return frozenset(skill for skill, (_, on) in self.offers.items() if on)
        # Per skill, the newer of its own stamp and the whole list's says whether it is on.
        listed_at, listed = self.offer_list
        on = {skill for skill, (seq, offered) in self.offers.items() if seq > listed_at and offered}
        off = {
            skill
            for skill, (seq, offered) in self.offers.items()
            if seq > listed_at and not offered
        }
        return frozenset((set(listed) - off) | on)


@dataclass
class Facts:
    """Everything insights knows: requests by id, people by token."""

    requests: dict[str, RequestFacts] = field(default_factory=dict)
    people: dict[str, PersonFacts] = field(default_factory=dict)

    def merge_request(self, request_id: str, partial: RequestFacts) -> None:
        self.requests.setdefault(request_id, RequestFacts()).merge(partial)

    def merge_person(self, token: str, partial: PersonFacts) -> None:
        self.people.setdefault(token, PersonFacts()).merge(partial)

    def merge(self, other: Facts) -> None:
        for request_id, request in other.requests.items():
            self.merge_request(request_id, request)
        for token, person in other.people.items():
            self.merge_person(token, person)

    def without(self, erased_tokens: frozenset[str] | set[str]) -> Facts:
        """The facts with every erased person's token replaced by ERASED and their own
        facts (team, offers, skills) gone; their requests and sessions still count."""
        kept = Facts(people={t: p for t, p in self.people.items() if t not in erased_tokens})
        for request_id, request in self.requests.items():
            if any(p in erased_tokens for p in request.people()):
                request = RequestFacts(
                    **{f.name: getattr(request, f.name) for f in fields(request)}
                )
                for token in erased_tokens.intersection(p for p in request.people() if p):
                    request.replace_person(token, ERASED)
            kept.requests[request_id] = request
        return kept


# ---------------------------------------------------------------- stored form
# Plain lists, strings and numbers: skill ids may hold a dot, which a stored field name
# must not. Times go through `time_out`/`time_in`, so a store may keep them its own way.

TimeOut = Callable[[datetime], Any]
TimeIn = Callable[[Any], datetime]


def _same(value: Any) -> Any:
    return value


def _stamp(value: Any) -> Any:
    return tuple(value) if value is not None else None


_TIMES = ("requested_at", "proposed_at", "accepted_at", "completed_at", "not_happened_at")
_STAMPS = ("state", "teacher_rating", "learner_rating")


def request_to_doc(request: RequestFacts, time_out: TimeOut = _same) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    for f in fields(request):
        value = getattr(request, f.name)
        if value is None:
            continue
        if f.name in _TIMES:
            value = time_out(value)
        elif isinstance(value, tuple):
            value = list(value)
        doc[f.name] = value
    return doc


def request_from_doc(doc: dict[str, Any], time_in: TimeIn = _same) -> RequestFacts:
    values = {f.name: doc.get(f.name) for f in fields(RequestFacts)}
    for name in _TIMES:
        if values[name] is not None:
            values[name] = time_in(values[name])
    for name in _STAMPS:
        values[name] = _stamp(values[name])
    return RequestFacts(**values)


def person_to_doc(person: PersonFacts, time_out: TimeOut = _same) -> dict[str, Any]:
    return {
        "team": list(person.team) if person.team else None,
        "offers": [[skill, seq, on] for skill, (seq, on) in person.offers.items()],
        "first_offered": [[skill, time_out(at)] for skill, at in person.first_offered.items()],
        "acquired": [[skill, time_out(at)] for skill, at in person.acquired.items()],
        "offer_list": [person.offer_list[0], list(person.offer_list[1])]
        if person.offer_list
        else None,
    }


def person_from_doc(doc: dict[str, Any], time_in: TimeIn = _same) -> PersonFacts:
    return PersonFacts(
        team=_stamp(doc.get("team")),
        offers={skill: (seq, on) for skill, seq, on in doc.get("offers", [])},
        first_offered={skill: time_in(at) for skill, at in doc.get("first_offered", [])},
        acquired={skill: time_in(at) for skill, at in doc.get("acquired", [])},
        offer_list=(doc["offer_list"][0], tuple(doc["offer_list"][1]))
        if doc.get("offer_list")
        else None,
    )


def facts_to_doc(facts: Facts, time_out: TimeOut = _same) -> dict[str, Any]:
    return {
        "requests": [[rid, request_to_doc(r, time_out)] for rid, r in facts.requests.items()],
        "people": [[token, person_to_doc(p, time_out)] for token, p in facts.people.items()],
    }


def facts_from_doc(doc: dict[str, Any], time_in: TimeIn = _same) -> Facts:
    return Facts(
        requests={rid: request_from_doc(r, time_in) for rid, r in doc.get("requests", [])},
        people={token: person_from_doc(p, time_in) for token, p in doc.get("people", [])},
    )
