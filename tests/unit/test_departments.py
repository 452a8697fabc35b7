"""The department registry and its mandates."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from domain.departments import Department, DepartmentRegistry, DepartmentType
from domain.kinds import KINDS

CODES = [
    "TJ-AMR",
    "TJ-TAX",
    "TJ-HRSS",
    "TJ-EE",
    "TJ-EM",
    "TJ-HURD",
    "TJ-TRANS",
    "TJ-CT",
    "TJ-HEALTH",
    "TJ-CUSTOMS",
    "TJ-DRC",
    "ENTERPRISE",
]


@pytest.fixture(scope="module")
def registry() -> DepartmentRegistry:
    return DepartmentRegistry.load_default()


def test_default_registry_holds_the_agreed_codes(registry: DepartmentRegistry) -> None:
    assert [d.code for d in registry.all()] == CODES
    assert "TJ-AMR" in registry and "TJ-NOPE" not in registry
    assert registry.get("TJ-NOPE") is None


def test_every_kind_in_the_json_is_a_known_publication_kind() -> None:
    text = resources.files("domain").joinpath("data/departments.json").read_text(encoding="utf-8")
    for department in json.loads(text)["departments"]:
        assert set(department["kinds"]) <= set(KINDS), department["code"]


def test_every_kind_has_at_least_one_publisher(registry: DepartmentRegistry) -> None:
    published = set().union(*(d.kinds for d in registry.all()))
    assert published == set(KINDS)


def test_market_regulator_publishes_registrations_and_lists(registry: DepartmentRegistry) -> None:
    amr = registry.get("TJ-AMR")
    assert amr is not None
    assert amr.name == "天津市市场监督管理委员会" and amr.short_name == "市场监管委"
    assert amr.abbreviation == "津市监"
    for kind in ("registration.registered", "abnormal.listed", "serious.removed", "penalty.imposed"):
        assert registry.may_publish("TJ-AMR", kind)
    assert not registry.may_publish("TJ-AMR", "annual_report.submitted")


def test_tax_bureau_may_penalise_but_not_register(registry: DepartmentRegistry) -> None:
    assert registry.may_publish("TJ-TAX", "penalty.imposed")
    assert registry.may_publish("TJ-TAX", "repair.approved")
    assert not registry.may_publish("TJ-TAX", "registration.registered")
    assert not registry.may_publish("TJ-TAX", "licence.granted")


def test_only_ecology_among_the_licensing_bureaus_approves_repairs(registry: DepartmentRegistry) -> None:
    assert registry.may_publish("TJ-EE", "repair.approved")
    for code in ("TJ-EM", "TJ-TRANS", "TJ-CT", "TJ-HEALTH"):
        assert not registry.may_publish(code, "repair.approved")
        assert registry.may_publish(code, "inspection.published")
        assert registry.may_publish(code, "licence.revoked")


def test_enterprise_channel_publishes_only_its_own_reports_and_disclosures(
    registry: DepartmentRegistry,
) -> None:
    enterprise = registry.get("ENTERPRISE")
    assert enterprise is not None
    assert enterprise.kinds == {
        "annual_report.submitted",
        "annual_report.corrected",
        "disclosure.published",
        "application.filed",
        "objection.filed",
    }
    assert not registry.may_publish("ENTERPRISE", "penalty.imposed")


def test_unknown_department_may_publish_nothing(registry: DepartmentRegistry) -> None:
    assert not registry.may_publish("TJ-NOPE", "penalty.imposed")


def test_departments_with_a_licence_mandate_name_their_licences(registry: DepartmentRegistry) -> None:
    for department in registry.all():
        if "licence.granted" in department.kinds:
            assert department.licence_names, department.code
    ee = registry.get("TJ-EE")
    assert ee is not None and "排污许可证" in ee.licence_names


def test_every_government_department_has_a_decision_number_abbreviation(registry: DepartmentRegistry) -> None:
    abbreviations = [d.abbreviation for d in registry.all() if d.code != "ENTERPRISE"]
    assert all(a.startswith("津") for a in abbreviations)
    assert len(set(abbreviations)) == len(abbreviations)


def test_duplicate_codes_are_refused() -> None:
    dept = Department("X", "某部门", "某", "津某", DepartmentType.SECTOR_REGULATOR, frozenset(), ())
    with pytest.raises(ValueError):
        DepartmentRegistry([dept, dept])


def test_the_mandate_on_a_date_is_the_version_a_publication_arriving_then_was_checked_against() -> None:
    from datetime import date, datetime

    from domain.departments import MandateChange

    base = DepartmentRegistry.load_default()
    tax = base.get("TJ-TAX")
    assert tax is not None
    at = datetime(2025, 1, 1)
    changes = [
        *base.changes,
        MandateChange(
            20, "TJ-TAX", "kinds_set", date(2025, 3, 1), at, "cli:ops", {"kinds": ["other.recorded"]}
        ),
        MandateChange(21, "TJ-TAX", "disabled", date(2025, 6, 1), at, "cli:ops", {}),
    ]
    registry = DepartmentRegistry(changes=changes)
    before = registry.mandate("TJ-TAX", date(2025, 2, 28))
    assert before is not None
    assert before.kinds == tuple(sorted(tax.kinds)) and before.in_force_from is None and before.change is None
    assert before.allows("penalty.imposed") and before.name == tax.name
    after = registry.mandate("TJ-TAX", date(2025, 3, 1))
    assert after is not None and after.kinds == ("other.recorded",) and after.change == 20
    assert not after.allows("penalty.imposed")
    assert after.as_dict("penalty.imposed") == {
        "department": "TJ-TAX",
        "department_name": tax.name,
        "arrived_on": "2025-03-01",
        "kinds": ["other.recorded"],
        "in_force_from": "2025-03-01",
        "change": 20,
        "allows_kind": False,
    }
    disabled = registry.mandate("TJ-TAX", date(2025, 7, 1))
    assert disabled is not None and disabled.kinds == () and disabled.in_force_from == date(2025, 6, 1)
    for day in (date(2025, 2, 28), date(2025, 3, 1), date(2025, 7, 1)):  # the same answer as the check
        found = registry.mandate("TJ-TAX", day)
        assert found is not None
        assert found.allows("penalty.imposed") == registry.may_publish("TJ-TAX", "penalty.imposed", day)
    assert registry.mandate("TJ-NOPE", date(2025, 3, 1)) is None


def test_a_change_recorded_after_a_publication_arrived_is_not_the_mandate_it_was_accepted_under() -> None:
    from datetime import UTC, date, datetime

    from domain.departments import MandateChange

    base = DepartmentRegistry.load_default()
    morning, noon, evening = (datetime(2025, 3, 1, h, tzinfo=UTC) for h in (1, 4, 9))
    change = MandateChange(
        30, "TJ-TAX", "kinds_set", date(2025, 3, 1), noon, "cli:ops", {"kinds": ["other.recorded"]}
    )
    registry = DepartmentRegistry(changes=[*base.changes, change])
    early = registry.mandate("TJ-TAX", date(2025, 3, 1), known_at=morning)
    late = registry.mandate("TJ-TAX", date(2025, 3, 1), known_at=evening)
    assert early is not None and early.allows("penalty.imposed") and early.in_force_from is None
    assert late is not None and late.kinds == ("other.recorded",) and late.change == 30
