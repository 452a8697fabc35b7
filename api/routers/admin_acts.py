"""Operators' acts over HTTP (admin keys only): departments and mandates, agency and public
keys, the dead-letter queue, jobs run by hand. Each calls the same function of `api.operations`
as its `gongshi` command, so the audit trail records the same entry — with the admin key
(`admin:NAME/key:ID`) as who. Bearer keys only: no cookie, so no CSRF token."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, ConfigDict, Field

from adapters.audit_trail import AuditUnavailable
from adapters.credentials import CredentialsUnavailable, key_id_of
from adapters.department_store import DepartmentsUnavailable
from adapters.publication_log.base import LogUnavailable
from adapters.rate_limits import parse_limit
from adapters.replays import ReplaysUnavailable
from api import operations
from api.deps import AdminDep, OperationsDep
from api.errors import ApiError
from api.operations import ActRefused
from api.schemas import ErrorPublic
from domain.access import Role
from domain.departments import DepartmentType

router = APIRouter(prefix="/api/v1/admin", tags=["operations"])

T = TypeVar("T")

ACT_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorPublic, "description": "所指的部门、密钥、死信条目或作业不存在"},
    409: {"model": ErrorPublic, "description": "与现状冲突（如部门已存在）"},
    422: {"model": ErrorPublic, "description": "参数有误（附 code，如 unknown_kind、kind_not_allowed）"},
    503: {
        "model": ErrorPublic,
        "description": "引擎暂不可用（log_unavailable、store_unavailable），"
        "或操作已完成但未能写入审计记录（audit_unavailable）",
    },
}


@contextmanager
def _answered() -> Iterator[None]:
    """An act's refusals and failures as the API answers them (stable codes, Chinese messages)."""
    try:
        yield
    except ActRefused as err:
        raise ApiError(err.status, err.code, err.message) from None
    except AuditUnavailable as err:
        raise ApiError(503, "audit_unavailable", f"操作已完成，但未能写入审计记录：{err}") from None
    except (LogUnavailable, ReplaysUnavailable) as err:
        done = "操作未完成或只完成了一部分（已完成的部分已记入审计记录），可重试"
        message = f"消息队列暂时不可用，{done}：{err}"
        raise ApiError(503, "log_unavailable", message) from None
    except (DepartmentsUnavailable, CredentialsUnavailable) as err:
        raise ApiError(503, "store_unavailable", f"数据库暂时不可用，操作未完成（可重试）：{err}") from None


def _act(run: Callable[[], T]) -> T:
    with _answered():
        return run()


# --- departments and mandates -------------------------------------------------------------------


class DepartmentCreateAdmin(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "code": "TJ-HRSS",
                    "name": "天津市人力资源和社会保障局",
                    "type": "sector_regulator",
                    "kinds": ["licence.granted", "penalty.imposed"],
                    "abbreviation": "津人社",
                    "effective_from": "2026-12-01",
                }
            ]
        }
    )

    code: str = Field(description="the department's code (2–40 of A–Z, 0–9, - and _)")
    name: str = Field(min_length=1, max_length=200)
    type: DepartmentType
    kinds: list[str] = Field(description="the publication kinds it may publish")
    short_name: str | None = Field(None, max_length=100, description="default: the name")
    abbreviation: str = Field("", max_length=20, description="e.g. 津人社 (decision numbers)")
    effective_from: date | None = Field(None, description="in force from (default: the system date)")


class DepartmentKindsAdmin(BaseModel):
    kinds: list[str] = Field(description="its whole new mandate")
    effective_from: date | None = Field(None, description="in force from (default: the system date)")


class DepartmentDisableAdmin(BaseModel):
    effective_from: date | None = Field(None, description="from this date (default: the system date)")


class DepartmentChangeAdmin(BaseModel):
    code: str
    action: Literal["added", "kinds_set", "disabled"]
    effective_from: date
    change: int = Field(description="the change's number in the department registry's history")
    kinds: list[str] = Field(description="the kinds in force from then (empty: disabled)")
    actor: str = Field(description="who, as the audit trail and the registry's history record it")


def _changed(done: operations.DepartmentChanged, actor: str) -> DepartmentChangeAdmin:
    return DepartmentChangeAdmin(
        code=done.code,
        action=done.action,
        effective_from=done.effective_from,
        change=done.change,
        kinds=list(done.kinds),
        actor=actor,
    )


Code = Annotated[str, Path(description="the department's code, e.g. TJ-TAX")]


@router.post(
    "/departments",
    status_code=201,
    response_model=DepartmentChangeAdmin,
    responses=ACT_RESPONSES,
    summary="接入新部门（含职权）",
)
def add_department(body: DepartmentCreateAdmin, admin: AdminDep, ops: OperationsDep) -> DepartmentChangeAdmin:
    """As `gongshi departments add`: audited as `departments.added`."""
    done = _act(
        lambda: ops.add_department(
            admin.id,
            code=body.code,
            name=body.name,
            department_type=body.type,
            kinds=body.kinds,
            short_name=body.short_name,
            abbreviation=body.abbreviation,
            effective_from=body.effective_from,
        )
    )
    return _changed(done, admin.id)


@router.put(
    "/departments/{code}/kinds",
    response_model=DepartmentChangeAdmin,
    responses=ACT_RESPONSES,
    summary="变更部门职权（自某日起）",
)
def set_department_kinds(
    code: Code, body: DepartmentKindsAdmin, admin: AdminDep, ops: OperationsDep
) -> DepartmentChangeAdmin:
    """As `gongshi departments set-kinds`: publications arriving from `effective_from` on are
    checked against the new kinds (audited as `departments.kinds_set`)."""
    done = _act(lambda: ops.set_department_kinds(admin.id, code, body.kinds, body.effective_from))
    return _changed(done, admin.id)


@router.post(
    "/departments/{code}/disable",
    response_model=DepartmentChangeAdmin,
    responses=ACT_RESPONSES,
    summary="停用部门（自某日起）",
)
def disable_department(
    code: Code, body: DepartmentDisableAdmin, admin: AdminDep, ops: OperationsDep
) -> DepartmentChangeAdmin:
    """As `gongshi departments disable`: its publications are refused from then on (what it
    published stays; revoke its keys with `DELETE /api/v1/admin/keys/{key_id}`)."""
    done = _act(lambda: ops.disable_department(admin.id, code, body.effective_from))
    return _changed(done, admin.id)


# --- keys -----------------------------------------------------------------------------------------


class KeyCreateAdmin(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "role": "agency",
                    "subject": "TJ-TAX-JC1",
                    "name": "天津市税务局第一稽查局",
                    "scopes": ["read", "match"],
                }
            ]
        }
    )

    role: Literal["agency", "public"] = Field(
        description="agency or public keys; admin keys and department credentials are issued by "
        "`gongshi admins add` / `gongshi departments add-key` only"
    )
    subject: str = Field(
        min_length=2, max_length=80, description="an agency's office code, or who holds a public key"
    )
    name: str | None = Field(None, max_length=80, description="the office's name (agency keys)")
    scopes: list[str] = Field(default_factory=list, description="agency keys: read, match, screen, feed")
    limit: str | None = Field(None, description="the key's own rate limit, e.g. 600/minute")


class KeyIssuedAdmin(BaseModel):
    key: str = Field(description="the key itself, shown this once (only its hash is kept)")
    key_id: str
    role: str
    subject: str
    scopes: list[str]
    limit: str | None


class KeyRevokedAdmin(BaseModel):
    key_id: str
    role: str = Field(description="agency | admin | public | department | signing")
    revoked: list[str] = Field(description="what was revoked (a department key: its signing key, Kafka user)")


@router.post(
    "/keys",
    status_code=201,
    response_model=KeyIssuedAdmin,
    responses=ACT_RESPONSES,
    summary="签发机构密钥或公众密钥",
)
def issue_key(
    body: KeyCreateAdmin, admin: AdminDep, ops: OperationsDep, response: Response
) -> KeyIssuedAdmin:
    """As `gongshi agencies add` / `gongshi public-keys add`: audited as `keys.created` (never the
    key). The answer is `Cache-Control: no-store`, like every API answer with a secret."""
    role = Role(body.role)
    subject = body.subject.strip()
    if role == Role.AGENCY and not operations.DEPARTMENT_CODE.match(subject):
        raise ApiError(422, "invalid_agency_code", f"机构代码“{subject}”应为 2–40 个大写字母、数字、- 或 _")
    if role == Role.PUBLIC and body.scopes:
        raise ApiError(422, "invalid_scopes", "公众密钥没有权限范围")
    if body.limit is not None:
        try:
            parse_limit(body.limit)
        except ValueError as err:
            raise ApiError(422, "invalid_limit", f"限流写法有误：{err}") from None
    name = ((body.name or "").strip() or None) if role == Role.AGENCY else subject

    def issue() -> tuple[str, tuple[str, ...]]:
        scopes = operations.agency_scopes(body.scopes) if role == Role.AGENCY else ()
        key = ops.issue_key(admin.id, role, subject, name=name, scopes=scopes, limit=body.limit)
        return key, scopes

    key, scopes = _act(issue)
    response.headers["Cache-Control"] = "no-store"
    return KeyIssuedAdmin(
        key=key,
        key_id=key_id_of(key) or "",
        role=role.value,
        subject=subject,
        scopes=list(scopes),
        limit=body.limit,
    )


@router.delete(
    "/keys/{key_id}",
    response_model=KeyRevokedAdmin,
    responses=ACT_RESPONSES,
    summary="撤销密钥（任一角色；部门密钥连同签名密钥与 Kafka 账号）",
)
def revoke_key(
    key_id: Annotated[str, Path(description="a key id (see `gongshi … list`), or a signing key's id (sk_…)")],
    admin: AdminDep,
    ops: OperationsDep,
) -> KeyRevokedAdmin:
    """As `gongshi agencies|admins|public-keys revoke` and `gongshi departments revoke-key`:
    refused from the next request on (audited as `keys.revoked`)."""
    role, done = _act(lambda: ops.revoke_key(admin.id, key_id))
    if not done:
        raise ApiError(404, "key_not_found", f"没有编号为 {key_id} 的有效密钥")
    return KeyRevokedAdmin(key_id=key_id, role=role, revoked=done)


# --- the dead-letter queue ----------------------------------------------------------------------


class DlqReplayAdmin(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"id": "0@42"}, {"reason": "outside_mandate", "department": "TJ-TAX"}]
        }
    )

    id: str | None = Field(None, description="one entry: PARTITION@OFFSET, or a publication id (its latest)")
    reason: str | None = Field(None, description="or every entry with this reason code")
    department: str | None = Field(None, description="with `reason`: only this department's entries")


class ReplayedAdmin(BaseModel):
    id: str
    publication_id: str | None
    replayed: bool = Field(description="false: replayed before (once per entry), not sent again")
    earlier_at: str | None = Field(description="when it was replayed before")
    earlier_by: str | None = Field(description="who replayed it before")


class DlqReplayedAdmin(BaseModel):
    replayed: int
    already_replayed: int
    entries: list[ReplayedAdmin]


class DlqPurgeAdmin(BaseModel):
    older_than_days: int = Field(ge=1, description="entries written more than DAYS system days ago")


class DlqPurgedAdmin(BaseModel):
    deleted: int
    before: date


@router.post(
    "/dlq/replay",
    response_model=DlqReplayedAdmin,
    responses=ACT_RESPONSES,
    summary="重放死信队列条目",
)
def replay_dead_letters(body: DlqReplayAdmin, admin: AdminDep, ops: OperationsDep) -> DlqReplayedAdmin:
    """As `gongshi dlq replay`: the original bytes, key and signature back on the publication log,
    each entry once (audited as `dlq.replayed`)."""
    results = _act(
        lambda: ops.replay_dead_letters(admin.id, body.id, reason=body.reason, department=body.department)
    )
    entries = [
        ReplayedAdmin(
            id=r.letter.id,
            publication_id=r.letter.publication_id,
            replayed=r.replayed,
            earlier_at=r.earlier.replayed_at.isoformat() if r.earlier else None,
            earlier_by=r.earlier.actor if r.earlier else None,
        )
        for r in results
    ]
    sent = sum(1 for e in entries if e.replayed)
    return DlqReplayedAdmin(replayed=sent, already_replayed=len(entries) - sent, entries=entries)


@router.post(
    "/dlq/purge",
    response_model=DlqPurgedAdmin,
    responses=ACT_RESPONSES,
    summary="清理死信队列中的旧条目",
)
def purge_dead_letters(body: DlqPurgeAdmin, admin: AdminDep, ops: OperationsDep) -> DlqPurgedAdmin:
    """As `gongshi dlq purge --older-than DAYS` (audited as `dlq.purged`)."""
    deleted, cutoff = _act(lambda: ops.purge_dead_letters(admin.id, body.older_than_days))
    return DlqPurgedAdmin(deleted=deleted, before=cutoff)


# --- jobs run by hand ---------------------------------------------------------------------------


class JobRunAdmin(BaseModel):
    as_of: date | None = Field(
        None, description="the date to run for (default: the system date; parked-expiry: only that)"
    )


class JobRunResultAdmin(BaseModel):
    job: str
    as_of: date
    figures: dict[str, Any] = Field(description="what it did, as audited (expired, changed, published)")
    summary: str


JobName = Annotated[
    str,
    Path(description="parked-expiry | publicity | annual-reports | abnormal-removals | serious-escalation"),
]


@router.post(
    "/jobs/{name}",
    response_model=JobRunResultAdmin,
    responses=ACT_RESPONSES,
    summary="手动运行作业",
)
def run_job(name: JobName, body: JobRunAdmin, admin: AdminDep, ops: OperationsDep) -> JobRunResultAdmin:
    """As `gongshi jobs run NAME`: the daily jobs, now (audited as `jobs.run`). A deadline job
    over a large register takes minutes: prefer the command line there, or let `gongshi serve`
    run it daily."""
    run = _act(lambda: ops.run_job(admin.id, name, body.as_of))
    return JobRunResultAdmin(job=run.job, as_of=run.as_of, figures=run.figures, summary=run.summary)
