"""De-identification of natural persons in public views."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.identity import make_resident_id
from domain.masking import (
    contains_unmasked_resident_id,
    mask_address,
    mask_id_number,
    mask_person,
    mask_phone,
)

resident_ids = st.builds(
    make_resident_id,
    st.sampled_from(["120101", "120116", "110101", "310115"]),
    st.dates(min_value=date(1920, 1, 1), max_value=date(2020, 12, 31)),
    st.integers(0, 498),
    st.sampled_from(["M", "F"]),
)


def test_resident_id_keeps_first_and_last_four() -> None:
    assert mask_id_number("110101199003071234") == "1101**********1234"


def test_short_id_keeps_only_last_two() -> None:
    assert mask_id_number("E1234567") == "******67"


@given(resident_ids)
def test_masked_id_never_contains_the_middle_digits(number: str) -> None:
    masked = mask_id_number(number)
    assert len(masked) == len(number)
    assert number[4:14] not in masked
    assert masked[4:14] == "*" * 10
    assert not contains_unmasked_resident_id(masked)
    assert contains_unmasked_resident_id(f"法定代表人身份证号：{number}。")


def test_detector_ignores_numbers_with_a_wrong_check_digit_or_inside_longer_digit_runs() -> None:
    number = make_resident_id("120101", date(1990, 3, 7), 5, "M")
    wrong = "0" if number[-1] != "0" else "1"
    assert not contains_unmasked_resident_id(number[:-1] + wrong)
    assert not contains_unmasked_resident_id("9" + number + "9")
    assert contains_unmasked_resident_id(f'{{"id_number": "{number}"}}')


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("13812345678", "138****5678"),
        ("138 1234 5678", "138****5678"),
        ("+8613812345678", "138****5678"),
        ("022-23456789", "022-****6789"),
        ("0755-1234567", "0755-****4567"),
        ("400-123", "****0123"),
        ("110", "****"),
        ("95588123", "****8123"),
    ],
)
def test_phone_numbers_are_masked(phone: str, masked: str) -> None:
    assert mask_phone(phone) == masked


@given(st.integers(10**9, 10**10 - 1))
def test_masked_mobile_never_shows_the_middle_digits(tail: int) -> None:
    mobile = f"1{tail}"
    assert mask_phone(mobile) == mobile[:3] + "****" + mobile[-4:]


@pytest.mark.parametrize(
    ("address", "masked"),
    [
        ("天津市河西区友谊路35号", "天津市河西区****"),
        ("天津市滨海新区经济技术开发区第三大街51号", "天津市滨海新区****"),
        ("河北省三河市燕郊镇迎宾路100号", "河北省三河市****"),
        ("内蒙古自治区呼和浩特市新城区新华大街1号", "内蒙古自治区呼和浩特市新城区****"),
        ("湖北省长阳土家族自治县龙舟坪镇1号", "湖北省长阳土家族自治县****"),
        ("友谊路35号院小区3号楼", "友谊路****"),
        ("天津市河西区", "天津市河西区"),
    ],
)
def test_addresses_keep_only_the_district(address: str, masked: str) -> None:
    assert mask_address(address) == masked


def test_person_is_masked_but_keeps_name_and_id_type() -> None:
    person = {
        "name": "张三",
        "id_type": "resident_id",
        "id_number": "110101199003071234",
        "phone": "13812345678",
        "address": "天津市南开区鞍山西道100号",
    }
    assert mask_person(person) == {
        "name": "张三",
        "id_type": "resident_id",
        "id_number": "1101**********1234",
        "phone": "138****5678",
        "address": "天津市南开区****",
    }
    assert person["id_number"] == "110101199003071234"


def test_person_without_optional_fields_is_left_alone() -> None:
    assert mask_person({"name": "李四", "id_number": "P1234567", "phone": None}) == {
        "name": "李四",
        "id_number": "******67",
        "phone": None,
    }
