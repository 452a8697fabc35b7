"""Sealing persons in stored events: what counts as a person, what is sealed and what stays, and
what an erased person reads as (domain/personal_data.py, with an in-memory vault)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from typing import Any

from eventsourcing.persistence import JSONTranscoder

from domain.masking import mask_address, mask_id_number, mask_person, mask_phone
from domain.personal_data import ERASED, SEALED, SealingTranscoder, is_person, open_persons, seal_persons
from domain.registry import DateAsISO
from tests.builders import person, resident_id


class MemoryVault:
    """Seals by keeping the fields aside under a counter; `erase` forgets a person's."""

    def __init__(self) -> None:
        self.kept: dict[str, dict[str, str]] = {}
        self.erasures = 0

    def seal(self, id_number: str, fields: Mapping[str, str]) -> dict[str, Any]:
        kid = f"k{len(self.kept)}"
        self.kept[kid] = dict(fields)
        return {"ref": f"ref:{id_number[-4:]}", "kid": kid, "fields": sorted(fields), "ct": "…"}

    def open(self, sealed: Mapping[str, Any]) -> dict[str, str] | None:
        return self.kept.get(str(sealed["kid"]))

    def epoch(self) -> int:
        return self.erasures

    def erase(self, id_number: str) -> None:
        self.kept = {k: v for k, v in self.kept.items() if v["id_number"] != id_number}
        self.erasures += 1


NUMBER = resident_id(5)


def test_a_person_is_an_object_with_a_name_and_an_identity_number() -> None:
    assert is_person(person("张三", id_number=NUMBER))
    assert not is_person({"name": "天津某公司", "address": "天津市和平区"})  # a firm's address stays
    assert not is_person({"id_number": NUMBER})


def test_sealing_takes_the_personal_fields_out_and_opening_puts_them_back() -> None:
    vault = MemoryVault()
    state = {"data": {"legal_representative": person("张三", id_number=NUMBER), "address": "天津市滨海新区"}}
    sealed = seal_persons(state, vault)
    rep = sealed["data"]["legal_representative"]
    assert set(rep) == {"name", SEALED} and rep[SEALED]["fields"] == ["address", "id_number", "phone"]
    assert NUMBER not in json.dumps(sealed, ensure_ascii=False)
    assert sealed["data"]["address"] == "天津市滨海新区"  # not a person's
    assert open_persons(sealed, vault) == state


def test_an_erased_person_reads_erased_in_every_field_that_was_sealed_and_masks_as_erased() -> None:
    vault = MemoryVault()
    sealed = seal_persons([person("张三", id_number=NUMBER, phone=None)], vault)
    vault.erase(NUMBER)
    [opened] = open_persons(sealed, vault)
    assert opened == {"name": "张三", "id_number": ERASED, "address": ERASED}
    assert mask_person(opened) == opened
    assert (mask_id_number(ERASED), mask_phone(ERASED), mask_address(ERASED)) == (ERASED, ERASED, ERASED)


def test_the_transcoder_stores_no_number_and_reads_events_stored_before_sealing() -> None:
    inner = JSONTranscoder()
    inner.register(DateAsISO())
    transcoder = SealingTranscoder(inner, MemoryVault())
    state = {"occurred_on": date(2024, 5, 1), "person": person("李四", id_number=NUMBER)}
    stored = transcoder.encode(state)
    assert NUMBER.encode() not in stored
    assert transcoder.decode(stored) == state
    assert transcoder.decode(inner.encode(state)) == state  # plaintext, as stored before


def test_the_transcoder_skips_the_walk_for_bytes_that_seal_no_person(monkeypatch: Any) -> None:
    import domain.personal_data as personal_data

    inner = JSONTranscoder()
    inner.register(DateAsISO())
    transcoder = SealingTranscoder(inner, MemoryVault())
    walked: list[Any] = []
    real = personal_data.open_persons

    def counted(value: Any, vault: Any) -> Any:
        walked.append(value)
        return real(value, vault)

    monkeypatch.setattr(personal_data, "open_persons", counted)
    penalty = {
        "occurred_on": date(2024, 5, 1),
        "data": {"decision_no": "津市监罚〔2024〕1号", "fine": [1, 2]},
    }
    assert transcoder.decode(transcoder.encode(penalty)) == penalty
    assert walked == []  # nothing sealed in it: read as stored
    with_person = {"occurred_on": date(2024, 5, 1), "person": person("李四", id_number=NUMBER)}
    assert transcoder.decode(transcoder.encode(with_person)) == with_person
    assert walked and SEALED in walked[0]["person"]  # a sealed person: walked and opened
