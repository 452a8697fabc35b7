"""Resident identity numbers: validation and generation."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import ric

from domain.errors import InvalidIdentityNumber
from domain.identity import birth_date_of, make_resident_id, validate_resident_id

regions = st.sampled_from(["120101", "120116", "110101", "360426", "440305"])
births = st.dates(min_value=date(1900, 1, 1), max_value=date(2025, 12, 31))
sexes = st.sampled_from(["M", "F"])


def test_known_valid_number_validates() -> None:
    assert validate_resident_id("360426199101010071") == "360426199101010071"


def test_lower_case_x_and_surrounding_spaces_are_normalised() -> None:
    number = next(
        make_resident_id("120101", date(1990, 3, 7), s, "M")
        for s in range(499)
        if make_resident_id("120101", date(1990, 3, 7), s, "M").endswith("X")
    )
    assert validate_resident_id(f"  {number.lower()} ") == number


def test_wrong_length_is_named() -> None:
    with pytest.raises(InvalidIdentityNumber, match="居民身份证号码应为18位，实为17位"):
        validate_resident_id("36042619910101007")


def test_impossible_birth_date_is_named() -> None:
    with pytest.raises(InvalidIdentityNumber, match="出生日期“19910230”无效") as err:
        validate_resident_id("360426199102300071")
    assert err.value.code == "invalid_identity_number"


def test_wrong_check_digit_names_expected_and_actual() -> None:
    with pytest.raises(InvalidIdentityNumber) as err:
        validate_resident_id("360426199101010072")
    assert err.value.message == "居民身份证号码第18位校验码错误：应为“1”，实为“2”"
    assert err.value.detail["position"] == 18


def test_letter_inside_the_number_is_named() -> None:
    with pytest.raises(InvalidIdentityNumber, match="第5位“A”不是数字"):
        validate_resident_id("3604A6199101010071")


def test_unknown_province_is_rejected() -> None:
    head = "990426199101010"
    number = head + "07" + ric.calc_check_digit(head + "070")
    with pytest.raises(InvalidIdentityNumber, match="省级行政区划码"):
        validate_resident_id(number)


@given(regions, births, st.integers(0, 498), sexes)
def test_every_generated_number_validates_and_carries_birth_and_sex(
    region: str, birth: date, seq: int, sex: str
) -> None:
    number = make_resident_id(region, birth, seq, sex)  # type: ignore[arg-type]
    assert validate_resident_id(number) == number
    assert birth_date_of(number) == birth
    assert number.startswith(region)
    assert (int(number[16]) % 2 == 1) == (sex == "M")


def test_distinct_sequences_give_distinct_numbers() -> None:
    born = date(1988, 8, 8)
    numbers = {make_resident_id("120104", born, s, "F") for s in range(499)}
    assert len(numbers) == 499


@given(regions, births, st.integers(0, 498), sexes, st.integers(0, 16), st.integers(1, 9))
def test_any_single_digit_change_is_rejected(
    region: str, birth: date, seq: int, sex: str, index: int, delta: int
) -> None:
    number = make_resident_id(region, birth, seq, sex)  # type: ignore[arg-type]
    tampered = number[:index] + str((int(number[index]) + delta) % 10) + number[index + 1 :]
    with pytest.raises(InvalidIdentityNumber):
        validate_resident_id(tampered)
