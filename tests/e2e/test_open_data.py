"""Open data over HTTP: the list of releases, the files served as stored (ETag, Range), the data
dictionary page — and every entity line is what the API answers that day."""

from __future__ import annotations

import gzip
import hashlib
import html
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from api.web.open_data import EXAMPLE_APPLY, EXAMPLE_READ
from domain.kinds import CATEGORIES, SECTIONS
from opendata.models import (
    DeltaCounts,
    DeltaManifest,
    DeltaRecordRow,
    EntityDeltaLine,
    FileEntry,
    RecordRow,
    SnapshotCounts,
    SnapshotManifest,
    SnapshotRef,
)
from opendata.releases import Release
from projections.public_record import PublicRecord
from tests.e2e.conftest import TODAY, Platform

EARLIER = date(2026, 9, 1)


@pytest.fixture(scope="module")
def releases(platform: Platform) -> Iterator[tuple[Release, Release]]:
    """Two releases of the loaded platform: one as of an earlier date, then today's (with the
    delta from the first)."""
    c = platform.container
    first = c.open_data_releases.publish(c.index, c.department_names, EARLIER)
    second = c.open_data_releases.publish(c.index, c.department_names, TODAY)
    yield first, second


def lines(data: bytes) -> list[dict[str, object]]:
    return [json.loads(line) for line in gzip.decompress(data).decode().splitlines()]


def test_every_entity_line_is_what_the_api_answers_that_day(
    platform: Platform, releases: tuple[Release, Release]
) -> None:
    today = releases[1]
    data = platform.client.get(f"/open-data/{TODAY.isoformat()}/entities.jsonl.gz").content
    found = lines(data)
    assert len(found) == today.snapshot.counts.entities == platform.container.index.count() == 120
    for line in found:
        answer = platform.client.get(f"/api/v1/entities/{line['uscc']}").json()
        assert answer.pop("as_of") == TODAY.isoformat()
        assert line == answer


def test_the_list_names_each_release_with_its_manifests_and_links(
    platform: Platform, releases: tuple[Release, Release]
) -> None:
    body = platform.client.get("/api/v1/open-data").json()
    assert [r["date"] for r in body["releases"]] == [TODAY.isoformat(), EARLIER.isoformat()]
    latest, first = body["releases"]
    assert (
        latest["snapshot"]["as_of"] == TODAY.isoformat()
        and latest["snapshot"]["schema"] == "gongshi.opendata/1"
    )
    assert latest["delta"]["from"]["as_of"] == EARLIER.isoformat() and first["delta"] is None
    assert [f["name"] for f in latest["files"]] == [
        "manifest.json",
        "entities.jsonl.gz",
        "records.csv.gz",
        "delta-manifest.json",
        "delta-entities.jsonl.gz",
        "delta-records.csv.gz",
    ]
    for f in latest["files"]:
        data = platform.client.get(f["url"]).content
        assert (len(data), hashlib.sha256(data).hexdigest()) == (f["bytes"], f["sha256"])
    assert body["retention_days"] == 30 and "02:00" in body["schedule"] and "CC BY 4.0" in body["licence"]
    assert body["dictionary"] == "/open-data"


# --- files as stored ------------------------------------------------------------------------------


def test_a_file_is_served_as_stored_never_re_encoded(
    platform: Platform, releases: tuple[Release, Release]
) -> None:
    stored = releases[1].path / "records.csv.gz"
    url = f"/open-data/{TODAY.isoformat()}/records.csv.gz"
    response = platform.client.get(url, headers={"Accept-Encoding": "gzip, br"})
    assert response.status_code == 200
    assert response.content == stored.read_bytes()
    assert "content-encoding" not in response.headers
    assert response.headers["content-type"] == "application/gzip"
    assert response.headers["content-length"] == str(stored.stat().st_size)
    assert response.headers["etag"] == f'"{releases[1].snapshot.files[1].sha256}"'
    assert response.headers["accept-ranges"] == "bytes"
    manifest = platform.client.get(f"/open-data/{TODAY.isoformat()}/manifest.json")
    assert manifest.headers["content-type"].startswith("application/json")
    assert manifest.headers["etag"] == f'"{hashlib.sha256(manifest.content).hexdigest()}"'


def test_byte_ranges_conditional_requests_and_head(
    platform: Platform, releases: tuple[Release, Release]
) -> None:
    data = (releases[1].path / "entities.jsonl.gz").read_bytes()
    size = len(data)
    url = f"/open-data/{TODAY.isoformat()}/entities.jsonl.gz"
    etag = platform.client.get(url).headers["etag"]
    get = platform.client.get

    part = get(url, headers={"Range": "bytes=100-199"})
    assert (part.status_code, part.content) == (206, data[100:200])
    assert part.headers["content-range"] == f"bytes 100-199/{size}"
    assert part.headers["content-length"] == "100"
    rest = get(url, headers={"Range": f"bytes={size - 10}-"})
    assert (rest.status_code, rest.content) == (206, data[-10:])
    tail = get(url, headers={"Range": "bytes=-25"})
    assert (tail.status_code, tail.content, tail.headers["content-range"]) == (
        206,
        data[-25:],
        f"bytes {size - 25}-{size - 1}/{size}",
    )
    beyond_end = get(url, headers={"Range": f"bytes={size - 5}-{size + 100}"})
    assert (beyond_end.status_code, beyond_end.content) == (206, data[-5:])
    for bad in (
        f"bytes={size}-",
        f"bytes={size + 10}-{size + 20}",
        "bytes=20-10",
        "bytes=-0",
        "bytes=x-y",
        "bytes=-",
    ):
        refused = get(url, headers={"Range": bad})
        assert refused.status_code == 416, bad
        assert refused.headers["content-range"] == f"bytes */{size}"
    several = get(url, headers={"Range": "bytes=0-9,20-29"})  # not served: the whole file
    assert (several.status_code, several.content) == (200, data)
    assert get(url, headers={"Range": "items=0-9"}).status_code == 200

    same = get(url, headers={"If-None-Match": etag})
    assert (same.status_code, same.content, same.headers["etag"]) == (304, b"", etag)
    assert get(url, headers={"If-None-Match": '"other"'}).status_code == 200
    resumed = get(url, headers={"Range": "bytes=10-19", "If-Range": etag})
    assert (resumed.status_code, resumed.content) == (206, data[10:20])
    changed = get(url, headers={"Range": "bytes=10-19", "If-Range": '"an older file"'})
    assert (changed.status_code, changed.content) == (200, data)

    head = platform.client.head(url)
    assert (head.status_code, head.content, head.headers["content-length"]) == (200, b"", str(size))
    head_part = platform.client.head(url, headers={"Range": "bytes=0-9"})
    assert (head_part.status_code, head_part.headers["content-length"]) == (206, "10")


def test_unknown_dates_and_files_are_not_found(platform: Platform, releases: tuple[Release, Release]) -> None:
    get = platform.client.get
    missing = get("/open-data/2026-11-21/entities.jsonl.gz")  # no release that day
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")  # JSON, for programs
    assert (
        get(f"/open-data/{EARLIER.isoformat()}/delta-entities.jsonl.gz").status_code == 404
    )  # the first has none
    assert get(f"/open-data/{TODAY.isoformat()}/secret.key").status_code == 404
    assert get(f"/open-data/{TODAY.isoformat()}/..%2F..%2Fsecret.key").status_code == 404
    assert get("/open-data/not-a-date/entities.jsonl.gz").status_code == 422


# --- the data dictionary --------------------------------------------------------------------------


def page(platform: Platform) -> str:
    response = platform.client.get("/open-data")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    return response.text


def test_the_data_dictionary_describes_every_file_and_every_field_of_its_models(
    platform: Platform, releases: tuple[Release, Release]
) -> None:
    text = page(platform)
    assert '<html lang="zh-CN">' in text and 'name="viewport"' in text
    for name in releases[1].files():
        assert f"<code>{name}</code>" in text, name
        assert f'href="/open-data/{TODAY.isoformat()}/{name}"' in text, name
    models = (
        PublicRecord,
        RecordRow,
        EntityDeltaLine,
        SnapshotManifest,
        FileEntry,
        SnapshotCounts,
        DeltaManifest,
        SnapshotRef,
        DeltaCounts,
    )
    for model in models:
        for name, field in model.model_fields.items():
            shown = field.alias or name
            assert f"<code>{shown}</code>" in text, (model.__name__, shown)
            if field.description and model is not PublicRecord:
                assert html.escape(field.description, quote=False) in text, (model.__name__, shown)
    assert "<code>op</code>" in text and DeltaRecordRow.model_fields["op"].description in text
    for category in CATEGORIES:
        assert f"<code>{category.key}</code>" in text and category.label in text
    for section in SECTIONS:
        if section.field:
            assert f"<code>{section.field}</code>" in text and section.label in text
    assert "1201**********1234" in text and "138****5678" in text  # masking, by the masking functions
    assert "CC BY 4.0" in text and "每日北京时间 02:00" in text
    assert f"共 <strong>{releases[1].snapshot.counts.entities}</strong> 个市场主体" in text


def test_the_site_links_to_the_data_dictionary(platform: Platform) -> None:
    home = platform.client.get("/").text
    assert 'href="/open-data"' in home


def examples(text: str) -> list[str]:
    return [
        html.unescape(block)
        for block in re.findall(r'<pre class="example" tabindex="0"><code>(.*?)</code></pre>', text, re.S)
    ]


def test_the_examples_on_the_page_work_on_the_released_files(
    platform: Platform, releases: tuple[Release, Release], tmp_path: Path
) -> None:
    first, second = releases
    download, read, apply = examples(page(platform))
    assert (read, apply) == (EXAMPLE_READ, EXAMPLE_APPLY)

    verify_line = next(line for line in download.splitlines() if "sha256sum -c" in line)
    checked = subprocess.run(["bash", "-c", verify_line], cwd=second.path, capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.splitlines() == ["entities.jsonl.gz: OK", "records.csv.gz: OK"]
    public_url = platform.container.settings.base_url
    assert f"{public_url}/open-data/{TODAY.isoformat()}/entities.jsonl.gz" in download

    script = tmp_path / "apply_delta.py"
    script.write_text(apply, encoding="utf-8")
    out = tmp_path / "applied"
    done = subprocess.run(
        [sys.executable, str(script), str(first.path), str(second.path), str(out)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["entities.jsonl.gz ok", "records.csv.gz ok"]
    assert (out / "entities.jsonl").read_bytes() == gzip.decompress(
        (second.path / "entities.jsonl.gz").read_bytes()
    )
    assert (out / "records.csv").read_bytes() == gzip.decompress(
        (second.path / "records.csv.gz").read_bytes()
    )

    counted = subprocess.run([sys.executable, "-c", read], cwd=second.path, capture_output=True, text=True)
    assert counted.returncode == 0, counted.stderr
    assert counted.stdout.strip() and all(
        line.rsplit(" ", 1)[1].isdigit() for line in counted.stdout.splitlines()
    )
