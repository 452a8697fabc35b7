"""Who signed a publication, as the domain sees it: the outcome of checking a message's signature.

Every message on the publication log is signed (Ed25519 over its exact value bytes). The check
itself — the cryptography and the stored public keys — is the adapters' (`adapters/credentials/
signing.py`, `Verifier`); the ingestion worker runs it on every message before anything else and
hands the outcome to the registry with the message:
- `Unsigned(message)` — no signature, a malformed one, an unknown or revoked key, or a signature
  that does not match the bytes: the publication is rejected as `bad_signature`;
- `Signed(owner, key_id, principal)` — a valid signature by a key of `owner`: a department's code,
  or `PLATFORM` for the platform's own keys. A department's key signs only its own envelopes
  (`Signed.may_sign_for`); the platform's keys sign what the platform publishes on someone's
  behalf (the gateway, bulk loads, enterprise submissions, deadline jobs) and name that someone
  in `principal` (`department:TJ-AMR/key:…`, `job:load`, `enterprise:9112…`).
The applied events keep `Provenance` (the key id and the principal), so every fact can be traced
to who acted and which key signed it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

PLATFORM = "platform"  # the owner of the platform's own signing keys: may sign for any department


@dataclass(frozen=True, slots=True)
class Provenance:
    """Which key signed a publication, and who acted."""

    signing_key_id: str
    principal: str

    def as_meta(self) -> dict[str, str]:
        return {"signing_key_id": self.signing_key_id, "principal": self.principal}

    @classmethod
    def from_meta(cls, meta: Any) -> Provenance | None:
        if not isinstance(meta, dict) or not meta.get("signing_key_id"):
            return None
        return cls(str(meta["signing_key_id"]), str(meta.get("principal") or ""))


@dataclass(frozen=True, slots=True)
class Signed:
    """A valid signature: the key's owner (a department code or `PLATFORM`), the key's id, and
    the principal the message's `gongshi-principal` header names (if any)."""

    owner: str
    key_id: str
    principal: str | None = None

    def may_sign_for(self, department: object) -> bool:
        return self.owner == PLATFORM or self.owner == department

    def provenance(self) -> Provenance:
        """The platform names who it acted for (`principal`, else just `platform`); a department
        acts as itself, and may name a narrower principal of its own (`department:TJ-AMR/…`)."""
        own = f"department:{self.owner}"
        if self.owner == PLATFORM:
            principal = self.principal or PLATFORM
        elif self.principal and (self.principal == own or self.principal.startswith(own + "/")):
            principal = self.principal
        else:
            principal = own
        return Provenance(self.key_id, principal)


@dataclass(frozen=True, slots=True)
class Unsigned:
    """Why a message's signature was refused (Chinese, for the DLQ and the publisher)."""

    message: str


SignatureCheck = Signed | Unsigned


class SignatureChecker(Protocol):
    """What the ingestion worker checks each batch's signatures with (`adapters.credentials.
    signing.Verifier`): one outcome per (value, headers), in order."""

    def check_many(
        self, messages: Sequence[tuple[bytes, tuple[tuple[str, bytes], ...]]]
    ) -> list[SignatureCheck]: ...
