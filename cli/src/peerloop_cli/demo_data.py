"""A realistic, deterministic demo organisation: people, teams, skills, open requests.

Pure data: the same seed gives the same organisation, so demos and tests can
refer to people by id.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

FIRST_NAMES = (
    "Ada",
    "Ben",
    "Chen",
    "Dana",
    "Emeka",
    "Fatima",
    "Goran",
    "Hana",
    "Ivan",
    "Jun",
    "Kofi",
    "Lena",
    "Mateo",
    "Nadia",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sven",
    "Tariq",
    "Uma",
    "Victor",
    "Wen",
    "Ximena",
    "Yusuf",
    "Zoe",
    "Aiko",
    "Bruno",
    "Carmen",
    "Dev",
)
LAST_NAMES = (
    "Okafor",
    "Schmidt",
    "Tanaka",
    "Silva",
    "Novak",
    "Haddad",
    "Kim",
    "Larsen",
    "Moreau",
    "Patel",
    "Rossi",
    "Nguyen",
    "Kowalski",
    "Garcia",
    "Ahmed",
    "Berg",
    "Costa",
    "Ivanova",
    "Mensah",
    "Lindqvist",
)

# team -> (time zones people of the team live in, skills the team is strong in)
TEAMS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "billing": (("Europe/London", "Europe/Berlin"), ("mongodb", "python", "sql", "kafka")),
    "payments": (("Europe/Berlin", "Europe/Warsaw"), ("java", "spring", "kafka", "security")),
    "platform": (("America/New_York", "Europe/Berlin"), ("kubernetes", "terraform", "aws", "go")),
    "data": (("Asia/Kolkata", "Europe/London"), ("python", "pandas", "sql", "statistics")),
    "mobile": (("America/Los_Angeles", "America/Sao_Paulo"), ("kotlin", "typescript", "react")),
    "web": (("America/New_York", "America/Sao_Paulo"), ("typescript", "react", "css", "nodejs")),
    "security": (("Europe/London", "Asia/Singapore"), ("security", "linux", "go", "bash")),
    "ml": (("Asia/Singapore", "Asia/Kolkata"), ("machine-learning", "python", "statistics")),
    "finance": (("Europe/London", "America/New_York"), ("excel", "financial-modelling", "sql")),
    "design": (("Europe/Berlin", "Australia/Sydney"), ("ux-design", "figma", "accessibility")),
}

WHAT_I_CAN_HELP_WITH: dict[str, str] = {
    "mongodb": "aggregation pipelines, index design, reading explain plans",
    "python": "async code, packaging, typing and testing",
    "sql": "query tuning, window functions, schema design",
    "kafka": "consumer groups, partitioning, exactly-once pitfalls",
    "java": "modern Java, concurrency, JVM tuning",
    "spring": "Spring Boot services, configuration, testing",
    "security": "threat modelling, OWASP top 10, secure code review",
    "kubernetes": "deployments, probes, debugging pods, Helm charts",
    "terraform": "modules, state management, safe refactors",
    "aws": "IAM, networking, cost reviews",
    "go": "idiomatic Go, goroutines, profiling",
    "pandas": "reshaping, joins, performance with large frames",
    "statistics": "experiment design, A/B test analysis",
    "kotlin": "coroutines, Android architecture",
    "typescript": "type-level modelling, strict mode migrations",
    "react": "state management, hooks, rendering performance",
    "css": "layout with grid and flexbox, design systems",
    "nodejs": "event loop, streams, debugging memory leaks",
    "linux": "troubleshooting, systemd, performance tools",
    "bash": "robust scripts, text processing",
    "machine-learning": "model evaluation, feature engineering",
    "excel": "pivot tables, lookups, clean models",
    "financial-modelling": "three-statement models, scenario analysis",
    "ux-design": "user research, journey maps, usability tests",
    "figma": "components, auto layout, prototyping",
    "accessibility": "WCAG audits, screen reader testing",
}

OPEN_REQUESTS = (
    ("mongodb", 3, "Tune a slow Mongo aggregation for the billing report by Friday"),
    ("kubernetes", 2, "Our service keeps failing its readiness probe after deploys"),
    ("statistics", 3, "Check my A/B test analysis before the pricing review"),
    ("typescript", 2, "Migrate the checkout module to strict mode without breaking it"),
    ("kafka", 3, "Understand why our consumer group keeps rebalancing"),
)


@dataclass(frozen=True)
class DemoOffer:
    skill_id: str
    level: int
    description: str
    weekly_capacity: int


@dataclass(frozen=True)
class DemoPerson:
    person_id: str
    display_name: str
    email: str
    team: str
    time_zone: str
    manager_id: str | None
    languages: tuple[str, ...]
    offers: tuple[DemoOffer, ...] = field(default_factory=tuple)
    weekly_capacity: int = 2


@dataclass(frozen=True)
class DemoRequest:
    requester_id: str
    skill_id: str
    desired_level: int
    task: str


@dataclass(frozen=True)
class DemoOrganisation:
    people: tuple[DemoPerson, ...]
    requests: tuple[DemoRequest, ...]

    def person(self, person_id: str) -> DemoPerson:
        return next(p for p in self.people if p.person_id == person_id)


def build_organisation(size: int = 200, seed: int = 7) -> DemoOrganisation:
    rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
    teams = list(TEAMS)
    people: list[DemoPerson] = []
    managers: dict[str, str] = {}
    for n in range(1, size + 1):
        team = teams[(n - 1) % len(teams)]
        zones, strengths = TEAMS[team]
        first = FIRST_NAMES[(n * 7) % len(FIRST_NAMES)]
        last = LAST_NAMES[(n * 11) % len(LAST_NAMES)]
        person_id = f"p-{n:03d}"
        offered = rng.sample(strengths, k=rng.randint(1, min(3, len(strengths))))
        if rng.random() < 0.25:  # people also teach outside their team's core
            extra = rng.choice(sorted(WHAT_I_CAN_HELP_WITH))
            if extra not in offered:
                offered.append(extra)
        offers = tuple(
            DemoOffer(
                skill_id=skill,
                level=rng.choice((2, 3, 3, 4, 4, 5)),
                description=WHAT_I_CAN_HELP_WITH.get(skill, ""),
                weekly_capacity=rng.choice((1, 2, 2, 3)),
            )
            for skill in offered
        )
        people.append(
            DemoPerson(
                person_id=person_id,
                display_name=f"{first} {last}",
                email=f"{first.lower()}.{last.lower()}.{n}@example.com",
                team=team,
                time_zone=rng.choice(zones),
                manager_id=managers.get(team),
                languages=("en",) + (("de",) if "Berlin" in zones[0] else ()),
                offers=offers,
                weekly_capacity=rng.choice((1, 2, 3, 4)),
            )
        )
        managers.setdefault(team, person_id)
    requests = tuple(
        DemoRequest(
            requester_id=_someone_outside(people, skill, rng),
            skill_id=skill,
            desired_level=level,
            task=task,
        )
        for skill, level, task in OPEN_REQUESTS
    )
    return DemoOrganisation(people=tuple(people), requests=requests)


def _someone_outside(people: list[DemoPerson], skill: str, rng: random.Random) -> str:
    """A requester who does not offer the skill themselves."""
    pool = [p.person_id for p in people if all(o.skill_id != skill for o in p.offers)]
    return rng.choice(pool)
