"""The batch-matching relevance set: rows with known answers, built from a generated register
(deterministic: seed, date and the sample are fixed) and from hand-made hard cases registered
beside it.

Each case is a row, the entity it should find (None: it must NOT find one), and what it tests.
`strict` cases (an exact name, a code) must be decided `match`; the others may be `match` or
`possible` (a typo, pinyin, a name without its place …), which is what the recall goal counts.

Kinds: exact, uscc, uscc+name, uscc typo (one substitution or two neighbours swapped) + name,
registration number, traditional characters, full-width characters and spaces, legal form
written otherwise (有限责任公司/股份有限公司/有限公司) or left out, place prefix dropped or added,
former name, pinyin, one-character typo, branch offices (分公司: the branch, never its parent),
a legal representative shared by several firms (alone: nothing; with a name: that firm), and
negatives: names not in the register, near misses (another word in the name), a parent's name
where only its branch is registered.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import opencc

from domain.names.matching import MatchRow
from domain.uscc import TIANJIN_DISTRICTS, USCC
from infra.datagen.generator import generate

SEED = 20261122
TODAY = date(2026, 11, 22)
REGISTER_SIZE = 600
_S2T = opencc.OpenCC("s2t")


@dataclass(frozen=True)
class Case:
    kind: str
    row: MatchRow
    expected: str | None  # the USCC it should find; None: nothing
    strict: bool = False  # must be `match` (else match or possible counts)


def register_envelopes() -> list[dict[str, Any]]:
    """The generated register the set is built on, plus the hand-made entities."""
    return [*generate(REGISTER_SIZE, SEED, TODAY), *HAND_MADE]


def _fullwidth(text: str) -> str:
    out = []
    for ch in text:
        if ch in "()":
            out.append({"(": "（", ")": "）"}[ch])
        elif "!" <= ch <= "~":
            out.append(chr(ord(ch) + 0xFEE0))
        else:
            out.append(ch)
    return " ".join(out[i] for i in range(len(out)))[: len(out) * 2]


def _typo(name: str, rng: random.Random) -> str | None:
    """One character of the name's middle replaced by a similar-looking or -sounding one."""
    swaps = {
        "技": "枝",
        "贸": "茂",
        "商": "啇",
        "科": "料",
        "通": "同",
        "华": "化",
        "鑫": "欣",
        "源": "元",
        "达": "大",
    }
    spots = [i for i, ch in enumerate(name) if ch in swaps and 2 <= i < len(name) - 4]
    if not spots:
        return None
    i = rng.choice(spots)
    return name[:i] + swaps[name[i]] + name[i + 1 :]


def _uscc_typo(uscc: str, rng: random.Random) -> str:
    """A USCC with one digit of its organisation code changed (fails the check characters)."""
    for _ in range(50):
        i = rng.randrange(8, 16)
        ch = rng.choice("0123456789")
        typo = uscc[:i] + ch + uscc[i + 1 :]
        try:
            USCC.parse(typo)
        except Exception:
            return typo
    return uscc[:10] + uscc[11] + uscc[10] + uscc[12:]


def _swap_legal_form(name: str) -> str | None:
    if name.endswith("有限责任公司"):
        return name.removesuffix("有限责任公司") + "有限公司"
    if name.endswith("股份有限公司"):
        return name.removesuffix("股份有限公司") + "有限公司"
    if name.endswith("有限公司") and "分公司" not in name:
        return name.removesuffix("有限公司") + "有限责任公司"
    return None


def _drop_place(name: str) -> str | None:
    for prefix in ("天津市", "天津"):
        if name.startswith(prefix):
            rest = name[len(prefix) :]
            for district, _ in TIANJIN_DISTRICTS.values():
                rest = rest.removeprefix(district)
            return rest if len(rest) >= 6 else None
    return None


def generated_cases(entities: list[dict[str, Any]]) -> Iterator[Case]:
    """Cases from the generated register's public documents (one or two kinds per entity)."""
    rng = random.Random(SEED)
    kinds = [
        "exact",
        "uscc",
        "uscc_name",
        "uscc_typo",
        "registration_number",
        "traditional",
        "fullwidth",
        "legal_form",
        "no_legal_form",
        "place",
        "pinyin",
        "typo",
        "rep_name",
    ]
    companies = [e for e in entities if e["registration"].get("entity_type") != "个体工商户"]
    for i, doc in enumerate(companies):
        name, uscc = doc["name"], doc["uscc"]
        rep = (doc["registration"].get("legal_representative") or {}).get("name")
        kind = kinds[i % len(kinds)]
        if kind == "exact":
            yield Case(kind, MatchRow(name=name), uscc, strict=True)
        elif kind == "uscc":
            yield Case(kind, MatchRow(uscc=uscc), uscc, strict=True)
        elif kind == "uscc_name":
            yield Case(kind, MatchRow(name=name, uscc=uscc.lower()), uscc, strict=True)
        elif kind == "uscc_typo":
            yield Case(kind, MatchRow(name=name, uscc=_uscc_typo(uscc, rng)), uscc, strict=True)
        elif kind == "registration_number" and doc.get("registration_number"):
            yield Case(kind, MatchRow(registration_number=doc["registration_number"]), uscc, strict=True)
        elif kind == "traditional":
            yield Case(kind, MatchRow(name=_S2T.convert(name)), uscc, strict=True)
        elif kind == "fullwidth":
            yield Case(kind, MatchRow(name=_fullwidth(name)), uscc, strict=True)
        elif kind == "legal_form" and (swapped := _swap_legal_form(name)):
            yield Case(kind, MatchRow(name=swapped), uscc)
        elif kind == "no_legal_form" and name.endswith("公司") and "分公司" not in name:
            bare = name.removesuffix("股份有限公司").removesuffix("有限责任公司").removesuffix("有限公司")
            yield Case(kind, MatchRow(name=bare), uscc)
        elif kind == "place" and (dropped := _drop_place(name)):
            yield Case(kind, MatchRow(name=dropped, address=doc["registration"].get("address")), uscc)
        elif kind == "pinyin":
            from domain.names import full_pinyin

            yield Case(kind, MatchRow(name=full_pinyin(name)), uscc)
        elif kind == "typo" and (typo := _typo(name, rng)):
            yield Case(kind, MatchRow(name=typo, legal_representative=rep), uscc)
            yield Case("typo_alone", MatchRow(name=typo), uscc)
        elif kind == "rep_name" and rep:
            yield Case(kind, MatchRow(name=name, legal_representative=rep), uscc, strict=True)
    for doc in entities:
        for former in doc.get("former_names") or []:
            yield Case("former_name", MatchRow(name=former["name"]), doc["uscc"])


def negative_cases(entities: list[dict[str, Any]]) -> Iterator[Case]:
    """Rows that must not be matched: names of another register, near misses."""
    from domain.names.matching import name_forms, same_but_place

    here = [
        name_forms(n)
        for e in entities
        for n in [e["name"], *(f["name"] for f in e.get("former_names") or [])]
    ]
    stems = {f.stem for f in here}
    others = [e for e in generate(120, SEED + 1, TODAY) if e["kind"] == "registration.registered"]
    for envelope in others[:60]:
        forms = name_forms(envelope["payload"]["name"])
        # a name the register holds, or holds but for its place, is not a negative
        if forms.stem not in stems and not any(same_but_place(forms, f) for f in here):
            yield Case("not_registered", MatchRow(name=forms.written), None)
    companies = [e for e in entities if e["name"].endswith("有限公司") and "分公司" not in e["name"]]
    for doc in companies[:40]:
        stem = doc["name"].removesuffix("有限公司")
        yield Case("near_miss", MatchRow(name=stem + "国际有限公司"), None)


# --- hand-made hard cases ------------------------------------------------------------------------

_HAND_USCCS = {n: f"91120116MA07{n:04d}" for n in range(1, 20)}


def _uscc(n: int) -> str:
    from domain.uscc import make_uscc

    return make_uscc("120116", f"MA08{n:04d}").value


def _reg(
    n: int, name: str, rep: str, rep_id: int, *, established_on: str = "2019-06-01", **extra: Any
) -> dict[str, Any]:
    from domain.identity import make_resident_id

    payload = {
        "name": name,
        "entity_type": extra.pop("entity_type", "有限责任公司"),
        "legal_representative": {
            "name": rep,
            "id_number": make_resident_id("120101", date(1978, 3, 3), rep_id, "M"),
        },
        "registered_capital": {"amount": "1000000.00", "currency": "CNY"},
        "established_on": established_on,
        "address": extra.pop("address", "天津市滨海新区第三大街51号"),
        "business_scope": "技术开发",
        "registration_authority": "天津市滨海新区市场监督管理局",
        **extra,
    }
    return {
        "schema": "gongshi.publication/1",
        "publication_id": f"HAND-REG-{n:03d}",
        "department": "TJ-AMR",
        "kind": "registration.registered",
        "uscc": _uscc(n),
        "occurred_on": established_on,
        "payload": payload,
    }


HAND_MADE: list[dict[str, Any]] = [
    _reg(1, "天津恒通科技有限公司", "周海涛", 201),
    _reg(2, "天津恒通智能科技有限公司", "周海涛", 201),  # same representative, a near name
    _reg(
        3, "北京华泰物流有限公司天津滨海分公司", "吴刚", 202, entity_type="分公司"
    ),  # a branch; no parent here
    _reg(4, "天津市滨海新区瑞丰达商贸有限公司", "周海涛", 201),
    _reg(
        5, "天津和平瑞丰达商贸有限公司", "郑秀兰", 203, address="天津市和平区南京路100号"
    ),  # same stem, other district
    _reg(6, "天津海川网络科技合伙企业（有限合伙）", "冯立", 204, entity_type="合伙企业"),
    _reg(7, "天津澳纳斯环保科技股份有限公司", "何静", 205, entity_type="股份有限公司"),
]


def hand_cases() -> Iterator[Case]:
    u = {n: _uscc(n) for n in range(1, 8)}
    yield Case("shared_rep_alone", MatchRow(legal_representative="周海涛"), None)
    yield Case(
        "shared_rep_name",
        MatchRow(name="天津恒通科技有限公司", legal_representative="周海涛"),
        u[1],
        strict=True,
    )
    yield Case("near_name_exact", MatchRow(name="天津恒通智能科技有限公司"), u[2], strict=True)
    yield Case("near_name_missing_word", MatchRow(name="天津恒通科技股份有限公司"), u[1])
    yield Case("branch", MatchRow(name="北京华泰物流有限公司天津滨海分公司"), u[3], strict=True)
    yield Case("branch_no_legal_form", MatchRow(name="北京华泰物流天津滨海分公司"), u[3])
    yield Case("parent_of_branch", MatchRow(name="北京华泰物流有限公司"), None)
    yield Case(
        "place_ambiguous_with_address",
        MatchRow(name="瑞丰达商贸有限公司", address="天津市和平区南京路100号"),
        u[5],
    )
    yield Case("place_exact_district", MatchRow(name="天津市滨海新区瑞丰达商贸有限公司"), u[4], strict=True)
    yield Case(
        "partnership_halfwidth", MatchRow(name="天津海川网络科技合伙企业(有限合伙)"), u[6], strict=True
    )
    yield Case(
        "partnership_traditional", MatchRow(name="天津海川網絡科技合夥企業（有限合夥）"), u[6], strict=True
    )
    yield Case("joint_stock_written_limited", MatchRow(name="天津澳纳斯环保科技有限公司"), u[7])
    yield Case(
        "uscc_swap",
        MatchRow(name="天津澳纳斯环保科技股份有限公司", uscc=u[7][:9] + u[7][10] + u[7][9] + u[7][11:]),
        u[7],
        strict=True,
    )
    yield Case("wrong_uscc_other_entity", MatchRow(name="天津恒通智能科技有限公司", uscc=u[1]), u[2])
    yield Case("unregistered_similar", MatchRow(name="天津恒远科技有限公司"), None)
