"""Department API keys: shown once, stored only as a salted hash, refused when wrong or revoked."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.clock import FixedDateClock
from adapters.credentials import KEY_PREFIX, SQLiteCredentialStore, hash_key, key_id_of, verify_key
from tests.builders import TODAY


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "credentials.sqlite3"


@pytest.fixture
def store(path: Path) -> Iterator[SQLiteCredentialStore]:
    s = SQLiteCredentialStore(path, clock=FixedDateClock(TODAY))
    yield s
    s.close()


def test_a_new_key_is_prefixed_random_and_names_its_department(store: SQLiteCredentialStore) -> None:
    first, second = store.add_key("TJ-AMR"), store.add_key("TJ-AMR")
    assert first.startswith(KEY_PREFIX) and len(first) == len(KEY_PREFIX) + 43
    assert first != second
    assert store.department_for(first) == "TJ-AMR"
    assert [k.key_id for k in store.list_keys()] == [key_id_of(first), key_id_of(second)]


def test_only_a_salted_hash_is_stored(store: SQLiteCredentialStore, path: Path) -> None:
    key = store.add_key("TJ-AMR")
    secret = key[len(KEY_PREFIX) :]
    for file in path.parent.glob("credentials.sqlite3*"):
        assert secret.encode() not in file.read_bytes()
    row = store._db.rows("SELECT key_id, key_hash FROM department_keys")[0]
    assert row[0] == secret[:8]
    assert row[1].startswith("scrypt$") and secret not in row[1]
    # the same key hashes differently under another salt
    assert hash_key(key) != hash_key(key)
    assert verify_key(key, row[1])


def test_a_wrong_key_is_refused_even_with_a_known_id(store: SQLiteCredentialStore) -> None:
    key = store.add_key("TJ-AMR")
    tampered = key[:-1] + ("A" if key[-1] != "A" else "B")
    assert key_id_of(tampered) == key_id_of(key)
    assert store.department_for(tampered) is None
    assert store.department_for(key) == "TJ-AMR"  # a verified key is remembered…
    assert store.department_for(tampered) is None  # …and that does not let a wrong one through
    for malformed in ("", "gs_", "nonsense", key.upper(), key + "x", " " + key):
        assert store.department_for(malformed) is None


def test_a_revoked_key_is_refused_from_the_next_request(store: SQLiteCredentialStore, path: Path) -> None:
    key = store.add_key("TJ-TAX")
    key_id = key_id_of(key)
    assert key_id is not None
    assert store.department_for(key) == "TJ-TAX"

    # revoked by another process (the CLI) while this one remembers the key as verified
    other = SQLiteCredentialStore(path, clock=FixedDateClock(TODAY))
    assert other.revoke(key_id) is True
    assert other.revoke(key_id) is False
    assert other.revoke("unknown1") is False
    other.close()

    assert store.department_for(key) is None
    listed = store.list_keys()
    assert [(k.key_id, k.department) for k in listed] == [(key_id, "TJ-TAX")]
    assert listed[0].revoked_at is not None and store.clock.date_of(listed[0].revoked_at) == TODAY


def test_keys_survive_a_restart(store: SQLiteCredentialStore, path: Path) -> None:
    key = store.add_key("TJ-AMR")
    reopened = SQLiteCredentialStore(path, clock=FixedDateClock(TODAY))
    assert reopened.department_for(key) == "TJ-AMR"
    reopened.close()


def test_key_ids_never_start_with_a_dash_so_the_cli_can_take_them() -> None:
    from adapters.credentials import key_id_of, new_key

    ids = [key_id_of(new_key()) for _ in range(3000)]
    assert all(i and i[0].isalnum() for i in ids)
