"""Profiles' skill evidence in matching: kept per skill, decayed, explained, weighted."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from matching_builders import NOW, person, requester
from matching_fakes import META, Matching
from peerloop_contracts.profiles import SkillEvidenceChanged
from peerloop_matching.domain.availability import week_mask, week_start
from peerloop_matching.domain.candidate import Evidence, Hours
from peerloop_matching.domain.scoring import Scored, Weights, evidence_value, score

from .test_state_records import _state

UTC_MASK = week_mask("UTC", Hours(), week_start(NOW))


@pytest.fixture
def m() -> Matching:
    return Matching()


def _changed(pid: str, seq: int, score_: float, taught: int = 3) -> SkillEvidenceChanged:
    return SkillEvidenceChanged(
        person_id=pid,
        skill_id="python",
        skill_name="Python",
        score=score_,
        as_of=NOW,
        half_life_days=365,
        evidence_level=2,
        sessions_taught=taught,
        endorsements=2,
        ratings=1,
        mean_rating=5,
        learned=False,
        sequence=seq,
    )


async def test_evidence_is_kept_per_skill_and_an_older_one_does_not_replace_it(
    m: Matching,
) -> None:
    await m.projection.on_skill_evidence_changed(_changed("p", 5, 2.4), META)
    await m.projection.on_skill_evidence_changed(_changed("p", 4, 1.0, taught=1), META)
    candidate = await m.candidates.get("p")
    assert candidate is not None
    assert candidate.evidence["python"] == Evidence(
        score=2.4, as_of=NOW, half_life_days=365, sessions_taught=3, endorsements=2
    )


async def test_the_person_state_is_no_floor_for_evidence(m: Matching) -> None:
    # The state, written with the evidence event in one write, carries no evidence and
    # the same sequence; it may come first.
    await m.projection.on_person_state(_state("p", 7, ("python", 4)), META)
    await m.projection.on_skill_evidence_changed(_changed("p", 7, 2.4), META)
    candidate = await m.candidates.get("p")
    assert candidate is not None
    assert candidate.evidence["python"].sessions_taught == 3
    indexed = m.index.get("p")
    assert indexed is not None
    assert "python" in indexed.evidence


def _score(evidence: Evidence | None, weights: Weights, age: timedelta = timedelta(0)) -> Scored:
    helper = person(skill="python", level=4)
    if evidence is not None:
        helper = replace(helper, evidence={"python": evidence})
    return score(
        helper,
        offered_skill="python",
        requested_skill="python",
        desired_level=3,
        requester=requester(mask=UTC_MASK),
        helper_mask=UTC_MASK,
        weights=weights,
        now=NOW + age,
    )


def _component(scored: Scored) -> tuple[float, str]:
    c = next(c for c in scored.components if c.name == "evidence")
    return c.value, c.explanation


SHOWN = Evidence(score=2.5, as_of=NOW, half_life_days=365, sessions_taught=3, endorsements=2)


@pytest.mark.parametrize(
    ("evidence", "age_days", "value", "sentence"),
    [
        (None, 0, 0.0, "no evidence yet of teaching python"),
        (SHOWN, 0, 0.5, "taught python 3 times, endorsed by 2 (evidence 2.50)"),
        (SHOWN, 365, 1.25 / 3.75, "taught python 3 times, endorsed by 2 (evidence 1.25)"),
        (
            replace(SHOWN, sessions_taught=1, endorsements=0, score=1.0),
            0,
            1 / 3.5,
            "taught python once, endorsed by 0 (evidence 1.00)",
        ),
    ],
)
def test_the_why_says_what_was_taught_decayed_to_now(
    evidence: Evidence | None, age_days: int, value: float, sentence: str
) -> None:
    got_value, got_sentence = _component(_score(evidence, Weights(), timedelta(days=age_days)))
    assert got_value == pytest.approx(value)
    assert got_sentence == sentence


def test_the_evidence_weight_is_zero_by_default_and_ranks_when_set() -> None:
    default = Weights()
    assert _score(SHOWN, default).score == _score(None, default).score
    heavy = Weights(evidence=0.2)
    assert _score(SHOWN, heavy).score == pytest.approx(_score(None, heavy).score + 0.2 * 0.5)


@pytest.mark.parametrize(("score_", "value"), [(0, 0), (-1, 0), (2.5, 0.5), (7.5, 0.75)])
def test_evidence_value_saturates(score_: float, value: float) -> None:
    assert evidence_value(score_) == pytest.approx(value)
