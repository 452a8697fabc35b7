"""Matching an agency's list against the register: a row (name, USCC, registration number, legal
representative, address — any of them) against candidate entities, scored in [0, 1] with the
features that scored, and a decision: `match`, `possible` or `none`.

How a name is compared (the forms of `forms`, plus what lists get wrong):

- `canonical` — traditional folded to simplified, full-width to half-width, the legal forms of
  limited companies written one way (有限责任公司 = 股份有限公司 = 有限公司);
- `stem` — the canonical name without its legal form (有限公司, (有限合伙), a final 公司) but
  keeping 分公司: a branch office is an entity of its own, never its parent;
- `bare` — the stem without a leading place (天津市, 天津, a district's name with or without its
  区) or a parenthesised one ((天津)): lists add and drop these freely;
- pinyin — a row typed in pinyin is compared with each name's full pinyin and initials;
- fuzzy — rapidfuzz's ratio of the bare forms: a typo. Chinese enterprise names are short, so
  one character different is as often another firm as a typo: fuzzy alone never makes a match.

A USCC or registration number found exactly is decisive unless the row's name contradicts it;
a USCC one character off (a substitution or two neighbours swapped that still passes both check
characters) only corroborates a name. The legal representative and the address move a score a
little either way; a representative's name alone never finds anyone (one person represents
several firms).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

from rapidfuzz import fuzz

from domain.errors import InvalidUSCC
from domain.names.forms import canonical, has_cjk, simplified
from domain.names.pinyin import full_pinyin, initials
from domain.uscc import ALPHABET, CHECK_VALUES, CHECK_WEIGHTS, TIANJIN_DISTRICTS, USCC, is_valid_uscc

__all__ = [
    "MATCH_AT",
    "POSSIBLE_AT",
    "Candidate",
    "Feature",
    "MatchRow",
    "Matched",
    "NameForms",
    "decide",
    "name_forms",
    "score",
    "uscc_neighbours",
]

Decision = Literal["match", "possible", "none"]

MATCH_AT = 0.90
POSSIBLE_AT = 0.65
#: A runner-up this close to the best makes the row ambiguous (possible, not match).
AMBIGUOUS_WITHIN = 0.05
MAX_CANDIDATES = 5
#: A name one character away: a typo or another firm; a legal representative or address that
#: agrees makes it `possible`.
WEAK = 0.55
#: What an agreeing legal representative adds: more for a weak name than for a strong one.
REP_AGREES = 0.05
REP_AGREES_WEAK = 0.12

_LEGAL_FORMS = ("(有限合伙)", "(普通合伙)", "(特殊普通合伙)", "有限合伙", "有限公司")
_PLACE_PREFIXES: tuple[str, ...] = tuple(
    sorted(
        {
            "天津市",
            "天津",
            *(name for name, _ in TIANJIN_DISTRICTS.values()),
            *(name.removesuffix("新区").removesuffix("区") for name, _ in TIANJIN_DISTRICTS.values()),
        },
        key=len,
        reverse=True,
    )
)
_DISTRICT_OF: dict[str, str] = {
    short: full
    for full, _ in TIANJIN_DISTRICTS.values()
    for short in (full, full.removesuffix("新区").removesuffix("区"))
}
_PARENS_PLACE = re.compile(r"\((?:天津市?|" + "|".join(n for n, _ in TIANJIN_DISTRICTS.values()) + r")\)")
#: What sets a candidate apart from an equally scored runner-up (which lacks it).
_DECISIVE = frozenset({"uscc_exact", "registration_number", "name_exact", "name_folded"})


@dataclass(frozen=True, slots=True)
class NameForms:
    written: str
    folded: str  # traditional → simplified, full-width → half-width, no spaces, legal form as written
    canonical: str
    stem: str
    bare: str
    places: tuple[tuple[str, str], ...]  # (place dropped, what is left) for each way to drop one
    branch: bool


def _place_variants(stem: str) -> tuple[tuple[str, str], ...]:
    """Each way to take up to two leading places (the city, then a district) off a stem, with the
    place taken off (`天津`, `滨海新区` …, "" for none); what is left keeps at least 3 characters."""
    out: dict[tuple[str, str], None] = {("", stem): None}
    frontier = [("", stem)]
    for _ in range(2):
        nxt = []
        for place, rest in frontier:
            prefix = next((p for p in _PLACE_PREFIXES if rest.startswith(p)), None)  # the longest
            if prefix is None or len(rest) - len(prefix) < 3:
                continue
            dropped = _place_of(prefix)
            item = (dropped if dropped != "天津" or not place else place, rest[len(prefix) :])
            if item not in out:
                out[item] = None
                nxt.append(item)
        frontier = nxt
    return tuple(out)


def _place_of(prefix: str) -> str:
    """`天津市`/`天津` → 天津; a district's short name → its full name."""
    if prefix in ("天津市", "天津"):
        return "天津"
    return _DISTRICT_OF.get(prefix, prefix)


def places_compatible(a: str, b: str) -> bool:
    """Two places a name may carry are compatible when equal, when one is missing, or when one is
    the city (every district is in it)."""
    return a == b or not a or not b or "天津" in (a, b)


@lru_cache(maxsize=200_000)
def name_forms(name: str) -> NameForms:
    compact = "".join(name.split()) if has_cjk(name) else name
    folded = unicodedata.normalize("NFKC", simplified(compact)).casefold()
    c = canonical(compact)
    stem = c
    for form in _LEGAL_FORMS:
        stem = stem.replace(form, "")
    if stem.endswith("公司") and not stem.endswith("分公司"):
        stem = stem.removesuffix("公司")
    unparenthesised = _PARENS_PLACE.sub("", stem)
    places = _place_variants(unparenthesised)
    if unparenthesised != stem:
        places = (("天津", unparenthesised), *places) if len(unparenthesised) >= 3 else places
    bare = min((rest for _, rest in places), key=len)
    return NameForms(
        written=name,
        folded=folded,
        canonical=c,
        stem=stem,
        bare=bare,
        places=places,
        branch="分公司" in c or c.endswith("分店"),
    )


@lru_cache(maxsize=100_000)
def name_pinyin(name: str) -> tuple[frozenset[str], str]:
    """A registered name's full pinyin (of its stem, and of the stem without each place it may
    drop) and the stem's initials: what a row typed in pinyin is compared with (computed only
    for such rows)."""
    forms = name_forms(name)
    if not has_cjk(forms.stem):
        return frozenset(), ""
    spelled = frozenset(
        {full_pinyin(forms.stem), *(full_pinyin(rest) for _, rest in forms.places if has_cjk(rest))}
    )
    return spelled, initials(forms.stem)


def same_but_place(a: NameForms, b: NameForms) -> bool:
    """The same name once a leading place is dropped on one side or both (and the places dropped
    do not contradict each other: 滨海新区张记 is not 静海区张记)."""
    return any(
        rest_a == rest_b and places_compatible(place_a, place_b)
        for place_a, rest_a in a.places
        for place_b, rest_b in b.places
        if (place_a or place_b)
    )


#: Legal forms as typed in pinyin, longest first: a pinyin row is compared without them.
_PINYIN_LEGAL_FORMS = (
    "gufenyouxiangongsi",
    "youxianzerengongsi",
    "youxiangongsi",
    "youxianhehuo",
    "putonghehuo",
    "gongsi",
)


def pinyin_stem(typed: str) -> str:
    """A name typed in pinyin, lower case, letters and digits only, without its legal forms
    (anywhere: a branch's parent carries one in the middle) but keeping a branch's fengongsi."""
    squeezed = re.sub(r"[^a-z0-9]", "", typed.lower())
    for form in _PINYIN_LEGAL_FORMS[:-1]:
        squeezed = squeezed.replace(form, "")
    if squeezed.endswith("gongsi") and not squeezed.endswith("fengongsi") and len(squeezed) > 9:
        squeezed = squeezed.removesuffix("gongsi")
    return squeezed


def uscc_neighbours(raw: str) -> list[str]:
    """The valid USCCs one character away from `raw` (one substitution, or two neighbours
    swapped) — the candidates for a mistyped code, in position order. Both check characters must
    hold, so few survive (usually one or two).

    The check character settles most of it without trying every character: GB 32100's sum is
    taken modulo 31 (a prime) with weights that are not multiples of it, so a substitution at
    one of the first 17 positions has exactly one character that keeps the check character
    right, and at the 18th only the computed one will do. A character outside the alphabet can
    only be mended where it stands."""
    value = re.sub(r"[\s\-]", "", raw).upper()
    if len(value) != 18:
        return []
    bad = [i for i, c in enumerate(value) if c not in CHECK_VALUES]
    substitutions: list[str] = []
    if len(bad) == 1:
        i = bad[0]
        substitutions = [value[:i] + ch + value[i + 1 :] for ch in ALPHABET]
    elif not bad:
        values = [CHECK_VALUES[c] for c in value]
        total = sum(v * w for v, w in zip(values[:17], CHECK_WEIGHTS, strict=True))
        wanted = (31 - values[17]) % 31  # the sum of the first 17 the check character asks for
        for i in range(17):
            weight = CHECK_WEIGHTS[i]
            rest = (total - values[i] * weight) % 31
            # the one v with (rest + v·weight) ≡ wanted (mod 31)
            v = (wanted - rest) * pow(weight, -1, 31) % 31
            if v != values[i]:
                substitutions.append(value[:i] + ALPHABET[v] + value[i + 1 :])
        check = ALPHABET[(31 - total) % 31]
        if check != value[17]:
            substitutions.append(value[:17] + check)
    swaps = [
        value[:i] + value[i + 1] + value[i] + value[i + 2 :] for i in range(17) if value[i] != value[i + 1]
    ]
    return list(dict.fromkeys(v for v in (*substitutions, *swaps) if is_valid_uscc(v)))


@dataclass(frozen=True)
class MatchRow:
    """One row of an agency's list (any field may be missing)."""

    name: str | None = None
    uscc: str | None = None
    registration_number: str | None = None
    legal_representative: str | None = None
    address: str | None = None

    def clean(self) -> MatchRow:
        def tidy(value: str | None) -> str | None:
            text = " ".join((value or "").split())
            return text or None

        return MatchRow(
            tidy(self.name),
            tidy(self.uscc.upper().replace(" ", "").replace("-", "") if self.uscc else None),
            tidy(self.registration_number.replace(" ", "") if self.registration_number else None),
            tidy(self.legal_representative),
            tidy(self.address),
        )


@dataclass(frozen=True)
class Candidate:
    """What the matcher knows of an entity (from its public document)."""

    uscc: str
    name: str
    former_names: tuple[str, ...] = ()
    registration_number: str | None = None
    representative: str | None = None
    former_representatives: tuple[str, ...] = ()
    address: str | None = None
    status: str | None = None
    flags: tuple[str, ...] = ()

    @classmethod
    def of(cls, doc: dict[str, Any], flags: Iterable[str] = ()) -> Candidate:
        registration = doc.get("registration") or {}
        rep = registration.get("legal_representative") or {}
        former_reps = [
            (ch.get("before") or {}).get("name")
            for c in doc.get("changes") or []
            for ch in c.get("changes", [])
            if ch.get("field") == "legal_representative" and isinstance(ch.get("before"), dict)
        ]
        return cls(
            uscc=doc["uscc"],
            name=doc["name"],
            former_names=tuple(f["name"] for f in doc.get("former_names") or []),
            registration_number=doc.get("registration_number"),
            representative=rep.get("name") if isinstance(rep, dict) else None,
            former_representatives=tuple(n for n in former_reps if n),
            address=registration.get("address"),
            status=doc.get("status"),
            flags=tuple(flags),
        )


@dataclass(frozen=True)
class Feature:
    code: str
    label: str
    value: float

    def public(self) -> dict[str, Any]:
        return {"feature": self.code, "label": self.label, "value": round(self.value, 3)}


@dataclass
class Matched:
    candidate: Candidate
    score: float
    features: list[Feature] = field(default_factory=list)

    def public(self) -> dict[str, Any]:
        return {
            "uscc": self.candidate.uscc,
            "name": self.candidate.name,
            "score": round(self.score, 3),
            "explanation": [f.public() for f in self.features],
            "status": self.candidate.status,
            "flags": list(self.candidate.flags),
        }


def _name_score(row: NameForms, names: Sequence[str], former: bool) -> tuple[float, Feature | None]:
    """The best of the name comparisons against `names`; former names count a little less."""
    best: tuple[float, Feature | None] = (0.0, None)
    damp = 0.95 if former else 1.0
    prefix = "曾用名" if former else "名称"
    code = "former_name" if former else "name"

    def scored(value: float, kind: str, label: str) -> tuple[float, Feature]:
        return value * damp, Feature(f"{code}_{kind}", label, value * damp)

    for name in names:
        c = name_forms(name)
        if row.written == c.written:
            found: tuple[float, Feature | None] = scored(1.0, "exact", f"{prefix}完全一致")
        elif row.folded == c.folded:
            found = scored(0.995, "folded", f"{prefix}一致（繁简、全半角、空格已统一）")
        elif row.canonical == c.canonical:
            found = scored(0.99, "canonical", f"{prefix}一致（组织形式写法不同）")
        elif row.branch != c.branch:
            value = min(0.55, fuzz.ratio(row.bare, c.bare) / 100 * 0.6)
            found = (value, Feature(f"{code}_branch_differs", "一为分公司、一为总公司或其他主体", value))
        elif row.stem == c.stem:
            found = scored(0.96, "legal_form", f"{prefix}相同，组织形式不同或缺省")
        elif same_but_place(row, c):
            found = scored(0.93, "place", f"{prefix}相同，行政区划前缀增减")
        else:
            value, label = _similarity(row.bare, c.bare)
            found = scored(value, "similar", f"{prefix}{label}") if value > 0 else (0.0, None)
        if found[0] > best[0]:
            best = found
    return best


def _similarity(a: str, b: str) -> tuple[float, str]:
    """How close two bare names are when they are not the same name. What differs is what
    counts: the industry words two names share (…商贸, …供应链管理) say nothing, so the common
    beginning and end are set aside and the parts left compared. One character substituted is
    `WEAK` — a typo as often as another firm (汇同/汇通) — and becomes `possible` only with a
    legal representative or address that agrees; a longer differing part close by ratio (a typo
    in a long name) scores by the ratio; a word added or dropped scores nothing."""
    if not a or not b:
        return 0.0, ""
    p = 0
    while p < min(len(a), len(b)) and a[p] == b[p]:
        p += 1
    s = 0
    while s < min(len(a), len(b)) - p and a[-1 - s] == b[-1 - s]:
        s += 1
    da, db = a[p : len(a) - s], b[p : len(b) - s]
    if len(da) == len(db) == 1:
        return WEAK, f"相差一字（“{da}”/“{db}”）"
    if len(da) == len(db) == 2 and da == db[::-1]:
        return WEAK + 0.05, f"两字顺序颠倒（“{da}”/“{db}”）"
    if da and db and min(len(da), len(db)) >= 3:
        ratio = fuzz.ratio(da, db) / 100
        if ratio >= 0.75:
            return min(0.84, 0.66 + (ratio - 0.75)), f"相近（不同部分相似度 {ratio:.2f}）"
    return 0.0, ""


def _pinyin_score(typed: str, names: Sequence[str]) -> tuple[float, Feature | None]:
    stem = pinyin_stem(typed)
    if len(stem) < 4:
        return 0.0, None
    best: tuple[float, Feature | None] = (0.0, None)

    def keep(value: float, feature: Feature) -> None:
        nonlocal best
        if value > best[0]:
            best = (value, feature)

    for i, name in enumerate(names):
        damp = 1.0 if i == 0 else 0.95
        spelled, name_initials = name_pinyin(name)
        if not spelled:
            continue
        if stem in spelled:
            keep(0.92 * damp, Feature("pinyin", "名称拼音一致", 0.92 * damp))
        elif stem == name_initials:
            keep(0.7 * damp, Feature("pinyin_initials", "名称拼音首字母一致", 0.7 * damp))
        else:
            ratio = max(fuzz.ratio(stem, form) for form in spelled) / 100
            if ratio >= 0.85:
                value = (0.66 + (ratio - 0.85)) * damp
                keep(value, Feature("pinyin_similar", f"名称拼音相近（{ratio:.2f}）", value))
    return best


def score(row: MatchRow, candidate: Candidate) -> Matched:
    """How well `candidate` fits `row`, with the features that scored."""
    features: list[Feature] = []
    name_value = 0.0
    if row.name:
        forms = name_forms(row.name)
        if has_cjk(row.name):
            current = _name_score(forms, [candidate.name], former=False)
            former = _name_score(forms, candidate.former_names, former=True)
            name_value, feature = max(current, former, key=lambda b: b[0])
        else:
            name_value, feature = _pinyin_score(row.name, [candidate.name, *candidate.former_names])
        if feature is not None:
            features.append(feature)
    code_value = None
    if row.uscc and row.uscc == candidate.uscc:
        code_value = 1.0
        features.insert(0, Feature("uscc_exact", "统一社会信用代码一致", 1.0))
    elif row.uscc and _one_off(row.uscc, candidate.uscc):
        code_value = 0.7
        features.insert(0, Feature("uscc_one_off", "统一社会信用代码相差一个字符", 0.7))
    elif row.registration_number and row.registration_number == candidate.registration_number:
        code_value = 1.0
        features.insert(0, Feature("registration_number", "注册号一致", 1.0))
    if code_value == 1.0:
        if not row.name or name_value >= MATCH_AT:
            value = 1.0
        elif name_value >= POSSIBLE_AT:
            value = 0.88
            features.append(Feature("name_differs", "名称与代码所指主体略有不同", -0.12))
        else:
            value = 0.8
            features.append(Feature("name_differs", "名称与代码所指主体不符", -0.2))
    elif code_value is not None:  # one character off: corroborates a name, never alone
        value = 0.97 if name_value >= MATCH_AT else (0.85 if name_value >= POSSIBLE_AT else 0.66)
    else:
        value = name_value
        if row.uscc and value > 0:  # a code was given, and it is not this entity's
            value = min(value, 0.85)
            features.append(Feature("uscc_differs", "统一社会信用代码不一致", -0.1))
    if row.legal_representative and value > 0:
        given = canonical(row.legal_representative)
        if candidate.representative and given == canonical(candidate.representative):
            bonus = REP_AGREES_WEAK if value < POSSIBLE_AT else REP_AGREES
            value += bonus
            features.append(Feature("legal_representative", "法定代表人一致", bonus))
        elif any(given == canonical(n) for n in candidate.former_representatives):
            value += 0.03
            features.append(Feature("former_legal_representative", "与曾任法定代表人一致", 0.03))
        elif candidate.representative:
            value -= 0.1
            features.append(Feature("legal_representative_differs", "法定代表人不一致", -0.1))
    if row.address and candidate.address and value > 0:
        closeness = fuzz.partial_ratio(canonical(row.address), canonical(candidate.address)) / 100
        if closeness >= 0.9:
            bonus = 0.1 if value < POSSIBLE_AT else 0.03
            value += bonus
            features.append(Feature("address", "住所一致或相近", bonus))
        elif closeness < 0.6:
            value -= 0.05
            features.append(Feature("address_differs", "住所不一致", -0.05))
    return Matched(candidate, max(0.0, min(1.0, value)), features)


def _one_off(a: str, b: str) -> bool:
    if len(a) != len(b):
        return False
    diffs = [i for i in range(len(a)) if a[i] != b[i]]
    if len(diffs) == 1:
        return True
    return (
        len(diffs) == 2
        and diffs[1] == diffs[0] + 1
        and a[diffs[0]] == b[diffs[1]]
        and a[diffs[1]] == b[diffs[0]]
    )


def _promote_unique_near_name(ranked: list[Matched]) -> None:
    """A name one character away from exactly one entity, and nothing better: `possible` (a typo
    most likely). Two or more such entities (杨记粮油店 / 付记粮油店 / 杜记粮油店) leave it weak."""
    weak = [
        m for m in ranked if m.score >= WEAK - 1e-9 and any(f.code.endswith("_similar") for f in m.features)
    ]
    better = [m for m in ranked if m.score >= POSSIBLE_AT]
    if len(weak) == 1 and not better and weak[0].score < POSSIBLE_AT:
        m = weak[0]
        m.features.append(Feature("unique_near_name", "名称与唯一一个主体仅差一字", POSSIBLE_AT - m.score))
        m.score = POSSIBLE_AT


def decide(row: MatchRow, candidates: Iterable[Candidate]) -> tuple[Decision, list[Matched], list[str]]:
    """The decision for a row, its best candidates (at most 5, best first) and the row's flags."""
    flags: list[str] = []
    if not (row.name or row.uscc or row.registration_number):
        return "none", [], ["no_name_or_code"]
    if row.uscc:
        try:
            USCC.parse(row.uscc)
        except InvalidUSCC:
            flags.append("uscc_invalid")
    ranked = sorted(
        (score(row, c) for c in {c.uscc: c for c in candidates}.values()),
        key=lambda m: (-m.score, m.candidate.status != "存续", m.candidate.uscc),
    )
    ranked = [m for m in ranked if m.score > 0][:MAX_CANDIDATES]
    if row.uscc and not any(m.candidate.uscc == row.uscc for m in ranked):
        flags.append("uscc_not_found")
    _promote_unique_near_name(ranked)
    if not ranked or ranked[0].score < POSSIBLE_AT:
        return "none", ranked, flags
    best = ranked[0]
    decisive = {f.code for f in best.features} & _DECISIVE
    runner_up = ranked[1] if len(ranked) > 1 else None
    if (
        runner_up is not None
        and runner_up.score >= best.score - AMBIGUOUS_WITHIN
        and not decisive - {f.code for f in runner_up.features}
    ):
        flags.append("ambiguous")
        return "possible", ranked, flags
    if best.score >= MATCH_AT:
        return "match", ranked, flags
    return "possible", ranked, flags
