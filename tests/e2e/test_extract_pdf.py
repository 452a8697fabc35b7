"""The PDF credit extract as a document: tagged for screen readers (PDF/UA-1, checked with pikepdf
and by veraPDF), laid out so that dates, codes and numbers never wrap, a heading never stands
alone at the foot of a page, a table's header row repeats on each page; page 1 rendered to PNG
(kept in test-artifacts/extracts/); and sealed so that anyone holding only the platform's
published certificate can check it offline with pyHanko's validator."""

from __future__ import annotations

import copy
import io
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pikepdf
import pytest
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from adapters.extract_seal import FIELD_NAME, ExtractSeal
from api.web.extract import render_pdf
from projections.documents import public_view
from tests.e2e.conftest import TODAY, Platform
from tests.e2e.test_web_pages import any_doc, require_font
from tests.engines import in_ci

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "extracts"
NAMES = {"TJ-AMR": "天津市市场监督管理委员会", "TJ-TAX": "国家税务总局天津市税务局"}
META = {
    "code": "7K3M-Q9TX-2BHD",
    "generated_at": "2026-11-22 10:00:00（北京时间）",
    "reflects": "2026-11-22",
    "verify": "访问 https://gongshi.example.gov.cn/verify 上传本文件或输入验证码 7K3M-Q9TX-2BHD",
    "position": "24412",
    "version": "14",
}


def need(tool: str) -> str:
    found = shutil.which(tool)
    if found:
        return found
    message = f"{tool} (poppler-utils) is missing — run `bash infra/provision/pdf-tools.sh`"
    if in_ci():
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def page_texts(pdf: bytes, tmp_path: Path) -> list[str]:
    """The text of each page, as pdftotext reads it (each table cell's lines in turn)."""
    need("pdftotext")
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    with pikepdf.open(io.BytesIO(pdf)) as opened:
        pages = len(opened.pages)
    return [
        subprocess.run(
            ["pdftotext", "-f", str(n), "-l", str(n), str(path), "-"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for n in range(1, pages + 1)
    ]


def crowded_view(platform: Platform) -> dict[str, Any]:
    """A real entity's public view with long tables of long codes: 60 penalties, 25 filings, 30
    abnormal-list entries (the numbers the issue saw wrapping: 津市监经异〔2026〕32号,
    1201162018BA000011, dates)."""
    view = copy.deepcopy(public_view(any_doc(platform), TODAY))
    view["penalties"] = [
        {
            "decision_no": f"津市监罚〔2026〕{1000 + i}号",
            "violation": "当事人对商品的性能、功能、质量作虚假或者引人误解的商业宣传，"
            "违反《中华人民共和国反不正当竞争法》第八条第一款的规定",
            "content": "责令停止违法行为，罚款人民币贰拾万元整",
            "fine_amount": "200000.00",
            "decided_on": f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}",
            "severity": "general",
            "publicity": {"ends_on": f"2027-{1 + i % 12:02d}-{1 + i % 28:02d}"},
            "department": "TJ-AMR",
        }
        for i in range(60)
    ]
    view["filings"] = [
        {
            "occurred_on": f"2025-12-{1 + i:02d}",
            "filing_no": f"1201162018BA{i:06d}",
            "filing_type": "章程备案",
            "content": "公司章程修正案备案",
            "department": "TJ-AMR",
        }
        for i in range(25)
    ]
    view["abnormal_listings"] = [
        {
            "decision_no": f"津市监经异〔2026〕{30 + i}号",
            "listed_on": f"2023-12-{1 + i % 28:02d}",
            "reason": "未按照《企业信息公示暂行条例》第八条规定的期限公示年度报告",
            "removed": {"on": f"2024-03-{1 + i % 28:02d}", "reason": "补报未报年份的年度报告并公示"},
            "department": "TJ-AMR",
        }
        for i in range(30)
    ]
    return view


@pytest.fixture(scope="module")
def crowded(platform: Platform) -> tuple[dict[str, Any], bytes]:
    require_font()
    view = crowded_view(platform)
    return view, render_pdf(view, NAMES, META)


def test_the_extract_is_a_tagged_pdf_in_chinese_with_a_title(crowded: tuple[dict[str, Any], bytes]) -> None:
    view, pdf = crowded
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        root = doc.Root
        assert "/StructTreeRoot" in root
        assert bool(root.MarkInfo.Marked) is True
        assert str(root.Lang) == "zh-CN"
        assert str(doc.docinfo["/Title"]) == f"信用信息报告 {view['name']}"
        assert bool(root.ViewerPreferences.DisplayDocTitle) is True  # the title, not the file name
        with doc.open_metadata() as xmp:
            assert xmp.get("dc:title") == f"信用信息报告 {view['name']}"
            assert xmp.get("pdfuaid:part") == "1"
        kinds = structure_types(root.StructTreeRoot)
        for kind in ("/H1", "/H2", "/Table", "/THead", "/TR", "/TH", "/TD", "/P"):
            assert kind in kinds, f"no {kind} in the structure tree: {sorted(kinds)}"
        # the verification data lives in the file, not in the text the public reads
        keywords = str(doc.docinfo["/Keywords"])
        assert "position:24412" in keywords and "version:14" in keywords


def structure_types(node: Any, seen: set[str] | None = None) -> set[str]:
    seen = set() if seen is None else seen
    if isinstance(node, pikepdf.Array):
        for item in node:
            structure_types(item, seen)
    elif isinstance(node, pikepdf.Dictionary):
        if "/S" in node:
            seen.add(str(node.S))
        if "/K" in node:
            structure_types(node.K, seen)
    return seen


def test_dates_codes_and_numbers_never_wrap(crowded: tuple[dict[str, Any], bytes], tmp_path: Path) -> None:
    view, pdf = crowded
    lines = {line.strip() for page in page_texts(pdf, tmp_path) for line in page.splitlines()}
    whole: list[str] = [view["uscc"], META["code"]]
    for p in view["penalties"]:
        whole += [p["decision_no"], p["decided_on"], p["publicity"]["ends_on"]]
    for f in view["filings"]:
        whole += [f["filing_no"], f["occurred_on"]]
    for x in view["abnormal_listings"]:
        whole += [x["decision_no"], x["listed_on"], x["removed"]["on"]]
    broken = [token for token in whole if not any(token in line for line in lines)]
    assert broken == [], f"split over two lines: {broken[:5]}"
    # the text columns do wrap (so the check above looks at real cell lines)
    assert not any(view["penalties"][0]["violation"] in line for line in lines)


HEADINGS = re.compile(r"^(\S+)（(\d+)）$")


def test_a_heading_stays_with_its_table_whose_header_repeats(
    crowded: tuple[dict[str, Any], bytes], tmp_path: Path
) -> None:
    view, pdf = crowded
    pages = page_texts(pdf, tmp_path)
    assert len(pages) >= 4
    for number, text in enumerate(pages, start=1):
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        for i, line in enumerate(lines):
            found = HEADINGS.match(line)
            if found and int(found.group(2)) > 0:
                following = lines[i + 1] if i + 1 < len(lines) else ""
                assert following and not following.startswith("天津市市场主体信用信息公示系统"), (
                    f"page {number}: “{line}” stands alone at the foot of the page"
                )
    # every page holding penalty rows starts that table with its header row
    penalty_pages = [t for t in pages if any(p["decision_no"] in t for p in view["penalties"])]
    assert len(penalty_pages) >= 2
    for text in penalty_pages:
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        first_row = next(i for i, line in enumerate(lines) if line.startswith("津市监罚〔"))
        assert "决定书文号" in lines[:first_row], "the penalties' header row is not repeated"
    # every page shows the verification code and its number
    for number, text in enumerate(pages, start=1):
        assert META["code"] in text and f"第 {number} 页，共 {len(pages)} 页" in text


def test_page_one_is_rendered_to_png_and_kept(crowded: tuple[dict[str, Any], bytes]) -> None:
    _, pdf = crowded
    pdftoppm = need("pdftoppm")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    source = ARTIFACTS / "extract.pdf"
    source.write_bytes(pdf)
    target = ARTIFACTS / "extract-page-1"
    png = target.with_suffix(".png")
    png.unlink(missing_ok=True)
    subprocess.run(
        [pdftoppm, "-png", "-r", "110", "-f", "1", "-l", "1", "-singlefile", str(source), str(target)],
        check=True,
    )
    data = png.read_bytes()
    assert data.startswith(b"\x89PNG")
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width == 910 and abs(height - 1286) <= 1  # A4 at 110 dpi
    assert len(data) > 40_000  # text, not a blank page


INTERNAL_META = {
    **META,
    "internal": "1",
    "agency": "天津市税务局稽查局",
    "officer": "张三",
    "purpose": "税务稽查",
}


def internal_view(platform: Platform) -> dict[str, Any]:
    """The crowded view as an agency reads it: each penalty with its state on the extract's date."""
    view = crowded_view(platform)
    states = ("public", "window_ended", "revoked", "repaired")
    for i, p in enumerate(view["penalties"]):
        p["state"] = states[i % len(states)]
        p["provenance"] = {
            "department": "TJ-AMR",
            "publication_id": f"SRC-P-{i}",
            "signing_key_id": f"TJ-AMR-k{i}",
            "principal": "department:TJ-AMR",
            "position": 900 - i,  # printed in event order, not in the order the view lists them
            "occurred_on": "2025-03-01",
            "mandate": {"arrived_on": "2025-03-02", "allows_kind": i != 1},
        }
    return view


@pytest.fixture(scope="module")
def internal(platform: Platform) -> bytes:
    require_font()
    return render_pdf(internal_view(platform), NAMES, INTERNAL_META)


def test_the_internal_variant_is_marked_on_every_page(
    internal: bytes, platform: Platform, tmp_path: Path
) -> None:
    pages = page_texts(internal, tmp_path)
    assert len(pages) >= 4
    assert all("内部 · 仅限机构内部使用 · 天津市税务局稽查局" in text for text in pages)
    first = pages[0]
    assert "市场主体信用信息报告（内部）" in first and "内部使用：本报告为机构依法履职所需的完整记录" in first
    for label, value in (("查询机构", "天津市税务局稽查局"), ("经办人", "张三"), ("查询目的", "税务稽查")):
        assert label in first and value in first
    text = "".join(pages)
    for state in ("（公示中）", "（公示期满）", "（已撤销）", "（已信用修复）"):
        assert state in text, f"no penalty state {state}"
    # every fact's source, once, in event order
    assert "记录来源" in text
    penalties = len(internal_view(platform)["penalties"])
    assert penalties >= 2 and text.count("SRC-P-") == penalties
    assert text.index("SRC-P-1") < text.index("SRC-P-0")  # position 899 before 900
    flat = text.replace("\n", "")  # a cell's lines in turn
    assert "TJ-AMR-k0" in flat and "职权内（2025-03-02）" in flat and "职权外（2025-03-02）" in flat
    with pikepdf.open(io.BytesIO(internal)) as doc:
        assert "classification:internal" in str(doc.docinfo["/Keywords"])
    # the watermark (rotated, so not in pdftotext's text): red ink in the middle of every page
    tinted = [red_in_the_middle(internal, n, tmp_path) for n in range(1, len(pages) + 1)]
    assert all(count > 50 for count in tinted), tinted


def test_the_public_extract_has_no_internal_marking(
    crowded: tuple[dict[str, Any], bytes], tmp_path: Path
) -> None:
    _, pdf = crowded
    pages = page_texts(pdf, tmp_path)
    assert not any("内部" in text for text in pages)
    assert red_in_the_middle(pdf, 1, tmp_path) == 0
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        assert "classification" not in str(doc.docinfo["/Keywords"])


def red_in_the_middle(pdf: bytes, page: int, tmp_path: Path) -> int:
    """How many pixels of the page's middle (half its width, a third of its height), rendered at
    30 dpi, are tinted red."""
    pdftoppm = need("pdftoppm")
    source = tmp_path / "tint.pdf"
    source.write_bytes(pdf)
    ppm = subprocess.run(
        [pdftoppm, "-r", "30", "-f", str(page), "-l", str(page), "-singlefile", str(source)],
        capture_output=True,
        check=True,
    ).stdout
    magic, width, height, _, pixels = ppm.split(maxsplit=4)  # P6, binary RGB, maxval 255
    assert magic == b"P6"
    w, h = int(width), int(height)
    count = 0
    for y in range(h // 3, 2 * h // 3):
        row = pixels[3 * w * y : 3 * w * (y + 1)]
        for x in range(w // 4, 3 * w // 4):
            r, g, b = row[3 * x], row[3 * x + 1], row[3 * x + 2]
            count += r - g > 12 and r - b > 12
    return count


# --- veraPDF: the PDF/UA-1 anchor ------------------------------------------------------------------


def verapdf_classpath() -> str:
    env = (ROOT / "infra/provision/versions.env").read_text(encoding="utf-8")
    version = re.search(r"^VERAPDF_VERSION=(\S+)$", env, re.M)
    assert version
    cache = Path(os.environ.get("GONGSHI_CACHE_DIR", Path.home() / ".cache" / "gongshi"))
    libs = cache / f"verapdf-{version.group(1)}" / "libs"
    if not (libs / f"greenfield-apps-{version.group(1)}.jar").exists() or shutil.which("java") is None:
        message = f"veraPDF is not installed in {libs} — run `bash infra/provision/pdf-tools.sh`"
        if in_ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return f"{libs}/*"


def verapdf(*paths: Path) -> str:
    result = subprocess.run(
        [
            "java",
            "-cp",
            verapdf_classpath(),
            "org.verapdf.apps.GreenfieldCliWrapper",
            "--flavour",
            "ua1",
            "--format",
            "text",
            *map(str, paths),
        ],
        capture_output=True,
        text=True,
        timeout=240,
    )
    return result.stdout + result.stderr


def test_verapdf_passes_the_public_the_sealed_and_the_internal_extract_as_pdf_ua_1(
    crowded: tuple[dict[str, Any], bytes], internal: bytes, platform: Platform, tmp_path: Path
) -> None:
    _, pdf = crowded
    plain = tmp_path / "plain.pdf"
    plain.write_bytes(pdf)
    sealed = tmp_path / "sealed.pdf"
    sealed.write_bytes(platform.container.extract_seal.seal(pdf))
    marked = tmp_path / "internal.pdf"  # its marking and watermark are artifacts, outside the tags
    marked.write_bytes(platform.container.extract_seal.seal(internal, reason="内部信用信息报告"))
    broken = tmp_path / "untagged.pdf"
    with pikepdf.open(io.BytesIO(pdf)) as doc:  # the check can fail: the same file without its tags
        del doc.Root["/StructTreeRoot"]
        doc.save(broken)
    report = verapdf(plain, sealed, marked, broken)
    assert f"PASS {plain} ua1" in report, report[-2000:]
    assert f"PASS {sealed} ua1" in report, report[-2000:]
    assert f"PASS {marked} ua1" in report, report[-2000:]
    assert f"FAIL {broken} ua1" in report, report[-2000:]


# --- offline verification: the published certificate is all a reader needs -----------------------


def test_a_downloaded_extract_verifies_offline_with_only_the_published_certificate(
    platform: Platform, tmp_path: Path
) -> None:
    require_font()
    doc = any_doc(platform)
    downloaded = platform.client.get(f"/entity/{doc['uscc']}/extract.pdf")
    published = platform.client.get("/api/v1/extracts/certificate")
    assert published.status_code == 200 and published.headers["content-type"] == "application/x-pem-file"
    (tmp_path / "extract.pdf").write_bytes(downloaded.content)
    (tmp_path / "seal.pem").write_bytes(published.content)
    fingerprint = published.headers["x-certificate-sha256"]

    # from here on, only the two files: no client, no container, nothing fetched
    certificate = load_cert_from_pemder(str(tmp_path / "seal.pem"))
    assert certificate.sha256.hex().upper() == fingerprint
    status = offline_status(tmp_path / "extract.pdf", certificate)
    assert status.bottom_line and status.trusted and status.intact and status.valid
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert status.signing_cert.sha256 == certificate.sha256

    # the same check fails on a file changed after sealing, and with another certificate
    (tmp_path / "appended.pdf").write_bytes(downloaded.content + b"\n% added later\n")
    assert (
        offline_status(tmp_path / "appended.pdf", certificate).coverage != SignatureCoverageLevel.ENTIRE_FILE
    )
    stranger = ExtractSeal.load_or_create(tmp_path / "x.key", tmp_path / "x.crt")
    other = load_cert_from_pemder(str(tmp_path / "x.crt"))
    assert stranger.fingerprint != fingerprint
    assert not offline_status(tmp_path / "extract.pdf", other).trusted


def offline_status(path: Path, trusted: Any) -> Any:
    context = ValidationContext(trust_roots=[trusted], allow_fetching=False)
    with path.open("rb") as file:
        signatures = PdfFileReader(file, strict=False).embedded_signatures
        assert len(signatures) == 1 and signatures[0].field_name == FIELD_NAME
        return validate_pdf_signature(signatures[0], context)


def test_the_certificate_route_is_not_taken_for_a_verification_key(platform: Platform) -> None:
    """`/api/v1/extracts/certificate` is declared before `/api/v1/extracts/{key}`."""
    paths = list(platform.client.get("/openapi.json").json()["paths"])
    assert paths.index("/api/v1/extracts/certificate") < paths.index("/api/v1/extracts/{key}")
    pem = platform.client.get("/api/v1/extracts/certificate").text
    assert pem.startswith("-----BEGIN CERTIFICATE-----")
    assert platform.client.get("/api/v1/extracts/certificat").json()["code"] == "not_found"
