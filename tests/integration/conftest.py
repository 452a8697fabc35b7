"""The real-engine setup the integration tests share.

Fixtures:
- `engines` — the shared engines of `make services-up` (tests/engines.py: reachable, or a skip —
  a failure under CI=true).
- `own_engines` — a Kafka and a PostgreSQL of the module's own, for tests that restart or kill
  engines: a named instance of infra/provision/services.sh (other ports, other directories, its
  own KRaft cluster id and PostgreSQL data dir), destroyed after the module's last test — also
  when a test fails, and by the instance's watcher if this process dies before it can.
- `settings_for` — Settings with a unique prefix on those engines: a PostgreSQL schema of its
  own and its Kafka topics (created), its consumer group; afterwards its topics, indexes and
  schema are dropped.
- `worker_processes` — ingestion workers in processes of their own (`tests.integration.worker_proc`);
  any still running after the test is killed.

Every test here uses real engines, so every test here must be marked `engines`: collection stops
with the list of those that are not (and tests/engines.py fails any test, anywhere, that asks
where an engine is without the mark).
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol

import psycopg
import pytest
from pydantic import SecretStr

from infra.bootstrap import Container
from infra.settings import Settings
from tests import engines as shared
from tests.builders import TODAY

if TYPE_CHECKING:
    from adapters.publication_log.kafka import KafkaLog

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
SERVICES = ROOT / "infra" / "provision" / "services.sh"


# --- every test here is marked `engines` ----------------------------------------------------------


def unmarked_items(items: Iterable[pytest.Item], directory: Path = HERE) -> list[str]:
    """The node ids of the tests under `directory` that lack the `engines` mark."""
    return [
        item.nodeid
        for item in items
        if item.path.is_relative_to(directory) and item.get_closest_marker("engines") is None
    ]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    missing = unmarked_items(items)
    if missing:
        raise pytest.UsageError(
            "integration tests use the real engines and must be marked `engines` "
            "(pytestmark = pytest.mark.engines): " + ", ".join(missing)
        )


# --- where the engines are ------------------------------------------------------------------------


class Engines:
    """The shared engines; each address is looked up (and checked reachable) when first asked."""

    def kafka_bootstrap(self) -> str:
        return shared.kafka_bootstrap()

    def kafka_settings(self) -> dict[str, Any]:
        """The Settings fields that log in to this Kafka (SASL mechanism, users, passwords)."""
        return shared.kafka_settings()

    def postgres_dsn(self) -> str:
        return shared.postgres_dsn()

    def elasticsearch_url(self) -> str:
        return shared.elasticsearch_url()


@dataclass
class OwnEngines(Engines):
    """A named instance of infra/provision/services.sh: Kafka and PostgreSQL nobody else uses."""

    instance: str
    kafka: str
    postgres: str
    kafka_login_fields: dict[str, Any]

    def kafka_bootstrap(self) -> str:
        shared.check_marked("Kafka")
        return self.kafka

    def kafka_settings(self) -> dict[str, Any]:
        return dict(self.kafka_login_fields)

    def postgres_dsn(self) -> str:
        shared.check_marked("PostgreSQL")
        return self.postgres

    def elasticsearch_url(self) -> str:
        raise NotImplementedError("own_engines starts Kafka and PostgreSQL only")

    def restart(self, engine: str) -> float:
        """Restart one of this instance's engines for real (`services.sh --instance NAME restart`);
        returns the seconds it took."""
        t0 = time.monotonic()
        services(self.instance, "restart", engine)
        return time.monotonic() - t0


def services(instance: str, *args: str, owner: int | None = None) -> str:
    env = {**os.environ, "GONGSHI_INSTANCE": ""}
    if owner is not None:
        env["GONGSHI_INSTANCE_OWNER"] = str(owner)
    done = subprocess.run(
        ["bash", str(SERVICES), "--instance", instance, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"services.sh --instance {instance} {' '.join(args)} failed ({done.returncode}):\n"
            f"{done.stdout}\n{done.stderr}"
        )
    return done.stdout


@pytest.fixture
def engines() -> Engines:
    return Engines()


@pytest.fixture(scope="module")
def own_engines(request: pytest.FixtureRequest) -> Iterator[OwnEngines]:
    # the shared engines being up says this machine is provisioned (software downloaded):
    # elsewhere this skips like every other real-engine test (and fails under CI=true)
    shared.kafka_bootstrap()
    shared.postgres_dsn()
    label = request.module.__name__.rpartition(".")[2].removeprefix("test_").replace("_", "-")
    instance = f"t{shared.RUN_ID}-{label}"[:40]
    subprocess.run(["bash", str(SERVICES), "prune"], capture_output=True, timeout=120)
    try:
        services(instance, "up", "kafka", "postgres", owner=os.getpid())
        found = dict(line.split("=", 1) for line in services(instance, "env").split())
        login = {
            name.lower(): found[f"GONGSHI_{name}"]
            for name in (
                "KAFKA_SASL_MECHANISM",
                "KAFKA_USERNAME",
                "KAFKA_PASSWORD",
                "KAFKA_ADMIN_USERNAME",
                "KAFKA_ADMIN_PASSWORD",
            )
        }
        yield OwnEngines(instance, found["GONGSHI_KAFKA_BOOTSTRAP"], found["GONGSHI_POSTGRES_DSN"], login)
    finally:
        services(instance, "destroy")


# --- settings with a unique prefix, cleaned up ----------------------------------------------------

_numbers = itertools.count(1)


class SettingsFactory(Protocol):
    def __call__(
        self,
        label: str,
        *,
        kafka: bool = True,
        postgres: bool = True,
        elasticsearch: bool = False,
        partitions: int = 3,
        on: Engines | None = None,
        **fields: Any,
    ) -> Settings: ...


@pytest.fixture
def settings_for(tmp_path: Path, engines: Engines) -> Iterator[SettingsFactory]:
    """`settings_for(label, kafka=, postgres=, elasticsearch=, partitions=, on=engines, **fields)`:
    Settings on the chosen engines (the shared ones unless `on=` says otherwise) with a prefix
    unique to the run, `t<run id>_<label>_<n>` (label: letters, digits, `_`): PostgreSQL schema
    `<prefix>`, topics `<prefix>.publications` (`partitions`) and `<prefix>.publications.dlq`
    (1), all created here; indexes `<prefix>-*`, consumer group `<prefix>-ingest`, data dir
    `tmp_path/<label>`, `today` 2026-11-22 unless given. After the test the prefix's topics
    (publications, DLQ, changes), indexes and schema are dropped from the shared engines (an
    instance of `own_engines` goes as a whole)."""
    made: list[Settings] = []

    def make(
        label: str,
        *,
        kafka: bool = True,
        postgres: bool = True,
        elasticsearch: bool = False,
        partitions: int = 3,
        on: Engines | None = None,
        **fields: Any,
    ) -> Settings:
        assert label.replace("_", "").isalnum() and label.isascii(), label
        where = on or engines
        prefix = shared.unique_prefix(f"{label}_{next(_numbers)}")
        values: dict[str, Any] = {
            "data_dir": tmp_path / label,
            "today": TODAY,
            "prefix": prefix,
        }
        if kafka:
            values |= {
                "kafka_bootstrap": where.kafka_bootstrap(),
                "kafka_partitions": partitions,
                "consumer_group": f"{prefix}-ingest",
                **where.kafka_settings(),
            }
        if postgres:
            values |= {"postgres_dsn": where.postgres_dsn(), "postgres_schema": prefix}
        if elasticsearch:
            values["elasticsearch_url"] = where.elasticsearch_url()
        settings = Settings(**(values | fields))
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        if not isinstance(where, OwnEngines):
            made.append(settings)
        if postgres:
            with psycopg.connect(values["postgres_dsn"], autocommit=True) as conn:
                conn.execute(f'CREATE SCHEMA "{prefix}"')
        if kafka:
            _create_topics(settings)
        return settings

    yield make

    errors = []
    for settings in reversed(made):
        for step in (_drop_topics, _drop_indexes, _drop_schema):
            try:
                step(settings)
            except Exception as err:  # clean up the rest, then report
                errors.append(f"{step.__name__}({settings.prefix}): {err!r}")
    assert errors == [], errors


def kafka_log_for(settings: Settings, partitions: int | None = None) -> KafkaLog:
    """A KafkaLog of its own on the settings' Kafka, logged in as the platform."""
    from adapters.publication_log.kafka import KafkaLog

    return KafkaLog(
        settings.kafka_bootstrap or "",
        default_partitions=partitions or settings.kafka_partitions,
        sasl=Container(settings).kafka_login(),
    )


def settings_json(settings: Settings) -> str:
    """The settings as JSON for another process, secrets in clear (model_dump_json masks them)."""
    values = json.loads(settings.model_dump_json())
    for name, value in settings:
        if isinstance(value, SecretStr):
            values[name] = value.get_secret_value()
    return json.dumps(values)


def _create_topics(settings: Settings) -> None:
    log = kafka_log_for(settings)
    try:
        log.ensure_topic(settings.publications_topic, settings.kafka_partitions)
        log.ensure_topic(settings.dlq_topic, 1)
    finally:
        log.close()


def _drop_topics(settings: Settings) -> None:
    if settings.kafka_bootstrap:
        log = kafka_log_for(settings, 1)
        try:
            log.delete_topics([settings.publications_topic, settings.dlq_topic, settings.changes_topic])
        finally:
            log.close()


def _drop_indexes(settings: Settings) -> None:
    if settings.elasticsearch_url:
        from elasticsearch import Elasticsearch

        with Elasticsearch(settings.elasticsearch_url) as client:
            client.indices.delete(
                index=f"{settings.prefix}-*", ignore_unavailable=True, allow_no_indices=True
            )


def _drop_schema(settings: Settings) -> None:
    if settings.postgres_dsn and settings.postgres_schema:
        with psycopg.connect(settings.postgres_dsn, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{settings.postgres_schema}" CASCADE')


# --- ingestion workers in processes of their own --------------------------------------------------


class WorkerProcess:
    """One `python -m tests.integration.worker_proc` on the given settings; stderr to a log file."""

    def __init__(self, settings: Settings, log_path: Path) -> None:
        self.log_path = log_path
        self._log: IO[bytes] = open(log_path, "wb")  # noqa: SIM115  (closed in stop/kill)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.integration.worker_proc", settings_json(settings)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=self._log,
        )

    def kill(self) -> None:
        """SIGKILL: no cleanup of any kind in the worker."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)
        self._log.close()

    def stop(self) -> dict[str, int]:
        """SIGTERM, then the counts it prints (SIGKILL if it does not stop in time)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            out, _ = self.proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, _ = self.proc.communicate(timeout=30)
        self._log.close()
        lines = out.decode().strip().splitlines()
        return json.loads(lines[-1]) if lines else {}

    def alive(self) -> bool:
        return self.proc.poll() is None

    def tail(self, n: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])


StartWorker = Callable[[Settings, str], WorkerProcess]


@pytest.fixture
def worker_processes(tmp_path: Path) -> Iterator[StartWorker]:
    """`start(settings, name)` starts a worker process logging to `tmp_path/<name>.log`; every
    worker still running when the test ends is killed."""
    started: list[WorkerProcess] = []

    def start(settings: Settings, name: str) -> WorkerProcess:
        worker = WorkerProcess(settings, tmp_path / f"{name}.log")
        started.append(worker)
        return worker

    yield start
    for worker in started:
        if worker.alive():
            worker.kill()
