"""The change table and watchlists, one suite for SQLite and PostgreSQL: positions increase and
are kept for a key written again; a USCC watchlist reads only its entities' changes; purging
old changes is remembered; webhook state is kept; natural persons are kept sealed (a grep of the
raw rows finds no number, phone or address), read 已删除 once erased, and changes kept in
plaintext before are sealed by `seal_stored` (`gongshi persons migrate`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from adapters.change_store import ChangeStore, NewChange, Watchlist, WatchlistFilter, WebhookState
from adapters.change_store.base import open_change, seal_change, seal_changes
from adapters.change_store.postgres import PostgresChangeStore
from adapters.change_store.sqlite import SQLiteChangeStore
from adapters.personal_data import PersonalDataVault, PostgresVault, SQLiteVault
from domain.masking import mask_id_number, mask_person
from domain.personal_data import ERASED
from tests.builders import resident_id
from tests.engines import postgres_dsn, real, unique_prefix

A, B = "91120116MA05JQ2X4L", "91110108MA01K3P20A"
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def change(n: int, uscc: str = A, at: datetime = T0) -> NewChange:
    return NewChange(
        f"event:{n}", uscc, at, {"schema": "gongshi.change/2", "uscc": uscc, "event_position": n}
    )


@pytest.fixture(params=["sqlite", real("postgres")])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ChangeStore]:
    if request.param == "sqlite":
        s: ChangeStore = SQLiteChangeStore(tmp_path / "changes.sqlite3")
        yield s
        s.close()
        return
    dsn = postgres_dsn()
    schema = unique_prefix(f"cs_{request.node.name[5:25]}").replace("[", "_").replace("]", "")
    s = PostgresChangeStore(dsn, schema=schema)
    yield s
    s.close()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def test_positions_increase_and_a_key_written_again_keeps_its_position(store: ChangeStore) -> None:
    first = store.append([change(1), change(2, B)])
    again = store.append([change(2, B), change(3)])
    assert first[0] < first[1] and again[0] == first[1] and again[1] > first[1]
    rows = store.after(0, 10)
    assert [r.message["event_position"] for r in rows] == [1, 2, 3]
    assert [r.position for r in rows] == sorted(r.position for r in rows)
    assert all(r.message["position"] == r.position for r in rows)
    assert [r.message["event_position"] for r in store.after(rows[0].position, 1)] == [2]
    assert store.bounds() == (rows[0].position, rows[-1].position, 0)


def test_a_batch_keeps_its_order_and_a_key_twice_in_it_keeps_its_first_position(store: ChangeStore) -> None:
    store.append([change(1)])
    positions = store.append([change(3, B), change(2), change(3, B), change(1), change(4)])
    assert positions[0] == positions[2] and positions[0] < positions[1] < positions[4]
    rows = store.after(0, 10)
    assert [r.message["event_position"] for r in rows] == [1, 3, 2, 4]
    assert positions[3] == rows[0].position  # the key stored by the first batch
    assert [r.position for r in rows[1:]] == [positions[0], positions[1], positions[4]]


def test_a_uscc_watchlist_reads_only_its_entities(store: ChangeStore) -> None:
    store.append([change(1), change(2, B), change(3)])
    watchlist = Watchlist("w1", "TJ-TAX-1", "重点企业", T0, uscc_count=1)
    store.create_watchlist(watchlist, [A])
    assert store.watchlist("w1") == watchlist
    assert [r.message["event_position"] for r in store.after_for_usccs("w1", 0, 10)] == [1, 3]
    assert store.watchlists("TJ-TAX-1") == [watchlist] and store.watchlists("other") == []


def test_a_deleted_watchlist_is_gone_with_its_uscc_list_and_webhook_state(store: ChangeStore) -> None:
    store.append([change(1), change(2, B)])
    kept = Watchlist("w3", "TJ-TAX-1", "保留", T0, uscc_count=1)
    store.create_watchlist(Watchlist("w4", "TJ-TAX-1", "删除", T0, uscc_count=2), [A, B])
    store.create_watchlist(kept, [A])
    store.save_webhook_state(WebhookState("w4", position=1, attempts=2))
    assert store.delete_watchlist("w4") is True
    assert store.watchlist("w4") is None and store.watchlists("TJ-TAX-1") == [kept]
    assert store.after_for_usccs("w4", 0, 10) == [] and store.webhook_state("w4") == WebhookState("w4")
    assert [r.message["event_position"] for r in store.after_for_usccs("w3", 0, 10)] == [1]
    assert store.delete_watchlist("w4") is False
    # a new list may take the same id and starts empty
    store.create_watchlist(Watchlist("w4", "TJ-TAX-1", "新的", T0, uscc_count=1), [B])
    assert [r.message["event_position"] for r in store.after_for_usccs("w4", 0, 10)] == [2]


def test_a_filter_watchlist_is_kept_with_its_filter(store: ChangeStore) -> None:
    wanted = WatchlistFilter(districts=("120116",), flags_entered=("serious",))
    store.create_watchlist(
        Watchlist("w2", "TJ-TAX-1", "滨海新区新列严重失信", T0, wanted, 0, "https://hooks.example/x"), []
    )
    found = store.watchlist("w2")
    assert found is not None and found.filter == wanted and found.webhook_url == "https://hooks.example/x"
    assert wanted.holds({"district": "120116", "flags_before": [], "flags_after": ["serious"]})
    assert not wanted.holds({"district": "120116", "flags_before": ["serious"], "flags_after": ["serious"]})


def test_old_changes_are_purged_and_the_purge_remembered(store: ChangeStore) -> None:
    positions = store.append(
        [change(1, at=T0), change(2, at=T0 + timedelta(days=1)), change(3, at=T0 + timedelta(days=5))]
    )
    assert store.purge(T0 + timedelta(days=2)) == 2
    assert store.bounds() == (positions[2], positions[2], positions[1])
    assert [r.position for r in store.after(0, 10)] == [positions[2]]


def test_webhook_state_is_kept(store: ChangeStore) -> None:
    assert store.webhook_state("w9") == WebhookState("w9")
    state = WebhookState("w9", 42, 3, T0, "503", None)
    store.save_webhook_state(state)
    assert store.webhook_state("w9") == state


# --- natural persons sealed (crypto-shredding, issue 17) ---------------------------------------

NUMBER, PHONE, HOME = "120104198803150017", "13900001111", "天津市河西区友谊路8号2单元301室"


def person_change(n: int) -> NewChange:
    """A change as the feed writes one: the representative in the agency view and masked in the
    public one."""
    rep = {"name": "张伟", "id_number": NUMBER, "phone": PHONE, "address": HOME}
    return NewChange(
        f"event:{n}",
        A,
        T0,
        {
            "schema": "gongshi.change/2",
            "uscc": A,
            "event_position": n,
            "public": {"registration": {"legal_representative": mask_person(rep)}},
            "sharing": {"registration": {"legal_representative": rep}},
        },
    )


def representatives(store: ChangeStore) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    return [
        (
            r.message["sharing"]["registration"]["legal_representative"],
            r.message["public"]["registration"]["legal_representative"],
        )
        for r in store.after(0, 10)
        if "sharing" in r.message
    ]


@dataclass
class Engine:
    """One engine's change store, made with or without the vault, and every byte it keeps."""

    make: Callable[[PersonalDataVault | None], ChangeStore]
    raw: Callable[[], bytes]
    vault: PersonalDataVault


@pytest.fixture(params=["sqlite", real("postgres")])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    pepper = b"contract-pepper"
    if request.param == "sqlite":
        path = tmp_path / "changes.sqlite3"
        vault: PersonalDataVault = SQLiteVault(tmp_path / "personal.sqlite3", pepper=pepper)
        yield Engine(
            lambda v: SQLiteChangeStore(path, vault=v),
            lambda: b"".join(p.read_bytes() for p in tmp_path.glob("changes.sqlite3*")),
            vault,
        )
        vault.close()
        return
    dsn = postgres_dsn()
    schema = unique_prefix("cs_sealed")

    def raw() -> bytes:
        with psycopg.connect(dsn, autocommit=True) as conn:
            rows = conn.execute(f'SELECT message::text FROM "{schema}".changes').fetchall()
        return "\n".join(r[0] for r in rows).encode()

    vault = PostgresVault(dsn, schema=schema, pepper=pepper)
    yield Engine(lambda v: PostgresChangeStore(dsn, schema=schema, vault=v), raw, vault)
    vault.close()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def plaintext_in(raw: bytes) -> bool:
    return any(v.encode() in raw for v in (NUMBER, PHONE, HOME, mask_id_number(NUMBER)))


def test_persons_are_kept_sealed_and_read_erased_once_the_person_is_erased(engine: Engine) -> None:
    store = engine.make(engine.vault)
    try:
        store.append([person_change(1)])
        assert not plaintext_in(engine.raw())
        sharing, public = representatives(store)[0]
        assert (sharing["id_number"], sharing["phone"], sharing["address"]) == (NUMBER, PHONE, HOME)
        assert public == mask_person(sharing)
        engine.vault.erase(NUMBER, reason="本人依法申请删除", actor="test")
        [(sharing, public)] = representatives(store)
        assert sharing == public == {"name": "张伟", "id_number": ERASED, "phone": ERASED, "address": ERASED}
        assert not plaintext_in(engine.raw())
    finally:
        store.close()


def test_changes_kept_in_plaintext_before_are_sealed_by_the_migration(engine: Engine) -> None:
    before = engine.make(None)  # as the platform kept changes before sealing
    before.append([person_change(1), change(2, B)])
    before.close()
    assert plaintext_in(engine.raw())
    store = engine.make(engine.vault)
    try:
        assert store.seal_stored() == 1
        assert not plaintext_in(engine.raw())
        sharing, public = representatives(store)[0]
        assert (sharing["id_number"], public["id_number"]) == (NUMBER, mask_id_number(NUMBER))
        assert store.seal_stored() == 0  # idempotent
        engine.vault.erase(NUMBER, reason="本人依法申请删除", actor="test")
        assert representatives(store)[0][0]["id_number"] == ERASED
    finally:
        store.close()


def test_a_batch_of_changes_reads_its_persons_keys_together(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`seal_changes`: the keys of every person in the batch read in one query, then sealed as
    `seal_change` seals each; a person erased has no key to read, and none is made for it here."""
    vault = engine.vault
    numbers = [resident_id(n) for n in range(90, 93)]
    for number in numbers:
        vault.seal(number, {"id_number": number})  # the events sealed them: each has a key
    erased = resident_id(93)
    vault.seal(erased, {"id_number": erased})
    vault.erase(erased, reason="本人依法申请删除", actor="test")
    vault.forget()  # as a process that has not sealed for them yet
    one_by_one: list[str] = []
    together: list[list[str]] = []
    current_key, current_keys = vault._current_key, vault._current_keys
    monkeypatch.setattr(vault, "_current_key", lambda ref: one_by_one.append(ref) or current_key(ref))
    monkeypatch.setattr(vault, "_current_keys", lambda refs: together.append(refs) or current_keys(refs))
    messages = [
        ({"sharing": {"rep": {"name": "甲", "id_number": n}}, "public": {}}, None) for n in numbers
    ] + [
        (
            {"sharing": {}, "public": {"rep": mask_person({"name": "乙", "id_number": numbers[0]})}},
            [{"name": "乙", "id_number": numbers[0]}],
        )
    ]

    sealed = seal_changes(messages, vault)

    assert one_by_one == [] and len(together) == 1 and len(together[0]) == 3  # one query, three persons
    for s, (m, p) in zip(sealed, messages, strict=True):  # nonces differ: compared opened
        assert open_change(s, vault) == open_change(seal_change(m, vault, p), vault)
    assert [open_change(s, vault)["sharing"]["rep"]["id_number"] for s in sealed[:3]] == numbers
    assert open_change(sealed[3], vault)["public"]["rep"]["id_number"] == mask_id_number(numbers[0])
    vault.prefetch([erased])
    assert one_by_one == [] and together[-1] == [vault.ref(erased)]  # asked, and no key found
    assert vault.ref(erased) not in vault._current
