"""The credential port: every role's keys, enterprise accounts and tokens, failed-login counts.

One class does the use cases; the two adapters differ only in where the tables live: a SQLite
file (`credentials.sqlite3` in the data directory) or tables in the event store's PostgreSQL
database and schema. Queries are written once, in PostgreSQL's text (`%s`, `{table}` names), and
the SQLite side rewrites them.

- Nothing secret is stored: keys and tokens as keyed hashes, passwords and activation codes as
  argon2id (see `keys.py`).
- Revocation takes effect on the next request in every process: the row is read every time.
- `last_used_at` is written at most once a minute per key and process, so a busy key does not
  turn every read into a write.
- Time (docs/ARCHITECTURE.md "Dates and instants"): token expiry and throttling count seconds on
  the real clock; an activation code's validity counts days on the system date.
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from pwdlib import PasswordHash

from adapters.credentials.keys import (
    activation_code,
    key_id_of,
    keyed_hash,
    new_secret,
    normalise_code,
    password_hasher,
    verify_secret,
)
from adapters.credentials.refusals import REFUSALS_DDL, RefusalRecords
from adapters.credentials.signing import Signer, key_id_for
from adapters.credentials.users import USERS_DDL, EnterpriseUser, EnterpriseUsers
from adapters.sqlite_util import SQLiteTable
from domain.access import (
    ADDRESS_FREE_FAILURES,
    Principal,
    Role,
    login_account,
    login_delay,
    role_of_key,
    throttle_message,
)
from domain.clock import Clock

__all__ = [
    "ApiKey",
    "CredentialStore",
    "CredentialsUnavailable",
    "EnterpriseAccount",
    "EnterpriseUser",
    "LoginRefused",
    "LoginThrottled",
    "PostgresCredentialStore",
    "SQLiteCredentialStore",
    "SigningKey",
]

ACTIVATION_DAYS = 30
MIN_PASSWORD_LENGTH = 10
_TOUCH_EVERY_S = 60.0

DDL: tuple[str, ...] = (
    "CREATE TABLE IF NOT EXISTS {api_keys} (key_id TEXT PRIMARY KEY, role TEXT NOT NULL, "
    "subject TEXT NOT NULL, name TEXT, scopes TEXT NOT NULL DEFAULT '', rate_limit TEXT, "
    "key_hash TEXT NOT NULL, created_at {ts} NOT NULL, last_used_at {ts}, revoked_at {ts})",
    "CREATE TABLE IF NOT EXISTS {enterprise_accounts} (uscc TEXT PRIMARY KEY, password_hash TEXT, "
    "activation_hash TEXT, activation_expires_on TEXT, invited_at {ts} NOT NULL, "
    "activated_at {ts}, disabled_at {ts})",
    "CREATE TABLE IF NOT EXISTS {enterprise_tokens} (token_id TEXT PRIMARY KEY, uscc TEXT NOT NULL, "
    "token_hash TEXT NOT NULL, created_at {ts} NOT NULL, expires_at {ts} NOT NULL, revoked_at {ts}, "
    "user_name TEXT)",
    "CREATE TABLE IF NOT EXISTS {signing_keys} (key_id TEXT PRIMARY KEY, owner TEXT NOT NULL, "
    "public_key TEXT NOT NULL, created_at {ts} NOT NULL, revoked_at {ts})",
    "CREATE TABLE IF NOT EXISTS {login_failures} (uscc TEXT NOT NULL, address TEXT NOT NULL, "
    "failures INTEGER NOT NULL, last_failed_at {ts} NOT NULL, PRIMARY KEY (uscc, address))",
    REFUSALS_DDL,
    USERS_DDL,
)
#: Tables made before invited users existed get the token's user (NULL: the liaison).
TOKENS_USER_COLUMN = "user_name"
TABLES = (
    "api_keys",
    "enterprise_accounts",
    "enterprise_tokens",
    "enterprise_users",
    "signing_keys",
    "login_failures",
    "refusals",
)
MAX_ACTIVE_SIGNING_KEYS = 2  # one in use and its successor, during a rotation
ANY_ACCOUNT = "*"  # the login_failures row that counts one address's failures across accounts


class CredentialsUnavailable(Exception):
    """The credential store cannot be reached or answered with an error."""


class AccountError(Exception):
    """An enterprise account operation refused, with a stable code and a Chinese message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class LoginRefused(AccountError):
    """Wrong USCC or password (never says which), or an account not activated or disabled."""


class LoginThrottled(AccountError):
    def __init__(self, retry_after: int, message: str) -> None:
        super().__init__("login_throttled", message)
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A key as listed (never the key itself)."""

    key_id: str
    role: Role
    subject: str
    created_at: datetime
    name: str | None = None
    scopes: tuple[str, ...] = ()
    rate_limit: str | None = None
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None

    @property
    def department(self) -> str:
        return self.subject


@dataclass(frozen=True, slots=True)
class SigningKey:
    key_id: str
    owner: str
    created_at: datetime
    revoked_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class EnterpriseAccount:
    uscc: str
    invited_at: datetime
    activated_at: datetime | None
    disabled_at: datetime | None
    activation_expires_on: date | None


class _Db(Protocol):
    def execute(self, query: str, params: tuple[Any, ...] = ()) -> int: ...
    def rows(self, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]: ...
    def try_insert(self, query: str, params: tuple[Any, ...] = ()) -> bool: ...
    def close(self) -> None: ...


def _when(value: Any) -> datetime | None:
    if value is None:
        return None
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def _day(value: Any) -> date | None:
    return None if value is None else date.fromisoformat(str(value))


class CredentialStore(RefusalRecords, EnterpriseUsers):
    """Port and use cases; built by `SQLiteCredentialStore` or `PostgresCredentialStore`. The
    counts of refused keys are `RefusalRecords` (`refusals.py`), an enterprise's invited users
    `EnterpriseUsers` (`users.py`)."""

    def __init__(self, db: _Db, *, clock: Clock, pepper: bytes, hasher: PasswordHash | None = None) -> None:
        self._db = db
        self.clock = clock
        self._pepper = pepper
        self._hasher = hasher or password_hasher()
        self._touched: dict[str, float] = {}
        self._touch_lock = threading.Lock()

    def close(self) -> None:
        self._db.close()

    # --- API keys of every keyed role -----------------------------------------------------------------

    def add(
        self,
        role: Role,
        subject: str,
        *,
        name: str | None = None,
        scopes: Sequence[str] = (),
        rate_limit: str | None = None,
    ) -> str:
        """A new key for `subject` in `role`; the only time the key itself is seen."""
        if role == Role.ENTERPRISE:
            raise ValueError("enterprises log in with a password; they hold tokens, not keys")
        while True:
            key = new_secret(role)
            key_id = key_id_of(key)
            assert key_id is not None
            if self._db.try_insert(
                "INSERT INTO {api_keys} (key_id, role, subject, name, scopes, rate_limit, key_hash, "
                "created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    key_id,
                    role.value,
                    subject,
                    name,
                    ",".join(scopes),
                    rate_limit,
                    keyed_hash(key, self._pepper),
                    self.clock.now(),
                ),
            ):
                return key

    def authenticate(self, key: str) -> Principal | None:
        """Who a key or enterprise token belongs to; None when malformed, unknown, wrong,
        expired or revoked. Read from the store on every call."""
        role = role_of_key(key)
        key_id = key_id_of(key)
        if role is None or key_id is None:
            return None
        if role == Role.ENTERPRISE:
            return self._token_principal(key, key_id)
        rows = self._db.rows(
            "SELECT role, subject, scopes, rate_limit, key_hash, revoked_at FROM {api_keys} "
            "WHERE key_id = %s",
            (key_id,),
        )
        if not rows:
            return None
        stored_role, subject, scopes, rate_limit, key_hash, revoked_at = rows[0]
        if stored_role != role.value or revoked_at is not None:
            return None
        if not verify_secret(key, str(key_hash), self._pepper):
            return None
        if not str(key_hash).startswith("hmac-sha256$"):  # an older scheme: rehash once, verified
            self._db.execute(
                "UPDATE {api_keys} SET key_hash = %s WHERE key_id = %s",
                (keyed_hash(key, self._pepper), key_id),
            )
        self._touch(key_id)
        return Principal(
            role=role,
            subject=str(subject),
            key_id=key_id,
            scopes=tuple(s for s in str(scopes or "").split(",") if s),
            rate_limit=rate_limit,
        )

    def keys(self, role: Role | None = None) -> list[ApiKey]:
        """Every key of `role` (all roles when None), oldest first, revoked ones too."""
        where, params = ("WHERE role = %s ", (role.value,)) if role is not None else ("", ())
        rows = self._db.rows(
            "SELECT key_id, role, subject, name, scopes, rate_limit, created_at, last_used_at, "
            f"revoked_at FROM {{api_keys}} {where}ORDER BY created_at, key_id",
            params,
        )
        return [
            ApiKey(
                key_id=str(k),
                role=Role(r),
                subject=str(s),
                name=n,
                scopes=tuple(x for x in str(sc or "").split(",") if x),
                rate_limit=rl,
                created_at=_when(c) or self.clock.now(),
                last_used_at=_when(u),
                revoked_at=_when(v),
            )
            for k, r, s, n, sc, rl, c, u, v in rows
        ]

    def revoke(self, key_id: str, role: Role | None = None) -> bool:
        """Revoke a key by its id (of `role`, when given); False when no such active key."""
        query = "UPDATE {api_keys} SET revoked_at = %s WHERE key_id = %s AND revoked_at IS NULL"
        params: tuple[Any, ...] = (self.clock.now(), key_id)
        if role is not None:
            query += " AND role = %s"
            params += (role.value,)
        return self._db.execute(query, params) == 1

    def _touch(self, key_id: str) -> None:
        now = time.monotonic()
        with self._touch_lock:
            if now - self._touched.get(key_id, -_TOUCH_EVERY_S) < _TOUCH_EVERY_S:
                return
            if len(self._touched) > 10_000:
                self._touched.clear()
            self._touched[key_id] = now
        self._db.execute(
            "UPDATE {api_keys} SET last_used_at = %s WHERE key_id = %s", (self.clock.now(), key_id)
        )

    # --- departments (the names the gateway and the CLI have always used) --------------------------

    def add_key(self, department: str) -> str:
        return self.add(Role.DEPARTMENT, department)

    def department_for(self, key: str) -> str | None:
        principal = self.authenticate(key)
        return principal.subject if principal and principal.role == Role.DEPARTMENT else None

    def list_keys(self) -> list[ApiKey]:
        return self.keys(Role.DEPARTMENT)

    # --- signing keys (only the public halves) ------------------------------------------------------

    def add_signing_key(self, owner: str) -> Signer:
        """A new signing key for `owner` (a department code); its private half is returned
        and never stored. At most two keys are active at once (a rotation)."""
        if len(self.signing_keys(owner, active_only=True)) >= MAX_ACTIVE_SIGNING_KEYS:
            raise AccountError(
                "too_many_signing_keys",
                f"{owner} 已有 {MAX_ACTIVE_SIGNING_KEYS} 个有效签名密钥，请先吊销旧密钥再轮换",
            )
        signer = Signer.generate()
        self.register_signing_key(owner, signer.public)
        return signer

    def register_signing_key(self, owner: str, public: bytes) -> str:
        """Store a public key for `owner` (idempotent: the id is the key's fingerprint)."""
        key_id = key_id_for(public)
        self._db.try_insert(
            "INSERT INTO {signing_keys} (key_id, owner, public_key, created_at) VALUES (%s, %s, %s, %s)",
            (key_id, owner, base64.b64encode(public).decode(), self.clock.now()),
        )
        return key_id

    def signing_key(self, key_id: str) -> tuple[str, bytes, bool] | None:
        rows = self._db.rows(
            "SELECT owner, public_key, revoked_at FROM {signing_keys} WHERE key_id = %s", (key_id,)
        )
        if not rows:
            return None
        return str(rows[0][0]), base64.b64decode(str(rows[0][1])), rows[0][2] is not None

    def signing_keys(self, owner: str | None = None, *, active_only: bool = False) -> list[SigningKey]:
        query = "SELECT key_id, owner, created_at, revoked_at FROM {signing_keys}"
        conditions, params = [], []
        if owner is not None:
            conditions.append("owner = %s")
            params.append(owner)
        if active_only:
            conditions.append("revoked_at IS NULL")
        if conditions:
            query += " WHERE " + " AND ".join(conditions)
        rows = self._db.rows(query + " ORDER BY created_at, key_id", tuple(params))
        return [SigningKey(str(k), str(o), _when(c) or self.clock.now(), _when(r)) for k, o, c, r in rows]

    def revoke_signing_key(self, key_id: str) -> bool:
        """Refuse this key's signatures from now on (what it signed before stays in the history)."""
        return (
            self._db.execute(
                "UPDATE {signing_keys} SET revoked_at = %s WHERE key_id = %s AND revoked_at IS NULL",
                (self.clock.now(), key_id),
            )
            == 1
        )

    # --- enterprise accounts --------------------------------------------------------------------------

    def invite(self, uscc: str) -> str:
        """A one-time activation code for the account of `uscc`, valid `ACTIVATION_DAYS` days of
        the system date; a new invite voids the old code (an active password stays until the
        code is used)."""
        code = activation_code()
        code_hash = self._hasher.hash(normalise_code(code))
        expires_on = (self.clock.today() + timedelta(days=ACTIVATION_DAYS)).isoformat()
        now = self.clock.now()
        if not self._db.try_insert(
            "INSERT INTO {enterprise_accounts} (uscc, activation_hash, activation_expires_on, invited_at) "
            "VALUES (%s, %s, %s, %s)",
            (uscc, code_hash, expires_on, now),
        ):
            self._db.execute(
                "UPDATE {enterprise_accounts} SET activation_hash = %s, activation_expires_on = %s, "
                "invited_at = %s WHERE uscc = %s",
                (code_hash, expires_on, now, uscc),
            )
        return code

    def activate(self, uscc: str, code: str, password: str, user: str | None = None) -> None:
        """Set the account's password with its activation code (which is then used up); with
        `user`, an invited user's (`EnterpriseUsers.activate_user`)."""
        if user is not None:
            self.activate_user(uscc, user, code, password)
            return
        if len(password) < MIN_PASSWORD_LENGTH:
            raise AccountError("weak_password", f"密码至少需要 {MIN_PASSWORD_LENGTH} 个字符")
        rows = self._db.rows(
            "SELECT activation_hash, activation_expires_on, disabled_at FROM {enterprise_accounts} "
            "WHERE uscc = %s",
            (uscc,),
        )
        refused = AccountError("activation_invalid", "激活码无效或已使用，请向登记机关重新申请")
        if not rows or rows[0][0] is None or rows[0][2] is not None:
            raise refused
        code_hash, expires_on = str(rows[0][0]), _day(rows[0][1])
        if not self._hasher.verify(normalise_code(code), code_hash):
            raise refused
        if expires_on is None or self.clock.today() > expires_on:
            raise AccountError("activation_expired", "激活码已过期，请向登记机关重新申请")
        changed = self._db.execute(
            "UPDATE {enterprise_accounts} SET password_hash = %s, activation_hash = NULL, "
            "activation_expires_on = NULL, activated_at = %s WHERE uscc = %s AND activation_hash = %s",
            (self._hasher.hash(password), self.clock.now(), uscc, code_hash),
        )
        if changed != 1:  # another request used the code first
            raise refused
        self._revoke_tokens(uscc, liaison_only=True)

    def account(self, uscc: str) -> EnterpriseAccount | None:
        rows = self._db.rows(
            "SELECT invited_at, activated_at, disabled_at, activation_expires_on "
            "FROM {enterprise_accounts} WHERE uscc = %s",
            (uscc,),
        )
        if not rows:
            return None
        invited, activated, disabled, expires = rows[0]
        return EnterpriseAccount(
            uscc, _when(invited) or self.clock.now(), _when(activated), _when(disabled), _day(expires)
        )

    def disable(self, uscc: str) -> bool:
        changed = self._db.execute(
            "UPDATE {enterprise_accounts} SET disabled_at = %s WHERE uscc = %s AND disabled_at IS NULL",
            (self.clock.now(), uscc),
        )
        self._revoke_tokens(uscc)
        return changed == 1

    # --- login, tokens, throttling --------------------------------------------------------------------

    def login(
        self, uscc: str, password: str, address: str, *, lifetime_s: int = 3600, user: str | None = None
    ) -> str:
        """An opaque token for the account (or its invited `user`), valid `lifetime_s` seconds of
        the real clock.

        Raises `LoginThrottled` (with the seconds to wait) while the last failures of this
        account (or user) from this address — or of this address across accounts — ask for a
        delay, and `LoginRefused` on a wrong USCC, user name or password."""
        account = login_account(uscc, user)
        self._check_throttle(account, address)
        rows = self._db.rows(
            "SELECT password_hash, disabled_at FROM {enterprise_accounts} WHERE uscc = %s", (uscc,)
        )
        revoked = False
        if user is None:
            stored = str(rows[0][0]) if rows and rows[0][0] is not None else None
        else:
            stored, revoked = self._user_password(uscc, user) if rows else (None, False)
        ok = stored is not None and self._hasher.verify(password, stored)
        if not ok:
            if stored is None:
                self._hasher.hash(password)  # as slow as a real check: the answer says nothing
            self._fail(account, address)
            raise LoginRefused(
                "login_failed", "统一社会信用代码、用户名或密码错误" if user else "统一社会信用代码或密码错误"
            )
        if rows[0][1] is not None:
            raise LoginRefused("account_disabled", "该账户已停用，请联系登记机关")
        if revoked:
            raise LoginRefused("account_disabled", "该用户已被本企业联络员停用")
        self._db.execute("DELETE FROM {login_failures} WHERE uscc = %s AND address = %s", (account, address))
        return self._issue_token(uscc, lifetime_s, user)

    def logout(self, token: str) -> bool:
        token_id = key_id_of(token)
        if token_id is None or role_of_key(token) != Role.ENTERPRISE:
            return False
        return (
            self._db.execute(
                "UPDATE {enterprise_tokens} SET revoked_at = %s WHERE token_id = %s AND revoked_at IS NULL",
                (self.clock.now(), token_id),
            )
            == 1
        )

    def _issue_token(self, uscc: str, lifetime_s: int, user: str | None = None) -> str:
        now = self.clock.now()
        while True:
            token = new_secret(Role.ENTERPRISE)
            token_id = key_id_of(token)
            assert token_id is not None
            if self._db.try_insert(
                "INSERT INTO {enterprise_tokens} (token_id, uscc, token_hash, created_at, expires_at, "
                "user_name) VALUES (%s, %s, %s, %s, %s, %s)",
                (
                    token_id,
                    uscc,
                    keyed_hash(token, self._pepper),
                    now,
                    now + timedelta(seconds=lifetime_s),
                    user,
                ),
            ):
                return token

    def _token_principal(self, token: str, token_id: str) -> Principal | None:
        rows = self._db.rows(
            "SELECT t.uscc, t.token_hash, t.expires_at, t.revoked_at, a.disabled_at, t.user_name, "
            "u.revoked_at FROM {enterprise_tokens} t JOIN {enterprise_accounts} a ON a.uscc = t.uscc "
            "LEFT JOIN {enterprise_users} u ON u.uscc = t.uscc AND u.user_name = t.user_name "
            "WHERE t.token_id = %s",
            (token_id,),
        )
        if not rows:
            return None
        uscc, token_hash, expires_at, revoked_at, disabled_at, user, user_revoked = rows[0]
        expires = _when(expires_at)
        if revoked_at is not None or disabled_at is not None or expires is None:
            return None
        if user is not None and user_revoked is not None:
            return None
        if self.clock.now() >= expires or not verify_secret(token, str(token_hash), self._pepper):
            return None
        return Principal(role=Role.ENTERPRISE, subject=str(uscc), key_id=token_id, user=user)

    def _revoke_tokens(self, uscc: str, *, liaison_only: bool = False) -> None:
        query = "UPDATE {enterprise_tokens} SET revoked_at = %s WHERE uscc = %s AND revoked_at IS NULL"
        if liaison_only:
            query += " AND user_name IS NULL"
        self._db.execute(query, (self.clock.now(), uscc))

    def _failures(self, uscc: str, address: str) -> tuple[int, datetime | None]:
        rows = self._db.rows(
            "SELECT failures, last_failed_at FROM {login_failures} WHERE uscc = %s AND address = %s",
            (uscc, address),
        )
        return (int(rows[0][0]), _when(rows[0][1])) if rows else (0, None)

    def retry_after(self, uscc: str, address: str) -> int:
        """Seconds this address must still wait before trying this account (0: may try now)."""
        now = self.clock.now()
        wait = 0
        for account, free in ((uscc, None), (ANY_ACCOUNT, ADDRESS_FREE_FAILURES)):
            failures, last = self._failures(account, address)
            delay = login_delay(failures) if free is None else login_delay(failures, free=free)
            if delay and last is not None:
                remaining = (last + timedelta(seconds=delay) - now).total_seconds()
                wait = max(wait, int(remaining + 0.999))
        return max(wait, 0)

    def _check_throttle(self, uscc: str, address: str) -> None:
        wait = self.retry_after(uscc, address)
        if wait > 0:
            raise LoginThrottled(wait, throttle_message(wait))

    def _fail(self, uscc: str, address: str) -> None:
        now = self.clock.now()
        for account in (uscc, ANY_ACCOUNT):
            if not self._db.try_insert(
                "INSERT INTO {login_failures} (uscc, address, failures, last_failed_at) "
                "VALUES (%s, %s, 1, %s)",
                (account, address, now),
            ):
                self._db.execute(
                    "UPDATE {login_failures} SET failures = failures + 1, last_failed_at = %s "
                    "WHERE uscc = %s AND address = %s",
                    (now, account, address),
                )


# --- where the tables live ------------------------------------------------------------------------------


class _SQLite:
    """The SQLite file, taking the queries' PostgreSQL text."""

    def __init__(self, path: Path) -> None:
        ddl = [self._text(d.replace("{ts}", "TEXT")) for d in DDL]
        self._table = SQLiteTable(path, ddl, unavailable=CredentialsUnavailable)
        columns = [r[1] for r in self._table.rows("PRAGMA table_info(enterprise_tokens)")]
        if TOKENS_USER_COLUMN not in columns:
            self._table.execute(f"ALTER TABLE enterprise_tokens ADD COLUMN {TOKENS_USER_COLUMN} TEXT")
        legacy = self._table.rows("SELECT name FROM sqlite_master WHERE name = 'department_keys'")
        if legacy:
            self._table.execute(self._text(_MIGRATE).replace("{department_keys}", "department_keys"))

    @staticmethod
    def _text(query: str) -> str:
        for name in TABLES:
            query = query.replace("{" + name + "}", name)
        return query.replace("%s", "?")

    @staticmethod
    def _params(params: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple(p.isoformat() if isinstance(p, datetime | date) else p for p in params)

    def execute(self, query: str, params: tuple[Any, ...] = ()) -> int:
        return self._table.execute(self._text(query), self._params(params))

    def rows(self, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        return self._table.rows(self._text(query), self._params(params))

    def try_insert(self, query: str, params: tuple[Any, ...] = ()) -> bool:
        return self._table.try_insert(self._text(query), self._params(params))

    def close(self) -> None:
        self._table.close()


# Keys made before the roles (a `department_keys` table) are copied over once, hashes unchanged.
_MIGRATE = (
    "INSERT INTO {api_keys} (key_id, role, subject, scopes, key_hash, created_at, revoked_at) "
    "SELECT key_id, 'department', department, '', key_hash, created_at, revoked_at FROM {department_keys} "
    "WHERE key_id NOT IN (SELECT key_id FROM {api_keys})"
)


class SQLiteCredentialStore(CredentialStore):
    """The embedded store: one SQLite file."""

    def __init__(
        self, path: Path, *, clock: Clock, pepper: bytes, hasher: PasswordHash | None = None
    ) -> None:
        super().__init__(_SQLite(path), clock=clock, pepper=pepper, hasher=hasher)


class _Postgres:
    """Tables in the event store's database and schema, created (and old keys copied) on first use."""

    def __init__(self, dsn: str, schema: str | None) -> None:
        from adapters.pg import PgTable  # psycopg only when PostgreSQL is configured

        self._table = PgTable(
            dsn,
            "api_keys",
            [
                *(d.replace("{ts}", "TIMESTAMPTZ") for d in DDL),
                f"ALTER TABLE {{enterprise_tokens}} ADD COLUMN IF NOT EXISTS {TOKENS_USER_COLUMN} TEXT",
            ],
            schema=schema,
            unavailable=CredentialsUnavailable,
            others=(*TABLES, "department_keys"),
        )
        self._legacy = f'"{schema}".department_keys' if schema else "department_keys"
        self._migrated = False
        self._lock = threading.Lock()

    def _ready(self) -> None:
        if self._migrated:
            return
        with self._lock:
            if not self._migrated:
                found = self._table.rows("SELECT to_regclass(%s) IS NOT NULL", (self._legacy,))
                if found and found[0][0]:
                    self._table.execute(_MIGRATE)
                self._migrated = True

    def execute(self, query: str, params: tuple[Any, ...] = ()) -> int:
        self._ready()
        return self._table.execute(query, params)

    def rows(self, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        self._ready()
        return self._table.rows(query, params)

    def try_insert(self, query: str, params: tuple[Any, ...] = ()) -> bool:
        self._ready()
        return self._table.try_insert(query, params)

    def close(self) -> None:
        self._table.close()


class PostgresCredentialStore(CredentialStore):
    """The tables in the event store's PostgreSQL database (and schema)."""

    def __init__(
        self,
        dsn: str,
        *,
        schema: str | None = None,
        clock: Clock,
        pepper: bytes,
        hasher: PasswordHash | None = None,
    ) -> None:
        super().__init__(_Postgres(dsn, schema), clock=clock, pepper=pepper, hasher=hasher)
