"""Every HTTP call to an address someone outside the service chose goes through here.

A URL a person types (a chat webhook) must not become a way into the company network,
so a call made with `OutboundClient`:

- uses `https`, unless the address connected to lies in the operator's dev allow-list
  (`plain_http_networks`);
- resolves the host name itself and refuses loopback, private (RFC 1918, ULA, CGNAT),
  link-local, multicast, unspecified, reserved and cloud-metadata addresses, unless the
  operator allows the range (`allow_networks`); an address is refused when *any* of the
  names' addresses is, and the connection goes to the very address that was checked (the
  TLS name and `Host` stay the URL's), so a DNS answer that changes between the check
  and the connection (rebinding) cannot redirect it;
- follows no redirect, reads at most `max_response_bytes` of the answer, and ends at one
  deadline for the whole call, connection and reading included;
- fails with `OutboundError`, whose `category` ("refused: private address", "timeout",
  "unreachable") is all a caller may show: what an internal host answered is never echoed.

`check_url` applies what it can of these rules without DNS to a URL when it is stored, so
a person is told at once (the check at call time stays: DNS answers change).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpcore
import httpx
from pydantic import BaseModel, ConfigDict, Field

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Awaitable[Sequence[IPAddress]]]

# Where clouds answer with instance credentials; named apart so the record says so.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "100.100.100.200", "fd00:ec2::254")
)
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")


class OutboundSettings(BaseModel):
    """`PEERLOOP_OUTBOUND__*`: where calls to user-given URLs may go besides the public internet."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    allow_networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = Field(
        default_factory=list,
        description='ranges otherwise refused that calls may reach, e.g. ["10.20.0.0/16"] '
        "for an internal chat server; empty: public addresses only",
    )
    plain_http_networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = Field(
        default_factory=list,
        description="dev allow-list: plain http is accepted to these addresses, e.g. "
        '["127.0.0.1/32"] for a local test receiver (which allow_networks must allow as well); '
        "empty: https only",
    )
    max_response_bytes: int = Field(
        default=64 * 1024, ge=0, le=16 * 1024 * 1024, description="how much of an answer is read"
    )


class OutboundError(Exception):
    """A call that did not get an answer. `category` is short and safe to show the owner;
    `permanent` says whether trying again can help."""

    def __init__(self, category: str, *, permanent: bool) -> None:
        super().__init__(category)
        self.category = category
        self.permanent = permanent


def refused(why: str) -> OutboundError:
    return OutboundError(f"refused: {why}", permanent=True)


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for (mapped, 6to4, NAT64, Teredo), if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def address_class(address: IPAddress) -> str | None:
    """Why `address` is not a public one ("loopback address", …), or None if it is."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = _embedded_ipv4(address)
        if inner is not None:
            return address_class(inner)
        if address.scope_id:
            return "link-local address"
    if address in METADATA_ADDRESSES:
        return "cloud metadata address"
    if address.is_loopback:
        return "loopback address"
    if address.is_link_local:
        return "link-local address"
    if address.is_multicast:
        return "multicast address"
    if address.is_unspecified:
        return "unspecified address"
    if address in _CGNAT or (address.is_private and not address.is_reserved):
        return "private address"
    if not address.is_global:
        return "reserved address"
    return None


@dataclass(frozen=True)
class OutboundPolicy:
    settings: OutboundSettings

    def refusal(self, address: IPAddress, *, plain_http: bool) -> OutboundError | None:
        """Why a call may not connect to `address`, or None if it may."""
        if plain_http and not _within(address, self.settings.plain_http_networks):
            return refused("plain http (use https)")
        if _within(address, self.settings.allow_networks):
            return None
        why = address_class(address)
        return refused(why) if why else None


def _within(address: IPAddress, networks: Iterable[IPNetwork]) -> bool:
    candidates: list[IPAddress] = [address]
    if isinstance(address, ipaddress.IPv6Address) and (inner := _embedded_ipv4(address)):
        candidates.append(inner)
    return any(a in n for a in candidates for n in networks if a.version == n.version)


def literal_address(host: str) -> IPAddress | None:
    """The address a URL's host names without DNS: dotted, bracketed IPv6, and the legacy
    IPv4 forms resolvers still accept (`2130706433`, `0177.0.0.1`, `0x7f.1`)."""
    host = host.strip("[]").rstrip(".")
    with contextlib.suppress(ValueError):
        return ipaddress.ip_address(host.split("%", 1)[0])
    if host and all(c in "0123456789abcdefxABCDEFX." for c in host) and host[0].isdigit():
        with contextlib.suppress(OSError):
            return ipaddress.IPv4Address(socket.inet_aton(host))
    return None


async def system_resolver(host: str, port: int) -> Sequence[IPAddress]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    found: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in found:
            found.append(address)
    return found


def _local_addresses(host: str) -> Sequence[IPAddress] | None:
    """What `host` stands for without asking DNS, if that is known."""
    literal = literal_address(host)
    if literal is not None:
        return [literal]
    name = host.rstrip(".").lower()
    if name in _LOCAL_NAMES or name.endswith(".localhost"):
        # RFC 6761: loopback whatever a hosts file or resolver says.
        return [ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")]
    return None


async def _addresses(resolver: Resolver, host: str, port: int) -> Sequence[IPAddress]:
    known = _local_addresses(host)
    if known is not None:
        return known
    try:
        found = await resolver(host, port)
    except (OSError, UnicodeError) as exc:
        raise OutboundError("unreachable: host name does not resolve", permanent=False) from exc
    if not found:
        raise OutboundError("unreachable: host name does not resolve", permanent=False)
    return found


def check_url(url: str, settings: OutboundSettings) -> None:
    """Raise `OutboundError` if a call to `url` is refused whatever DNS answers: scheme,
    credentials, a literal or local-name address. Cheap and offline, for input checks; the
    call checks the resolved addresses again."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        host, _port = parts.hostname, parts.port
    except ValueError as exc:
        raise refused("invalid URL") from exc
    if scheme not in ("http", "https") or not host:
        raise refused("invalid URL")
    if parts.username is not None or parts.password is not None:
        raise refused("credentials in the URL")
    literal = _local_addresses(host)
    plain_http = scheme == "http"
    if literal is None:
        if plain_http and not settings.plain_http_networks:
            raise refused("plain http (use https)")
        return
    policy = OutboundPolicy(settings)
    for address in literal:
        if problem := policy.refusal(address, plain_http=plain_http):
            raise problem


class _VettedBackend(httpcore.AsyncNetworkBackend):
    """Resolves, checks, and connects to the checked address itself (TLS and `Host` are
    left to httpcore, which still uses the URL's name)."""

    def __init__(self, policy: OutboundPolicy, resolver: Resolver, *, plain_http: bool) -> None:
        self._policy = policy
        self._resolver = resolver
        self._plain_http = plain_http
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's signature)
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await _addresses(self._resolver, host, port)
        for address in addresses:
            if problem := self._policy.refusal(address, plain_http=self._plain_http):
                raise problem
        failure: Exception | None = None
        for address in addresses:
            try:
                stream = await self._inner.connect_tcp(
                    str(address), port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
                continue
            peer = stream.get_extra_info("server_addr")
            if peer is None or ipaddress.ip_address(str(peer[0]).split("%", 1)[0]) != address:
                await stream.aclose()
                raise refused("connected address differs from the checked one")
            return stream
        assert failure is not None
        raise failure

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class _VettedTransport(httpx.AsyncHTTPTransport):
    def __init__(
        self, policy: OutboundPolicy, resolver: Resolver, *, plain_http: bool, limits: httpx.Limits
    ) -> None:
        # No proxy from the environment: a proxy would connect where it likes.
        super().__init__(trust_env=False, limits=limits)
        # httpx offers no public way to choose the network backend; its transport does no
        # more than map requests onto this pool, so ours replaces the pool it built.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_VettedBackend(policy, resolver, plain_http=plain_http),
        )


@dataclass(frozen=True)
class OutboundResponse:
    status_code: int
    headers: Mapping[str, str]
    body: bytes
    truncated: bool


class OutboundClient:
    """The one way to call a URL someone else chose. Close it with `aclose()`."""

    def __init__(
        self,
        settings: OutboundSettings,
        *,
        resolver: Resolver = system_resolver,
        limits: httpx.Limits | None = None,
    ) -> None:
        policy = OutboundPolicy(settings)
        limits = limits or httpx.Limits(max_connections=64, max_keepalive_connections=16)
        self.settings = settings
        self._client = httpx.AsyncClient(
            follow_redirects=False,
            trust_env=False,
            mounts={
                "https://": _VettedTransport(policy, resolver, plain_http=False, limits=limits),
                "http://": _VettedTransport(policy, resolver, plain_http=True, limits=limits),
            },
        )

    async def post(
        self,
        url: str,
        *,
        content: bytes,
        headers: Mapping[str, str],
        deadline_seconds: float,
    ) -> OutboundResponse:
        """POST `content`; the whole call, answer read included, ends by the deadline."""
        try:
            async with asyncio.timeout(deadline_seconds):
                return await self._post(url, content, headers, deadline_seconds)
        except OutboundError:
            raise
        except TimeoutError as exc:
            raise OutboundError("timeout", permanent=False) from exc
        except httpx.TimeoutException as exc:
            raise OutboundError("timeout", permanent=False) from exc
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            raise refused("invalid URL") from exc
        except (httpx.HTTPError, OSError, ssl.SSLError) as exc:
            raise OutboundError("unreachable", permanent=False) from exc

    async def _post(
        self, url: str, content: bytes, headers: Mapping[str, str], deadline: float
    ) -> OutboundResponse:
        scheme = urlsplit(url).scheme.lower()
        if scheme not in ("http", "https"):
            raise refused("invalid URL")
        request = self._client.build_request(
            "POST", url, content=content, headers=dict(headers), timeout=deadline
        )
        response = await self._client.send(request, stream=True)
        try:
            cap = self.settings.max_response_bytes
            body = bytearray()
            truncated = False
            async for chunk in response.aiter_raw():
                body += chunk
                if len(body) > cap:
                    del body[cap:]
                    truncated = True
                    break
        finally:
            await response.aclose()
        return OutboundResponse(
            status_code=response.status_code,
            headers=dict(response.headers),
            body=bytes(body),
            truncated=truncated,
        )

    async def aclose(self) -> None:
        await self._client.aclose()
