"""What an entity publishes itself (annual reports, instant disclosures) and the other records
about it: performance (honours, credit ratings) and other information (pledges, freezes).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from infra.datagen import names as kb
from infra.datagen.profiles import Profile
from infra.datagen.timeline import (
    AMR,
    EARLIEST_DISCLOSURE,
    FIRST_REPORT_YEAR,
    EntityState,
    PlannerBase,
    Timeline,
    iso,
    money,
    months_later,
    report_window,
    year_of,
)


class Reporting(PlannerBase):
    def _annual_reports(
        self, t: Timeline, p: Profile, state: EntityState, listing: tuple[str, int, int] | None
    ) -> None:
        rng, today = self.rng, self.today
        how, missed, late = listing if listing else ("", 0, 0)
        individual = p.entity_type == "个体工商户"
        capital = float(p.capital["amount"]) or 2_000_000.0
        scale = capital * rng.lognormvariate(0, 0.8)
        staff = max(1, int(rng.lognormvariate(0.5 if individual else 2.0, 0.9)))
        for year in range(max(year_of(p.established), FIRST_REPORT_YEAR), year_of(today)):
            if how == "zombie" and year >= missed:
                break
            if how and year == missed:
                if how == "late":
                    t.add(
                        late,
                        "ENTERPRISE",
                        "annual_report.submitted",
                        self._report(p, state, year, late, scale, staff),
                    )
                continue
            opens, closes = report_window(year)
            day = min(opens + int(rng.triangular(0, 181, 170)), closes)
            if day > today:
                continue
            scale *= rng.uniform(0.85, 1.3)
            staff = max(1, int(staff * rng.uniform(0.8, 1.3) + 0.5))
            report = self._report(p, state, year, day, scale, staff)
            t.add(day, "ENTERPRISE", "annual_report.submitted", report)
            if rng.random() < 0.006 and day < min(closes, today):
                corrected = dict(report, reason=rng.choice(kb.ANNUAL_REPORT_CORRECTIONS))
                corrected["employees"] = max(1, staff + rng.randint(-3, 3))
                t.add(
                    rng.randint(day + 1, min(closes, today)),
                    "ENTERPRISE",
                    "annual_report.corrected",
                    corrected,
                )

    def _report(
        self, p: Profile, state: EntityState, year: int, day: int, scale: float, staff: int
    ) -> dict[str, Any]:
        rng = self.rng
        revenue = scale * rng.lognormvariate(0, 0.6)
        report: dict[str, Any] = {
            "year": year,
            "address": state.address_on(day),
            "operating_status": "开业" if rng.random() < 0.96 else "歇业",
            "employees": staff,
            "revenue": f"{revenue:.2f}",
            "tax_paid": f"{revenue * rng.uniform(0.005, 0.06):.2f}",
        }
        optional = ["employees", "revenue", "tax_paid"]
        if p.entity_type != "个体工商户":
            report["total_assets"] = f"{scale:.2f}"
            report["profit"] = f"{revenue * rng.uniform(-0.15, 0.2):.2f}"
            optional += ["total_assets", "profit"]
        if p.phone:
            report["phone"] = p.phone
            optional.append("phone")
        if p.email:
            report["email"] = p.email
            optional.append("email")
        if p.website:
            report["websites"] = [p.website]
        report["publicised"] = [f for f in optional if rng.random() < 0.35]
        return report

    def _performance(self, t: Timeline, p: Profile) -> None:
        rng, today = self.rng, self.today
        if not p.is_company or rng.random() >= 0.09:
            return
        first, last = max(year_of(p.established) + 1, 2014), year_of(today) - 1
        if first > last:
            return
        year = rng.randint(first, last)  # the year honoured
        options = [
            (
                "TJ-TAX",
                "纳税信用等级",
                f"{year}年度纳税信用A级纳税人",
                f"经评价，该纳税人{year}年度纳税信用级别为A级。",
            ),
            (
                AMR,
                "守合同重信用",
                f"{year}—{year + 1}年度天津市“守合同重信用”企业",
                "合同管理制度健全，合同履约率高，经公示无异议，认定为天津市“守合同重信用”企业。",
            ),
        ]
        if p.sector == kb.CONSTRUCTION:
            options += [
                (
                    "TJ-HURD",
                    "工程质量奖项",
                    f"{year}年度天津市建设工程“海河杯”奖",
                    "承建的工程项目荣获天津市建设工程“海河杯”奖（优质工程）。",
                )
            ] * 3
        if p.customs:
            options += [
                (
                    "TJ-CUSTOMS",
                    "海关信用认证",
                    "海关高级认证企业（AEO）",
                    "经中华人民共和国天津海关认证，该企业为海关高级认证企业，享受中国海关与互认国家（地区）海关通关便利措施。",
                )
            ] * 2
        if p.sector in (kb.BUSINESS, kb.CONSTRUCTION, kb.MANUFACTURING):
            options.append(
                (
                    "TJ-HRSS",
                    "劳动保障诚信",
                    "天津市劳动保障守法诚信示范单位",
                    "依法签订劳动合同、按时足额支付工资、依法参加社会保险，评为劳动保障守法诚信示范单位。",
                )
            )
        department, category, title, content = rng.choice(options)
        day = date(year + 1, 4, 1).toordinal() + rng.randint(0, 60)
        if day <= today:
            t.add(
                day,
                department,
                "performance.recorded",
                {
                    "record_no": self.numbers.doc(f"{self.abbr[department]}信", day),
                    "category": category,
                    "title": title,
                    "content": content,
                },
            )

    def _other(self, t: Timeline, p: Profile) -> None:
        rng, today = self.rng, self.today
        first = max(p.established + 60, EARLIEST_DISCLOSURE)
        if rng.random() >= 0.06 or first > today:
            return
        day = rng.randint(first, today)
        year = year_of(day)
        wan = rng.choice((20, 50, 100, 200, 300, 500, 1000))
        amount = {"amount": money(wan * 10_000), "currency": "CNY"}
        kind = rng.choices(("股权出质", "动产抵押", "股权冻结", "欠税公告"), (40, 25, 20, 15))[0]
        if not p.is_company and kind in ("股权出质", "股权冻结"):
            kind = "动产抵押"
        holder = self.people.person_name("M")
        if kind == "股权出质":
            no = f"（津）股质登记设字〔{year}〕第{self.numbers.next(f'pledge{year}')}号"
            content = f"出质人：{holder}；质权人：{rng.choice(kb.BANKS)}；出质股权数额：{wan}万元；状态：有效"
        elif kind == "动产抵押":
            no = f"（津）动抵登字〔{year}〕第{self.numbers.next(f'mortgage{year}')}号"
            content = (
                f"抵押权人：{rng.choice(kb.BANKS)}；被担保债权数额：{wan}万元；"
                f"抵押物：{rng.choice(kb.COLLATERAL)}"
            )
        elif kind == "股权冻结":
            code, court = rng.choice(kb.COURTS)
            no = f"（{year}）津{code}执{self.numbers.next(f'court{code}{year}')}号"
            content = (
                f"执行法院：{court}；被执行人：{holder}；冻结股权数额：{wan}万元；"
                f"冻结期限自{iso(day)}至{iso(months_later(day, 36))}"
            )
        else:
            no = self.numbers.doc("津税欠", day)
            amount = {"amount": f"{rng.randint(5_000, 2_000_000)}.00", "currency": "CNY"}
            content = f"欠缴税种：增值税、城市维护建设税；欠税余额：{amount['amount']}元"
        department = "TJ-TAX" if kind == "欠税公告" else AMR
        t.add(
            day,
            department,
            "other.recorded",
            {"record_no": no, "category": kind, "content": content, "amount": amount},
        )

    def _disclosures(self, t: Timeline, p: Profile, licences: list[tuple[str, str, int]]) -> None:
        rng, today = self.rng, self.today
        first = max(p.established + 30, EARLIEST_DISCLOSURE)
        if not p.is_company or rng.random() >= 0.12 or first > today:
            return
        for category in rng.sample(kb.DISCLOSURE_CATEGORIES, 1 + (rng.random() < 0.3)):
            day = rng.randint(first, today)
            year = year_of(day)
            held = [lic for lic in licences if lic[2] < day]
            if category == "行政许可信息" and not held:
                category = "股东及出资信息"
            if category == "股东及出资信息":
                a, b = self.people.person_name("M"), self.people.person_name("F")
                content = (
                    f"股东：{a}，认缴出资比例{rng.choice((60, 70, 80))}%，出资方式：货币，"
                    f"认缴出资日期：{year + 20}-12-31；"
                    f"股东：{b}，出资方式：货币，认缴出资日期：{year + 20}-12-31"
                )
            elif category == "股权变更信息":
                content = (
                    f"股东{self.people.person_name('M')}将其持有的{rng.choice((10, 20, 30, 51))}%股权转让给"
                    f"{self.people.person_name('F')}，股权变更日期：{iso(day)}"
                )
            elif category == "行政许可信息":
                no, licence_name, granted = rng.choice(held)
                content = f"许可文件名称：{licence_name}；许可文件编号：{no}；有效期自{iso(granted)}起"
            else:
                content = (
                    f"知识产权名称：{rng.choice(kb.PATENT_TOPICS)}（发明专利）；出质人：本企业；"
                    f"质权人：{rng.choice(kb.BANKS)}；质权登记期限：{iso(day)}至{iso(months_later(day, 24))}"
                )
            t.add(
                day,
                "ENTERPRISE",
                "disclosure.published",
                {
                    "disclosure_no": f"JS{year}{self.numbers.next(f'disclosure{year}'):08d}",
                    "category": category,
                    "content": content,
                },
            )
