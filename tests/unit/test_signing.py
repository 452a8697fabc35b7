"""Signed envelopes: the verifier says who signed the exact bytes, or why not (Chinese)."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from adapters.credentials.signing import (
    HEADER_KEY_ID,
    HEADER_PRINCIPAL,
    HEADER_SIGNATURE,
    Signed,
    Signer,
    Unsigned,
    Verifier,
    key_id_for,
)

VALUE = b'{"publication_id": "TJ-AMR-1", "department": "TJ-AMR"}'


class Keys:
    """The store's lookup, in memory."""

    def __init__(self) -> None:
        self.rows: dict[str, tuple[str, bytes, bool]] = {}
        self.reads = 0

    def add(self, owner: str, signer: Signer) -> None:
        self.rows[signer.key_id] = (owner, signer.public, False)

    def signing_key(self, key_id: str) -> tuple[str, bytes, bool] | None:
        self.reads += 1
        return self.rows.get(key_id)


@pytest.fixture
def keys() -> Keys:
    return Keys()


def test_a_signature_over_the_exact_bytes_names_its_owner(keys: Keys) -> None:
    signer = Signer.generate()
    keys.add("TJ-AMR", signer)
    checked = Verifier(keys).check(VALUE, signer.headers(VALUE))
    assert checked == Signed("TJ-AMR", signer.key_id, None)


def test_the_platform_names_who_it_acted_for(keys: Keys) -> None:
    platform = Signer.generate()
    keys.add("platform", platform)
    headers = platform.headers(VALUE, principal="enterprise:91120116MA05XXXXX0")
    assert dict(headers)[HEADER_PRINCIPAL] == b"enterprise:91120116MA05XXXXX0"
    assert Verifier(keys).check(VALUE, headers) == Signed(
        "platform", platform.key_id, "enterprise:91120116MA05XXXXX0"
    )


@pytest.mark.parametrize(
    ("case", "fragment"),
    [
        ("missing", "缺少签名"),
        ("not-base64", "base64"),
        ("unknown-key", "未登记"),
        ("other-bytes", "不符"),
        ("other-key", "不符"),
        ("revoked", "已吊销"),
    ],
)
def test_a_bad_signature_is_refused_with_a_reason(keys: Keys, case: str, fragment: str) -> None:
    signer, other = Signer.generate(), Signer.generate()
    keys.add("TJ-AMR", signer)
    keys.add("TJ-TAX", other)
    headers = dict(signer.headers(VALUE))
    if case == "missing":
        headers = {}
    elif case == "not-base64":
        headers[HEADER_SIGNATURE] = b"%%%"
    elif case == "unknown-key":
        headers[HEADER_KEY_ID] = Signer.generate().key_id.encode()
    elif case == "other-bytes":
        headers = dict(signer.headers(VALUE + b" "))
    elif case == "other-key":  # TJ-TAX's key id with TJ-AMR's signature
        headers[HEADER_KEY_ID] = other.key_id.encode()
    elif case == "revoked":
        keys.rows[signer.key_id] = ("TJ-AMR", signer.public, True)
    checked = Verifier(keys).check(VALUE, tuple(headers.items()))
    assert isinstance(checked, Unsigned) and fragment in checked.message


def test_public_keys_are_cached_for_a_few_seconds(keys: Keys) -> None:
    signer = Signer.generate()
    keys.add("TJ-AMR", signer)
    verifier = Verifier(keys, ttl_s=60)
    for _ in range(100):
        assert isinstance(verifier.check(VALUE, signer.headers(VALUE)), Signed)
    assert keys.reads == 1
    keys.rows[signer.key_id] = ("TJ-AMR", signer.public, True)
    assert isinstance(Verifier(keys, ttl_s=0).check(VALUE, signer.headers(VALUE)), Unsigned)


def test_a_private_key_round_trips_as_base64_and_a_file(tmp_path: Path) -> None:
    signer = Signer.generate()
    again = Signer.from_base64(signer.private_base64())
    assert again.public == signer.public and len(base64.b64decode(signer.private_base64())) == 32
    assert signer.key_id == key_id_for(signer.public) and signer.key_id.startswith("sk_")
    with pytest.raises(ValueError, match="签名私钥无效"):
        Signer.from_base64("not a key")
    first = Signer.load_or_create(tmp_path / "keys" / "platform-signing.key")
    second = Signer.load_or_create(tmp_path / "keys" / "platform-signing.key")
    assert first.public == second.public
    assert (tmp_path / "keys" / "platform-signing.key").stat().st_mode & 0o077 == 0
