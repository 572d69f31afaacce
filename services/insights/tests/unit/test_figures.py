"""The aggregation rules, table-driven: small facts whose figures are known by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from peerloop_insights.domain.facts import ERASED, Facts, PersonFacts, RequestFacts
from peerloop_insights.domain.figures import report
from peerloop_insights.domain.privacy import Cell

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
DAY = timedelta(days=1)


def org(teams: dict[str, str], offers: dict[str, list[str]] | None = None) -> Facts:
    facts = Facts()
    for token, team in teams.items():
        facts.merge_person(token, PersonFacts(team=(1, team)))
    for token, skills in (offers or {}).items():
        facts.merge_person(
            token,
            PersonFacts(
                offers=dict.fromkeys(skills, (2, True)),
                first_offered=dict.fromkeys(skills, NOW - 60 * DAY),
            ),
        )
    return facts


def session(
    facts: Facts,
    rid: str,
    learner: str,
    teacher: str,
    skill: str,
    days_ago: float,
    rating: int | None = None,
) -> None:
    done = NOW - timedelta(days=days_ago)
    facts.merge_request(
        rid,
        RequestFacts(
            requester=learner, learner=learner, teacher=teacher, skill=skill,
            requested_at=done - timedelta(hours=5), proposed_at=done - timedelta(hours=5) + timedelta(minutes=10),
            accepted_at=done - timedelta(hours=4), completed_at=done, state=(4, "completed"),
            teacher_rating=(5, rating) if rating else None,
        ),
    )  # fmt: skip


def five_billing_learn_from_five_platform() -> Facts:
    learners = {f"l{i}": "billing" for i in range(5)}
    teachers = {f"t{i}": "platform" for i in range(5)}
    facts = org(learners | teachers, {t: ["go"] for t in teachers})
    for i in range(5):
        session(facts, f"r{i}", f"l{i}", f"t{i}", "go", days_ago=2, rating=4 + i % 2)
    return facts


@pytest.mark.parametrize(
    ("window", "k", "sessions"),
    [
        ("7d", 5, Cell(5, 10)),
        ("all", 5, Cell(5, 10)),
        ("7d", 11, Cell(None, None)),  # ten people behind the figure: fewer than k=11
    ],
)
def test_team_flow_cells_are_counted_and_suppressed_below_k(window, k, sessions):
    figures = report(
        five_billing_learn_from_five_platform(), window=window, team=None, k=k, now=NOW
    )
    shown = [(f.teacher_team, f.learner_team, f.sessions) for f in figures.flows]
    assert shown == ([("platform", "billing", sessions)] if not sessions.suppressed else [])
    assert figures.suppressed_flows == (1 if sessions.suppressed else 0)


def test_sessions_outside_the_window_do_not_count():
    facts = five_billing_learn_from_five_platform()
    assert report(
        facts, window="7d", team=None, k=5, now=NOW + 10 * DAY
    ).outcomes.completed == Cell(None, None)
    assert report(
        facts, window="30d", team=None, k=5, now=NOW + 10 * DAY
    ).outcomes.completed == Cell(5, 10)


def test_demand_and_supply_per_skill_with_times_to_proposal_and_session():
    figures = report(five_billing_learn_from_five_platform(), window="30d", team=None, k=5, now=NOW)
    (go,) = figures.skills
    assert (go.skill, go.requests, go.offerers) == ("go", Cell(5, 5), Cell(5, 5))
    assert go.minutes_to_first_proposal == Cell(10.0, 5)
    assert go.minutes_to_session == Cell(60.0, 5)
    assert go.unmatched == Cell(None, None)  # nobody: a zero describes no one either


def test_a_skill_row_entirely_below_k_is_left_out_and_counted():
    facts = five_billing_learn_from_five_platform()
    facts.merge_request(
        "lonely",
        RequestFacts(requester="l0", skill="cobol", requested_at=NOW - DAY, state=(2, "unmatched")),
    )
    figures = report(facts, window="30d", team=None, k=5, now=NOW)
    assert [s.skill for s in figures.skills] == ["go"]
    assert figures.suppressed_skills == 1


def test_ratings_are_a_distribution_and_a_mean_never_per_person():
    outcomes = report(
        five_billing_learn_from_five_platform(), window="30d", team=None, k=2, now=NOW
    ).outcomes
    nobody = Cell(None, None)
    assert [(b.stars, b.ratings) for b in outcomes.ratings] == [
        (1, nobody), (2, nobody), (3, nobody), (4, Cell(3, 3)), (5, Cell(2, 2)),
    ]  # fmt: skip
    assert outcomes.mean_rating == Cell(4.4, 5)


@pytest.mark.parametrize(
    ("helpers", "top_shown"),
    [(5, False), (40, False), (41, True)],  # the top 10 % must be k people themselves
)
def test_helper_load_gini_and_top_decile(helpers, top_shown):
    teams = {f"t{i}": "platform" for i in range(helpers)} | {
        f"l{i}": "billing" for i in range(helpers)
    }
    facts = org(teams, {f"t{i}": ["go"] for i in range(helpers)})
    for i in range(helpers):
        session(facts, f"r{i}", f"l{i}", "t0" if i % 2 else f"t{i}", "go", days_ago=1)
    load = report(facts, window="7d", team=None, k=5, now=NOW).helper_load
    assert load.helpers == Cell(helpers, helpers)
    assert load.gini.value is not None and 0 < load.gini.value < 1
    assert (load.top_decile_share.value is not None) is top_shown


def test_teach_back_learned_then_offered_then_taught():
    facts = org({f"p{i}": "data" for i in range(12)})
    for i in range(6):
        facts.merge_person(f"p{i}", PersonFacts(acquired={"go": NOW - 20 * DAY}))
    for i in range(5):  # five of the six offer it on, all five teach it
        facts.merge_person(
            f"p{i}", PersonFacts(offers={"go": (3, True)}, first_offered={"go": NOW - 19 * DAY})
        )
        session(facts, f"r{i}", f"p{i + 6}", f"p{i}", "go", days_ago=5)
    tb = report(facts, window="30d", team=None, k=5, now=NOW).teach_back
    assert (tb.learned, tb.offered, tb.taught) == (Cell(6, 6), Cell(5, 5), Cell(5, 5))


def test_a_team_filter_keeps_that_teams_side_only():
    facts = five_billing_learn_from_five_platform()
    billing = report(facts, window="30d", team="billing", k=5, now=NOW)
    assert billing.skills[0].requests == Cell(5, 5)
    assert billing.skills[0].offerers == Cell(None, None)  # the helpers are in platform
    assert report(facts, window="30d", team="search", k=5, now=NOW).outcomes.completed == Cell(
        None, None
    )


def test_an_erased_person_counts_in_totals_but_not_as_a_person():
    facts = five_billing_learn_from_five_platform()
    facts.merge_request("r0", RequestFacts(learner=ERASED))
    outcomes = report(facts, window="30d", team=None, k=5, now=NOW).outcomes
    assert outcomes.completed == Cell(5, 9)


def test_the_trend_is_weekly_over_the_window():
    trend = report(
        five_billing_learn_from_five_platform(), window="30d", team=None, k=5, now=NOW
    ).trend
    assert len(trend) in (5, 6)
    assert [p.sessions for p in trend if not p.sessions.suppressed] == [Cell(5, 10)]
