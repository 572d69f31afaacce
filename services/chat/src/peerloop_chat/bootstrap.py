"""Builds the chat service: runtime, stores, the Slack platform, Peerloop's APIs, the
conversation and its event consumer. Tests pass their own stores, platform and API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import httpx
from peerloop_contracts.matching import (
    HelpRequestUnmatched,
    MatchAccepted,
    MatchProposed,
    SessionCompleted,
)
from peerloop_contracts.skills import default_catalogue
from peerloop_runtime.kafka import EventConsumer, RetryPolicy
from peerloop_runtime.mongo import TRANSIENT_STORE_ERRORS
from peerloop_runtime.organisation_skills import follow_organisation_skills
from peerloop_runtime.service import ServiceRuntime

from peerloop_chat.adapters.mongo_links import MongoLinks, MongoSeen
from peerloop_chat.adapters.peerloop_http import PeerloopHttpApi, ServiceAccount, ServiceToken
from peerloop_chat.adapters.slack import SlackPlatform, SlackRequests, SlackUnavailableError
from peerloop_chat.application import ports
from peerloop_chat.application.conversation import Conversation
from peerloop_chat.config import DELEGATION_SCOPE, Settings

LINKS = "links"
LINK_CODES = "link_codes"
SEEN = "seen"


@dataclass(frozen=True)
class ChatService:
    settings: Settings
    runtime: ServiceRuntime
    conversation: Conversation
    slack_requests: SlackRequests
    consumer: EventConsumer


def bootstrap(
    settings: Settings | None = None,
    *,
    links: ports.Links | None = None,
    seen: ports.Seen | None = None,
    platform: ports.ChatPlatform | None = None,
    api: ports.PeerloopApi | None = None,
) -> ChatService:
    s = settings or Settings()
    runtime = ServiceRuntime(name="chat", settings=s)
    if links is None:
        mongo_links = MongoLinks(runtime.collection(LINKS), runtime.collection(LINK_CODES))
        runtime.on_start(mongo_links.ensure_indexes)
        links = mongo_links
    if seen is None:
        mongo_seen = MongoSeen(runtime.collection(SEEN))
        runtime.on_start(mongo_seen.ensure_indexes)
        seen = mongo_seen
    if platform is None:
        platform = SlackPlatform(
            s.slack_bot_token.get_secret_value(),
            s.slack_api_url,
            timeout_seconds=s.slack_timeout_seconds,
        )
    if api is None:
        http = httpx.AsyncClient(timeout=s.service_timeout_seconds)
        token = ServiceToken(
            http,
            ServiceAccount(
                s.token_endpoint, s.client_id, s.client_secret.get_secret_value(), DELEGATION_SCOPE
            ),
        )
        api = PeerloopHttpApi(http, token, matching_url=s.matching_url, profiles_url=s.profiles_url)
        runtime.on_stop(http.aclose)
    conversation = Conversation(
        platform=platform,
        api=api,
        links=links,
        seen=seen,
        catalogue=default_catalogue(),
        code_ttl=timedelta(minutes=s.link_code_minutes),
    )
    consumer = runtime.add_consumer(
        {
            MatchProposed: conversation.on_proposed,
            MatchAccepted: conversation.on_accepted,
            SessionCompleted: conversation.on_completed,
            HelpRequestUnmatched: conversation.on_unmatched,
        },
        retry=RetryPolicy(transient=(*TRANSIENT_STORE_ERRORS, SlackUnavailableError)),
    )
    # Messages name an organisation's own skill as its admins defined it.
    follow_organisation_skills(runtime)
    return ChatService(
        settings=s,
        runtime=runtime,
        conversation=conversation,
        slack_requests=SlackRequests(s.slack_signing_secret.get_secret_value(), seen),
        consumer=consumer,
    )
