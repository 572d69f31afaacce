"""What a person types to Peerloop in a chat, read the same on every chat platform.

    /peerloop ask kafka: my consumer lags     -> Ask(skill "kafka", named)
    /peerloop ask my kubernetes pod restarts  -> Ask(skill "kubernetes", inferred)
    /peerloop link 7KQ2-M9XD                  -> Link
    /peerloop help (or anything else)         -> Usage

The skill is the text before a colon when there is one (any skill name or alias; an
in-house skill the catalogue does not know stays as typed, as matching accepts it).
Without a colon it is the first skill of the catalogue whose name or alias appears in
the task (three-, two-, then one-word phrases), and no guess beyond that: a task that
names no known skill is answered with how to name one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from peerloop_contracts.skills import SkillCatalogue

MAX_TASK = 2000
DEFAULT_LEVEL = 2
"""The level asked for from chat: some experience, so most offers qualify."""
_WORD = re.compile(r"[A-Za-z0-9+#.\-_/]+")
_CODE = re.compile(r"^[A-Z0-9]{4}-?[A-Z0-9]{4}$")
USAGE = (
    "Ask a peer for help: `/peerloop ask <skill>: <your task>` "
    "(e.g. `/peerloop ask kafka: my consumer lags`). "
    "Link your chat account once: `/peerloop link <code>` with the code from Peerloop."
)


@dataclass(frozen=True)
class Ask:
    skill: str | None
    """None: the task names no skill the catalogue knows; matching infers it from the task."""
    task: str
    skill_inferred: bool


@dataclass(frozen=True)
class Link:
    code: str


@dataclass(frozen=True)
class Usage:
    problem: str | None = None


Command = Ask | Link | Usage


def parse_command(text: str, catalogue: SkillCatalogue) -> Command:
    verb, _, rest = text.strip().partition(" ")
    rest = rest.strip()
    match verb.lower():
        case "ask":
            return ask_about(rest, catalogue)
        case "link":
            code = rest.upper()
            if not _CODE.match(code):
                return Usage("A link code looks like `7KQ2-M9XD`: copy it from Peerloop.")
            return Link(code.replace("-", ""))
        case "" | "help":
            return Usage()
        case _:
            return Usage(f"I know `ask`, `link` and `help`, not `{verb[:30]}`.")


def ask_about(text: str, catalogue: SkillCatalogue) -> Ask | Usage:
    """An ask from the text of a command or of a message someone pointed at."""
    text = text.strip()
    if not text:
        return Usage("Say what you need help with after `ask`.")
    head, colon, tail = text.partition(":")
    if colon and tail.strip() and 0 < len(head.split()) <= 3:
        try:
            skill = catalogue.canonical(head)
        except ValueError:
            return Usage(f"`{head.strip()[:64]}` is not a skill name.")
        return _bounded(Ask(skill, tail.strip(), skill_inferred=False))
    # A skill the words name is taken as is; otherwise matching reads the task's meaning.
    return _bounded(Ask(infer_skill(text, catalogue), text, skill_inferred=True))


def infer_skill(text: str, catalogue: SkillCatalogue) -> str | None:
    words = _WORD.findall(text)
    for start in range(len(words)):
        for length in (3, 2, 1):
            phrase = " ".join(words[start : start + length])
            if length > 1 and start + length > len(words):
                continue
            try:
                skill = catalogue.canonical(phrase)
            except ValueError:
                continue
            if catalogue.known(skill):
                return skill
    return None


def _bounded(ask: Ask) -> Ask | Usage:
    if len(ask.task) > MAX_TASK:
        return Usage(f"Please describe the task in at most {MAX_TASK} characters.")
    return ask
