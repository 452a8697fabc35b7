"""Natural persons' identity numbers, phones and home addresses, sealed in the stored events.

个人信息保护法 asks that a person's data can be erased; the event store never changes what it
recorded. Crypto-shredding reconciles the two: every person named in an event (a JSON object with
`name` and `id_number`: a legal representative, an investor, a person penalised) is stored with
its `id_number`, `phone` and `address` encrypted under a key of that person's own
(`PersonalDataVault`, the keys in a table of the platform's database). Erasing the person deletes
the keys: the events still load, and the erased fields read as 已删除 everywhere they are shown.

This module holds the domain's side: which objects are persons, the sealed form, and the
transcoder that seals on the way into the store and opens on the way out (`SealingTranscoder`,
wrapped around eventsourcing's JSON transcoder by the `Registry` when it is given a vault). The
cryptography and the keys are the vault's (adapters/personal_data.py).

The sealed form of a person: its other fields as they were, and `_sealed_`: {`ref` (a keyed hash
of the identity number, naming the person without revealing the number), `kid` (which key),
`fields` (which fields are sealed), `ct` (base64 of nonce + AES-GCM ciphertext)}.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from eventsourcing.persistence import Transcoder

__all__ = [
    "ERASED",
    "PERSONAL_FIELDS",
    "SEALED",
    "PersonalDataVault",
    "SealingTranscoder",
    "is_person",
    "open_persons",
    "seal_persons",
]

#: What an erased field reads as, in every view.
ERASED = "已删除"
#: A natural person's fields that are sealed.
PERSONAL_FIELDS = ("id_number", "phone", "address")
#: The key under which a person object holds its sealed fields.
SEALED = "_sealed_"
#: how a sealed person's key reads in the stored JSON bytes
_SEALED_MARK = f'"{SEALED}"'.encode()


class PersonalDataVault(Protocol):
    """Seals and opens one person's fields under that person's key."""

    def seal(self, id_number: str, fields: Mapping[str, str]) -> dict[str, Any]:
        """The sealed form of `fields` (they include `id_number`), under the person's key."""
        ...

    def open(self, sealed: Mapping[str, Any]) -> dict[str, str] | None:
        """The fields back, or None when the person's key was erased."""
        ...

    def epoch(self) -> int:
        """How many erasures were recorded (a change means: drop what was opened before)."""
        ...


def is_person(value: Any) -> bool:
    """A natural person as events carry one: an object with a name and an identity number."""
    return isinstance(value, dict) and "name" in value and isinstance(value.get("id_number"), str)


def seal_persons(value: Any, vault: PersonalDataVault) -> Any:
    """A copy of `value` with every person's personal fields sealed (other values as they are)."""
    if isinstance(value, dict):
        if is_person(value) and value["id_number"] != ERASED:
            fields = {k: value[k] for k in PERSONAL_FIELDS if isinstance(value.get(k), str)}
            kept = {k: seal_persons(v, vault) for k, v in value.items() if k not in fields}
            return {**kept, SEALED: vault.seal(fields["id_number"], fields)}
        return {k: seal_persons(v, vault) for k, v in value.items()}
    if isinstance(value, list):
        return [seal_persons(v, vault) for v in value]
    if isinstance(value, tuple):
        return tuple(seal_persons(v, vault) for v in value)
    return value


def open_persons(value: Any, vault: PersonalDataVault) -> Any:
    """A copy of `value` with every sealed person opened — its erased fields read `ERASED`."""
    if isinstance(value, dict):
        opened = {k: open_persons(v, vault) for k, v in value.items() if k != SEALED}
        sealed = value.get(SEALED)
        if isinstance(sealed, dict):
            fields = vault.open(sealed)
            if fields is None:
                fields = dict.fromkeys(sealed.get("fields", ("id_number",)), ERASED)
            opened.update(fields)
        return opened
    if isinstance(value, list):
        return [open_persons(v, vault) for v in value]
    return value


class SealingTranscoder(Transcoder):
    """eventsourcing's transcoder with every person sealed when stored and opened when read
    (events and snapshots alike). Stored events without sealed persons (written before, or not yet
    migrated) read as they are."""

    def __init__(self, inner: Transcoder, vault: PersonalDataVault) -> None:
        self.inner = inner
        self.vault = vault

    def encode(self, obj: Any) -> bytes:
        return self.inner.encode(seal_persons(obj, self.vault))

    def decode(self, data: bytes) -> Any:
        # most events name no person: without the marker anywhere in the bytes no value holds a
        # sealed person, and the walk (a copy of the whole state, for every event read) is skipped
        if _SEALED_MARK not in data:
            return self.inner.decode(data)
        return open_persons(self.inner.decode(data), self.vault)
