"""The one table of refusals, and whose address a request comes from."""

from __future__ import annotations

from ipaddress import ip_network

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.errors import REFUSALS, Refusal, wait_text
from api.limits import client_address, proxied_scheme
from infra.settings import Settings

EXPECTED = {
    "unauthorized": 401,
    "forbidden": 403,
    "rate_limited": 429,
    "login_throttled": 429,
    "csrf_failed": 403,
    "body_too_large": 413,
    "purpose_required": 400,
    "page_out_of_range": 404,
}


def test_every_refusal_of_the_issue_has_its_status_and_a_chinese_message() -> None:
    assert {code: REFUSALS[code][0] for code in EXPECTED} == EXPECTED
    for code, (_, message) in REFUSALS.items():
        assert any("\u4e00" <= ch <= "\u9fff" for ch in message), code


def test_a_refusal_fills_its_message_and_headers() -> None:
    limited = Refusal("rate_limited", retry_after=75)
    assert (limited.status, limited.code) == (429, "rate_limited")
    assert limited.message == "访问过于频繁，请 1 分 15 秒后再试"
    assert limited.headers == {"Retry-After": "75"}
    assert limited.detail == {"retry_after": 75}

    page = Refusal("page_out_of_range", pages=12)
    assert (page.status, page.message, page.detail) == (404, "页码超出范围：共 12 页", {"pages": 12})

    unauthorized = Refusal("unauthorized")
    assert unauthorized.headers == {"WWW-Authenticate": "Bearer"}
    assert Refusal("forbidden", "只有管理员可以").message == "只有管理员可以"
    with pytest.raises(KeyError):
        Refusal("no_such_code")


@pytest.mark.parametrize(
    ("seconds", "text"), [(0, "0 秒"), (1, "1 秒"), (59, "59 秒"), (60, "1 分钟"), (61, "1 分 1 秒")]
)
def test_waits_are_said_in_chinese(seconds: int, text: str) -> None:
    assert wait_text(seconds) == text


PROXIES = (ip_network("10.0.0.0/8"), ip_network("192.168.1.1/32"))


def scope(peer: str, forwarded: str | None = None, proto: str | None = None) -> dict[str, object]:
    headers = []
    if forwarded is not None:
        headers.append((b"x-forwarded-for", forwarded.encode()))
    if proto is not None:
        headers.append((b"x-forwarded-proto", proto.encode()))
    return {"client": (peer, 50000), "headers": headers, "scheme": "http"}


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("203.0.113.7", None, "203.0.113.7"),  # no proxy
        ("203.0.113.7", "1.2.3.4", "203.0.113.7"),  # an untrusted peer's header proves nothing
        ("10.0.0.5", "198.51.100.2", "198.51.100.2"),  # one trusted proxy
        ("10.0.0.5", "6.6.6.6, 198.51.100.2", "198.51.100.2"),  # the client wrote the left part
        ("10.0.0.5", "198.51.100.2, 10.1.1.1", "198.51.100.2"),  # two proxies of ours
        ("10.0.0.5", "10.2.2.2, 10.1.1.1", "10.2.2.2"),  # all ours: the left-most
        ("10.0.0.5", "junk, 10.1.1.1", "10.1.1.1"),  # no address: trust no further
        ("10.0.0.5", None, "10.0.0.5"),
        ("192.168.1.1", "2001:db8::1", "2001:db8::1"),
    ],
)
def test_the_client_is_the_right_most_address_no_trusted_proxy_wrote(
    peer: str, forwarded: str | None, expected: str
) -> None:
    assert client_address(scope(peer, forwarded), PROXIES) == expected


def test_without_trusted_proxies_the_header_is_ignored() -> None:
    assert client_address(scope("10.0.0.5", "198.51.100.2"), ()) == "10.0.0.5"


@given(st.lists(st.ip_addresses().map(str), max_size=5))
def test_a_client_cannot_choose_the_address_counted_for_it(forged: list[str]) -> None:
    # whatever the client puts in front, the proxy's own entry (its peer) is what counts
    header = ", ".join([*forged, "198.51.100.2"])
    assert client_address(scope("10.0.0.5", header), PROXIES) == "198.51.100.2"


def test_the_scheme_comes_from_a_trusted_proxy_only() -> None:
    assert proxied_scheme(scope("10.0.0.5", proto="https"), PROXIES) == "https"
    assert proxied_scheme(scope("203.0.113.7", proto="https"), PROXIES) == "http"


def test_settings_refuse_a_malformed_limit_or_proxy() -> None:
    with pytest.raises(ValueError, match="限流设置"):
        Settings(rate_limit_pages="lots")
    with pytest.raises(ValueError, match="不是有效的 IP"):
        Settings(trusted_proxies="10.0.0.0/8, proxy.example")
    assert Settings(trusted_proxies="10.0.0.0/8, ::1").trusted_networks == (
        ip_network("10.0.0.0/8"),
        ip_network("::1"),
    )
