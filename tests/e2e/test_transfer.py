"""What travels: HTML, CSS, JavaScript and JSON gzip-compressed for a client that accepts it
(stored-compressed open-data files, PDFs and partial answers as they are), and `/static` files
named by their content hash, cached for a year at that address and revalidated at any other."""

from __future__ import annotations

import gzip
import hashlib
import re
from dataclasses import dataclass

import httpx

from api.web.static_files import STATIC
from tests.e2e.conftest import Platform
from tests.e2e.test_web_pages import any_doc, require_font

GZIP = {"Accept-Encoding": "gzip"}


@dataclass
class Sent:
    status_code: int
    headers: httpx.Headers
    content: bytes


def raw_get(platform: Platform, url: str, **headers: str) -> Sent:
    """The answer as sent, not decoded (the test client would undo the gzip)."""
    with platform.client.stream("GET", url, headers=headers) as response:
        return Sent(response.status_code, response.headers, b"".join(response.iter_raw()))


def test_pages_styles_scripts_and_json_are_gzipped(platform: Platform) -> None:
    doc = any_doc(platform)
    for url in (
        "/",
        f"/entity/{doc['uscc']}",
        "/static/site.css",
        "/static/site.js",
        f"/api/v1/entities/{doc['uscc']}",
    ):
        sent = raw_get(platform, url, **GZIP)
        assert sent.status_code == 200, url
        assert sent.headers.get("content-encoding") == "gzip", url
        assert "accept-encoding" in sent.headers.get("vary", "").lower(), url
        body = gzip.decompress(sent.content)
        assert len(sent.content) < len(body)
        plain = raw_get(platform, url, **{"Accept-Encoding": "identity"})
        assert "content-encoding" not in plain.headers and plain.content == body, url


def test_a_pdf_is_sent_as_it_is(platform: Platform) -> None:
    require_font()
    doc = any_doc(platform)
    sent = raw_get(platform, f"/entity/{doc['uscc']}/extract.pdf", **GZIP)
    assert sent.status_code == 200 and "content-encoding" not in sent.headers
    assert hashlib.sha256(sent.content).hexdigest() == sent.headers["x-content-sha256"]


def test_static_files_are_named_by_their_content_hash_and_cached_at_that_address(platform: Platform) -> None:
    page = platform.client.get("/").text
    for name in ("site.css", "site.js"):
        found = re.search(rf'"/static/{re.escape(name)}\?v=([0-9a-f]+)"', page)
        assert found, f"{name} is not linked by its hash"
        digest = hashlib.sha256((STATIC / name).read_bytes()).hexdigest()
        assert found.group(1) == digest[:12]
        current = platform.client.get(f"/static/{name}?v={found.group(1)}")
        assert current.status_code == 200
        assert current.headers["cache-control"] == "public, max-age=31536000, immutable"
        for other in (f"/static/{name}", f"/static/{name}?v=000000000000"):
            assert platform.client.get(other).headers["cache-control"] == "no-cache", other
    docs = platform.client.get("/docs").text
    assert re.search(r'"/static/docs\.css\?v=[0-9a-f]{12}"', docs)
