"""Notification texts, rendered from the Jinja2 templates shipped in the package.

Texts are plain text (e-mail text/plain, inbox, chat), so nothing is HTML-escaped;
a missing template variable is an error, never a silently empty gap.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from peerloop_notifications.domain.digest import DigestSection
from peerloop_notifications.domain.kinds import Kind

UNKNOWN_PERSON = "a colleague"

KIND_TITLES: dict[Kind, str] = {
    "match-proposed": "Requests for your help",
    "match-accepted": "Helpers found",
    "session-reminder": "Upcoming sessions",
    "session-invitation": "Sessions in your calendar",
    "match-declined": "Declined requests",
    "match-expired": "Unanswered requests",
    "help-request-unmatched": "Requests nobody could take",
    "help-request-waiting": "Requests waiting for a helper",
    "help-request-moved": "Waiting requests that moved",
    "help-request-cancelled": "Cancelled requests",
    "session-completed": "Sessions to rate",
    "feedback-received": "Feedback you received",
    "teach-back-invitation": "Skills you can pass on",
}


@dataclass(frozen=True)
class Text:
    subject: str
    body: str


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("peerloop_notifications", "templates"),
        autoescape=select_autoescape(enabled_extensions=(), default_for_string=False),
        undefined=StrictUndefined,
        keep_trailing_newline=False,
        trim_blocks=False,
    )


def _render(name: str, context: Mapping[str, Any]) -> str:
    return _environment().get_template(f"{name}.j2").render(**context).strip()


def render(
    kind: Kind,
    context: Mapping[str, Any],
    *,
    recipient_name: str | None,
    names: Mapping[str, str],
) -> Text:
    """The subject and body of one notification; people are named by display name."""

    def name_of(person_id: str) -> str:
        return names.get(person_id, UNKNOWN_PERSON)

    full = {**context, "recipient": recipient_name or "there", "name_of": name_of}
    return Text(subject=_render(f"{kind}.subject", full), body=_render(f"{kind}.body", full))


def render_digest(sections: Sequence[DigestSection], *, recipient_name: str | None) -> Text:
    context = {
        "recipient": recipient_name or "there",
        "sections": sections,
        "titles": KIND_TITLES,
        "total": sum(len(s.items) for s in sections),
    }
    return Text(subject=_render("digest.subject", context), body=_render("digest.body", context))


def chat_text(text: Text) -> str:
    """Slack-style message text; `&`, `<` and `>` are control characters there."""
    escaped = text.body.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    title = text.subject.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f"*{title}*\n{escaped}"
