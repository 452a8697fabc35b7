"""Keys, tokens and passwords as stored, roles from prefixes, the login delay rule."""

from __future__ import annotations

import pytest

from adapters.credentials.keys import (
    activation_code,
    key_id_of,
    keyed_hash,
    new_secret,
    normalise_code,
    scrypt_hash,
    verify_secret,
)
from domain.access import (
    AGENCY_SCOPES,
    KEY_PREFIXES,
    MAX_DELAY_S,
    Principal,
    Role,
    login_delay,
    parse_scopes,
    role_of_key,
    throttle_message,
)

PEPPER = b"p" * 32
KEYED = [r for r in Role if r != Role.PUBLIC] + [Role.PUBLIC]


@pytest.mark.parametrize("role", list(KEY_PREFIXES))
def test_each_role_key_carries_its_prefix_and_is_recognised_before_lookup(role: Role) -> None:
    key = new_secret(role)
    assert key.startswith(KEY_PREFIXES[role]) and len(key) == len(KEY_PREFIXES[role]) + 43
    assert role_of_key(key) == role
    assert key_id_of(key) == key[len(KEY_PREFIXES[role]) :][:8]


def test_the_department_prefix_stays_gs_and_malformed_keys_have_no_role() -> None:
    assert KEY_PREFIXES[Role.DEPARTMENT] == "gs_"
    key = new_secret(Role.DEPARTMENT)
    for malformed in ("", "gs_", "nonsense", key.upper(), key + "x", " " + key, "gsx_" + key[3:]):
        assert role_of_key(malformed) is None and key_id_of(malformed) is None


def test_key_ids_never_start_with_a_dash_so_the_cli_can_take_them() -> None:
    ids = [key_id_of(new_secret(Role.AGENCY)) for _ in range(3000)]
    assert all(i and i[0].isalnum() for i in ids)


def test_a_keyed_hash_needs_the_platform_secret() -> None:
    key = new_secret(Role.AGENCY)
    stored = keyed_hash(key, PEPPER)
    assert stored.startswith("hmac-sha256$") and key not in stored
    assert verify_secret(key, stored, PEPPER)
    assert not verify_secret(key, stored, b"q" * 32)
    assert not verify_secret(key[:-1] + ("A" if key[-1] != "A" else "B"), stored, PEPPER)
    assert not verify_secret(key, "md5$whatever", PEPPER)


def test_department_keys_stored_under_scrypt_still_verify() -> None:
    key = new_secret(Role.DEPARTMENT)
    stored = scrypt_hash(key)
    assert stored != scrypt_hash(key)  # salted
    assert verify_secret(key, stored, PEPPER)
    assert not verify_secret(key + "x", stored, PEPPER)
    assert not verify_secret(key, "scrypt$broken", PEPPER)


def test_activation_codes_avoid_look_alike_characters_and_forgive_typing() -> None:
    codes = {activation_code() for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        assert len(code) == 14 and code[4] == code[9] == "-"
        assert not set(code) & set("01OIL")
    assert normalise_code(" abcd-efgh-jkmn ") == "ABCDEFGHJKMN"


def test_scopes_are_checked_and_put_in_order() -> None:
    assert parse_scopes("screen, read") == ("read", "screen")
    assert parse_scopes(",".join(AGENCY_SCOPES)) == AGENCY_SCOPES
    with pytest.raises(ValueError, match="未知的权限范围"):
        parse_scopes("read,write")
    with pytest.raises(ValueError, match="至少需要"):
        parse_scopes(" , ")


def test_a_principal_names_itself_for_logs_and_provenance() -> None:
    assert Principal(Role.PUBLIC).id == "public"
    assert Principal(Role.DEPARTMENT, "TJ-AMR", "ab12cd34").id == "department:TJ-AMR/key:ab12cd34"
    assert Principal(Role.ENTERPRISE, "91120116MA05XXXXX0", "tok12345").id == "enterprise:91120116MA05XXXXX0"
    assert Principal(Role.AGENCY, "TJ-TAX-01", "k", ("read",)).has_scope("read")
    assert not Principal(Role.AGENCY, "TJ-TAX-01", "k", ("read",)).has_scope("match")


def test_the_login_delay_grows_from_the_fourth_failure_and_is_capped() -> None:
    assert [login_delay(n) for n in range(0, 8)] == [0, 0, 0, 2, 4, 8, 16, 32]
    assert login_delay(40) == MAX_DELAY_S == 900
    assert login_delay(19, free=20) == 0 and login_delay(20, free=20) == 2


def test_the_throttle_message_is_chinese_and_says_how_long() -> None:
    assert throttle_message(8) == "登录失败次数过多，请 8 秒后再试"
    assert throttle_message(125) == "登录失败次数过多，请 2 分 5 秒后再试"
