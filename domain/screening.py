"""Joint restrictions (一处失信、处处受限): which records restrict an entity under which measure,
as versioned data with their sources, and the screening of an entity's record on a date.

A `Measure` (政府采购, 招标投标, …) has versions; the version in force on the screening date
says which records restrict (`Rule`s) and on what basis. Screening reads the agency (sharing)
document and the date:

- `serious_listing` / `abnormal_listing` — a listing in force on the date (listed on or before
  it, not removed by then);
- `penalty` — a penalty decided within `within_years` before the date and not revoked by then,
  that imposed one of `measures` or a fine of at least `min_fine` (the procurement rule's
  重大违法记录), or (`in_window`) that is public on the date.

Sources, as read (LawRefBook/Laws on GitHub, the texts as published):

- 《企业信息公示暂行条例》（国务院令第654号，2014-10-01 施行）第十八条: 在政府采购、工程招投标、
  国有土地出让、授予荣誉称号等工作中 … 对被列入经营异常名录或者严重违法企业名单的企业依法予以
  限制或者禁入. Read in LawRefBook/Laws `行政法规/企业信息公示暂行条例.md` (the 2014 text). The
  State Council's Order 777 (2024-03-10) renamed the departments in this regulation; that it left
  Art. 18 unchanged was not confirmed here.
- 《中华人民共和国政府采购法实施条例》（国务院令第658号，2015-03-01 施行）第十九条: 重大违法记录
  = 因违法经营受到刑事处罚或者责令停产停业、吊销许可证或者执照、较大数额罚款等行政处罚; with
  第十七条(四): 参加政府采购活动前3年内 … 没有重大违法记录. Read in LawRefBook/Laws
  `行政法规/政府采购法实施条例.md`. What counts as a 较大数额 fine is set by the departments' own
  rules, not by the regulation: `LARGE_FINE` (200,000 CNY) is this platform's placeholder, a
  setting an operator must confirm for the province — not a legal fact.
- 《市场监督管理严重违法失信名单管理办法》（国家市场监督管理总局令第44号，2021-09-01 施行）: the
  measures it lists for entities on the serious list (财政资金支持, 从严审查行政许可 …) were not read
  in a primary text here; the article numbers are left unconfirmed (`confirmed=False`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from domain.publicity import Source, add_months

__all__ = [
    "LARGE_FINE",
    "MEASURES",
    "Measure",
    "MeasureVersion",
    "Reason",
    "Rule",
    "measure",
    "screen",
]

#: 较大数额罚款 for the procurement rule: a placeholder (see the module docstring).
LARGE_FINE = Decimal("200000")

#: Penalty measures (行政处罚法 Art. 9, as `penalty.imposed` names them) that make a 重大违法记录.
MAJOR_MEASURES = frozenset(
    {
        "licence_revocation",
        "business_licence_revocation",
        "suspension_of_business",
        "production_restriction",
        "closure",
        "qualification_downgrade",
    }
)

RuleKind = Literal["serious_listing", "abnormal_listing", "penalty"]

REGULATION_654 = Source(
    "《企业信息公示暂行条例》（国务院令第654号，2014年10月1日施行）",
    "第十八条（政府采购、工程招投标、国有土地出让、授予荣誉称号等工作中，对被列入经营异常名录或者"
    "严重违法企业名单的企业依法予以限制或者禁入）",
    "https://github.com/LawRefBook/Laws/blob/master/行政法规/企业信息公示暂行条例.md",
)
PROCUREMENT_658 = Source(
    "《中华人民共和国政府采购法实施条例》（国务院令第658号，2015年3月1日施行）",
    "第十九条（重大违法记录：刑事处罚或者责令停产停业、吊销许可证或者执照、较大数额罚款等行政处罚）；"
    "第十七条第一款第（四）项（参加政府采购活动前3年内在经营活动中没有重大违法记录）",
    "https://github.com/LawRefBook/Laws/blob/master/行政法规/政府采购法实施条例.md",
)
SAMR_44 = Source(
    "《市场监督管理严重违法失信名单管理办法》（国家市场监督管理总局令第44号，2021年9月1日施行）",
    "对列入严重违法失信名单的当事人实施的管理措施（条文序号未核实）",
    None,
)


@dataclass(frozen=True, slots=True)
class Rule:
    """One kind of record that restricts under a measure version."""

    kind: RuleKind
    label: str
    basis: Source
    within_years: int | None = None  # penalties: decided within this many years before the date
    measures: frozenset[str] = frozenset()  # penalties: any of these penalty measures …
    min_fine: Decimal | None = None  # … or a fine of at least this
    in_window: bool = False  # penalties: public on the date (in their publicity window)
    confirmed: bool = True  # False: the basis was not read in a primary text


@dataclass(frozen=True, slots=True)
class MeasureVersion:
    version: str
    in_force_from: date
    rules: tuple[Rule, ...]
    note: str = ""


@dataclass(frozen=True, slots=True)
class Measure:
    code: str
    name: str
    versions: tuple[MeasureVersion, ...]

    def version_on(self, day: date) -> MeasureVersion | None:
        """The version in force on `day` (the latest that started on or before it)."""
        found = [v for v in self.versions if v.in_force_from <= day]
        return max(found, key=lambda v: v.in_force_from) if found else None


def _listings(basis: Source, confirmed: bool = True) -> tuple[Rule, ...]:
    return (
        Rule("serious_listing", "列入严重违法失信名单", basis, confirmed=confirmed),
        Rule("abnormal_listing", "列入经营异常名录", basis, confirmed=confirmed),
    )


MEASURES: tuple[Measure, ...] = (
    Measure(
        "government_procurement",
        "政府采购",
        (
            MeasureVersion("2014-10-01", date(2014, 10, 1), _listings(REGULATION_654)),
            MeasureVersion(
                "2015-03-01",
                date(2015, 3, 1),
                (
                    *_listings(REGULATION_654),
                    Rule(
                        "penalty",
                        "参加政府采购活动前3年内的重大违法记录（责令停产停业、吊销许可证或者执照、较大数额罚款等）",
                        PROCUREMENT_658,
                        within_years=3,
                        measures=MAJOR_MEASURES,
                        min_fine=LARGE_FINE,
                    ),
                ),
                note="较大数额罚款以 200,000 元计（平台暂定值，须按本地规定确认）",
            ),
        ),
    ),
    Measure(
        "bidding", "工程招投标", (MeasureVersion("2014-10-01", date(2014, 10, 1), _listings(REGULATION_654)),)
    ),
    Measure(
        "land_transfer",
        "国有土地出让",
        (MeasureVersion("2014-10-01", date(2014, 10, 1), _listings(REGULATION_654)),),
    ),
    Measure(
        "honours",
        "授予荣誉称号（评优评先）",
        (MeasureVersion("2014-10-01", date(2014, 10, 1), _listings(REGULATION_654)),),
    ),
    Measure(
        "fiscal_support",
        "财政资金支持",
        (
            MeasureVersion(
                "2021-09-01",
                date(2021, 9, 1),
                (Rule("serious_listing", "列入严重违法失信名单", SAMR_44, confirmed=False),),
                note="依据的条文序号未核实",
            ),
        ),
    ),
    Measure(
        "licence_strict_review",
        "行政许可从严审查",
        (
            MeasureVersion(
                "2021-09-01",
                date(2021, 9, 1),
                (
                    Rule("serious_listing", "列入严重违法失信名单", SAMR_44, confirmed=False),
                    Rule(
                        "penalty",
                        "处于公示期内的严重行政处罚",
                        SAMR_44,
                        in_window=True,
                        confirmed=False,
                    ),
                ),
                note="依据的条文序号未核实",
            ),
        ),
    ),
)

_BY_CODE = {m.code: m for m in MEASURES}


def measure(code: str) -> Measure | None:
    return _BY_CODE.get(code)


@dataclass(frozen=True)
class Reason:
    """A record that restricts: which rule, the record, its dates and the legal basis."""

    rule: str
    label: str
    record: dict[str, Any]
    basis: Source
    confirmed: bool = True

    def public(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "label": self.label,
            "record": self.record,
            "basis": {
                "document": self.basis.document,
                "articles": self.basis.articles,
                "url": self.basis.url,
            },
            "basis_confirmed": self.confirmed,
        }


@dataclass(frozen=True)
class Screening:
    restricted: bool
    version: str | None
    reasons: list[Reason] = field(default_factory=list)
    note: str = ""


def _day(value: Any) -> date | None:
    return date.fromisoformat(str(value)) if value else None


def listing_in_force(listing: dict[str, Any], day: date) -> bool:
    listed = _day(listing.get("listed_on"))
    removed = _day((listing.get("removed") or {}).get("on"))
    return listed is not None and listed <= day and (removed is None or removed > day)


def _fine(penalty: dict[str, Any]) -> Decimal:
    try:
        return Decimal(str(penalty.get("fine_amount") or 0))
    except InvalidOperation:
        return Decimal(0)


def _penalty_matches(rule: Rule, penalty: dict[str, Any], day: date) -> bool:
    decided = _day(penalty.get("decided_on"))
    revoked = _day((penalty.get("revoked") or {}).get("on"))
    if decided is None or decided > day or (revoked is not None and revoked <= day):
        return False
    if rule.in_window:
        pub = penalty.get("publicity") or {}
        if not pub.get("publicised") or penalty.get("severity") != "serious":
            return False
        starts, ends = _day(pub.get("starts_on")), _day(pub.get("ends_on"))
        repaired = _day(pub.get("repaired_on"))
        return (
            starts is not None
            and starts <= day
            and (ends is None or day < ends)
            and (repaired is None or day < repaired)
        )
    if rule.within_years is not None and decided < add_months(day, -12 * rule.within_years):
        return False
    heavy = bool(rule.measures.intersection(penalty.get("measures") or ()))
    large = rule.min_fine is not None and _fine(penalty) >= rule.min_fine
    return heavy or large


def _listing_record(kind: str, listing: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": kind,
        "decision_no": listing.get("decision_no"),
        "reason": listing.get("reason"),
        "department": listing.get("department"),
        "publication_id": listing.get("publication_id"),
        "listed_on": listing.get("listed_on"),
        "removed_on": (listing.get("removed") or {}).get("on"),
    }


def _penalty_record(penalty: dict[str, Any]) -> dict[str, Any]:
    pub = penalty.get("publicity") or {}
    return {
        "type": "penalty",
        "decision_no": penalty.get("decision_no"),
        "violation": penalty.get("violation"),
        "department": penalty.get("department"),
        "publication_id": penalty.get("publication_id"),
        "decided_on": penalty.get("decided_on"),
        "severity": penalty.get("severity"),
        "domain": penalty.get("domain"),
        "measures": penalty.get("measures"),
        "fine_amount": penalty.get("fine_amount"),
        "public_until": pub.get("repaired_on") or pub.get("ends_on"),
    }


def screen(doc: dict[str, Any], measure_: Measure, day: date) -> Screening:
    """Screen one entity's agency (sharing) document for `measure_` on `day`."""
    version = measure_.version_on(day)
    if version is None:
        first = min(v.in_force_from for v in measure_.versions)
        return Screening(False, None, note=f"该措施自 {first.isoformat()} 起施行，所查日期无适用规则")
    reasons: list[Reason] = []
    for rule in version.rules:
        if rule.kind in ("serious_listing", "abnormal_listing"):
            key = "serious_listings" if rule.kind == "serious_listing" else "abnormal_listings"
            for listing in doc.get(key) or []:
                if listing_in_force(listing, day):
                    reasons.append(
                        Reason(
                            rule.kind,
                            rule.label,
                            _listing_record(rule.kind, listing),
                            rule.basis,
                            rule.confirmed,
                        )
                    )
        else:
            for penalty in doc.get("penalties") or []:
                if _penalty_matches(rule, penalty, day):
                    reasons.append(
                        Reason(rule.kind, rule.label, _penalty_record(penalty), rule.basis, rule.confirmed)
                    )
    return Screening(bool(reasons), version.version, reasons, version.note)
