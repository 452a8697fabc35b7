"""居民身份证号码 (GB 11643-1999): validation and generation."""

from __future__ import annotations

from datetime import date
from typing import Literal

from stdnum.cn import ric as _stdnum_ric

from domain.errors import InvalidIdentityNumber
from domain.uscc import PROVINCE_CODES

__all__ = ["birth_date_of", "make_resident_id", "validate_resident_id"]

# 83: residence permits of Taiwan residents.
_PROVINCES = PROVINCE_CODES | {"83"}


def _normalise(raw: str) -> str:
    return "".join(raw.split()).upper()


def _birth_date(value: str) -> date | None:
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return None
    return born if born.year >= 1800 else None


def validate_resident_id(raw: str) -> str:
    """Normalise and validate an 18-digit resident id; raise InvalidIdentityNumber."""
    value = _normalise(raw)
    if len(value) != 18:
        raise InvalidIdentityNumber(f"居民身份证号码应为18位，实为{len(value)}位", position=None)
    for i, c in enumerate(value[:17], start=1):
        if not c.isdigit():
            raise InvalidIdentityNumber(f"居民身份证号码第{i}位“{c}”不是数字", position=i, character=c)
    if not (value[17].isdigit() or value[17] == "X"):
        raise InvalidIdentityNumber(
            f"居民身份证号码第18位“{value[17]}”应为数字或X", position=18, character=value[17]
        )
    if value[:2] not in _PROVINCES:
        raise InvalidIdentityNumber(
            f"居民身份证号码第1—2位“{value[:2]}”不是有效的省级行政区划码", position=1, character=value[:2]
        )
    if _birth_date(value) is None:
        raise InvalidIdentityNumber(
            f"居民身份证号码第7—14位出生日期“{value[6:14]}”无效", position=7, character=value[6:14]
        )
    expected = _stdnum_ric.calc_check_digit(value)
    if value[17] != expected:
        raise InvalidIdentityNumber(
            f"居民身份证号码第18位校验码错误：应为“{expected}”，实为“{value[17]}”",
            position=18,
            character=value[17],
            expected=expected,
        )
    return value


def birth_date_of(resident_id: str) -> date:
    """The birth date of a validated resident id."""
    born = _birth_date(validate_resident_id(resident_id))
    assert born is not None
    return born


def make_resident_id(region_code: str, birth: date, seq: int, sex: Literal["M", "F"]) -> str:
    """Build a valid resident id; `seq` 0–498 gives distinct order codes (odd M, even F)."""
    if not (len(region_code) == 6 and region_code.isdigit()) or seq < 0:
        raise ValueError("生成居民身份证号码需要6位行政区划码和非负顺序号")
    order = (seq % 499) * 2 + (1 if sex == "M" else 2)
    head = f"{region_code}{birth:%Y%m%d}{order:03d}"
    return validate_resident_id(head + _stdnum_ric.calc_check_digit(head + "0"))
