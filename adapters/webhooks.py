"""Sending a watchlist's webhook: only to hosts on the allow-list (`GONGSHI_WEBHOOK_ALLOWED_HOSTS`:
host names, `.suffix` for a domain and its subdomains, and CIDRs), never to a loopback, private,
link-local or otherwise non-public address unless a CIDR on the list covers it — a webhook must
not become a way into the platform's own engines. The host is resolved and every address checked
just before each delivery; redirects are not followed."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

__all__ = ["AllowList", "WebhookRefused", "WebhookSender"]

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class WebhookRefused(Exception):
    """The URL's host is not allowed (Chinese message)."""


@dataclass(frozen=True)
class AllowList:
    names: tuple[str, ...]
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]

    @classmethod
    def parse(cls, text: str) -> AllowList:
        names, networks = [], []
        for part in (p.strip().lower() for p in text.split(",")):
            if not part:
                continue
            try:
                networks.append(ipaddress.ip_network(part, strict=False))
            except ValueError:
                names.append(part)
        return cls(tuple(names), tuple(networks))

    def _covered(self, address: Address) -> bool:
        return any(address in network for network in self.networks)

    def _named(self, host: str) -> bool:
        return any(host == n or (n.startswith(".") and host.endswith(n)) for n in self.names)

    def check_url(self, url: str) -> str:
        """The URL's host if the URL may be used at all (http(s), a host on the list); else
        WebhookRefused. Addresses are checked at delivery (`check_addresses`)."""
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if parts.scheme not in ("https", "http") or not host:
            raise WebhookRefused("回调地址应为 http(s):// 开头的完整地址")
        try:
            literal: Address | None = ipaddress.ip_address(host)
        except ValueError:
            literal = None
        if literal is not None:
            if not self._covered(literal):
                raise WebhookRefused(f"回调地址 {host} 不在允许列表内")
        elif not self._named(host):
            raise WebhookRefused(f"回调主机 {host} 不在允许列表内（GONGSHI_WEBHOOK_ALLOWED_HOSTS）")
        return host

    def check_addresses(self, host: str, port: int) -> None:
        try:
            infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
        except OSError as err:
            raise WebhookRefused(f"回调主机 {host} 无法解析：{err}") from err
        for info in infos:
            address = ipaddress.ip_address(info[4][0])
            if self._covered(address):
                continue
            if not address.is_global:
                raise WebhookRefused(f"回调主机 {host} 解析到非公网地址 {address}，未在允许列表中列出")


class WebhookSender:
    def __init__(self, allowed: AllowList, *, timeout_s: float = 5.0) -> None:
        self.allowed = allowed
        self.timeout_s = timeout_s

    def __call__(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        host = self.allowed.check_url(url)
        parts = urlsplit(url)
        self.allowed.check_addresses(host, parts.port or (443 if parts.scheme == "https" else 80))
        response = httpx.post(
            url, content=body, headers=headers, timeout=self.timeout_s, follow_redirects=False
        )
        return response.status_code
