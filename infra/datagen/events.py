"""An entity's life as publications, in the order the aggregate must see them.

`LifePlanner.plan(profile)` returns `(day, order, department, kind, payload)` tuples sorted by
day (date ordinal) and then by `order`. Dependent publications (a licence change, a penalty
amendment, a listing's removal, a credit repair) are always dated strictly after what they
depend on; registration comes first, except for the ~1 % of entities that deliberately get one
licence or filing published just before it (to exercise parking).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from infra.datagen import names as kb
from infra.datagen.casework import Casework
from infra.datagen.enforcement import Enforcement
from infra.datagen.profiles import Profile, scope_text
from infra.datagen.reporting import Reporting
from infra.datagen.timeline import AMR, EntityState, Item, Timeline, iso, money, months_later, year_of

CHANGEABLE = ("address", "business_scope", "registered_capital", "legal_representative")
FIELD_LABELS = {
    "address": "住所",
    "business_scope": "经营范围",
    "registered_capital": "注册资本",
    "legal_representative": "法定代表人",
    "name": "名称",
}


def in_plan_order(items: list[Item]) -> list[Item]:
    """`items` by (day, order, department, kind): two early items (order -1) of one kind from one
    department on one day keep the order they were planned in, instead of comparing their payloads
    (dicts, which do not order: a 100,000-entity register met such a pair)."""
    return sorted(items, key=lambda i: i[:4])


class LifePlanner(Enforcement, Reporting, Casework):
    """Plans one entity's publications (see the module docstring)."""

    def plan(self, p: Profile) -> list[Item]:
        rng, t = self.rng, Timeline(self.today)
        state = EntityState(p)
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
        self._casework(t, p)
        end = self._terminal(t, p, listing)
        items = t.items
        if end is not None:  # after deregistration / revocation only new penalties follow
            items = [i for i in items if (i[0], i[1]) <= end or i[3] == "penalty.imposed"]
        return in_plan_order(items)

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

    def _terminal(
        self, t: Timeline, p: Profile, listing: tuple[str, int, int] | None
    ) -> tuple[int, int] | None:
        """Maybe deregister or revoke the business licence; the (day, order) it happened."""
        rng, today = self.rng, self.today
        if listing and listing[0] == "zombie" and listing[2] + 365 <= today and rng.random() < 0.4:
            day = rng.randint(listing[2] + 365, min(listing[2] + 900, today))
        elif rng.random() < 0.008 and p.established + 730 <= today:
            day = rng.randint(p.established + 730, today)
        else:
            day = 0
        if day:
            t.add(
                day,
                AMR,
                "registration.licence_revoked",
                {
                    "decision_no": self.numbers.doc(kb.PENALTY_PREFIX[AMR], day),
                    "reason": kb.LICENCE_REVOCATION_REASON,
                    "basis": kb.LICENCE_REVOCATION_BASIS,
                },
            )
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
                    self._filing(
                        t,
                        p,
                        filed,
                        "清算组备案",
                        f"清算组负责人：{p.legal_representative['name']}；清算组成员：{members}",
                    )
        t.add(day, AMR, "registration.deregistered", {"reason": reason})
        return day, t.n

    def _filing(
        self, t: Timeline, p: Profile, day: int, kind: str, content: str, *, early: bool = False
    ) -> None:
        key = f"BA{p.district}{year_of(day)}"
        no = f"{p.district}{year_of(day)}BA{self.numbers.next(key):06d}"
        t.add(
            day,
            AMR,
            "filing.recorded",
            {"filing_no": no, "filing_type": kind, "content": content},
            early=early,
        )

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
            self._filing(t, p, min(est + rng.randint(0, 10), today), "章程备案", "公司章程备案")
        if rng.random() < 0.06:
            start = max(est, date(2014, 10, 1).toordinal())
            if start <= today:
                self._filing(
                    t,
                    p,
                    rng.randint(start, today),
                    "联络员备案",
                    f"企业联络员：{self.people.person_name('F' if rng.random() < 0.6 else 'M')}",
                )
        if p.customs and rng.random() < 0.4 and est + 30 <= today:
            day = rng.randint(est + 30, min(est + 400, today))
            port = rng.choice(("07", "08", "09", "14", "16", "17", "19"))
            code = f"12{port}{self.numbers.next('customs'):06d}"
            t.add(
                day,
                "TJ-CUSTOMS",
                "filing.recorded",
                {
                    "filing_no": code,
                    "filing_type": "报关单位备案",
                    "content": f"报关单位备案（进出口货物收发货人），海关编码：{code}，主管海关：新港海关",
                },
            )

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
            no = spec.number.format(
                d=p.district,
                y=year_of(day),
                n=self.numbers.next(licence_name),
                u=p.uscc,
                v=year_of(valid_to) if valid_to else "",
            )
            payload = {
                "licence_no": no,
                "licence_name": licence_name,
                "content": rng.choice(spec.contents).format(sector=p.sector),
                "valid_from": iso(day),
                "basis": spec.basis,
            }
            if valid_to:
                payload["valid_to"] = iso(valid_to)
            t.add(day, spec.department, "licence.granted", payload, early=first)
            granted.append((no, licence_name, day))
            self._licence_history(t, spec.department, no, day, valid_to)
        return granted

    def _licence_history(
        self, t: Timeline, department: str, no: str, granted: int, valid_to: int | None
    ) -> None:
        rng, today = self.rng, self.today
        if rng.random() < 0.12 and granted + 30 <= today:
            day = rng.randint(granted + 30, min(granted + 700, today))
            t.add(
                day,
                department,
                "licence.changed",
                {"licence_no": no, "content": rng.choice(kb.LICENCE_CHANGES)},
            )
        if valid_to is None:
            if rng.random() < 0.05 and granted + 180 <= today:
                t.add(
                    rng.randint(granted + 180, today),
                    department,
                    "licence.revoked",
                    {"licence_no": no, "reason": rng.choice(kb.LICENCE_REVOCATIONS[1:])},
                )
            return
        while valid_to < today:
            r = rng.random()
            if r < 0.65:  # renewed shortly before expiry
                day = valid_to - rng.randint(10, 60)
                valid_to = months_later(valid_to, 60)
                t.add(
                    day,
                    department,
                    "licence.changed",
                    {
                        "licence_no": no,
                        "content": f"许可延续，有效期延至{iso(valid_to)}",
                        "valid_to": iso(valid_to),
                    },
                )
                continue
            if r < 0.85 and valid_to + 60 <= today:
                t.add(
                    valid_to + rng.randint(1, 60),
                    department,
                    "licence.revoked",
                    {"licence_no": no, "reason": kb.LICENCE_REVOCATIONS[0]},
                )
            break

    def _changes(self, t: Timeline, p: Profile, state: EntityState) -> None:
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
            t.add(
                day,
                AMR,
                "registration.changed",
                {"changes": changes, "change_authority": p.registration_authority},
            )
            if p.entity_type in ("有限责任公司", "股份有限公司") and rng.random() < 0.5:
                labels = "、".join(FIELD_LABELS[f] for f in fields)
                self._filing(t, p, day, "章程备案", f"章程修正案备案：修改章程中关于{labels}的条款")

    def _change(self, p: Profile, state: EntityState, field: str, day: int) -> dict[str, Any]:
        rng = self.rng
        if field == "name":
            before, state.name = state.name, self.people.new_name(p)
            return {"field": "name", "before": before, "after": state.name}
        if field == "address":
            before_address, after_address = (
                state.address_on(day),
                self.people.address(p.district, shop=p.entity_type == "个体工商户"),
            )
            state.addresses.append((day, after_address))
            return {"field": "address", "before": before_address, "after": after_address}
        if field == "business_scope":
            before = scope_text(state.scope, state.permits, day - 1)
            extra = [
                s
                for s in (
                    "技术服务、技术开发、技术咨询、技术交流、技术转让、技术推广",
                    "货物进出口",
                    "会议及展览服务",
                    "信息咨询服务（不含许可类信息咨询服务）",
                    "日用百货销售",
                )
                if s not in state.scope
            ]
            state.scope = state.scope + rng.sample(extra, min(len(extra), rng.randint(1, 2)))
            return {
                "field": "business_scope",
                "before": before,
                "after": scope_text(state.scope, state.permits, day),
            }
        if field == "registered_capital":
            before_capital = state.capital
            amount = int(float(before_capital["amount"]) * rng.choice((1.5, 2, 2.5, 3, 5, 10)))
            state.capital = {"amount": money(amount // 1000 * 1000), "currency": before_capital["currency"]}
            return {"field": "registered_capital", "before": before_capital, "after": state.capital}
        before_rep, state.representative = state.representative, self.people.person(reuse=0.1)
        return {"field": "legal_representative", "before": before_rep, "after": state.representative}
