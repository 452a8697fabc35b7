"""The Registry application service: exactly-once, parking, rejections, tracking, snapshots."""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.application import project_aggregate
from eventsourcing.persistence import IntegrityError, Tracking

from domain import publications as pub
from domain.entity import entity_id
from domain.errors import EntityNotFound
from domain.internals import apply_events
from domain.registry import Outcome, Registry
from projections.documents import sharing_document
from tests.builders import (
    TODAY,
    USCC,
    envelope,
    inspection_payload,
    make_registry,
    penalty_payload,
    person,
    registered,
    registration_payload,
    resident_id,
    uscc_for,
)

CJK = re.compile(r"[\u4e00-\u9fff]")


def max_id(registry: Registry) -> int:
    return registry.recorder.max_notification_id() or 0


def recorded_only_rejections_since(registry: Registry, before: int) -> bool:
    """Nothing but the rejection log was written after notification `before`."""
    new = registry.recorder.select_notifications(start=before + 1, limit=100)
    return bool(new) and all(":RejectionLog." in n.topic for n in new)


def penalty(uscc: str = USCC, **kw: Any) -> dict[str, Any]:
    return envelope("penalty.imposed", penalty_payload(), uscc=uscc, **kw)


# --- exactly once ---------------------------------------------------------------------------------


def test_same_publication_twice_changes_nothing(registry: Registry, uscc: str) -> None:
    message = penalty(publication_id="TJ-AMR-2025-000001")
    assert registry.apply_publication(message).status == "applied"
    version, last = registry.get_entity(uscc).version, max_id(registry)

    again = registry.apply_publication(message)

    assert again.status == "duplicate"
    assert again.code is None
    assert registry.get_entity(uscc).version == version
    assert max_id(registry) == last


def test_same_publication_twice_in_one_batch_is_applied_once(registry: Registry, uscc: str) -> None:
    message = penalty(publication_id="TJ-AMR-2025-000002")
    outcomes = registry.process([message, json.dumps(message).encode()])
    assert [o.status for o in outcomes] == ["applied", "duplicate"]
    assert registry.get_entity(uscc).version == 2


def test_same_registration_twice_is_a_duplicate_not_a_conflict(registry: Registry) -> None:
    message = registered(publication_id="TJ-AMR-REG-1")
    assert registry.apply_publication(message).status == "applied"
    assert registry.apply_publication(message).status == "duplicate"
    assert registry.get_entity(USCC).version == 1


# --- parking --------------------------------------------------------------------------------------


def test_publication_for_an_unregistered_entity_is_parked_until_the_registration_arrives(
    any_registry: Registry,
) -> None:
    registry = any_registry
    parked = registry.apply_publication(penalty(publication_id="P-EARLY-1"))
    assert (parked.status, parked.uscc) == ("parked", USCC)
    assert parked.message and CJK.search(parked.message)
    assert [w["publication_id"] for w in registry.all_parked()] == ["P-EARLY-1"]
    assert [w["publication_id"] for w in registry.parked(USCC)] == ["P-EARLY-1"]
    with pytest.raises(EntityNotFound):
        registry.get_entity(USCC)

    outcome = registry.apply_publication(registered())

    assert outcome.status == "applied"
    assert [(o.status, o.publication_id) for o in outcome.released] == [("applied", "P-EARLY-1")]
    assert list(registry.get_entity(USCC).penalties) == ["津市监罚〔2025〕1号"]
    assert registry.all_parked() == []
    assert registry.parked(USCC) == []


def test_parked_publication_and_registration_in_the_same_batch(any_registry: Registry) -> None:
    registry = any_registry
    outcomes = registry.process([penalty(publication_id="P-EARLY-2"), registered()])

    assert [o.status for o in outcomes] == ["parked", "applied"]
    assert [(o.status, o.publication_id) for o in outcomes[1].released] == [("applied", "P-EARLY-2")]
    assert "津市监罚〔2025〕1号" in registry.get_entity(USCC).penalties
    assert registry.all_parked() == []


def test_parked_publications_are_released_in_arrival_order(registry: Registry) -> None:
    amend = envelope(
        "penalty.amended", {"decision_no": "津市监罚〔2025〕1号", "reason": "更正", "severity": "serious"}
    )
    registry.process([penalty(publication_id="P-1"), amend])
    assert [w["kind"] for w in registry.all_parked()] == ["penalty.imposed", "penalty.amended"]

    outcome = registry.apply_publication(registered())

    assert [o.status for o in outcome.released] == ["applied", "applied"]
    assert registry.get_entity(USCC).penalties["津市监罚〔2025〕1号"]["severity"] == "serious"


def test_parked_publication_that_breaks_an_invariant_is_rejected_on_release(registry: Registry) -> None:
    registry.apply_publication(envelope("penalty.revoked", {"decision_no": "NOPE", "reason": "撤销"}))
    outcome = registry.apply_publication(registered())
    [released] = outcome.released
    assert (released.status, released.code) == ("rejected", "unknown_penalty")
    assert registry.all_parked() == []


def test_the_same_parked_publication_twice_is_parked_once(registry: Registry) -> None:
    message = penalty(publication_id="P-TWICE")
    assert registry.apply_publication(message).status == "parked"
    assert registry.apply_publication(message).status == "duplicate"
    assert len(registry.all_parked()) == 1


def test_all_parked_lists_every_waiting_entity(registry: Registry) -> None:
    other = uscc_for(2)
    registry.process([penalty(publication_id="A-1"), penalty(uscc=other, publication_id="B-1")])
    assert {(w["uscc"], w["publication_id"]) for w in registry.all_parked()} == {
        (USCC, "A-1"),
        (other, "B-1"),
    }
    registry.apply_publication(registered(uscc=other))
    assert [w["publication_id"] for w in registry.all_parked()] == ["A-1"]


# --- rejections -----------------------------------------------------------------------------------


def _bad_uscc() -> str:
    last = USCC[-1]
    return USCC[:-1] + ("0" if last != "0" else "1")


def _registration_with_bad_resident_id() -> dict[str, Any]:
    good = resident_id(7)
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    rep = person(id_number=bad)
    return envelope(
        "registration.registered", registration_payload(legal_representative=rep), uscc=uscc_for(9)
    )


def _without(key: str) -> dict[str, Any]:
    message = registered()
    del message[key]
    return message


REJECTIONS: list[tuple[str, Callable[[], Any], str, str]] = [
    ("malformed-json", lambda: b'{"publication_id": "X-1", ', pub.REASON_MALFORMED, "JSON"),
    ("malformed-utf8", lambda: b"\xff\xfe\x00", pub.REASON_MALFORMED, "JSON"),
    ("non-object-json", lambda: b"[1, 2, 3]", pub.REASON_MALFORMED, "JSON 对象"),
    (
        "missing-publication-id",
        lambda: _without("publication_id"),
        pub.REASON_INVALID_ENVELOPE,
        "publication_id",
    ),
    ("missing-payload", lambda: _without("payload"), pub.REASON_INVALID_ENVELOPE, "payload"),
    ("unknown-kind", lambda: envelope("penalty.pardoned", {}), pub.REASON_UNKNOWN_KIND, "penalty.pardoned"),
    ("bad-uscc", lambda: registered(uscc=_bad_uscc()), pub.REASON_INVALID_USCC, "校验未通过"),
    ("unknown-department", lambda: penalty(department="TJ-NOPE"), pub.REASON_UNKNOWN_DEPARTMENT, "TJ-NOPE"),
    (
        "outside-mandate",
        lambda: envelope("registration.registered", registration_payload(), department="TJ-TAX"),
        pub.REASON_OUTSIDE_MANDATE,
        "税务局",
    ),
    ("bad-resident-id", _registration_with_bad_resident_id, pub.REASON_INVALID_PAYLOAD, "校验码"),
    (
        "occurred-after-today",
        lambda: penalty(occurred_on=(TODAY + timedelta(days=2)).isoformat()),
        pub.REASON_FUTURE_DATE,
        "晚于系统日期",
    ),
    (
        "decided-after-today",
        lambda: envelope(
            "penalty.imposed", penalty_payload(decided_on=(TODAY + timedelta(days=1)).isoformat())
        ),
        pub.REASON_FUTURE_DATE,
        "决定日期",
    ),
    (
        "unknown-severity",
        lambda: envelope("penalty.imposed", penalty_payload(severity="critical")),
        pub.REASON_INVALID_PAYLOAD,
        "severity",
    ),
]


@pytest.mark.parametrize(
    ("message", "code", "fragment"), [r[1:] for r in REJECTIONS], ids=[r[0] for r in REJECTIONS]
)
def test_rejection_has_a_stable_code_and_a_chinese_message(
    registry: Registry, uscc: str, message: Callable[[], Any], code: str, fragment: str
) -> None:
    before = max_id(registry)
    outcome = registry.apply_publication(message())
    assert (outcome.status, outcome.code) == ("rejected", code), outcome
    assert outcome.message and CJK.search(outcome.message), outcome
    assert fragment in outcome.message
    assert recorded_only_rejections_since(registry, before)
    assert registry.all_parked() == []


def test_bad_uscc_message_says_the_code_failed_its_check(registry: Registry) -> None:
    outcome = registry.apply_publication(penalty(uscc=_bad_uscc()))
    assert outcome.code == "invalid_uscc"
    assert outcome.message is not None and "统一社会信用代码校验未通过" in outcome.message
    assert outcome.uscc == _bad_uscc()


def test_registering_an_existing_uscc_under_a_new_publication_id_is_rejected(
    registry: Registry, uscc: str
) -> None:
    before = max_id(registry)
    outcome = registry.apply_publication(registered(name="另一家公司", publication_id="TJ-AMR-REG-NEW"))
    assert (outcome.status, outcome.code) == ("rejected", pub.REASON_ALREADY_REGISTERED)
    assert outcome.message and uscc in outcome.message
    assert registry.get_entity(uscc).name == "天津滨海星海科技有限公司"
    assert recorded_only_rejections_since(registry, before)


@pytest.mark.parametrize(
    ("setup", "message", "code"),
    [
        ([], envelope("penalty.revoked", {"decision_no": "NOPE", "reason": "x"}), "unknown_penalty"),
        ([], envelope("licence.revoked", {"licence_no": "NOPE", "reason": "x"}), "unknown_licence"),
        ([], envelope("abnormal.removed", {"decision_no": "NOPE", "reason": "x"}), "unknown_listing"),
        (
            [envelope("registration.deregistered", {"reason": "解散"})],
            envelope("registration.changed", {"changes": [{"field": "address", "after": "新址"}]}),
            "entity_not_active",
        ),
    ],
    ids=["unknown_penalty", "unknown_licence", "unknown_listing", "entity_not_active"],
)
def test_invariant_violation_is_rejected_with_its_own_code(
    registry: Registry, uscc: str, setup: list[dict[str, Any]], message: dict[str, Any], code: str
) -> None:
    assert all(o.status == "applied" for o in registry.process(setup))
    version = registry.get_entity(uscc).version
    outcome = registry.apply_publication(message)
    assert (outcome.status, outcome.code) == ("rejected", code), outcome
    assert outcome.message and CJK.search(outcome.message)
    assert registry.get_entity(uscc).version == version


def test_rejection_reason_codes_are_stable() -> None:
    codes = (
        pub.REASON_MALFORMED,
        pub.REASON_INVALID_ENVELOPE,
        pub.REASON_UNKNOWN_KIND,
        pub.REASON_UNSUPPORTED_KIND,
        pub.REASON_INVALID_PAYLOAD,
        pub.REASON_INVALID_USCC,
        pub.REASON_UNKNOWN_DEPARTMENT,
        pub.REASON_OUTSIDE_MANDATE,
        pub.REASON_ALREADY_REGISTERED,
        pub.REASON_FUTURE_DATE,
    )
    assert codes == (
        "malformed",
        "invalid_envelope",
        "unknown_kind",
        "unsupported_kind",
        "invalid_payload",
        "invalid_uscc",
        "unknown_department",
        "outside_mandate",
        "already_registered",
        "future_date",
    )


def test_a_batch_applies_the_valid_and_rejects_the_invalid(registry: Registry, uscc: str) -> None:
    outcomes = registry.process([b"nonsense", penalty(), envelope("penalty.pardoned", {})])
    assert [o.status for o in outcomes] == ["rejected", "applied", "rejected"]
    assert [o.as_dict().get("code") for o in outcomes] == ["malformed", None, "unknown_kind"]


# --- tracking -------------------------------------------------------------------------------------


def test_tracking_is_recorded_with_the_events_and_a_repeat_records_nothing(any_registry: Registry) -> None:
    registry = any_registry
    registry.process([registered()], tracking=Tracking("log:t:0", 5))
    assert registry.position("log:t:0") == 5
    last = max_id(registry)
    version = registry.get_entity(USCC).version

    with pytest.raises(IntegrityError):
        registry.process([penalty()], tracking=Tracking("log:t:0", 5))

    assert max_id(registry) == last
    assert registry.get_entity(USCC).version == version
    assert registry.get_entity(USCC).penalties == {}
    assert registry.position("log:t:0") == 5


def test_tracking_advances_even_when_every_publication_is_rejected(any_registry: Registry) -> None:
    any_registry.process([b"nonsense"], tracking=Tracking("log:t:1", 3))
    assert any_registry.position("log:t:1") == 3
    assert any_registry.position("log:t:2") is None


def test_on_decided_sees_every_outcome_before_anything_is_recorded(registry: Registry) -> None:
    seen: list[tuple[list[str], int]] = []
    registry.process(
        [registered(), b"{"],
        tracking=Tracking("log:t:0", 1),
        on_decided=lambda outcomes: seen.append(([o.status for o in outcomes], max_id(registry))),
    )
    assert seen == [(["applied", "rejected"], 0)]


# --- snapshots and projection ---------------------------------------------------------------------


def test_the_registrys_projector_builds_what_eventsourcings_builds(registry: Registry) -> None:
    other = uscc_for(2)
    registry.process(
        [
            penalty(uscc=other, publication_id="P-PARKED"),  # a lot that is opened, then released
            registered(),
            penalty(publication_id="P-1"),
            envelope("inspection.published", inspection_payload("SSJ-1")),
            registered(),  # a duplicate: no event
            envelope("penalty.revoked", {"decision_no": "NOPE", "reason": "撤销"}),  # rejection log
            registered(uscc=other, publication_id="R-OTHER"),
        ]
    )
    ids = {n.originator_id for n in registry.recorder.select_notifications(start=1, limit=100)}
    assert len(ids) == 4  # two entities, a lot and the rejection log
    for aggregate_id in ids:
        events = list(registry.events.get(aggregate_id))
        ours, theirs = apply_events(None, events), project_aggregate(None, events)
        assert type(ours) is type(theirs)
        assert ours.__dict__ == theirs.__dict__
        assert registry.repository.get(aggregate_id).__dict__ == theirs.__dict__
    assert inspect.signature(registry.repository.get).parameters["projector_func"].default is apply_events


def test_an_entity_with_more_than_100_events_round_trips_through_a_snapshot(tmp_path: Path) -> None:
    env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "events.sqlite3")}
    writer = make_registry(env)
    writer.apply_publication(registered())
    inspections = [
        envelope(
            "inspection.published",
            inspection_payload(f"SSJ-{i:04d}"),
            occurred_on=f"2024-{i % 12 + 1:02d}-01",
        )
        for i in range(120)
    ]
    for start in range(0, 120, 7):  # batches that straddle version 100
        assert {o.status for o in writer.process(inspections[start : start + 7])} == {"applied"}
    expected = writer.get_entity(USCC)
    writer.close()

    reader = make_registry(env)
    try:
        assert reader.snapshots is not None
        snapshots = list(reader.snapshots.get(entity_id(USCC)))
        assert [s.originator_version for s in snapshots] == [100]
        loaded = reader.get_entity(USCC)  # snapshot at 100 + 21 events
        replayed = project_aggregate(None, reader.events.get(entity_id(USCC)))  # every event
        assert loaded.version == replayed.version == 121
        assert len(loaded.inspections) == 120
        assert loaded.__dict__ == replayed.__dict__ == expected.__dict__
        assert sharing_document(loaded) == sharing_document(expected)
        assert loaded.has_applied(inspections[99]["publication_id"])
        duplicate = reader.apply_publication(inspections[50])
        assert duplicate.status == "duplicate"
    finally:
        reader.close()


def test_outcome_as_dict_leaves_out_empty_fields() -> None:
    outcome = Outcome("applied", publication_id="X", released=(Outcome("rejected", code="malformed"),))
    assert outcome.as_dict() == {
        "status": "applied",
        "publication_id": "X",
        "released": [{"status": "rejected", "code": "malformed"}],
    }
