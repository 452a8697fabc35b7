"""The dead-letter queue for operators, on the embedded log with SQLite and on the real Kafka with
PostgreSQL, through the `gongshi dlq` commands and the same worker path as production:

- a publication refused because its signing key was not registered yet is listed, shown in full,
  and — once the key is registered — replayed: the original bytes and signature go back on the
  publication log and are applied; replaying the entry again sends nothing and says when it was;
- a publication still wrong is rejected again, and its new entry names the entry it replays;
- purging drops the entries older than a number of days by the system date.
Every replay and purge is in the audit trail.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from typer.testing import CliRunner

from adapters.credentials.signing import Signer
from api.cli import app
from api.cli.dead_letters import all_dead_letters
from domain.uscc import partition_key
from infra.bootstrap import Container
from infra.settings import Settings
from tests.builders import TODAY, envelope, penalty_payload, registered, uscc_for
from tests.engines import kafka_bootstrap, kafka_settings, postgres_dsn, real, unique_prefix

runner = CliRunner()


class Platform:
    def __init__(self, container: Container, engine: str) -> None:
        self.container = container
        self.engine = engine
        self.settings = container.settings

    def publish(self, message: dict[str, Any], signer: Signer) -> None:
        value = json.dumps(message, ensure_ascii=False).encode()
        self.container.log.produce(
            self.settings.publications_topic,
            value,
            key=partition_key(message["uscc"]),
            headers=signer.headers(value),
        )
        self.container.log.flush()

    def apply(self) -> None:
        self.container.worker.drain()
        self.container.status_projection.catch_up()

    def status(self, publication_id: str) -> dict[str, Any] | None:
        return self.container.status_view.get(publication_id)

    def cli(self, *args: str, code: int = 0) -> str:
        result = runner.invoke(app, list(args))
        assert result.exit_code == code, result.output
        return result.stdout

    def published(self) -> int:
        return sum(self.container.log.end_offsets(self.settings.publications_topic).values())


@pytest.fixture(params=["embedded", real("kafka+postgres")])
def platform(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Platform]:
    values: dict[str, Any] = {"data_dir": tmp_path / "var", "today": TODAY}
    if request.param != "embedded":
        prefix = unique_prefix("dlq")
        values |= {
            "kafka_bootstrap": kafka_bootstrap(),
            "kafka_partitions": 1,
            "prefix": prefix,
            "consumer_group": f"{prefix}-ingest",
            "postgres_dsn": postgres_dsn(),
            "postgres_schema": prefix,
            **kafka_settings(),
        }
        with psycopg.connect(values["postgres_dsn"], autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{prefix}"')
    for name, value in values.items():  # what the `gongshi` commands read
        monkeypatch.setenv(f"GONGSHI_{name.upper()}", str(value))
    container = Container(Settings(**values))
    s = container.settings
    container.log.ensure_topic(s.publications_topic, 1)
    container.log.ensure_topic(s.dlq_topic, 1)
    try:
        yield Platform(container, request.param)
    finally:
        delete_topics = getattr(container.log, "delete_topics", None)
        if delete_topics is not None:
            delete_topics([s.publications_topic, s.dlq_topic, s.changes_topic])
        container.close()
        if s.postgres_dsn:
            with psycopg.connect(s.postgres_dsn, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{s.postgres_schema}" CASCADE')


def acts(platform: Platform) -> list[dict[str, Any]]:
    return [json.loads(line) for line in platform.cli("audit", "list", "--json").splitlines()]


def test_a_publication_refused_for_an_unregistered_key_is_replayed_once_after_the_key_is_registered(
    platform: Platform,
) -> None:
    late = Signer.generate()  # the department's new key, not yet registered when it publishes
    uscc = uscc_for(9101)
    platform.publish(registered(uscc=uscc, publication_id="DLQ-R1"), late)
    platform.apply()
    assert platform.status("DLQ-R1")["status"] == "rejected"  # type: ignore[index]
    listed = platform.cli("dlq", "list", "--reason", "bad_signature", "--department", "TJ-AMR")
    assert "DLQ-R1" in listed
    assert "DLQ-R1" not in platform.cli("dlq", "list", "--reason", "unknown_kind")
    [letter] = all_dead_letters(platform.container.log, platform.settings.dlq_topic)
    shown = json.loads(platform.cli("dlq", "show", letter.id))
    assert shown["value"]["publication_id"] == "DLQ-R1"
    assert shown["headers"]["reason"] == "bad_signature" and shown["replayed"] is None

    platform.container.credentials.register_signing_key("TJ-AMR", late.public)
    before = platform.published()
    result = json.loads(platform.cli("dlq", "replay", letter.id).splitlines()[-1])
    assert result == {"replayed": 1, "already_replayed": 0}
    assert platform.published() == before + 1
    platform.apply()
    assert platform.status("DLQ-R1")["status"] == "applied"  # type: ignore[index]
    assert platform.container.registry.get_entity(uscc).uscc == uscc

    again = runner.invoke(app, ["dlq", "replay", "DLQ-R1"])  # by publication id: the same entry
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout.splitlines()[-1]) == {"replayed": 0, "already_replayed": 1}
    assert "已于" in again.output and "重放过" in again.output
    assert platform.published() == before + 1
    shown = json.loads(platform.cli("dlq", "show", letter.id))
    assert shown["replayed"]["by"].startswith("cli:")
    assert shown["status_now"]["status"] == "applied" and shown["rejected_again"] == []
    assert [a["action"] for a in acts(platform)] == ["dlq.replayed"]
    assert acts(platform)[0]["arguments"]["publication_ids"] == ["DLQ-R1"]


def test_a_replayed_publication_that_is_still_wrong_is_rejected_again_and_says_so(platform: Platform) -> None:
    signer = platform.container.credentials.add_signing_key("TJ-AMR")
    uscc = uscc_for(9201)
    platform.publish(registered(uscc=uscc, publication_id="DLQ-K1"), signer)
    # the kind is in no department's mandate (TJ-TAX may not publish penalties)
    platform.publish(
        envelope(
            "penalty.imposed", {"decision_no": "x"}, uscc=uscc, publication_id="DLQ-K2", department="TJ-TAX"
        ),
        signer,
    )
    platform.apply()
    [first] = all_dead_letters(platform.container.log, platform.settings.dlq_topic)
    assert first.publication_id == "DLQ-K2"
    platform.cli("dlq", "replay", "--reason", first.reason)
    platform.apply()
    letters = all_dead_letters(platform.container.log, platform.settings.dlq_topic)
    assert [d.publication_id for d in letters] == ["DLQ-K2", "DLQ-K2"]
    second = letters[1]
    assert second.replay_of == first.entry and second.reason == first.reason
    assert "重放后再次拒绝" in platform.cli("dlq", "list")
    shown = json.loads(platform.cli("dlq", "show", first.id))
    assert shown["rejected_again"] == [{"id": second.id, "reason": second.reason, "message": second.message}]
    assert shown["status_now"]["status"] == "rejected"
    # --reason again: the first entry is not sent twice; the new one is
    assert json.loads(platform.cli("dlq", "replay", "--reason", first.reason).splitlines()[-1]) == {
        "replayed": 1,
        "already_replayed": 1,
    }


def test_replay_needs_one_entry_or_a_reason(platform: Platform) -> None:
    platform.cli("dlq", "replay", code=2)
    platform.cli("dlq", "replay", "0@0", "--reason", "bad_signature", code=2)
    platform.cli("dlq", "replay", "0@99", code=2)
    platform.cli("dlq", "show", "NO-SUCH-ID", code=2)


@pytest.mark.parametrize("platform", ["embedded"], indirect=True)
def test_purge_drops_the_entries_older_than_the_days_given(platform: Platform) -> None:
    """Embedded only: back-dating an entry needs the embedded log's table (Kafka's part of a purge,
    delete_before, is in test_publication_log.py)."""
    signer = Signer.generate()
    for n in range(3):
        platform.publish(registered(uscc=uscc_for(9300 + n), publication_id=f"DLQ-P{n}"), signer)
    platform.apply()
    day_ms = 86_400_000
    with sqlite3.connect(platform.settings.data_dir / "publications.sqlite3") as conn:
        conn.execute(  # the first two were dead-lettered 40 and 31 days ago
            "UPDATE records SET ts = ts - CASE offset WHEN 0 THEN 40 ELSE 31 END * ? "
            "WHERE topic = ? AND offset < 2",
            (day_ms, platform.settings.dlq_topic),
        )
    assert json.loads(platform.cli("dlq", "purge", "--older-than", "35").splitlines()[-1])["deleted"] == 1
    assert json.loads(platform.cli("dlq", "purge", "--older-than", "30").splitlines()[-1])["deleted"] == 1
    left = all_dead_letters(platform.container.log, platform.settings.dlq_topic)
    assert [d.publication_id for d in left] == ["DLQ-P2"]
    assert [(a["action"], a["arguments"]["deleted"]) for a in acts(platform)] == [
        ("dlq.purged", 1),
        ("dlq.purged", 1),
    ]


def test_a_publication_parked_too_long_goes_to_the_dlq_and_can_be_replayed_once_its_entity_registers(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    signer = platform.container.credentials.add_signing_key("TJ-AMR")
    uscc = uscc_for(9401)
    penalty = envelope("penalty.imposed", penalty_payload(), uscc=uscc, publication_id="DLQ-PARK1")
    platform.publish(penalty, signer)
    platform.apply()
    assert platform.status("DLQ-PARK1")["status"] == "parked"  # type: ignore[index]
    listed = platform.cli("parked")
    assert "DLQ-PARK1" in listed and TODAY.isoformat() in listed
    assert "DLQ-PARK1" not in platform.cli("parked", "--older-than", "0")

    monkeypatch.setenv("GONGSHI_TODAY", (TODAY + timedelta(days=90)).isoformat())
    assert json.loads(platform.cli("jobs", "run", "parked-expiry").splitlines()[-1])["expired"] == 0
    monkeypatch.setenv("GONGSHI_TODAY", (TODAY + timedelta(days=91)).isoformat())
    assert "DLQ-PARK1" in platform.cli("parked", "--older-than", "90")
    assert json.loads(platform.cli("jobs", "run", "parked-expiry").splitlines()[-1])["expired"] == 1
    assert "DLQ-PARK1" not in platform.cli("parked")
    [dead] = all_dead_letters(platform.container.log, platform.settings.dlq_topic)
    assert (dead.publication_id, dead.reason, dead.department) == ("DLQ-PARK1", "parked_expired", "TJ-AMR")
    assert dead.headers["parked_on"] == TODAY.isoformat() and dead.signing_key_id == signer.key_id
    platform.container.status_projection.catch_up()
    status = platform.status("DLQ-PARK1")
    assert status is not None and (status["status"], status["code"]) == ("rejected", "parked_expired")
    expired_acts = [a for a in acts(platform) if a["action"] == "jobs.run"]
    assert [a["arguments"]["expired"] for a in expired_acts] == [[], ["DLQ-PARK1"]]

    # the entity registers late; the operator replays the expired penalty (signed anew by the
    # platform for the principal it carried) and it is applied
    platform.publish(registered(uscc=uscc, publication_id="DLQ-PARK-R"), signer)
    platform.apply()
    assert list(platform.container.registry.get_entity(uscc).penalties) == []
    platform.cli("dlq", "replay", "--reason", "parked_expired", "--department", "TJ-AMR")
    platform.apply()
    assert platform.status("DLQ-PARK1")["status"] == "applied"  # type: ignore[index]
    platform.container.registry.forget_cached()
    assert len(platform.container.registry.get_entity(uscc).penalties) == 1
