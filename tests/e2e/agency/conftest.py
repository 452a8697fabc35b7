"""A platform for the agency tests: a generated register plus entities whose history is known
(a name change, a penalty amended then revoked, abnormal and serious listings, a legal
representative shared by several firms), and agency keys with every scope."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from domain.access import AGENCY_SCOPES, Role
from infra.bootstrap import Container
from tests.builders import (
    change_payload,
    envelope,
    listing_payload,
    penalty_payload,
    person,
    registered,
    uscc_for,
)
from tests.e2e.conftest import load, publish

#: An entity with a known history (occurred_on of each event in the comment).
HISTORY = uscc_for(901)
#: On the serious list since 2025-02-01 (legal representative: the same person as SHARED_B).
SERIOUS = uscc_for(902)
#: Two more firms with the same legal representative as SERIOUS.
SHARED_B = uscc_for(903)
SHARED_C = uscc_for(904)
#: Registered 2026-03-01, clean.
CLEAN = uscc_for(905)
#: BOSS is a shareholder from registration until 2024-08-01, and its supervisor (监事).
HOLDING = uscc_for(906)
#: The person who represents SERIOUS, SHARED_B and (until 2025-06-01) SHARED_C.
BOSS = person("赵德明", n=77)
SUCCESSOR = person("钱立新", n=78)

PENALTY = "津市监罚〔2023〕7号"


def history_envelopes() -> list[dict[str, Any]]:
    return [
        registered(uscc=HISTORY, name="天津滨海星海科技有限公司", occurred_on="2021-03-15"),
        envelope(
            "penalty.imposed",
            penalty_payload(PENALTY, decided_on="2023-01-20", publicised_on="2023-02-01"),
            uscc=HISTORY,
            occurred_on="2023-02-01",
        ),
        envelope(
            "penalty.amended",
            {"decision_no": PENALTY, "content": "罚款人民币壹万元", "reason": "复议变更"},
            uscc=HISTORY,
            occurred_on="2023-06-01",
        ),
        envelope(
            "registration.changed",
            change_payload("name", "天津滨海星海科技有限公司", "天津星海云智科技有限公司"),
            uscc=HISTORY,
            occurred_on="2024-03-01",
        ),
        envelope(
            "abnormal.listed",
            listing_payload("津滨市监异〔2024〕3号"),
            uscc=HISTORY,
            occurred_on="2024-05-01",
        ),
        envelope(
            "penalty.revoked",
            {"decision_no": PENALTY, "reason": "行政诉讼撤销"},
            uscc=HISTORY,
            occurred_on="2024-09-01",
        ),
        envelope(
            "abnormal.removed",
            {"decision_no": "津滨市监异〔2024〕3号", "reason": "已补报年度报告"},
            uscc=HISTORY,
            occurred_on="2025-01-10",
        ),
        registered(
            uscc=SERIOUS, name="天津德明建筑工程有限公司", occurred_on="2019-05-20", legal_representative=BOSS
        ),
        envelope(
            "serious.listed",
            listing_payload("津市监严〔2025〕2号", "隐瞒真实情况弄虚作假"),
            uscc=SERIOUS,
            occurred_on="2025-02-01",
        ),
        registered(
            uscc=SHARED_B,
            name="天津德明劳务服务有限公司",
            occurred_on="2020-08-08",
            legal_representative=BOSS,
        ),
        registered(
            uscc=SHARED_C, name="天津明德商贸有限公司", occurred_on="2018-01-05", legal_representative=BOSS
        ),
        envelope(
            "registration.changed",
            change_payload("legal_representative", BOSS, SUCCESSOR),
            uscc=SHARED_C,
            occurred_on="2025-06-01",
        ),
        registered(uscc=CLEAN, name="天津清源环保科技有限公司", occurred_on="2026-03-01"),
        registered(
            uscc=HOLDING,
            name="天津德明投资控股有限公司",
            occurred_on="2017-04-01",
            shareholders=[
                {
                    "name": BOSS["name"],
                    "id_number": BOSS["id_number"],
                    "subscribed": {"amount": "3000000.00"},
                },
                {"name": "天津德明建筑工程有限公司", "kind": "organisation", "uscc": SERIOUS},
            ],
            key_staff=[{"name": BOSS["name"], "id_number": BOSS["id_number"], "position": "监事"}],
        ),
        envelope(
            "registration.changed",
            change_payload(
                "shareholders",
                [
                    {"name": BOSS["name"], "id_number": BOSS["id_number"]},
                    {"name": "天津德明建筑工程有限公司", "kind": "organisation", "uscc": SERIOUS},
                ],
                [{"name": "天津德明建筑工程有限公司", "kind": "organisation", "uscc": SERIOUS}],
            ),
            uscc=HOLDING,
            occurred_on="2024-08-01",
        ),
    ]


def text(value: str) -> str:
    return quote(value, safe="")


@dataclass
class AgencyPlatform:
    container: Container
    client: TestClient
    envelopes: list[dict[str, Any]]
    keys: dict[str, str] = field(default_factory=dict)
    admin_key: str = ""

    def headers(
        self,
        key: str = "all",
        *,
        purpose: str | None = "行政许可审查",
        officer: str | None = "张三",
        confidential: bool = False,
        **extra: str,
    ) -> dict[str, str]:
        out = {"Authorization": f"Bearer {self.keys[key]}"}
        if purpose is not None:
            out["X-Purpose"] = text(purpose)
        if officer is not None:
            out["X-Officer"] = text(officer)
        if confidential:
            out["X-Confidential"] = "1"
        return out | extra

    @property
    def admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_key}"}


@pytest.fixture(scope="session")
def agency_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AgencyPlatform]:
    container, envelopes = load(tmp_path_factory.mktemp("agency"), entities=60, seed=13)
    extra = history_envelopes()
    publish(container, [json.dumps(e, ensure_ascii=False).encode() for e in extra])
    store = container.credentials
    keys = {"all": store.add(Role.AGENCY, "TJ-TAX-JC1", name="天津市税务局第一稽查局", scopes=AGENCY_SCOPES)}
    for scope in AGENCY_SCOPES:
        keys[scope] = store.add(Role.AGENCY, "TJ-HRSS-2", name="天津市人社局社保稽核处", scopes=(scope,))
    admin_key = store.add(Role.ADMIN, "agency-operator")
    with TestClient(create_app(container)) as client:
        yield AgencyPlatform(container, client, envelopes + extra, keys, admin_key)
