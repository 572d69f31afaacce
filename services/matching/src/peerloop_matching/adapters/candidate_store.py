"""The `candidates` collection: matching's own read model of people, built from events.

Each part of a person comes from different events on different topics, which
may arrive in any order, so each part keeps the sequence it was applied at: the
profile, the availability, and every offered or learned skill. An apply only
writes if its part's sequence is older, so a stale or redelivered event changes
nothing. Erasure leaves a tombstone without personal data so a late event cannot
bring the person back.

Load (reservations), reputation and partners change through optimistic
read-modify-write on `load_version`: no transactions needed (the store conformance
suite, tests/store, checks that exactly one of concurrent conditional updates wins).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import date, datetime, timedelta

from peerloop_contracts.envelope import utc_now
from peerloop_contracts.runtime.mongo import Document
from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from peerloop_matching.domain.candidate import Candidate, Hours, Offer, Reservation, iso_week

KEEP_SESSIONS_FOR = timedelta(weeks=8)
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
        )
        for s in (doc.get("skills") or {}).values()
        if not s.get("withdrawn")
    }
    return Candidate(
        person_id=doc["_id"],
        team=profile.get("team", ""),
        time_zone=availability.get("time_zone") or profile.get("time_zone") or "UTC",
        hours=_hours(availability.get("working_hours"))
        or _hours(profile.get("working_hours"))
        or Hours(),
        weekly_capacity=availability.get("weekly_capacity"),
        away=tuple(
            (date.fromisoformat(a["start"]), date.fromisoformat(a["end"]))
            for a in availability.get("away_periods", ())
        ),
        offers=offers,
        rating_sum=doc.get("rating_sum", 0),
        rating_count=doc.get("rating_count", 0),
        reservations=tuple(Reservation(**r) for r in doc.get("reservations", ())),
        partners=tuple(doc.get("partners", ())),
    )


def _reservation_doc(r: Reservation) -> Document:
    return {
        "proposal_id": r.proposal_id,
        "request_id": r.request_id,
        "skill_id": r.skill_id,
        "week": r.week,
        "kind": r.kind,
        "created_at": r.created_at,
        "expires_at": r.expires_at,
    }


class CandidateStore:
    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self.collection = collection

    async def ensure_indexes(self) -> None:
        await self.collection.create_index([("updated_at", ASCENDING)], name="changed")
        await self.collection.create_index([("partners", ASCENDING)], name="partners", sparse=True)

    # -- read model from profile events ----------------------------------------------------

    async def apply_part(
        self, person_id: str, part: str, sequence: int, value: Document
    ) -> Candidate | None:
        """Write one part of a person if its stored sequence is older.

        Returns the person after the write, or None when the event was stale, a
        repeat, or about someone erased: then nothing changed.
        """
        seq_path = f"{part}.seq"
        try:
            doc = await self.collection.find_one_and_update(
                {
                    "_id": person_id,
                    "erased": {"$ne": True},
                    "$or": [{seq_path: {"$exists": False}}, {seq_path: {"$lt": sequence}}],
                },
                {"$set": {part: {**value, "seq": sequence}, "updated_at": utc_now()}},
                upsert=True,
                return_document=ReturnDocument.AFTER,
            )
        except DuplicateKeyError:
            return None  # the person exists with a newer part, or was erased
        return to_candidate(doc) if doc else None

    async def erase(self, person_id: str, sequence: int) -> None:
        await self.collection.replace_one(
            {"_id": person_id},
            {
                "_id": person_id,
                "erased": True,
                "erased_sequence": sequence,
                "updated_at": utc_now(),
            },
            upsert=True,
        )
        await self.collection.update_many(
            {"partners": person_id},
            {"$pull": {"partners": person_id}, "$set": {"updated_at": utc_now()}},
        )

    # -- queries ---------------------------------------------------------------------------

    async def get(self, person_id: str) -> Candidate | None:
        doc = await self._find_live(person_id)
        return to_candidate(doc) if doc else None

    async def erased(self, person_id: str) -> bool:
        doc = await self.collection.find_one({"_id": person_id})
        return bool(doc and doc.get("erased"))

    async def _find_live(self, person_id: str) -> Document | None:
        # By `_id` alone, erasure checked here: on the local store a point lookup with any
        # second condition scans the collection.
        doc = await self.collection.find_one({"_id": person_id})
        return None if doc is None or doc.get("erased") else doc

    async def changed_since(
        self, watermark: datetime | None
    ) -> AsyncIterator[tuple[str, Candidate | None, datetime]]:
        """(person id, candidate or None when erased, updated_at), oldest change first."""
        query: Document = {} if watermark is None else {"updated_at": {"$gte": watermark}}
        async for doc in self.collection.find(query).sort("updated_at", ASCENDING):
            erased = doc.get("erased", False)
            yield doc["_id"], None if erased else to_candidate(doc), doc["updated_at"]

    # -- load, reputation, partners --------------------------------------------------------

    async def mutate(self, person_id: str, change: Mutation) -> Candidate | None:
        """Apply `change` with optimistic concurrency; the candidate after it (None if absent)."""
        for _ in range(MAX_OPTIMISTIC_TRIES):
            doc = await self._find_live(person_id)
            if doc is None:
                return None
            current = to_candidate(doc)
            update = change(current, doc)
            if update is None:
                return current
            version = doc.get("load_version", 0)
            result = await self.collection.update_one(
                {"_id": person_id, "load_version": version}
                if "load_version" in doc
                else {"_id": person_id, "load_version": {"$exists": False}},
                {"$set": {**update, "load_version": version + 1, "updated_at": utc_now()}},
            )
            if result.modified_count:
                return to_candidate({**doc, **update})
        raise RuntimeError(f"candidate {person_id} kept changing under us")

    async def reserve(
        self, person_id: str, reservation: Reservation, now: datetime
    ) -> Candidate | None:
        """Hold one unit of capacity for a proposal; None if the person has none left."""
        held = False

        def change(candidate: Candidate, doc: Document) -> Document | None:
            nonlocal held
            # `mutate` calls this again after losing a race: only the last call's verdict counts.
            held = False
            kept = _live(candidate.reservations, now)
            if any(r.proposal_id == reservation.proposal_id for r in kept):
                held = True
                return None
            offer = candidate.offers.get(reservation.skill_id)
            if (
                offer is None
                or not offer.willing_to_teach
                or candidate.is_away(now.date())
                or not candidate.has_capacity(reservation.skill_id, now)
            ):
                return None
            held = True
            return {"reservations": [_reservation_doc(r) for r in (*kept, reservation)]}

        after = await self.mutate(person_id, change)
        return after if held else None

    async def release(self, person_id: str, proposal_id: str) -> Candidate | None:
        def change(candidate: Candidate, _doc: Document) -> Document | None:
            if not any(r.proposal_id == proposal_id for r in candidate.reservations):
                return None
            return {
                "reservations": [
                    _reservation_doc(r)
                    for r in candidate.reservations
                    if r.proposal_id != proposal_id
                ]
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
                "reservations": [_reservation_doc(r) for r in (*others, session)],
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


def _live(reservations: tuple[Reservation, ...], now: datetime) -> list[Reservation]:
    """Reservations still worth keeping: live pending ones and sessions of recent weeks."""
    return [
        r
        for r in reservations
        if (r.kind == "pending" and r.holds(now))
        or (r.kind == "session" and r.created_at >= now - KEEP_SESSIONS_FOR)
    ]
