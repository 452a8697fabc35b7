"""The registry of publishing departments and their mandates (which kinds each may publish).

Each department has a type from a small fixed vocabulary (`DepartmentType`); the table of
publication kinds (`domain.kinds`) says which types may publish each kind. What is enforced is
the department's own explicit list of kinds, which must stay within what its type allows.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from typing import Any

__all__ = ["DEPARTMENT_TYPE_LABELS", "ENTERPRISE", "Department", "DepartmentRegistry", "DepartmentType"]

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


class DepartmentRegistry:
    """Departments by code, in the order given."""

    def __init__(self, departments: Iterable[Department]) -> None:
        self._by_code: dict[str, Department] = {}
        for department in departments:
            if department.code in self._by_code:
                raise ValueError(f"部门代码“{department.code}”重复")
            self._by_code[department.code] = department

    @classmethod
    def from_json(cls, text: str) -> DepartmentRegistry:
        data = json.loads(text)
        return cls(Department.from_dict(d) for d in data["departments"])

    @classmethod
    def load_default(cls) -> DepartmentRegistry:
        """The registry shipped in `domain/data/departments.json`."""
        text = resources.files("domain").joinpath("data/departments.json").read_text(encoding="utf-8")
        return cls.from_json(text)

    def get(self, code: str) -> Department | None:
        return self._by_code.get(code)

    def may_publish(self, code: str, kind: str) -> bool:
        """False for an unknown department or a kind outside its mandate."""
        department = self._by_code.get(code)
        return department is not None and department.may_publish(kind)

    def all(self) -> list[Department]:
        return list(self._by_code.values())

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def __len__(self) -> int:
        return len(self._by_code)
