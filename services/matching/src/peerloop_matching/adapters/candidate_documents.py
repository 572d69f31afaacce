"""A candidate's document, shared by the Mongo store and the in-memory one.

Both keep the same document shape and make every load, reputation and partner
change through `mutate`, an optimistic read-modify-write on `load_version`; the
changes themselves are written once, here, so both stores decide alike.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from peerloop_runtime.mongo import Document

from peerloop_matching.application.ports import PersonParts
from peerloop_matching.domain.candidate import (
    Candidate,
    Evidence,
    Hours,
    Offer,
    Reservation,
    iso_week,
)
from peerloop_matching.domain.capacity import take

MAX_OPTIMISTIC_TRIES = 8

Mutation = Callable[[Candidate, Document], Document | None]
"""Given the current candidate and its document, the `$set` to write, or None to write nothing."""


def skill_key(skill_id: str) -> str:
    """Skill ids may hold dots, which MongoDB reads as paths."""
    return skill_id.replace(".", "%2E")


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def _hours(raw: Document | None) -> Hours | None:
    if not raw:
        return None
    return Hours(
        start=_minutes(raw["start"]), end=_minutes(raw["end"]), days=tuple(raw.get("days", ()))
    )


def to_candidate(doc: Document) -> Candidate:
    profile: Document = doc.get("profile") or {}
    availability: Document = doc.get("availability") or {}
    offers = {
        s["skill_id"]: Offer(
            skill_id=s["skill_id"],
            level=s["level"],
            willing_to_teach=s["willing_to_teach"],
            weekly_capacity=s["weekly_capacity"],
            description=s.get("description", ""),
        )
        for s in (doc.get("skills") or {}).values()
        if not s.get("withdrawn")
    }
    return Candidate(
        person_id=doc["_id"],
        team=profile.get("team", ""),
        manager_id=profile.get("manager_id"),
        time_zone=availability.get("time_zone") or profile.get("time_zone") or "UTC",
        hours=_hours(availability.get("working_hours"))
        or _hours(profile.get("working_hours"))
        or Hours(),
        weekly_capacity=availability.get("weekly_capacity"),
        away=tuple(
            (date.fromisoformat(a["start"]), date.fromisoformat(a["end"]))
            for a in availability.get("away_periods", ())
        ),
        paused_until=date.fromisoformat(paused)
        if (paused := availability.get("proposals_paused_until"))
        else None,
        offers=offers,
        rating_sum=doc.get("rating_sum", 0),
        rating_count=doc.get("rating_count", 0),
        reservations=tuple(Reservation(**r) for r in doc.get("reservations", ())),
        partners=tuple(doc.get("partners", ())),
        evidence={
            e["skill_id"]: Evidence(
                score=e["score"],
                as_of=_instant(e["as_of"]),
                half_life_days=e["half_life_days"],
                sessions_taught=e.get("sessions_taught", 0),
                endorsements=e.get("endorsements", 0),
            )
            for e in (doc.get("evidence") or {}).values()
        },
    )


def _instant(raw: str) -> datetime:
    return datetime.fromisoformat(raw)


def reservation_doc(r: Reservation) -> Document:
    return {
        "proposal_id": r.proposal_id,
        "request_id": r.request_id,
        "skill_id": r.skill_id,
        "week": r.week,
        "kind": r.kind,
        "created_at": r.created_at,
        "expires_at": r.expires_at,
        "holder": r.holder,
    }


STATE_SEQ = "state_seq"
"""The sequence of the last person state applied: no change event up to it changes anything."""


def state_changes(doc: Document | None, sequence: int, parts: PersonParts) -> dict[str, Document]:
    """The parts (by dotted path) a state at `sequence` writes into `doc`.

    Only those that differ from what is stored and are stored older than `sequence`
    (a newer event's part stays), and a withdrawal of each offer the state lacks.
    Parts the state leaves as they are keep their own sequence: `STATE_SEQ` is the floor
    below which no event applies any more.
    """
    wanted: dict[tuple[str, ...], Document] = {
        ("profile",): parts.profile,
        ("availability",): parts.availability,
    }
    wanted |= {("skills", skill_key(s)): part for s, part in parts.offers.items()}
    wanted |= {("learned", skill_key(s)): part for s, part in parts.learned.items()}
    for key, stored in ((doc or {}).get("skills") or {}).items():
        if ("skills", key) not in wanted:
            wanted[("skills", key)] = {"skill_id": stored["skill_id"], "withdrawn": True}
    changes: dict[str, Document] = {}
    for path, value in wanted.items():
        stored = _at(doc, path)
        if stored is not None and stored.get("seq", -1) >= sequence:
            continue
        if stored is not None and {k: v for k, v in stored.items() if k != "seq"} == value:
            continue
        changes[".".join(path)] = value
    return changes


def _at(doc: Document | None, path: tuple[str, ...]) -> Document | None:
    holder: object = doc
    for key in path:
        if not isinstance(holder, dict):
            return None
        holder = holder.get(key)
    return holder if isinstance(holder, dict) else None


def part_path(part: str, skill_id: str | None = None) -> str:
    """Where a part lives in the document: skills and learned skills one field per skill."""
    return part if skill_id is None else f"{part}.{skill_key(skill_id)}"


class LoadChanges:
    """Reservations, sessions and ratings as changes applied by a store's `mutate`."""

    async def mutate(self, person_id: str, change: Mutation) -> Candidate | None:
        """Apply `change` with optimistic concurrency; the candidate after it (None if absent)."""
        raise NotImplementedError

    async def reserve(
        self, person_id: str, reservation: Reservation, now: datetime
    ) -> Candidate | None:
        """Hold one unit of capacity for a proposal; None if the person has none left."""
        held = False

        def change(candidate: Candidate, _doc: Document) -> Document | None:
            nonlocal held
            # `mutate` calls this again after losing a race: only the last call's verdict counts.
            verdict = take(candidate, reservation, now)
            held = verdict.held
            if verdict.reservations is None:
                return None
            return {"reservations": [reservation_doc(r) for r in verdict.reservations]}

        after = await self.mutate(person_id, change)
        return after if held else None

    async def release(
        self, person_id: str, proposal_id: str, holder: str | None = None
    ) -> Candidate | None:
        def mine(r: Reservation) -> bool:
            return r.proposal_id == proposal_id and (holder is None or r.holder == holder)

        def change(candidate: Candidate, _doc: Document) -> Document | None:
            if not any(mine(r) for r in candidate.reservations):
                return None
            return {
                "reservations": [reservation_doc(r) for r in candidate.reservations if not mine(r)]
            }

        return await self.mutate(person_id, change)

    async def hold_for_session(
        self,
        person_id: str,
        *,
        proposal_id: str,
        request_id: str,
        skill_id: str,
        learner_id: str,
        now: datetime,
    ) -> Candidate | None:
        """Turn the proposal's reservation into a session's and remember the pairing."""

        def change(candidate: Candidate, _doc: Document) -> Document | None:
            mine = [r for r in candidate.reservations if r.proposal_id == proposal_id]
            if mine and mine[0].kind == "session":
                return None
            others = [r for r in candidate.reservations if r.proposal_id != proposal_id]
            session = Reservation(
                proposal_id=proposal_id,
                request_id=request_id,
                skill_id=skill_id,
                week=mine[0].week if mine else iso_week(now),
                kind="session",
                created_at=now,
            )
            return {
                "reservations": [reservation_doc(r) for r in (*others, session)],
                "partners": [*candidate.partners, learner_id],
            }

        return await self.mutate(person_id, change)

    async def record_rating(self, person_id: str, key: str, rating: int) -> Candidate | None:
        def change(_candidate: Candidate, doc: Document) -> Document | None:
            rated: list[str] = doc.get("rated", [])
            if key in rated:
                return None
            return {
                "rated": [*rated, key],
                "rating_sum": doc.get("rating_sum", 0) + rating,
                "rating_count": doc.get("rating_count", 0) + 1,
            }

        return await self.mutate(person_id, change)
