"""The enterprise portal's pages (behind the session cookie; zh-CN, phone-first, no script needed):

- `/enterprise/` — the dashboard: each year's annual report with its window and state, listings
  (with the application to leave the list), applications and objections with their deadlines,
  disclosures, the latest filings with their receipts, and the agencies that read the record (the access log);
- `/enterprise/annual-reports/{year}` — the report form: the saved draft (or the filed version)
  filled in, a publish choice beside each optional figure, the errors beside their fields, the
  cross-checks it fails; "保存草稿" keeps it, "检查并报送" saves it and shows the confirmation;
  the history of every version filed;
- `/enterprise/annual-reports/{year}/confirm` — what will be public and what not, and the filing;
- `/enterprise/activate` — setting the password with the activation code.

Every form posts with a CSRF token; the work is the same desk the API uses (`casework`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from adapters.credentials import AccountError
from api.access import what_route
from api.deps import ApplicationsDep, CredentialsDep, CsrfDep, DeskDep, EnterprisePrincipalDep, PublicUrlDep
from api.routers.enterprise import normalise_uscc, user_name
from api.web.receipt import render_receipt
from api.web.rendering import render
from casework.applications import DISCLOSURE_KINDS
from domain.annual_report import OPTIONAL_FIELDS, REPORT_FIELD_LABELS, public_report, withheld_fields
from domain.errors import DomainError, EntityNotFound

router = APIRouter(include_in_schema=False)

Year = Annotated[int, Path(ge=2000, le=2100)]

#: The report form: simple fields, the optional figures (each with its publish choice), and the
#: repeating groups with their columns — (name, label, input type, options).
SIMPLE_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("address", "通信地址", "text"),
    ("postal_code", "邮政编码", "text"),
    ("phone", "联系电话", "tel"),
    ("email", "电子邮箱", "email"),
)
OPERATING_STATUSES = ("开业", "歇业", "清算")
METHODS = ("", "货币", "实物", "知识产权", "土地使用权", "股权", "债权", "其他")
GROUPS: dict[str, tuple[str, tuple[tuple[str, str, str, tuple[str, ...]], ...]]] = {
    "online_stores": (
        "网站或网店",
        (
            ("kind", "类型", "select", ("website", "shop")),
            ("name", "名称", "text", ()),
            ("url", "网址", "url", ()),
        ),
    ),
    "investments": (
        "对外投资设立企业、购买股权",
        (
            ("name", "企业名称", "text", ()),
            ("uscc", "统一社会信用代码", "text", ()),
            ("amount", "投资额（元）", "money", ()),
        ),
    ),
    "shareholders": (
        "股东及出资信息",
        (
            ("name", "股东", "text", ()),
            ("subscribed_amount", "认缴出资额（元）", "money", ()),
            ("subscribed_on", "认缴出资日期", "date", ()),
            ("subscribed_method", "认缴出资方式", "select", METHODS),
            ("paid_amount", "实缴出资额（元）", "money", ()),
            ("paid_on", "实缴出资日期", "date", ()),
            ("paid_method", "实缴出资方式", "select", METHODS),
        ),
    ),
    "equity_transfers": (
        "股权变更信息",
        (
            ("shareholder", "股东", "text", ()),
            ("before_percent", "变更前比例（%）", "money", ()),
            ("after_percent", "变更后比例（%）", "money", ()),
            ("changed_on", "变更日期", "date", ()),
        ),
    ),
}
OPTION_LABELS = {"website": "网站", "shop": "网店", "": "（未填）"}


def report_body(form: FormData) -> dict[str, Any]:
    """A posted report form → the draft body: empty fields left out, empty rows dropped."""
    body: dict[str, Any] = {}
    for name in (*(n for n, _, _ in SIMPLE_FIELDS), "operating_status", *OPTIONAL_FIELDS, "reason"):
        value = str(form.get(name) or "").strip()
        if value:
            body[name] = value
    if "employees" in body and body["employees"].isdigit():
        body["employees"] = int(body["employees"])
    for group, (_, columns) in GROUPS.items():
        rows = []
        for i in range(50):
            row = {c: str(form.get(f"{group}-{i}-{c}") or "").strip() for c, *_ in columns}
            if not any(f"{group}-{i}-{c}" in form for c, *_ in columns):
                break
            filled = {k: v for k, v in row.items() if v}
            if set(filled) - {"kind"}:  # a row with nothing but its default type is empty
                rows.append(filled)
        if rows:
            body[group] = rows
    body["publicised"] = [f for f in form.getlist("publicised") if f in OPTIONAL_FIELDS]
    return body


def _errors_by_field(errors: list[dict[str, Any]]) -> dict[str, str]:
    """Errors keyed as the form names its inputs (`shareholders-0-paid_amount`)."""
    out: dict[str, str] = {}
    for e in errors:
        loc = [str(p) for p in e.get("loc", []) if p != "body"]
        key = "-".join(loc) if loc else "_"
        out.setdefault(key, e["message"])
    return out


def _report_page(
    request: Request,
    desk: Any,
    principal: Any,
    year: int,
    *,
    body: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    notice: str | None = None,
    problem: str | None = None,
    status: int = 200,
) -> Response:
    shown = desk.annual_report(principal, year)
    if body is None:
        draft, filed = shown["draft"], shown["filed"]
        body = (draft["body"] if draft else None) or (dict(filed) if filed else {})
    problems = {}
    if shown["draft"] and body is shown["draft"]["body"]:
        problems = _errors_by_field(shown["draft"]["problems"])
    rows = {group: [*body.get(group, []), {}] for group in GROUPS}
    context = {
        "title": f"{year} 年度报告",
        "year": year,
        "report": shown,
        "body": body,
        "rows": rows,
        "errors": errors or {},
        "problems": problems,
        "notice": notice,
        "problem": problem,
        "SIMPLE_FIELDS": SIMPLE_FIELDS,
        "OPTIONAL_FIELDS": OPTIONAL_FIELDS,
        "LABELS": REPORT_FIELD_LABELS,
        "GROUPS": GROUPS,
        "OPTION_LABELS": OPTION_LABELS,
        "OPERATING_STATUSES": OPERATING_STATUSES,
        "correcting": shown["filed"] is not None,
        "nav_active": "enterprise",
    }
    return render(request, "enterprise_report.html", context, status=status)


@router.get("/enterprise/", response_class=HTMLResponse)
def dashboard(
    request: Request, principal: EnterprisePrincipalDep, desk: DeskDep, notice: str | None = None
) -> Response:
    try:
        me = desk.me(principal)
    except EntityNotFound:  # an account invited before its registration was applied
        me = {
            "uscc": principal.subject,
            "name": "（登记信息尚未记入本平台）",
            "acting": {"user": principal.user},
            "annual_reports": [],
            "listings": [],
            "cases": [],
            "disclosures": [],
            "filings": [],
            "reads": {"available": False, "message": "登记信息记入本平台后显示"},
            "next_report": None,
        }
    for read in me["reads"].get("items", []):
        read["what"] = what_route(read["route"])
    context = {
        "title": "企业首页",
        "me": me,
        "notice": notice,
        "nav_active": "enterprise",
        "DISCLOSURE_KINDS": DISCLOSURE_KINDS,
    }
    return render(request, "enterprise_home.html", context)


@router.get("/enterprise/annual-reports/{year}", response_class=HTMLResponse)
def report_form(
    request: Request, year: Year, principal: EnterprisePrincipalDep, desk: DeskDep, filed: str | None = None
) -> Response:
    notice = None
    if filed:
        notice = f"已提交，报送编号 {filed}。生效后记入信用记录；可下载回执。"
    return _report_page(request, desk, principal, year, notice=notice)


@router.post("/enterprise/annual-reports/{year}", response_class=HTMLResponse, dependencies=[CsrfDep])
async def report_save(
    request: Request, year: Year, principal: EnterprisePrincipalDep, desk: DeskDep
) -> Response:
    form = await request.form()
    body = report_body(form)
    try:
        saved = await run_in_threadpool(desk.save_report_draft, principal, year, body)
    except DomainError as err:
        errors, message = _errors_by_field(err.detail.get("errors", [])), err.message
        return await run_in_threadpool(
            lambda: _report_page(
                request, desk, principal, year, body=body, errors=errors, problem=message, status=422
            )
        )
    if form.get("action") == "review":
        return RedirectResponse(f"/enterprise/annual-reports/{year}/confirm", status_code=303)
    notice = f"草稿已保存（第 {saved['revision']} 版）。草稿不公示，报送后才记入信用记录。"
    return await run_in_threadpool(lambda: _report_page(request, desk, principal, year, notice=notice))


@router.get("/enterprise/annual-reports/{year}/confirm", response_class=HTMLResponse)
def report_confirm(
    request: Request, year: Year, principal: EnterprisePrincipalDep, desk: DeskDep
) -> Response:
    shown = desk.annual_report(principal, year)
    draft = shown["draft"]
    if draft is None:
        return RedirectResponse(f"/enterprise/annual-reports/{year}", status_code=303)
    body = draft["body"]
    hidden = withheld_fields({**body, "form": 2})
    context = {
        "title": f"确认报送 {year} 年度报告",
        "year": year,
        "report": shown,
        "body": body,
        "public": {
            k: v
            for k, v in public_report({**body, "form": 2}, natural_person=False).items()
            if k in REPORT_FIELD_LABELS
        },
        "private": {k: body[k] for k in OPTIONAL_FIELDS if k in hidden and body.get(k) not in (None, "")},
        "LABELS": REPORT_FIELD_LABELS,
        "correcting": shown["filed"] is not None,
        "problems": draft["problems"],
        "nav_active": "enterprise",
    }
    return render(request, "enterprise_report_confirm.html", context)


@router.post("/enterprise/annual-reports/{year}/submit", response_class=HTMLResponse, dependencies=[CsrfDep])
async def report_submit(
    request: Request,
    year: Year,
    principal: EnterprisePrincipalDep,
    desk: DeskDep,
    reason: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    try:
        filed = await run_in_threadpool(desk.submit_report, principal, year, reason.strip() or None)
    except DomainError as err:
        errors, message = _errors_by_field(err.detail.get("errors", [])), err.message
        status = 409 if err.code.startswith("report_") else 422
        return await run_in_threadpool(
            lambda: _report_page(
                request, desk, principal, year, errors=errors, problem=message, status=status
            )
        )
    return RedirectResponse(
        f"/enterprise/annual-reports/{year}?filed={filed['publication_id']}", status_code=303
    )


@router.get("/enterprise/filings/{publication_id}/receipt.pdf")
async def receipt(
    publication_id: str, principal: EnterprisePrincipalDep, desk: DeskDep, public_url: PublicUrlDep
) -> Response:
    status = await run_in_threadpool(desk.filing, principal, publication_id)
    name = (await run_in_threadpool(desk.entity, status.filing.uscc)).name
    pdf = await run_in_threadpool(render_receipt, status, name, f"{public_url}/verify")
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="receipt-{publication_id}.pdf"'},
    )


@router.post("/enterprise/abnormal-removals", dependencies=[CsrfDep])
async def apply_for_removal(
    principal: EnterprisePrincipalDep,
    applications: ApplicationsDep,
    decision_no: Annotated[str, Form(max_length=200)],
) -> Response:
    try:
        filed = await run_in_threadpool(applications.apply_for_removal, principal, decision_no, None)
        notice = f"已提交移出申请 {filed['number']}，登记机关应于 {filed['due']['on']} 前作出决定"
    except DomainError as err:
        notice = err.message
    from urllib.parse import quote

    return RedirectResponse(f"/enterprise/?notice={quote(notice)}", status_code=303)


# --- activation -------------------------------------------------------------------------------------


@router.get("/enterprise/activate", response_class=HTMLResponse)
def activate_page(request: Request) -> Response:
    return render(request, "enterprise_activate.html", {"title": "激活企业账户", "nav_active": "enterprise"})


@router.post("/enterprise/activate", response_class=HTMLResponse, dependencies=[CsrfDep])
async def activate_submit(
    request: Request,
    credentials: CredentialsDep,
    uscc: Annotated[str, Form(max_length=40)] = "",
    user: Annotated[str, Form(max_length=40)] = "",
    code: Annotated[str, Form(max_length=40)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    context = {"title": "激活企业账户", "uscc": uscc, "user": user, "nav_active": "enterprise"}
    try:
        await run_in_threadpool(credentials.activate, normalise_uscc(uscc), code, password, user_name(user))
    except AccountError as err:
        return render(request, "enterprise_activate.html", {**context, "problem": err.message}, status=400)
    return render(request, "enterprise_activate.html", {**context, "done": True})
