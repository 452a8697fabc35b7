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
from tests.builders import MemoryKeys

VALUE = b'{"publication_id": "TJ-AMR-1", "department": "TJ-AMR"}'


Keys = MemoryKeys


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


def test_each_key_is_read_once_per_batch_and_a_revocation_is_seen_by_the_next(keys: Keys) -> None:
    signer, other = Signer.generate(), Signer.generate()
    keys.add("TJ-AMR", signer)
    keys.add("TJ-TAX", other)
    verifier = Verifier(keys)
    batch = [(VALUE, signer.headers(VALUE))] * 100 + [(VALUE, other.headers(VALUE))] * 100
    assert all(isinstance(c, Signed) for c in verifier.check_many(batch))
    assert keys.reads == 2  # one read per distinct key of the batch
    keys.rows[signer.key_id] = ("TJ-AMR", signer.public, True)  # revoked meanwhile
    again = verifier.check_many(batch)
    assert all(isinstance(c, Unsigned) and "已吊销" in c.message for c in again[:100])
    assert all(isinstance(c, Signed) for c in again[100:])


@pytest.mark.parametrize(
    ("owner", "header", "principal"),
    [
        ("platform", "department:TJ-AMR/key:ab12cd34", "department:TJ-AMR/key:ab12cd34"),
        ("platform", None, "platform"),
        ("TJ-AMR", None, "department:TJ-AMR"),
        ("TJ-AMR", "department:TJ-AMR/user:zhang", "department:TJ-AMR/user:zhang"),
        # a department cannot name someone else as the one who acted
        ("TJ-AMR", "job:annual-reports", "department:TJ-AMR"),
        ("TJ-AMR", "department:TJ-AMRX", "department:TJ-AMR"),
    ],
)
def test_the_recorded_principal_is_the_platforms_word_or_the_departments_own(
    owner: str, header: str | None, principal: str
) -> None:
    provenance = Signed(owner, "sk_0123456789abcdef", header).provenance()
    assert (provenance.signing_key_id, provenance.principal) == ("sk_0123456789abcdef", principal)


def test_a_department_key_signs_only_its_own_envelopes() -> None:
    assert Signed("TJ-AMR", "sk_1").may_sign_for("TJ-AMR")
    assert not Signed("TJ-AMR", "sk_1").may_sign_for("TJ-TAX")
    assert Signed("platform", "sk_2").may_sign_for("TJ-TAX")


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
