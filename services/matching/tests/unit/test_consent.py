"""Matching respects what people chose: a private offer still matches, a pause holds all
proposals until its day and then lifts by itself, an opted-out skill is never proposed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from matching_fakes import META, START, Matching, offered
from peerloop_contracts.common import WorkingHours
from peerloop_contracts.profiles import AvailabilityChanged

WAIT = timedelta(days=14)


@pytest.fixture
def m() -> Matching:
    return Matching(longest_wait=WAIT)


def _paused(person_id: str, days: int | None, sequence: int) -> AvailabilityChanged:
    return AvailabilityChanged(
        person_id=person_id,
        weekly_capacity=5,
        time_zone="UTC",
        working_hours=WorkingHours(),
        proposals_paused_until=START.date() + timedelta(days=days) if days is not None else None,
        sequence=sequence,
    )


async def test_a_private_offer_is_still_proposed(m: Matching) -> None:
    await m.person("tom")
    await m.projection.on_skill_offered(
        offered("tom", "python").model_copy(update={"private": True}), META
    )
    await m.person("lea")
    request = await m.use_cases.get(await m.ask("lea"))
    assert (request.state, request.proposals[0].helper_id) == ("proposed", "tom")


async def test_a_pause_holds_proposals_until_its_day_then_lifts_by_itself(m: Matching) -> None:
    await m.person("tom", teaches="python")
    await m.projection.on_availability(_paused("tom", 2, sequence=3), META)
    await m.person("lea")
    request_id = await m.ask("lea")
    request = await m.use_cases.get(request_id)
    assert (request.state, request.waiting_reason) == ("waiting", "all_away")
    m.clock.advance(timedelta(days=2))  # the last paused day
    assert await m.use_cases.recheck_waiting() == 0
    m.clock.advance(timedelta(days=1))  # the day after: proposals resume without a word
    assert await m.use_cases.recheck_waiting() == 1
    assert (await m.use_cases.get(request_id)).proposals[0].helper_id == "tom"


async def test_lifting_a_pause_early_proposes_at_once(m: Matching) -> None:
    await m.person("tom", teaches="python")
    await m.projection.on_availability(_paused("tom", 10, sequence=3), META)
    await m.person("lea")
    request_id = await m.ask("lea")
    await m.projection.on_availability(_paused("tom", None, sequence=4), META)
    assert (await m.use_cases.get(request_id)).state == "proposed"


async def test_an_opted_out_skill_stays_offered_but_is_never_proposed(m: Matching) -> None:
    await m.person("tom")
    await m.projection.on_skill_offered(
        offered("tom", "python").model_copy(update={"willing_to_teach": False}), META
    )
    tom = await m.candidates.get("tom")
    assert tom is not None and "python" in tom.offers  # not withdrawn
    await m.person("lea")
    request = await m.use_cases.get(await m.ask("lea"))
    assert (request.state, request.waiting_reason) == ("waiting", "no_one_offers")
