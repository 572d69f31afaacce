"""`OutboundClient` against real listeners on 127.0.0.1: what it contacts, and how it stops."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import pytest
from peerloop_runtime.outbound import (
    IPAddress,
    OutboundClient,
    OutboundError,
    OutboundSettings,
)

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
LOOPBACK_ALLOWED = OutboundSettings.model_validate(
    {"allow_networks": ["127.0.0.0/8"], "plain_http_networks": ["127.0.0.1/32"]}
)


@dataclass
class Listener:
    port: int
    requests: list[bytes] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"


async def _read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        (
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        ),
        0,
    )
    return head + await reader.readexactly(length)


@contextlib.asynccontextmanager
async def listening(
    answer: Callable[[asyncio.StreamWriter], Awaitable[None]],
) -> AsyncIterator[Listener]:
    listener = Listener(port=0)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            listener.requests.append(await _read_request(reader))
            await answer(writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    listener.port = server.sockets[0].getsockname()[1]
    try:
        yield listener
    finally:
        server.close()
        await server.wait_closed()


async def ok(writer: asyncio.StreamWriter) -> None:
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
    await writer.drain()


async def _post(client: OutboundClient, url: str, *, deadline: float = 5.0):  # type: ignore[no-untyped-def]
    return await client.post(url, content=b'{"text":"hi"}', headers={}, deadline_seconds=deadline)


@pytest.fixture
async def client_for() -> AsyncIterator[Callable[..., OutboundClient]]:
    made: list[OutboundClient] = []

    def make(settings: OutboundSettings, **kwargs: object) -> OutboundClient:
        client = OutboundClient(settings, **kwargs)  # type: ignore[arg-type]
        made.append(client)
        return client

    yield make
    for client in made:
        await client.aclose()


@pytest.mark.parametrize(
    ("template", "category"),
    [
        ("http://127.0.0.1:{port}/hook", "refused: plain http (use https)"),
        ("https://127.0.0.1:{port}/hook", "refused: loopback address"),
        ("https://localhost:{port}/hook", "refused: loopback address"),
        ("https://2130706433:{port}/hook", "refused: loopback address"),
        ("https://[::ffff:127.0.0.1]:{port}/hook", "refused: loopback address"),
        ("https://127.1:{port}/hook", "refused: loopback address"),
    ],
)
async def test_a_loopback_listener_is_not_contacted_by_default(
    client_for: Callable[..., OutboundClient], template: str, category: str
) -> None:
    async with listening(ok) as listener:
        with pytest.raises(OutboundError) as caught:
            await _post(client_for(OutboundSettings()), template.format(port=listener.port))
        await asyncio.sleep(0.1)
    assert caught.value.category == category and caught.value.permanent
    assert listener.requests == []


async def test_the_listener_is_contacted_once_the_operator_allows_it(
    client_for: Callable[..., OutboundClient],
) -> None:
    async with listening(ok) as listener:
        response = await _post(client_for(LOOPBACK_ALLOWED), listener.url)
    assert response.status_code == 200 and response.body == b"ok"
    assert len(listener.requests) == 1 and listener.requests[0].endswith(b'{"text":"hi"}')


async def test_only_the_resolved_and_checked_address_is_connected_name_and_host_kept(
    client_for: Callable[..., OutboundClient],
) -> None:
    """The name does not exist in any DNS: reaching the listener at all shows the client
    connected to the address it checked, not to whatever a second lookup would say."""
    lookups: list[str] = []

    async def resolve(host: str, _port: int) -> Sequence[IPAddress]:
        lookups.append(host)
        return [ipaddress.ip_address("127.0.0.1")]

    async with listening(ok) as listener:
        url = f"http://hooks.invalid:{listener.port}/hook"
        with pytest.raises(OutboundError) as caught:
            await _post(client_for(OutboundSettings(), resolver=resolve), url)
        assert caught.value.category == "refused: plain http (use https)"
        assert listener.requests == []
        response = await _post(client_for(LOOPBACK_ALLOWED, resolver=resolve), url)
    assert response.status_code == 200
    assert f"host: hooks.invalid:{listener.port}".encode() in listener.requests[0].lower()
    assert lookups == ["hooks.invalid", "hooks.invalid"]


async def test_a_name_rebound_to_an_internal_address_is_refused_at_connection(
    client_for: Callable[..., OutboundClient],
) -> None:
    """First answer public (as when the URL was stored), the next one loopback: the
    connection uses the answer it checked, and refuses it."""
    answers = iter(["93.184.215.14", "127.0.0.1"])

    async def rebinding(_host: str, _port: int) -> Sequence[IPAddress]:
        return [ipaddress.ip_address(next(answers))]

    async with listening(ok) as listener:
        client = client_for(OutboundSettings(), resolver=rebinding)
        await rebinding("rebind.invalid", 443)  # the check when the URL was stored
        with pytest.raises(OutboundError) as caught:
            await _post(client, f"https://rebind.invalid:{listener.port}/hook")
    assert caught.value.category == "refused: loopback address"
    assert listener.requests == []


async def test_a_redirect_is_not_followed(client_for: Callable[..., OutboundClient]) -> None:
    async with listening(ok) as target:

        async def redirect(writer: asyncio.StreamWriter) -> None:
            writer.write(
                f"HTTP/1.1 307 Temporary Redirect\r\nLocation: {target.url}\r\n"
                "Content-Length: 0\r\nConnection: close\r\n\r\n".encode()
            )
            await writer.drain()

        async with listening(redirect) as first:
            response = await _post(client_for(LOOPBACK_ALLOWED), first.url)
    assert response.status_code == 307
    assert len(first.requests) == 1 and target.requests == []


async def test_a_slow_server_is_cut_at_the_overall_deadline(
    client_for: Callable[..., OutboundClient],
) -> None:
    """A byte every 0.1 s keeps every single read well inside any per-read timeout."""

    async def drip(writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
        for _ in range(100000):
            writer.write(b"x")
            await writer.drain()
            await asyncio.sleep(0.1)

    async with listening(drip) as listener:
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(OutboundError) as caught:
            await _post(client_for(LOOPBACK_ALLOWED), listener.url, deadline=1.0)
        took = loop.time() - started
    assert caught.value.category == "timeout" and not caught.value.permanent
    assert 0.9 <= took < 2.0


async def test_a_huge_answer_is_read_only_up_to_the_cap(
    client_for: Callable[..., OutboundClient],
) -> None:
    size = 50 * 1024 * 1024
    sent = 0

    async def flood(writer: asyncio.StreamWriter) -> None:
        nonlocal sent
        writer.write(f"HTTP/1.1 503 Busy\r\nContent-Length: {size}\r\n\r\n".encode())
        chunk = b"y" * 65536
        while sent < size:
            writer.write(chunk)
            await writer.drain()
            sent += len(chunk)

    settings = LOOPBACK_ALLOWED.model_copy(update={"max_response_bytes": 1024})
    async with listening(flood) as listener:
        response = await _post(client_for(settings), listener.url)
    assert response.status_code == 503
    assert len(response.body) == 1024 and response.truncated
    assert sent < size // 2, "the client stopped reading long before the end"


async def test_nothing_listening_is_unreachable_and_worth_retrying(
    client_for: Callable[..., OutboundClient],
) -> None:
    async with listening(ok) as listener:
        url = listener.url
    with pytest.raises(OutboundError) as caught:
        await _post(client_for(LOOPBACK_ALLOWED), url)
    assert caught.value.category == "unreachable" and not caught.value.permanent


@pytest.mark.parametrize(
    ("answers", "category"),
    [
        (["127.0.0.1"], "refused: loopback address"),
        (["10.0.0.5"], "refused: private address"),
        (["93.184.215.14", "192.168.0.9"], "refused: private address"),  # any one refuses all
        (["169.254.169.254"], "refused: cloud metadata address"),
        (["fd00::5"], "refused: private address"),
        (["::ffff:127.0.0.1"], "refused: loopback address"),
        ([], "unreachable: host name does not resolve"),
    ],
)
async def test_a_name_is_judged_by_every_address_it_resolves_to(
    client_for: Callable[..., OutboundClient], answers: list[str], category: str
) -> None:
    async def resolve(_host: str, _port: int) -> Sequence[IPAddress]:
        return [ipaddress.ip_address(a) for a in answers]

    with pytest.raises(OutboundError) as caught:
        await _post(client_for(OutboundSettings(), resolver=resolve), "https://hook.invalid/x")
    assert caught.value.category == category
