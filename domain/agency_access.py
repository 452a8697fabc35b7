"""An agency's access to the register: the stated purpose, the officer, and who may see a read.

Every call an agency makes under `/api/v1/agency/` states why (`X-Purpose`, or the `purpose`
query parameter) and may name the officer acting (`X-Officer`); both are written to the access
log with the call. HTTP header values travel as Latin-1, so Chinese text is sent percent-encoded
UTF-8 (`%E7%A8%BD%E6%9F%A5` = 稽查) and decoded here; the log keeps the decoded text.

An enterprise may read who read its record (`reads_of`). A read the agency marked confidential
(an open investigation, `X-Confidential: 1`) is shown to the enterprise only from
`visible_from(...)` on — the day of the read plus the delay (`GONGSHI_CONFIDENTIAL_READ_DELAY_DAYS`,
default 180) — so the log cannot tip off a firm under investigation; administrators see it at once.

Pure values and rules; the log itself is an adapter (`adapters.access_log`).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

__all__ = [
    "MAX_OFFICER_CHARS",
    "MAX_PURPOSE_CHARS",
    "MIN_PURPOSE_CHARS",
    "AccessEntry",
    "HeaderTextError",
    "decode_header_text",
    "is_confidential",
    "purpose_problem",
    "visible_from",
    "visible_to_enterprise",
]

MIN_PURPOSE_CHARS = 4
MAX_PURPOSE_CHARS = 500
MAX_OFFICER_CHARS = 100
DEFAULT_CONFIDENTIAL_DELAY_DAYS = 180


class HeaderTextError(ValueError):
    """A header's value is not percent-encoded UTF-8 text."""


def decode_header_text(raw: str | None) -> str | None:
    """A header value as text: percent-encoded UTF-8 decoded, whitespace collapsed; None when
    absent or blank. Raw UTF-8 bytes (which arrive as Latin-1) are read as UTF-8 too, so a
    client that forgot to encode is understood rather than logged as mojibake."""
    if raw is None:
        return None
    text = raw
    if any(ord(ch) > 0x7F for ch in text):
        try:
            text = text.encode("latin-1").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            raise HeaderTextError("请求头应为百分号编码的 UTF-8 文本") from None
    try:
        decoded = _percent_decoded(text)
    except UnicodeDecodeError:
        raise HeaderTextError("请求头应为百分号编码的 UTF-8 文本") from None
    if any(unicodedata.category(ch) == "Cc" and not ch.isspace() for ch in decoded):
        raise HeaderTextError("请求头含有控制字符")
    collapsed = " ".join(decoded.split())
    return collapsed or None


_HEX = frozenset("0123456789abcdefABCDEF")


def _percent_decoded(text: str) -> str:
    """`%XX` escapes as bytes, everything else as its UTF-8, the whole read as UTF-8 (strict);
    a `%` not followed by two hex digits stands for itself (as `urllib.parse.unquote` reads it)."""
    out = bytearray()
    i = 0
    while i < len(text):
        if text[i] == "%" and i + 2 < len(text) and text[i + 1] in _HEX and text[i + 2] in _HEX:
            out.append(int(text[i + 1 : i + 3], 16))
            i += 3
        else:
            out += text[i].encode("utf-8")
            i += 1
    return out.decode("utf-8", errors="strict")


def purpose_problem(purpose: str | None) -> str | None:
    """Why a stated purpose is not accepted (Chinese), or None when it is."""
    if purpose is None:
        return "请说明查询目的（purpose）：机构查询须写明用途，并记入访问日志"
    if len(purpose) < MIN_PURPOSE_CHARS:
        return f"查询目的过短：至少 {MIN_PURPOSE_CHARS} 个字，例如“行政许可审查”"
    if len(purpose) > MAX_PURPOSE_CHARS:
        return f"查询目的过长：不得超过 {MAX_PURPOSE_CHARS} 个字"
    return None


def is_confidential(raw: str | None) -> bool:
    """`X-Confidential`: 1, true, yes (any case) mark the call confidential."""
    return (raw or "").strip().lower() in ("1", "true", "yes")


def visible_from(read_on: date, confidential: bool, delay_days: int) -> date:
    """The first system date an enterprise sees a read of its record."""
    return read_on + timedelta(days=delay_days) if confidential else read_on


def visible_to_enterprise(read_on: date, confidential: bool, visible_on: date, delay_days: int) -> bool:
    return visible_from(read_on, confidential, delay_days) <= visible_on


@dataclass(frozen=True)
class AccessEntry:
    """One agency call as the log keeps it.

    `at` is the instant (UTC) the answer began, `read_on` the system date then; `route` the route
    as declared (`/api/v1/agency/entities/{uscc}`), `path` and `query` what was asked; `usccs`
    the entities read or matched (for a streamed answer, those known when it ended), `counts` the
    result counts (`{"rows": 1200, "match": 67, …}`). `completed` is None for an answer sent
    whole, True/False for a stream that ended / was cut off; `ended_at` when it ended."""

    at: datetime
    read_on: date
    agency: str
    key_id: str | None
    method: str
    route: str
    path: str
    status: int
    purpose: str | None = None
    officer: str | None = None
    confidential: bool = False
    agency_name: str | None = None
    query: str | None = None
    usccs: tuple[str, ...] = ()
    uscc_count: int = 0
    counts: dict[str, Any] = field(default_factory=dict)
    id: int | None = None
    completed: bool | None = None
    ended_at: datetime | None = None

    def for_enterprise(self, delay_days: int) -> dict[str, Any]:
        """What the enterprise sees of a read of its record: which agency, when, why — not the
        officer, the key or what else was read."""
        return {
            "id": self.id,
            "at": self.at,
            "read_on": self.read_on,
            "agency": self.agency,
            "agency_name": self.agency_name,
            "route": self.route,
            "purpose": self.purpose,
            "confidential": self.confidential,
            "visible_from": visible_from(self.read_on, self.confidential, delay_days),
        }
