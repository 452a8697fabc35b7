"""The public website: home, search, entity record, department publicity, announcements, rules, FAQ.

Server-rendered (Jinja2), works without JavaScript. Query parameters are read leniently: a bad
page number or date becomes a message on the page, never an error page. A page number past the
last page is answered 404 with the page count and a link to the last page (`api.paging`). Domain errors (an
invalid USCC, an unknown entity) propagate to the HTML error handlers in `api.web.errors`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from adapters.search_index.base import RecordQuery
from api.deps import ClockDep, DepartmentsDep, IndexDep
from api.lookup import did_you_mean, find_entity
from api.paging import MAX_ROWS, PageDepth, depth
from api.web import present, queries, timeline
from api.web.rendering import markdown_page, render
from domain.departments import Department, DepartmentRegistry
from domain.errors import InvalidRegistrationNumber, InvalidUSCC
from domain.kinds import CATEGORIES
from domain.names.query import MIN_QUERY_LENGTH, clean
from domain.uscc import (
    USCC,
    check_failed,
    looks_like_registration_number,
    looks_like_uscc,
    validate_registration_number,
)
from projections.documents import public_view, summary

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 20
MAX_PAGE = MAX_ROWS // PAGE_SIZE
ANNOUNCEMENT_TYPES = tuple(c.key for c in CATEGORIES if c.announcement)
PUBLICITY_CATEGORIES = tuple(c.key for c in CATEGORIES if c.department_publicity)
HOME_CATEGORIES = tuple(c.key for c in CATEGORIES if c.headline)


def _page(raw: str | None) -> int:
    try:
        return max(int(raw or 1), 1)
    except ValueError:
        return 1


def _probe(page: int, limit: int) -> int:
    """The page to read: `page`, or 1 when it lies past any list's reach (for the total only)."""
    return page if page <= limit else 1


def _date(raw: str | None, label: str, errors: list[str]) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        errors.append(f"{label}“{raw}”不是有效日期，请按 年-月-日（如 2024-05-01）填写")
        return None


def _pages(at: PageDepth) -> dict[str, Any]:
    last = max(1, at.pages)
    page = min(at.page, last)
    window = sorted({1, last, *range(max(1, page - 2), min(last, page + 2) + 1)})
    return {
        "page": page,
        "last": last,
        "window": window,
        "total": at.total,
        "beyond": at.beyond,
        "message": at.message() if at.beyond else "",
    }


def _department_names(departments: DepartmentRegistry) -> dict[str, str]:
    return {d.code: d.name for d in departments.all()}


def _usable_departments(departments: DepartmentRegistry) -> list[Department]:
    return [d for d in departments.all() if d.code != "ENTERPRISE"]


@router.get("/", response_class=HTMLResponse)
def home(request: Request, index: IndexDep, clock: ClockDep, departments: DepartmentsDep) -> HTMLResponse:
    today = clock.today()
    recent = queries.records(index, HOME_CATEGORIES, RecordQuery(), today, 1, 10)
    context = {
        "nav_active": "home",
        "recent": recent.items,
        "entity_count": index.count(),
        "department_count": len(_usable_departments(departments)),
        "names": _department_names(departments),
    }
    return render(request, "home.html", context)


@router.get("/search", response_class=HTMLResponse)
def search(
    request: Request,
    index: IndexDep,
    clock: ClockDep,
    q: str = "",
    page: str | None = None,
    status: str = "",
    district: str = "",
) -> HTMLResponse:
    today = clock.today()
    q = q.strip()[:100]
    number = _page(page)
    status = status if status in present.STATUSES else ""
    district = district if district in dict(present.DISTRICTS) else ""
    problem = None
    problem_title = "请核对您输入的代码："
    candidates: list[dict[str, str]] = []
    compact = clean(q).replace(" ", "").upper()
    q_searched = q
    is_code = looks_like_uscc(compact) or looks_like_registration_number(compact)
    if q and not is_code and len(compact) < MIN_QUERY_LENGTH:  # as the hints say: 2 characters
        problem_title = "查询内容过短："
        problem = f"请至少输入 {MIN_QUERY_LENGTH} 个字（名称关键字或拼音），或完整的代码"
        q_searched = ""
    try:
        if looks_like_uscc(compact):
            USCC.parse(compact)
        elif looks_like_registration_number(compact):
            validate_registration_number(compact)
    except (InvalidUSCC, InvalidRegistrationNumber) as err:
        problem = err.message
        if check_failed(err):
            candidates = did_you_mean(index, compact, today)
    found = queries.Results(0)
    if q_searched or status or district:
        found = queries.search(
            index,
            q_searched,
            today,
            _probe(number, MAX_PAGE),
            PAGE_SIZE,
            status=status or None,
            district=district or None,
        )
    at = depth(number, found.total, PAGE_SIZE, MAX_PAGE)
    if at.beyond:
        found = queries.Results(found.total)
    items = [
        summary(doc, today) | {"registration_number": doc.get("registration_number")} for doc in found.items
    ]
    params = {"q": q, "status": status, "district": district}
    context = {
        "nav_active": "search",
        "search_form_on_page": True,
        "q": q,
        "status": status,
        "district": district,
        "statuses": present.STATUSES,
        "districts": present.DISTRICTS,
        "items": items,
        "found": found,
        "pages": _pages(at),
        "params": params,
        "problem": problem,
        "problem_title": problem_title,
        "candidates": candidates,
        "title": f"“{q}”的查询结果" if q else "筛选结果" if status or district else "信用信息查询",
    }
    return render(request, "search.html", context, status=404 if at.beyond else 200)


@router.get("/entity/{uscc}", response_class=HTMLResponse)
def entity(
    request: Request,
    uscc: str,
    index: IndexDep,
    clock: ClockDep,
    departments: DepartmentsDep,
    tab: str = "",
) -> HTMLResponse:
    today = clock.today()
    doc = find_entity(index, uscc, today)
    view = public_view(doc, today)
    tab = tab if tab in present.TAB_KEYS else ""
    events = timeline.events(view, today)
    tabs = [
        {"key": key, "label": label, "count": None if field is None else len(view.get(field) or [])}
        for key, label, field in present.TABS
    ]
    context = {
        "nav_active": "search",
        "view": view,
        "tab": tab,
        "tabs": tabs,
        "names": _department_names(departments),
        "timeline": timeline.svg(view, today) + timeline.svg(view, today, timeline.COMPACT),
        "events": events,
        "legend": timeline.legend(events),
        "title": view["name"],
    }
    return render(request, "entity.html", context)


@router.get("/publicity", response_class=HTMLResponse)
def publicity(
    request: Request,
    index: IndexDep,
    clock: ClockDep,
    departments: DepartmentsDep,
    category: str = "",
    department: str = "",
    page: str | None = None,
) -> HTMLResponse:
    today = clock.today()
    errors: list[str] = []
    raw_from, raw_to = request.query_params.get("from", ""), request.query_params.get("to", "")
    date_from = _date(raw_from, "开始日期", errors)
    date_to = _date(raw_to, "结束日期", errors)
    if date_from and date_to and date_from > date_to:
        errors.append("开始日期晚于结束日期，已按两者对调后查询")
        date_from, date_to = date_to, date_from
    category = category if category in PUBLICITY_CATEGORIES else ""
    usable = _usable_departments(departments)
    if department and department not in {d.code for d in usable}:
        errors.append(f"未找到部门“{department}”，已显示全部部门的公示信息")
        department = ""
    number = _page(page)
    base = RecordQuery(department=department or None, date_from=date_from, date_to=date_to)
    cats = (category,) if category else PUBLICITY_CATEGORIES
    limit = MAX_PAGE if category else queries.MAX_MERGED_PAGE
    found = queries.records(index, cats, base, today, _probe(number, limit), PAGE_SIZE)
    at = depth(number, found.total, PAGE_SIZE, limit)
    if at.beyond:
        found = queries.Results(found.total)
    # only dates that were read reach the result line, the form and the page links; a bad one is
    # named once, in its error
    shown_from = date_from.isoformat() if date_from else ""
    shown_to = date_to.isoformat() if date_to else ""
    params = {"category": category, "department": department, "from": shown_from, "to": shown_to}
    context = {
        "nav_active": "publicity",
        "category": category,
        "department": department,
        "date_from": shown_from,
        "date_to": shown_to,
        "categories": PUBLICITY_CATEGORIES,
        "departments": usable,
        "errors": errors,
        "rows": found.items,
        "found": found,
        "pages": _pages(at),
        "params": params,
        "names": _department_names(departments),
        "title": "部门公示信息",
    }
    return render(request, "publicity.html", context, status=404 if at.beyond else 200)


@router.get("/announcements", response_class=HTMLResponse)
def announcements(
    request: Request,
    index: IndexDep,
    clock: ClockDep,
    departments: DepartmentsDep,
    type: str = "",
    page: str | None = None,
) -> HTMLResponse:
    today = clock.today()
    kind = type if type in ANNOUNCEMENT_TYPES else ""
    number = _page(page)
    cats = (kind,) if kind else ANNOUNCEMENT_TYPES
    limit = MAX_PAGE if kind else queries.MAX_MERGED_PAGE
    found = queries.records(index, cats, RecordQuery(), today, _probe(number, limit), PAGE_SIZE)
    at = depth(number, found.total, PAGE_SIZE, limit)
    if at.beyond:
        found = queries.Results(found.total)
    context = {
        "nav_active": "announcements",
        "kind": kind,
        "types": ANNOUNCEMENT_TYPES,
        "rows": found.items,
        "found": found,
        "pages": _pages(at),
        "params": {"type": kind},
        "names": _department_names(departments),
        "title": "公告",
    }
    return render(request, "announcements.html", context, status=404 if at.beyond else 200)


def _content(request: Request, name: str) -> HTMLResponse:
    title, html, toc = markdown_page(name)
    return render(request, "content.html", {"nav_active": name, "title": title, "body": html, "toc": toc})


@router.get("/policy", response_class=HTMLResponse)
def policy(request: Request) -> HTMLResponse:
    return _content(request, "policy")


@router.get("/faq", response_class=HTMLResponse)
def faq(request: Request) -> HTMLResponse:
    return _content(request, "faq")
