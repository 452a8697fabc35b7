"""Persons in a change message (adapters/change_store/base.py `seal_change`): the agency view's
sealed as in the events, the public view's masked persons under the key of the person whose
number they mask — found in the message or the entity's sharing document — so one erasure makes
both read 已删除; a masked person with no known number stays as it is (no key for a masked
number); sealing again changes nothing."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from adapters.change_store.base import open_change, seal_change
from domain.masking import mask_id_number, mask_person
from domain.personal_data import ERASED
from tests.builders import person, resident_id

ZHANG, LI = resident_id(81), resident_id(82)


class Vault:
    """Keeps each sealed field set under the number it was sealed for; `erase` drops them."""

    def __init__(self) -> None:
        self.kept: dict[str, tuple[str, dict[str, str]]] = {}

    def seal(self, id_number: str, fields: Mapping[str, str]) -> dict[str, Any]:
        kid = f"k{len(self.kept)}"
        self.kept[kid] = (id_number, dict(fields))
        return {"ref": "r", "kid": kid, "fields": sorted(fields), "ct": "…"}

    def open(self, sealed: Mapping[str, Any]) -> dict[str, str] | None:
        found = self.kept.get(str(sealed["kid"]))
        return None if found is None else found[1]

    def epoch(self) -> int:
        return 0

    def erase(self, id_number: str) -> None:
        self.kept = {k: v for k, v in self.kept.items() if v[0] != id_number}


def test_both_views_of_a_person_are_sealed_under_their_key_and_erased_together() -> None:
    vault, rep = Vault(), person("张伟", id_number=ZHANG, phone="13900001111")
    message = {
        "uscc": "91120116MA05JQ2X4L",
        "public": {"registration": {"legal_representative": mask_person(rep)}},
        "sharing": {"registration": {"legal_representative": rep}},
    }
    sealed = seal_change(message, vault)
    text = json.dumps(sealed, ensure_ascii=False)
    assert ZHANG not in text and mask_id_number(ZHANG) not in text and "13900001111" not in text
    assert {number for number, _ in vault.kept.values()} == {ZHANG}
    assert open_change(sealed, vault) == message
    assert seal_change(sealed, vault) == sealed  # sealing again changes nothing
    vault.erase(ZHANG)
    opened = open_change(sealed, vault)
    for view in ("public", "sharing"):
        assert opened[view]["registration"]["legal_representative"]["id_number"] == ERASED


def test_a_public_only_change_finds_its_persons_in_the_entitys_sharing_document() -> None:
    vault = Vault()
    penalised, stranger = person("张伟", id_number=ZHANG), person("李娜", id_number=LI)
    message = {"public": {"penalties": [{"party": mask_person(penalised)}, {"party": mask_person(stranger)}]}}
    sealed = seal_change(message, vault, {"penalties": [{"party": penalised}]})
    assert mask_id_number(ZHANG) not in json.dumps(sealed, ensure_ascii=False)
    assert sealed["public"]["penalties"][1]["party"] == mask_person(stranger)  # no key for a masked number
    assert {number for number, _ in vault.kept.values()} == {ZHANG}
    vault.erase(ZHANG)
    assert open_change(sealed, vault)["public"]["penalties"][0]["party"]["id_number"] == ERASED
