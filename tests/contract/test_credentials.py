"""Department API keys, one suite for SQLite and PostgreSQL: hash only, wrong keys refused,
revocation effective at once, keys listed without the secret."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from adapters.clock import FixedDateClock
from adapters.credentials import CredentialStore, PostgresCredentialStore, SQLiteCredentialStore, key_id_of
from tests.builders import TODAY
from tests.engines import postgres_dsn, real, unique_prefix


@pytest.fixture(params=["sqlite", real("postgres")])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CredentialStore]:
    clock = FixedDateClock(TODAY)
    if request.param == "sqlite":
        s: CredentialStore = SQLiteCredentialStore(tmp_path / "credentials.sqlite3", clock=clock)
        yield s
        s.close()
        return
    dsn = postgres_dsn()
    schema = unique_prefix(f"cr_{request.node.name[5:25]}").replace("[", "_").replace("]", "")
    s = PostgresCredentialStore(dsn, schema=schema, clock=clock)  # creates its schema on first use
    yield s
    s.close()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def test_a_key_names_its_department_until_revoked(store: CredentialStore) -> None:
    key = store.add_key("TJ-AMR")
    key_id = key_id_of(key)
    assert key_id is not None
    assert store.department_for(key) == "TJ-AMR"
    assert store.department_for(key[:-1] + ("A" if key[-1] != "A" else "B")) is None
    assert store.revoke(key_id) is True
    assert store.department_for(key) is None
    assert store.revoke(key_id) is False


def test_keys_are_listed_without_their_secret(store: CredentialStore) -> None:
    first, second = store.add_key("TJ-AMR"), store.add_key("TJ-TAX")
    listed = store.list_keys()
    assert {(k.key_id, k.department) for k in listed} == {
        (key_id_of(first), "TJ-AMR"),
        (key_id_of(second), "TJ-TAX"),
    }
    assert all(k.revoked_at is None and store.clock.date_of(k.created_at) == TODAY for k in listed)
    assert first not in repr(listed)
