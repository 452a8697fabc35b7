"""Parked expiry: a publication that waited more than the allowed days for its entity's
registration leaves its lot as `parked_expired`, recorded as a rejection and put on the DLQ first;
one parked later stays; the entity registered afterwards does not get the expired publication."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

from adapters.credentials.signing import HEADER_KEY_ID as SIGNING_KEY_ID
from adapters.credentials.signing import HEADER_PRINCIPAL as SIGNING_PRINCIPAL
from adapters.publication_log.embedded import EmbeddedLog
from domain import publications as pub
from domain.parking import ParkedPublications
from domain.registry import PARKED_EXPIRY_SOURCE, Registry
from domain.rejections import RejectionLog
from domain.signatures import Provenance, Signed
from ingestion import parked_expiry
from ingestion.parked_expiry import ParkedExpiry
from tests.builders import TODAY, envelope, make_registry, penalty_payload, registered, uscc_for

DLQ = "t.publications.dlq"


class Day:
    """A clock whose system date the test moves."""

    def __init__(self, today: date) -> None:
        self.day = today

    def today(self) -> date:
        return self.day


def early_penalty(uscc: str, publication_id: str) -> dict:
    return envelope("penalty.imposed", penalty_payload(), uscc=uscc, publication_id=publication_id)


def expiry(registry: Registry, tmp_path: Path, days: int = 90) -> tuple[ParkedExpiry, EmbeddedLog]:
    log = EmbeddedLog(tmp_path / "log.sqlite3")
    log.ensure_topic(DLQ, 1)
    return ParkedExpiry(registry, log, DLQ, days, registry.clock), log


def test_a_publication_parked_more_than_the_allowed_days_is_rejected_to_the_dlq(tmp_path: Path) -> None:
    registry = make_registry()
    old, young = uscc_for(701), uscc_for(702)
    signed = Signed("TJ-AMR", "sk_0123456789abcdef", "department:TJ-AMR/user:li")
    registry.process([early_penalty(old, "PX-OLD")], signatures=[signed])
    job, log = expiry(registry, tmp_path)

    assert job.run(TODAY + timedelta(days=90)) == []  # 90 days: not more than 90
    assert [i.publication_id for i in registry.parked_items()] == ["PX-OLD"]
    registry.clock = type(registry.clock)(TODAY + timedelta(days=60))  # type: ignore[call-arg]
    registry.process([early_penalty(young, "PX-YOUNG")])  # parked 60 days later

    [outcome] = job.run(TODAY + timedelta(days=91))
    assert (outcome.status, outcome.code, outcome.publication_id) == (
        "rejected",
        pub.REASON_PARKED_EXPIRED,
        "PX-OLD",
    )
    assert outcome.message == f"自 {TODAY.isoformat()} 起暂存，该主体逾期仍未登记，已退回"
    assert [w["publication_id"] for w in registry.all_parked()] == ["PX-YOUNG"]
    [dead] = log.read(DLQ, 0, 0, 10)
    headers = dict(dead.headers)
    assert headers["reason"] == b"parked_expired" and headers["parked_on"] == TODAY.isoformat().encode()
    assert headers["gongshi-key-id"] == b"sk_0123456789abcdef"
    assert headers["gongshi-principal"] == b"department:TJ-AMR/user:li"
    assert json.loads(dead.value)["publication_id"] == "PX-OLD" and "parked_on" not in json.loads(dead.value)
    rejections: RejectionLog = registry.repository.get(RejectionLog.id_for(PARKED_EXPIRY_SOURCE))
    assert rejections.rejected == 1
    lot_events = list(registry.repository.event_store.get(ParkedPublications.id_for(old)))
    assert isinstance(lot_events[-1], ParkedPublications.Expired)

    # registered afterwards: the expired penalty is not applied; nothing is expired twice
    outcome = registry.apply_publication(registered(uscc=old))
    assert outcome.status == "applied" and outcome.released == ()
    assert list(registry.get_entity(old).penalties) == []
    assert job.run(TODAY + timedelta(days=92)) == []


def test_a_lot_parked_before_the_date_was_kept_uses_its_event_date(tmp_path: Path) -> None:
    registry = make_registry()
    uscc = uscc_for(703)
    lot = ParkedPublications.open(uscc)
    lot.park({**early_penalty(uscc, "PX-LEGACY"), "uscc": uscc})  # as stored before parked_on existed
    registry.save(lot)
    [item] = registry.parked_items()
    assert item.parked_on == registry.clock.date_of(lot.created_on) == TODAY
    job, _ = expiry(registry, tmp_path, days=30)
    assert [o.publication_id for o in job.run(TODAY + timedelta(days=31))] == ["PX-LEGACY"]


def test_the_daily_run_expires_once_per_system_date(tmp_path: Path) -> None:
    registry = make_registry()
    registry.process([early_penalty(uscc_for(704), "PX-DAILY")])
    log = EmbeddedLog(tmp_path / "log.sqlite3")
    clock = Day(TODAY + timedelta(days=10))
    job = ParkedExpiry(registry, log, DLQ, 5, clock)  # type: ignore[arg-type]
    assert [o.publication_id for o in job.run_once() or []] == ["PX-DAILY"]
    assert job.run_once() is None  # same day
    clock.day += timedelta(days=1)
    assert job.run_once() == []


def test_the_dlq_headers_are_named_as_the_signing_adapter_names_them() -> None:
    assert (parked_expiry.HEADER_KEY_ID, parked_expiry.HEADER_PRINCIPAL) == (
        SIGNING_KEY_ID,
        SIGNING_PRINCIPAL,
    )
    assert Provenance("k", "p").as_meta() == {"signing_key_id": "k", "principal": "p"}


def test_the_workers_cache_learns_of_an_expiry_made_by_another_application_object(tmp_path: Path) -> None:
    """The worker's aggregate cache is authoritative (never fast-forwarded): a lot expired by the
    expiry's own application object must not be read from that cache as still holding the
    publication, or the publication sent again (a DLQ replay) would be taken for a duplicate."""
    from adapters.event_store import sqlite_env

    env = sqlite_env(tmp_path / "store")
    worker = make_registry({**env, "AGGREGATE_CACHE_FASTFORWARD": "n"})
    expirer = make_registry(env)
    uscc = uscc_for(705)
    assert worker.process([early_penalty(uscc, "PX-AGAIN")])[0].status == "parked"
    job, _ = expiry(expirer, tmp_path)
    assert [o.publication_id for o in job.run(TODAY + timedelta(days=91))] == ["PX-AGAIN"]
    again = worker.process([early_penalty(uscc, "PX-AGAIN")])[0]
    assert again.status == "parked", again
    assert [i.publication_id for i in expirer.parked_items()] == ["PX-AGAIN"]
