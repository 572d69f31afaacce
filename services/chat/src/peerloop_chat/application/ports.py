"""What the chat use cases need from the outside: the chat platform, Peerloop's services,
and the service's own small store (links, one-time codes, requests and events seen)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from peerloop_chat.domain.messages import Message


@dataclass(frozen=True)
class ChatAccount:
    """A person's account on one chat platform: Slack's team and user id, say."""

    platform: str
    workspace: str
    user: str

    @property
    def key(self) -> str:
        return f"{self.platform}:{self.workspace}:{self.user}"


@dataclass(frozen=True)
class Posted:
    """Where a message was posted, so it can be replaced once it is answered."""

    channel: str
    ts: str


class ChatPlatform(Protocol):
    name: str

    async def send(self, account: ChatAccount, message: Message) -> Posted: ...

    async def replace(self, posted: Posted, message: Message) -> None: ...


class ApiRefusedError(Exception):
    """A service said no; `message` is what a person may be told."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Reason:
    text: str
    contribution: float


@dataclass(frozen=True)
class Why:
    proposal_id: str
    score: float
    reasons: tuple[Reason, ...]


@dataclass(frozen=True)
class Asked:
    request_id: str
    skill_id: str
    """The skill asked for: the one named, or the one matching inferred from the task."""


class PeerloopApi(Protocol):
    """Matching and profiles' public APIs, each call made as the person named."""

    async def ask(
        self, person: str, *, skill: str | None, task: str, level: int, idempotency_key: str
    ) -> Asked: ...

    async def accept(self, person: str, request_id: str, proposal_id: str) -> None: ...

    async def decline(self, person: str, request_id: str, proposal_id: str) -> None: ...

    async def why(self, person: str, request_id: str) -> list[Why]: ...

    async def confirm(self, person: str, request_id: str) -> None: ...

    async def not_happened(self, person: str, request_id: str) -> None: ...

    async def rate(self, person: str, request_id: str, rating: int) -> None: ...

    async def display_name(self, person: str) -> str: ...


class Links(Protocol):
    """Chat accounts ↔ people: the only data this service owns."""

    async def person_for(self, account: ChatAccount) -> str | None: ...

    async def accounts_of(self, person: str) -> list[ChatAccount]: ...

    async def link(self, account: ChatAccount, person: str) -> None: ...

    async def add_code(self, digest: str, person: str, expires_at: datetime) -> None: ...

    async def take_code(self, digest: str, now: datetime) -> str | None:
        """The person of an unexpired code, removing it: each code works once."""
        ...


class Seen(Protocol):
    """Keys seen before (request signatures, event ids), each remembered until a time."""

    async def first_time(self, key: str, until: datetime) -> bool:
        """True once per key (atomically, across replicas), then False until `until`."""
        ...

    async def forget(self, key: str) -> None: ...
