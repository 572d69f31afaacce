"""The chat use cases, the same on every platform: commands, button presses, and the
events that make Peerloop speak first (a proposal to a helper, a session to confirm)."""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from peerloop_contracts.envelope import CloudEventMeta
from peerloop_contracts.matching import (
    HelpRequestUnmatched,
    MatchAccepted,
    MatchProposed,
    SessionCompleted,
)
from peerloop_contracts.skills import SkillCatalogue

from peerloop_chat.application.ports import (
    ApiRefusedError,
    ChatAccount,
    ChatPlatform,
    Links,
    PeerloopApi,
    Seen,
)
from peerloop_chat.domain import messages
from peerloop_chat.domain.commands import DEFAULT_LEVEL, USAGE, Ask, Link, Usage, parse_command
from peerloop_chat.domain.messages import Action, Message, Target

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
Compose = Callable[[], Awaitable[Message]]
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
EVENT_MEMORY = timedelta(days=8)
"""Longer than the change topics keep events (7 days): a redelivery is always recognised."""
NOT_LINKED = messages.plain(
    "Your chat account is not linked to Peerloop yet",
    "Get a link code in Peerloop (Chat → link an account), then type `/peerloop link <code>`.",
)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def code_digest(code: str) -> str:
    """Codes are stored hashed: a read of the store reveals none that still works."""
    return hashlib.sha256(code.replace("-", "").upper().encode()).hexdigest()


@dataclass
class Conversation:
    platform: ChatPlatform
    api: PeerloopApi
    links: Links
    seen: Seen
    catalogue: SkillCatalogue
    code_ttl: timedelta = timedelta(minutes=10)
    clock: Clock = _utc_now

    # ------------------------------------------------------------------ commands

    def reply_to(self, text: str) -> Ask | Link | Usage:
        """What the command means; cheap, so a platform can answer within its deadline."""
        return parse_command(text, self.catalogue)

    async def command(self, account: ChatAccount, text: str, key: str) -> Message:
        """The answer to a command, once its work is done; `key` makes a retried ask one."""
        command = self.reply_to(text)
        if isinstance(command, Usage):
            return messages.plain(command.problem or "Peerloop in chat", USAGE)
        if isinstance(command, Link):
            return await self._link(account, command.code)
        return await self.ask(account, command, key)

    async def ask(self, account: ChatAccount, ask: Ask, key: str) -> Message:
        person = await self.links.person_for(account)
        if person is None:
            return NOT_LINKED
        try:
            asked = await self.api.ask(
                person, skill=ask.skill, task=ask.task, level=DEFAULT_LEVEL, idempotency_key=key
            )
        except ApiRefusedError as refused:
            return messages.plain("Peerloop could not take that ask", refused.message)
        name = self.catalogue.display_name(asked.skill_id)
        return messages.asked(skill=name, inferred=ask.skill_inferred, request_id=asked.request_id)

    async def new_code(self, person: str) -> tuple[str, datetime]:
        """A one-time code the person types in chat; shown once, stored hashed."""
        raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(8))
        expires = self.clock() + self.code_ttl
        await self.links.add_code(code_digest(raw), person, expires)
        return f"{raw[:4]}-{raw[4:]}", expires

    async def _link(self, account: ChatAccount, code: str) -> Message:
        person = await self.links.take_code(code_digest(code), self.clock())
        if person is None:
            return messages.plain(
                "That link code is unknown or expired", "Get a new one in Peerloop."
            )
        await self.links.link(account, person)
        return messages.plain("Linked", f"This chat account now acts as {person} in Peerloop.")

    # ------------------------------------------------------------------ buttons

    async def press(self, account: ChatAccount, action: str, value: str) -> Message:
        """A button press; the answer replaces the message the button was on."""
        try:
            pressed, target = Action(action), Target.decode(value)
        except ValueError:
            return messages.plain("That button is not one of Peerloop's")
        person = await self.links.person_for(account)
        if person is None:
            return NOT_LINKED
        try:
            return await self._act(person, pressed, target)
        except ApiRefusedError as refused:
            return messages.plain("Peerloop could not do that", refused.message)

    async def _act(self, person: str, action: Action, target: Target) -> Message:
        rid, pid = target.request_id, target.proposal_id
        match action:
            case Action.ACCEPT | Action.DECLINE if pid is None:
                return messages.plain("That button lacks its proposal")
            case Action.ACCEPT:
                await self.api.accept(person, rid, str(pid))
            case Action.DECLINE:
                await self.api.decline(person, rid, str(pid))
            case Action.WHY:
                return await self._why(person, rid, pid)
            case Action.CONFIRM:
                await self.api.confirm(person, rid)
            case Action.NOT_HAPPENED:
                await self.api.not_happened(person, rid)
            case Action.RATE:
                if target.rating is None:
                    return messages.plain("That button lacks its rating")
                await self.api.rate(person, rid, target.rating)
        return messages.plain(messages.DONE[action])

    async def _why(self, person: str, request_id: str, proposal_id: str | None) -> Message:
        proposals = await self.api.why(person, request_id)
        mine = [p for p in proposals if p.proposal_id == proposal_id] or proposals[-1:]
        if not mine:
            return messages.plain("Peerloop has no explanation for this proposal")
        why = mine[0]
        return messages.why([(r.text, r.contribution) for r in why.reasons], why.score)

    # ------------------------------------------------------------------ events

    async def _speak(self, meta: CloudEventMeta, *told: tuple[str, Compose]) -> None:
        """Tell each (person, message) on their linked accounts, once per event.

        People with no account on this platform cost nothing, not even a store write.
        Claimed before speaking, so two replicas never both speak; given back when
        speaking fails, so the redelivery speaks (to everyone again: a chat platform
        takes no idempotency key, so a failure or crash mid-way may repeat a message).
        """
        audience = []
        for person, compose in told:
            accounts = [
                a for a in await self.links.accounts_of(person) if a.platform == self.platform.name
            ]
            if accounts:
                audience.append((accounts, compose))
        if not audience:
            return
        key = f"event:{meta.id}"
        if not await self.seen.first_time(key, self.clock() + EVENT_MEMORY):
            return
        try:
            for accounts, compose in audience:
                message = await compose()
                for account in accounts:
                    await self.platform.send(account, message)
        except BaseException:
            await self.seen.forget(key)
            raise

    async def _name(self, person: str) -> str:
        return await self.api.display_name(person)

    async def on_proposed(self, event: MatchProposed, meta: CloudEventMeta) -> None:
        """The helper hears of the proposal where they work, with buttons to answer it."""

        async def proposal() -> Message:
            return messages.proposal(
                request_id=event.request_id,
                proposal_id=event.proposal_id,
                skill=self.catalogue.display_name(event.skill_id),
                task=event.task,
                requester=await self._name(event.requester_id),
                expires=event.expires_at.strftime("%d %b %H:%M UTC"),
            )

        await self._speak(meta, (event.helper_id, proposal))

    async def on_accepted(self, event: MatchAccepted, meta: CloudEventMeta) -> None:
        """Both hear of the session, with buttons to confirm it afterwards."""
        skill = self.catalogue.display_name(event.skill_id)

        def session(other: str, *, helper: bool) -> Compose:
            async def compose() -> Message:
                return messages.accepted(
                    request_id=event.request_id,
                    skill=skill,
                    other=await self._name(other),
                    helper=helper,
                )

            return compose

        await self._speak(
            meta,
            (event.helper_id, session(event.requester_id, helper=True)),
            (event.requester_id, session(event.helper_id, helper=False)),
        )

    async def on_completed(self, event: SessionCompleted, meta: CloudEventMeta) -> None:
        """Both are asked to rate the session."""
        skill = self.catalogue.display_name(event.skill_id)

        def rating(other: str) -> Compose:
            async def compose() -> Message:
                name = await self._name(other)
                return messages.rate(request_id=event.request_id, skill=skill, other=name)

            return compose

        await self._speak(
            meta,
            (event.learner_id, rating(event.teacher_id)),
            (event.teacher_id, rating(event.learner_id)),
        )

    async def on_unmatched(self, event: HelpRequestUnmatched, meta: CloudEventMeta) -> None:
        """The requester hears that nobody can take the ask."""
        skill = self.catalogue.display_name(event.skill_id)

        async def unmatched() -> Message:
            return messages.unmatched(skill=skill)

        await self._speak(meta, (event.requester_id, unmatched))
