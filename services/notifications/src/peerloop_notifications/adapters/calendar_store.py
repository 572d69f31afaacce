"""Sessions for calendars and feed secrets in MongoDB.

`calendar_sessions`: one document per session, replaced only by a higher revision
(the filter names the revision, the upsert's duplicate key tells of a newer one).
`calendar_feeds`: one document per person holding the SHA-256 of their feed token,
unique, so a feed URL leads to one person and a leaked database holds no URL.
"""

from __future__ import annotations

from dataclasses import dataclass

from peerloop_runtime.mongo import Document
from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from peerloop_notifications.domain.calendar import CalendarSession


def session_document(s: CalendarSession) -> Document:
    return {
        "_id": s.session_id,
        "request_id": s.request_id,
        "skill": s.skill,
        "starts_at": s.starts_at,
        "minutes": s.minutes,
        "learner_id": s.learner_id,
        "teacher_id": s.teacher_id,
        "participants": [s.learner_id, s.teacher_id],
        "revision": s.revision,
        "cancelled": s.cancelled,
    }


def session_from(doc: Document) -> CalendarSession:
    return CalendarSession(
        session_id=doc["_id"],
        request_id=doc["request_id"],
        skill=doc["skill"],
        starts_at=doc["starts_at"],
        minutes=int(doc["minutes"]),
        learner_id=doc["learner_id"],
        teacher_id=doc["teacher_id"],
        revision=int(doc["revision"]),
        cancelled=bool(doc["cancelled"]),
    )


@dataclass
class CalendarStore:
    sessions: AsyncCollection[Document]
    feeds: AsyncCollection[Document]

    async def ensure_indexes(self) -> None:
        await self.sessions.create_index(
            [("participants", ASCENDING), ("starts_at", DESCENDING)], name="sessions_of_person"
        )
        await self.feeds.create_index("digest", unique=True, name="feed_token")

    async def get(self, session_id: str) -> CalendarSession | None:
        doc = await self.sessions.find_one({"_id": session_id})
        return session_from(doc) if doc else None

    async def put(self, session: CalendarSession) -> bool:
        doc = session_document(session)
        try:
            result = await self.sessions.replace_one(
                {"_id": session.session_id, "revision": {"$lt": session.revision}},
                doc,
                upsert=True,
            )
        except DuplicateKeyError:
            return False  # the stored version is as new or newer
        return result.modified_count == 1 or result.upserted_id is not None

    async def sessions_of(self, person_id: str, *, limit: int) -> list[CalendarSession]:
        cursor = self.sessions.find({"participants": person_id}).sort("starts_at", DESCENDING)
        return [session_from(doc) async for doc in cursor.limit(limit)]

    async def set_feed(self, person_id: str, digest: str) -> None:
        await self.feeds.replace_one(
            {"_id": person_id}, {"_id": person_id, "digest": digest}, upsert=True
        )

    async def revoke_feed(self, person_id: str) -> bool:
        result = await self.feeds.delete_one({"_id": person_id})
        return result.deleted_count == 1

    async def feed_owner(self, digest: str) -> str | None:
        doc = await self.feeds.find_one({"digest": digest})
        return str(doc["_id"]) if doc else None
