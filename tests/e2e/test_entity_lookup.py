"""Looking an entity up by its registration number gives that entity or nothing — on the API and
on the web pages alike (one `find_entity`).

The trap: an 18-character USCC whose organisation code is all digits contains a valid 15-digit
registration number (digits 3–17: the district code, the organisation code and its check digit
read together). The embedded index answers a code query with every entity whose codes contain
the number, ordered by USCC, so the first hit can be another entity. The API used to return
that first hit; the entity page checked the number. Now both check it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from stdnum.iso7064 import mod_11_10

from api.app import create_app
from api.lookup import find_entity
from domain.errors import EntityNotFound
from domain.uscc import make_registration_number, make_uscc, org_check_digit, partition_key
from infra.bootstrap import Container, build
from infra.settings import Settings
from tests.builders import BINHAI, GENEROUS_LIMITS, TODAY, platform_signed, registered, uscc_for


def digit_uscc_containing_a_registration_number(start: int) -> tuple[str, str]:
    """(a valid USCC with an all-digit organisation code, the valid registration number inside
    it) — the first such pair from organisation body `start` on."""
    for body in (f"{n:08d}" for n in range(start, start + 10_000)):
        check = org_check_digit(body)
        inside = BINHAI + body + check
        if check.isdigit() and mod_11_10.calc_check_digit(inside[:14]) == inside[14]:
            uscc = make_uscc(BINHAI, body).value
            assert inside in uscc
            return uscc, inside
    raise AssertionError("no such organisation code")


@dataclass
class Register:
    container: Container
    client: TestClient
    #: the entity registered with registration number `number`
    holder: str
    #: an entity whose USCC contains `number` (and sorts before `holder`'s)
    lookalike: str
    number: str
    #: a valid registration number nobody has, contained in `only_lookalike`'s USCC
    unheld: str
    only_lookalike: str


@pytest.fixture(scope="module")
def register(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Register]:
    lookalike, number = digit_uscc_containing_a_registration_number(10_000_000)
    only_lookalike, unheld = digit_uscc_containing_a_registration_number(20_000_000)
    holder = uscc_for(7001)
    assert lookalike < holder and number != make_registration_number(BINHAI, 1)
    envelopes = [
        registered(uscc=lookalike, name="天津数字相似科技有限公司"),
        registered(uscc=only_lookalike, name="天津另一数字科技有限公司"),
        registered(uscc=holder, name="天津注册号持有科技有限公司", registration_number=number),
    ]
    container = build(Settings(data_dir=tmp_path_factory.mktemp("lookup"), today=TODAY, **GENEROUS_LIMITS))
    container.log.produce_many(
        container.settings.publications_topic,
        ((partition_key(e["uscc"]), json.dumps(e, ensure_ascii=False).encode()) for e in envelopes),
        headers_for=platform_signed(container),
    )
    container.worker.drain()
    assert container.worker.counts["applied"] == 3, dict(container.worker.counts)
    container.catch_up()
    with TestClient(create_app(container)) as client:
        yield Register(container, client, holder, lookalike, number, unheld, only_lookalike)


def test_the_index_finds_the_lookalike_for_the_number(register: Register) -> None:
    """The premise: a search for the number also returns the entity whose USCC contains it
    (at least on the embedded index), so trusting the first hit is wrong."""
    found = register.container.index.search(register.number, TODAY, size=10).items
    assert register.holder in [d["uscc"] for d in found]
    hits = register.container.index.search(register.unheld, TODAY, size=10).items
    assert [d["uscc"] for d in hits] in ([], [register.only_lookalike])


def test_the_api_returns_the_entity_registered_with_the_number(register: Register) -> None:
    response = register.client.get(f"/api/v1/entities/{register.number}")
    assert response.status_code == 200, response.text
    assert response.json()["uscc"] == register.holder


def test_the_api_answers_404_for_a_number_nobody_has(register: Register) -> None:
    response = register.client.get(f"/api/v1/entities/{register.unheld}")
    assert response.status_code == 404, response.text
    assert response.json()["code"] == "entity_not_found"


def test_the_entity_page_shows_the_entity_registered_with_the_number(register: Register) -> None:
    page = register.client.get(f"/entity/{register.number}")
    assert page.status_code == 200
    assert "天津注册号持有科技有限公司" in page.text and "天津数字相似科技有限公司" not in page.text
    assert register.client.get(f"/entity/{register.unheld}").status_code == 404


def test_find_entity_by_either_code(register: Register) -> None:
    index = register.container.index
    assert find_entity(index, register.number, TODAY)["uscc"] == register.holder
    assert (
        find_entity(index, f" {register.number[:6]} {register.number[6:]} ", TODAY)["uscc"] == register.holder
    )
    assert find_entity(index, register.lookalike.lower(), TODAY)["uscc"] == register.lookalike
    with pytest.raises(EntityNotFound):
        find_entity(index, register.unheld, TODAY)
