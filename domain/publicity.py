"""How long a penalty stays public, and from when it may be repaired: the rule sets, as data, with
their sources.

Which rule set applies depends on who published the penalty and when it was decided:

- **Market supervision's own publicity** (the publishing department is market supervision, or
  drug administration, which SAMR Order 45 Art. 18 brings under the same rules): SAMR Order 45
  for penalties decided from 2021-09-01. Counted from the *publicity* date.
- **The credit platform's rules** for every other department (and for market supervision's
  penalties decided before 2021-09-01, whose earlier SAMR/SAIC rules — SAIC Order 71 of 2014 —
  are not modelled): the NDRC rule set in force on the decision date. Counted from the
  *decision* date. A decision before the earliest NDRC set (2019-07-01) gets that earliest set.

Where the sources disagree or leave a choice to a province, the choice is a setting
(`PublicityPolicy`, filled from `infra.settings.Settings` by the composition root):

- SAMR Order 45 Art. 13 para. 2 leaves the "small fine" (较低数额罚款) to each province: Hubei
  uses < 10,000 CNY for natural persons and < 100,000 CNY for organisations; Shanghai (沪市监规范
  〔2022〕8号) ≤ 5,000 and ≤ 50,000. Tianjin's figure was not found. `small_fine_limit` (default
  50,000 CNY, inclusive — the Shanghai figure for organisations).
- NDRC Order 36 does not publicise light penalties "in principle" but lets a sector department
  publicise them for at most 3 months: `publicise_light` (default False).
- Whether market supervision keeps SAMR Order 45 after NDRC Order 36 (a sector's own rules vs the
  national credit-repair rules): `market_supervision_rules` ("samr", default, or
  "credit_platform").
- Which penalties NDRC Order 36 counts as light / general / serious was confirmed from the
  September 2025 draft and press summaries of the final text, not from the final articles
  themselves; the list is `_NDRC36_*` below.

Not modelled: SAMR Order 45 Art. 13 para. 3 (a restriction longer than 3 years keeps the penalty
public for the restriction's term); NDRC 527's "specific serious" behaviours (bribery, tax fraud…)
other than through the measures and domains below.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache
from types import MappingProxyType
from typing import Any, Literal, get_args

from domain.publications import Severity
from domain.workdays import CalendarNotKnown, working_days

__all__ = [
    "LISTING_REPAIR",
    "PUBLICATION_DEADLINE_WORKING_DAYS",
    "RULE_SETS",
    "ListingRepairRule",
    "PenaltyFacts",
    "PublicityPeriod",
    "PublicityPolicy",
    "RuleSet",
    "Source",
    "Window",
    "add_months",
    "can_repair",
    "default_policy",
    "default_publicised_on",
    "is_penalty_public",
    "publicity_period",
    "rule_set_for",
]

SEVERITIES: tuple[str, ...] = get_args(Severity)
Scope = Literal["credit_platform", "market_supervision"]
CountsFrom = Literal["decision", "publicity"]
Classification = Literal["severity", "single_band", "ndrc36", "samr45"]

#: SAMR Order 45 Art. 9 (and Art. 10 across provinces, 10 + 10): market supervision publishes a
#: penalty within 20 working days of the decision.
PUBLICATION_DEADLINE_WORKING_DAYS = 20
#: SAMR Order 45 Art. 11: a revoked, changed or annulled decision is withdrawn within 3 working
#: days (the platform withdraws it on the event itself: the public document drops it at once).
WITHDRAWAL_DEADLINE_WORKING_DAYS = 3


def add_months(d: date, months: int) -> date:
    """`d` plus `months` calendar months, clamped to the month's last day."""
    index = d.year * 12 + d.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True, slots=True)
class Source:
    """Where a rule was found: the document, its articles, and a URL where one was read."""

    document: str
    articles: str
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Window:
    """Public for `max_months`; repair possible after `min_months` (None: never before the end)."""

    min_months: int | None
    max_months: int

    def __post_init__(self) -> None:
        if self.max_months < 0 or (
            self.min_months is not None and not 0 <= self.min_months <= self.max_months
        ):
            raise ValueError("公示期限无效：最短期限须不大于最长期限")


@dataclass(frozen=True, slots=True)
class RuleSet:
    """One set of publicity rules. `windows[class]` is None when that class is not publicised;
    `longer_minimum[domain]` raises the minimum for penalties of that domain; a penalty with any
    of `final_measures` (in one of `final_domains`, when given) is never repaired early."""

    code: str
    name: str
    scope: Scope
    issued_on: date
    in_force_from: date
    counts_from: CountsFrom
    classification: Classification
    windows: Mapping[str, Window | None]
    sources: tuple[Source, ...]
    longer_minimum: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    final_measures: frozenset[str] = frozenset()
    final_domains: frozenset[str] = frozenset()


_HEAVY_MEASURES = frozenset(
    {
        "licence_revocation",
        "business_licence_revocation",
        "production_restriction",
        "suspension_of_business",
        "closure",
        "employment_restriction",
    }
)

RULE_SETS: tuple[RuleSet, ...] = (
    RuleSet(
        code="NDRC-527-2019",
        name="《国家发展改革委办公厅关于进一步完善“信用中国”网站及地方信用门户网站行政处罚信息信用修复机制的通知》"
        "（发改办财金〔2019〕527号）",
        scope="credit_platform",
        issued_on=date(2019, 5, 14),  # published on the NDRC site that day
        in_force_from=date(2019, 7, 1),
        counts_from="decision",
        classification="severity",
        # only two classes: a "minor" penalty counts as general
        windows=MappingProxyType({"general": Window(3, 12), "serious": Window(6, 36)}),
        # "特定严重失信行为" are shown for the whole maximum: heavy penalties in these fields
        final_measures=frozenset(
            {"suspension_of_business", "licence_revocation", "business_licence_revocation"}
        ),
        final_domains=frozenset(
            {
                "food",
                "drugs",
                "environment",
                "construction_quality",
                "work_safety",
                "fire_protection",
                "product_certification",
            }
        ),
        sources=(
            Source(
                "发改办财金〔2019〕527号",
                "二（公示期限：一般 3 个月–1 年，严重 6 个月–3 年，自行政处罚决定之日起）；"
                "三（特定严重失信行为按最长公示期限公示）；自 2019 年 7 月 1 日起执行",
                "https://aaa315gov.net/lianhechengjie/2021-03-12/69.html",
            ),
            Source(
                "发改办财金〔2019〕527号",
                "严重失信：6 个月–3 年",
                "https://www.0797cx.cn/page37?article_id=15265",
            ),
        ),
    ),
    RuleSet(
        code="NDRC-58-2023",
        name="《失信行为纠正后的信用信息修复管理办法（试行）》（国家发展改革委令第58号）",
        scope="credit_platform",
        issued_on=date(2023, 1, 13),
        in_force_from=date(2023, 5, 1),
        counts_from="decision",
        classification="single_band",
        # one band for every penalty; "the longest type decides" shows only through the domain minimum
        windows=MappingProxyType({"any": Window(3, 36)}),
        longer_minimum=MappingProxyType({"special_equipment": 12, "work_safety": 12, "fire_protection": 12}),
        sources=(
            Source(
                "国家发展改革委令第58号",
                "公布令（2023 年 1 月 13 日公布，自 2023 年 5 月 1 日起施行）",
                "http://m.sacsnlax.com/zwgk/content/post_1956177.html",
            ),
            Source(
                "国家发展改革委令第58号（地方信用网站的适用说明）",
                "行政处罚信息最短公示期三个月、最长三年；特种设备、安全生产、消防领域最短一年；"
                "同一决定涉及多种处罚类型的以期限最长的类型为准；自行政处罚作出时间起算"
                "（条文序号未核实）",
                "http://www.senqisrq.com/xxgk/ztzl/sgs/index.html",
            ),
        ),
    ),
    RuleSet(
        code="NDRC-36-2026",
        name="《信用修复管理办法》（国家发展改革委令第36号）",
        scope="credit_platform",
        issued_on=date(2025, 11, 20),
        in_force_from=date(2026, 4, 1),
        counts_from="decision",
        classification="ndrc36",
        # light: not publicised in principle (PublicityPolicy.publicise_light), at most 3 months
        windows=MappingProxyType(
            {"light": Window(0, 3), "general": Window(3, 12), "serious": Window(12, 36)}
        ),
        sources=(
            Source(
                "国家发展改革委令第36号",
                "第二章（轻微原则上不予公示、确有必要的最长 3 个月；一般 3 个月–1 年；严重 1–3 年；"
                "自司法、行政公务文书认定之日起算）；废止第58号令；自 2026 年 4 月 1 日起施行",
                "https://toubiaole.com/news/xingyexinwen/887.html",
            ),
            Source(
                "《信用修复管理办法（征求意见稿）》（2025 年 9 月）",
                "分类：轻微（简易程序的行政处罚；普通程序的警告、通报批评；较低数额罚款）、"
                "一般（暂扣许可证件、降低资质等级、没收违法所得、没收非法财物）、"
                "严重（吊销许可证件、限制开展生产经营活动、责令停产停业、责令关闭、限制从业）",
                "http://www.symoldtech.com/xinwenzhongxin/1235364.html",
            ),
        ),
    ),
    RuleSet(
        code="SAMR-45-2021",
        name="《市场监督管理行政处罚信息公示规定》（国家市场监督管理总局令第45号）",
        scope="market_supervision",
        issued_on=date(2021, 7, 30),
        in_force_from=date(2021, 9, 1),
        counts_from="publicity",
        classification="samr45",
        windows=MappingProxyType(
            {
                "not_publicised": None,  # Art. 2: simplified procedure, or a warning only
                "brief": Window(None, 3),  # Art. 13: only a circulated criticism or a small fine
                "other": Window(6, 36),  # Art. 13: 3 years; repair after 6 months (repair measures Art. 6)
            }
        ),
        longer_minimum=MappingProxyType({"food": 12, "drugs": 12, "special_equipment": 12}),
        final_measures=frozenset(  # Art. 14 para. 3: never stopped early
            {
                "suspension_of_business",
                "production_restriction",
                "employment_restriction",
                "qualification_downgrade",
                "licence_revocation",
                "business_licence_revocation",
            }
        ),
        sources=(
            Source(
                "国家市场监督管理总局令第45号",
                "第二条（仅普通程序公示，仅受警告的不予公示）；第九条、第十条（20 个工作日内公示）；"
                "第十一条（3 个工作日内撤回）；第十三条（通报批评或较低数额罚款 3 个月，其他 3 年，"
                "自公示之日起）；第十四条（提前停止公示的四项条件；第三款所列处罚不得提前停止）；"
                "第十八条（药品监督管理部门适用）；第十九条（自 2021 年 9 月 1 日起施行）",
                "https://github.com/LawRefBook/Laws/blob/master/部门规章/市场监督管理总局/"
                "市场监督管理行政处罚信息公示规定(2021-07-30).md",
            ),
            Source(
                "《市场监督管理信用修复管理办法》（国市监信规〔2021〕3号）",
                "第六条（公示满 6 个月，食品、药品、特种设备领域满 1 年，方可申请信用修复；"
                "警告、通报批评和较低数额罚款除外）",
                "http://www.chibi.gov.cn/bmlb/syjj/gzdt_6021/202507/t20250701_4017254.shtml",
            ),
        ),
    ),
)


@dataclass(frozen=True, slots=True)
class ListingRepairRule:
    """The minimum time on a list before its entity may apply for early removal (credit repair)."""

    code: str
    name: str
    min_months: int
    sources: tuple[Source, ...]

    def earliest_repair_on(self, listed_on: date) -> date:
        return add_months(listed_on, self.min_months)


#: The serious illegal and dishonest list (严重违法失信名单): early removal after one year.
LISTING_REPAIR = ListingRepairRule(
    code="SAMR-44-2021",
    name="《市场监督管理严重违法失信名单管理办法》（国家市场监督管理总局令第44号）",
    min_months=12,
    sources=(
        Source(
            "国家市场监督管理总局令第44号",
            "提前移出：列入满一年且未满三年（条文序号未核实；东莞市场监管的适用说明）；"
            "自 2021 年 9 月 1 日起施行",
            "https://m.163.com/local/article/KJA7ENIN053489NX.html",
        ),
    ),
)


@dataclass(frozen=True, slots=True)
class PublicityPolicy:
    """The choices the rules leave open (see the module docstring), and which departments publish
    as market supervision."""

    market_supervision_departments: frozenset[str]
    market_supervision_rules: Literal["samr", "credit_platform"] = "samr"
    small_fine_limit: Decimal = Decimal("50000")
    publicise_light: bool = False

    def scope_of(self, department: str | None) -> Scope:
        if self.market_supervision_rules == "samr" and department in self.market_supervision_departments:
            return "market_supervision"
        return "credit_platform"


#: Department types that publish penalties as market supervision (SAMR Order 45 Arts. 2 and 18).
MARKET_SUPERVISION_TYPES = frozenset({"market_supervision", "drug_administration"})


def is_market_supervision(department: Any) -> bool:
    """By the department's `type` where the registry gives one, else by its code (`…-AMR`, `…-MPA`)."""
    kind = getattr(department, "type", None)
    if isinstance(kind, str):
        return kind in MARKET_SUPERVISION_TYPES
    code = str(department.code)
    return code.endswith(("-AMR", "-MPA"))


def market_supervision_codes(departments: Iterable[Any]) -> frozenset[str]:
    return frozenset(d.code for d in departments if is_market_supervision(d))


@lru_cache(maxsize=1)
def default_policy() -> PublicityPolicy:
    """The default settings over the shipped departments (tools and tests that build documents
    without a composition root)."""
    from domain.departments import DepartmentRegistry

    return PublicityPolicy(market_supervision_codes(DepartmentRegistry.load_default().all()))


@dataclass(frozen=True, slots=True)
class PenaltyFacts:
    """What the rules read of a penalty record (the aggregate's state, or a document)."""

    decided_on: date
    severity: str
    department: str | None = None
    measures: tuple[str, ...] | None = None
    domain: str = "other"
    procedure: str = "ordinary"
    fine_amount: Decimal = Decimal(0)
    publicised_on: date | None = None

    @classmethod
    def of(cls, penalty: Mapping[str, Any]) -> PenaltyFacts:
        measures = penalty.get("measures")
        publicised = penalty.get("publicised_on")
        return cls(
            decided_on=_as_date(penalty["decided_on"]),
            severity=str(penalty["severity"]),
            department=penalty.get("department"),
            measures=tuple(measures) if measures else None,
            domain=str(penalty.get("domain") or "other"),
            procedure=str(penalty.get("procedure") or "ordinary"),
            fine_amount=Decimal(str(penalty.get("fine_amount") or 0)),
            publicised_on=_as_date(publicised) if publicised else None,
        )


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def default_publicised_on(decided_on: date, applied_on: date) -> date:
    """When a penalty without a stated publicity date counts as publicised: the date the platform
    applied it, but no later than the Order 45 Art. 9 deadline (20 working days after the decision),
    so a bulk load of old penalties does not restart their windows; never before the decision.
    Where the holiday calendar does not reach the deadline's year, the applied date."""
    try:
        deadline = working_days().add(decided_on, PUBLICATION_DEADLINE_WORKING_DAYS)
    except CalendarNotKnown:
        deadline = applied_on
    return max(decided_on, min(applied_on, deadline))


def rule_set_for(decided_on: date, scope: Scope = "credit_platform") -> RuleSet:
    """The rule set of `scope` in force on the decision date (see the module docstring for the
    fallbacks)."""
    in_force = [r for r in RULE_SETS if r.scope == scope and r.in_force_from <= decided_on]
    if not in_force and scope == "market_supervision":
        return rule_set_for(decided_on, "credit_platform")
    if not in_force:
        return min((r for r in RULE_SETS if r.scope == scope), key=lambda r: r.in_force_from)
    return max(in_force, key=lambda r: r.in_force_from)


_NDRC36_LIGHT_ONLY = frozenset({"warning", "circulated_criticism"})
_NDRC36_GENERAL = frozenset(
    {"licence_suspension", "qualification_downgrade", "confiscation_of_gains", "confiscation_of_property"}
)
_CLASS_RANK = {"light": 0, "general": 1, "serious": 2}
_SAMR_BRIEF = frozenset({"warning", "circulated_criticism", "fine"})


def penalty_class(rule_set: RuleSet, facts: PenaltyFacts, policy: PublicityPolicy) -> str:
    """The class of `rule_set.windows` a penalty falls in."""
    measures = frozenset(facts.measures) if facts.measures is not None else None
    if rule_set.classification == "single_band":
        return "any"
    if rule_set.classification == "severity":
        return "serious" if facts.severity == "serious" else "general"
    if rule_set.classification == "ndrc36":
        if facts.procedure == "simplified" or (measures is not None and measures <= _NDRC36_LIGHT_ONLY):
            return "light"
        by_severity = {"minor": "light", "general": "general", "serious": "serious"}[facts.severity]
        floor = "light"
        if measures is not None and measures & _HEAVY_MEASURES:
            floor = "serious"
        elif measures is not None and measures & _NDRC36_GENERAL:
            floor = "general"
        return max(by_severity, floor, key=_CLASS_RANK.__getitem__)
    # samr45
    if facts.procedure == "simplified" or measures == frozenset({"warning"}):
        return "not_publicised"
    small = facts.fine_amount <= policy.small_fine_limit
    if measures is None:  # kinds unknown (older publications): a minor penalty with a small fine
        return "brief" if facts.severity == "minor" and small else "other"
    if measures <= _SAMR_BRIEF and (small or "fine" not in measures):
        return "brief"
    return "other"


@dataclass(frozen=True, slots=True)
class PublicityPeriod:
    """When a penalty is public (`starts_on` inclusive, `ends_on` exclusive) and from when it may
    be repaired (`earliest_repair_on`; None: not before the end), under which rule set."""

    rule_set: str
    publicised: bool
    starts_on: date
    earliest_repair_on: date | None
    ends_on: date | None
    rule_set_name: str = ""
    counts_from: CountsFrom = "decision"
    penalty_class: str = ""


def publicity_period(facts: PenaltyFacts, policy: PublicityPolicy) -> PublicityPeriod:
    """The publicity period of a penalty under the rule set that applies to it."""
    if facts.severity not in SEVERITIES:
        raise ValueError(f"处罚严重程度“{facts.severity}”无效，应为 {'/'.join(SEVERITIES)} 之一")
    rule_set = rule_set_for(facts.decided_on, policy.scope_of(facts.department))
    klass = penalty_class(rule_set, facts, policy)
    window = rule_set.windows.get(klass)
    if klass == "light" and not policy.publicise_light:
        window = None
    starts = facts.decided_on
    if rule_set.counts_from == "publicity":
        starts = facts.publicised_on or facts.decided_on
    if window is None:
        return PublicityPeriod(
            rule_set.code, False, starts, None, None, rule_set.name, rule_set.counts_from, klass
        )
    minimum = window.min_months
    if minimum is not None:
        minimum = max(minimum, rule_set.longer_minimum.get(facts.domain, 0))
        measures = frozenset(facts.measures or ())
        if measures & rule_set.final_measures and (
            not rule_set.final_domains or facts.domain in rule_set.final_domains
        ):
            minimum = None
    return PublicityPeriod(
        rule_set=rule_set.code,
        publicised=True,
        starts_on=starts,
        earliest_repair_on=add_months(starts, minimum) if minimum is not None else None,
        ends_on=add_months(starts, window.max_months),
        rule_set_name=rule_set.name,
        counts_from=rule_set.counts_from,
        penalty_class=klass,
    )


def is_penalty_public(
    period: PublicityPeriod, today: date, *, revoked: bool = False, repaired_on: date | None = None
) -> bool:
    """Public while `starts_on <= today < ends_on`, unless revoked or repaired by `today`."""
    if not period.publicised or revoked:
        return False
    if today < period.starts_on:
        return False
    if period.ends_on is not None and today >= period.ends_on:
        return False
    return repaired_on is None or today < repaired_on


def can_repair(period: PublicityPeriod, on: date) -> bool:
    """Credit repair may be applied for from `earliest_repair_on` (never where it is None)."""
    return period.earliest_repair_on is not None and on >= period.earliest_repair_on
