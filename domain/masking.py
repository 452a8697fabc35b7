"""De-identification of natural persons' data in public views."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from stdnum.cn import ric as _stdnum_ric

from domain.personal_data import ERASED

__all__ = [
    "contains_unmasked_resident_id",
    "mask_address",
    "mask_id_number",
    "mask_person",
    "mask_phone",
]

MASK = "****"

_MOBILE = re.compile(r"^(?:\+?86)?(1\d{10})$")
_LANDLINE = re.compile(r"^\(?(0\d{2,3})\)?[-\s]?(\d{7,8})(?:[-转]\d{1,6})?$")
# The prefix up to and including the first district/county-level unit, without digits
# (so a street number never survives); 自治区 is province level and does not count.
_DISTRICT = re.compile(r"^[^\d０-９]{1,24}?(?:(?<!自治)区|县|旗)")
_RESIDENT_ID = re.compile(r"(?<![0-9])([0-9]{17}[0-9Xx])(?![0-9])")


def mask_id_number(value: str) -> str:
    """Keep the first 4 and last 4 characters (short values: only the last 2); an erased number
    stays 已删除."""
    value = value.strip()
    if value == ERASED:
        return value
    if len(value) < 9:
        return "*" * max(len(value) - 2, 0) + value[-2:]
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_phone(value: str) -> str:
    """`13812345678` → `138****5678`; `022-23456789` → `022-****6789`; else keep last 4."""
    value = value.strip()
    if value == ERASED:
        return value
    compact = re.sub(r"[\s\-]", "", value)
    mobile = _MOBILE.match(compact)
    if mobile:
        number = mobile.group(1)
        return number[:3] + MASK + number[-4:]
    landline = _LANDLINE.match(value)
    if landline:
        return f"{landline.group(1)}-{MASK}{landline.group(2)[-4:]}"
    if len(compact) <= 4:
        return MASK
    return MASK + compact[-4:]


def mask_address(value: str) -> str:
    """Keep up to the district/county (…市…区/县), else the first 6 characters before any digit."""
    value = value.strip()
    if value == ERASED:
        return value
    match = _DISTRICT.match(value)
    if match:
        kept = match.group(0)
    else:
        kept = re.split(r"[\d０-９]", value[: min(6, len(value) // 2)], maxsplit=1)[0]
    return kept + MASK if len(kept) < len(value) else kept


def mask_person(person: Mapping[str, Any]) -> dict[str, Any]:
    """A copy with `id_number`, `phone` and `address` masked; other keys kept."""
    masked = dict(person)
    for key, fn in (("id_number", mask_id_number), ("phone", mask_phone), ("address", mask_address)):
        value = masked.get(key)
        if isinstance(value, str) and value:
            masked[key] = fn(value)
    return masked


def contains_unmasked_resident_id(text: str) -> bool:
    """True if the text holds an 18-character resident id with a valid check digit."""
    for match in _RESIDENT_ID.finditer(text):
        candidate = match.group(1).upper()
        if 1 <= int(candidate[10:12]) <= 12 and candidate[-1] == _stdnum_ric.calc_check_digit(candidate):
            return True
    return False
