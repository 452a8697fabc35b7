"""Benchmark: the cost of sealing natural persons in the stored events (crypto-shredding).

N registrations, each naming a legal representative with identity number, phone and address
(a distinct person each: the worst case for the key cache), are applied through the Registry in
batches of 500 on SQLite — once without a vault (as before) and once with the personal-data vault
(one AES-256-GCM key per person in `personal.sqlite3`) — then every entity is loaded cold by a
second application object (what a projection rebuild does). Prints each time and the overhead.

    .venv/bin/python bench/personal_data.py --entities 5000
"""

from __future__ import annotations

import argparse
import platform
import shutil
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from adapters.clock import FixedDateClock
from adapters.event_store import sqlite_env
from adapters.personal_data import SQLiteVault
from domain.departments import DepartmentRegistry
from domain.identity import make_resident_id
from domain.registry import Registry
from domain.uscc import make_uscc

TODAY = date(2026, 11, 22)


def uscc(n: int) -> str:
    return make_uscc("120116", f"MA{n:06d}").value


def registration(n: int) -> dict:
    return {
        "schema": "gongshi.publication/1",
        "publication_id": f"BENCH-PD-{n}",
        "department": "TJ-AMR",
        "kind": "registration.registered",
        "uscc": uscc(n),
        "occurred_on": "2020-03-15",
        "payload": {
            "name": f"天津测试{n}号科技有限公司",
            "entity_type": "有限责任公司",
            "legal_representative": {
                "name": "张三",
                "id_number": make_resident_id(
                    "120116", date(1980, 1, 1) + timedelta(days=n // 499), n % 499, "M" if n % 2 else "F"
                ),
                "phone": "13812345678",
                "address": "天津市和平区南京路100号3单元502室",
            },
            "registered_capital": {"amount": "5000000.00", "currency": "CNY"},
            "established_on": "2020-03-15",
            "address": "天津市滨海新区第三大街51号",
            "business_scope": "软件开发",
            "registration_authority": "天津市滨海新区市场监督管理局",
        },
    }


def run(n: int, sealed: bool) -> tuple[float, float]:
    work = Path(tempfile.mkdtemp(prefix="gongshi-bench-pd-"))
    try:
        vault = SQLiteVault(work / "personal.sqlite3", pepper=b"bench") if sealed else None

        def app() -> Registry:
            return Registry(
                clock=FixedDateClock(TODAY),
                departments=DepartmentRegistry.load_default(),
                env=sqlite_env(work),
                vault=vault,
            )

        writer = app()
        messages = [registration(i) for i in range(n)]
        started = time.perf_counter()
        for start in range(0, n, 500):
            writer.process(messages[start : start + 500])
        write_s = time.perf_counter() - started
        writer.close()
        if vault is not None:
            vault.forget()  # a cold cache, as in another process
        reader = app()
        started = time.perf_counter()
        for i in range(n):
            reader.get_entity(uscc(i))
        read_s = time.perf_counter() - started
        reader.close()
        return write_s, read_s
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entities", type=int, default=5000)
    n = parser.parse_args().entities
    plain_w, plain_r = run(n, sealed=False)
    sealed_w, sealed_r = run(n, sealed=True)
    print(f"# bench/personal_data — {n} registrations, a person each; Python {platform.python_version()}")
    print(
        f"apply (batches of 500): plain {plain_w:.2f} s, sealed {sealed_w:.2f} s ({sealed_w / plain_w:.2f}×)"
    )
    ratio = sealed_r / plain_r
    print(f"cold load of each entity: plain {plain_r:.2f} s, sealed {sealed_r:.2f} s ({ratio:.2f}×)")
    per_seal, per_open = (sealed_w - plain_w) / n * 1e6, (sealed_r - plain_r) / n * 1e6
    print(f"per entity: sealing +{per_seal:.0f} µs, opening +{per_open:.0f} µs")


if __name__ == "__main__":
    main()
