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
    Posted,
    Seen,
)
from peerloop_chat.domain import messages
from peerloop_chat.domain.commands import DEFAULT_LEVEL, USAGE, Ask, Link, Usage, parse_command
from peerloop_chat.domain.messages import Action, Message, Target

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
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
            request_id = await self.api.ask(
                person, skill=ask.skill, task=ask.task, level=DEFAULT_LEVEL, idempotency_key=key
            )
        except ApiRefusedError as refused:
            return messages.plain("Peerloop could not take that ask", refused.message)
        name = self.catalogue.display_name(ask.skill)
        return messages.asked(skill=name, inferred=ask.skill_inferred, request_id=request_id)

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

    async def _once(self, meta: CloudEventMeta, speak: Callable[[], Awaitable[None]]) -> None:
        """`speak` once per event, though Kafka may deliver it again.

        Claimed first, so two replicas never both speak; given back when speaking fails,
        so the retry speaks. A crash between speaking and the commit speaks twice: a
        chat platform takes no idempotency key.
        """
        key = f"event:{meta.id}"
        if not await self.seen.first_time(key, self.clock() + EVENT_MEMORY):
            return
        try:
            await speak()
        except BaseException:
            await self.seen.forget(key)
            raise

    async def _tell(self, person: str, message: Message) -> list[Posted]:
        posted = []
        for account in await self.links.accounts_of(person):
            if account.platform == self.platform.name:
                posted.append(await self.platform.send(account, message))
        return posted

    async def on_proposed(self, event: MatchProposed, meta: CloudEventMeta) -> None:
        """The helper hears of the proposal where they work, with buttons to answer it."""
        await self._once(meta, lambda: self._proposed(event))

    async def _proposed(self, event: MatchProposed) -> None:
        requester = await self.api.display_name(event.requester_id)
        message = messages.proposal(
            request_id=event.request_id,
            proposal_id=event.proposal_id,
            skill=self.catalogue.display_name(event.skill_id),
            task=event.task,
            requester=requester,
            expires=event.expires_at.strftime("%d %b %H:%M UTC"),
        )
        await self._tell(event.helper_id, message)

    async def on_accepted(self, event: MatchAccepted, meta: CloudEventMeta) -> None:
        """Both hear of the session, with buttons to confirm it afterwards."""
        await self._once(meta, lambda: self._accepted(event))

    async def _accepted(self, event: MatchAccepted) -> None:
        skill = self.catalogue.display_name(event.skill_id)
        helper, requester = event.helper_id, event.requester_id
        for person, other, is_helper in ((helper, requester, True), (requester, helper, False)):
            await self._tell(
                person,
                messages.accepted(
                    request_id=event.request_id,
                    skill=skill,
                    other=await self.api.display_name(other),
                    helper=is_helper,
                ),
            )

    async def on_completed(self, event: SessionCompleted, meta: CloudEventMeta) -> None:
        """Both are asked to rate the session."""
        await self._once(meta, lambda: self._completed(event))

    async def _completed(self, event: SessionCompleted) -> None:
        skill = self.catalogue.display_name(event.skill_id)
        for person, other in (
            (event.learner_id, event.teacher_id),
            (event.teacher_id, event.learner_id),
        ):
            name = await self.api.display_name(other)
            await self._tell(
                person, messages.rate(request_id=event.request_id, skill=skill, other=name)
            )

    async def on_unmatched(self, event: HelpRequestUnmatched, meta: CloudEventMeta) -> None:
        await self._once(meta, lambda: self._unmatched(event))

    async def _unmatched(self, event: HelpRequestUnmatched) -> None:
        skill = self.catalogue.display_name(event.skill_id)
        await self._tell(event.requester_id, messages.unmatched(skill=skill))
