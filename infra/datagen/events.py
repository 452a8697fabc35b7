"""An entity's life as publications, in the order the aggregate must see them.

`LifePlanner.plan(profile)` returns `(day, order, department, kind, payload)` tuples sorted by
day (date ordinal) and then by `order`. Dependent publications (a licence change, a penalty
amendment, a listing's removal, a credit repair) are always dated strictly after what they
depend on; registration comes first, except for the ~1 % of entities that deliberately get one
licence or filing published just before it (to exercise parking).
"""

from __future__ import annotations

import random
from datetime import date
from functools import lru_cache
from typing import Any

from domain.publicity import add_months, publicity_period
from infra.datagen import names as kb
from infra.datagen.profiles import Profile, ProfileFactory, scope_text

Item = tuple[int, int, str, str, dict[str, Any]]

AMR = "TJ-AMR"
EARLIEST_PENALTY = date(2019, 1, 1).toordinal()
EARLIEST_INSPECTION = date(2016, 6, 1).toordinal()
EARLIEST_DISCLOSURE = date(2014, 3, 1).toordinal()
FIRST_REPORT_YEAR = 2000  # AnnualReportSubmitted.year >= 2000 (the real system began with 2013's reports)
SEVERITIES = ("minor", "general", "serious")
SEVERITY_WEIGHTS = (30, 55, 15)
CHANGEABLE = ("address", "business_scope", "registered_capital", "legal_representative")
FIELD_LABELS = {"address": "住所", "business_scope": "经营范围", "registered_capital": "注册资本",
                "legal_representative": "法定代表人", "name": "名称"}


@lru_cache(maxsize=None)
def iso(day: int) -> str:
    return date.fromordinal(day).isoformat()


@lru_cache(maxsize=None)
def year_of(day: int) -> int:
    return date.fromordinal(day).year


@lru_cache(maxsize=None)
def report_window(year: int) -> tuple[int, int]:
    return date(year + 1, 1, 1).toordinal(), date(year + 1, 6, 30).toordinal()


def months_later(day: int, months: int) -> int:
    return add_months(date.fromordinal(day), months).toordinal()


def money(amount: int) -> str:
    return f"{amount}.00"


class Timeline:
    """Publications of one entity; `order` breaks ties between publications of the same day."""

    __slots__ = ("items", "n")

    def __init__(self) -> None:
        self.items: list[Item] = []
        self.n = 0

    def add(self, day: int, department: str, kind: str, payload: dict[str, Any], *, early: bool = False) -> None:
        self.n += 1
        self.items.append((day, -1 if early else self.n, department, kind, payload))


class Numbers:
    """Serial numbers departments issue (decision numbers, licence numbers …), per key."""

    def __init__(self) -> None:
        self._last: dict[str, int] = {}

    def next(self, key: str) -> int:
        n = self._last.get(key, 0) + 1
        self._last[key] = n
        return n

    def doc(self, prefix: str, day: int) -> str:
        """`津市监罚〔2024〕123号`"""
        year = year_of(day)
        return f"{prefix}〔{year}〕{self.next(f'{prefix}{year}')}号"


class _State:
    """The registration as it changes over time (for changes and annual reports)."""

    def __init__(self, p: Profile) -> None:
        self.name = p.name
        self.scope = list(p.scope)
        self.permits = list(p.permits)
        self.capital = p.capital
        self.representative = p.legal_representative
        self.addresses: list[tuple[int, str]] = [(p.established, p.address)]

    def address_on(self, day: int) -> str:
        current = self.addresses[0][1]
        for since, address in self.addresses:
            if since > day:
                break
            current = address
        return current


class LifePlanner:
    def __init__(self, rng: random.Random, factory: ProfileFactory, today: date,
                 abbreviations: dict[str, str]) -> None:
        self.rng = rng
        self.people = factory
        self.today = today.toordinal()
        self.numbers = Numbers()
        self.abbr = abbreviations
        self._sector_departments = {
            sector: ((AMR, 4.0), ("TJ-TAX", 3.0), *extra) for sector, extra in kb.SECTOR_DEPARTMENTS.items()
        }

    def plan(self, p: Profile) -> list[Item]:
        rng, t = self.rng, Timeline()
        state = _State(p)
        self._register(t, p)
        early = rng.random() < 0.012
        licences = self._licences(t, p, early)
        self._filings(t, p, early and not licences)
        self._changes(t, p, state)
        self._penalties(t, p)
        listing = self._abnormal(t, p)
        self._annual_reports(t, p, state, listing)
        self._inspections(t, p)
        self._performance(t, p)
        self._other(t, p)
        self._disclosures(t, p, licences)
        end = self._terminal(t, p, listing)
        items = t.items
        if end is not None:  # after deregistration / revocation only new penalties follow
            items = [i for i in items if (i[0], i[1]) <= end or i[3] == "penalty.imposed"]
        items.sort()
        return items

    # --- registration, status -----------------------------------------------------------------

    def _register(self, t: Timeline, p: Profile) -> None:
        payload: dict[str, Any] = {
            "name": p.name,
            "entity_type": p.entity_type,
            "legal_representative": p.legal_representative,
            "registered_capital": p.capital,
            "established_on": iso(p.established),
            "address": p.address,
            "business_scope": scope_text(p.scope, p.permits, p.established),
            "registration_authority": p.registration_authority,
            "industry": p.sector,
        }
        if p.registration_number:
            payload["registration_number"] = p.registration_number
        if p.operating_until:
            payload["operating_until"] = p.operating_until
        if p.phone:
            payload["phone"] = p.phone
        t.add(p.established, AMR, "registration.registered", payload)

    def _terminal(self, t: Timeline, p: Profile, listing: tuple[str, int, int] | None) -> tuple[int, int] | None:
        """Maybe deregister or revoke the business licence; the (day, order) it happened."""
        rng, today = self.rng, self.today
        if listing and listing[0] == "zombie" and listing[2] + 365 <= today and rng.random() < 0.3:
            day = rng.randint(listing[2] + 365, min(listing[2] + 900, today))
        elif rng.random() < 0.004 and p.established + 730 <= today:
            day = rng.randint(p.established + 730, today)
        else:
            day = 0
        if day:
            t.add(day, AMR, "registration.licence_revoked", {
                "decision_no": self.numbers.doc(kb.PENALTY_PREFIX[AMR], day),
                "reason": kb.LICENCE_REVOCATION_REASON, "basis": kb.LICENCE_REVOCATION_BASIS})
            return day, t.n
        if rng.random() >= 0.035 or p.established + 365 > today:
            return None
        day = rng.randint(p.established + 365, today)
        if p.entity_type == "个体工商户":
            reason = kb.INDIVIDUAL_DEREGISTRATION
        else:
            reason = rng.choice(kb.DEREGISTRATION_REASONS)
            if reason != "简易注销" and p.is_company:
                filed = day - rng.randint(45, 90)
                if filed > p.established:
                    members = "、".join(self.people.person_name("M") for _ in range(2))
                    self._filing(t, p, filed, "清算组备案",
                                 f"清算组负责人：{p.legal_representative['name']}；清算组成员：{members}")
        t.add(day, AMR, "registration.deregistered", {"reason": reason})
        return day, t.n

    # --- filings, licences ---------------------------------------------------------------------

    def _filing(self, t: Timeline, p: Profile, day: int, kind: str, content: str, *, early: bool = False) -> None:
        key = f"BA{p.district}{year_of(day)}"
        no = f"{p.district}{year_of(day)}BA{self.numbers.next(key):06d}"
        t.add(day, AMR, "filing.recorded", {"filing_no": no, "filing_type": kind, "content": content}, early=early)

    def _filings(self, t: Timeline, p: Profile, early: bool) -> None:
        rng, today, est = self.rng, self.today, p.established
        if early and p.is_company:
            self._filing(t, p, est, "章程备案", "公司章程备案", early=True)
        elif early:
            self._filing(t, p, est, "联络员备案", f"联络员：{self.people.person_name('F')}", early=True)
        if p.entity_type == "股份有限公司" or (p.entity_type == "有限责任公司" and rng.random() < 0.12):
            names = [self.people.person_name("M" if rng.random() < 0.7 else "F") for _ in range(4)]
            self._filing(t, p, est, "董事备案", f"董事：{names[0]}（董事长）、{names[1]}、{names[2]}")
            self._filing(t, p, est, "监事备案", f"监事：{names[3]}")
        elif p.entity_type == "有限责任公司" and rng.random() < 0.35:
            self._filing(t, p, est + rng.randint(0, 10), "章程备案", "公司章程备案")
        if rng.random() < 0.06:
            start = max(est, date(2014, 10, 1).toordinal())
            if start <= today:
                self._filing(t, p, rng.randint(start, today), "联络员备案",
                             f"企业联络员：{self.people.person_name('F' if rng.random() < 0.6 else 'M')}")
        if p.customs and rng.random() < 0.4 and est + 30 <= today:
            day = rng.randint(est + 30, min(est + 400, today))
            code = f"12{rng.choice(('07', '08', '09', '14', '16', '17', '19'))}{self.numbers.next('customs'):06d}"
            t.add(day, "TJ-CUSTOMS", "filing.recorded", {
                "filing_no": code, "filing_type": "报关单位备案",
                "content": f"报关单位备案（进出口货物收发货人），海关编码：{code}，所在地海关：天津新港海关"})

    def _licences(self, t: Timeline, p: Profile, early: bool) -> list[tuple[str, str, int]]:
        """Grant the trade's licences; renewals, changes and revocations follow."""
        rng, today, granted = self.rng, self.today, []
        for licence_name, probability in p.licences:
            if rng.random() >= probability:
                continue
            spec = kb.LICENCES[licence_name]
            if early:
                day, early = p.established, False
                first = True
            else:
                day, first = rng.randint(p.established, min(p.established + 240, today)), False
            valid_to = months_later(day, 12 * spec.years) if spec.years else None
            no = spec.number.format(d=p.district, y=year_of(day), n=self.numbers.next(licence_name), u=p.uscc,
                                    v=year_of(valid_to) if valid_to else "")
            payload = {"licence_no": no, "licence_name": licence_name,
                       "content": rng.choice(spec.contents).format(sector=p.sector),
                       "valid_from": iso(day), "basis": spec.basis}
            if valid_to:
                payload["valid_to"] = iso(valid_to)
            t.add(day, spec.department, "licence.granted", payload, early=first)
            granted.append((no, licence_name, day))
            self._licence_history(t, spec.department, no, day, valid_to)
        return granted

    def _licence_history(self, t: Timeline, department: str, no: str, granted: int, valid_to: int | None) -> None:
        rng, today = self.rng, self.today
        if rng.random() < 0.12 and granted + 30 <= today:
            day = rng.randint(granted + 30, min(granted + 700, today))
            t.add(day, department, "licence.changed", {"licence_no": no, "content": rng.choice(kb.LICENCE_CHANGES)})
        if valid_to is None:
            if rng.random() < 0.05 and granted + 180 <= today:
                t.add(rng.randint(granted + 180, today), department, "licence.revoked",
                      {"licence_no": no, "reason": rng.choice(kb.LICENCE_REVOCATIONS[1:])})
            return
        while valid_to < today:
            r = rng.random()
            if r < 0.65:  # renewed shortly before expiry
                day = valid_to - rng.randint(10, 60)
                valid_to = months_later(valid_to, 60)
                t.add(day, department, "licence.changed", {
                    "licence_no": no, "content": f"许可延续，有效期延至{iso(valid_to)}", "valid_to": iso(valid_to)})
                continue
            if r < 0.85 and valid_to + 60 <= today:
                t.add(valid_to + rng.randint(1, 60), department, "licence.revoked",
                      {"licence_no": no, "reason": kb.LICENCE_REVOCATIONS[0]})
            break

    # --- registration changes --------------------------------------------------------------------

    def _changes(self, t: Timeline, p: Profile, state: _State) -> None:
        rng, today, est = self.rng, self.today, p.established
        r = rng.random()
        if r >= 0.30 or est + 60 > today:
            return
        count = 1 + (rng.random() < 0.35) + (rng.random() < 0.1)
        days = sorted({rng.randint(est + 30, today) for _ in range(count)})
        renaming = r < 0.08 and p.entity_type != "分公司"
        rename_at = rng.randrange(len(days)) if renaming else -1
        fields_pool = CHANGEABLE if p.entity_type != "分公司" else CHANGEABLE[:2] + CHANGEABLE[3:]
        for i, day in enumerate(days):
            fields = rng.sample(fields_pool, 1 + (rng.random() < 0.3))
            if i == rename_at:
                fields = ["name", *fields[:1]] if rng.random() < 0.4 else ["name"]
            changes = [self._change(p, state, f, day) for f in fields]
            t.add(day, AMR, "registration.changed", {"changes": changes, "change_authority": p.registration_authority})
            if p.entity_type in ("有限责任公司", "股份有限公司") and rng.random() < 0.5:
                labels = "、".join(FIELD_LABELS[f] for f in fields)
                self._filing(t, p, day, "章程备案", f"章程修正案备案：修改章程中关于{labels}的条款")

    def _change(self, p: Profile, state: _State, field: str, day: int) -> dict[str, Any]:
        rng = self.rng
        if field == "name":
            before, state.name = state.name, self.people.new_name(p)
            return {"field": "name", "before": before, "after": state.name}
        if field == "address":
            before_address, after_address = state.address_on(day), self.people.address(
                p.district, shop=p.entity_type == "个体工商户")
            state.addresses.append((day, after_address))
            return {"field": "address", "before": before_address, "after": after_address}
        if field == "business_scope":
            before = scope_text(state.scope, state.permits, day - 1)
            extra = [s for s in ("技术服务、技术开发、技术咨询、技术交流、技术转让、技术推广", "货物进出口", "会议及展览服务",
                                 "信息咨询服务（不含许可类信息咨询服务）", "日用百货销售") if s not in state.scope]
            state.scope = state.scope + rng.sample(extra, min(len(extra), rng.randint(1, 2)))
            return {"field": "business_scope", "before": before, "after": scope_text(state.scope, state.permits, day)}
        if field == "registered_capital":
            before_capital = state.capital
            amount = int(float(before_capital["amount"]) * rng.choice((1.5, 2, 2.5, 3, 5, 10)))
            state.capital = {"amount": money(amount // 1000 * 1000),
                             "currency": before_capital["currency"]}
            return {"field": "registered_capital", "before": before_capital, "after": state.capital}
        before_rep, state.representative = state.representative, self.people.person(reuse=0.1)
        return {"field": "legal_representative", "before": before_rep, "after": state.representative}

    # --- penalties, repair ------------------------------------------------------------------------

    def _penalties(self, t: Timeline, p: Profile) -> None:
        rng, today = self.rng, self.today
        first = max(EARLIEST_PENALTY, p.established + 30)
        if rng.random() >= 0.20 or first > today:
            return
        departments, weights = zip(*self._sector_departments[p.sector], strict=True)
        for _ in range(rng.choices((1, 2, 3), (75, 20, 5))[0]):
            department = rng.choices(departments, weights)[0]
            if department == "TJ-CUSTOMS" and not p.customs:
                department = "TJ-TAX"
            violations = [v for v in kb.VIOLATIONS[department] if not v.sectors or p.sector in v.sectors]
            if not violations:
                department, violations = AMR, [v for v in kb.VIOLATIONS[AMR] if not v.sectors]
            self._penalty(t, p, department, rng.choice(violations), rng.randint(first, today))

    def _penalty(self, t: Timeline, p: Profile, department: str, v: kb.Violation, decided: int) -> None:
        rng, today = self.rng, self.today
        severity = rng.choices(SEVERITIES, SEVERITY_WEIGHTS)[0]
        if severity == "serious" and not v.serious:
            severity = "general"
        confiscated = 0
        if severity == "minor":
            fine = 0 if rng.random() < 0.5 else rng.randint(2, 50) * 100
            content = f"警告，并处罚款{fine}元" if fine else "警告"
        elif severity == "general":
            fine = rng.randint(5, 200) * 1000
            content = f"责令改正，罚款人民币{fine}元"
        else:
            fine = rng.randint(10, 200) * 10_000
            confiscated = rng.randint(1, 500) * 1000 if rng.random() < 0.4 else 0
            content = (f"没收违法所得{confiscated}元，并处罚款{fine}元" if confiscated else f"罚款人民币{fine}元")
        decision_no = self.numbers.doc(kb.PENALTY_PREFIX[department], decided)
        payload: dict[str, Any] = {
            "decision_no": decision_no, "violation": f"当事人{v.text}", "basis": v.basis, "content": content,
            "fine_amount": money(fine), "decided_on": iso(decided), "severity": severity,
        }
        if confiscated:
            payload["confiscated_amount"] = money(confiscated)
        t.add(decided, department, "penalty.imposed", payload)
        last = decided
        if rng.random() < 0.08 and decided + 15 <= today:
            last = rng.randint(decided + 15, min(decided + 180, today))
            amended: dict[str, Any] = {"decision_no": decision_no}
            if fine:
                fine = fine * rng.choice((5, 6, 8)) // 1000 * 100
                amended.update(reason=rng.choice(kb.PENALTY_AMENDMENTS[:2]), content=f"变更为：罚款人民币{fine}元",
                               fine_amount=money(fine))
            else:
                amended["reason"] = kb.PENALTY_AMENDMENTS[2]
            if severity == "serious" and rng.random() < 0.3:
                severity = amended["severity"] = "general"
            t.add(last, department, "penalty.amended", amended)
        if rng.random() < 0.04 and last + 20 <= today:
            t.add(rng.randint(last + 20, min(last + 365, today)), department, "penalty.revoked",
                  {"decision_no": decision_no, "reason": rng.choice(kb.PENALTY_REVOCATIONS)})
            return
        if rng.random() < 0.3:
            earliest = publicity_period(severity, date.fromordinal(decided)).earliest_repair_on
            if earliest is not None:
                day = max(earliest.toordinal(), last + 1) + rng.randint(0, 120)
                if day <= today:
                    t.add(day, "TJ-DRC", "repair.approved", {
                        "target": "penalty", "decision_no": decision_no, "reason": rng.choice(kb.REPAIR_REASONS)})
        if department == AMR and severity == "serious" and rng.random() < 0.6 and decided + 10 <= today:
            self._serious(t, rng.randint(decided + 10, min(decided + 60, today)),
                          f"因{v.text}，被处以较重行政处罚", kb.SERIOUS_FROM_PENALTY_BASIS)

    # --- abnormal operations list, serious list ------------------------------------------------------

    def _serious(self, t: Timeline, day: int, reason: str, basis: str) -> None:
        rng, today = self.rng, self.today
        decision_no = self.numbers.doc("津市监严违", day)
        t.add(day, AMR, "serious.listed", {"decision_no": decision_no, "reason": reason, "basis": basis})
        if rng.random() < 0.45 and day + 366 <= today:
            removed = rng.randint(day + 366, min(day + 3 * 365 + 60, today))
            reason = kb.SERIOUS_REMOVALS[0] if removed >= months_later(day, 36) else kb.SERIOUS_REMOVALS[1]
            t.add(removed, AMR, "serious.removed", {"decision_no": decision_no, "reason": reason})

    def _abnormal(self, t: Timeline, p: Profile) -> tuple[str, int, int] | None:
        """List ~8 % of entities; returns (how, report year missed, listed day) for annual reports."""
        rng, today, est = self.rng, self.today, p.established
        if rng.random() >= 0.08:
            return None
        years = [y for y in range(max(year_of(est), FIRST_REPORT_YEAR), year_of(today))
                 if report_window(y)[1] + 1 <= today]
        if years and rng.random() < 0.8:
            year = rng.choice(years)
            start = report_window(year)[1] + 1
            listed = rng.randint(start, min(start + 45, today))
            decision_no = self._list_abnormal(t, listed, kb.ABNORMAL_NOT_FILED)
            if rng.random() < 0.5:
                late = listed + rng.randint(7, 400)
                removed = late + rng.randint(1, 15)
                if removed > today:
                    return "missed", year, listed
                t.add(removed, AMR, "abnormal.removed", {"decision_no": decision_no,
                                                          "reason": kb.ABNORMAL_REMOVED_FILED})
                return "late", year, late
            serious_on = months_later(listed, 36)
            if serious_on <= today and rng.random() < 0.8:
                self._serious(t, rng.randint(serious_on, min(serious_on + 30, today)),
                              kb.SERIOUS_FROM_ABNORMAL, kb.SERIOUS_BASIS)
            return "zombie", year, listed
        first = max(est + 180, EARLIEST_DISCLOSURE)
        if first <= today:
            listed = rng.randint(first, today)
            decision_no = self._list_abnormal(t, listed, kb.ABNORMAL_UNREACHABLE)
            if rng.random() < 0.5 and listed + 30 <= today:
                t.add(rng.randint(listed + 30, min(listed + 700, today)), AMR, "abnormal.removed",
                      {"decision_no": decision_no, "reason": kb.ABNORMAL_REMOVED_REACHABLE})
        return None

    def _list_abnormal(self, t: Timeline, day: int, reason: str) -> str:
        decision_no = self.numbers.doc("津市监经异", day)
        t.add(day, AMR, "abnormal.listed", {"decision_no": decision_no, "reason": reason,
                                             "basis": kb.ABNORMAL_BASIS[reason]})
        return decision_no

    # --- annual reports ----------------------------------------------------------------------------------

    def _annual_reports(self, t: Timeline, p: Profile, state: _State, listing: tuple[str, int, int] | None) -> None:
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
                    t.add(late, "ENTERPRISE", "annual_report.submitted", self._report(p, state, year, late, scale, staff))
                continue
            opens, closes = report_window(year)
            day = min(opens + int(rng.triangular(0, 181, 170)), closes)
            if day > today:
                continue
            scale *= rng.uniform(0.85, 1.3)
            staff = max(1, int(staff * rng.uniform(0.8, 1.3) + 0.5))
            report = self._report(p, state, year, day, scale, staff)
            t.add(day, "ENTERPRISE", "annual_report.submitted", report)
            if rng.random() < 0.025 and day < min(closes, today):
                corrected = dict(report, reason=rng.choice(kb.ANNUAL_REPORT_CORRECTIONS))
                corrected["employees"] = max(1, staff + rng.randint(-3, 3))
                t.add(rng.randint(day + 1, min(closes, today)), "ENTERPRISE", "annual_report.corrected", corrected)

    def _report(self, p: Profile, state: _State, year: int, day: int, scale: float, staff: int) -> dict[str, Any]:
        rng = self.rng
        revenue = scale * rng.lognormvariate(0, 0.6)
        report: dict[str, Any] = {
            "year": year, "address": state.address_on(day), "operating_status": "开业" if rng.random() < 0.96 else "歇业",
            "employees": staff, "revenue": f"{revenue:.2f}", "tax_paid": f"{revenue * rng.uniform(0.005, 0.06):.2f}",
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

    # --- inspections, performance, other, disclosures -------------------------------------------------------

    def _inspections(self, t: Timeline, p: Profile) -> None:
        rng, today = self.rng, self.today
        first = max(p.established + 60, EARLIEST_INSPECTION)
        if first > today - 3 or rng.random() >= 0.3:
            return
        for _ in range(1 + (rng.random() < 0.25)):
            department = AMR
            if p.sector in kb.INSPECTORS and rng.random() < 0.35:
                department = rng.choice(kb.INSPECTORS[p.sector])
            inspected = rng.randint(first, today - 3)
            kind = rng.choice(kb.INSPECTION_TYPES)
            label = "双随机" if kind == "双随机抽查" else "专项检查"
            t.add(min(inspected + rng.randint(2, 30), today), department, "inspection.published", {
                "inspection_no": self.numbers.doc(f"{self.abbr[department]}{label}", inspected),
                "inspection_type": kind, "inspected_on": iso(inspected),
                "result": rng.choices(kb.INSPECTION_RESULTS, kb.INSPECTION_RESULT_WEIGHTS)[0]})

    def _performance(self, t: Timeline, p: Profile) -> None:
        rng, today = self.rng, self.today
        if not p.is_company or rng.random() >= 0.09:
            return
        first, last = max(year_of(p.established) + 1, 2014), year_of(today) - 1
        if first > last:
            return
        year = rng.randint(first, last)  # the year honoured
        options = [("TJ-TAX", "纳税信用等级", f"{year}年度纳税信用A级纳税人",
                    f"经评价，该纳税人{year}年度纳税信用级别为A级。"),
                   (AMR, "守合同重信用", f"{year}—{year + 1}年度天津市“守合同重信用”企业",
                    "合同管理制度健全，合同履约率高，经公示无异议，认定为天津市“守合同重信用”企业。")]
        if p.sector == kb.CONSTRUCTION:
            options += [("TJ-HURD", "工程质量奖项", f"{year}年度天津市建设工程“海河杯”奖",
                         "承建的工程项目荣获天津市建设工程“海河杯”奖（优质工程）。")] * 3
        if p.customs:
            options += [("TJ-CUSTOMS", "海关信用认证", "海关高级认证企业（AEO）",
                         "经中华人民共和国天津海关认证，该企业为海关高级认证企业，享受中国海关与互认国家（地区）海关通关便利措施。")] * 2
        if p.sector in (kb.BUSINESS, kb.CONSTRUCTION, kb.MANUFACTURING):
            options.append(("TJ-HRSS", "劳动保障诚信", "天津市劳动保障守法诚信示范单位",
                            "依法签订劳动合同、按时足额支付工资、依法参加社会保险，评为劳动保障守法诚信示范单位。"))
        department, category, title, content = rng.choice(options)
        day = date(year + 1, 4, 1).toordinal() + rng.randint(0, 60)
        if day <= today:
            t.add(day, department, "performance.recorded", {
                "record_no": self.numbers.doc(f"{self.abbr[department]}信", day), "category": category,
                "title": title, "content": content})

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
            content = f"抵押权人：{rng.choice(kb.BANKS)}；被担保债权数额：{wan}万元；抵押物：{rng.choice(kb.COLLATERAL)}"
        elif kind == "股权冻结":
            code, court = rng.choice(kb.COURTS)
            no = f"（{year}）津{code}执{self.numbers.next(f'court{code}{year}')}号"
            content = (f"执行法院：{court}；被执行人：{holder}；冻结股权数额：{wan}万元；"
                       f"冻结期限自{iso(day)}至{iso(months_later(day, 36))}")
        else:
            no = self.numbers.doc("津税欠", day)
            amount = {"amount": f"{rng.randint(5_000, 2_000_000)}.00", "currency": "CNY"}
            content = f"欠缴税种：增值税、城市维护建设税；欠税余额：{amount['amount']}元"
        department = "TJ-TAX" if kind == "欠税公告" else AMR
        t.add(day, department, "other.recorded", {"record_no": no, "category": kind, "content": content,
                                                  "amount": amount})

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
                content = (f"股东：{a}，认缴出资额{rng.choice((60, 70, 80))}%，出资方式：货币，认缴出资日期：{year + 20}-12-31；"
                           f"股东：{b}，出资方式：货币，认缴出资日期：{year + 20}-12-31")
            elif category == "股权变更信息":
                content = (f"股东{self.people.person_name('M')}将其持有的{rng.choice((10, 20, 30, 51))}%股权转让给"
                           f"{self.people.person_name('F')}，股权变更日期：{iso(day)}")
            elif category == "行政许可信息":
                no, licence_name, granted = rng.choice(held)
                content = f"许可文件名称：{licence_name}；许可文件编号：{no}；有效期自{iso(granted)}起"
            else:
                content = (f"知识产权名称：{rng.choice(kb.PATENT_TOPICS)}（发明专利）；出质人：本企业；"
                           f"质权人：{rng.choice(kb.BANKS)}；质权登记期限：{iso(day)}至{iso(months_later(day, 24))}")
            t.add(day, "ENTERPRISE", "disclosure.published", {
                "disclosure_no": f"JS{year}{self.numbers.next(f'disclosure{year}'):08d}", "category": category,
                "content": content})
