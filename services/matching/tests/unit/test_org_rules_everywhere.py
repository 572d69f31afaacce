"""The organisation's rules in every matching: one-off requests and programmes.

Nobody is proposed someone in their reporting line (either direction, any depth), and
two people one of whom asked not to be paired again are never paired. Property tests
(Hypothesis) over random organisations: every pair of a programme's assignment
respects its mentor's capacity and the manager rule, and so does every one-off match.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from matching_fakes import Matching
from peerloop_matching.domain.candidate import Candidate, Offer
from peerloop_matching.domain.programmes.candidates import Mentee, candidate_pairs
from peerloop_matching.domain.programmes.rules import Org, Person
from peerloop_matching.domain.programmes.solver import Problem, solve
from peerloop_matching.domain.scoring import Weights
from peerloop_matching.domain.skill_index import SkillIndex

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


async def _proposed_to(m: Matching, requester: str) -> str | None:
    request_id = await m.ask(requester, "python", 2)
    request = await m.requests.load(request_id)
    assert request is not None
    return request.proposals[-1].helper_id if request.proposals else None


async def test_one_off_matching_never_proposes_a_manager_or_a_report() -> None:
    m = Matching()
    await m.person("ceo", teaches="python", level=5, team="x")
    await m.person("boss", teaches="python", level=5, team="x", manager_id="ceo")
    await m.person("lea", teaches="python", level=5, team="x", manager_id="boss")
    await m.person("intern", teaches="python", level=5, team="x", manager_id="lea")
    await m.person("peer", teaches="python", level=3, team="y")
    assert await _proposed_to(m, "lea") == "peer"


async def test_one_off_matching_with_only_the_reporting_line_offering_says_so() -> None:
    m = Matching()
    await m.person("boss", teaches="python", level=5)
    await m.person("lea", manager_id="boss")
    request_id = await m.ask("lea", "python", 2)
    request = await m.requests.load(request_id)
    assert request is not None and request.state == "unmatched"
    assert request.unmatched_detail is not None
    assert "reporting line" in request.unmatched_detail


async def test_never_again_holds_both_ways_and_only_the_asker_sees_whom_they_named() -> None:
    m = Matching()
    await m.person("tom", teaches="python", level=5)
    await m.person("ann", teaches="python", level=3)
    await m.person("lea", teaches="python", level=5)
    assert await m.rules.not_again("tom", "lea", NOW) == ["lea"]
    assert await m.rules.not_again("tom", "lea", NOW) == ["lea"]  # asking twice: one block
    assert await m.rules.asked_by("lea") == []
    # Lea never gets Tom (he asked), although he is the best fit.
    assert await _proposed_to(m, "lea") == "ann"


async def test_erasure_forgets_the_blocks_a_person_asked_for_and_those_naming_them() -> None:
    m = Matching()
    await m.person("tom", teaches="python", level=5)
    await m.person("lea")
    await m.rules.not_again("lea", "tom", NOW)
    await m.use_cases.forget_person("lea")
    assert m.blocks.blocks == {}


@st.composite
def organisations(draw: st.DrawFn) -> tuple[list[Person], dict[str, int], set[tuple[str, str]]]:
    """People with a manager forest (each manager comes earlier), capacities, blocks."""
    n = draw(st.integers(4, 30))
    people: list[Person] = []
    for i in range(n):
        manager = draw(st.one_of(st.none(), st.integers(0, i - 1))) if i else None
        people.append(
            Person(
                f"p{i:02d}",
                f"t{draw(st.integers(0, 3))}",
                None if manager is None else f"p{manager:02d}",
            )
        )
    capacity = {p.person_id: draw(st.integers(0, 3)) for p in people}
    ids = [p.person_id for p in people]
    blocks = draw(st.sets(st.tuples(st.sampled_from(ids), st.sampled_from(ids)), max_size=10))
    return people, capacity, blocks


@given(organisations(), st.data())
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_every_programme_pair_respects_capacity_and_the_manager_rule(
    org_data: tuple[list[Person], dict[str, int], set[tuple[str, str]]], data: st.DataObject
) -> None:
    people, capacity, blocks = org_data
    org = Org.of(people, blocks)
    index = SkillIndex()
    for p in people:
        level = data.draw(st.integers(1, 5))
        index.put(
            Candidate(
                p.person_id,
                team=p.team,
                manager_id=p.manager_id,
                offers={"kafka": Offer("kafka", level, True, 10)},
            )
        )
    mentees = data.draw(
        st.lists(st.sampled_from([p.person_id for p in people]), unique=True, min_size=1)
    )
    found = candidate_pairs(
        [Mentee(m, "kafka", 1, org.team(m)) for m in mentees],
        index,
        weights=Weights(),
        now=NOW,
        top_k=10,
        org=org,
    )
    assignment = solve(Problem(found.pairs, capacity, reasons=found.reasons))

    loads = assignment.loads()
    assert all(loads[mentor] <= capacity[mentor] for mentor in loads)
    for match in assignment.matches:
        assert match.mentee_id != match.mentor_id
        assert match.mentor_id not in org.managers(match.mentee_id)
        assert match.mentee_id not in org.managers(match.mentor_id)
        assert not org.asked_not_again(match.mentee_id, match.mentor_id)
    assert len(assignment.matches) + len(assignment.unassigned) == len(mentees)


@given(organisations())
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_every_one_off_match_respects_the_reporting_line_and_never_again(
    org_data: tuple[list[Person], dict[str, int], set[tuple[str, str]]],
) -> None:
    people, _capacity, blocks = org_data
    org = Org.of(people, blocks)

    async def run() -> None:
        m = Matching()
        for p in people:
            await m.person(
                p.person_id, teaches="python", level=4, team=p.team, manager_id=p.manager_id
            )
        for a, b in blocks:
            if a != b:
                await m.rules.not_again(a, b, NOW)
        for p in people:
            helper = await _proposed_to(m, p.person_id)
            if helper is not None:
                assert not org.in_reporting_line(p.person_id, helper)
                assert not org.asked_not_again(p.person_id, helper)

    asyncio.run(run())
