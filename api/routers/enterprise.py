"""Enterprise accounts over the API: log in for a token, log out, set the password once with the
activation code — the liaison's (from `gongshi enterprises invite`) or an invited user's (from the
liaison, `POST /api/v1/enterprise/users`; such a user logs in with `user` too).

Failed logins are slowed per account *and* client address with growing delays (the credential
store counts them, `domain.access.login_delay`): 429 `login_throttled` with `Retry-After` and the
wait in Chinese — never a lockout that anyone who knows a (public) USCC could trigger.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from adapters.credentials import AccountError, CredentialStore, LoginRefused, LoginThrottled
from api.deps import ClientAddressDep, CredentialsDep, EnterpriseDep
from api.errors import ApiError, Refusal, wait_text
from api.schemas import ErrorPublic
from api.web.session import LIFETIME_S
from domain.access import check_user_name, login_account

router = APIRouter(prefix="/api/v1/enterprise", tags=["enterprise"])

_token = HTTPBearer(auto_error=False, description="企业令牌：`Authorization: Bearer gse_…`")


class LoginCreate(BaseModel):
    uscc: str = Field(min_length=1, max_length=40, description="统一社会信用代码")
    password: str = Field(min_length=1, max_length=200)
    user: str | None = Field(
        None, max_length=40, description="经办用户名（联络员邀请的用户）；联络员本人登录时不填"
    )


class TokenPublic(BaseModel):
    access_token: str = Field(description="不透明令牌，以 Authorization: Bearer 提交")
    token_type: str = "bearer"
    expires_in: int = Field(LIFETIME_S, description="有效秒数")


class ActivationCreate(BaseModel):
    uscc: str = Field(min_length=1, max_length=40, description="统一社会信用代码")
    code: str = Field(min_length=1, max_length=40, description="登记机关（或本企业联络员）发出的一次性激活码")
    password: str = Field(min_length=1, max_length=200, description="新密码，至少 10 个字符")
    user: str | None = Field(None, max_length=40, description="经办用户名；联络员本人激活时不填")


class ActivatedPublic(BaseModel):
    uscc: str
    status: str = "activated"


def normalise_uscc(text: str) -> str:
    """As typed → as stored: spaces and hyphens dropped, upper case."""
    return "".join(ch for ch in text if ch not in " -\t").upper()


def user_name(text: str | None) -> str | None:
    """A user name as typed → as stored; None for the liaison (nothing typed). Malformed names are
    kept as typed (lower case): they match no user, so the login fails like any other."""
    if text is None or not text.strip():
        return None
    try:
        return check_user_name(text)
    except ValueError:
        return text.strip().lower()


def log_in(
    credentials: CredentialStore, uscc: str, password: str, address: str, user: str | None = None
) -> str:
    """A token, or the refusal to answer (shared by the API and the login page)."""
    uscc = normalise_uscc(uscc)
    user = user_name(user)
    try:
        return credentials.login(uscc, password, address, lifetime_s=LIFETIME_S, user=user)
    except LoginThrottled as err:
        raise Refusal("login_throttled", err.message, retry_after=err.retry_after) from None
    except LoginRefused as err:
        wait = (
            credentials.retry_after(login_account(uscc, user), address) if err.code == "login_failed" else 0
        )
        if wait:  # this failure started a delay: say so now, not on the next try
            message = f"{err.message}；失败次数过多，请 {wait_text(wait)}后再试"
            raise Refusal("login_failed", message, retry_after=wait) from None
        code = "account_disabled" if err.code == "account_disabled" else "login_failed"
        raise Refusal(code, err.message) from None


_REFUSALS: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorPublic, "description": "统一社会信用代码或密码错误（login_failed）"},
    403: {"model": ErrorPublic, "description": "账户已停用（account_disabled）"},
    429: {"model": ErrorPublic, "description": "失败次数过多，须等待（login_throttled，见 Retry-After）"},
}


@router.post("/token", response_model=TokenPublic, responses=_REFUSALS, summary="企业登录")
async def create_token(
    body: LoginCreate, credentials: CredentialsDep, address: ClientAddressDep
) -> TokenPublic:
    token = await run_in_threadpool(log_in, credentials, body.uscc, body.password, address, body.user)
    return TokenPublic(access_token=token)


@router.delete("/token", status_code=204, summary="注销令牌")
def delete_token(
    uscc: EnterpriseDep,
    credentials: CredentialsDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_token)],
) -> Response:
    if bearer is not None:
        credentials.logout(bearer.credentials)
    return Response(status_code=204)


@router.post(
    "/activate",
    status_code=201,
    response_model=ActivatedPublic,
    responses={400: {"model": ErrorPublic, "description": "激活码无效、已使用或已过期，或密码太弱"}},
    summary="激活企业账户",
)
def activate(body: ActivationCreate, credentials: CredentialsDep) -> ActivatedPublic:
    uscc = normalise_uscc(body.uscc)
    try:
        credentials.activate(uscc, body.code, body.password, user_name(body.user))
    except AccountError as err:
        raise ApiError(400, err.code, err.message) from None
    return ActivatedPublic(uscc=uscc)
