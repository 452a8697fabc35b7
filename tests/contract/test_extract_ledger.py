"""The extract ledger, one suite for SQLite and PostgreSQL: an issued file is found again by its
hash and by its code (typed any way), a hash or code is recorded once, and an unknown key is
simply not found."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from adapters.extract_ledger import (
    ExtractLedger,
    IssuedExtract,
    LedgerUnavailable,
    PostgresExtractLedger,
    SQLiteExtractLedger,
)
from tests.engines import postgres_dsn, real, unique_prefix

ISSUED = IssuedExtract(
    sha256="ab" * 32,
    code="7K3M-Q9XZ-2B4D",
    uscc="91120116MA05JQ2X4L",
    position=42,
    version=3,
    generated_at=datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC),
)


@pytest.fixture(params=["sqlite", real("postgres")])
def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ExtractLedger]:
    if request.param == "sqlite":
        s: ExtractLedger = SQLiteExtractLedger(tmp_path / "extracts.sqlite3")
        yield s
        s.close()
        return
    dsn = postgres_dsn()
    schema = unique_prefix(f"el_{request.node.name[5:25]}").replace("[", "_").replace("]", "")
    s = PostgresExtractLedger(dsn, schema=schema)  # creates its schema on first use
    yield s
    s.close()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def test_an_issued_extract_is_found_by_hash_and_by_code(ledger: ExtractLedger) -> None:
    ledger.record(ISSUED)
    assert ledger.find(ISSUED.sha256.upper()) == ISSUED
    assert ledger.find("7k3mq9xz2b4d") == ISSUED
    assert ledger.by_sha256(ISSUED.sha256) == ISSUED
    assert ledger.by_code(ISSUED.code) == ISSUED


def test_an_unknown_key_is_not_found(ledger: ExtractLedger) -> None:
    ledger.record(ISSUED)
    assert ledger.find("cd" * 32) is None
    assert ledger.find("0000-0000-0000") is None
    assert ledger.find("not a code") is None


def test_a_hash_is_recorded_once(ledger: ExtractLedger) -> None:
    ledger.record(ISSUED)
    with pytest.raises(LedgerUnavailable):
        ledger.record(IssuedExtract(ISSUED.sha256, "0000-0000-0001", "U", 1, 1, ISSUED.generated_at))
    with pytest.raises(LedgerUnavailable):
        ledger.record(IssuedExtract("cd" * 32, ISSUED.code, "U", 1, 1, ISSUED.generated_at))
