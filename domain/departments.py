"""The registry of publishing departments and their mandates (which kinds each may publish).

Each department has a type from a small fixed vocabulary (`DepartmentType`); the table of
publication kinds (`domain.kinds`) says which types may publish each kind. What is enforced is
the department's own explicit list of kinds, which must stay within what its type allows.

The registry is data with its history: a list of `MandateChange`s (a department added, its kinds
set from a date, disabled from a date; the first ones seeded from `data/departments.json`),
recorded by the operators' commands in a store beside the event store. Folded in order, they
give every department's versions, each in force from a system date; a publication is checked
against the version in force on the date it arrives (`get(code, on=today)`). A registry built
from a `MandateSource` re-reads it when the source's version moves (`refresh()`, once per
ingestion batch), so a change made by `gongshi departments …` in another process is seen by the
worker's next batch.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum
from importlib import resources
from typing import Any, Protocol

__all__ = [
    "DEPARTMENT_TYPE_LABELS",
    "ENTERPRISE",
    "Department",
    "DepartmentRegistry",
    "DepartmentType",
    "Mandate",
    "MandateChange",
    "MandateSource",
    "seed_changes",
]

#: The enterprise's own channel (annual reports, instant disclosures).
ENTERPRISE = "ENTERPRISE"


class DepartmentType(StrEnum):
    """What kind of body publishes: the vocabulary the table of publication kinds refers to."""

    MARKET_SUPERVISION = "market_supervision"
    TAX = "tax"
    CUSTOMS = "customs"
    SECTOR_REGULATOR = "sector_regulator"
    CREDIT = "credit"
    ENTERPRISE = "enterprise"


DEPARTMENT_TYPE_LABELS: dict[DepartmentType, str] = {
    DepartmentType.MARKET_SUPERVISION: "市场监管部门",
    DepartmentType.TAX: "税务部门",
    DepartmentType.CUSTOMS: "海关",
    DepartmentType.SECTOR_REGULATOR: "行业主管部门",
    DepartmentType.CREDIT: "社会信用体系建设牵头部门",
    DepartmentType.ENTERPRISE: "企业自主公示",
}


@dataclass(frozen=True, slots=True)
class Department:
    """A department (or the enterprise channel) and its mandate."""

    code: str
    name: str
    short_name: str
    abbreviation: str
    type: DepartmentType
    kinds: frozenset[str]
    licence_names: tuple[str, ...]

    def may_publish(self, kind: str) -> bool:
        return kind in self.kinds

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "short_name": self.short_name,
            "abbreviation": self.abbreviation,
            "type": self.type.value,
            "kinds": sorted(self.kinds),
            "licence_names": list(self.licence_names),
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Department:
        return cls(
            code=str(raw["code"]),
            name=str(raw["name"]),
            short_name=str(raw["short_name"]),
            abbreviation=str(raw.get("abbreviation", "")),
            type=DepartmentType(raw["type"]),
            kinds=frozenset(str(k) for k in raw["kinds"]),
            licence_names=tuple(str(n) for n in raw.get("licence_names", ())),
        )


#: What a change does: `seeded` / `added` (the whole department), `kinds_set` (its kinds),
#: `disabled` (it may publish nothing from then on).
ACTIONS = ("seeded", "added", "kinds_set", "disabled")


@dataclass(frozen=True, slots=True)
class MandateChange:
    """One recorded change of the registry: what, in force from which system date, who, when."""

    number: int
    code: str
    action: str
    effective_from: date
    at: datetime | None
    actor: str
    fields: dict[str, Any]  # seeded/added: the department (`as_dict`); kinds_set: {"kinds": [...]}


@dataclass(frozen=True, slots=True)
class Mandate:
    """What a department might publish on a system date: the answer the ingestion checks a
    publication against on the date it arrives (`DepartmentRegistry.mandate`). `kinds` is empty
    when the department was disabled (or not yet added) then; `in_force_from` is the date its
    version took effect (None: since the shipped file, i.e. always)."""

    department: str
    name: str | None
    on: date
    kinds: tuple[str, ...]
    in_force_from: date | None
    change: int | None  # the number of the registry change that set this version (None: unstored)

    def allows(self, kind: str | None) -> bool:
        return kind is not None and kind in self.kinds

    def as_dict(self, kind: str | None = None) -> dict[str, Any]:
        """As the agency view shows it beside a fact (`kind`: the fact's publication kind)."""
        return {
            "department": self.department,
            "department_name": self.name,
            "arrived_on": self.on.isoformat(),
            "kinds": list(self.kinds),
            "in_force_from": self.in_force_from.isoformat() if self.in_force_from else None,
            "change": self.change,
            "allows_kind": self.allows(kind) if kind is not None else None,
        }


class MandateSource(Protocol):
    """Where the changes are kept (adapters.department_store)."""

    def version(self) -> int:
        """The number of the last change (0: none)."""
        ...

    def changes(self) -> list[MandateChange]:
        """Every change, in the order recorded."""
        ...


def seed_changes(departments: Iterable[Department]) -> list[MandateChange]:
    """The shipped file as the first changes: each department in force since always."""
    return [
        MandateChange(0, d.code, "seeded", date.min, None, "seed:departments.json", d.as_dict())
        for d in departments
    ]


Version = tuple[date, int, "Department | None"]


def _fold(changes: Sequence[MandateChange]) -> tuple[list[str], dict[str, list[Version]]]:
    order: list[str] = []
    versions: dict[str, list[Version]] = {}
    latest: dict[str, Department] = {}
    for n, change in enumerate(changes):
        if change.action in ("seeded", "added"):
            department: Department | None = Department.from_dict(change.fields)
            assert department is not None
            latest[change.code] = department
        elif change.action == "kinds_set":
            base = latest.get(change.code)
            if base is None:
                continue
            department = replace(base, kinds=frozenset(str(k) for k in change.fields["kinds"]))
            latest[change.code] = department
        elif change.action == "disabled":
            department = None
        else:
            continue
        if change.code not in versions:
            order.append(change.code)
            versions[change.code] = []
        versions[change.code].append((change.effective_from, n, department))
    for found in versions.values():
        found.sort(key=lambda v: (v[0], v[1]))
    return order, versions


class DepartmentRegistry:
    """Departments by code, in the order given, each with its versions over time.

    `today` (a function) is the system date for the calls that name no date; without it they
    read the latest version (a registry of fixed departments has one version each)."""

    def __init__(
        self,
        departments: Iterable[Department] = (),
        *,
        changes: Sequence[MandateChange] | None = None,
        today: Callable[[], date] | None = None,
        source: MandateSource | None = None,
    ) -> None:
        if changes is None:
            given = list(departments)
            codes = [d.code for d in given]
            for code in codes:
                if codes.count(code) > 1:
                    raise ValueError(f"部门代码“{code}”重复")
            changes = seed_changes(given)
        self._today = today
        self._source = source
        self._version = -1
        self._load(changes)

    def _load(self, changes: Sequence[MandateChange]) -> None:
        order, versions = _fold(changes)
        self.changes, self._order, self._versions = list(changes), order, versions

    @classmethod
    def from_source(
        cls, source: MandateSource, *, today: Callable[[], date] | None = None
    ) -> DepartmentRegistry:
        registry = cls(changes=[], today=today, source=source)
        registry.refresh()
        return registry

    def refresh(self) -> bool:
        """Re-read the source when it has changed since the last read; True if it had."""
        if self._source is None:
            return False
        version = self._source.version()
        if version == self._version:
            return False
        self._load(self._source.changes())
        self._version = version
        return True

    @classmethod
    def from_json(cls, text: str) -> DepartmentRegistry:
        data = json.loads(text)
        return cls(Department.from_dict(d) for d in data["departments"])

    @classmethod
    def load_default(cls) -> DepartmentRegistry:
        """The registry shipped in `domain/data/departments.json`."""
        text = resources.files("domain").joinpath("data/departments.json").read_text(encoding="utf-8")
        return cls.from_json(text)

    def _on(self, on: date | None) -> date:
        if on is not None:
            return on
        return self._today() if self._today is not None else date.max

    def get(self, code: str, on: date | None = None) -> Department | None:
        """The department as in force on `on` (default: the system date); None when unknown,
        not yet added, or disabled then."""
        found: Department | None = None
        for effective_from, _, department in self._versions.get(code, ()):
            if effective_from > self._on(on):
                break
            found = department
        return found

    def mandate(self, code: str, on: date, known_at: datetime | None = None) -> Mandate | None:
        """The mandate in force for `code` on the system date `on` — the version `get(code, on)`
        checks a publication against — with when it took effect and which change set it; None
        for a code never added. `known_at`: only the changes recorded by then (what a worker
        checking a publication at that instant knew; a change recorded later the same day, even
        in force from that day, had not been seen)."""
        versions = self._versions.get(code)
        if known_at is not None:
            kept = [c for c in self.changes if c.at is None or c.at <= known_at]
            if len(kept) < len(self.changes):
                return DepartmentRegistry(changes=kept).mandate(code, on)
        if not versions:
            return None
        found: Version | None = None
        for version in versions:
            if version[0] > on:
                break
            found = version
        if found is None:  # added later than `on`: nothing was allowed yet
            return Mandate(code, None, on, (), None, None)
        effective_from, n, department = found
        return Mandate(
            department=code,
            name=department.name if department is not None else None,
            on=on,
            kinds=tuple(sorted(department.kinds)) if department is not None else (),
            in_force_from=None if effective_from == date.min else effective_from,
            change=self.changes[n].number or None,
        )

    def known(self, code: str) -> bool:
        """Whether the code was ever added (disabled or not, in force yet or not)."""
        return code in self._versions

    def latest(self, code: str) -> Department | None:
        """The department's latest definition (also when disabled or not yet in force)."""
        found = [d for _, _, d in self._versions.get(code, ()) if d is not None]
        return found[-1] if found else None

    def history(self, code: str) -> list[MandateChange]:
        return [c for c in self.changes if c.code == code]

    def may_publish(self, code: str, kind: str, on: date | None = None) -> bool:
        """False for an unknown or disabled department or a kind outside its mandate."""
        department = self.get(code, on)
        return department is not None and department.may_publish(kind)

    def all(self, on: date | None = None) -> list[Department]:
        """The departments in force on `on` (default: the system date), in the order added."""
        return [d for code in self._order if (d := self.get(code, on)) is not None]

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and self.get(code) is not None

    def __len__(self) -> int:
        return len(self.all())
