"""HTTP of the chat service: Slack's request URLs and the link-code route. Thin.

Slack's routes take no bearer token: each request is verified by its Slack signature
instead (401 otherwise), and the person is the one linked to the signing user. Slack
wants an answer within 3 seconds, so work that calls Peerloop runs after the answer
and speaks through the Web API.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, BackgroundTasks, Depends, FastAPI, Request, status
from fastapi.responses import JSONResponse, Response
from peerloop_runtime.auth import CurrentPrincipal, Forbidden, PublicRoute, require_person
from pydantic import BaseModel

from peerloop_chat.adapters.slack import (
    NotFromSlackError,
    Pressed,
    Shortcut,
    account,
    payload_for,
    read_interaction,
)
from peerloop_chat.application.conversation import Conversation
from peerloop_chat.application.ports import ChatAccount
from peerloop_chat.bootstrap import ChatService, bootstrap
from peerloop_chat.config import Settings
from peerloop_chat.domain import messages
from peerloop_chat.domain.commands import Ask, ask_about
from peerloop_chat.domain.messages import Message

log = logging.getLogger(__name__)
LINK_RULE = "only a person links a chat account, to themself"


def _service(request: Request) -> ChatService:
    service: ChatService = request.app.state.service
    return service


Service = Annotated[ChatService, Depends(_service)]


async def slack_form(request: Request, service: Service) -> dict[str, str]:
    """The verified body of a Slack request, as its form fields."""
    body = await request.body()
    try:
        await service.slack_requests.verify(body, request.headers)
    except NotFromSlackError as refused:
        raise _UnverifiedError(str(refused)) from None
    fields = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    return {name: values[0] for name, values in fields.items()}


SlackForm = Annotated[dict[str, str], Depends(slack_form)]


class _UnverifiedError(Exception):
    pass


class _BadPayloadError(Exception):
    pass


def _ephemeral(message: Message) -> dict[str, Any]:
    return {"response_type": "ephemeral", **payload_for(message)}


async def _say(conversation: Conversation, who: ChatAccount, message: Message) -> None:
    try:
        await conversation.platform.send(who, message)
    except Exception:
        log.exception("could not answer %s in the chat", who.key)


async def _ask_then_say(conversation: Conversation, who: ChatAccount, ask: Ask, key: str) -> None:
    try:
        answer = await conversation.ask(who, ask, key)
    except Exception:
        # After the answer to Slack: nothing to send back but a log line and an apology.
        log.exception("an ask from %s failed", who.key)
        answer = messages.plain("Peerloop could not take that ask", "Please try again shortly.")
    await _say(conversation, who, answer)


async def _press_then_replace(conversation: Conversation, pressed: Pressed) -> None:
    try:
        answer = await conversation.press(pressed.account, pressed.action, pressed.value)
    except Exception:
        log.exception("a button press of %s failed", pressed.account.key)
        answer = messages.plain("Peerloop could not do that", "Please try again shortly.")
    try:
        if pressed.posted is not None:
            await conversation.platform.replace(pressed.posted, answer)
        else:
            await conversation.platform.send(pressed.account, answer)
    except Exception:
        log.exception("could not show the answer to a button in the chat")


router = APIRouter(prefix="/slack", tags=["slack"], dependencies=[PublicRoute])


@router.post("/commands", summary="Slack's slash command `/peerloop` (signed by Slack)")
async def slash_command(
    form: SlackForm, service: Service, background: BackgroundTasks
) -> dict[str, Any]:
    missing = [name for name in ("team_id", "user_id") if not form.get(name)]
    if missing:
        raise _BadPayloadError(f"the command lacks {', '.join(missing)}")
    who = account(form["team_id"], form["user_id"])
    conversation = service.conversation
    command = conversation.reply_to(form.get("text", ""))
    if isinstance(command, Ask):
        # Retried commands carry the same trigger: one help request for them.
        key = f"slack:{form.get('trigger_id') or uuid.uuid4().hex}"
        background.add_task(_ask_then_say, conversation, who, command, key)
        return _ephemeral(messages.plain(f"Asking Peerloop for help with {command.skill}…"))
    # Linking and usage touch only this service's store: answered at once.
    return _ephemeral(await conversation.command(who, form.get("text", ""), key=""))


@router.post(
    "/interactivity",
    summary="Slack's interactivity URL: button presses and the message shortcut (signed)",
)
async def interactivity(form: SlackForm, service: Service, background: BackgroundTasks) -> Response:
    try:
        interaction = read_interaction(json.loads(form.get("payload", "")))
    except ValueError as exc:
        raise _BadPayloadError(str(exc)) from None
    conversation = service.conversation
    if isinstance(interaction, Pressed):
        background.add_task(_press_then_replace, conversation, interaction)
    elif isinstance(interaction, Shortcut):
        ask = ask_about(interaction.text, conversation.catalogue)
        if isinstance(ask, Ask):
            key = f"slack:{interaction.trigger_id}"
            background.add_task(_ask_then_say, conversation, interaction.account, ask, key)
        else:
            background.add_task(
                _say,
                conversation,
                interaction.account,
                messages.plain(ask.problem or "Peerloop could not read that message"),
            )
    # Slack only needs the 200: what follows is posted through the Web API.
    return Response(status_code=status.HTTP_200_OK)


class LinkCode(BaseModel):
    code: str
    expires_at: str
    how: str


links = APIRouter(prefix="/links", tags=["links"])


@links.post(
    "/codes",
    status_code=status.HTTP_201_CREATED,
    summary="A one-time code that links the caller's chat account (`/peerloop link <code>`)",
)
async def new_link_code(caller: CurrentPrincipal, service: Service) -> LinkCode:
    person = require_person(caller, LINK_RULE)
    if caller.delegated_by is not None:
        # A chat app acting for someone must not mint links for them.
        raise Forbidden(LINK_RULE)
    code, expires = await service.conversation.new_code(person)
    return LinkCode(code=code, expires_at=expires.isoformat(), how=f"/peerloop link {code}")


async def _unverified(_request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=status.HTTP_401_UNAUTHORIZED)


async def _bad_payload(_request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=status.HTTP_400_BAD_REQUEST)


def create_app(settings: Settings | None = None, service: ChatService | None = None) -> FastAPI:
    service = service or bootstrap(settings)
    runtime = service.runtime
    app = FastAPI(title="Peerloop chat", version="0.1.0", lifespan=runtime.lifespan)
    app.state.service = service
    app.state.runtime = runtime
    runtime.instrument(app)
    runtime.secure(app)
    app.include_router(runtime.health_router())
    app.include_router(router)
    app.include_router(links)
    app.add_exception_handler(_UnverifiedError, _unverified)
    app.add_exception_handler(_BadPayloadError, _bad_payload)
    return app
