"""Builders for publications, payloads and identifiers, shared by unit, API and contract tests.

Everything here returns plain JSON-ready dicts (what a department puts on the topic), valid by
default; pass keyword overrides to make one field wrong or different.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from adapters.clock import FixedDateClock
from adapters.credentials.signing import Signer
from adapters.publication_log.base import Headers
from domain.departments import ENTERPRISE, DepartmentRegistry
from domain.identity import make_resident_id
from domain.publications import SCHEMA_ID
from domain.registry import Registry
from domain.uscc import make_uscc, partition_key

if TYPE_CHECKING:
    from infra.bootstrap import Container
    from infra.settings import Settings

#: The date the test system believes it is (the `registry` fixture's clock).
TODAY = date(2026, 11, 22)
#: 滨海新区, Tianjin.
BINHAI = "120116"
#: The market-supervision department: its mandate covers every department kind.
AMR = "TJ-AMR"

#: In-memory event store (eventsourcing's plain-Python recorders).
#: Settings for a platform that tests call far more often than a person would: limits no test
#: reaches (tests of the limits themselves use the defaults, tests/e2e/test_rate_limits.py).
GENEROUS_LIMITS = {
    "rate_limit_public_api": "100000/minute",
    "rate_limit_pages": "100000/minute",
    "rate_limit_extracts": "100000/minute",
    "rate_limit_keys": "100000/minute",
}

POPO_ENV = {"PERSISTENCE_MODULE": "eventsourcing.popo"}
#: SQLite in memory: the embedded store's transcoding and transactions, nothing on disk.
SQLITE_MEMORY_ENV = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": ":memory:"}

_ENTERPRISE_KINDS = (
    "annual_report.submitted",
    "annual_report.corrected",
    "disclosure.published",
    "application.filed",
    "objection.filed",
)
_publication_ids = itertools.count(1)


def make_registry(env: dict[str, str] | None = None, today: date = TODAY) -> Registry:
    """A Registry on a fixed date with the shipped departments (in memory unless `env` says otherwise)."""
    return Registry(
        clock=FixedDateClock(today), departments=DepartmentRegistry.load_default(), env=dict(env or POPO_ENV)
    )


def uscc_for(n: int = 1, *, region: str = BINHAI, category: str = "91") -> str:
    """A valid USCC, distinct for each `n` (organisation body `MA` + 6 digits, so never all digits)."""
    return make_uscc(region, f"MA{n:06d}", category).value


def resident_id(
    n: int = 1, *, region: str = "120101", birth: date = date(1985, 3, 14), sex: Literal["M", "F"] = "M"
) -> str:
    """A valid 18-digit resident id, distinct for each `n` (0–498)."""
    return make_resident_id(region, birth, n, sex)


#: The USCC most tests use.
USCC = uscc_for(1)


def next_publication_id(prefix: str = "T") -> str:
    return f"{prefix}-{next(_publication_ids):06d}"


def default_department(kind: str) -> str:
    return ENTERPRISE if kind in _ENTERPRISE_KINDS else AMR


def envelope(
    kind: str,
    payload: dict[str, Any],
    *,
    uscc: str = USCC,
    department: str | None = None,
    publication_id: str | None = None,
    occurred_on: date | str = "2024-05-01",
) -> dict[str, Any]:
    """A publication envelope as a dict (the Kafka message value / gateway request body)."""
    department = department or default_department(kind)
    return {
        "schema": SCHEMA_ID,
        "publication_id": publication_id or next_publication_id(department),
        "department": department,
        "kind": kind,
        "uscc": uscc,
        "occurred_on": occurred_on.isoformat() if isinstance(occurred_on, date) else occurred_on,
        "payload": payload,
    }


# --- payloads -------------------------------------------------------------------------------------


def person(
    name: str = "张三",
    *,
    n: int = 1,
    id_number: str | None = None,
    phone: str | None = "13812345678",
    address: str | None = "天津市和平区南京路100号3单元502室",
) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name, "id_number": id_number or resident_id(n)}
    if phone is not None:
        out["phone"] = phone
    if address is not None:
        out["address"] = address
    return out


def registration_payload(
    name: str = "天津滨海星海科技有限公司", *, established_on: str = "2020-03-15", **overrides: Any
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "name": name,
        "entity_type": "有限责任公司",
        "legal_representative": person(),
        "registered_capital": {"amount": "5000000.00", "currency": "CNY"},
        "established_on": established_on,
        "address": "天津市滨海新区第三大街51号",
        "business_scope": "软件开发；信息技术咨询服务",
        "registration_authority": "天津市滨海新区市场监督管理局",
    }
    payload.update(overrides)
    return payload


def registered(
    *, uscc: str = USCC, name: str = "天津滨海星海科技有限公司", occurred_on: str = "2020-03-15", **kw: Any
) -> dict[str, Any]:
    """A `registration.registered` envelope."""
    publication_id = kw.pop("publication_id", None)
    return envelope(
        "registration.registered",
        registration_payload(name, established_on=occurred_on, **kw),
        uscc=uscc,
        occurred_on=occurred_on,
        publication_id=publication_id,
    )


def change_payload(field: str, before: Any, after: Any) -> dict[str, Any]:
    return {"changes": [{"field": field, "before": before, "after": after}]}


def penalty_payload(
    decision_no: str = "津市监罚〔2025〕1号",
    *,
    decided_on: str = "2025-01-10",
    severity: str = "general",
    fine_amount: str = "20000.00",
    **overrides: Any,
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "decision_no": decision_no,
        "violation": "销售不符合食品安全标准的食品",
        "basis": "《中华人民共和国食品安全法》第一百二十四条",
        "content": "警告，罚款人民币贰万元",
        "fine_amount": fine_amount,
        "decided_on": decided_on,
        "severity": severity,
    }
    payload.update(overrides)
    return payload


def licence_payload(licence_no: str = "JY11201160000001", **overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "licence_no": licence_no,
        "licence_name": "食品经营许可证",
        "content": "预包装食品销售",
        "valid_from": "2024-01-01",
        "valid_to": "2028-12-31",
    }
    payload.update(overrides)
    return payload


def listing_payload(
    decision_no: str = "津滨市监异〔2024〕1号", reason: str = "通过登记的住所无法联系"
) -> dict[str, Any]:
    return {"decision_no": decision_no, "reason": reason, "basis": "《企业信息公示暂行条例》"}


def inspection_payload(inspection_no: str = "SSJ-2024-0001", **overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "inspection_no": inspection_no,
        "inspection_type": "双随机抽查",
        "inspected_on": "2024-04-20",
        "result": "未发现问题",
    }
    payload.update(overrides)
    return payload


def annual_report_payload(year: int = 2023, **overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "year": year,
        "address": "天津市滨海新区第三大街51号",
        "phone": "022-25801234",
        "email": "info@xinghai.example",
        "operating_status": "开业",
        "employees": 42,
        "total_assets": "12000000.00",
        "revenue": "8800000.00",
        "profit": "650000.00",
        "tax_paid": "310000.00",
        "websites": ["https://xinghai.example"],
        "publicised": ["employees"],
    }
    payload.update(overrides)
    return payload


# --- signing: every message on the log is signed ---------------------------------------------------

#: Who acted, in what tests publish with the platform's key.
TEST_PRINCIPAL = "job:test"


class MemoryKeys:
    """Signing keys in memory: the verifier's lookup (owner, public key, revoked) for tests that
    have no credential store."""

    def __init__(self) -> None:
        self.rows: dict[str, tuple[str, bytes, bool]] = {}
        self.reads = 0

    def add(self, owner: str, signer: Signer | None = None) -> Signer:
        signer = signer or Signer.generate()
        self.rows[signer.key_id] = (owner, signer.public, False)
        return signer

    def revoke(self, key_id: str) -> None:
        owner, public, _ = self.rows[key_id]
        self.rows[key_id] = (owner, public, True)

    def signing_key(self, key_id: str) -> tuple[str, bytes, bool] | None:
        self.reads += 1
        return self.rows.get(key_id)


def platform_signed(container: Container, principal: str = TEST_PRINCIPAL) -> Callable[[bytes], Headers]:
    """`headers_for`: signs each message value with the container's platform key (registered in
    its credential store), acting for `principal` — valid for every department."""
    return container.signed_by_platform(principal)


def department_signer(container: Container, department: str = AMR) -> Signer:
    """A new signing key of `department`, registered in the container's credential store."""
    return container.credentials.add_signing_key(department)


def signed_items(
    messages: Iterable[dict[str, Any] | bytes], sign: Callable[[bytes], Headers]
) -> list[tuple[str | None, bytes, Headers]]:
    """(key, value, headers) per message: the value as `json.dumps` gives it (bytes as they are),
    keyed by the USCC, signed."""
    out = []
    for message in messages:
        value = message if isinstance(message, bytes) else json.dumps(message, ensure_ascii=False).encode()
        key = partition_key(message["uscc"]) if isinstance(message, dict) else None
        out.append((key, value, sign(value)))
    return out


def department_key_file(settings: Settings, path: Path, department: str = AMR) -> Path:
    """A new signing key of `department` in the credential store `settings` name, its private
    half written to `path` (what `gongshi publish --signing-key` / GONGSHI_SIGNING_KEY_FILE read)."""
    from infra.bootstrap import build

    container = build(settings)
    try:
        signer = department_signer(container, department)
    finally:
        container.close()
    path.write_text(signer.private_base64() + "\n", encoding="ascii")
    return path
