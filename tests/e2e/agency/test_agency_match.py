"""POST /api/v1/agency/match: rows as JSON, as a CSV upload (English or Chinese headers, UTF-8 or
GB18030) or a raw text/csv body; answers as JSON, streamed NDJSON or CSV, in input order; the
access log gets the counts and the entities matched, also when the answer streamed."""

from __future__ import annotations

import csv
import io
import json
from typing import Any
from unittest import mock

import pytest

from adapters.access_log import AccessLogQuery
from api.routers import agency_match
from tests.e2e.agency.conftest import HISTORY, SERIOUS, AgencyPlatform

PATH = "/api/v1/agency/match"


def headers(platform: AgencyPlatform, **extra: str) -> dict[str, str]:
    return platform.headers("match", purpose="社保稽核比对 2026 第 4 批") | extra


def registered(platform: AgencyPlatform) -> list[dict[str, Any]]:
    return [e for e in platform.envelopes if e["kind"] == "registration.registered"]


def last_entry(platform: AgencyPlatform) -> Any:
    return platform.container.access_log.entries(AccessLogQuery(limit=1))[0]


def test_json_rows_are_answered_in_order_with_explained_candidates(agency_platform: AgencyPlatform) -> None:
    rows = [
        {"name": "天津德明建筑工程有限责任公司"},  # legal form written otherwise
        {"uscc": HISTORY},
        {"name": "天津滨海星海科技有限公司"},  # HISTORY's former name
        {"name": "一家并不存在的科技有限公司"},
        {"legal_representative": "赵德明"},  # a person alone finds nothing
    ]
    response = agency_platform.client.post(PATH, json={"rows": rows}, headers=headers(agency_platform))
    assert response.status_code == 200, response.text
    body = response.json()
    assert [r["row"] for r in body["results"]] == [1, 2, 3, 4, 5]
    decisions = [r["decision"] for r in body["results"]]
    assert decisions == ["match", "match", "match", "none", "none"]
    first = body["results"][0]["candidates"][0]
    assert first["uscc"] == SERIOUS and 0.9 <= first["score"] <= 1
    assert first["explanation"][0]["feature"] == "name_canonical" and first["flags"] == ["serious"]
    assert body["results"][2]["candidates"][0]["explanation"][0]["feature"].startswith("former_name")
    assert body["results"][4]["flags"] == ["no_name_or_code"]
    assert body["counts"] == {"rows": 5, "match": 3, "possible": 0, "none": 2}
    entry = last_entry(agency_platform)
    assert set(entry.usccs) == {SERIOUS, HISTORY} and entry.counts["match"] == 3 and entry.completed is None


def test_a_streamed_ndjson_answer_logs_its_counts_when_it_ends(agency_platform: AgencyPlatform) -> None:
    names = [e["payload"]["name"] for e in registered(agency_platform)[:30]]
    response = agency_platform.client.post(
        PATH,
        json={"rows": [{"name": n} for n in names]},
        headers=headers(agency_platform, Accept="application/x-ndjson"),
    )
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert [line["row"] for line in lines] == list(range(1, 31))
    assert all(line["decision"] == "match" for line in lines)
    entry = last_entry(agency_platform)
    assert entry.completed is True and entry.counts["rows"] == 30 and entry.uscc_count == 30


def csv_text(platform: AgencyPlatform, header: list[str], n: int = 20) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for e in registered(platform)[:n]:
        p = e["payload"]
        writer.writerow([p["name"], "", p["legal_representative"]["name"], p["address"]])
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("header", "encoding"),
    [
        (["名称", "统一社会信用代码", "法定代表人", "地址"], "utf-8-sig"),
        (["名称", "统一社会信用代码", "法定代表人", "地址"], "gb18030"),
        (["name", "uscc", "legal_representative", "address"], "utf-8"),
    ],
    ids=["chinese-utf8-bom", "chinese-gb18030", "english"],
)
def test_a_csv_upload_answered_as_csv(
    agency_platform: AgencyPlatform, header: list[str], encoding: str
) -> None:
    data = csv_text(agency_platform, header).encode(encoding)
    response = agency_platform.client.post(
        PATH,
        files={"file": ("名单.csv", data, "text/csv")},
        headers=headers(agency_platform, Accept="text/csv"),
    )
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith("\ufeff".encode())  # Excel reads it as UTF-8
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 20 and all(r["decision"] == "match" for r in rows)
    usccs = [
        e["uscc"] for e in registered(agency_platform)[:20]
    ]  # (some renamed since: found by former name)
    assert [r["candidate_1_uscc"] for r in rows] == usccs
    assert rows[0]["candidate_1_explanation"]


def test_a_raw_csv_body_streams_through(agency_platform: AgencyPlatform) -> None:
    data = csv_text(agency_platform, ["名称", "信用代码", "负责人", "住所"], n=40).encode("gb18030")
    response = agency_platform.client.post(
        PATH,
        content=data,
        headers=headers(agency_platform, **{"Content-Type": "text/csv", "Accept": "application/x-ndjson"}),
    )
    assert response.status_code == 200
    assert len(response.text.splitlines()) == 40
    assert last_entry(agency_platform).counts["rows"] == 40


def test_a_csv_without_a_known_column_is_422_in_chinese(agency_platform: AgencyPlatform) -> None:
    response = agency_platform.client.post(
        PATH, content=b"foo,bar\n1,2\n", headers=headers(agency_platform, **{"Content-Type": "text/csv"})
    )
    assert response.status_code == 422 and "表头" in response.json()["message"]


def test_other_bodies_are_415_and_bad_json_rows_422(agency_platform: AgencyPlatform) -> None:
    client = agency_platform.client
    assert (
        client.post(
            PATH, content=b"<rows/>", headers=headers(agency_platform, **{"Content-Type": "application/xml"})
        ).status_code
        == 415
    )
    bad = client.post(PATH, json={"rows": [{"nmae": "x"}]}, headers=headers(agency_platform))
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_request"
    assert client.post(PATH, json={"rows": []}, headers=headers(agency_platform)).status_code == 422


def test_more_rows_than_allowed(agency_platform: AgencyPlatform) -> None:
    with mock.patch.object(agency_match, "MAX_ROWS", 5):
        data = csv_text(agency_platform, ["名称", "统一社会信用代码", "法定代表人", "地址"], n=8).encode()
        streamed = agency_platform.client.post(
            PATH,
            content=data,
            headers=headers(
                agency_platform, **{"Content-Type": "text/csv", "Accept": "application/x-ndjson"}
            ),
        )
        lines = [json.loads(line) for line in streamed.text.splitlines()]
        assert len(lines) == 6 and lines[-1]["error"]["code"] == "too_many_rows"
        whole = agency_platform.client.post(
            PATH, content=data, headers=headers(agency_platform, **{"Content-Type": "text/csv"})
        )
        assert whole.status_code == 422
    assert last_entry(agency_platform).counts.get("truncated") is True


def test_the_match_scope_is_needed(agency_platform: AgencyPlatform) -> None:
    for scope in ("read", "screen", "feed"):
        response = agency_platform.client.post(
            PATH, json={"rows": [{"uscc": HISTORY}]}, headers=agency_platform.headers(scope)
        )
        assert response.status_code == 403
