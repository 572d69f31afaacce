"""Skills inferred from the task's words: the pure ranking, and the real offline model."""

from __future__ import annotations

import numpy as np
import pytest
from peerloop_contracts.skills import Skill, SkillCatalogue
from peerloop_matching.adapters.e5_embedder import E5Embedder
from peerloop_matching.application.task_text import TaskSkills
from peerloop_matching.domain.task_skills import (
    InferenceWeights,
    SkillVectors,
    keyword_baseline,
    skill_passage,
)
from peerloop_matching.entrypoints.schemas import NewHelpRequestIn
from pydantic import ValidationError

K8S = Skill("kubernetes", "Kubernetes", ("k8s",), (), description="pods and deployments")
BOOKS = Skill("accounting", "Accounting", ("bookkeeping",), (), description="ledgers, accruals")
LAW = Skill("contract-law", "Contract law", (), (), description="clauses, NDAs, liability")


def _unit(*values: float) -> np.ndarray:
    v = np.asarray(values, dtype=np.float32)
    return v / np.linalg.norm(v)


def test_the_closest_skill_comes_first_and_a_named_one_gets_its_bonus() -> None:
    vectors = SkillVectors([K8S, BOOKS], np.stack([_unit(1, 0), _unit(0.8, 0.6)]))
    task = _unit(0.9, 0.44)  # closer to accounting by meaning
    plain = vectors.infer("a task", task, InferenceWeights(named=0.0, floor=0.0), 5)
    assert [i.skill_id for i in plain] == ["accounting", "kubernetes"]
    named = vectors.infer("our k8s cluster", task, InferenceWeights(named=0.2, floor=0.0), 5)
    assert [(i.skill_id, i.named) for i in named] == [("kubernetes", True), ("accounting", False)]


def test_skills_below_the_floor_are_not_suggested() -> None:
    vectors = SkillVectors([K8S, BOOKS], np.stack([_unit(1, 0), _unit(0, 1)]))
    found = vectors.infer("x", _unit(1, 0.1), InferenceWeights(named=0.0, floor=0.5), 5)
    assert [i.skill_id for i in found] == ["kubernetes"]


def test_the_keyword_baseline_counts_shared_words() -> None:
    assert keyword_baseline("who knows accruals and the ledgers", [K8S, BOOKS, LAW], 3) == [
        "accounting"
    ]
    assert keyword_baseline("nothing in common", [K8S, BOOKS], 3) == []


def test_a_skill_is_embedded_as_its_name_aliases_and_description() -> None:
    assert skill_passage(K8S) == "Kubernetes (k8s) pods and deployments"


@pytest.fixture(scope="module")
def model() -> TaskSkills:
    return TaskSkills(E5Embedder(threads=1), SkillCatalogue([K8S, BOOKS, LAW]))


@pytest.mark.parametrize(
    ("task", "skill"),
    [
        ("our pods keep getting OOMKilled after the deploy", "kubernetes"),
        ("month-end accruals are always late and the books never balance", "accounting"),
        ("the supplier wants unlimited liability in the agreement", "contract-law"),
    ],
)
def test_the_offline_model_infers_the_skill_a_task_needs(
    model: TaskSkills, task: str, skill: str
) -> None:
    found = model.suggest(task, limit=3)
    assert found.skills[0].skill_id == skill
    assert found.model_id.startswith("multilingual-e5-small")


def test_closeness_ranks_the_offer_that_describes_the_task_first(model: TaskSkills) -> None:
    close, far = model.closeness(
        "the Mongo aggregation got slow after the index change",
        ["aggregation pipelines and indexes in MongoDB", "payroll and payslips"],
    )
    assert close > far


def test_a_request_may_name_no_skill_but_a_named_one_is_still_checked() -> None:
    body = NewHelpRequestIn.model_validate({"desired_level": 2, "task": "pods OOMKilled"})
    assert body.skill is None
    with pytest.raises(ValidationError, match="is not a skill name"):
        NewHelpRequestIn.model_validate({"skill": "!!!", "desired_level": 2, "task": "x"})


def test_a_long_task_is_cut_to_its_token_budget_filler_first_then_its_last_words() -> None:
    embedder = E5Embedder(threads=1, query_tokens=12)
    model = embedder.load()
    short = "pods OOMKilled"
    assert embedder.cut(short) == short
    assert embedder.cut("the pods of the cluster in the night") == "pods cluster night"
    pasted = "kubectl rollout fails " + "with a very long stack trace line " * 40
    cut = embedder.cut(pasted)
    assert pasted.startswith(cut.split()[0]) and model.token_count(cut, True) <= 12
    assert len(cut.split()) >= 3


class _CountingEmbedder:
    """Letter counts as vectors: enough to see which texts get embedded, and when."""

    model_id = "counting"

    def __init__(self) -> None:
        self.embedded: list[str] = []

    def _vector(self, text: str) -> np.ndarray:
        v = np.asarray([text.lower().count(c) + 0.01 for c in "abcdefghijklmnop"], np.float32)
        return v / np.linalg.norm(v)

    def query(self, text: str) -> np.ndarray:
        return self._vector(text)

    def passages(self, texts: list[str]) -> np.ndarray:  # type: ignore[override]
        self.embedded.extend(texts)
        return np.stack([self._vector(t) for t in texts])


def test_a_skill_defined_at_run_time_becomes_suggestable_and_only_it_is_embedded() -> None:
    embedder = _CountingEmbedder()
    catalogue = SkillCatalogue([K8S, BOOKS])
    model = TaskSkills(embedder, catalogue)
    assert len(embedder.embedded) == 2
    task = "reverse a posting in our acme-ledger"
    assert "acme-ledger" not in [s.skill_id for s in model.suggest(task).skills]
    catalogue.define(Skill("acme-ledger", "Acme Ledger", ("ledger",), (), source="organisation"))
    found = model.suggest(task).skills
    assert found[0].skill_id == "acme-ledger" and found[0].named
    assert embedder.embedded[2:] == ["Acme Ledger (ledger)"]
    catalogue.undefine("acme-ledger")
    assert "acme-ledger" not in [s.skill_id for s in model.suggest(task).skills]
