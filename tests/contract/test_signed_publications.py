"""Signed envelopes on both logs: the ingestion worker applies only what a key allowed to sign for
the envelope's department signed over the exact bytes, and keeps who signed it.

Each scenario runs on the embedded log and on the real Kafka (logged in as the platform), with
the SQLite event store and credential store, through the same worker path (`container.worker`).
A refused signature goes to the DLQ with reason `bad_signature` and a Chinese message, and is
recorded like every rejection (the status view says so); the cases are the issue's: missing,
wrong key, another department's key, and a rotated (revoked) key.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters.credentials.signing import HEADER_KEY_ID, HEADER_SIGNATURE, Signer
from adapters.publication_log.base import Headers
from api.dead_letters import DeadLetter, recent_dead_letters
from domain.entity import MarketEntity, entity_id
from domain.signatures import PLATFORM
from domain.uscc import partition_key
from infra.bootstrap import Container
from infra.settings import Settings
from projections.documents import public_document, sharing_document
from tests.builders import (
    TODAY,
    department_signer,
    envelope,
    penalty_payload,
    platform_signed,
    registered,
    uscc_for,
)
from tests.engines import kafka_bootstrap, kafka_settings, real, unique_prefix


class Platform:
    """A container on one log, and what a test does with it."""

    def __init__(self, container: Container) -> None:
        self.container = container
        self.topic = container.settings.publications_topic

    def publish(self, message: dict[str, Any], sign: Callable[[bytes], Headers] | None) -> bytes:
        value = json.dumps(message, ensure_ascii=False).encode()
        headers = sign(value) if sign is not None else ()
        self.container.log.produce(self.topic, value, key=partition_key(message["uscc"]), headers=headers)
        self.container.log.flush()
        return value

    def apply(self) -> None:
        self.container.worker.drain()
        self.container.status_projection.catch_up()

    def status(self, publication_id: str) -> dict[str, Any] | None:
        return self.container.status_view.get(publication_id)

    def dead(self) -> list[DeadLetter]:
        return recent_dead_letters(self.container.log, self.container.settings.dlq_topic, 100)

    def events(self, uscc: str) -> list[Any]:
        return list(self.container.registry.repository.event_store.get(entity_id(uscc)))


@pytest.fixture(params=["embedded", real("kafka")])
def platform(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Platform]:
    values: dict[str, Any] = {"data_dir": tmp_path / "var", "today": TODAY}
    if request.param == "kafka":
        prefix = unique_prefix("signed")
        values |= {
            "kafka_bootstrap": kafka_bootstrap(),
            "kafka_partitions": 1,
            "prefix": prefix,
            "consumer_group": f"{prefix}-ingest",
            **kafka_settings(),
        }
    container = Container(Settings(**values))
    if request.param == "kafka":
        container.log.ensure_topic(container.settings.publications_topic, 1)
        container.log.ensure_topic(container.settings.dlq_topic, 1)
    try:
        yield Platform(container)
    finally:
        s = container.settings
        delete_topics = getattr(container.log, "delete_topics", None)
        if delete_topics is not None:
            delete_topics([s.publications_topic, s.dlq_topic, s.changes_topic])
        container.close()


def bad_signature(platform: Platform, publication_id: str) -> DeadLetter:
    """The publication's DLQ entry, checked to say bad_signature — also in the status view."""
    [dead] = [d for d in platform.dead() if d.publication_id == publication_id]
    assert dead.reason == "bad_signature", dead
    status = platform.status(publication_id)
    assert status is not None and (status["status"], status["code"]) == ("rejected", "bad_signature")
    assert status["message"] == dead.message and dead.message.startswith("签名验证失败：")
    return dead


def test_a_publication_signed_by_its_department_is_applied_and_keeps_who_signed_it(
    platform: Platform,
) -> None:
    amr = department_signer(platform.container, "TJ-AMR")
    uscc = uscc_for(8101)
    platform.publish(registered(uscc=uscc, publication_id="SIG-R"), amr.headers)
    platform.publish(
        envelope("penalty.imposed", penalty_payload(), uscc=uscc, publication_id="SIG-P"),
        lambda value: amr.headers(value, "department:TJ-AMR/user:enforcement-2"),
    )
    platform.apply()

    registered_event, penalty_event = platform.events(uscc)
    assert (registered_event.signing_key_id, registered_event.principal) == (amr.key_id, "department:TJ-AMR")
    assert (penalty_event.signing_key_id, penalty_event.principal) == (
        amr.key_id,
        "department:TJ-AMR/user:enforcement-2",
    )
    entity = platform.container.registry.get_entity(uscc)
    sharing = sharing_document(entity)
    assert sharing["registered_by"]["signing_key_id"] == amr.key_id
    assert sharing["penalties"][0]["principal"] == "department:TJ-AMR/user:enforcement-2"
    assert "principal" not in json.dumps(public_document(sharing), ensure_ascii=False)
    assert platform.dead() == []


def test_an_unsigned_publication_goes_to_the_dlq_as_bad_signature(platform: Platform) -> None:
    uscc = uscc_for(8201)
    platform.publish(registered(uscc=uscc, publication_id="UNSIGNED-R"), None)
    platform.apply()
    assert "缺少签名" in bad_signature(platform, "UNSIGNED-R").message
    assert platform.events(uscc) == []


def test_a_key_that_is_not_registered_or_that_did_not_sign_these_bytes_is_refused(
    platform: Platform,
) -> None:
    amr = department_signer(platform.container, "TJ-AMR")
    stranger = Signer.generate()  # never registered
    uscc = uscc_for(8301)
    platform.publish(registered(uscc=uscc, publication_id="STRANGER-R"), stranger.headers)
    # a valid signature of other bytes (the envelope changed after signing)
    signed_other = amr.headers(b'{"publication_id": "TAMPERED-R"}')
    platform.publish(registered(uscc=uscc, publication_id="TAMPERED-R"), lambda value: signed_other)
    platform.apply()
    stranger_dead = bad_signature(platform, "STRANGER-R")
    assert "未登记的签名密钥" in stranger_dead.message and stranger_dead.signing_key_id == stranger.key_id
    assert "签名与消息内容不符" in bad_signature(platform, "TAMPERED-R").message
    assert platform.events(uscc) == []


def test_a_department_key_cannot_sign_for_another_department(platform: Platform) -> None:
    tax = department_signer(platform.container, "TJ-TAX")
    uscc = uscc_for(8401)
    # TJ-TAX's valid signature over an envelope in TJ-AMR's name
    platform.publish(registered(uscc=uscc, publication_id="FORGED-R"), tax.headers)
    platform.apply()
    message = bad_signature(platform, "FORGED-R").message
    assert "TJ-TAX" in message and "TJ-AMR" in message
    assert platform.events(uscc) == []


def test_the_platform_key_signs_for_any_department_in_the_name_of_who_acted(platform: Platform) -> None:
    uscc = uscc_for(8501)
    platform.publish(registered(uscc=uscc, publication_id="PLATFORM-R"), platform_signed(platform.container))
    platform.apply()
    [event] = platform.events(uscc)
    assert event.principal == "job:test"
    assert platform.container.credentials.signing_key(event.signing_key_id)[0] == PLATFORM  # type: ignore[index]


def test_a_rotated_key_is_refused_once_revoked_and_what_it_signed_before_stays(platform: Platform) -> None:
    credentials = platform.container.credentials
    old = department_signer(platform.container, "TJ-AMR")
    uscc = uscc_for(8601)
    platform.publish(registered(uscc=uscc, publication_id="ROT-R"), old.headers)
    platform.apply()
    # the rotation: a second key while the first still works; then the first is revoked
    new = department_signer(platform.container, "TJ-AMR")
    platform.publish(
        envelope(
            "penalty.imposed",
            penalty_payload(decision_no="津市监罚〔2026〕71号"),
            uscc=uscc,
            publication_id="ROT-P1",
        ),
        old.headers,
    )
    platform.apply()
    assert credentials.revoke_signing_key(old.key_id)
    platform.publish(
        envelope(
            "penalty.imposed",
            penalty_payload(decision_no="津市监罚〔2026〕72号"),
            uscc=uscc,
            publication_id="ROT-P2",
        ),
        old.headers,
    )
    platform.publish(
        envelope(
            "penalty.imposed",
            penalty_payload(decision_no="津市监罚〔2026〕73号"),
            uscc=uscc,
            publication_id="ROT-P3",
        ),
        new.headers,
    )
    platform.apply()

    assert "已吊销" in bad_signature(platform, "ROT-P2").message
    events = platform.events(uscc)
    assert [(type(e), e.publication_id, e.signing_key_id) for e in events] == [
        (MarketEntity.Registered, "ROT-R", old.key_id),
        (MarketEntity.PenaltyImposed, "ROT-P1", old.key_id),
        (MarketEntity.PenaltyImposed, "ROT-P3", new.key_id),
    ]
    assert platform.status("ROT-P1")["status"] == "applied"  # type: ignore[index]


def test_the_dlq_keeps_the_signature_headers_of_a_refused_message(platform: Platform) -> None:
    tax = department_signer(platform.container, "TJ-TAX")
    value = platform.publish(registered(uscc=uscc_for(8701), publication_id="KEPT-R"), tax.headers)
    platform.apply()
    dlq = platform.container.log.read(platform.container.settings.dlq_topic, 0, 0, 10)
    [record] = [r for r in dlq if r.value == value]
    headers = dict(record.headers)
    assert headers[HEADER_KEY_ID] == tax.key_id.encode() and HEADER_SIGNATURE in headers
    assert headers["reason"] == b"bad_signature"
