from peerloop_web.context import TEMPLATES
from peerloop_web.inbox_routes import link_of
from peerloop_web.presenting import (
    OPEN_STATES,
    STATE_WORDS,
    bars,
    now_pending,
    role_of,
    shown,
    skill_choices,
    skill_name,
)


def test_bars_compare_across_components_and_show_penalties():
    drawn = bars(
        [
            {
                "name": "skill_fit",
                "weight": 0.3,
                "value": 1,
                "contribution": 0.3,
                "explanation": "x",
            },
            {
                "name": "cross_team",
                "weight": 0.1,
                "value": 1,
                "contribution": 0.1,
                "explanation": "",
            },
            {
                "name": "repeat_pairing",
                "weight": -0.1,
                "value": 1,
                "contribution": -0.1,
                "explanation": "",
            },
        ]
    )
    assert [b.percent for b in drawn] == [100, 33, 33]
    assert [b.negative for b in drawn] == [False, False, True]
    assert drawn[0].label == "Knows the skill"


def test_type_ahead_offers_aliases_with_the_skill_they_mean():
    choices = {c.value: c.label for c in skill_choices()}
    assert choices["k8s"] == "Kubernetes (kubernetes)"
    assert choices["Kubernetes"] == "kubernetes"


def test_who_is_asked_now_and_my_part_in_a_session():
    request = {
        "proposals": [
            {"helper_id": "a", "status": "declined"},
            {"helper_id": "b", "status": "pending"},
        ]
    }
    assert now_pending(request) == {"helper_id": "b", "status": "pending"}
    assert now_pending({"proposals": [{"helper_id": "a", "status": "declined"}]}) is None
    session = {"learner_id": "l", "teacher_id": "t"}
    assert (role_of(session, "l"), role_of(session, "t"), role_of(session, "x")) == (
        "learner",
        "teacher",
        None,
    )


def test_inbox_items_link_to_the_page_to_act_on():
    proposed = {"kind": "match-proposed", "links": {"request_id": "r-1", "proposal_id": "p-2"}}
    assert link_of(proposed) == "/requests/r-1/proposals/p-2"
    assert link_of({"kind": "session-completed", "links": {"request_id": "r-1"}}) == (
        "/requests/r-1/session"
    )
    # Items written before links existed, or about no request, lead nowhere.
    assert link_of({"kind": "match-proposed", "links": {}}) is None
    assert link_of({"kind": "feedback-received", "links": {"session_id": "s-1"}}) is None
    invitation = {"kind": "teach-back-invitation", "links": {"skill_id": "go", "level": 2}}
    assert link_of(invitation) == "/profile?offer=go&level=2#skills"


def test_times_typed_are_read_in_the_persons_time_zone():
    from datetime import UTC, date

    from peerloop_web.presenting import end_of_day, local_moment, shown

    assert local_moment("2026-12-03T10:30", "Europe/Berlin").astimezone(UTC).hour == 9
    assert end_of_day(date(2026, 12, 3), "Asia/Tokyo").isoformat() == "2026-12-03T23:59:00+09:00"
    # An unknown zone is not an error for the person: UTC.
    assert local_moment("2026-12-03T10:30", "Mars/Olympus").utcoffset().total_seconds() == 0
    assert shown("2026-12-03T09:30:00+00:00", "Europe/Berlin") == "Thu 03 Dec 2026, 10:30 (CET)"


def test_a_waiting_request_says_why_and_until_when():
    assert "waiting" in OPEN_STATES  # the requester can still cancel it
    request = {
        "request_id": "r-1",
        "state": "waiting",
        "skill_id": "kubernetes",
        "waiting_reason": "all_away",
        "waiting_detail": None,
        "wait_until": "2026-12-16T10:00:00+00:00",
        "proposals": [],
        "session": None,
    }
    html = TEMPLATES.get_template("_request_live.html").render(
        req=request,
        pending=None,
        role=None,
        names={},
        tz="UTC",
        state_words=STATE_WORDS,
        skill_name=skill_name,
        bars=bars,
        shown=shown,
    )
    assert "Waiting for someone who can help" in html
    assert "Nobody can take it right now (all away)" in html
    assert "by Wed 16 Dec 2026, 10:00 (UTC)" in html
