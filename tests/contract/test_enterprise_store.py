"""The enterprise store, one suite for SQLite and PostgreSQL: drafts replaced with a rising
revision, filings kept once by publication id and found by receipt code (typed any way),
evidence files kept by hash per enterprise."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import psycopg
import pytest

from adapters.enterprise_store import (
    EnterpriseStore,
    Evidence,
    Filing,
    PostgresEnterpriseStore,
    SQLiteEnterpriseStore,
    receipt_code,
)
from tests.engines import postgres_dsn, real, unique_prefix

USCC = "91120116MA05JQ2X4L"
AT = datetime(2026, 5, 20, 2, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", real("postgres")])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EnterpriseStore]:
    if request.param == "sqlite":
        s: EnterpriseStore = SQLiteEnterpriseStore(tmp_path / "enterprise.sqlite3")
        yield s
        s.close()
        return
    dsn = postgres_dsn()
    schema = unique_prefix(f"es_{request.node.name[5:25]}").replace("[", "_").replace("]", "")
    s = PostgresEnterpriseStore(dsn, schema=schema)
    yield s
    s.close()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def test_a_draft_is_replaced_and_its_revision_rises(store: EnterpriseStore) -> None:
    assert store.draft(USCC, "annual_report", "2025") is None
    first = store.save_draft(USCC, "annual_report", "2025", {"address": "天津"}, "enterprise:X", AT)
    second = store.save_draft(
        USCC, "annual_report", "2025", {"address": "天津市"}, "enterprise:X/user:wang", AT
    )
    assert (first.revision, second.revision) == (1, 2)
    kept = store.draft(USCC, "annual_report", "2025")
    assert (
        kept is not None and kept.body == {"address": "天津市"} and kept.saved_by == "enterprise:X/user:wang"
    )
    assert [d.key for d in store.drafts(USCC, "annual_report")] == ["2025"]
    assert (
        store.delete_draft(USCC, "annual_report", "2025")
        and store.draft(USCC, "annual_report", "2025") is None
    )


def test_a_filing_is_kept_once_and_found_by_its_receipt_code(store: EnterpriseStore) -> None:
    code = receipt_code()
    filing = Filing(
        "ENT-1",
        USCC,
        "annual_report.submitted",
        "2025",
        {"year": 2025},
        AT,
        date(2026, 5, 20),
        "enterprise:X",
        code,
    )
    assert store.record_filing(filing) == filing
    again = Filing(
        "ENT-1",
        USCC,
        "annual_report.submitted",
        "2025",
        {"year": 2025},
        AT,
        date(2026, 5, 21),
        "other",
        receipt_code(),
    )
    assert store.record_filing(again) == filing  # the first one stands
    assert store.filing_by_receipt(code.lower().replace("-", " ")) == filing
    assert store.filing_by_receipt("R0000-0000-0000") is None
    assert [f.publication_id for f in store.filings(USCC, key="2025")] == ["ENT-1"]
    assert store.filings(USCC, kind="disclosure.published") == []


def test_evidence_is_kept_by_hash_for_its_enterprise_only(store: EnterpriseStore) -> None:
    evidence = Evidence("ab" * 32, USCC, "承诺书.pdf", "application/pdf", 5, b"%PDF-")
    store.keep_evidence(evidence, "enterprise:X", AT)
    store.keep_evidence(evidence, "enterprise:X", AT)  # twice is once
    assert store.evidence(USCC, "ab" * 32) == evidence
    assert store.evidence("91120116MA05JQ2X5J", "ab" * 32) is None
