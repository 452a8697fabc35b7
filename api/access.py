"""The matrix: for every route the app serves, who may call it and how it is counted.

One table (`MATRIX`), read by the gate (`api.gate`) on every request — routes do not check
roles themselves; they take the principal the gate admitted (`api.deps.PrincipalDep` and its
narrower aliases). `tests/e2e/test_access_matrix.py` fails on a route missing from the table (or
a row with no route) and calls every route as every caller; docs/SECURITY.md shows the table
(`python -m api.access --write`, also run by `make schemas`; a test keeps it current).

The callers (`Caller`) are the five roles split where the matrix must tell them apart: the public
with no credential (`anonymous`) or with a public API key (`public`), and the Prometheus scrape
token (`metrics`, `GONGSHI_METRICS_TOKEN`), which is no role and may read `/metrics` only.

Each row also names the bucket an anonymous caller is counted in (`api` or `pages`, per client
address; see `api.limits`): keyed callers are counted per key on every limited route. `None`:
not counted (`/healthz` for load balancers, `/static` files).

A path that no row matches is answered by the router (404, 405); under a group's prefix
(`GROUPS`) the group's callers apply first, so `/api/v1/admin/anything` asks for an admin key
before it says there is nothing there.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from starlette.routing import compile_path

from domain.access import AGENCY_SCOPES, Principal, Role

__all__ = [
    "ANYONE",
    "GROUPS",
    "MATRIX",
    "Access",
    "Caller",
    "caller_of",
    "lookup",
    "matrix_markdown",
]


class Caller(StrEnum):
    ANONYMOUS = "anonymous"
    PUBLIC = "public"  # a public API key (higher limits only)
    ENTERPRISE = "enterprise"  # a token from /api/v1/enterprise/token, or the session cookie
    DEPARTMENT = "department"
    AGENCY = "agency"
    ADMIN = "admin"
    METRICS = "metrics"  # GONGSHI_METRICS_TOKEN


LABELS = {
    Caller.ANONYMOUS: "匿名",
    Caller.PUBLIC: "公众密钥",
    Caller.ENTERPRISE: "企业",
    Caller.DEPARTMENT: "部门",
    Caller.AGENCY: "机构",
    Caller.ADMIN: "管理员",
    Caller.METRICS: "监控令牌",
}

#: Everyone with a role (the metrics token is not one).
ANYONE = frozenset(c for c in Caller if c is not Caller.METRICS)
ENTERPRISE = frozenset({Caller.ENTERPRISE})
DEPARTMENT = frozenset({Caller.DEPARTMENT})
AGENCY = frozenset({Caller.AGENCY})
ADMIN = frozenset({Caller.ADMIN})
#: The keyed readers of public data: a public API key, and agencies and administrators.
KEYED = frozenset({Caller.PUBLIC, Caller.AGENCY, Caller.ADMIN})


@dataclass(frozen=True)
class Access:
    """One route: its path as declared (`{name}`, `{name:path}`), methods, who may call it, the
    agency scope it needs, the bucket anonymous callers are counted in, and what it is."""

    path: str
    methods: frozenset[str]
    allow: frozenset[Caller]
    what: str
    scope: str | None = None
    limit: str | None = "api"
    mount: bool = False  # a mounted app (`/static`): the path and everything below it
    #: an enterprise acts on its own record only: a USCC in the path (`{uscc}`) or at the top of
    #: a JSON body (`"uscc"`) that is not the caller's own is refused (403), by `EnterpriseDep`;
    #: a department on its own desk only: `{code}` must be its own (`OwnDepartmentDep`)
    own_only: bool = False
    regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        template = self.path + "/{rest:path}" if self.mount else self.path
        object.__setattr__(self, "regex", compile_path(template)[0])
        if self.scope is not None and self.scope not in AGENCY_SCOPES:
            raise ValueError(f"{self.path}: unknown agency scope {self.scope!r}")

    def matches(self, path: str) -> bool:
        return self.regex.match(path) is not None


def _row(
    methods: str,
    path: str,
    allow: frozenset[Caller],
    what: str,
    *,
    scope: str | None = None,
    limit: str | None = "api",
    mount: bool = False,
    own_only: bool = False,
) -> Access:
    return Access(
        path,
        frozenset(methods.split()),
        allow,
        what,
        scope=scope,
        limit=limit,
        mount=mount,
        own_only=own_only,
    )


def _own(methods: str, path: str, what: str, *, limit: str | None = "api") -> Access:
    """An enterprise route: the logged-in enterprise, on its own record only."""
    return _row(methods, path, ENTERPRISE, what, limit=limit, own_only=True)


def _dept(methods: str, path: str, what: str) -> Access:
    """A department's desk: its own `{code}` only (`OwnDepartmentDep`)."""
    return _row(methods, path, DEPARTMENT, what, own_only=True)


MATRIX: tuple[Access, ...] = (
    # operations
    _row("GET", "/healthz", ANYONE, "存活检查：只答 ok / degraded 和系统日期", limit=None),
    _row("GET", "/metrics", ADMIN | {Caller.METRICS}, "Prometheus 指标"),
    _row("GET", "/api/v1/admin/projections", ADMIN, "投影进度"),
    _row("GET", "/api/v1/admin/access-log", ADMIN, "机构访问日志（含保密查询）"),
    _row("GET", "/api/v1/admin/audit", ADMIN, "运维操作审计记录（谁、何时、做了什么、参数）"),
    # operators' acts (api/operations.py, the same as the CLI's; audited with the admin key)
    _row("POST", "/api/v1/admin/departments", ADMIN, "接入新部门及其职权（审计）"),
    _row("PUT", "/api/v1/admin/departments/{code}/kinds", ADMIN, "变更部门职权，自某日起（审计）"),
    _row("POST", "/api/v1/admin/departments/{code}/disable", ADMIN, "停用部门，自某日起（审计）"),
    _row("POST", "/api/v1/admin/keys", ADMIN, "签发机构密钥或公众密钥（仅显示一次；审计）"),
    _row(
        "DELETE", "/api/v1/admin/keys/{key_id}", ADMIN, "撤销密钥（部门密钥连同签名密钥与 Kafka 账号；审计）"
    ),
    _row("POST", "/api/v1/admin/dlq/replay", ADMIN, "重放死信队列条目（每条一次；审计）"),
    _row("POST", "/api/v1/admin/dlq/purge", ADMIN, "清理死信队列中的旧条目（审计）"),
    _row("POST", "/api/v1/admin/jobs/{name}", ADMIN, "手动运行作业（审计）"),
    # the public API
    _row("GET", "/api/v1/entities", ANYONE, "查询市场主体"),
    _row("GET", "/api/v1/entities/{uscc}", ANYONE, "市场主体公示信息"),
    _row("GET", "/api/v1/records", ANYONE, "部门公示信息"),
    _row("GET", "/api/v1/departments", ANYONE, "已接入部门"),
    _row("GET", "/api/v1/extracts/certificate", ANYONE, "信用信息报告电子签章的证书（PEM，离线验证用）"),
    _row("GET", "/api/v1/extracts/{key}", ANYONE, "验证信用信息报告"),
    _row("GET", "/api/v1/open-data", ANYONE, "开放数据：各次发布的文件及清单"),
    _row("GET", "/api/v1/changes", KEYED, "公开变更订阅（NDJSON 或 SSE；需公众密钥，按密钥限流）"),
    _row("GET", "/api/v1/receipts/{code}", ANYONE, "验证企业报送回执"),
    # departments' gateway
    _row("POST", "/api/v1/publications", DEPARTMENT, "部门发布公示信息（本部门名义）"),
    _row("GET", "/api/v1/publications/{publication_id:path}", DEPARTMENT, "本部门公示的处理状态"),
    _row("GET", "/api/v1/gateway/progress", DEPARTMENT, "处理状态投影的进度（gongshi publish 等待用）"),
    # departments' desks: the applications and objections each decides (own code only)
    _dept("GET", "/api/v1/departments/{code}/repairs", "本部门待决定的信用修复申请"),
    _dept("POST", "/api/v1/departments/{code}/repairs/{number}/decision", "决定信用修复申请"),
    _dept("GET", "/api/v1/departments/{code}/abnormal-removals", "本部门待决定的移出经营异常名录申请"),
    _dept(
        "POST", "/api/v1/departments/{code}/abnormal-removals/{number}/decision", "决定移出经营异常名录申请"
    ),
    _dept("GET", "/api/v1/departments/{code}/objections", "本部门待答复的异议"),
    _dept("POST", "/api/v1/departments/{code}/objections/{number}/decision", "答复异议"),
    # agencies: every call states its purpose and is written to the access log (api/agency_log.py)
    _row(
        "GET", "/api/v1/agency/entities/{uscc}", AGENCY, "机构查询完整记录（截至某一业务日期）", scope="read"
    ),
    _row("GET", "/api/v1/agency/entities/{uscc}/history", AGENCY, "机构查询事件历史（含来源）", scope="read"),
    _row("GET", "/api/v1/agency/entities/{uscc}/extract.pdf", AGENCY, "内部信用信息报告 PDF", scope="read"),
    _row(
        "POST",
        "/api/v1/agency/match",
        AGENCY,
        "批量比对（名单与登记主体交叉比对，至多 100,000 行）",
        scope="match",
    ),
    _row("GET", "/api/v1/agency/changes", AGENCY, "变更订阅（NDJSON 或 SSE，可断点续读）", scope="feed"),
    _row(
        "POST",
        "/api/v1/agency/watchlists",
        AGENCY,
        "新建关注名单（信用代码列表或筛选条件，可设回调）",
        scope="feed",
    ),
    _row("GET", "/api/v1/agency/watchlists", AGENCY, "本机构的关注名单", scope="feed"),
    _row("DELETE", "/api/v1/agency/watchlists/{watchlist_id}", AGENCY, "删除本机构的关注名单", scope="feed"),
    _row("GET", "/api/v1/agency/watchlists/{watchlist_id}/changes", AGENCY, "关注名单的变更", scope="feed"),
    _row("GET", "/api/v1/agency/measures", AGENCY, "联合惩戒措施及其依据（版本化）", scope="screen"),
    _row("POST", "/api/v1/agency/screen", AGENCY, "联合惩戒筛查（一处失信、处处受限）", scope="screen"),
    _row("POST", "/api/v1/agency/persons", AGENCY, "自然人任职情况与任职限制", scope="screen"),
    _row("POST", "/api/v1/agency/feedback", AGENCY, "联合奖惩措施反馈", scope="screen"),
    # enterprises: login (open) and what needs the account
    _row("POST", "/api/v1/enterprise/token", ANYONE, "企业登录，换取令牌（失败按账户和地址递增延迟）"),
    _row("POST", "/api/v1/enterprise/activate", ANYONE, "以激活码设置企业账户密码"),
    _row("DELETE", "/api/v1/enterprise/token", ENTERPRISE, "企业注销所持令牌"),
    _own("GET", "/api/v1/enterprise/me", "本企业信息与待办事项（年报、即时信息、修复、异议）"),
    _own("GET", "/api/v1/enterprise/users", "本企业经办用户（联络员）"),
    _own("POST", "/api/v1/enterprise/users", "邀请经办用户或代账机构（联络员）"),
    _own("DELETE", "/api/v1/enterprise/users/{user}", "停用经办用户（联络员）"),
    _own("GET PUT", "/api/v1/enterprise/annual-reports/{year}", "年度报告草稿（保存）、已报送版本与历史"),
    _own("POST", "/api/v1/enterprise/annual-reports/{year}/submit", "报送年度报告（或更正）"),
    _own("GET", "/api/v1/enterprise/filings/{publication_id}", "本企业报送事项的处理状态"),
    _own("GET", "/api/v1/enterprise/filings/{publication_id}/receipt.pdf", "报送回执 PDF（含验证码）"),
    _own("POST", "/api/v1/enterprise/evidence", "上传证明材料（PDF、图片，5 MB 以内）"),
    _own("POST", "/api/v1/enterprise/abnormal-removals", "申请移出经营异常名录"),
    _own("POST", "/api/v1/enterprise/repairs", "申请信用修复"),
    _own("POST", "/api/v1/enterprise/objections", "提出异议"),
    _own("GET", "/api/v1/enterprise/cases", "本企业的申请与异议"),
    _own("POST", "/api/v1/enterprise/disclosures", "公示即时信息"),
    _own("GET", "/api/v1/enterprise/access-log", "本企业信息被机构查询的记录（保密查询延迟显示）"),
    # the website
    _row("GET", "/", ANYONE, "首页", limit="pages"),
    _row("GET", "/search", ANYONE, "查询结果页", limit="pages"),
    _row("GET", "/entity/{uscc}", ANYONE, "市场主体信用记录页", limit="pages"),
    _row("GET", "/entity/{uscc}/extract.pdf", ANYONE, "信用信息报告 PDF（另计签发限额）", limit="pages"),
    _row(
        "GET", "/entity/{uscc}/feed.atom", ANYONE, "市场主体公示信息的 Atom 订阅（无需密钥）", limit="pages"
    ),
    _row("GET", "/publicity", ANYONE, "部门公示页", limit="pages"),
    _row("GET", "/announcements", ANYONE, "公告页", limit="pages"),
    _row("GET", "/policy", ANYONE, "公示规则页", limit="pages"),
    _row("GET", "/faq", ANYONE, "常见问题页", limit="pages"),
    _row("GET", "/open-data", ANYONE, "开放数据页（数据字典）", limit="pages"),
    _row("GET POST", "/verify", ANYONE, "报告验证页（上传或验证码）", limit="pages"),
    _row("GET POST", "/enterprise/login", ANYONE, "企业登录页", limit="pages"),
    _row("POST", "/enterprise/logout", ANYONE, "企业退出登录（清除会话）", limit="pages"),
    _row("GET POST", "/enterprise/activate", ANYONE, "企业账户激活页（以激活码设置密码）", limit="pages"),
    _own("GET", "/enterprise/", "企业首页：年报、名录、申请与异议、报送记录（需登录）", limit="pages"),
    _own("GET POST", "/enterprise/annual-reports/{year}", "年度报告填写页（保存草稿）", limit="pages"),
    _own("GET", "/enterprise/annual-reports/{year}/confirm", "年度报告报送确认页", limit="pages"),
    _own("POST", "/enterprise/annual-reports/{year}/submit", "报送年度报告（页面）", limit="pages"),
    _own("GET", "/enterprise/filings/{publication_id}/receipt.pdf", "报送回执 PDF（页面）", limit="pages"),
    _own("POST", "/enterprise/abnormal-removals", "申请移出经营异常名录（页面）", limit="pages"),
    _row("GET", "/agency", ANYONE, "机构工作台（页面以机构密钥调用机构接口）", limit="pages"),
    # documentation and files
    _row("GET HEAD", "/open-data/{day}/{name}", ANYONE, "开放数据文件（原样提供，支持 Range 断点续传）"),
    _row("GET", "/openapi.json", ANYONE, "OpenAPI 文档", limit="pages"),
    _row("GET", "/docs", ANYONE, "接口文档页", limit="pages"),
    _row("GET", "/static/swagger-ui", ANYONE, "接口文档页的 Swagger UI 文件", limit=None, mount=True),
    _row("GET", "/static", ANYONE, "样式表、脚本等静态文件", limit=None, mount=True),
)

ALL_METHODS = "GET POST PUT PATCH DELETE"

#: Route groups: a path under the prefix that no row matches still asks for the group's callers
#: (so an unknown admin path is a 401, not a 404, to the anonymous). The agency group is empty
#: today: its routes arrive with their rows, each naming its scope.
GROUPS: tuple[Access, ...] = (
    _row(ALL_METHODS, "/api/v1/admin", ADMIN, "运维接口", mount=True),
    _row(ALL_METHODS, "/api/v1/agency", AGENCY, "机构接口（每个须注明权限范围）", mount=True),
    _row(ALL_METHODS, "/api/v1/enterprise", ENTERPRISE, "企业接口", mount=True),
    _row(ALL_METHODS, "/enterprise", ENTERPRISE, "企业页面", limit="pages", mount=True),
)


def lookup(method: str, path: str, matrix: tuple[Access, ...] = MATRIX) -> Access | None:
    """The row for a request: the first row whose path and method match, else the first group
    whose prefix holds the path, else None (the router answers: 404 or 405)."""
    method = "GET" if method == "HEAD" else method
    for row in matrix:
        if method in row.methods and row.matches(path):
            return row
    if any(row.matches(path) for row in matrix):
        return None  # a known path with another method: the router's 405
    for group in GROUPS:
        if group.matches(path):
            return group
    return None


def what_route(route: str, matrix: tuple[Access, ...] = MATRIX) -> str | None:
    """What a route is, by its path as declared (as the access log keeps it)."""
    return next((row.what for row in matrix if row.path == route), None)


def caller_of(principal: Principal, *, metrics_token: bool = False) -> Caller:
    if metrics_token:
        return Caller.METRICS
    if principal.role == Role.PUBLIC:
        return Caller.ANONYMOUS if principal.subject is None else Caller.PUBLIC
    return Caller(principal.role.value)


# --- docs/SECURITY.md ---------------------------------------------------------------------------

DOC = Path(__file__).resolve().parents[1] / "docs" / "SECURITY.md"
BEGIN, END = "<!-- matrix:begin (python -m api.access --write) -->", "<!-- matrix:end -->"
_COLUMNS = tuple(Caller)


def matrix_markdown() -> str:
    """The matrix as a Markdown table: ✓ may call, `read` (an agency key with that scope),
    本企业 (an enterprise, on its own record only)."""
    head = "| 方法 | 路径 | 用途 | " + " | ".join(LABELS[c] for c in _COLUMNS) + " | 限流桶（匿名） |"
    rule = "|" + "---|" * (len(_COLUMNS) + 4)
    lines = [head, rule]
    for row in (*MATRIX, *GROUPS):
        path = f"`{row.path}/…`" if row.mount else f"`{row.path}`"
        cells = []
        for caller in _COLUMNS:
            allowed = caller in row.allow
            own = {Caller.ENTERPRISE: "本企业", Caller.DEPARTMENT: "本部门"}
            mark = own.get(caller, "✓") if row.own_only else "✓"
            cells.append(("`" + row.scope + "`" if row.scope else mark) if allowed else "")
        methods = "*" if row in GROUPS else " ".join(sorted(row.methods))
        what = row.what + ("（其下未列出的路径）" if row in GROUPS else "")
        lines.append(f"| {methods} | {path} | {what} | " + " | ".join(cells) + f" | {row.limit or '—'} |")
    return "\n".join(lines) + "\n"


def current_doc(text: str) -> str:
    """`text` (docs/SECURITY.md) with the matrix between its markers replaced by the table."""
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    return text[:start] + "\n" + matrix_markdown() + text[end:]


if __name__ == "__main__":  # python -m api.access [--write]
    if "--write" in sys.argv[1:]:
        DOC.write_text(current_doc(DOC.read_text(encoding="utf-8")), encoding="utf-8")
    else:
        sys.stdout.write(matrix_markdown())
