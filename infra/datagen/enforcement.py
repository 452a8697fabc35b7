"""Enforcement over an entity's life: penalties (amended, revoked, repaired), the abnormal
operations list and the serious illegal and dishonest list, and inspections.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from domain.publicity import PenaltyFacts, default_policy, publicity_period
from infra.datagen import names as kb
from infra.datagen.profiles import Profile
from infra.datagen.timeline import (
    AMR,
    EARLIEST_DISCLOSURE,
    FIRST_REPORT_YEAR,
    PlannerBase,
    Timeline,
    iso,
    money,
    months_later,
    report_window,
    year_of,
)

EARLIEST_PENALTY = date(2019, 1, 1).toordinal()
EARLIEST_INSPECTION = date(2016, 6, 1).toordinal()
SEVERITIES = ("minor", "general", "serious")
SEVERITY_WEIGHTS = (30, 52, 18)


#: The field of regulation of a violation, where the publicity rules treat it differently.
_DEPARTMENT_DOMAINS = {"TJ-EM": "work_safety", "TJ-EE": "environment"}
_DOMAIN_WORDS = (
    ("特种设备", "special_equipment"),
    ("食品", "food"),
    ("医疗器械", "medical_devices"),
    ("药品", "drugs"),
    ("建筑材料", "construction_quality"),
    ("消防", "fire_protection"),
)


def penalty_domain(department: str, violation: str) -> str:
    for word, domain in _DOMAIN_WORDS:
        if word in violation:
            return domain
    return _DEPARTMENT_DOMAINS.get(department, "other")


class Enforcement(PlannerBase):
    def _penalties(self, t: Timeline, p: Profile) -> None:
        rng, today = self.rng, self.today
        first = max(EARLIEST_PENALTY, p.established + 30)
        if rng.random() >= 0.20 or first > today:
            return
        departments, weights = zip(*self.sector_departments[p.sector], strict=True)
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
        procedure = "ordinary"
        if severity == "minor":
            fine = 0 if rng.random() < 0.5 else rng.randint(2, 50) * 100
            content = f"警告，并处罚款{fine}元" if fine else "警告"
            measures = ["warning", "fine"] if fine else ["warning"]
            # 行政处罚法 Art. 51: a warning, or a fine up to 3,000 CNY for an organisation, on the spot
            if fine <= 3000 and rng.random() < 0.6:
                procedure = "simplified"
        elif severity == "general":
            fine = rng.randint(5, 200) * 1000
            content = f"责令改正，罚款人民币{fine}元"
            measures = ["fine"]
        else:
            fine = rng.randint(10, 200) * 10_000
            confiscated = rng.randint(1, 500) * 1000 if rng.random() < 0.4 else 0
            content = (
                f"没收违法所得{confiscated}元，并处罚款{fine}元" if confiscated else f"罚款人民币{fine}元"
            )
            measures = ["fine", "confiscation_of_gains"] if confiscated else ["fine"]
            if rng.random() < 0.15:
                content += "，吊销许可证件"
                measures.append("licence_revocation")
        decision_no = self.numbers.doc(kb.PENALTY_PREFIX[department], decided)
        payload: dict[str, Any] = {
            "decision_no": decision_no,
            "violation": f"当事人{v.text}",
            "basis": v.basis,
            "content": content,
            "fine_amount": money(fine),
            "decided_on": iso(decided),
            "severity": severity,
            "measures": measures,
            "domain": penalty_domain(department, v.text),
            "procedure": procedure,
            # publicised a few days after the decision (within SAMR Order 45 Art. 9's 20 working days)
            "publicised_on": iso(min(decided + rng.randint(0, 10), today)),
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
                amended.update(
                    reason=rng.choice(kb.PENALTY_AMENDMENTS[:2]),
                    content=f"变更为：罚款人民币{fine}元",
                    fine_amount=money(fine),
                )
            else:
                amended["reason"] = kb.PENALTY_AMENDMENTS[2]
            if severity == "serious" and rng.random() < 0.3:
                severity = amended["severity"] = "general"
            t.add(last, department, "penalty.amended", amended)
        if rng.random() < 0.06 and last + 20 <= today:
            t.add(
                rng.randint(last + 20, min(last + 365, today)),
                department,
                "penalty.revoked",
                {"decision_no": decision_no, "reason": rng.choice(kb.PENALTY_REVOCATIONS)},
            )
            return
        if rng.random() < 0.3:
            amended_facts = {"severity": severity, "fine_amount": money(fine), "department": department}
            facts = PenaltyFacts.of({**payload, **amended_facts})
            earliest = publicity_period(facts, default_policy()).earliest_repair_on
            if earliest is not None:
                day = max(earliest.toordinal(), last + 1) + rng.randint(0, 120)
                if day <= today:
                    t.add(
                        day,
                        "TJ-DRC",
                        "repair.approved",
                        {
                            "target": "penalty",
                            "decision_no": decision_no,
                            "reason": rng.choice(kb.REPAIR_REASONS),
                        },
                    )
        if department == AMR and severity == "serious" and rng.random() < 0.8 and decided + 10 <= today:
            self._serious(
                t,
                rng.randint(decided + 10, min(decided + 60, today)),
                f"因{v.text}，被处以较重行政处罚",
                kb.SERIOUS_FROM_PENALTY_BASIS,
            )

    def _serious(self, t: Timeline, day: int, reason: str, basis: str) -> None:
        rng, today = self.rng, self.today
        decision_no = self.numbers.doc("津市监严违", day)
        t.add(day, AMR, "serious.listed", {"decision_no": decision_no, "reason": reason, "basis": basis})
        if rng.random() < 0.7 and day + 366 <= today:
            removed = rng.randint(day + 366, min(day + 3 * 365 + 60, today))
            reason = kb.SERIOUS_REMOVALS[0] if removed >= months_later(day, 36) else kb.SERIOUS_REMOVALS[1]
            t.add(removed, AMR, "serious.removed", {"decision_no": decision_no, "reason": reason})

    def _abnormal(self, t: Timeline, p: Profile) -> tuple[str, int, int] | None:
        """List ~8 % of entities; returns (how, report year missed, listed day) for annual reports."""
        rng, today, est = self.rng, self.today, p.established
        if rng.random() >= 0.08:
            return None
        years = [
            y
            for y in range(max(year_of(est), FIRST_REPORT_YEAR), year_of(today))
            if report_window(y)[1] + 1 <= today
        ]
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
                t.add(
                    removed,
                    AMR,
                    "abnormal.removed",
                    {"decision_no": decision_no, "reason": kb.ABNORMAL_REMOVED_FILED},
                )
                return "late", year, late
            serious_on = months_later(listed, 36)
            if serious_on <= today and rng.random() < 0.9:
                self._serious(
                    t,
                    rng.randint(serious_on, min(serious_on + 30, today)),
                    kb.SERIOUS_FROM_ABNORMAL,
                    kb.SERIOUS_BASIS,
                )
            return "zombie", year, listed
        first = max(est + 180, EARLIEST_DISCLOSURE)
        if first <= today:
            listed = rng.randint(first, today)
            decision_no = self._list_abnormal(t, listed, kb.ABNORMAL_UNREACHABLE)
            if rng.random() < 0.5 and listed + 30 <= today:
                t.add(
                    rng.randint(listed + 30, min(listed + 700, today)),
                    AMR,
                    "abnormal.removed",
                    {"decision_no": decision_no, "reason": kb.ABNORMAL_REMOVED_REACHABLE},
                )
        return None

    def _list_abnormal(self, t: Timeline, day: int, reason: str) -> str:
        decision_no = self.numbers.doc("津市监经异", day)
        t.add(
            day,
            AMR,
            "abnormal.listed",
            {"decision_no": decision_no, "reason": reason, "basis": kb.ABNORMAL_BASIS[reason]},
        )
        return decision_no

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
            t.add(
                min(inspected + rng.randint(2, 30), today),
                department,
                "inspection.published",
                {
                    "inspection_no": self.numbers.doc(f"{self.abbr[department]}{label}", inspected),
                    "inspection_type": kind,
                    "inspected_on": iso(inspected),
                    "result": rng.choices(kb.INSPECTION_RESULTS, kb.INSPECTION_RESULT_WEIGHTS)[0],
                },
            )
