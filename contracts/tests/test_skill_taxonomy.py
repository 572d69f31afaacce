"""The ESCO layer under the curated catalogue, type-ahead search, and the ESCO importer."""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

import pytest
from peerloop_contracts.skills import (
    BROADER_WEIGHT,
    RELATED_WEIGHT,
    Skill,
    SkillCatalogue,
    default_catalogue,
    esco_version,
)

sys.path.insert(0, str(Path(__file__).parents[1] / "tools"))
import import_esco


def test_the_shipped_catalogue_has_the_curated_layer_on_top_of_esco() -> None:
    catalogue = default_catalogue()
    assert len(catalogue.skills("esco")) > 800
    assert len(catalogue.skills("peerloop")) >= 80
    sql = catalogue.get("sql")
    assert sql is not None and sql.source == "peerloop"
    assert sql.uri.startswith("http://data.europa.eu/esco/skill/")  # ESCO's SQL merged in
    assert catalogue.canonical("SEQUEL") == "sql"  # an ESCO alternative label
    assert esco_version().startswith("esco-1-ict+")


def test_relations_carry_their_documented_weights() -> None:
    catalogue = default_catalogue()
    assert ("kotlin", 0.5) in catalogue.relations("java")
    weighted = [
        (s.id, rel)
        for s in catalogue.skills("esco")
        for rel in catalogue.relations(s.id)
        if rel[1] != BROADER_WEIGHT
    ]
    assert weighted, "ESCO occupations relate some skills"
    assert all(0 < w <= RELATED_WEIGHT for _, (_, w) in weighted)
    assert all(
        (b, BROADER_WEIGHT) in catalogue.relations(s.id)
        for s in catalogue.skills("esco")
        for b in s.broader
    )


@pytest.mark.parametrize(
    ("query", "first", "matched"),
    [
        ("kube", "kubernetes", "kube"),
        ("K8S", "kubernetes", "k8s"),
        ("postgr", "postgresql", "postgres"),
        ("spring boot", "spring", "spring-boot"),
        ("kubernets", "kubernetes", "kubernetes"),  # a typo still finds it
        ("gdpr", "data-protection", "gdpr"),
    ],
)
def test_type_ahead_ranks_names_and_aliases(query: str, first: str, matched: str) -> None:
    found = default_catalogue().search(query, limit=5)
    assert found[0].skill.id == first
    assert found[0].matched == matched


def test_type_ahead_prefers_a_curated_skill_over_esco_and_is_bounded() -> None:
    found = default_catalogue().search("pyth", limit=2)
    assert [s.skill.source for s in found] == ["peerloop", "esco"]
    assert default_catalogue().search("zzzzqx") == []


def test_an_organisation_skill_is_added_and_an_alias_never_steals_another_skills_name() -> None:
    catalogue = SkillCatalogue([Skill(id="python", name="Python", aliases=("py",), related=())])
    added = catalogue.add(
        Skill(
            id="billing-engine",
            name="Billing engine",
            aliases=("be", "py"),
            related=("python",),
            source="organisation",
        )
    )
    assert added.id == "billing-engine"
    assert catalogue.canonical("BE") == "billing-engine"
    assert catalogue.canonical("py") == "python"
    assert catalogue.search("bill")[0].skill.id == "billing-engine"
    merged = catalogue.add(Skill(id="python", name="Python", aliases=("cpython",), related=()))
    assert merged.aliases == ("py", "cpython") and catalogue.canonical("cpython") == "python"


def _wheel_folder(tmp_path: Path) -> Path:
    group = "http://data.europa.eu/esco/isced-f/06"
    a, b, c = (f"http://data.europa.eu/esco/skill/{n}" for n in ("a", "b", "c"))
    rows = [
        {
            "uri": a,
            "label": "Haskell",
            "altLabel": "haskell programming",
            "category": group,
            "skillType": "knowledge",
            "description": "x",
        },
        {
            "uri": b,
            "label": "OCaml",
            "altLabel": "OCaml",
            "category": group,
            "skillType": "knowledge",
            "description": "y",
        },
        {
            "uri": c,
            "label": "Elm",
            "altLabel": "elm",
            "category": group,
            "skillType": "knowledge",
            "description": "z",
        },
    ]
    skills = [
        {
            "uri": u,
            "label": lbl,
            "altLabel": [],
            "description": f"{lbl}  programming",
            "skillType": "knowledge",
        }
        for u, lbl in ((a, "Haskell"), (b, "OCaml"), (c, "Elm"))
    ]
    occupations = [{"uri": f"o{i}", "s": [a, b] + ([c] if i == 0 else [])} for i in range(3)]
    folder = tmp_path / "esco"
    folder.mkdir()
    for name, data in (
        ("esco.json.gz", rows),
        ("esco_s.json.gz", skills),
        ("esco_o.json.gz", occupations),
    ):
        (folder / name).write_bytes(gzip.compress(json.dumps(data).encode(), mtime=0))
    return tmp_path


def test_the_importer_is_deterministic_and_relates_skills_the_same_occupations_need(
    tmp_path: Path,
) -> None:
    source = _wheel_folder(tmp_path)
    out1, out2 = tmp_path / "1.json", tmp_path / "2.json"
    assert import_esco.main([str(source), "--out", str(out1)]) == 0
    assert import_esco.main([str(source), "--out", str(out2)]) == 0
    assert out1.read_bytes() == out2.read_bytes()
    data = json.loads(out1.read_text())
    haskell = next(s for s in data["skills"] if s["id"] == "haskell")
    assert haskell["aliases"] == ["haskell programming"]
    assert haskell["broader"] == ["information-and-communication-technologies-icts"]
    assert haskell["related"] == [["ocaml", RELATED_WEIGHT * 1.0]]  # 3 of 3 occupations
    assert haskell["description"] == "Haskell programming"
    elm = next(s for s in data["skills"] if s["id"] == "elm")
    assert elm["related"] == []  # one shared occupation is below the minimum
