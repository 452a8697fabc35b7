"""The extract ledger, one suite for SQLite and PostgreSQL: an issued file is found again by its
hash and by its code (typed any way), a hash or code is recorded once, and an unknown key is
simply not found; the file kept for an entity version and system date is found again for that
key only, and a second file for the same key is never recorded, also when downloads race."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from adapters.extract_ledger import (
    ExtractLedger,
    IssuedExtract,
    KeptExtract,
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


def test_a_code_typed_in_full_width_forms_or_with_other_dashes_is_found(ledger: ExtractLedger) -> None:
    ledger.record(ISSUED)
    full_width = "".join(chr(ord(c) + 0xFEE0) if c.isalnum() else c for c in ISSUED.code)
    assert ledger.find(full_width) == ISSUED  # ７Ｋ３Ｍ-…
    assert ledger.find(ISSUED.code.replace("-", "\u2014")) == ISSUED  # em dashes
    assert ledger.find(ISSUED.code.replace("-", "\uff0d").lower()) == ISSUED  # full-width hyphen
    assert ledger.find("".join(chr(ord(c) + 0xFEE0) for c in ISSUED.sha256)) == ISSUED


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


# --- the kept file: one extract per entity version and system date ------------------------------

DAY = date(2026, 11, 22)


def issued(code: str, *, version: int = 3, sha: str | None = None) -> IssuedExtract:
    digest = sha or hashlib.sha256(code.encode()).hexdigest()
    return IssuedExtract(digest, code, ISSUED.uscc, 42, version, ISSUED.generated_at)


def test_a_kept_file_is_found_for_its_version_and_date_only(ledger: ExtractLedger) -> None:
    first = issued("AAAA-AAAA-AAAA")
    kept = ledger.keep(first, DAY, b"%PDF first")
    assert kept == KeptExtract(first, DAY, b"%PDF first")
    assert ledger.kept(first.uscc, 3, DAY) == kept
    assert ledger.by_code(first.code) == first  # recorded in the ledger too
    assert ledger.kept(first.uscc, 4, DAY) is None
    assert ledger.kept(first.uscc, 3, DAY + timedelta(days=1)) is None
    assert ledger.kept("91110108MA01K3P20A", 3, DAY) is None


def test_keeping_the_same_key_again_returns_the_first_and_records_nothing(ledger: ExtractLedger) -> None:
    first = issued("AAAA-AAAA-AAAA")
    ledger.keep(first, DAY, b"%PDF first")
    second = issued("BBBB-BBBB-BBBB")
    assert ledger.keep(second, DAY, b"%PDF second") == KeptExtract(first, DAY, b"%PDF first")
    assert ledger.by_code(second.code) is None
    assert ledger.by_sha256(second.sha256) is None


def test_a_new_date_or_version_replaces_the_kept_file_and_the_old_one_stays_verifiable(
    ledger: ExtractLedger,
) -> None:
    first = issued("AAAA-AAAA-AAAA")
    ledger.keep(first, DAY, b"%PDF first")
    next_day = issued("BBBB-BBBB-BBBB")
    assert ledger.keep(next_day, DAY + timedelta(days=1), b"%PDF next day").issued == next_day
    newer = issued("CCCC-CCCC-CCCC", version=4)
    assert ledger.keep(newer, DAY + timedelta(days=1), b"%PDF v4").issued == newer
    assert ledger.kept(first.uscc, 3, DAY) is None
    assert ledger.kept(first.uscc, 3, DAY + timedelta(days=1)) is None
    assert ledger.kept(first.uscc, 4, DAY + timedelta(days=1)) == KeptExtract(
        newer, DAY + timedelta(days=1), b"%PDF v4"
    )
    for extract in (first, next_day, newer):
        assert ledger.by_sha256(extract.sha256) == extract


def test_concurrent_downloads_of_one_key_keep_one_extract(ledger: ExtractLedger) -> None:
    candidates = [issued(f"{n:04d}-AAAA-AAAA") for n in range(8)]
    start = threading.Barrier(len(candidates))

    def keep(extract: IssuedExtract) -> KeptExtract:
        start.wait()
        return ledger.keep(extract, DAY, extract.code.encode())

    with ThreadPoolExecutor(len(candidates)) as pool:
        results = list(pool.map(keep, candidates))
    assert len({r.issued for r in results}) == 1
    winner = results[0].issued
    assert [c for c in candidates if ledger.by_code(c.code) is not None] == [winner]
