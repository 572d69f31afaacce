"""The in-memory skill index: lookups by skill, updates and removals."""

from __future__ import annotations

from matching_builders import person
from peerloop_matching.domain.candidate import Offer
from peerloop_matching.domain.skill_index import SkillIndex


def _ids(index: SkillIndex, skill: str) -> list[tuple[str, str]]:
    return sorted((c.person_id, s) for c, s in index.offerers(skill))


def test_lookup_by_skill_and_related_skill():
    index = SkillIndex(related=lambda s: ("django",) if s == "python" else ())
    index.put(person("a", skill="python"))
    index.put(person("b", skill="django"))
    index.put(person("c", skill="go"))
    assert _ids(index, "python") == [("a", "python"), ("b", "django")]
    assert _ids(index, "go") == [("c", "go")]
    assert _ids(index, "rust") == []


def test_an_update_replaces_the_old_offers_and_a_removal_forgets_the_person():
    index = SkillIndex()
    index.put(person("a", skill="python", extra_offers=(Offer("go", 3, True, 1),)))
    index.put(person("a", skill="go"))
    assert _ids(index, "python") == []
    assert _ids(index, "go") == [("a", "go")]
    index.remove("a")
    index.remove("a")
    assert _ids(index, "go") == [] and len(index) == 0 and index.get("a") is None
