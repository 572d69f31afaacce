import json

import pytest
from peerloop_contracts.catalogue import ALL_EVENTS, BY_CE_TYPE, BY_TOPIC
from peerloop_contracts.matching import HelpRequested, MatchProposed, ScoreComponent
from peerloop_contracts.profiles import SkillOffered
from peerloop_runtime.outbox import outbox_entry
from pydantic import ValidationError


def _offer(**extra: object) -> SkillOffered:
    return SkillOffered(
        person_id="p-1",
        skill_id="mongodb",
        skill_name="MongoDB",
        level=4,
        weekly_capacity=2,
        sequence=3,
        **extra,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("event", "topic", "ce_type"),
    [
        (SkillOffered, "peerloop.skill-offered.v1", "io.peerloop.skill-offered.v1"),
        (HelpRequested, "peerloop.help-requested.v1", "io.peerloop.help-requested.v1"),
        (MatchProposed, "peerloop.match-proposed.v1", "io.peerloop.match-proposed.v1"),
    ],
)
def test_topic_and_type_naming(event, topic, ce_type):
    assert event.topic() == topic
    assert event.ce_type() == ce_type


def test_catalogue_has_one_entry_per_type_and_topic():
    assert len(BY_CE_TYPE) == len(ALL_EVENTS) == len(BY_TOPIC)


def test_producer_is_strict_about_unknown_fields():
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        _offer(colour="blue")


@pytest.mark.parametrize(
    ("field", "value"),
    [("level", 0), ("level", 6), ("weekly_capacity", -1), ("skill_id", "Not Canonical")],
)
def test_producer_rejects_out_of_range(field: str, value: object):
    data = json.loads(_offer().to_json()) | {field: value}
    with pytest.raises(ValidationError, match=field):
        SkillOffered.model_validate(data)


def test_consumer_ignores_fields_a_newer_producer_added_at_every_depth():
    proposed = MatchProposed(
        request_id="r-1",
        requester_id="p-2",
        proposal_id="pr-1",
        helper_id="p-1",
        skill_id="mongodb",
        task="tune an aggregation",
        score=0.8,
        breakdown=[
            ScoreComponent(
                name="skill_fit", weight=0.4, value=1.0, contribution=0.4, explanation="exact"
            )
        ],
        attempt=1,
        expires_at="2026-12-01T10:00:00Z",  # type: ignore[arg-type]
        sequence=2,
    )
    data = json.loads(proposed.to_json())
    data["added_in_v1_1"] = "x"
    data["breakdown"][0]["also_new"] = 1
    assert MatchProposed.decode(json.dumps(data)) == proposed
    with pytest.raises(ValidationError):
        MatchProposed.model_validate(data)


def test_consumer_still_requires_known_required_fields():
    data = json.loads(_offer().to_json())
    del data["level"]
    with pytest.raises(ValidationError, match="level"):
        SkillOffered.decode(json.dumps(data))


def test_outbox_entry_carries_key_headers_and_body():
    entry = outbox_entry(_offer(), traceparent=None)
    assert entry.topic == "peerloop.skill-offered.v1"
    assert entry.key == "p-1"
    assert entry.headers["ce_id"] == entry.id
    assert entry.headers["ce_subject"] == "p-1"
    assert entry.headers["ce_source"] == "peerloop/profiles"
    assert entry.headers["ce_type"] == "io.peerloop.skill-offered.v1"
    assert SkillOffered.decode(entry.value) == _offer()
