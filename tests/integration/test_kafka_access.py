"""Kafka lets only registered departments write, and only their publications topic — refused by
the broker itself (SASL/SCRAM and ACLs, infra/provision/kafka/security.sh), not by the platform.

- A client without credentials, or with a wrong password, cannot even bootstrap (the platform's
  own login on the same address can: the refusal is the broker's, not the network's).
- `gongshi departments add-key` (as the admin principal) makes a department login that may write
  `<prefix>.publications` and nothing else: not the DLQ, not the change topic, not another
  platform's publications topic, and it cannot read any of them.
- `gongshi departments revoke-key` removes it: a new connection is refused, and a producer that
  was already connected is refused at its next write (the ACLs are gone); the signing key issued
  with it is refused by the worker from then on.
- The README's kafka-python example, run as it is against the broker, publishes a signed
  envelope that the worker applies in the department's name.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaConsumer, KafkaProducer
from kafka.errors import KafkaError
from typer.testing import CliRunner

from api.cli import app
from domain.entity import entity_id
from infra.bootstrap import Container
from infra.settings import Settings
from tests.builders import registered, uscc_for
from tests.integration.conftest import ROOT, SettingsFactory
from tests.integration.flow import read_all

pytestmark = pytest.mark.engines

runner = CliRunner()
QUICK = {"bootstrap_timeout_ms": 4000, "request_timeout_ms": 5000, "max_block_ms": 5000}


def environment(settings: Settings) -> dict[str, str]:
    """The settings as GONGSHI_* variables, for the command line (which reads only those)."""
    out = {}
    for name, value in settings:
        if value is None:
            continue
        text = value.get_secret_value() if hasattr(value, "get_secret_value") else str(value)
        out[f"GONGSHI_{name.upper()}"] = text
    return out


@pytest.fixture
def setup(settings_for: SettingsFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[Container]:
    settings = settings_for("access", partitions=1)
    for name, value in environment(settings).items():
        monkeypatch.setenv(name, value)
    container = Container(settings)
    container.log.ensure_topic(settings.changes_topic, 1)
    yield container
    container.close()


@pytest.fixture
def issued(setup: Container) -> Iterator[dict[str, Any]]:
    """`departments add-key TJ-AMR` on Kafka: the JSON line; revoked after the test."""
    result = runner.invoke(app, ["departments", "add-key", "TJ-AMR"])
    assert result.exit_code == 0, result.output
    creds: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    yield creds
    runner.invoke(app, ["departments", "revoke-key", creds["api_key"][3:11]])


def login(creds: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    return {
        "bootstrap_servers": creds["kafka_bootstrap"],
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": creds["sasl_mechanism"],
        "sasl_plain_username": creds["kafka_username"],
        "sasl_plain_password": creds["kafka_password"],
        **QUICK,
        **overrides,
    }


def write(producer: KafkaProducer, topic: str, value: bytes = b"{}") -> Any:
    return producer.send(topic, key=b"91120116MA000001XX", value=value).get(timeout=15)


def test_kafka_refuses_a_client_without_credentials_or_with_a_wrong_password(setup: Container) -> None:
    s = setup.settings
    bootstrap = s.kafka_bootstrap
    with pytest.raises(KafkaError):  # PLAINTEXT against a SASL listener: no bootstrap at all
        KafkaProducer(bootstrap_servers=bootstrap, **QUICK)
    with pytest.raises(KafkaError):
        KafkaProducer(
            bootstrap_servers=bootstrap,
            security_protocol="SASL_PLAINTEXT",
            sasl_mechanism="SCRAM-SHA-512",
            sasl_plain_username=s.kafka_username,
            sasl_plain_password=s.kafka_password.get_secret_value() + "-wrong",
            **QUICK,
        )
    # the same address with the platform's right password works
    platform = KafkaProducer(
        bootstrap_servers=bootstrap,
        security_protocol="SASL_PLAINTEXT",
        sasl_mechanism="SCRAM-SHA-512",
        sasl_plain_username=s.kafka_username,
        sasl_plain_password=s.kafka_password.get_secret_value(),
        **QUICK,
    )
    try:
        assert write(platform, s.changes_topic).offset >= 0
    finally:
        platform.close(timeout=5)


def test_add_key_issues_one_json_line_with_a_kafka_login_and_a_signing_key(
    setup: Container, issued: dict[str, Any]
) -> None:
    s = setup.settings
    key_id = issued["api_key"][3:11]
    assert issued["kafka_username"] == f"dept-TJ-AMR-{key_id}"
    assert (issued["sasl_mechanism"], issued["topic"], issued["kafka_bootstrap"]) == (
        "SCRAM-SHA-512",
        s.publications_topic,
        s.kafka_bootstrap,
    )
    assert len(issued["kafka_password"]) >= 24 and issued["signing_key_id"].startswith("sk_")
    stored = setup.credentials.signing_key(issued["signing_key_id"])
    assert stored is not None and stored[0] == "TJ-AMR" and not stored[2]


def test_a_department_may_write_its_publications_topic_and_nothing_else(
    setup: Container, issued: dict[str, Any]
) -> None:
    s = setup.settings
    producer = KafkaProducer(**login(issued))
    try:
        assert write(producer, s.publications_topic).topic == s.publications_topic
        for forbidden in (s.dlq_topic, s.changes_topic, "gongshi.publications", f"{s.prefix}.other"):
            with pytest.raises(KafkaError, match="TopicAuthorizationFailed"):
                write(producer, forbidden)
    finally:
        producer.close(timeout=5)
    reader = {k: v for k, v in login(issued).items() if k != "max_block_ms"}
    consumer = KafkaConsumer(
        s.publications_topic, group_id=f"{s.prefix}-snoop", auto_offset_reset="earliest", **reader
    )
    try:  # reading its own topic (or any other) is refused too
        with pytest.raises(KafkaError, match="AuthorizationFailed"):
            for _ in range(10):
                consumer.poll(timeout_ms=1000)
    finally:
        consumer.close()


def test_revoke_key_removes_the_login_its_rights_and_its_signing_key(
    setup: Container, issued: dict[str, Any]
) -> None:
    s = setup.settings
    connected = KafkaProducer(**login(issued))
    try:
        write(connected, s.publications_topic)
        result = runner.invoke(app, ["departments", "revoke-key", issued["api_key"][3:11]])
        assert result.exit_code == 0, result.output
        assert issued["kafka_username"] in result.output and issued["signing_key_id"] in result.output
        with pytest.raises(KafkaError, match="TopicAuthorizationFailed"):  # the open connection too
            write(connected, s.publications_topic)
    finally:
        connected.close(timeout=5)
    with pytest.raises(KafkaError):  # a new connection cannot authenticate
        KafkaProducer(**login(issued))
    stored = setup.credentials.signing_key(issued["signing_key_id"])
    assert stored is not None and stored[2]  # revoked
    assert runner.invoke(app, ["departments", "revoke-key", issued["api_key"][3:11]]).exit_code == 2


def readme_example() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(r"<!-- example: kafka-python publish -->\n```python\n(.*?)```", text, re.DOTALL)
    assert found, "README.md lost its kafka-python example"
    return found.group(1)


def test_the_readme_example_publishes_a_signed_envelope_the_worker_applies(
    setup: Container, issued: dict[str, Any], tmp_path: Path
) -> None:
    uscc = uscc_for(9301)
    (tmp_path / "tj-amr.json").write_text(json.dumps(issued), encoding="utf-8")
    (tmp_path / "envelope.json").write_text(
        json.dumps(registered(uscc=uscc, publication_id="README-1"), ensure_ascii=False), encoding="utf-8"
    )
    (tmp_path / "example.py").write_text(readme_example(), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "example.py"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr

    setup.worker.drain()
    assert setup.worker.counts["applied"] == 1, dict(setup.worker.counts)
    [event] = list(setup.registry.repository.event_store.get(entity_id(uscc)))
    assert (event.publication_id, event.signing_key_id, event.principal) == (
        "README-1",
        issued["signing_key_id"],
        "department:TJ-AMR",
    )
    assert read_all(setup.log, setup.settings.dlq_topic) == []
