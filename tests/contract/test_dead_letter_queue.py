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
from datetime import timedelta

import pytest

from adapters.credentials.signing import Signer
from api.cli import app
from api.dead_letters import all_dead_letters
from tests.builders import TODAY, envelope, penalty_payload, registered, uscc_for
from tests.contract.operating import Platform, acts, runner


def test_a_publication_refused_for_an_unregistered_key_is_replayed_once_after_the_key_is_registered(
    operated: Platform,
) -> None:
    late = Signer.generate()  # the department's new key, not yet registered when it publishes
    uscc = uscc_for(9101)
    operated.publish(registered(uscc=uscc, publication_id="DLQ-R1"), late)
    operated.apply()
    assert operated.status("DLQ-R1")["status"] == "rejected"  # type: ignore[index]
    listed = operated.cli("dlq", "list", "--reason", "bad_signature", "--department", "TJ-AMR")
    assert "DLQ-R1" in listed
    assert "DLQ-R1" not in operated.cli("dlq", "list", "--reason", "unknown_kind")
    [letter] = all_dead_letters(operated.container.log, operated.settings.dlq_topic)
    shown = json.loads(operated.cli("dlq", "show", letter.id))
    assert shown["value"]["publication_id"] == "DLQ-R1"
    assert shown["headers"]["reason"] == "bad_signature" and shown["replayed"] is None

    operated.container.credentials.register_signing_key("TJ-AMR", late.public)
    before = operated.published()
    result = json.loads(operated.cli("dlq", "replay", letter.id).splitlines()[-1])
    assert result == {"replayed": 1, "already_replayed": 0}
    assert operated.published() == before + 1
    operated.apply()
    assert operated.status("DLQ-R1")["status"] == "applied"  # type: ignore[index]
    assert operated.container.registry.get_entity(uscc).uscc == uscc

    again = runner.invoke(app, ["dlq", "replay", "DLQ-R1"])  # by publication id: the same entry
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout.splitlines()[-1]) == {"replayed": 0, "already_replayed": 1}
    assert "已于" in again.output and "重放过" in again.output
    assert operated.published() == before + 1
    shown = json.loads(operated.cli("dlq", "show", letter.id))
    assert shown["replayed"]["by"].startswith("cli:")
    assert shown["status_now"]["status"] == "applied" and shown["rejected_again"] == []
    assert [a["action"] for a in acts(operated)] == ["dlq.replayed"]
    assert acts(operated)[0]["arguments"]["publication_ids"] == ["DLQ-R1"]


def test_a_replayed_publication_that_is_still_wrong_is_rejected_again_and_says_so(operated: Platform) -> None:
    signer = operated.container.credentials.add_signing_key("TJ-AMR")
    uscc = uscc_for(9201)
    operated.publish(registered(uscc=uscc, publication_id="DLQ-K1"), signer)
    # the kind is in no department's mandate (TJ-TAX may not publish penalties)
    operated.publish(
        envelope(
            "penalty.imposed", {"decision_no": "x"}, uscc=uscc, publication_id="DLQ-K2", department="TJ-TAX"
        ),
        signer,
    )
    operated.apply()
    [first] = all_dead_letters(operated.container.log, operated.settings.dlq_topic)
    assert first.publication_id == "DLQ-K2"
    operated.cli("dlq", "replay", "--reason", first.reason)
    operated.apply()
    letters = all_dead_letters(operated.container.log, operated.settings.dlq_topic)
    assert [d.publication_id for d in letters] == ["DLQ-K2", "DLQ-K2"]
    second = letters[1]
    assert second.replay_of == first.entry and second.reason == first.reason
    assert "重放后再次拒绝" in operated.cli("dlq", "list")
    shown = json.loads(operated.cli("dlq", "show", first.id))
    assert shown["rejected_again"] == [{"id": second.id, "reason": second.reason, "message": second.message}]
    assert shown["status_now"]["status"] == "rejected"
    # --reason again: the first entry is not sent twice; the new one is
    assert json.loads(operated.cli("dlq", "replay", "--reason", first.reason).splitlines()[-1]) == {
        "replayed": 1,
        "already_replayed": 1,
    }


def test_replay_needs_one_entry_or_a_reason(operated: Platform) -> None:
    operated.cli("dlq", "replay", code=2)
    operated.cli("dlq", "replay", "0@0", "--reason", "bad_signature", code=2)
    operated.cli("dlq", "replay", "0@99", code=2)
    operated.cli("dlq", "show", "NO-SUCH-ID", code=2)


@pytest.mark.parametrize("operated", ["embedded"], indirect=True)
def test_purge_drops_the_entries_older_than_the_days_given(operated: Platform) -> None:
    """Embedded only: back-dating an entry needs the embedded log's table (Kafka's part of a purge,
    delete_before, is in test_publication_log.py)."""
    signer = Signer.generate()
    for n in range(3):
        operated.publish(registered(uscc=uscc_for(9300 + n), publication_id=f"DLQ-P{n}"), signer)
    operated.apply()
    day_ms = 86_400_000
    with sqlite3.connect(operated.settings.data_dir / "publications.sqlite3") as conn:
        conn.execute(  # the first two were dead-lettered 40 and 31 days ago
            "UPDATE records SET ts = ts - CASE offset WHEN 0 THEN 40 ELSE 31 END * ? "
            "WHERE topic = ? AND offset < 2",
            (day_ms, operated.settings.dlq_topic),
        )
    assert json.loads(operated.cli("dlq", "purge", "--older-than", "35").splitlines()[-1])["deleted"] == 1
    assert json.loads(operated.cli("dlq", "purge", "--older-than", "30").splitlines()[-1])["deleted"] == 1
    left = all_dead_letters(operated.container.log, operated.settings.dlq_topic)
    assert [d.publication_id for d in left] == ["DLQ-P2"]
    assert [(a["action"], a["arguments"]["deleted"]) for a in acts(operated)] == [
        ("dlq.purged", 1),
        ("dlq.purged", 1),
    ]


def test_a_publication_parked_too_long_goes_to_the_dlq_and_can_be_replayed_once_its_entity_registers(
    operated: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    signer = operated.container.credentials.add_signing_key("TJ-AMR")
    uscc = uscc_for(9401)
    penalty = envelope("penalty.imposed", penalty_payload(), uscc=uscc, publication_id="DLQ-PARK1")
    operated.publish(penalty, signer)
    operated.apply()
    assert operated.status("DLQ-PARK1")["status"] == "parked"  # type: ignore[index]
    listed = operated.cli("parked")
    assert "DLQ-PARK1" in listed and TODAY.isoformat() in listed
    assert "DLQ-PARK1" not in operated.cli("parked", "--older-than", "0")

    monkeypatch.setenv("GONGSHI_TODAY", (TODAY + timedelta(days=90)).isoformat())
    assert json.loads(operated.cli("jobs", "run", "parked-expiry").splitlines()[-1])["expired"] == 0
    monkeypatch.setenv("GONGSHI_TODAY", (TODAY + timedelta(days=91)).isoformat())
    assert "DLQ-PARK1" in operated.cli("parked", "--older-than", "90")
    assert json.loads(operated.cli("jobs", "run", "parked-expiry").splitlines()[-1])["expired"] == 1
    assert "DLQ-PARK1" not in operated.cli("parked")
    [dead] = all_dead_letters(operated.container.log, operated.settings.dlq_topic)
    assert (dead.publication_id, dead.reason, dead.department) == ("DLQ-PARK1", "parked_expired", "TJ-AMR")
    assert dead.headers["parked_on"] == TODAY.isoformat() and dead.signing_key_id == signer.key_id
    operated.container.status_projection.catch_up()
    status = operated.status("DLQ-PARK1")
    assert status is not None and (status["status"], status["code"]) == ("rejected", "parked_expired")
    expired_acts = [a for a in acts(operated) if a["action"] == "jobs.run"]
    assert [a["arguments"]["expired"] for a in expired_acts] == [[], ["DLQ-PARK1"]]

    # the entity registers late; the operator replays the expired penalty (signed anew by the
    # platform for the principal it carried) and it is applied
    operated.publish(registered(uscc=uscc, publication_id="DLQ-PARK-R"), signer)
    operated.apply()
    assert list(operated.container.registry.get_entity(uscc).penalties) == []
    operated.cli("dlq", "replay", "--reason", "parked_expired", "--department", "TJ-AMR")
    operated.apply()
    assert operated.status("DLQ-PARK1")["status"] == "applied"  # type: ignore[index]
    operated.container.registry.forget_cached()
    assert len(operated.container.registry.get_entity(uscc).penalties) == 1
