"""Search through the public API: filters, highlights; the admin and metrics endpoints; and the
503 a public reader gets when Elasticsearch cannot be reached."""

from __future__ import annotations

import socket
from pathlib import Path

from fastapi.testclient import TestClient

from api.app import create_app
from domain.access import Role
from domain.uscc import make_uscc
from infra.bootstrap import build
from infra.settings import Settings
from tests.e2e.conftest import TODAY, Platform, registered


def search(platform: Platform, **params: object) -> dict:
    response = platform.client.get("/api/v1/entities", params={"size": 100, **params})
    assert response.status_code == 200, response.text
    return response.json()


def test_items_carry_the_matched_name_highlighted(platform: Platform) -> None:
    reg = registered(platform)[5]
    name = reg["payload"]["name"]
    fragment = name[2:5]
    body = search(platform, q=fragment)
    item = next(i for i in body["items"] if i["uscc"] == reg["uscc"])
    assert f"<em>{fragment}</em>" in item["highlight"]
    by_code = search(platform, q=reg["uscc"].lower())
    assert [(i["uscc"], i["highlight"]) for i in by_code["items"]] == [(reg["uscc"], None)]


def test_a_legal_form_variant_finds_the_entity(platform: Platform) -> None:
    reg = next(
        r
        for r in registered(platform)
        if r["payload"]["name"].endswith("有限公司")
        and "股份" not in r["payload"]["name"]
        and "有限责任" not in r["payload"]["name"]
    )
    typed = reg["payload"]["name"].removesuffix("有限公司") + "有限责任公司"
    assert search(platform, q=typed)["items"][0]["uscc"] == reg["uscc"]


def test_filters_narrow_the_search_and_work_without_a_query(platform: Platform) -> None:
    everyone = search(platform, q="天津")
    district = registered(platform)[0]["uscc"][2:8]
    in_district = search(platform, q="天津", district=district)
    assert 0 < in_district["total"] < everyone["total"]
    assert {i["uscc"][2:8] for i in in_district["items"]} == {district}
    listed = search(platform, district=district)  # no query: the filter alone lists entities
    assert listed["total"] >= in_district["total"]
    assert {i["uscc"][2:8] for i in listed["items"]} == {district}
    heping = search(platform, district="和平区")  # a district's name is understood too
    assert {i["uscc"][2:8] for i in heping["items"]} <= {"120101"} and heping["total"] > 0
    abnormal = search(platform, flags="abnormal")
    assert abnormal["total"] > 0 and all("abnormal" in i["flags"] for i in abnormal["items"])
    gone = search(platform, status="注销")
    assert gone["total"] > 0 and {i["status"] for i in gone["items"]} == {"注销"}
    shops = search(platform, entity_type="个体工商户", established_from="2020-01-01")
    assert shops["total"] > 0
    assert all(
        i["entity_type"] == "个体工商户" and i["established_on"] >= "2020-01-01" for i in shops["items"]
    )


def test_neither_a_query_nor_a_filter_is_a_422(platform: Platform) -> None:
    response = platform.client.get("/api/v1/entities", params={"q": "  "})
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_request"
    bad_flag = platform.client.get("/api/v1/entities", params={"flags": "nonsense"})
    assert bad_flag.status_code == 422


def test_admin_lists_each_projection_with_its_lag(platform: Platform) -> None:
    body = platform.client.get("/api/v1/admin/projections", headers=platform.admin).json()
    head = platform.container.projection.head()
    names = ("entities", "records", "sharing", "publication_status", "casework", "changes")
    assert [p["name"] for p in body] == list(names)
    for name in names:
        assert next(p for p in body if p["name"] == name) == {
            "name": name,
            "position": head,
            "head": head,
            "lag": 0,
        }


def test_healthz_is_degraded_when_one_projection_falls_behind(platform: Platform) -> None:
    from api.routers.health import MAX_LAG

    assert platform.client.get("/healthz").json()["status"] == "ok"
    sharing = platform.container.projections["sharing"]
    behind = sharing.head() - MAX_LAG - 1
    sharing.position = lambda: behind  # type: ignore[method-assign]
    try:
        health = platform.client.get("/healthz")
        assert health.status_code == 503
        assert health.json()["status"] == "degraded"
        body = platform.client.get("/api/v1/admin/projections", headers=platform.admin).json()
        lags = {p["name"]: p["lag"] for p in body}
        assert lags["sharing"] == MAX_LAG + 1 and lags["entities"] == 0
    finally:
        del sharing.position


def test_metrics_expose_positions_lag_and_ingestion_counts(platform: Platform) -> None:
    response = platform.client.get("/metrics", headers=platform.admin)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    lines = response.text.splitlines()
    head = platform.container.projection.head()
    assert f'gongshi_projection_position{{projection="entities"}} {float(head)}' in lines
    for name in ("entities", "records", "sharing", "publication_status", "changes"):
        assert f'gongshi_projection_lag{{projection="{name}"}} 0.0' in lines
    assert "gongshi_search_up 1.0" in lines
    applied = platform.container.worker.counts["applied"]
    assert f'gongshi_ingest_publications_total{{outcome="applied"}} {float(applied)}' in lines


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_elasticsearch_unreachable_is_a_chinese_503_and_a_degraded_health(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    container = build(Settings(data_dir=tmp_path, today=TODAY, elasticsearch_url=url, prefix="closed"))
    with TestClient(create_app(container)) as client:
        for path, params in (
            ("/api/v1/entities", {"q": "天津"}),
            ("/api/v1/entities", {"district": "120101"}),
            (f"/api/v1/entities/{make_uscc('120116', 'MA000001').value}", {}),
            ("/api/v1/records", {}),
        ):
            response = client.get(path, params=params)
            assert response.status_code == 503, (path, response.text)
            assert response.json() == {
                "code": "search_unavailable",
                "message": "查询服务暂时不可用，请稍后再试",
            }
        health = client.get("/healthz")
        assert health.status_code == 503 and health.json()["status"] == "degraded"
        operator = {"Authorization": f"Bearer {container.credentials.add(Role.ADMIN, 'ops')}"}
        admin = client.get("/api/v1/admin/projections", headers=operator).json()
        for name in ("entities", "records", "sharing"):
            assert next(p for p in admin if p["name"] == name)["position"] is None
        assert "gongshi_search_up 0.0" in client.get("/metrics", headers=operator).text.splitlines()
