"""In-memory candidate lookup by skill, so a request never scans every person.

Offers are kept in buckets by (skill, level), each sorted by the request-independent
part of the score (`standing`: reputation and fair load), best first, ties by person
id. The engine walks a bucket from the top and stops as soon as nobody further down
could still make the list, which keeps a match fast even when tens of thousands
offer a popular skill. Standings depend on the ISO week (fair load counts the last
four), so they are recomputed when the week turns.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator
from datetime import datetime

from peerloop_matching.domain.candidate import Candidate, iso_week, recent_weeks
from peerloop_matching.domain.scoring import Weights, standing

Entry = tuple[float, str]
"""(-standing, person id): ascending order is best standing first, then by id."""


class SkillIndex:
    def __init__(
        self,
        related: Callable[[str], tuple[str, ...]] = lambda _s: (),
        weights: Weights | None = None,
    ) -> None:
        self.related = related
        self.weights = weights or Weights()
        self._people: dict[str, Candidate] = {}
        self._entries: dict[str, Entry] = {}
        self._buckets: dict[tuple[str, int], list[Entry]] = {}
        self._week: str | None = None
        self._weeks: frozenset[str] = frozenset()

    def __len__(self) -> int:
        return len(self._people)

    def get(self, person_id: str) -> Candidate | None:
        return self._people.get(person_id)

    def person_ids(self) -> Iterator[str]:
        """Everyone matching knows, offering a skill or not."""
        return iter(self._people)

    def put(self, candidate: Candidate) -> None:
        self.remove(candidate.person_id)
        self._people[candidate.person_id] = candidate
        self._file(candidate)

    def remove(self, person_id: str) -> None:
        old = self._people.pop(person_id, None)
        entry = self._entries.pop(person_id, None)
        if old is None or entry is None:
            return
        for key in _bucket_keys(old):
            bucket = self._buckets.get(key)
            if bucket is None:
                continue
            at = bisect.bisect_left(bucket, entry)
            if at < len(bucket) and bucket[at] == entry:
                del bucket[at]
            if not bucket:
                del self._buckets[key]

    def bucket(self, skill_id: str, level: int, now: datetime) -> list[Entry]:
        """Teachable offers of `skill_id` at exactly `level`, best standing first."""
        self._roll(now)
        return self._buckets.get((skill_id, level), [])

    def offerers(self, skill_id: str) -> Iterator[tuple[Candidate, str]]:
        """Every (candidate, offered skill) for the skill and its related skills, unordered."""
        for skill in (skill_id, *self.related(skill_id)):
            for level in range(1, 6):
                for _key, person_id in self._buckets.get((skill, level), ()):
                    yield self._people[person_id], skill

    def _file(self, candidate: Candidate) -> None:
        keys = _bucket_keys(candidate)
        if not keys:
            return
        entry = (-standing(candidate, self.weights, self._weeks), candidate.person_id)
        self._entries[candidate.person_id] = entry
        for key in keys:
            bisect.insort(self._buckets.setdefault(key, []), entry)

    def _roll(self, now: datetime) -> None:
        week = iso_week(now)
        if week == self._week:
            return
        self._week, self._weeks = week, recent_weeks(now)
        if not self._people:
            return
        # Sessions left the window: every standing may have risen. Refile everyone.
        self._entries.clear()
        self._buckets.clear()
        for candidate in self._people.values():
            self._file(candidate)


def _bucket_keys(candidate: Candidate) -> list[tuple[str, int]]:
    # Unwilling offers never lead to a proposal, so they are not filed at all.
    return [(o.skill_id, o.level) for o in candidate.offers.values() if o.willing_to_teach]
