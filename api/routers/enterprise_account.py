"""The logged-in enterprise: where it stands (`/me`), and its invited users.

`GET /api/v1/enterprise/me` — the entity, who is acting, and its obligations: the annual report
of each year with its window and state (due / filed / late / overdue), filings still on their way,
listings, applications, objections, and (a hook until the agency access log exists) who read its
record. The liaison — the account's own login — invites further users (its staff, or an
accounting agent acting for it), each with an activation code of its own and its own login, and
revokes them; what each files is recorded as theirs (`enterprise:USCC/user:NAME`).
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from adapters.credentials import AccountError, EnterpriseUser
from api.deps import CredentialsDep, DeskDep, EnterprisePrincipalDep, LiaisonDep
from api.errors import ApiError
from api.schemas import ErrorPublic
from domain.access import USER_KINDS, check_user_name

router = APIRouter(prefix="/api/v1/enterprise", tags=["enterprise"])


class MePublic(BaseModel):
    """The enterprise and its obligations as of the system date."""

    uscc: str
    name: str
    status: str
    established_on: str | None
    registration_authority: str | None
    today: str = Field(description="the system date the states are computed for")
    acting: dict[str, Any] = Field(description="who is logged in: principal, user (None: the liaison)")
    annual_reports: list[dict[str, Any]] = Field(
        description="per year owed, newest first: opens_on, due_on, state (due|filed|late|overdue), "
        "label, filed_on, corrections, can_correct, pending (publication ids not yet applied)"
    )
    next_report: dict[str, Any] | None = Field(description="the next year's report and its window")
    listings: list[dict[str, Any]] = Field(description="abnormal / serious listings not removed")
    disclosures: list[dict[str, Any]] = Field(description="the latest instant disclosures, late ones marked")
    cases: list[dict[str, Any]] = Field(
        description="applications (removal, credit repair) and objections: number, kind, record, "
        "department, filed_on, due_on (due_warning when an estimate), status, decision"
    )
    filings: list[dict[str, Any]] = Field(description="the latest filings and where each stands")
    reads: dict[str, Any] = Field(
        description="agencies' reads of the record (the access log: agency, when, purpose; the latest 20)"
    )


class UserCreate(BaseModel):
    user: str = Field(
        min_length=2, max_length=32, description="登录用户名：小写字母、数字、点、下划线、连字符"
    )
    display_name: str = Field(min_length=1, max_length=80, description="姓名或机构名称")
    kind: Literal["staff", "agent"] = Field(description="staff 本企业经办人；agent 代理记账机构")
    uscc: str | None = Field(None, max_length=40, description="可不填；填写时须为本企业")


class UserPublic(BaseModel):
    user: str
    display_name: str
    kind: str
    kind_label: str
    invited_at: str
    invited_by: str | None
    activated_at: str | None
    revoked_at: str | None
    activation_expires_on: str | None


class UserInvited(UserPublic):
    code: str = Field(description="一次性激活码（只显示这一次），30 个自然日内有效")


def _public(u: EnterpriseUser) -> dict[str, Any]:
    return {
        "user": u.user_name,
        "display_name": u.display_name,
        "kind": u.kind,
        "kind_label": USER_KINDS.get(u.kind, u.kind),
        "invited_at": u.invited_at.isoformat(),
        "invited_by": u.invited_by,
        "activated_at": u.activated_at.isoformat() if u.activated_at else None,
        "revoked_at": u.revoked_at.isoformat() if u.revoked_at else None,
        "activation_expires_on": u.activation_expires_on.isoformat() if u.activation_expires_on else None,
    }


@router.get("/me", response_model=MePublic, summary="本企业信息与待办事项")
def me(principal: EnterprisePrincipalDep, desk: DeskDep) -> dict[str, Any]:
    return desk.me(principal)


@router.get("/users", response_model=list[UserPublic], summary="本企业经办用户")
def users(liaison: LiaisonDep, credentials: CredentialsDep) -> list[dict[str, Any]]:
    return [_public(u) for u in credentials.users(liaison.subject or "")]


@router.post(
    "/users",
    status_code=201,
    response_model=UserInvited,
    responses={400: {"model": ErrorPublic, "description": "用户名格式有误"}},
    summary="邀请经办用户或代账机构",
)
def invite_user(body: UserCreate, liaison: LiaisonDep, credentials: CredentialsDep) -> dict[str, Any]:
    uscc = liaison.subject or ""
    try:
        name = check_user_name(body.user)
        code = credentials.invite_user(
            uscc, name, display_name=body.display_name.strip(), kind=body.kind, invited_by=liaison.id
        )
    except ValueError as err:
        raise ApiError(400, "invalid_user_name", str(err)) from None
    except AccountError as err:
        raise ApiError(400, err.code, err.message) from None
    user = credentials.user(uscc, name)
    assert user is not None
    return {**_public(user), "code": code}


@router.delete(
    "/users/{user}",
    status_code=204,
    responses={404: {"model": ErrorPublic, "description": "没有该用户，或已停用"}},
    summary="停用经办用户",
)
def revoke_user(user: str, liaison: LiaisonDep, credentials: CredentialsDep) -> Response:
    if not credentials.revoke_user(liaison.subject or "", user.strip().lower()):
        raise ApiError(404, "unknown_user", f"本企业没有有效的经办用户“{user}”")
    return Response(status_code=204)
