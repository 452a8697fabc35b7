"""The deadline rules of the abnormal operations list (经营异常名录), as dated data with sources.

Three rules drive the jobs (`casework.jobs`):

- **listing for a missing annual report** — after the window for year Y closes (30 June of Y+1),
  every active entity that owes the report and has not filed it is listed, with reason
  未按规定报送年度报告, within 10 working days;
- **removal on application** — an entity listed for a missing report files it and applies; the
  registration authority decides within a number of working days (a setting:
  `GONGSHI_ABNORMAL_REMOVAL_WORKING_DAYS`, 5 by default), and the platform removes the listing
  itself when the check passes and no decision came in time (`GONGSHI_ABNORMAL_REMOVAL_AUTOMATIC`);
- **escalation** — an entity still on the list three years after it was listed goes to the serious
  illegal and dishonest list (严重违法失信名单), after a public warning notice (提醒公告) within the
  60 days before.

What the sources say, and how sure we are (searched with the platform's search tool, 2026-12-01):

- 企业信息公示暂行条例 (State Council Order 654, in force 2014-10-01), read in LawRefBook/Laws
  (`行政法规/企业信息公示暂行条例.md`, the 2014 text): Art. 8 (window), Art. 17(1)(一) (listing for a
  report not filed on time), Art. 17(2) (removal once the obligation is met; listed for 3 years
  without meeting it → the serious list). **Confirmed** (text read). A later revision of the
  Regulations was not found in that repository.
- 企业经营异常名录管理暂行办法 (SAIC Order 68, 2014): listing within 10 working days after the
  annual-report period ends (Art. 6); removal decided within 5 working days of the application
  after the late report is filed (Art. 11); a warning notice within the 60 days before three years
  on the list. **Not read in the original**: the 10 and 5 working days from secondary pages
  quoting the rules (e.g. cshenji.com/qifu/zhishi/3784.html, zqgszc.com/ask/1703648195.html), the
  60-day warning from a report of SAIC's 2014 press conference on the rules
  (shanghaiinvest.com/cn/viewfile.php?id=8486).
- A text cited as 《经营异常名录管理办法》 gives 7 days (“自公示之日起7日内作出移出决定”, Art. 10;
  seen on crsrw.com/qiyezixun/42013.html): calendar days, from a draft or local version, not
  confirmed as in force. Hence the setting.
- 市场监督管理严重违法失信名单管理办法 (SAMR Order 44, in force 2021-09-01): **its text was not
  found** with the search tool; secondary pages (zgxyw.org.cn on its drafting; cmrnn.com.cn,
  2025-10-24, on a revision draft that drops the upper-level approval of county and city
  decisions and simplifies its Art. 12 judgement) do not quote its treatment of a three-year
  abnormal listing. Whether it still provides the 60-day warning is **unconfirmed**; the rule
  below keeps Art. 17(2) of the Regulations and the 2014 warning, dated from Order 44's entry into
  force for listings whose three years are up since, so it can be changed as data when the text is confirmed.
- The reported 2025 revision of the abnormal-list rules: a Tianjin consultation of 2025-04-30
  (law.esnai.com/mview/221845) cites SAMR's 《企业经营异常名录管理办法》 (no longer 暂行), and
  third-party pages speak of a “2025年3月修订” version; **what it changed could not be confirmed**.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from domain.publicity import Source, add_months

__all__ = [
    "ANNUAL_REPORT_LISTING",
    "ESCALATION_RULES",
    "REMOVAL_SOURCES",
    "EscalationRule",
    "ListingRule",
    "escalation_rule_for",
]


@dataclass(frozen=True, slots=True)
class ListingRule:
    """When the platform lists a non-filer: within `working_days` after the window closes."""

    code: str
    name: str
    working_days: int
    reason: str
    basis: str
    sources: tuple[Source, ...]


ANNUAL_REPORT_LISTING = ListingRule(
    code="SAIC-68-2014-art6",
    name="《企业经营异常名录管理暂行办法》（国家工商行政管理总局令第68号）第六条",
    working_days=10,
    reason="未按规定报送年度报告",
    basis="《企业信息公示暂行条例》第八条、第十七条第一款第（一）项",
    sources=(
        Source(
            "企业信息公示暂行条例（国务院令第654号）",
            "第八条、第十七条（LawRefBook/Laws 2014 年文本，已核对）",
        ),
        Source(
            "企业经营异常名录管理暂行办法（国家工商行政管理总局令第68号）",
            "第六条：年度报告公示结束之日起10个工作日内作出列入决定（未读到原文，据转引）",
        ),
    ),
)

#: Where the removal deadline comes from; the number of working days is a setting.
REMOVAL_SOURCES: tuple[Source, ...] = (
    Source(
        "企业经营异常名录管理暂行办法（国家工商行政管理总局令第68号）",
        "第十一条：补报年度报告并公示后申请移出，自收到申请之日起5个工作日内作出移出决定（据转引）",
        "http://cshenji.com/qifu/zhishi/3784.html",
    ),
    Source(
        "《经营异常名录管理办法》（文本来源与效力未核实）",
        "第十条：补报未报年份的年度报告并公示后，自公示之日起7日内作出移出决定",
        "http://crsrw.com/qiyezixun/42013.html",
    ),
)


@dataclass(frozen=True, slots=True)
class EscalationRule:
    """Three years on the abnormal list → the serious list, after a warning notice within the
    `warning_days` before; for listings whose three years are up from `in_force_from` on."""

    code: str
    name: str
    in_force_from: date
    years: int
    warning_days: int
    reason: str
    basis: str
    sources: tuple[Source, ...]
    confirmed: bool

    def anniversary(self, listed_on: date) -> date:
        """The day the listing has lasted `years` years (届满)."""
        return add_months(listed_on, 12 * self.years)

    def warning_from(self, listed_on: date) -> date:
        """The first day the warning notice may be published."""
        return self.anniversary(listed_on) - timedelta(days=self.warning_days)

    def escalation_on(self, listed_on: date, warned_on: date) -> date:
        """The day the entity may be listed as serious: the anniversary when the warning came in
        time; when it came later (the platform was not running), `warning_days` after it, so the
        warning always precedes the listing by the period the rule gives."""
        anniversary = self.anniversary(listed_on)
        if warned_on < anniversary:
            return anniversary
        return warned_on + timedelta(days=self.warning_days)


_REGULATIONS = Source(
    "企业信息公示暂行条例（国务院令第654号）",
    "第十七条第二款：满3年未依照本条例规定履行公示义务的，列入严重违法企业名单"
    "（LawRefBook/Laws 2014 年文本，已核对）",
)
_WARNING_2014 = Source(
    "企业经营异常名录管理暂行办法（国家工商行政管理总局令第68号）",
    "届满3年前60日内，通过企业信用信息公示系统以公告方式提示其履行相关义务"
    "（据总局 2014 年新闻发布会报道，未读到原文）",
    "http://shanghaiinvest.com/cn/viewfile.php?id=8486",
)

ESCALATION_RULES: tuple[EscalationRule, ...] = (
    EscalationRule(
        code="SAIC-68-2014",
        name="《企业信息公示暂行条例》第十七条、《企业经营异常名录管理暂行办法》",
        in_force_from=date(2014, 10, 1),
        years=3,
        warning_days=60,
        reason="被列入经营异常名录届满3年仍未履行相关义务",
        basis="《企业信息公示暂行条例》第十七条第二款",
        sources=(_REGULATIONS, _WARNING_2014),
        confirmed=False,
    ),
    EscalationRule(
        code="SAMR-44-2021",
        name="《市场监督管理严重违法失信名单管理办法》（国家市场监督管理总局令第44号）",
        in_force_from=date(2021, 9, 1),
        years=3,
        warning_days=60,
        reason="被列入经营异常名录届满3年仍未履行相关义务",
        basis="《企业信息公示暂行条例》第十七条第二款；《市场监督管理严重违法失信名单管理办法》",
        sources=(
            _REGULATIONS,
            Source(
                "市场监督管理严重违法失信名单管理办法（国家市场监督管理总局令第44号）",
                "自 2021 年 9 月 1 日起施行；对经营异常名录届满3年的规定及60日提醒：原文未读到，未核实",
            ),
            _WARNING_2014,
        ),
        confirmed=False,
    ),
)


def escalation_rule_for(listed_on: date) -> EscalationRule:
    """The rule in force on the day the listing's three years are up."""
    up = add_months(listed_on, 36)
    found = [r for r in ESCALATION_RULES if r.in_force_from <= up]
    return found[-1] if found else ESCALATION_RULES[0]
