"""Casework in the generated register: enterprises' applications (removal from the abnormal list
after a late report, credit repair of a penalty) with the departments' decisions, objections to
penalties and their answers, and the three-year warning before an abnormal listing becomes a
serious one.

Drawn from a random stream of each entity's own (seeded by its USCC), after everything else is
planned, so the rest of the generated register does not change.
"""

from __future__ import annotations

import random
from typing import Any

from infra.datagen import names as kb
from infra.datagen.profiles import Profile
from infra.datagen.timeline import AMR, PlannerBase, Timeline, iso, months_later

ENTERPRISE = "ENTERPRISE"


class Casework(PlannerBase):
    def _casework(self, t: Timeline, p: Profile) -> None:
        rng = random.Random(f"casework:{p.uscc}")
        today = self.today
        listed = {
            payload["decision_no"]: (day, payload)
            for day, _, _, kind, payload in list(t.items)
            if kind == "abnormal.listed"
        }
        n = 0

        def number(prefix: str) -> str:
            nonlocal n
            n += 1
            return f"{prefix}-{p.uscc}-{n}"

        for day, _, department, kind, payload in list(t.items):
            if kind == "abnormal.removed" and payload.get("reason") == kb.ABNORMAL_REMOVED_FILED:
                if rng.random() < 0.7:
                    if rng.random() < 0.5 and day - 3 > listed[payload["decision_no"]][0]:
                        refused = number("SQ")
                        t.add(
                            day - 3,
                            ENTERPRISE,
                            "application.filed",
                            self._removal(refused, payload, department),
                        )
                        t.add(
                            day - 2,
                            department,
                            "application.rejected",
                            {"application_no": refused, "reason": "尚未补报全部未报年份的年度报告"},
                        )
                    application_no = number("SQ")
                    t.add(
                        day - 1,
                        ENTERPRISE,
                        "application.filed",
                        self._removal(application_no, payload, department),
                    )
                    payload["application_no"] = application_no
            elif kind == "repair.approved" and payload.get("target") == "penalty" and rng.random() < 0.5:
                application_no = number("SQ")
                t.add(
                    day,
                    ENTERPRISE,
                    "application.filed",
                    self._repair(application_no, payload, department),
                    early=True,
                )
                payload["application_no"] = application_no
            elif kind == "penalty.imposed" and rng.random() < 0.03 and day + 40 <= today:
                objection_no = number("YY")
                filed = day + rng.randint(5, 20)
                t.add(
                    filed,
                    ENTERPRISE,
                    "objection.filed",
                    {
                        "objection_no": objection_no,
                        "target": "penalty",
                        "record_no": payload["decision_no"],
                        "department": department,
                        "reason": "公示的处罚内容与决定书不一致",
                    },
                )
                t.add(
                    filed + rng.randint(5, 19),
                    department,
                    "objection.resolved",
                    {"objection_no": objection_no, "upheld": False, "reason": "经核查，公示信息与决定书一致"},
                )
            elif kind == "serious.listed" and payload.get("reason") == kb.SERIOUS_FROM_ABNORMAL:
                self._warn(t, listed, day)

    @staticmethod
    def _removal(application_no: str, removal: dict[str, Any], department: str) -> dict[str, Any]:
        return {
            "application_no": application_no,
            "type": "abnormal_removal",
            "target": "abnormal",
            "decision_no": removal["decision_no"],
            "department": department,
            "reason": "已补报未报年份的年度报告并公示，申请移出经营异常名录",
        }

    @staticmethod
    def _repair(application_no: str, approval: dict[str, Any], department: str) -> dict[str, Any]:
        return {
            "application_no": application_no,
            "type": "repair",
            "target": "penalty",
            "decision_no": approval["decision_no"],
            "department": department,
            "reason": "已履行行政处罚决定并完成整改",
            "commitment": "本企业承诺今后依法诚信经营，如有违反愿承担相应责任。",
        }

    @staticmethod
    def _warn(t: Timeline, listed: dict[str, tuple[int, dict[str, Any]]], serious_day: int) -> None:
        """The warning notice, 30 days before the three years of the listing it escalates."""
        for decision_no, (day, payload) in listed.items():
            anniversary = months_later(day, 36)
            if payload.get("reason") == kb.ABNORMAL_NOT_FILED and anniversary <= serious_day:
                t.add(
                    anniversary - 30,
                    AMR,
                    "abnormal.warned",
                    {
                        "decision_no": decision_no,
                        "escalation_on": iso(anniversary),
                        "content": "该企业被列入经营异常名录将届满3年，请尽快履行公示义务并申请移出",
                    },
                )
                return
