"""The platform's seal on its credit extracts: a PAdES signature (pyHanko) with the platform's
extract key, and the check of one against the platform's published certificate.

Anyone can check an extract offline: the certificate is public (`GET /api/v1/extracts/certificate`,
PEM), and any PAdES validator that trusts it (pyHanko, Adobe Reader after importing it) tells a
sealed file that is whole from one changed after sealing. The ledger (`adapters/extract_ledger.py`)
stays beside it: it records every file issued, and says whether the entity's record changed since.

The key is ECDSA P-256 with a self-signed X.509 certificate (10 years), made on first use into
`<data dir>/extract-seal.key` (PKCS#8 PEM, 0600) and `extract-seal.crt`, or given by the operator
(`GONGSHI_EXTRACT_SEAL_KEY_FILE`, `GONGSHI_EXTRACT_SEAL_CERT_FILE`: e.g. a certificate from the
province's CA). It is a key of its own, not the Ed25519 key the platform signs publications with:
PDF readers verify ECDSA everywhere and Ed25519 (ISO 32002) in few, and a seal key that leaks must
not let anyone publish in the platform's name, nor the other way round.

PAdES baseline B-B: the signing time is the platform's claim (no timestamp authority is reachable
from here); the ledger's `generated_at` is the same instant.
"""

from __future__ import annotations

import io
import os
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import PdfSignatureStatus, SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

__all__ = ["FIELD_NAME", "ExtractSeal", "SealCheck", "SealUnavailable"]

#: The signature field every extract carries (invisible: the seal is shown by readers' panels).
FIELD_NAME = "GongshiSeal"
ISSUER = "天津市市场主体信用信息公示系统"
VALIDITY = timedelta(days=3650)

SealState = Literal["sealed", "altered", "bad_signature", "other_signer", "unsigned", "unreadable"]


class SealUnavailable(Exception):
    """The seal's key or certificate cannot be read or made."""


@dataclass(frozen=True, slots=True)
class SealCheck:
    """What a file's seal says. `sealed`: signed with the platform's certificate, the signature
    sound and covering the whole file. `altered`: sound, but the file was changed after sealing
    (bytes appended). `bad_signature`: the signed bytes were changed. `other_signer`: a sound
    signature by someone else's certificate. `unsigned`: no signature (an extract issued before
    seals, or not an extract). `unreadable`: not a PDF pyHanko can read."""

    state: SealState
    signed_at: datetime | None = None
    signer: str | None = None

    @property
    def sealed(self) -> bool:
        return self.state == "sealed"


class ExtractSeal:
    """Seals PDFs with the platform's extract key and checks seals against its certificate."""

    def __init__(self, key: ec.EllipticCurvePrivateKey, certificate: x509.Certificate) -> None:
        self._certificate = certificate
        self._asn1_cert = asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))
        der = key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        self._signer = signers.SimpleSigner(
            signing_cert=self._asn1_cert,
            signing_key=asn1_keys.PrivateKeyInfo.load(der),
            cert_registry=SimpleCertificateStore.from_certs([self._asn1_cert]),  # type: ignore[no-untyped-call]
        )
        self._lock = threading.Lock()

    # --- the key and certificate -------------------------------------------------------------

    @classmethod
    def load_or_create(cls, key_path: Path, cert_path: Path, *, now: datetime | None = None) -> ExtractSeal:
        """The key and certificate in these files; both made (the key readable by the owner only)
        when the key file is missing. Several processes may race: one makes them, the others wait."""
        try:
            key_path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return cls._wait_for(key_path, cert_path)
        except OSError as err:
            raise SealUnavailable(f"cannot make {key_path}: {err}") from err
        key = ec.generate_private_key(ec.SECP256R1())
        certificate = self_signed(key, now or datetime.now(UTC))
        tmp = cert_path.with_suffix(cert_path.suffix + f".{os.getpid()}.tmp")
        tmp.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        os.replace(tmp, cert_path)  # the certificate first: a reader that sees the key finds it
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        with os.fdopen(fd, "wb") as file:
            file.write(pem)
        return cls(key, certificate)

    @classmethod
    def _wait_for(cls, key_path: Path, cert_path: Path) -> ExtractSeal:
        for _ in range(100):  # another process made the key and may still be writing it
            if key_path.stat().st_size and cert_path.exists():
                return cls.from_files(key_path, cert_path)
            time.sleep(0.05)
        raise SealUnavailable(f"{key_path} is empty or {cert_path} missing: delete the key file to make both")

    @classmethod
    def from_files(cls, key_path: Path, cert_path: Path) -> ExtractSeal:
        try:
            key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
            certificate = x509.load_pem_x509_certificate(cert_path.read_bytes())
        except (OSError, ValueError) as err:
            raise SealUnavailable(f"cannot read the extract seal ({key_path}, {cert_path}): {err}") from err
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise SealUnavailable(f"{key_path} is not an ECDSA key")
        public = certificate.public_key()
        if not isinstance(public, ec.EllipticCurvePublicKey) or (
            key.public_key().public_numbers() != public.public_numbers()
        ):
            raise SealUnavailable(f"{cert_path} is not the certificate of {key_path}")
        return cls(key, certificate)

    @property
    def certificate_pem(self) -> bytes:
        return self._certificate.public_bytes(serialization.Encoding.PEM)

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the certificate (hex, upper case, colon-separated), as readers show it."""
        raw = self._certificate.fingerprint(hashes.SHA256()).hex().upper()
        return ":".join(raw[i : i + 2] for i in range(0, len(raw), 2))

    # --- sealing and checking ----------------------------------------------------------------

    def seal(self, pdf: bytes, *, reason: str = "信用信息报告", location: str = "天津") -> bytes:
        """`pdf` with an invisible PAdES (B-B) signature over the whole file, as an incremental
        update: what was there (the structure tree, the tags) stays as it was."""
        meta = signers.PdfSignatureMetadata(
            field_name=FIELD_NAME,
            subfilter=fields.SigSeedSubFilter.PADES,
            md_algorithm="sha256",
            reason=reason,
            location=location,
            name=ISSUER,
        )
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
        with self._lock:  # SimpleSigner is not documented as thread-safe
            out = signers.PdfSigner(meta, signer=self._signer).sign_pdf(writer)
        return bytes(out.getvalue())

    def check(self, pdf: bytes) -> SealCheck:
        """The seal of `pdf`, judged with the platform's certificate as the only trust anchor and
        nothing fetched from anywhere."""
        try:
            reader = PdfFileReader(io.BytesIO(pdf), strict=False)
            signatures = reader.embedded_signatures
        except Exception:  # pyHanko raises many kinds on a file that is not a PDF
            return SealCheck("unreadable")
        if not signatures:
            return SealCheck("unsigned")
        context = ValidationContext(trust_roots=[self._asn1_cert], allow_fetching=False)
        try:
            status: PdfSignatureStatus = validate_pdf_signature(signatures[-1], context)
        except Exception:
            return SealCheck("bad_signature")
        signer = status.signing_cert.subject.human_friendly if status.signing_cert else None
        signed_at = status.signer_reported_dt
        if not (status.intact and status.valid):
            return SealCheck("bad_signature", signed_at, signer)
        if not status.trusted or status.signing_cert.sha256 != self._asn1_cert.sha256:
            return SealCheck("other_signer", signed_at, signer)
        if len(signatures) != 1 or status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
            return SealCheck("altered", signed_at, signer)
        return SealCheck("sealed", signed_at, signer)


def self_signed(key: ec.EllipticCurvePrivateKey, now: datetime) -> x509.Certificate:
    """The platform's seal certificate: its own issuer, for signing documents only."""
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ISSUER),
            x509.NameAttribute(NameOID.COMMON_NAME, "信用信息报告电子签章"),
        ]
    )
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
