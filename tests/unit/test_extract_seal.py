"""The extracts' seal: made once and shared by every process, a PAdES signature over the whole file,
and each way a file can fail its check told apart."""

from __future__ import annotations

import io
import stat
from pathlib import Path

import pikepdf
import pytest

from adapters.extract_seal import ExtractSeal, SealUnavailable


def a_pdf(text: str = "hello") -> bytes:
    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.docinfo["/Title"] = text
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


@pytest.fixture(scope="module")
def seal(tmp_path_factory: pytest.TempPathFactory) -> ExtractSeal:
    where = tmp_path_factory.mktemp("seal")
    return ExtractSeal.load_or_create(where / "extract-seal.key", where / "extract-seal.crt")


def test_the_key_is_made_once_private_and_read_back_by_the_next_process(tmp_path: Path) -> None:
    key, cert = tmp_path / "k.pem", tmp_path / "c.pem"
    first = ExtractSeal.load_or_create(key, cert)
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    again = ExtractSeal.load_or_create(key, cert)
    assert again.certificate_pem == first.certificate_pem == cert.read_bytes()
    assert again.fingerprint == first.fingerprint and len(first.fingerprint.split(":")) == 32
    assert again.check(first.seal(a_pdf())).sealed  # one process seals, another checks


def test_a_certificate_of_another_key_is_refused(tmp_path: Path) -> None:
    ExtractSeal.load_or_create(tmp_path / "a.key", tmp_path / "a.crt")
    ExtractSeal.load_or_create(tmp_path / "b.key", tmp_path / "b.crt")
    with pytest.raises(SealUnavailable):
        ExtractSeal.from_files(tmp_path / "a.key", tmp_path / "b.crt")


def test_a_sealed_file_checks_and_keeps_what_it_had(seal: ExtractSeal) -> None:
    original = a_pdf("信用信息报告")
    sealed = seal.seal(original)
    assert sealed.startswith(original)  # an incremental update: the signed file is the old one plus
    check = seal.check(sealed)
    assert check.state == "sealed" and check.sealed
    assert check.signer is not None and "信用信息报告电子签章" in check.signer
    assert check.signed_at is not None
    with pikepdf.open(io.BytesIO(sealed)) as doc:
        assert str(doc.docinfo["/Title"]) == "信用信息报告"


def test_every_way_of_failing_is_named(seal: ExtractSeal, tmp_path: Path) -> None:
    sealed = seal.seal(a_pdf())
    assert seal.check(a_pdf()).state == "unsigned"
    assert seal.check(b"not a pdf at all").state == "unreadable"
    assert seal.check(sealed + b"\n% appended after sealing\n").state == "altered"
    at = sealed.index(b"/Title") + 8  # a byte inside the signed range
    flipped = sealed[:at] + bytes([sealed[at] ^ 0x01]) + sealed[at + 1 :]
    assert seal.check(flipped).state == "bad_signature"
    stranger = ExtractSeal.load_or_create(tmp_path / "x.key", tmp_path / "x.crt")
    assert seal.check(stranger.seal(a_pdf())).state == "other_signer"
