"""A loaded platform on embedded defaults: a generated register published to the embedded log,
applied by the ingestion worker and indexed by the projection — the same path as `make demo`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from domain.access import Role
from domain.uscc import partition_key
from infra.bootstrap import Container, build
from infra.datagen.generator import write_jsonl
from infra.settings import Settings
from tests.builders import GENEROUS_LIMITS, platform_signed

TODAY = date(2026, 11, 22)
METRICS_TOKEN = "e2e-scrape-token-0123456789"


@dataclass
class Platform:
    container: Container
    client: TestClient
    envelopes: list[dict]
    admin_key: str = ""

    @property
    def admin(self) -> dict[str, str]:
        """Headers of an operator's request (an admin key)."""
        return {"Authorization": f"Bearer {self.admin_key}"}


def load(data_dir: Path, entities: int = 120, seed: int = 7, **settings: Any) -> tuple[Container, list[dict]]:
    """A container on `data_dir` holding a generated register of `entities`, applied and indexed."""
    source = data_dir / "generated.jsonl"
    write_jsonl(source, entities, seed, TODAY)
    lines = source.read_bytes().splitlines()
    container = build(
        Settings(
            data_dir=data_dir,
            today=TODAY,
            **{"metrics_token": METRICS_TOKEN, **GENEROUS_LIMITS, **settings},
        )
    )
    publish(container, lines)
    return container, [json.loads(line) for line in lines]


def publish(container: Container, lines: list[bytes]) -> None:
    """Put envelopes (JSON lines) on the log, apply them and bring every follower up to date."""
    container.log.produce_many(
        container.settings.publications_topic,
        ((partition_key(json.loads(line)["uscc"]), line) for line in lines),
        headers_for=platform_signed(container),
    )
    container.worker.drain()
    container.catch_up()


@pytest.fixture(scope="session")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    container, envelopes = load(tmp_path_factory.mktemp("platform"))
    admin_key = container.credentials.add(Role.ADMIN, "e2e-operator")
    with TestClient(create_app(container)) as client:
        yield Platform(container, client, envelopes, admin_key)


def registered(platform: Platform) -> list[dict]:
    return [e for e in platform.envelopes if e["kind"] == "registration.registered"]


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path


#: The public base URL the `hardened` platform is configured with.
PUBLIC_URL = "https://gongshi.example.gov.cn"


@pytest.fixture(scope="session")
def hardened(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """A small platform of its own, with `GONGSHI_PUBLIC_URL` set, for tests that change its
    clock, its limits or its ledger."""
    container, envelopes = load(
        tmp_path_factory.mktemp("hardened"), entities=30, seed=11, public_url=PUBLIC_URL
    )
    admin_key = container.credentials.add(Role.ADMIN, "e2e-operator")
    with TestClient(create_app(container)) as client:
        yield Platform(container, client, envelopes, admin_key)
