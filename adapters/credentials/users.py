"""An enterprise's invited users: staff of its own, or an accounting agent (代账机构) acting for it.

The account of a USCC is its liaison's (`gongshi enterprises invite USCC` → activation code →
password). The liaison invites further users (`POST /api/v1/enterprise/users`): each gets a
one-time activation code of its own (30 system days, a new invitation voids the old one, like the
liaison's) and, once activated, logs in with the USCC, its user name and its own password. What a
user files is signed for `enterprise:USCC/user:NAME`, so the history records who acted. Revoking
a user ends its tokens at once; disabling the account ends everyone's.

An accounting agent serving several enterprises is invited by each of them and holds one user per
enterprise: every login acts for exactly one USCC, so the USCC-own-only rule stays one comparison.

Rows live beside the accounts (table `enterprise_users`); passwords and codes as argon2id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from pwdlib import PasswordHash

from adapters.credentials.keys import activation_code, normalise_code
from domain.access import USER_KINDS
from domain.clock import Clock

__all__ = ["USERS_DDL", "EnterpriseUser", "EnterpriseUsers"]

USERS_DDL = (
    "CREATE TABLE IF NOT EXISTS {enterprise_users} (uscc TEXT NOT NULL, user_name TEXT NOT NULL, "
    "display_name TEXT NOT NULL, kind TEXT NOT NULL, password_hash TEXT, activation_hash TEXT, "
    "activation_expires_on TEXT, invited_at {ts} NOT NULL, invited_by TEXT, activated_at {ts}, "
    "revoked_at {ts}, PRIMARY KEY (uscc, user_name))"
)


class _Db(Protocol):
    def execute(self, query: str, params: tuple[Any, ...] = ()) -> int: ...
    def rows(self, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]: ...
    def try_insert(self, query: str, params: tuple[Any, ...] = ()) -> bool: ...
    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class EnterpriseUser:
    """An invited user as listed (never a password or code)."""

    uscc: str
    user_name: str
    display_name: str
    kind: str
    invited_at: datetime
    invited_by: str | None
    activated_at: datetime | None
    revoked_at: datetime | None
    activation_expires_on: date | None

    @property
    def kind_label(self) -> str:
        return USER_KINDS.get(self.kind, self.kind)


def _when(value: Any) -> datetime | None:
    if value is None:
        return None
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def _day(value: Any) -> date | None:
    return None if value is None else date.fromisoformat(str(value))


class EnterpriseUsers:
    """The credential store's enterprise users (mixed into `CredentialStore`)."""

    _db: _Db
    _hasher: PasswordHash
    clock: Clock

    def _user_error(self, code: str, message: str) -> Exception:
        from adapters.credentials.store import AccountError

        return AccountError(code, message)

    def invite_user(
        self, uscc: str, user_name: str, *, display_name: str, kind: str, invited_by: str | None
    ) -> str:
        """A one-time activation code for `user_name` of `uscc` (a new invitation voids the old
        code and brings a revoked user back; its password, if any, stays until the code is used)."""
        if kind not in USER_KINDS:
            raise self._user_error("invalid_user_kind", f"用户类型应为 {'、'.join(USER_KINDS)}")
        from adapters.credentials.store import ACTIVATION_DAYS

        code = activation_code()
        code_hash = self._hasher.hash(normalise_code(code))
        expires_on = (self.clock.today() + timedelta(days=ACTIVATION_DAYS)).isoformat()
        now = self.clock.now()
        if not self._db.try_insert(
            "INSERT INTO {enterprise_users} (uscc, user_name, display_name, kind, activation_hash, "
            "activation_expires_on, invited_at, invited_by) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            (uscc, user_name, display_name, kind, code_hash, expires_on, now, invited_by),
        ):
            self._db.execute(
                "UPDATE {enterprise_users} SET display_name = %s, kind = %s, activation_hash = %s, "
                "activation_expires_on = %s, invited_at = %s, invited_by = %s, revoked_at = NULL "
                "WHERE uscc = %s AND user_name = %s",
                (display_name, kind, code_hash, expires_on, now, invited_by, uscc, user_name),
            )
        return code

    def activate_user(self, uscc: str, user_name: str, code: str, password: str) -> None:
        """Set an invited user's password with its activation code (then used up)."""
        from adapters.credentials.store import MIN_PASSWORD_LENGTH

        if len(password) < MIN_PASSWORD_LENGTH:
            raise self._user_error("weak_password", f"密码至少需要 {MIN_PASSWORD_LENGTH} 个字符")
        rows = self._db.rows(
            "SELECT u.activation_hash, u.activation_expires_on, u.revoked_at, a.disabled_at "
            "FROM {enterprise_users} u LEFT JOIN {enterprise_accounts} a ON a.uscc = u.uscc "
            "WHERE u.uscc = %s AND u.user_name = %s",
            (uscc, user_name),
        )
        refused = self._user_error("activation_invalid", "激活码无效或已使用，请联系本企业联络员重新邀请")
        if not rows or rows[0][0] is None or rows[0][2] is not None or rows[0][3] is not None:
            raise refused
        code_hash, expires_on = str(rows[0][0]), _day(rows[0][1])
        if not self._hasher.verify(normalise_code(code), code_hash):
            raise refused
        if expires_on is None or self.clock.today() > expires_on:
            raise self._user_error("activation_expired", "激活码已过期，请联系本企业联络员重新邀请")
        changed = self._db.execute(
            "UPDATE {enterprise_users} SET password_hash = %s, activation_hash = NULL, "
            "activation_expires_on = NULL, activated_at = %s "
            "WHERE uscc = %s AND user_name = %s AND activation_hash = %s",
            (self._hasher.hash(password), self.clock.now(), uscc, user_name, code_hash),
        )
        if changed != 1:
            raise refused
        self._revoke_user_tokens(uscc, user_name)

    def users(self, uscc: str) -> list[EnterpriseUser]:
        """Every user invited for `uscc`, revoked ones too, oldest first."""
        rows = self._db.rows(
            "SELECT user_name, display_name, kind, invited_at, invited_by, activated_at, revoked_at, "
            "activation_expires_on FROM {enterprise_users} WHERE uscc = %s ORDER BY invited_at, user_name",
            (uscc,),
        )
        return [
            EnterpriseUser(
                uscc=uscc,
                user_name=str(n),
                display_name=str(d),
                kind=str(k),
                invited_at=_when(i) or self.clock.now(),
                invited_by=b,
                activated_at=_when(a),
                revoked_at=_when(r),
                activation_expires_on=_day(e),
            )
            for n, d, k, i, b, a, r, e in rows
        ]

    def user(self, uscc: str, user_name: str) -> EnterpriseUser | None:
        return next((u for u in self.users(uscc) if u.user_name == user_name), None)

    def revoke_user(self, uscc: str, user_name: str) -> bool:
        """The user may no longer log in; its tokens end at once. False when no such active user."""
        changed = self._db.execute(
            "UPDATE {enterprise_users} SET revoked_at = %s, activation_hash = NULL "
            "WHERE uscc = %s AND user_name = %s AND revoked_at IS NULL",
            (self.clock.now(), uscc, user_name),
        )
        self._revoke_user_tokens(uscc, user_name)
        return changed == 1

    def _user_password(self, uscc: str, user_name: str) -> tuple[str | None, bool]:
        """(password hash, revoked) of an invited user; (None, False) when there is none."""
        rows = self._db.rows(
            "SELECT password_hash, revoked_at FROM {enterprise_users} WHERE uscc = %s AND user_name = %s",
            (uscc, user_name),
        )
        if not rows:
            return None, False
        return (str(rows[0][0]) if rows[0][0] is not None else None), rows[0][1] is not None

    def _revoke_user_tokens(self, uscc: str, user_name: str) -> None:
        self._db.execute(
            "UPDATE {enterprise_tokens} SET revoked_at = %s "
            "WHERE uscc = %s AND user_name = %s AND revoked_at IS NULL",
            (self.clock.now(), uscc, user_name),
        )
