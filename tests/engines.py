"""Where the real engines are, for contract and integration tests.

Defaults match `make services-up` (infra/provision). Under CI=true a missing engine FAILS the
test run; elsewhere it skips with the reason, so a laptop without engines can run the rest.

Every test that reaches a real engine must be marked `engines` (`-m "not engines"` leaves them
out, e.g. in the runs at four hours of the UTC day). The addresses below are the one way a test
learns where an engine is, so they check it: asked for by a test without the marker (tests/
conftest.py tells this module which test is running), they fail that test — before looking
whether the engine is reachable, so the check holds on a machine without engines too.
"""

from __future__ import annotations

import os
import socket
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import pytest

if TYPE_CHECKING:
    from adapters.publication_log.kafka import SaslLogin

KAFKA_BOOTSTRAP = os.environ.get("GONGSHI_TEST_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
#: How the tests log in to that Kafka: the platform's principal and the admin principal that
#: `make services-up` creates (infra/provision/kafka/security.sh); `none` = a PLAINTEXT broker.
KAFKA_SETTINGS: dict[str, str] = {
    "kafka_sasl_mechanism": os.environ.get("GONGSHI_TEST_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512"),
    "kafka_username": os.environ.get("GONGSHI_TEST_KAFKA_USERNAME", "gongshi"),
    "kafka_password": os.environ.get("GONGSHI_TEST_KAFKA_PASSWORD", "gongshi"),
    "kafka_admin_username": os.environ.get("GONGSHI_TEST_KAFKA_ADMIN_USERNAME", "gongshi-admin"),
    "kafka_admin_password": os.environ.get("GONGSHI_TEST_KAFKA_ADMIN_PASSWORD", "gongshi-admin"),
}
POSTGRES_DSN = os.environ.get(
    "GONGSHI_TEST_POSTGRES_DSN", "postgresql://gongshi:gongshi@127.0.0.1:5432/gongshi"
)
ELASTICSEARCH_URL = os.environ.get("GONGSHI_TEST_ELASTICSEARCH_URL", "http://127.0.0.1:9200")
REDIS_URL = os.environ.get("GONGSHI_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")

RUN_ID = uuid.uuid4().hex[:8]


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


_running: list[pytest.Item] = []  # the test being set up, run or torn down (tests/conftest.py)


def running(item: pytest.Item | None) -> None:
    """Called by tests/conftest.py around each test's setup, call and teardown."""
    _running[:] = [item] if item is not None else []


def check_marked(engine: str, item: pytest.Item | None = None) -> None:
    """Fail the running test (or `item`) if it uses a real engine without the `engines` mark."""
    item = item if item is not None else (_running[0] if _running else None)
    if item is not None and item.get_closest_marker("engines") is None:
        pytest.fail(
            f"{item.nodeid} uses the real {engine} but is not marked `engines`: add "
            "`pytestmark = pytest.mark.engines` to its module, or give a fixture's real params "
            "with tests.engines.real(...)",
            pytrace=False,
        )


def require(engine: str, host: str, port: int) -> None:
    check_marked(engine)
    if _reachable(host, port):
        return
    message = f"{engine} is not reachable at {host}:{port} — run `make services-up`"
    if in_ci():
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def kafka_bootstrap() -> str:
    host, _, port = KAFKA_BOOTSTRAP.partition(":")
    require("Kafka", host, int(port or 9092))
    return KAFKA_BOOTSTRAP


def kafka_settings() -> dict[str, Any]:
    """The Settings fields that log in to the shared Kafka (use with `kafka_bootstrap()`)."""
    return dict(KAFKA_SETTINGS)


def kafka_login(fields: dict[str, Any] | None = None, *, admin: bool = False) -> SaslLogin | None:
    """The platform's (or the admin's) login to the shared Kafka, or to the one `fields` name."""
    from adapters.publication_log.kafka import SaslLogin

    f = fields if fields is not None else KAFKA_SETTINGS
    if f["kafka_sasl_mechanism"] == "none":
        return None
    who = "kafka_admin" if admin else "kafka"
    return SaslLogin(f["kafka_sasl_mechanism"], f[f"{who}_username"], f[f"{who}_password"])


def postgres_dsn() -> str:
    url = urlparse(POSTGRES_DSN)
    require("PostgreSQL", url.hostname or "127.0.0.1", url.port or 5432)
    return POSTGRES_DSN


def elasticsearch_url() -> str:
    url = urlparse(ELASTICSEARCH_URL)
    require("Elasticsearch", url.hostname or "127.0.0.1", url.port or 9200)
    return ELASTICSEARCH_URL


def redis_url() -> str:
    url = urlparse(REDIS_URL)
    require("Redis", url.hostname or "127.0.0.1", url.port or 6379)
    return REDIS_URL


def real(engine: str) -> object:
    """A fixture parameter that runs on a real engine, marked `engines` (`-m "not engines"`
    leaves it out, e.g. in the run at four hours of the UTC day)."""
    return pytest.param(engine, marks=pytest.mark.engines)


def unique_prefix(label: str) -> str:
    """A name prefix unique to this test run (topics, indexes, schemas)."""
    return f"t{RUN_ID}_{label}".lower()
