"""USCC (GB 32100-2015) and 注册号 parsing, validation and generation."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.cn import uscc as stdnum_uscc

from domain.errors import InvalidRegistrationNumber, InvalidUSCC
from domain.uscc import (
    ALPHABET,
    TIANJIN_DISTRICTS,
    USCC,
    check_failed,
    district_name,
    looks_like_registration_number,
    looks_like_uscc,
    make_registration_number,
    make_uscc,
    near_misses,
    org_check_digit,
    partition_key,
    registration_near_misses,
    validate_registration_number,
)

REAL_CODES = ["91110108MA01K3P20A", "92330106MA2H4Y1D3C", "91110000600037341L"]

regions = st.sampled_from([*sorted(TIANJIN_DISTRICTS), "120000", "110108", "330106", "440300"])
bodies = st.text(alphabet=ALPHABET, min_size=8, max_size=8)
authority_categories = st.sampled_from(["91", "92", "93", "11", "12", "51", "52", "53", "Y1", "N2", "31"])


@pytest.mark.parametrize("code", REAL_CODES)
def test_real_world_codes_parse_including_their_organisation_check_digit(code: str) -> None:
    assert str(USCC.parse(code)) == code


def test_parts_of_a_code_are_exposed_as_properties() -> None:
    u = USCC.parse("92330106MA2H4Y1D3C")
    assert (u.registration_authority, u.category, u.region_code) == ("9", "2", "330106")
    assert (u.organisation_code, u.check_character) == ("MA2H4Y1D3", "C")
    assert u.district_name is None


def test_tianjin_code_knows_its_district() -> None:
    u = make_uscc("120116", "MA05XK3P")
    assert u.district_name == "滨海新区"
    assert district_name("120101") == "和平区"
    assert TIANJIN_DISTRICTS["120119"] == ("蓟州区", "Jizhou")
    assert district_name("110108") is None


def test_lower_case_spaces_and_hyphens_are_normalised() -> None:
    assert USCC.parse("  9111 0108-ma01 k3p2-0a ").value == "91110108MA01K3P20A"


def test_too_short_code_names_its_length() -> None:
    with pytest.raises(InvalidUSCC) as err:
        USCC.parse("91110108MA01K3P20")
    assert err.value.message == "统一社会信用代码应为18位，实为17位"
    assert err.value.code == "invalid_uscc"


def test_forbidden_letter_names_its_position() -> None:
    with pytest.raises(InvalidUSCC) as err:
        USCC.parse("9111I108MA01K3P20A")
    assert err.value.message == "统一社会信用代码第5位“I”不是有效字符"
    assert err.value.detail["position"] == 5
    assert err.value.detail["character"] == "I"


def test_a_wrong_check_character_says_the_code_is_wrong_without_naming_a_position() -> None:
    with pytest.raises(InvalidUSCC) as err:
        USCC.parse("91110108MA01K3P20B")
    assert err.value.message == "统一社会信用代码校验未通过：其中有字符输错或相邻两位颠倒，请逐位核对"
    assert err.value.detail == {"reason": "check_failed"}
    assert check_failed(err.value)


def test_a_typo_in_the_middle_is_blamed_on_no_position() -> None:
    good = "91110108MA01K3P20A"
    typo = good[:10] + ("1" if good[10] != "1" else "2") + good[11:]  # the 11th character
    with pytest.raises(InvalidUSCC) as err:
        USCC.parse(typo)
    assert "第" not in err.value.message and "应为" not in err.value.message
    assert good in near_misses(typo)


@settings(deadline=None)  # no test asserts on timing (a loaded CI machine took 410 ms for one example)
@given(st.integers(min_value=0, max_value=10**8 - 1), st.integers(min_value=0, max_value=16), st.data())
def test_the_code_meant_is_among_the_near_misses_of_any_single_typo(
    seq: int, at: int, data: st.DataObject
) -> None:
    good = make_uscc("120116", f"{seq:08d}").value
    other = data.draw(st.sampled_from([c for c in ALPHABET if c != good[at]]))
    typo = good[:at] + other + good[at + 1 :]
    swapped = good[:at] + good[at + 1] + good[at] + good[at + 2 :]
    for wrong in (typo, swapped):
        try:
            USCC.parse(wrong)
        except InvalidUSCC as err:
            if check_failed(err):
                assert good in near_misses(wrong)
    for candidate in near_misses(typo):
        assert USCC.parse(candidate).value == candidate
        assert sum(a != b for a, b in zip(candidate, typo, strict=True)) in (1, 2)


def test_wrong_organisation_check_digit_is_rejected_even_when_final_check_matches() -> None:
    partial = "91110108MA01K3P21"  # org check digit should be 0
    code = partial + stdnum_uscc.calc_check_digit(partial)
    assert stdnum_uscc.is_valid(code)
    with pytest.raises(InvalidUSCC) as err:
        USCC.parse(code)
    assert check_failed(err.value)


def _with_valid_check(partial17: str) -> str:
    return partial17 + stdnum_uscc.calc_check_digit(partial17)


def test_unknown_registration_authority_is_rejected_at_position_1() -> None:
    with pytest.raises(InvalidUSCC) as err:
        USCC.parse(_with_valid_check("B1110108MA01K3P20"))
    assert err.value.detail["position"] == 1


def test_category_must_belong_to_its_authority() -> None:
    with pytest.raises(InvalidUSCC) as err:
        USCC.parse(_with_valid_check("94110108MA01K3P20"))
    assert err.value.detail["position"] == 2
    assert "第2位“4”" in err.value.message


def test_letter_in_region_code_is_rejected() -> None:
    with pytest.raises(InvalidUSCC) as err:
        USCC.parse(_with_valid_check("9111A108MA01K3P20"))
    assert err.value.detail["position"] == 5


def test_unknown_province_is_rejected() -> None:
    with pytest.raises(InvalidUSCC) as err:
        USCC.parse(_with_valid_check("91990108MA01K3P20"))
    assert err.value.detail["position"] == 3
    assert "省级行政区划码" in err.value.message


def test_tianjin_region_must_be_a_known_district_or_the_city() -> None:
    with pytest.raises(InvalidUSCC) as err:
        USCC.parse(_with_valid_check("91120199MA01K3P20"))
    assert "天津市" in err.value.message
    assert make_uscc("120000", "MA01K3P2").region_code == "120000"


@given(regions, bodies, authority_categories)
def test_every_generated_code_parses(region: str, body: str, ac: str) -> None:
    u = make_uscc(region, body, ac)
    assert USCC.parse(u.value) == u
    # stdnum's validate() rejects letter authorities (A, N, Y); its check character still applies.
    assert u.check_character == stdnum_uscc.calc_check_digit(u.value[:17])
    assert u.organisation_code == body + org_check_digit(body)


@given(regions, bodies, st.integers(0, 17), st.sampled_from(ALPHABET + "IOZSV"))
def test_any_single_character_substitution_is_rejected_naming_a_position_or_the_check(
    region: str, body: str, index: int, replacement: str
) -> None:
    valid = make_uscc(region, body).value
    if valid[index] == replacement:
        return
    tampered = valid[:index] + replacement + valid[index + 1 :]
    with pytest.raises(InvalidUSCC) as err:
        USCC.parse(tampered)
    if check_failed(err.value):  # the code is wrong, not at a place: the code meant is offered
        assert valid in near_misses(tampered)
    else:
        assert isinstance(err.value.detail["position"], int)
        assert 1 <= err.value.detail["position"] <= 18


@given(regions, bodies, st.lists(st.sampled_from([" ", "-"]), max_size=4))
def test_lower_case_and_separated_input_normalises(region: str, body: str, seps: list[str]) -> None:
    value = make_uscc(region, body).value
    raw = value.lower()
    for i, sep in enumerate(seps):
        pos = (i + 1) * 4
        raw = raw[:pos] + sep + raw[pos:]
    assert USCC.parse(f" {raw} ").value == value
    assert looks_like_uscc(raw)


def test_make_uscc_rejects_a_bad_body() -> None:
    with pytest.raises(InvalidUSCC):
        make_uscc("120101", "MA01K3P")
    with pytest.raises(InvalidUSCC):
        make_uscc("120101", "MA01K3PI")


def test_search_routing_shapes() -> None:
    assert looks_like_uscc("91110108ma01k3p20a")
    assert not looks_like_uscc("天津某某科技有限公司")
    assert not looks_like_uscc("91110108MA01K3P20")
    assert looks_like_registration_number("120116 00001234 7")
    assert not looks_like_registration_number("91110108MA01K3P20A")


# --- 注册号 -------------------------------------------------------------------------------------


def test_generated_registration_number_validates() -> None:
    number = make_registration_number("120116", 1234)
    assert number.startswith("12011600001234") and len(number) == 15
    assert validate_registration_number(f" {number} ") == number


def test_registration_number_with_wrong_check_digit_names_no_position() -> None:
    number = make_registration_number("120101", 42)
    wrong = number[:6] + str((int(number[6]) + 1) % 10) + number[7:]
    with pytest.raises(InvalidRegistrationNumber) as err:
        validate_registration_number(wrong)
    assert err.value.message == "注册号校验未通过：其中有数字输错或相邻两位颠倒，请逐位核对"
    assert number in registration_near_misses(wrong)
    assert all(validate_registration_number(c) == c for c in registration_near_misses(wrong))


def test_registration_number_of_wrong_length_or_with_letters_is_rejected() -> None:
    with pytest.raises(InvalidRegistrationNumber, match="注册号应为15位，实为14位"):
        validate_registration_number("12011600001234")
    with pytest.raises(InvalidRegistrationNumber, match="第7位“A”不是数字"):
        validate_registration_number("120116A0001234X")


@given(regions, st.integers(0, 10**8 - 1), st.integers(0, 14), st.integers(1, 9))
def test_any_single_digit_change_of_a_registration_number_is_rejected(
    region: str, seq: int, index: int, delta: int
) -> None:
    number = make_registration_number(region, seq)
    tampered = number[:index] + str((int(number[index]) + delta) % 10) + number[index + 1 :]
    with pytest.raises(InvalidRegistrationNumber):
        validate_registration_number(tampered)


def test_every_spelling_of_an_entitys_code_has_one_partition_key() -> None:
    code = make_uscc("120116", "MA05XK2B").value
    spelled = [code, code.lower(), f" {code[:8]} {code[8:]} ", f"{code[:8]}-{code[8:]}", f"{code}\n"]
    assert {partition_key(s) for s in spelled} == {code}


def test_a_code_that_does_not_validate_still_gets_a_key() -> None:
    assert partition_key(" 9112 0116-not valid ") == "91120116NOTVALID"
