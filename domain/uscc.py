"""统一社会信用代码 (USCC, GB 32100-2015) and the older 15-digit 注册号.

A USCC is 18 characters: registration authority (1), category (2), administrative
division (3–8), organisation code (9–17, GB 11714, its 9th character a check digit) and
the GB 32100 check character (18).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType

from stdnum.cn import uscc as _stdnum_uscc
from stdnum.iso7064 import mod_11_10

from domain.errors import InvalidRegistrationNumber, InvalidUSCC

__all__ = [
    "ALPHABET",
    "AUTHORITY_CATEGORIES",
    "AUTHORITY_NAMES",
    "CHECK_VALUES",
    "CHECK_WEIGHTS",
    "PROVINCE_CODES",
    "TIANJIN_DISTRICTS",
    "USCC",
    "district_name",
    "is_valid_uscc",
    "looks_like_registration_number",
    "looks_like_uscc",
    "make_registration_number",
    "make_uscc",
    "org_check_digit",
    "partition_key",
    "validate_registration_number",
]

#: Characters a USCC may contain (digits and upper-case letters except I, O, Z, S, V).
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_ALLOWED = frozenset(ALPHABET)
_ORG_VALUES = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"  # GB 11714: A=10 … Z=35
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)

#: GB 32100-2015 table: registration authority → {category: meaning}.
AUTHORITY_CATEGORIES: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "1": {"1": "机关", "2": "事业单位", "3": "中央编办直接管理机构编制的群众团体", "9": "其他"},
        "2": {"1": "外国常驻新闻机构", "9": "其他"},
        "3": {
            "1": "律师执业机构",
            "2": "公证处",
            "3": "基层法律服务所",
            "4": "司法鉴定机构",
            "5": "仲裁委员会",
            "9": "其他",
        },
        "4": {"1": "外国在华文化中心", "9": "其他"},
        "5": {"1": "社会团体", "2": "民办非企业单位", "3": "基金会", "9": "其他"},
        "6": {
            "1": "外国旅游部门常驻代表机构",
            "2": "港澳台地区旅游部门常驻内地（大陆）代表机构",
            "9": "其他",
        },
        "7": {"1": "宗教活动场所", "2": "宗教院校", "9": "其他"},
        "8": {"1": "基层工会", "9": "其他"},
        "9": {"1": "企业", "2": "个体工商户", "3": "农民专业合作社"},
        "A": {"1": "军队事业单位", "9": "其他"},
        "N": {"1": "组级集体经济组织", "2": "村级集体经济组织", "3": "乡镇级集体经济组织", "9": "其他"},
        "Y": {"1": "其他"},
    }
)

AUTHORITY_NAMES: Mapping[str, str] = MappingProxyType(
    {
        "1": "机构编制",
        "2": "外交",
        "3": "司法行政",
        "4": "文化",
        "5": "民政",
        "6": "旅游",
        "7": "宗教",
        "8": "工会",
        "9": "工商（市场监管）",
        "A": "中央军委改革和编制办公室",
        "N": "农业",
        "Y": "其他",
    }
)

#: Province-level codes (GB/T 2260), first two digits of an administrative division code.
PROVINCE_CODES: frozenset[str] = frozenset(
    str(n)
    for n in (
        *range(11, 16),
        *range(21, 24),
        *range(31, 38),
        *range(41, 47),
        *range(50, 55),
        *range(61, 66),
        71,
        81,
        82,
    )
)
_TIANJIN_CITY = "120000"


def _load_tianjin_districts() -> Mapping[str, tuple[str, str]]:
    text = resources.files("domain").joinpath("data/tianjin-districts.csv").read_text(encoding="utf-8")
    rows = csv.DictReader(io.StringIO(text))
    return MappingProxyType({r["code"].strip(): (r["name"].strip(), r["pinyin"].strip()) for r in rows})


#: Tianjin district code → (name, pinyin).
TIANJIN_DISTRICTS: Mapping[str, tuple[str, str]] = _load_tianjin_districts()


def district_name(region_code: str) -> str | None:
    """The Tianjin district's name for a 6-digit code, or None."""
    entry = TIANJIN_DISTRICTS.get(region_code)
    return entry[0] if entry else None


def _normalise(raw: str) -> str:
    return re.sub(r"[\s\-]", "", raw).upper()


def org_check_digit(body: str) -> str:
    """GB 11714 check digit of an 8-character organisation code body."""
    total = sum(_ORG_VALUES.index(c) * w for c, w in zip(body, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return "X" if check == 10 else "0" if check == 11 else str(check)


def _fail(
    message: str, position: int | None = None, character: str | None = None, expected: str | None = None
) -> InvalidUSCC:
    return InvalidUSCC(message, position=position, character=character, expected=expected)


#: GB 32100's weights of the first 17 characters for the check character.
CHECK_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
#: A character's value in the check sums (GB 32100: the alphabet's order; GB 11714: A = 10 …).
CHECK_VALUES: Mapping[str, int] = MappingProxyType({c: i for i, c in enumerate(ALPHABET)})
_ORG_VALUE = {c: i for i, c in enumerate(_ORG_VALUES)}


def is_valid_uscc(value: str) -> bool:
    """Whether an already normalised value is a valid USCC: what `USCC.parse` accepts, as a
    boolean without building a message (the matcher tries dozens of near codes per row)."""
    if len(value) != 18:
        return False
    values = CHECK_VALUES
    if any(c not in values for c in value):
        return False
    allowed = AUTHORITY_CATEGORIES.get(value[0])
    if allowed is None or value[1] not in allowed:
        return False
    region = value[2:8]
    if not region.isdigit():
        return False
    if region != "100000" and region[:2] not in PROVINCE_CODES:
        return False
    if region[:2] == "12" and region != _TIANJIN_CITY and region not in TIANJIN_DISTRICTS:
        return False
    org = 11 - sum(_ORG_VALUE[c] * w for c, w in zip(value[8:16], _ORG_WEIGHTS, strict=True)) % 11
    if value[16] != ("X" if org == 10 else "0" if org == 11 else str(org)):
        return False
    total = sum(values[c] * w for c, w in zip(value[:17], CHECK_WEIGHTS, strict=True))
    return value[17] == ALPHABET[(31 - total) % 31]


def _check(value: str) -> None:
    """Raise InvalidUSCC naming the first wrong character of a normalised value."""
    if len(value) != 18:
        raise _fail(f"统一社会信用代码应为18位，实为{len(value)}位")
    for i, c in enumerate(value, start=1):
        if c not in _ALLOWED:
            raise _fail(f"统一社会信用代码第{i}位“{c}”不是有效字符", i, c)
    authority, category = value[0], value[1]
    if authority not in AUTHORITY_CATEGORIES:
        raise _fail(
            f"统一社会信用代码第1位“{authority}”不是有效的登记管理部门代码",
            1,
            authority,
            "".join(AUTHORITY_CATEGORIES),
        )
    allowed = AUTHORITY_CATEGORIES[authority]
    if category not in allowed:
        raise _fail(
            f"统一社会信用代码第2位“{category}”不是登记管理部门“{authority}”下有效的机构类别代码",
            2,
            category,
            "".join(allowed),
        )
    for i in range(3, 9):
        c = value[i - 1]
        if not c.isdigit():
            raise _fail(f"统一社会信用代码第{i}位“{c}”应为数字（行政区划码）", i, c, "0-9")
    region = value[2:8]
    if region != "100000" and region[:2] not in PROVINCE_CODES:
        raise _fail(f"统一社会信用代码第3—4位“{region[:2]}”不是有效的省级行政区划码", 3, region[:2])
    if region[:2] == "12" and region != _TIANJIN_CITY and region not in TIANJIN_DISTRICTS:
        raise _fail(f"统一社会信用代码第3—8位“{region}”不是天津市的有效行政区划码", 3, region)
    # A check character that does not match says the code is wrong, not where: one mistyped
    # character anywhere (or two swapped) changes what the check should be, so naming the check's
    # position, or the value it "should" have, sends a person further wrong.
    if value[16] != org_check_digit(value[8:16]) or value[17] != _stdnum_uscc.calc_check_digit(value[:17]):
        raise InvalidUSCC(
            "统一社会信用代码校验未通过：其中有字符输错或相邻两位颠倒，请逐位核对", reason="check_failed"
        )


def check_failed(err: InvalidUSCC | InvalidRegistrationNumber) -> bool:
    """Whether `err` is a failed check character (rather than a length, a character or a code
    that is wrong where it stands)."""
    return err.detail.get("reason") == "check_failed"


def _one_typo_away(value: str, alphabet: str) -> Iterator[str]:
    """Every string one substitution (from `alphabet`) or one swap of two adjacent characters
    away from `value`, each once."""
    seen = {value}
    for i, c in enumerate(value):
        for other in alphabet:
            if other != c:
                candidate = value[:i] + other + value[i + 1 :]
                if candidate not in seen:
                    seen.add(candidate)
                    yield candidate
    for i in range(len(value) - 1):
        candidate = value[:i] + value[i + 1] + value[i] + value[i + 2 :]
        if candidate not in seen:
            seen.add(candidate)
            yield candidate


def near_misses(raw: str) -> list[str]:
    """The valid USCCs one mistyped character or one swap of adjacent characters away from
    `raw` (which failed its check), in order: the places a person may have meant."""
    value = _normalise(raw)
    if len(value) != 18:
        return []
    return [candidate for candidate in _one_typo_away(value, ALPHABET) if is_valid_uscc(candidate)]


def registration_near_misses(raw: str) -> list[str]:
    """The same for a 15-digit registration number."""
    value = _normalise(raw)
    if len(value) != 15 or not value.isdigit():
        return []
    found = []
    for candidate in _one_typo_away(value, "0123456789"):
        try:
            validate_registration_number(candidate)
        except InvalidRegistrationNumber:
            continue
        found.append(candidate)
    return found


@dataclass(frozen=True, slots=True)
class USCC:
    """A validated 统一社会信用代码. Build it with `USCC.parse`."""

    value: str

    @classmethod
    def parse(cls, raw: str) -> USCC:
        """Normalise (strip, drop spaces/hyphens, upper-case) and validate."""
        value = _normalise(raw)
        _check(value)
        return cls(value)

    @property
    def registration_authority(self) -> str:
        return self.value[0]

    @property
    def category(self) -> str:
        return self.value[1]

    @property
    def region_code(self) -> str:
        return self.value[2:8]

    @property
    def organisation_code(self) -> str:
        return self.value[8:17]

    @property
    def check_character(self) -> str:
        return self.value[17]

    @property
    def district_name(self) -> str | None:
        return district_name(self.region_code)

    def __str__(self) -> str:
        return self.value


def make_uscc(region_code: str, org_body: str, authority_category: str = "91") -> USCC:
    """Build a valid USCC from a 6-digit region code and an 8-character org-code body."""
    body = _normalise(org_body)
    if len(body) != 8 or len(region_code) != 6 or len(authority_category) != 2:
        raise InvalidUSCC("生成统一社会信用代码需要2位类别、6位行政区划码和8位组织机构代码本体")
    if any(c not in _ALLOWED for c in body):
        raise InvalidUSCC(f"组织机构代码本体“{body}”含有无效字符")
    partial = authority_category + region_code + body + org_check_digit(body)
    return USCC.parse(partial + _stdnum_uscc.calc_check_digit(partial))


def partition_key(raw: str) -> str:
    """The message key of a publication about the entity `raw` names, on the publication log
    (Kafka): the code as `USCC.parse` normalises it — spaces and hyphens dropped, upper case — so
    that every spelling of one entity's code lands in one partition and keeps its order. Also
    for a code that does not validate (that publication is dead-lettered, but still keyed)."""
    return _normalise(raw)


def looks_like_uscc(raw: str) -> bool:
    """Shape only (18 allowed characters after normalising), for search routing."""
    value = _normalise(raw)
    return len(value) == 18 and all(c in _ALLOWED for c in value)


# --- 注册号 (15 digits, ISO 7064 MOD 11,10) ---------------------------------------------


def validate_registration_number(raw: str) -> str:
    """Normalise and validate a 15-digit 注册号; raise InvalidRegistrationNumber."""
    value = _normalise(raw)
    if len(value) != 15:
        raise InvalidRegistrationNumber(f"注册号应为15位，实为{len(value)}位", position=None)
    for i, c in enumerate(value, start=1):
        if not c.isdigit():
            raise InvalidRegistrationNumber(f"注册号第{i}位“{c}”不是数字", position=i, character=c)
    if value[:2] != "10" and value[:2] not in PROVINCE_CODES:
        raise InvalidRegistrationNumber(
            f"注册号第1—2位“{value[:2]}”不是有效的省级行政区划码", position=1, character=value[:2]
        )
    if value[14] != mod_11_10.calc_check_digit(value[:14]):
        raise InvalidRegistrationNumber(
            "注册号校验未通过：其中有数字输错或相邻两位颠倒，请逐位核对", reason="check_failed"
        )
    return value


def make_registration_number(region_code: str, seq: int) -> str:
    """6-digit region code + 8-digit zero-padded sequence + ISO 7064 MOD 11,10 check digit."""
    if not (len(region_code) == 6 and region_code.isdigit()) or not 0 <= seq < 10**8:
        raise ValueError("注册号需要6位行政区划码和0至99999999之间的顺序号")
    head = f"{region_code}{seq:08d}"
    return validate_registration_number(head + mod_11_10.calc_check_digit(head))


def looks_like_registration_number(raw: str) -> bool:
    """Shape only (15 digits after normalising), for search routing."""
    value = _normalise(raw)
    return len(value) == 15 and value.isdigit()
