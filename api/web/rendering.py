"""The Jinja2 environment of the public pages and the one function that renders a page."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import markdown
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markdown.extensions.toc import slugify_unicode
from markupsafe import Markup

from api.csrf import CsrfIssuer
from api.web import present
from api.web.static_files import static_url

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
CONTENT = HERE / "content"

NAV = (
    ("/", "首页", "home"),
    ("/publicity", "部门公示", "publicity"),
    ("/announcements", "公告", "announcements"),
    ("/verify", "报告验证", "verify"),
    ("/policy", "公示规则", "policy"),
    ("/faq", "常见问题", "faq"),
    ("/open-data", "开放数据", "open-data"),
)


def _query(params: dict[str, Any], **changes: Any) -> str:
    """`?a=1&b=2` from current params with `changes` applied (None or "" drops a key)."""
    merged = {**params, **changes}
    clean = {k: v for k, v in merged.items() if v not in (None, "")}
    return "?" + urlencode(clean) if clean else "?"


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html", "xml", "svg", "atom"]),
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.filters.update(
        money=present.money,
        capital=present.capital,
        person=present.person,
        highlight=present.highlight,
        change_value=present.change_value,
        report_value=present.report_value,
    )
    env.globals.update(
        nav=NAV,
        query=_query,
        CATEGORY_LABELS=present.CATEGORY_LABELS,
        CATEGORY_TABS=present.CATEGORY_TABS,
        PLAIN_SECTIONS=present.PLAIN_SECTIONS,
        FLAG_LABELS=present.FLAG_LABELS,
        FLAG_HINTS=present.FLAG_HINTS,
        STATUS_CLASSES=present.STATUS_CLASSES,
        SEVERITY_LABELS=present.SEVERITY_LABELS,
        RULE_SET_NAMES=present.RULE_SET_NAMES,
        REGISTRATION_FIELDS=present.REGISTRATION_FIELDS,
        REPORT_FIELDS=present.REPORT_FIELDS,
        static_url=static_url,
    )
    return env


ENV = _environment()


def render(request: Request, template: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    container = request.app.state.container
    csrf = CsrfIssuer(request, tag=getattr(request.state, "csrf_tag", ""))
    page = {
        "request": request,
        "today": container.clock.today(),
        "path": request.url.path,
        "csrf_field": csrf.field,  # in every form that changes something (api/csrf.py)
        **context,
    }
    html = ENV.get_template(template).render(page)
    response = HTMLResponse(html, status_code=status)
    csrf.set_cookie(response)
    return response


@lru_cache(maxsize=8)
def markdown_page(name: str) -> tuple[str, Markup, list[dict[str, Any]]]:
    """(title, HTML, table of contents) of `content/<name>.md`; the first `# ` line is the title."""
    text = (CONTENT / f"{name}.md").read_text(encoding="utf-8")
    md = markdown.Markdown(
        extensions=["tables", "toc", "sane_lists", "attr_list"],
        extension_configs={"toc": {"slugify": slugify_unicode}},
        output_format="html",
    )
    html = md.convert(text)
    toc = getattr(md, "toc_tokens", [])
    title = toc[0]["name"] if toc else name
    children = toc[0].get("children", []) if toc else []
    return title, Markup(html), children
