"""A natural person across the register: the entities where they are or were legal
representative (with the dates), and the restrictions on serving again that follow from those
entities' listings and revocations (任职限制), as dated data with their legal basis.

The register names natural persons with an identity number in three roles: the legal
representative (负责人, 经营者 for an individual business), the shareholders (股东; an
organisation shareholder has no identity number and is left out) and the key staff (主要人员,
with their position) — at registration and in each `registration.changed` of that field (a
changed list is given whole: who is in it after the change). `roles` follows each through the
changes: when the person took the role and when they left it. Restrictions on serving again are
on the legal representative only (as the sources say).

Restrictions (`RESTRICTIONS`), as read in LawRefBook/Laws:

- 《企业信息公示暂行条例》（国务院令第654号，2014-10-01）第十七条第二款: 被列入严重违法企业名单的
  企业的法定代表人、负责人，3年内不得担任其他企业的法定代表人、负责人 — from the listing date;
  it binds the person who held the role when the entity was listed.
- 《中华人民共和国市场主体登记管理条例》（国务院令第746号，2022-03-01）第十二条第（四）项: 担任因
  违法被吊销营业执照、责令关闭的公司、非公司企业法人的法定代表人，并负有个人责任的，自被吊销营业
  执照之日起未逾3年 — the register cannot say whether the person bore personal responsibility,
  so such a restriction is reported as `requires_check` (the agency must establish it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from domain.publicity import Source, add_months

__all__ = ["RESTRICTIONS", "PersonRole", "Restriction", "identity_numbers", "restrictions_for", "roles"]

Trigger = Literal["serious_listed", "licence_revoked"]


@dataclass(frozen=True, slots=True)
class Restriction:
    code: str
    name: str
    trigger: Trigger
    years: int
    in_force_from: date
    basis: Source
    requires_check: bool = False  # a condition the register cannot establish (personal responsibility)


RESTRICTIONS: tuple[Restriction, ...] = (
    Restriction(
        "serious_list_representative",
        "严重违法企业名单企业的法定代表人、负责人，3年内不得担任其他企业的法定代表人、负责人",
        "serious_listed",
        3,
        date(2014, 10, 1),
        Source(
            "《企业信息公示暂行条例》（国务院令第654号，2014年10月1日施行）",
            "第十七条第二款",
            "https://github.com/LawRefBook/Laws/blob/master/行政法规/企业信息公示暂行条例.md",
        ),
    ),
    Restriction(
        "revoked_licence_representative",
        "被吊销营业执照的公司、非公司企业法人的法定代表人（负有个人责任的），自吊销之日起3年内不得担任法定代表人",
        "licence_revoked",
        3,
        date(2022, 3, 1),
        Source(
            "《中华人民共和国市场主体登记管理条例》（国务院令第746号，2022年3月1日施行）",
            "第十二条第（四）项",
            "https://github.com/LawRefBook/Laws/blob/master/行政法规/市场主体登记管理条例.md",
        ),
        requires_check=True,
    ),
)


@dataclass(frozen=True)
class PersonRole:
    """One role of the person at one entity, from `since` until `until` (None: still)."""

    uscc: str
    entity_name: str
    role: str
    name: str
    since: date
    until: date | None
    publication_id: str | None
    kind: str = "legal_representative"  # | shareholder | key_staff

    def held_on(self, day: date) -> bool:
        return self.since <= day and (self.until is None or day < self.until)

    def public(self) -> dict[str, Any]:
        return {
            "uscc": self.uscc,
            "entity_name": self.entity_name,
            "role": self.role,
            "kind": self.kind,
            "name": self.name,
            "since": self.since.isoformat(),
            "until": self.until.isoformat() if self.until else None,
            "current": self.until is None,
            "publication_id": self.publication_id,
        }


def _day(value: Any) -> date:
    return date.fromisoformat(str(value))


ROLE_FIELDS = ("legal_representative", "shareholders", "key_staff")


def versions(doc: dict[str, Any], field: str) -> list[tuple[Any, date, str | None]]:
    """Each value a registration field held, with the date it began and the publication: at
    registration — the `before` of the field's first change, or the current value when it never
    changed — then each change's `after`."""
    changes = sorted(
        (c for c in doc.get("changes") or [] if any(ch.get("field") == field for ch in c.get("changes", []))),
        key=lambda c: str(c.get("occurred_on")),
    )
    registration = doc.get("registration") or {}
    if changes:
        first = next(ch.get("before") for ch in changes[0]["changes"] if ch.get("field") == field)
    else:
        first = registration.get(field)
    out: list[tuple[Any, date, str | None]] = []
    established = registration.get("established_on")
    if first is not None and established:
        out.append((first, _day(established), (doc.get("registered_by") or {}).get("publication_id")))
    for change in changes:
        after = next(ch.get("after") for ch in change["changes"] if ch.get("field") == field)
        out.append((after, _day(change["occurred_on"]), change.get("publication_id")))
    return out


def representatives(doc: dict[str, Any]) -> list[tuple[dict[str, Any], date, date | None, str | None]]:
    """Each legal representative an entity's agency document names, with when they took the role
    and when they left it (None: still)."""
    held = [(v, since, pid) for v, since, pid in versions(doc, "legal_representative") if isinstance(v, dict)]
    return [
        (person, since, held[i + 1][1] if i + 1 < len(held) else None, pid)
        for i, (person, since, pid) in enumerate(held)
    ]


def _number(person: dict[str, Any]) -> str:
    return str(person.get("id_number") or "").strip().upper()


def _members(doc: dict[str, Any], field: str) -> list[tuple[dict[str, Any], date, date | None, str | None]]:
    """Each natural person in a list field (shareholders, key staff), with when they joined and
    left it (a person's stretches in and out of the list each count)."""
    out: list[tuple[dict[str, Any], date, date | None, str | None]] = []
    open_: dict[str, tuple[dict[str, Any], date, str | None]] = {}
    for value, since, pid in versions(doc, field):
        present = {_number(p): p for p in value or [] if isinstance(p, dict) and _number(p)}
        for number in list(open_):
            if number not in present:
                person, started, started_pid = open_.pop(number)
                out.append((person, started, since, started_pid))
        for number, person in present.items():
            if number not in open_:
                open_[number] = (person, since, pid)
    out += [(person, started, None, pid) for person, started, pid in open_.values()]
    return out


def identity_numbers(doc: dict[str, Any]) -> list[str]:
    """Every identity number of a natural person an agency document names in a role (what the
    index finds a person's entities by), upper case, distinct."""
    found: dict[str, None] = {}
    for person, _, _, _ in representatives(doc):
        if _number(person):
            found[_number(person)] = None
    for field in ("shareholders", "key_staff"):
        for person, _, _, _ in _members(doc, field):
            found[_number(person)] = None
    current = (doc.get("registration") or {}).get("legal_representative")
    if isinstance(current, dict) and _number(current):
        found[_number(current)] = None
    return list(found)


def roles(doc: dict[str, Any], id_number: str) -> list[PersonRole]:
    """The person's roles at the entity of `doc` (an agency document), oldest first."""
    wanted = id_number.strip().upper()
    rep_role = "经营者" if doc.get("registration", {}).get("entity_type") == "个体工商户" else "法定代表人"
    found = [
        PersonRole(doc["uscc"], doc["name"], rep_role, str(p.get("name") or ""), since, until, pid)
        for p, since, until, pid in representatives(doc)
        if _number(p) == wanted
    ]
    found += [
        PersonRole(
            doc["uscc"], doc["name"], "股东", str(p.get("name") or ""), since, until, pid, "shareholder"
        )
        for p, since, until, pid in _members(doc, "shareholders")
        if _number(p) == wanted
    ]
    found += [
        PersonRole(
            doc["uscc"],
            doc["name"],
            f"主要人员（{p.get('position') or '—'}）",
            str(p.get("name") or ""),
            since,
            until,
            pid,
            "key_staff",
        )
        for p, since, until, pid in _members(doc, "key_staff")
        if _number(p) == wanted
    ]
    return sorted(found, key=lambda r: r.since)


def restrictions_for(doc: dict[str, Any], held: list[PersonRole], day: date) -> list[dict[str, Any]]:
    """The restrictions on the person that follow from this entity's record: each with the event
    that triggered it, the period, whether it is in force on `day`, and its basis."""
    held = [r for r in held if r.kind == "legal_representative"]  # the sources bind this role only
    events: list[tuple[Trigger, date, dict[str, Any]]] = []
    for listing in doc.get("serious_listings") or []:
        events.append(("serious_listed", _day(listing["listed_on"]), listing))
    for status in doc.get("status_history") or []:
        if status.get("status") == "吊销":
            events.append(("licence_revoked", _day(status["on"]), status))
    out = []
    for trigger, on, record in events:
        if not any(r.held_on(on) for r in held):
            continue  # the person did not hold the role when it happened
        for rule in RESTRICTIONS:
            if rule.trigger != trigger or on < rule.in_force_from:
                continue
            ends = add_months(on, 12 * rule.years)
            out.append(
                {
                    "code": rule.code,
                    "name": rule.name,
                    "uscc": doc["uscc"],
                    "entity_name": doc["name"],
                    "trigger": trigger,
                    "record": {
                        "decision_no": record.get("decision_no"),
                        "reason": record.get("reason"),
                        "department": record.get("department"),
                        "publication_id": record.get("publication_id"),
                        "on": on.isoformat(),
                    },
                    "from": on.isoformat(),
                    "until": ends.isoformat(),
                    "in_force": on <= day < ends,
                    "requires_check": rule.requires_check,
                    "basis": {
                        "document": rule.basis.document,
                        "articles": rule.basis.articles,
                        "url": rule.basis.url,
                    },
                }
            )
    return out
