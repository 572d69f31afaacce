"""What colleagues see of a person's offers and pause, and what the person sees."""

from __future__ import annotations

from datetime import date

from peerloop_profiles.domain.model import OfferedSkill, Person, ProfileDetails
from peerloop_profiles.entrypoints.views import person_view, public_person_view

TODAY = date(2026, 12, 2)
PERSON = Person(
    person_id="p-ada",
    details=ProfileDetails(
        display_name="Ada", email="ada@example.com", team="billing", time_zone="UTC"
    ),
    proposals_paused_until=date(2026, 12, 20),
    skills_offered=(
        OfferedSkill(skill_id="kubernetes", level=4),
        OfferedSkill(skill_id="mongodb", level=3, private=True),
    ),
)


def test_colleagues_do_not_see_a_private_offer_nor_the_pause():
    public = public_person_view(PERSON, TODAY).model_dump()
    assert [o["skill_id"] for o in public["skills_offered"]] == ["kubernetes"]
    assert "private" not in public["skills_offered"][0]
    assert "proposals_paused_until" not in public


def test_the_person_sees_every_offer_marked_and_their_pause():
    own = person_view(PERSON, TODAY)
    assert [(o.skill_id, o.private) for o in own.skills_offered] == [
        ("kubernetes", False),
        ("mongodb", True),
    ]
    assert own.proposals_paused_until == date(2026, 12, 20)
