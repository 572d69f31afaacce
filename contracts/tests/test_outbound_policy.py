"""Which addresses and URLs a call to a user-given URL may reach, table by table."""

from __future__ import annotations

import ipaddress

import pytest
from peerloop_runtime.outbound import (
    IPAddress,
    OutboundError,
    OutboundPolicy,
    OutboundSettings,
    address_class,
    check_url,
    literal_address,
)

REFUSED = [
    ("127.0.0.1", "loopback address"),
    ("127.255.255.254", "loopback address"),
    ("::1", "loopback address"),
    ("10.0.0.1", "private address"),
    ("172.16.0.1", "private address"),
    ("172.31.255.255", "private address"),
    ("192.168.1.1", "private address"),
    ("100.64.0.1", "private address"),  # CGNAT
    ("100.127.255.254", "private address"),
    ("fc00::1", "private address"),  # ULA
    ("fd12:3456::1", "private address"),
    ("169.254.169.254", "cloud metadata address"),
    ("169.254.170.2", "cloud metadata address"),
    ("100.100.100.200", "cloud metadata address"),
    ("fd00:ec2::254", "cloud metadata address"),
    ("169.254.1.1", "link-local address"),
    ("fe80::1", "link-local address"),
    ("fe80::1%2", "link-local address"),
    ("224.0.0.1", "multicast address"),
    ("239.255.255.250", "multicast address"),
    ("224.0.1.1", "multicast address"),  # a "global" multicast group is still refused
    ("ff02::1", "multicast address"),
    ("ff0e::1", "multicast address"),
    ("0.0.0.0", "unspecified address"),
    ("::", "unspecified address"),
    ("0.1.2.3", "private address"),  # "this network"
    ("240.0.0.1", "reserved address"),
    ("255.255.255.255", "reserved address"),
    ("192.0.2.10", "private address"),  # documentation
    ("198.18.0.1", "private address"),  # benchmarking
    ("2001:db8::1", "private address"),
    ("::ffff:127.0.0.1", "loopback address"),  # IPv4-mapped
    ("::ffff:10.1.2.3", "private address"),
    ("::ffff:169.254.169.254", "cloud metadata address"),
    ("64:ff9b::a9fe:a9fe", "cloud metadata address"),  # NAT64 of 169.254.169.254
    ("64:ff9b::7f00:1", "loopback address"),
    ("2002:7f00:1::1", "loopback address"),  # 6to4 of 127.0.0.1
    ("2002:c0a8:101::1", "private address"),  # 6to4 of 192.168.1.1
]

PUBLIC = ["93.184.215.14", "8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"]


def _ip(text: str) -> IPAddress:
    address = literal_address(text)
    assert address is not None, text
    return address


@pytest.mark.parametrize(("address", "why"), REFUSED)
def test_internal_addresses_are_refused_with_their_class(address: str, why: str) -> None:
    assert address_class(_ip(address)) == why
    problem = OutboundPolicy(OutboundSettings()).refusal(_ip(address), plain_http=False)
    assert problem is not None and problem.category == f"refused: {why}" and problem.permanent


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_pass(address: str) -> None:
    assert address_class(_ip(address)) is None
    assert OutboundPolicy(OutboundSettings()).refusal(_ip(address), plain_http=False) is None


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("2130706433", "127.0.0.1"),  # decimal
        ("0177.0.0.1", "127.0.0.1"),  # octal
        ("0x7f.0.0.1", "127.0.0.1"),  # hexadecimal
        ("0x7f000001", "127.0.0.1"),
        ("127.1", "127.0.0.1"),  # shorthand
        ("10.1", "10.0.0.1"),
        ("017700000001", "127.0.0.1"),
        ("127.0.0.1.", "127.0.0.1"),  # trailing dot
        ("[::1]", "::1"),
        ("[::ffff:7f00:1]", "::ffff:127.0.0.1"),
        ("0251.0376.0251.0376", "169.254.169.254"),
    ],
)
def test_every_spelling_of_an_address_is_read_as_that_address(text: str, address: str) -> None:
    assert literal_address(text) == ipaddress.ip_address(address)


@pytest.mark.parametrize("name", ["hooks.slack.com", "example.com", "deadbeef", "a1.b2"])
def test_host_names_are_not_mistaken_for_addresses(name: str) -> None:
    assert literal_address(name) is None


def test_an_allowed_range_is_reachable_and_nothing_beyond_it() -> None:
    policy = OutboundPolicy(OutboundSettings(allow_networks=["10.20.0.0/16"]))  # type: ignore[list-item]
    assert policy.refusal(_ip("10.20.3.4"), plain_http=False) is None
    assert policy.refusal(_ip("::ffff:10.20.3.4"), plain_http=False) is None
    assert policy.refusal(_ip("10.21.0.1"), plain_http=False) is not None
    assert policy.refusal(_ip("127.0.0.1"), plain_http=False) is not None


def test_plain_http_only_to_the_dev_allow_list() -> None:
    policy = OutboundPolicy(
        OutboundSettings.model_validate(
            {"allow_networks": ["127.0.0.0/8"], "plain_http_networks": ["127.0.0.1/32"]}
        )
    )
    assert policy.refusal(_ip("127.0.0.1"), plain_http=True) is None
    problem = policy.refusal(_ip("127.0.0.2"), plain_http=True)
    assert problem is not None and problem.category == "refused: plain http (use https)"
    public = policy.refusal(_ip("8.8.8.8"), plain_http=True)
    assert public is not None and public.category == "refused: plain http (use https)"


@pytest.mark.parametrize(
    ("url", "category"),
    [
        ("http://hooks.example.com/x", "refused: plain http (use https)"),
        ("ftp://hooks.example.com/x", "refused: invalid URL"),
        ("file:///etc/passwd", "refused: invalid URL"),
        ("gopher://hooks.example.com/", "refused: invalid URL"),
        ("https:///nohost", "refused: invalid URL"),
        ("https://hooks.example.com:99999/", "refused: invalid URL"),
        ("https://user:pw@hooks.example.com/", "refused: credentials in the URL"),
        ("https://127.0.0.1/hook", "refused: loopback address"),
        ("https://127.0.0.1:8103/hook", "refused: loopback address"),
        ("https://2130706433/hook", "refused: loopback address"),
        ("https://0177.0.0.1/hook", "refused: loopback address"),
        ("https://0x7f.1/hook", "refused: loopback address"),
        ("https://[::1]/hook", "refused: loopback address"),
        ("https://[::ffff:127.0.0.1]/hook", "refused: loopback address"),
        ("https://[::ffff:a9fe:a9fe]/latest", "refused: cloud metadata address"),
        ("https://169.254.169.254/latest/meta-data", "refused: cloud metadata address"),
        ("https://[fd00:ec2::254]/latest", "refused: cloud metadata address"),
        ("https://localhost/hook", "refused: loopback address"),
        ("https://LOCALHOST./hook", "refused: loopback address"),
        ("https://api.localhost/hook", "refused: loopback address"),
        ("https://10.0.0.1/hook", "refused: private address"),
        ("https://192.168.1.1./hook", "refused: private address"),
        ("https://100.64.1.1/hook", "refused: private address"),
        ("https://[fe80::1]/hook", "refused: link-local address"),
        ("https://224.0.0.251/hook", "refused: multicast address"),
        ("https://0.0.0.0/hook", "refused: unspecified address"),
    ],
)
def test_urls_are_checked_before_they_are_stored(url: str, category: str) -> None:
    with pytest.raises(OutboundError) as caught:
        check_url(url, OutboundSettings())
    assert caught.value.category == category


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.com/services/T/B/X",
        "https://hooks.example.com:8443/x?token=1",
        "https://93.184.215.14/x",
        "https://[2606:4700:4700::1111]/x",
    ],
)
def test_public_https_urls_are_accepted(url: str) -> None:
    check_url(url, OutboundSettings())


def test_the_dev_allow_list_admits_plain_http_to_it_alone() -> None:
    settings = OutboundSettings.model_validate(
        {"allow_networks": ["127.0.0.0/8"], "plain_http_networks": ["127.0.0.1/32"]}
    )
    check_url("http://127.0.0.1:8500/hook", settings)
    check_url("http://receiver.test/hook", settings)  # the call checks what it resolves to
    for url in ("http://127.0.0.2/hook", "http://10.0.0.1/hook", "https://10.0.0.1/hook"):
        with pytest.raises(OutboundError):
            check_url(url, settings)
