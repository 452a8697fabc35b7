"""The PDF credit extract (信用信息报告) of an entity's public record, and its issuing.

Rendered by WeasyPrint from a Jinja2 template (`templates/pdf/extract.html`, in the pages' own
environment and filters) into a tagged PDF/UA-1: a structure tree (headings, tables with header
cells, paragraphs), `Lang` zh-CN, the title shown as the window title; the CJK font (WenQuanYi
Micro Hei, Debian `fonts-wqy-microhei`, found through fontconfig) embedded as a subset. Why not
reportlab, which drew it before: docs/ARCHITECTURE.md ("The PDF credit extract").

Each issued file gets a fresh verification code printed on every page, is sealed (PAdES, the
platform's extract key: `adapters/extract_seal.py`), and the SHA-256 of the exact sealed bytes is
recorded in the extract ledger, so `/verify` can tell a genuine file from an altered one, and
anyone can check the seal offline with the published certificate. One extract is issued per
entity version and system date: asked again, the ledger's kept file is served as it was (same
bytes, same code, no new ledger row).
"""

from __future__ import annotations

import hashlib
import threading
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from weasyprint import CSS, HTML

from adapters.extract_ledger import ExtractLedger, IssuedExtract, new_code
from adapters.extract_seal import ExtractSeal
from api.web.rendering import ENV, TEMPLATES
from domain.clock import CHINA, Clock
from domain.departments import DepartmentRegistry
from domain.kinds import SECTIONS
from projections.documents import public_view

#: The plain sections drawn with tables of their own; the others share one layout.
_DRAWN_ABOVE = frozenset({"filings", "inspections"})
FONT_FILES: tuple[tuple[Path, int], ...] = (
    (Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"), 0),
    (Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"), 0),
)
FONT_NAME = "WenQuanYi Micro Hei"
#: How an internal extract names each penalty's state as of its date (the agencies' view).
PENALTY_STATES = {
    "public": "公示中",
    "not_yet_public": "尚未公示",
    "window_ended": "公示期满",
    "repaired": "已信用修复",
    "revoked": "已撤销",
    "not_publicised": "依规不予公示",
}
_render_lock = threading.Lock()


class ExtractFontMissing(Exception):
    """No CJK TrueType font to embed: install `fonts-wqy-microhei` (infra/provision/pdf-tools.sh)."""


def ensure_font() -> str:
    """The CJK font's name; raise ExtractFontMissing when none is installed (WeasyPrint would
    silently fall back to a font without Chinese, and print empty boxes)."""
    if not any(path.exists() for path, _ in FONT_FILES):
        raise ExtractFontMissing("未安装中文字体 fonts-wqy-microhei，无法生成信用信息报告")
    return FONT_NAME


TEMPLATE = "pdf/extract.html"
STYLESHEET = TEMPLATES / "pdf" / "extract.css"
#: The plain sections the extract lists after the annual reports, each as a table of its items.
OTHER_SECTIONS = tuple(s for s in SECTIONS if s.plain and s.key not in _DRAWN_ABOVE and s.field)


def _refuse_fetch(url: str, timeout: int = 10, ssl_context: Any = None) -> dict[str, Any]:
    """WeasyPrint's URL fetcher: the extract loads nothing (its CSS is passed in, its font comes
    from fontconfig), so any URL in the data is refused rather than fetched."""
    raise ValueError(f"the extract fetches no URL ({url[:60]})")


def record_sources(view: Any) -> list[dict[str, Any]]:
    """Every fact's source in an agency's as-of record (the `provenance` that
    `projections.history` gives each fact), once per publication, in event order: what the
    internal extract's 记录来源 table prints."""
    found: dict[str, dict[str, Any]] = {}
    stack = [view]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            provenance = item.get("provenance")
            if isinstance(provenance, dict) and provenance.get("publication_id"):
                found.setdefault(str(provenance["publication_id"]), provenance)
            stack.extend(v for k, v in item.items() if k != "provenance")
        elif isinstance(item, list):
            stack.extend(item)
    return sorted(found.values(), key=lambda p: (p.get("position") is None, p.get("position") or 0))


def _html(view: dict[str, Any], names: dict[str, str], meta: dict[str, str]) -> str:
    internal = bool(meta.get("internal"))
    changes = [(c, ch) for c in view.get("changes") or [] for ch in c.get("changes") or []]
    keywords = [f"uscc:{view['uscc']}", f"verification-code:{meta['code']}"]
    keywords += [f"{k}:{meta[k]}" for k in ("position", "version") if meta.get(k)]  # verification data
    if internal:
        keywords.append("classification:internal")
    context = {
        "view": view,
        "reg": view.get("registration") or {},
        "names": names,
        "meta": meta,
        "internal": internal,
        "changes": changes,
        "keywords": " ".join(keywords),
        "created": meta.get("created", ""),
        "OTHER_SECTIONS": OTHER_SECTIONS,
        "PENALTY_STATES": PENALTY_STATES,
        "sources": record_sources(view) if internal else [],
    }
    return ENV.get_template(TEMPLATE).render(context)


@lru_cache(maxsize=1)
def _stylesheet() -> CSS:
    return CSS(string=STYLESHEET.read_text(encoding="utf-8"))


def render_pdf(view: dict[str, Any], names: dict[str, str], meta: dict[str, str]) -> bytes:
    """The extract's PDF bytes (unsealed): a tagged PDF/UA-1 in Chinese (`zh-CN`) with its title,
    rendered by WeasyPrint from `templates/pdf/extract.html`.

    `meta`: display text — `code`, `generated_at`, `reflects` (what the information is as of),
    `verify` — and the verification data kept in the file's metadata (`position`, `version`). An
    internal extract (`internal` set; with `agency`, `officer`, `purpose`) is marked 内部 on every
    page and prints who asked and why; each penalty may carry its `state` on the extract's date."""
    return write_pdf(_html(view, names, meta))


def write_pdf(markup: str) -> bytes:
    """A tagged PDF/UA-1 of an HTML document from `templates/pdf/` (the extract, a filing's
    receipt), laid out with `extract.css`, nothing fetched, the CJK font embedded."""
    ensure_font()
    html = HTML(string=markup, url_fetcher=_refuse_fetch, base_url=str(TEMPLATES))
    with _render_lock:  # WeasyPrint's font configuration is shared by the process
        pdf = html.write_pdf(stylesheets=[_stylesheet()], pdf_variant="pdf/ua-1", uncompressed_pdf=False)
    if pdf is None:  # write_pdf returns the bytes when no target is given
        raise RuntimeError("WeasyPrint wrote no PDF")
    return bytes(pdf)


def issue(
    doc: dict[str, Any],
    verify_url: str,
    *,
    clock: Clock,
    position: int,
    departments: DepartmentRegistry,
    ledger: ExtractLedger,
    seal: ExtractSeal,
) -> tuple[bytes, IssuedExtract]:
    """The extract of a stored public document (which reflects the event store up to
    `position`): the one already issued for its version today, else a new one, sealed, recorded
    in the ledger and kept for reuse."""
    today = clock.today()
    version = int(doc.get("version") or 0)
    earlier = ledger.kept(str(doc["uscc"]), version, today)
    if earlier is not None:
        return earlier.pdf, earlier.issued
    ensure_font()
    view = public_view(doc, today)
    generated_at = clock.now()
    code = new_code()
    meta = {
        "code": code,
        "generated_at": generated_at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S（北京时间）"),
        "reflects": today.isoformat(),
        "verify": f"访问 {verify_url} 上传本文件或输入验证码 {code}",
        "created": generated_at.isoformat(timespec="seconds"),
        "position": str(position),
        "version": str(version),
    }
    names = {d.code: d.name for d in departments.all()}
    pdf = seal.seal(render_pdf(view, names, meta))
    issued = IssuedExtract(
        sha256=hashlib.sha256(pdf).hexdigest(),
        code=code,
        uscc=view["uscc"],
        position=position,
        version=version,
        generated_at=generated_at,
    )
    kept = ledger.keep(issued, today, pdf)  # a concurrent download's file wins if it came first
    return kept.pdf, kept.issued


def generated_at_text(when: datetime) -> str:
    return when.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")


def issue_internal(
    view: dict[str, Any],
    verify_url: str,
    *,
    clock: Clock,
    position: int,
    version: int,
    departments: DepartmentRegistry,
    ledger: ExtractLedger,
    seal: ExtractSeal,
    agency: str,
    officer: str | None,
    purpose: str,
) -> tuple[bytes, IssuedExtract]:
    """An internal (内部) extract of an agency's as-of record (`projections.history`): every
    record, unmasked, each penalty's state on that date; marked 内部 on every page (a header line
    and a watermark), with the agency, officer and purpose printed. Sealed and recorded in the
    ledger like the public extract (so `/verify` tells it is genuine, and the seal checks
    offline), but never kept for reuse: each one names its reader."""
    ensure_font()
    generated_at = clock.now()
    code = new_code()
    local = generated_at.astimezone(CHINA)
    meta = {
        "internal": "1",
        "code": code,
        "generated_at": local.strftime("%Y-%m-%d %H:%M:%S（北京时间）"),
        "reflects": f"业务日期 {view['as_of']} 日终"
        + (f"，平台截至 {view['known_at']} 已记录的信息" if view.get("known_at") else "")
        + f"（平台事件位置 {position}，该主体记录第 {version} 版）",
        "verify": f"访问 {verify_url} 上传本文件或输入验证码 {code}",
        "agency": agency,
        "officer": officer or "",
        "purpose": purpose,
        "created": generated_at.isoformat(timespec="seconds"),
        "position": str(position),
        "version": str(version),
    }
    names = {d.code: d.name for d in departments.all()}
    pdf = seal.seal(render_pdf(view, names, meta), reason="内部信用信息报告")
    issued = IssuedExtract(
        sha256=hashlib.sha256(pdf).hexdigest(),
        code=code,
        uscc=view["uscc"],
        position=position,
        version=version,
        generated_at=generated_at,
    )
    ledger.record(issued)
    return pdf, issued
