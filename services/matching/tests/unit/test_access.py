"""Who may read a help request, and what each reader sees of it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from peerloop_matching.domain.help_request import Feedback, HelpRequest, Proposal, Session
from peerloop_matching.entrypoints.access import reader_of
from peerloop_matching.entrypoints.views import request_view, why_view
from peerloop_runtime.auth import Forbidden, Principal

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def person(person_id: str, *, admin: bool = False) -> Principal:
    return Principal(f"sub-{person_id}", person_id, admin, frozenset(), "peerloop-cli")


def _proposal(n: int, helper: str, status: str) -> Proposal:
    return Proposal(
        proposal_id=f"r-1.p{n}",
        attempt=n,
        helper_id=helper,
        skill_id="python",
        score=0.5,
        breakdown=[],
        status=status,  # type: ignore[arg-type]
        proposed_at=NOW,
        expires_at=NOW + timedelta(days=1),
    )


REQUEST = HelpRequest(
    request_id="r-1",
    sequence=7,
    version=9,
    state="accepted",
    requester_id="lea",
    skill_id="python",
    desired_level=3,
    task="a flaky test",
    created_at=NOW,
    proposals=[_proposal(1, "hal", "declined"), _proposal(2, "tom", "accepted")],
    session=Session(session_id="s-1", learner_id="lea", teacher_id="tom", skill_id="python"),
)


@pytest.mark.parametrize(
    ("caller", "proposals", "sees_session"),
    [
        (person("lea"), ["hal", "tom"], True),
        (person("tom"), ["tom"], True),
        (person("hal"), ["hal"], False),
        (person("root", admin=True), ["hal", "tom"], True),
    ],
)
def test_each_reader_sees_their_part(
    caller: Principal, proposals: list[str], sees_session: bool
) -> None:
    view = request_view(REQUEST, reader_of(REQUEST, caller))
    assert [p.helper_id for p in view.proposals] == proposals
    assert [w.helper_id for w in why_view(REQUEST, reader_of(REQUEST, caller))] == proposals
    assert (view.session is not None) is sees_session
    assert "sequence" not in view.model_dump()
    assert view.version == 9


@pytest.mark.parametrize(
    "caller",
    [person("eve"), Principal("sub-svc", None, False, frozenset({"insights:read"}), "svc")],
)
def test_strangers_and_machines_are_refused(caller: Principal) -> None:
    with pytest.raises(Forbidden, match="visible to its requester, its proposed helpers"):
        reader_of(REQUEST, caller)


RATED = REQUEST.model_copy(
    update={
        "state": "completed",
        "session": Session(
            session_id="s-1",
            learner_id="lea",
            teacher_id="tom",
            skill_id="python",
            feedback={
                "learner": Feedback(rating=5, comment="tom was patient", given_at=NOW),
                "teacher": Feedback(rating=4, comment="lea came prepared", given_at=NOW),
            },
        ),
    }
)


@pytest.mark.parametrize(
    ("caller", "comments"),
    [
        (person("lea"), {"learner": "tom was patient", "teacher": "lea came prepared"}),
        (person("tom"), {"learner": "tom was patient", "teacher": "lea came prepared"}),
        (person("root", admin=True), {"learner": None, "teacher": None}),
    ],
)
def test_feedback_comments_are_read_only_by_the_pair(
    caller: Principal, comments: dict[str, str | None]
) -> None:
    view = request_view(RATED, reader_of(RATED, caller))
    assert view.session is not None
    assert {r: f.comment for r, f in view.session.feedback.items()} == comments
    assert {r: f.rating for r, f in view.session.feedback.items()} == {"learner": 5, "teacher": 4}
    assert RATED.session is not None and RATED.session.feedback["learner"].comment  # untouched


def test_the_api_documents_its_views_and_no_store_bookkeeping(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PEERLOOP_AUTH__ISSUER", "http://identity.invalid/realms/peerloop")
    monkeypatch.setenv("PEERLOOP_AUTH__AUDIENCE", "peerloop")
    from peerloop_matching.entrypoints.http import create_app

    spec = create_app().openapi()
    answers = {
        f"{method.upper()} {path}": op["responses"]
        for path, ops in spec["paths"].items()
        if path.startswith("/help-requests")
        for method, op in ops.items()
    }
    assert len(answers) == 12
    for route, responses in answers.items():
        ok = next(v for k, v in responses.items() if k.startswith("2"))
        schema = ok["content"]["application/json"]["schema"]
        ref = schema.get("$ref") or schema["items"]["$ref"]
        assert ref.rsplit("/", 1)[1] in {"HelpRequestView", "WhyThisMatch", "SlotsView"}, route
    schemas = spec["components"]["schemas"]
    assert all("sequence" not in s.get("properties", {}) for s in schemas.values())
