"""Signed envelopes: Ed25519 over the exact message value bytes.

A publisher signs the bytes it puts on the log and sends two headers, `gongshi-key-id` and
`gongshi-signature` (standard base64 of the 64-byte signature); a third, `gongshi-principal`,
names who acted when the platform signs on someone's behalf (`department:TJ-AMR/key:…`,
`enterprise:9112…`, `job:annual-reports`). Only public keys are stored (`signing_keys`, beside
the other credentials); a department's private key is shown once when it is made, the
platform's own lives in its data directory (or `GONGSHI_SIGNING_KEY`).

`Verifier.check_many` answers, for each message of a batch, who signed it (`domain.signatures.
Signed`) or why not (`Unsigned`), before anything else is read from the message.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from domain.signatures import PLATFORM, Signed, Unsigned

__all__ = [
    "HEADER_KEY_ID",
    "HEADER_PRINCIPAL",
    "HEADER_SIGNATURE",
    "PLATFORM",
    "Signed",
    "Signer",
    "Unsigned",
    "Verifier",
]

HEADER_KEY_ID = "gongshi-key-id"
HEADER_SIGNATURE = "gongshi-signature"
HEADER_PRINCIPAL = "gongshi-principal"

Headers = tuple[tuple[str, bytes], ...]


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id_for(public: bytes) -> str:
    """A signing key's id: `sk_` + the first 16 hex digits of the SHA-256 of its public key."""
    return "sk_" + hashlib.sha256(public).hexdigest()[:16]


@dataclass(frozen=True)
class Signer:
    """A private key and its id; signs message values and gives the three headers."""

    private: Ed25519PrivateKey

    @classmethod
    def generate(cls) -> Signer:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_base64(cls, text: str) -> Signer:
        """From the base64 of the 32-byte raw private key (what `departments add-key` prints)."""
        try:
            raw = base64.b64decode(text.strip(), validate=True)
            return cls(Ed25519PrivateKey.from_private_bytes(raw))
        except (binascii.Error, ValueError) as err:
            raise ValueError("签名私钥无效：应为 32 字节 Ed25519 私钥的 base64") from err

    @classmethod
    def load_or_create(cls, path: Path) -> Signer:
        """The key in `path`, made (readable by the owner only) when missing."""
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            for _ in range(100):  # another process made it and may be writing it
                text = path.read_text(encoding="ascii").strip()
                if text:
                    return cls.from_base64(text)
                time.sleep(0.05)
            raise RuntimeError(f"{path} is empty: delete it, or set GONGSHI_SIGNING_KEY") from None
        signer = cls.generate()
        with os.fdopen(fd, "w", encoding="ascii") as file:
            file.write(signer.private_base64() + "\n")
        return signer

    def private_base64(self) -> str:
        raw = self.private.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )
        return base64.b64encode(raw).decode()

    @property
    def public(self) -> bytes:
        return _raw_public(self.private.public_key())

    @property
    def key_id(self) -> str:
        return key_id_for(self.public)

    def headers(self, value: bytes, principal: str | None = None) -> Headers:
        signature = base64.b64encode(self.private.sign(value))
        out: Headers = ((HEADER_KEY_ID, self.key_id.encode()), (HEADER_SIGNATURE, signature))
        return (*out, (HEADER_PRINCIPAL, principal.encode())) if principal else out


class SigningKeyLookup(Protocol):
    """What the verifier needs from the store: (owner, raw public key, revoked) of a key id."""

    def signing_key(self, key_id: str) -> tuple[str, bytes, bool] | None: ...


class Verifier:
    """Checks the signature headers of messages against the stored public keys.

    `check_many` reads each distinct key of the batch from the store once, so a revocation
    refuses the key's signatures from the next batch on, in every worker; nothing about a key's
    state outlives the call. The parsed public keys are kept (a key id is the fingerprint of its
    public key, so the key behind an id never changes)."""

    def __init__(self, keys: SigningKeyLookup) -> None:
        self._keys = keys
        self._public: dict[str, Ed25519PublicKey] = {}

    def check(self, value: bytes, headers: Headers) -> Signed | Unsigned:
        return self.check_many([(value, headers)])[0]

    def check_many(self, messages: Sequence[tuple[bytes, Headers]]) -> list[Signed | Unsigned]:
        found = [dict(headers) for _value, headers in messages]
        key_ids = {f.get(HEADER_KEY_ID, b"").decode("ascii", "replace") for f in found} - {""}
        keys = {key_id: self._keys.signing_key(key_id) for key_id in sorted(key_ids)}
        return [self._check(value, f, keys) for (value, _h), f in zip(messages, found, strict=True)]

    def _check(
        self, value: bytes, found: dict[str, bytes], keys: dict[str, tuple[str, bytes, bool] | None]
    ) -> Signed | Unsigned:
        key_id = found.get(HEADER_KEY_ID, b"").decode("ascii", "replace")
        signature_b64 = found.get(HEADER_SIGNATURE)
        if not key_id or signature_b64 is None:
            return Unsigned("缺少签名（gongshi-key-id / gongshi-signature 消息头）")
        try:
            signature = base64.b64decode(signature_b64, validate=True)
        except (binascii.Error, ValueError):
            return Unsigned("签名不是有效的 base64")
        row = keys.get(key_id)
        if row is None:
            return Unsigned(f"未登记的签名密钥“{key_id}”")
        owner, public, revoked = row
        if revoked:
            return Unsigned(f"签名密钥“{key_id}”已吊销")
        try:
            self._public_key(key_id, public).verify(signature, value)
        except InvalidSignature:
            return Unsigned("签名与消息内容不符")
        principal = found.get(HEADER_PRINCIPAL)
        return Signed(owner, key_id, principal.decode("utf-8", "replace") if principal else None)

    def _public_key(self, key_id: str, raw: bytes) -> Ed25519PublicKey:
        key = self._public.get(key_id)
        if key is None:
            if len(self._public) > 10_000:
                self._public.clear()
            key = self._public[key_id] = Ed25519PublicKey.from_public_bytes(raw)
        return key
