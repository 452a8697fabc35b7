"""A person's roles through an entity's changes (legal representative, shareholders, key staff),
and what a registration may say of shareholders and key staff."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from domain.persons import identity_numbers, roles
from domain.publications import RegistrationChanged, RegistrationRegistered
from tests.builders import person, registration_payload, uscc_for

A = person("甲", n=11)
B = person("乙", n=12)


def doc(**registration: object) -> dict[str, object]:
    base = {"established_on": "2020-01-01", "entity_type": "有限责任公司", "legal_representative": A}
    return {
        "uscc": uscc_for(1),
        "name": "天津某某有限公司",
        "registration": {**base, **registration},
        "registered_by": {"publication_id": "R-1"},
        "changes": [],
    }


def test_shareholders_joining_and_leaving_are_followed_through_changes() -> None:
    d = doc(shareholders=[B])
    d["changes"] = [
        {
            "occurred_on": "2021-05-01",
            "publication_id": "C-1",
            "changes": [{"field": "shareholders", "before": [A], "after": [A, B]}],
        },
        {
            "occurred_on": "2023-02-01",
            "publication_id": "C-2",
            "changes": [{"field": "shareholders", "before": [A, B], "after": [B]}],
        },
    ]
    [rep, holder] = roles(d, A["id_number"])
    assert (rep.kind, rep.since, rep.until) == ("legal_representative", date(2020, 1, 1), None)
    assert (holder.kind, holder.role, holder.since, holder.until) == (
        "shareholder",
        "股东",
        date(2020, 1, 1),
        date(2023, 2, 1),
    )
    [joined] = roles(d, B["id_number"])
    assert (joined.since, joined.until, joined.publication_id) == (date(2021, 5, 1), None, "C-1")
    assert set(identity_numbers(d)) == {A["id_number"], B["id_number"]}


def test_a_natural_person_shareholder_needs_a_valid_identity_number() -> None:
    ok = registration_payload(shareholders=[{"name": "丙", "id_number": B["id_number"]}])
    assert RegistrationRegistered.model_validate(ok).shareholders[0].kind == "natural_person"
    organisation = registration_payload(shareholders=[{"name": "某公司", "kind": "organisation"}])
    RegistrationRegistered.model_validate(organisation)
    for bad in ([{"name": "丙"}], [{"name": "丙", "id_number": B["id_number"][:-1] + "0"}]):
        with pytest.raises(ValidationError):
            RegistrationRegistered.model_validate(registration_payload(shareholders=bad))


def test_a_change_of_key_staff_gives_the_whole_list_after() -> None:
    staff = [{**A, "position": "董事"}]
    RegistrationChanged.model_validate({"changes": [{"field": "key_staff", "before": [], "after": staff}]})
    with pytest.raises(ValidationError):
        RegistrationChanged.model_validate(
            {"changes": [{"field": "key_staff", "after": {**A, "position": "董事"}}]}
        )


def test_a_change_of_shareholders_is_checked_as_registered_shareholders() -> None:
    """Not the annual report's shareholder (subscribed and paid amounts): a registration's."""
    after = [{"name": "丙", "id_number": B["id_number"]}, {"name": "某公司", "kind": "organisation"}]
    RegistrationChanged.model_validate({"changes": [{"field": "shareholders", "before": [], "after": after}]})
    with pytest.raises(ValidationError):
        RegistrationChanged.model_validate(
            {"changes": [{"field": "shareholders", "after": [{"name": "丙", "subscribed_amount": "10"}]}]}
        )
