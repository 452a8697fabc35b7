"""The credential port, one suite for SQLite and PostgreSQL: every role's keys stored as hashes,
refused when wrong or revoked (at once, in every process), listed without the secret; enterprise
accounts invited, activated, logged into, throttled with growing delays per account and address."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from adapters.clock import FixedDateClock
from adapters.credentials import (
    AccountError,
    CredentialStore,
    LoginRefused,
    LoginThrottled,
    PostgresCredentialStore,
    SQLiteCredentialStore,
    key_id_of,
)
from adapters.credentials.keys import password_hasher, scrypt_hash
from domain.access import Role
from tests.builders import TODAY
from tests.engines import postgres_dsn, real, unique_prefix

PEPPER = b"contract-pepper-0123456789abcdef"
USCC = "91120116MA05XXXXX0"
PASSWORD = "correct horse battery"


@dataclass
class Moment:
    """The real instant as the store sees it, moved by the test."""

    instant: datetime = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.instant

    def advance(self, seconds: float) -> None:
        self.instant += timedelta(seconds=seconds)


@dataclass
class Opened:
    store: CredentialStore
    moment: Moment
    reopen: object  # () -> CredentialStore: another process on the same tables


@pytest.fixture(params=["sqlite", real("postgres")])
def opened(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Opened]:
    moment = Moment()
    clock = FixedDateClock(TODAY, now=moment)
    hasher = password_hasher(cheap=True)
    others: list[CredentialStore] = []
    if request.param == "sqlite":
        path = tmp_path / "credentials.sqlite3"

        def make() -> CredentialStore:
            s = SQLiteCredentialStore(path, clock=clock, pepper=PEPPER, hasher=hasher)
            others.append(s)
            return s

        yield Opened(make(), moment, make)
        for s in others:
            s.close()
        return
    dsn = postgres_dsn()
    schema = unique_prefix(f"cr_{request.node.name[5:25]}").replace("[", "_").replace("]", "")

    def make_pg() -> CredentialStore:
        s = PostgresCredentialStore(dsn, schema=schema, clock=clock, pepper=PEPPER, hasher=hasher)
        others.append(s)
        return s

    yield Opened(make_pg(), moment, make_pg)
    for s in others:
        s.close()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def store(opened: Opened) -> CredentialStore:
    return opened.store


# --- keys -------------------------------------------------------------------------------------------


def test_a_key_names_its_department_until_revoked(store: CredentialStore) -> None:
    key = store.add_key("TJ-AMR")
    key_id = key_id_of(key)
    assert key_id is not None
    assert store.department_for(key) == "TJ-AMR"
    assert store.department_for(key[:-1] + ("A" if key[-1] != "A" else "B")) is None
    assert store.revoke(key_id) is True
    assert store.department_for(key) is None
    assert store.revoke(key_id) is False


@pytest.mark.parametrize(
    ("role", "subject", "scopes", "limit"),
    [
        (Role.AGENCY, "TJ-TAX-JC1", ("read", "screen"), None),
        (Role.ADMIN, "ops-zhang", (), None),
        (Role.PUBLIC, "researcher", (), "600/minute"),
        (Role.DEPARTMENT, "TJ-AMR", (), None),
    ],
)
def test_each_role_key_authenticates_as_its_principal(
    store: CredentialStore, role: Role, subject: str, scopes: tuple[str, ...], limit: str | None
) -> None:
    key = store.add(role, subject, name="某单位", scopes=scopes, rate_limit=limit)
    principal = store.authenticate(key)
    assert principal is not None
    assert (principal.role, principal.subject, principal.scopes, principal.rate_limit) == (
        role,
        subject,
        scopes,
        limit,
    )
    assert principal.key_id == key_id_of(key)


def test_a_key_of_one_role_is_not_taken_for_another(store: CredentialStore) -> None:
    key = store.add(Role.AGENCY, "TJ-TAX-JC1", scopes=("read",))
    # same secret and id under the admin prefix: the stored role decides, not the prefix alone
    forged = "gsadm_" + key[len("gsa_") :]
    assert store.authenticate(forged) is None
    assert store.department_for(key) is None  # an agency key is no department key


def test_only_a_keyed_hash_is_stored(store: CredentialStore, opened: Opened, tmp_path: Path) -> None:
    key = store.add(Role.ADMIN, "ops")
    secret = key[len("gsadm_") :]
    rows = store._db.rows("SELECT key_hash FROM {api_keys}")
    assert len(rows) == 1 and str(rows[0][0]).startswith("hmac-sha256$") and secret not in str(rows[0][0])
    for file in tmp_path.glob("credentials.sqlite3*"):
        assert secret.encode() not in file.read_bytes()


def test_revocation_in_another_process_takes_effect_on_the_next_request(opened: Opened) -> None:
    key = opened.store.add(Role.AGENCY, "TJ-TAX-JC1", scopes=("read",))
    assert opened.store.authenticate(key) is not None
    other = opened.reopen()  # type: ignore[operator]
    key_id = key_id_of(key)
    assert key_id is not None
    assert other.revoke(key_id, Role.ADMIN) is False  # not an admin key
    assert other.revoke(key_id, Role.AGENCY) is True
    assert opened.store.authenticate(key) is None


def test_keys_are_listed_by_role_without_their_secret(opened: Opened) -> None:
    store = opened.store
    first = store.add_key("TJ-AMR")
    opened.moment.advance(1)
    second = store.add(Role.AGENCY, "TJ-TAX-JC1", scopes=("read",))
    listed = store.keys()
    assert [(k.key_id, k.role, k.subject) for k in listed] == [
        (key_id_of(first), Role.DEPARTMENT, "TJ-AMR"),
        (key_id_of(second), Role.AGENCY, "TJ-TAX-JC1"),
    ]
    assert [k.key_id for k in store.keys(Role.AGENCY)] == [key_id_of(second)]
    assert [k.key_id for k in store.list_keys()] == [key_id_of(first)]
    assert all(k.revoked_at is None and store.clock.date_of(k.created_at) == TODAY for k in listed)
    assert first not in repr(listed) and second not in repr(listed)


def test_last_use_is_recorded(opened: Opened) -> None:
    store = opened.store
    key = store.add(Role.AGENCY, "TJ-TAX-JC1", scopes=("read",))
    assert store.keys()[0].last_used_at is None
    store.authenticate(key)
    assert store.keys()[0].last_used_at == opened.moment.instant


def test_keys_stored_before_the_roles_are_carried_over(tmp_path: Path, opened: Opened) -> None:
    """A `department_keys` table from before (scrypt hashes) is copied into the new table."""
    from adapters.credentials import key_id_of as kid
    from adapters.credentials.keys import new_secret

    old_key = new_secret(Role.DEPARTMENT)
    old_id = kid(old_key)
    db = opened.store._db
    db.execute(
        "CREATE TABLE IF NOT EXISTS {department_keys} (key_id TEXT PRIMARY KEY, department TEXT NOT NULL, "
        "key_hash TEXT NOT NULL, created_at TIMESTAMPTZ NOT NULL, revoked_at TIMESTAMPTZ)"
        if isinstance(opened.store, PostgresCredentialStore)
        else "CREATE TABLE IF NOT EXISTS department_keys (key_id TEXT PRIMARY KEY, department TEXT NOT NULL, "
        "key_hash TEXT NOT NULL, created_at TEXT NOT NULL, revoked_at TEXT)"
    )
    db.execute(
        "INSERT INTO {department_keys} VALUES (%s, %s, %s, %s, NULL)"
        if isinstance(opened.store, PostgresCredentialStore)
        else "INSERT INTO department_keys VALUES (%s, %s, %s, %s, NULL)",
        (old_id, "TJ-MEE", scrypt_hash(old_key), datetime(2026, 1, 5, 1, tzinfo=UTC)),
    )
    reopened = opened.reopen()  # type: ignore[operator]
    assert reopened.department_for(old_key) == "TJ-MEE"
    assert [k.subject for k in reopened.list_keys()] == ["TJ-MEE"]
    # verified once under scrypt, it is stored as a keyed hash from then on
    assert str(db.rows("SELECT key_hash FROM {api_keys}")[0][0]).startswith("hmac-sha256$")
    assert reopened.department_for(old_key) == "TJ-MEE"


# --- enterprise accounts ------------------------------------------------------------------------------


def _activated(store: CredentialStore) -> None:
    code = store.invite(USCC)
    store.activate(USCC, code, PASSWORD)


def test_an_enterprise_activates_with_its_code_and_logs_in(opened: Opened) -> None:
    store = opened.store
    code = store.invite(USCC)
    assert store.account(USCC) is not None and store.account(USCC).activation_expires_on == TODAY + timedelta(
        30
    )  # type: ignore[union-attr]
    store.activate(USCC, code.lower().replace("-", " "), PASSWORD)  # typed loosely
    with pytest.raises(AccountError) as used:
        store.activate(USCC, code, PASSWORD + "2")
    assert used.value.code == "activation_invalid"
    token = store.login(USCC, PASSWORD, "10.0.0.1")
    principal = store.authenticate(token)
    assert principal is not None and (principal.role, principal.subject) == (Role.ENTERPRISE, USCC)


def test_a_new_invite_voids_the_old_code_and_codes_expire_by_the_system_date(opened: Opened) -> None:
    store = opened.store
    old = store.invite(USCC)
    new = store.invite(USCC)
    with pytest.raises(AccountError, match="激活码无效"):
        store.activate(USCC, old, PASSWORD)
    later = FixedDateClock(TODAY + timedelta(days=31), now=opened.moment)
    store.clock = later
    with pytest.raises(AccountError) as expired:
        store.activate(USCC, new, PASSWORD)
    assert expired.value.code == "activation_expired"
    store.clock = FixedDateClock(TODAY + timedelta(days=30), now=opened.moment)
    store.activate(USCC, new, PASSWORD)  # the 30th day is still valid


def test_weak_passwords_are_refused_in_chinese(store: CredentialStore) -> None:
    code = store.invite(USCC)
    with pytest.raises(AccountError) as weak:
        store.activate(USCC, code, "short")
    assert weak.value.code == "weak_password" and "至少" in weak.value.message


def test_a_token_expires_on_the_real_clock_and_logout_revokes_it(opened: Opened) -> None:
    store = opened.store
    _activated(store)
    token = store.login(USCC, PASSWORD, "10.0.0.1", lifetime_s=3600)
    opened.moment.advance(3599)
    assert store.authenticate(token) is not None
    opened.moment.advance(1)
    assert store.authenticate(token) is None
    second = store.login(USCC, PASSWORD, "10.0.0.1")
    assert store.logout(second) is True and store.authenticate(second) is None
    assert store.logout(second) is False


def test_a_disabled_account_cannot_log_in_and_its_tokens_stop(store: CredentialStore) -> None:
    _activated(store)
    token = store.login(USCC, PASSWORD, "10.0.0.1")
    assert store.disable(USCC) is True
    assert store.authenticate(token) is None
    with pytest.raises(LoginRefused) as refused:
        store.login(USCC, PASSWORD, "10.0.0.1")
    assert refused.value.code == "account_disabled"


def test_wrong_passwords_slow_that_address_down_not_the_enterprise(opened: Opened) -> None:
    store = opened.store
    _activated(store)
    for _ in range(3):  # three free tries
        with pytest.raises(LoginRefused) as wrong:
            store.login(USCC, "wrong password!", "203.0.113.9")
        assert wrong.value.code == "login_failed" and "密码错误" in wrong.value.message
    with pytest.raises(LoginThrottled) as throttled:
        store.login(USCC, PASSWORD, "203.0.113.9")  # even the right password waits
    assert throttled.value.retry_after == 2 and "2 秒" in throttled.value.message
    # the enterprise itself, from its own address, is not kept out
    assert store.authenticate(store.login(USCC, PASSWORD, "10.0.0.1")) is not None
    opened.moment.advance(2)
    with pytest.raises(LoginRefused):
        store.login(USCC, "wrong password!", "203.0.113.9")  # the 4th failure: 4 s
    opened.moment.advance(3)
    with pytest.raises(LoginThrottled) as longer:
        store.login(USCC, PASSWORD, "203.0.113.9")
    assert longer.value.retry_after == 1
    opened.moment.advance(1)
    store.login(USCC, PASSWORD, "203.0.113.9")  # success clears this address's count
    assert store.retry_after(USCC, "203.0.113.9") == 0


def test_an_unknown_account_fails_like_a_wrong_password(store: CredentialStore) -> None:
    with pytest.raises(LoginRefused) as refused:
        store.login("91120116MA05YYYYY0", PASSWORD, "10.0.0.1")
    assert refused.value.code == "login_failed"


def test_one_address_trying_many_accounts_is_slowed_down(opened: Opened) -> None:
    store = opened.store
    for n in range(20):
        with pytest.raises(LoginRefused):
            store.login(f"9112011600000{n:04d}X", "guess guess", "198.51.100.7")
    with pytest.raises(LoginThrottled):
        store.login("91120116MA05ZZZZZ0", "guess guess", "198.51.100.7")
    assert store.retry_after("91120116MA05ZZZZZ0", "10.0.0.1") == 0


def test_activation_is_counted_in_system_days_not_utc_days(opened: Opened) -> None:
    """Invited at 23:30 UTC (already the next day in China), the 30 days count China days."""
    store = opened.store
    opened.moment.instant = datetime(2026, 11, 22, 23, 30, tzinfo=UTC)
    store.clock = FixedDateClock(date(2026, 11, 23), now=opened.moment)
    store.invite(USCC)
    account = store.account(USCC)
    assert account is not None and account.activation_expires_on == date(2026, 12, 23)


# --- signing keys ----------------------------------------------------------------------------------


def test_signing_keys_store_only_the_public_half_and_rotate(opened: Opened) -> None:
    from adapters.credentials.signing import Signed, Unsigned, Verifier

    store = opened.store
    first = store.add_signing_key("TJ-AMR")
    opened.moment.advance(1)
    second = store.add_signing_key("TJ-AMR")  # a rotation: two active at once
    with pytest.raises(AccountError) as third:
        store.add_signing_key("TJ-AMR")
    assert third.value.code == "too_many_signing_keys"
    rows = store._db.rows("SELECT public_key FROM {signing_keys}")
    assert first.private_base64() not in str(rows) and second.private_base64() not in str(rows)
    verifier = Verifier(store)
    value = b'{"kind": "penalty.imposed"}'
    assert verifier.check(value, first.headers(value)) == Signed("TJ-AMR", first.key_id, None)
    assert store.revoke_signing_key(first.key_id) is True
    assert store.revoke_signing_key(first.key_id) is False
    assert isinstance(verifier.check(value, first.headers(value)), Unsigned)
    assert isinstance(verifier.check(value, second.headers(value)), Signed)
    assert [k.key_id for k in store.signing_keys("TJ-AMR", active_only=True)] == [second.key_id]
    assert [k.key_id for k in store.signing_keys("TJ-AMR")] == [first.key_id, second.key_id]
    store.add_signing_key("TJ-AMR")  # room again after the revocation


def test_registering_the_platform_key_twice_is_harmless(store: CredentialStore) -> None:
    from adapters.credentials.signing import Signer

    platform = Signer.generate()
    assert store.register_signing_key("platform", platform.public) == platform.key_id
    assert store.register_signing_key("platform", platform.public) == platform.key_id
    assert store.signing_key(platform.key_id) == ("platform", platform.public, False)


# --- refused keys -------------------------------------------------------------------------------------


def test_refusals_of_a_key_are_counted_per_code_and_listed_most_refused_first(opened: Opened) -> None:
    store = opened.store
    revoked = store.add(Role.DEPARTMENT, "TJ-AMR")
    agency = store.add(Role.AGENCY, "TJ-TAX-JC1", scopes=("read",))
    revoked_id, agency_id = key_id_of(revoked), key_id_of(agency)
    assert revoked_id and agency_id
    store.revoke(revoked_id)
    start = opened.moment.instant
    for n in range(3):
        assert store.record_refusal(revoked_id, "unauthorized", "/api/v1/publications", f"10.0.0.{n}")
    opened.moment.advance(3600)  # the next hour: a row of its own, summed when listed
    other = opened.reopen()  # type: ignore[operator]
    assert other.record_refusal(
        revoked_id, "unauthorized", "/api/v1/publications/{publication_id}", "10.0.0.9"
    )
    assert store.record_refusal(agency_id, "forbidden", "/api/v1/admin/projections", "10.0.0.5")

    listed = store.refused_keys(start)
    assert [(k.key_id, k.code, k.count) for k in listed] == [
        (revoked_id, "unauthorized", 4),
        (agency_id, "forbidden", 1),
    ]
    first = listed[0]
    assert (first.role, first.subject, first.revoked) == (Role.DEPARTMENT, "TJ-AMR", True)
    assert first.routes == ["/api/v1/publications", "/api/v1/publications/{publication_id}"]
    assert first.last_address == "10.0.0.9" and first.first_at == start
    assert [k.key_id for k in store.refused_keys(start, at_least=2)] == [revoked_id]
    assert [k.count for k in store.refused_keys(opened.moment.instant)] == [1, 1]  # this hour only


def test_a_made_up_key_adds_no_refusal_row(store: CredentialStore) -> None:
    assert store.record_refusal("Zz9Yy8Xx", "unauthorized", "/api/v1/publications", "10.0.0.1") is False
    assert store.refused_keys(datetime(2000, 1, 1, tzinfo=UTC)) == []


# --- an enterprise's invited users ------------------------------------------------------------------


def test_an_invited_user_logs_in_with_its_own_password_until_revoked(opened: Opened) -> None:
    store = opened.store
    store.activate(USCC, store.invite(USCC), PASSWORD)
    code = store.invite_user(USCC, "wang", display_name="王丽", kind="staff", invited_by=f"enterprise:{USCC}")
    with pytest.raises(AccountError, match="激活码"):
        store.activate(USCC, "WRONG-CODE-0000", "wang-password-1", user="wang")
    store.activate(USCC, code, "wang-password-1", user="wang")
    token = store.login(USCC, "wang-password-1", "203.0.113.9", user="wang")
    principal = store.authenticate(token)
    assert (
        principal is not None and principal.user == "wang" and principal.id == f"enterprise:{USCC}/user:wang"
    )
    liaison = store.authenticate(store.login(USCC, PASSWORD, "203.0.113.9"))
    assert liaison is not None and liaison.user is None and liaison.is_liaison
    with pytest.raises(LoginRefused):
        store.login(USCC, PASSWORD, "203.0.113.9", user="wang")  # the liaison's password is not the user's
    other = opened.reopen()  # type: ignore[operator]
    assert [u.user_name for u in other.users(USCC)] == ["wang"]
    assert other.revoke_user(USCC, "wang")
    assert store.authenticate(token) is None  # at once, in every process
    with pytest.raises(LoginRefused) as refused:
        store.login(USCC, "wang-password-1", "203.0.113.9", user="wang")
    assert refused.value.code == "account_disabled"
    assert store.authenticate(liaison_token := store.login(USCC, PASSWORD, "203.0.113.9")) is not None
    assert liaison_token


def test_a_users_failed_logins_do_not_slow_the_liaison(opened: Opened) -> None:
    store = opened.store
    store.activate(USCC, store.invite(USCC), PASSWORD)
    store.activate(
        USCC,
        store.invite_user(USCC, "li", display_name="李", kind="agent", invited_by=None),
        "li-password-1",
        user="li",
    )
    for _ in range(5):
        with pytest.raises((LoginRefused, LoginThrottled)):
            store.login(USCC, "wrong-password", "198.51.100.1", user="li")
    with pytest.raises(LoginThrottled):
        store.login(USCC, "li-password-1", "198.51.100.1", user="li")
    assert store.login(USCC, PASSWORD, "198.51.100.1")  # the liaison is counted apart


def test_tokens_made_before_invited_users_existed_still_authenticate(tmp_path: Path) -> None:
    """An older credentials file whose token table has no user column gets it, rows kept."""
    import sqlite3

    path = tmp_path / "old.sqlite3"
    clock = FixedDateClock(TODAY, now=Moment())
    old = sqlite3.connect(path)
    old.execute(
        "CREATE TABLE enterprise_tokens (token_id TEXT PRIMARY KEY, uscc TEXT NOT NULL, "
        "token_hash TEXT NOT NULL, created_at TEXT NOT NULL, expires_at TEXT NOT NULL, revoked_at TEXT)"
    )
    old.commit()
    old.close()
    store = SQLiteCredentialStore(path, clock=clock, pepper=PEPPER, hasher=password_hasher(cheap=True))
    store.activate(USCC, store.invite(USCC), PASSWORD)
    principal = store.authenticate(store.login(USCC, PASSWORD, "x"))
    assert principal is not None and principal.user is None
    store.close()
