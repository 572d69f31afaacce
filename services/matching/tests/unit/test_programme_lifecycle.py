"""A programme from draft to published over the in-memory stores, and a decline re-solved."""

from __future__ import annotations

from datetime import date

import pytest
from matching_fakes import META, Matching
from peerloop_contracts.matching import MatchDeclined
from peerloop_matching.application import programmes as programmes_module
from peerloop_matching.application.programmes import NewProgramme
from peerloop_matching.domain.errors import InvalidTransitionError
from peerloop_matching.domain.programmes.programme import Programme


def _names(events: list[object]) -> list[str]:
    return [type(e).event_name for e in events]  # type: ignore[attr-defined]


async def _cohort(m: Matching, mentees: int = 6, mentors: int = 4) -> None:
    for i in range(mentors):
        await m.person(f"mentor-{i}", teaches="kafka", level=3 + i % 3, team=f"t{i % 2}")
    for i in range(mentees):
        await m.person(f"mentee-{i}", team=f"t{i % 3}")


def _new(**changes: object) -> NewProgramme:
    fields: dict[str, object] = {
        "name": "Kafka circle",
        "goal_skills": ["kafka"],
        "starts_on": date(2027, 1, 4),
        "ends_on": date(2027, 3, 31),
        "created_by": "admin",
        "capacity": 2,
        "cohort": [f"mentee-{i}" for i in range(6)],
    }
    fields.update(changes)
    return NewProgramme(**fields)  # type: ignore[arg-type]


async def _previewed(m: Matching, **changes: object) -> Programme:
    programme = await m.programmes.create(_new(**changes))
    return await m.programmes.preview(programme.programme_id)


async def test_a_preview_pairs_everyone_within_capacity_with_each_pairs_breakdown() -> None:
    m = Matching()
    await _cohort(m)
    programme = await _previewed(m)

    assert programme.state == "previewed"
    assert len(programme.pairs) == 6 and not programme.unassigned
    loads: dict[str, int] = {}
    for pair in programme.pairs:
        loads[pair.mentor_id] = loads.get(pair.mentor_id, 0) + 1
        assert {c.name for c in pair.breakdown} >= {"skill_fit", "hours_overlap"}
        assert pair.score == pytest.approx(sum(c.contribution for c in pair.breakdown), abs=1e-3)
    assert max(loads.values()) <= 2
    assert programme.figures is not None
    assert programme.figures.pairs == 6 and programme.figures.max_load == 2
    assert _names(m.programme_store.events(programme.programme_id)) == [
        "programme-created",
        "programme-previewed",
    ]


async def test_a_cohort_given_as_a_team_is_everyone_matching_knows_in_it() -> None:
    m = Matching()
    await _cohort(m)
    programme = await m.programmes.create(_new(cohort=None, cohort_team="t1"))
    assert programme.cohort == ["mentee-1", "mentee-4", "mentor-1", "mentor-3"]


async def test_a_mentee_with_nobody_offering_the_skill_is_unassigned_with_the_reason() -> None:
    m = Matching()
    await _cohort(m)
    await m.person("newcomer")
    programme = await _previewed(m, cohort=["mentee-0", "newcomer", "ghost"], level=5)
    reasons = {u.mentee_id: u.reason for u in programme.unassigned}
    assert reasons["ghost"] == "no_candidate"  # matching has no profile
    assert {p.mentee_id for p in programme.pairs} | set(reasons) == {
        "mentee-0",
        "newcomer",
        "ghost",
    }


async def test_pins_forbids_and_capacities_shape_the_next_preview() -> None:
    m = Matching()
    await _cohort(m)
    programme = await _previewed(m)
    first = programme.pairs[0]
    other = next(f"mentor-{i}" for i in range(4) if f"mentor-{i}" != first.mentor_id)
    pid = programme.programme_id

    adjusted = await m.programmes.adjust(
        pid, "forbid", mentee_id=first.mentee_id, mentor_id=first.mentor_id
    )
    assert adjusted.state == "draft"
    with pytest.raises(InvalidTransitionError, match="preview again"):
        await m.programmes.publish(pid)
    await m.programmes.adjust(pid, "pin", mentee_id="mentee-5", mentor_id=other)
    zeroed = next(f"mentor-{i}" for i in range(4) if f"mentor-{i}" != other)
    await m.programmes.adjust(pid, "capacity", mentor_id=zeroed, capacity=0)
    again = await m.programmes.preview(pid)

    pairs = {p.mentee_id: p for p in again.pairs}
    assert pairs[first.mentee_id].mentor_id != first.mentor_id
    assert pairs["mentee-5"].mentor_id == other and pairs["mentee-5"].pinned
    assert all(p.mentor_id != zeroed for p in again.pairs)
    assert _names(m.programme_store.events(pid))[-4:] == [
        "programme-adjusted",
        "programme-adjusted",
        "programme-adjusted",
        "programme-previewed",
    ]


async def test_publishing_proposes_every_pair_through_a_help_request() -> None:
    m = Matching()
    await _cohort(m)
    programme = await _previewed(m)
    published = await m.programmes.publish(programme.programme_id)

    assert published.state == "published"
    for pair in published.pairs:
        assert pair.request_id is not None
        request = await m.requests.load(pair.request_id)
        assert request is not None
        assert (request.state, request.requester_id, request.programme_id) == (
            "proposed",
            pair.mentee_id,
            programme.programme_id,
        )
        assert request.proposals[-1].helper_id == pair.mentor_id
        assert m.event_names(pair.request_id) == ["help-requested", "match-proposed"]
    names = _names(m.programme_store.events(programme.programme_id))
    assert names.count("programme-pair-proposed") == 6 and "programme-published" in names
    # A second publish is refused and opens nothing twice.
    with pytest.raises(InvalidTransitionError):
        await m.programmes.publish(programme.programme_id)


async def test_a_decline_is_re_solved_for_that_mentee_only() -> None:
    m = Matching()
    await _cohort(m, mentees=6, mentors=4)
    programme = await _previewed(m)
    published = await m.programmes.publish(programme.programme_id)
    before = {p.mentee_id: p.mentor_id for p in published.pairs}
    victim = published.pairs[0]
    assert victim.request_id is not None
    request = await m.requests.load(victim.request_id)
    assert request is not None

    declined = await m.use_cases.decline(
        victim.request_id, request.proposals[-1].proposal_id, victim.mentor_id, reason="busy"
    )
    assert declined.state == "requested"  # waiting for the programme, not the one-off engine
    event = m.requests.events(victim.request_id)[-1]
    assert isinstance(event, MatchDeclined) and event.will_retry
    await m.programmes.on_declined(event, META)

    after = await m.programmes.get(programme.programme_id)
    now = {p.mentee_id: p.mentor_id for p in after.pairs}
    assert now[victim.mentee_id] != victim.mentor_id
    assert {k: v for k, v in now.items() if k != victim.mentee_id} == {
        k: v for k, v in before.items() if k != victim.mentee_id
    }
    loads: dict[str, int] = {}
    for mentor in now.values():
        loads[mentor] = loads.get(mentor, 0) + 1
    assert max(loads.values()) <= 2
    again = await m.requests.load(victim.request_id)
    assert again is not None and again.state == "proposed"
    assert again.proposals[-1].helper_id == now[victim.mentee_id]
    assert after.pair_of(victim.mentee_id) is not None
    assert after.pair_of(victim.mentee_id).attempt == 2  # type: ignore[union-attr]
    # A redelivered decline changes nothing.
    await m.programmes.on_declined(event, META)
    assert {
        p.mentee_id: p.mentor_id for p in (await m.programmes.get(programme.programme_id)).pairs
    } == now


async def test_a_decline_with_nobody_left_with_room_leaves_the_mentee_unassigned() -> None:
    m = Matching()
    await _cohort(m, mentees=2, mentors=1)
    programme = await _previewed(m, cohort=["mentee-0", "mentee-1"], capacity=2)
    published = await m.programmes.publish(programme.programme_id)
    victim = published.pairs[0]
    assert victim.request_id is not None
    request = await m.requests.load(victim.request_id)
    assert request is not None
    await m.use_cases.decline(
        victim.request_id, request.proposals[-1].proposal_id, victim.mentor_id
    )
    event = m.requests.events(victim.request_id)[-1]
    assert isinstance(event, MatchDeclined)
    await m.programmes.on_declined(event, META)

    after = await m.programmes.get(programme.programme_id)
    assert after.pair_of(victim.mentee_id) is None
    assert [u.mentee_id for u in after.unassigned] == [victim.mentee_id]
    gone = await m.requests.load(victim.request_id)
    assert gone is not None and gone.state == "unmatched"
    assert (
        _names(m.programme_store.events(programme.programme_id))[-1]
        == "programme-mentee-unassigned"
    )


async def test_the_reporting_line_and_never_again_hold_in_a_programme() -> None:
    m = Matching()
    await m.person("boss", teaches="kafka", level=5, team="t")
    await m.person("mid", teaches="kafka", level=5, team="t", manager_id="boss")
    await m.person("peer", teaches="kafka", level=3, team="u")
    await m.person("blocked", teaches="kafka", level=5, team="u")
    await m.person("junior", team="t", manager_id="mid")
    await m.rules.not_again("junior", "blocked", m.clock())
    programme = await _previewed(m, cohort=["junior"], capacity=1)
    assert [(p.mentee_id, p.mentor_id) for p in programme.pairs] == [("junior", "peer")]


async def test_only_an_open_programme_is_adjusted_and_a_closed_one_stays_closed() -> None:
    m = Matching()
    await _cohort(m)
    programme = await _previewed(m)
    await m.programmes.publish(programme.programme_id)
    with pytest.raises(InvalidTransitionError, match="published"):
        await m.programmes.adjust(
            programme.programme_id, "capacity", mentor_id="mentor-0", capacity=1
        )
    closed = await m.programmes.close(programme.programme_id)
    assert closed.state == "closed"
    with pytest.raises(InvalidTransitionError):
        await m.programmes.close(programme.programme_id)


async def test_a_declined_mentee_reaches_past_the_preview_candidates_to_a_mentor_with_room(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The preview's sparse candidates (top-k) are the best mentors, often full by the time
    someone declines; placing one mentee again searches far further down."""
    monkeypatch.setattr(programmes_module, "TOP_K", 2)
    m = Matching()
    for i, level in enumerate((5, 5, 3, 3)):
        await m.person(f"mentor-{i}", teaches="kafka", level=level, team="t")
    for i in range(3):
        await m.person(f"mentee-{i}", team="u")
    programme = await _previewed(m, cohort=["mentee-0", "mentee-1", "mentee-2"], capacity=1)
    assert {p.mentor_id for p in programme.pairs} == {"mentor-0", "mentor-1"}
    published = await m.programmes.publish(programme.programme_id)
    victim = published.pairs[0]
    assert victim.request_id is not None
    request = await m.requests.load(victim.request_id)
    assert request is not None
    await m.use_cases.decline(
        victim.request_id, request.proposals[-1].proposal_id, victim.mentor_id
    )
    event = m.requests.events(victim.request_id)[-1]
    assert isinstance(event, MatchDeclined)
    await m.programmes.on_declined(event, META)

    after = await m.programmes.get(programme.programme_id)
    placed = after.pair_of(victim.mentee_id)
    assert placed is not None and placed.mentor_id in ("mentor-2", "mentor-3")
