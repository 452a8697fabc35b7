"""Open data: snapshots of the public register, deltas between them, applying a delta, releases.

One history on embedded engines (SQLite event store and FTS5 index), over three dates:
- D1: a generated register, plus entities written for the scenarios (a penalty with a short
  market-supervision window, one that will be revoked, one that will be renamed) — snapshot 1;
- D2: the penalty is revoked, an entity renamed, a new one registered — snapshot 2;
- D3: no event at all, but windows end with the date — snapshot 3.
"""

from __future__ import annotations

import csv
import filecmp
import gzip
import io
import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.clock import FixedDateClock
from domain.masking import contains_unmasked_resident_id
from infra.bootstrap import Container, build
from infra.datagen.generator import generate
from infra.settings import Settings
from opendata import snapshot as snapshot_module
from opendata.daily import DailyOpenData
from opendata.delta import DeltaMismatch, apply_delta, verify, write_delta
from opendata.files import CorruptFile, canonical_json
from opendata.models import (
    DELTA_ENTITIES,
    DELTA_MANIFEST,
    DELTA_RECORD_COLUMNS,
    DELTA_RECORDS,
    ENTITIES,
    MANIFEST,
    RECORD_COLUMNS,
    RECORDS,
    DeltaManifest,
    DeltaRecordRow,
    EntityDeltaLine,
    RecordRow,
    SnapshotManifest,
    manifest_json,
)
from opendata.releases import Releases
from opendata.snapshot import ExportCancelled, write_snapshot
from projections.documents import penalty_is_public
from projections.public_record import PublicRecord, entity_public, public_record
from tests.builders import (
    change_payload,
    envelope,
    licence_payload,
    penalty_payload,
    person,
    registered,
    uscc_for,
)

D1, D2, D3 = date(2026, 11, 22), date(2026, 12, 20), date(2027, 8, 1)
SHORT = uscc_for(901)  # a small market-supervision fine: public for 3 months from D1
REVOKED = uscc_for(902)  # a credit-platform penalty, revoked on D2
RENAMED = uscc_for(903)  # renamed on D2
NEW = uscc_for(904)  # registered on D2
HOME = "天津市河西区友谊路88号7单元1201室"
MOBILE = "13912345678"


@dataclass
class History:
    snapshots: dict[int, Path]
    deltas: dict[str, Path]
    names: dict[str, str]
    homes: set[str]
    phones: set[str]
    id_numbers: set[str]
    data_dir: Path


def process(container: Container, envelopes: list[dict[str, Any]]) -> None:
    for start in range(0, len(envelopes), 500):
        container.registry.process(envelopes[start : start + 500])
    for projection in container.projections.values():
        projection.catch_up()


def natural_persons(container: Container) -> tuple[set[str], set[str], set[str]]:
    """Every legal representative's home address, phone and identity number, unmasked (from the
    agencies' documents), past ones included."""
    homes, phones, ids = set(), set(), set()
    with container.index.scan_public() as scan:
        usccs = [d["uscc"] for d in scan.documents]
    for uscc in usccs:
        sharing = container.index.get_sharing(uscc)
        assert sharing is not None
        people = [sharing["registration"]["legal_representative"]]
        for change in sharing["changes"]:
            people += [
                c[k]
                for c in change["changes"]
                for k in ("before", "after")
                if c["field"] == "legal_representative" and isinstance(c.get(k), dict)
            ]
        for p in people:
            homes |= {p["address"]} if p.get("address") else set()
            phones |= {p["phone"]} if p.get("phone") else set()
            ids.add(p["id_number"])
    return homes, phones, ids


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[History]:
    root = tmp_path_factory.mktemp("opendata")
    data_dir = root / "platform"
    snaps = {n: root / f"snapshot-{n}" for n in (1, 2, 3)}

    day1 = build(Settings(data_dir=data_dir, today=D1))
    names = day1.department_names
    try:
        scenario = [
            registered(uscc=SHORT, name="天津短期处罚商贸有限公司", legal_representative=person("赵六", n=7)),
            registered(uscc=REVOKED, name="天津撤销处罚科技有限公司"),
            registered(
                uscc=RENAMED,
                name="天津将改名餐饮有限公司",
                legal_representative=person("钱七", n=8, phone=MOBILE, address=HOME),
            ),
            envelope(
                "penalty.imposed",
                penalty_payload(
                    "津市监罚〔2026〕901号", decided_on="2026-11-20", fine_amount="2000.00", measures=["fine"]
                ),
                uscc=SHORT,
                department="TJ-AMR",
                occurred_on="2026-11-20",
            ),
            envelope(
                "licence.granted", licence_payload("JY11201169030001"), uscc=RENAMED, occurred_on="2024-01-01"
            ),
            envelope(
                "penalty.imposed",
                penalty_payload("津应急罚〔2026〕902号", decided_on="2026-10-01", fine_amount="80000.00"),
                uscc=REVOKED,
                department="TJ-EM",
                occurred_on="2026-10-01",
            ),
        ]
        process(day1, [*generate(40, 20261122, D1), *scenario])
        write_snapshot(day1.index, names, D1, snaps[1])
    finally:
        day1.close()

    day2 = build(Settings(data_dir=data_dir, today=D2))
    try:
        process(
            day2,
            [
                envelope(
                    "penalty.revoked",
                    {"decision_no": "津应急罚〔2026〕902号", "reason": "复议撤销"},
                    uscc=REVOKED,
                    department="TJ-EM",
                    occurred_on="2026-12-18",
                ),
                envelope(
                    "registration.changed",
                    change_payload("name", "天津将改名餐饮有限公司", "天津已改名餐饮管理有限公司"),
                    uscc=RENAMED,
                    occurred_on="2026-12-19",
                ),
                registered(uscc=NEW, name="天津新设立科技有限公司", occurred_on="2026-12-20"),
            ],
        )
        write_snapshot(day2.index, names, D2, snaps[2])
        write_snapshot(day2.index, names, D3, snaps[3])  # no event since: only the date moved
        homes, phones, ids = natural_persons(day2)
    finally:
        day2.close()

    deltas = {"12": root / "delta-12", "23": root / "delta-23"}
    write_delta(snaps[1], snaps[2], deltas["12"])
    write_delta(snaps[2], snaps[3], deltas["23"])
    yield History(snaps, deltas, names, homes, phones, ids, data_dir)


# --- reading the files back ------------------------------------------------------------------------


def text(path: Path) -> str:
    return gzip.decompress(path.read_bytes()).decode("utf-8")


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text(path).splitlines()]


def rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text(path), newline="")))


def manifest(path: Path) -> SnapshotManifest:
    return SnapshotManifest.model_validate_json((path / MANIFEST).read_bytes())


def delta_manifest(path: Path) -> DeltaManifest:
    return DeltaManifest.model_validate_json((path / DELTA_MANIFEST).read_bytes())


SNAPSHOT_FILES = (MANIFEST, ENTITIES, RECORDS)


# --- a snapshot and the following deltas give exactly the next snapshot ----------------------------------


def test_a_snapshot_and_the_following_deltas_give_exactly_the_next_snapshots(
    history: History, tmp_path: Path
) -> None:
    snaps, deltas = history.snapshots, history.deltas
    assert text(snaps[1] / ENTITIES) != text(snaps[2] / ENTITIES) != text(snaps[3] / ENTITIES)

    second = apply_delta(snaps[1], deltas["12"], tmp_path / "2")
    third = apply_delta(tmp_path / "2", deltas["23"], tmp_path / "3")

    for made, expected in ((tmp_path / "2", snaps[2]), (tmp_path / "3", snaps[3])):
        for name in (ENTITIES, RECORDS):
            assert text(made / name) == text(expected / name)  # the decompressed, sorted content
        assert filecmp.cmp(made / ENTITIES, expected / ENTITIES, shallow=False)  # and the very bytes
        assert filecmp.cmp(made / RECORDS, expected / RECORDS, shallow=False)
        assert (made / MANIFEST).read_bytes() == (expected / MANIFEST).read_bytes()
    assert second.counts == manifest(snaps[2]).counts
    assert third.counts == manifest(snaps[3]).counts
    assert (third.as_of, third.position) == (D3, manifest(snaps[2]).position)


def test_the_first_delta_withdraws_the_revoked_penalty_and_upserts_the_new_and_the_renamed_entity(
    history: History,
) -> None:
    delta = history.deltas["12"]
    changed = {line["uscc"]: line for line in lines(delta / DELTA_ENTITIES)}
    assert {NEW, RENAMED, REVOKED} <= set(changed)
    assert all(line["op"] == "upsert" for line in changed.values())
    assert changed[RENAMED]["entity"]["name"] == "天津已改名餐饮管理有限公司"
    assert changed[REVOKED]["entity"]["penalties"] == []
    record_changes = rows(delta / DELTA_RECORDS)
    withdrawn = [r for r in record_changes if r["op"] == "withdraw"]
    assert ("penalty", "津应急罚〔2026〕902号", REVOKED) in {
        (r["category"], r["record_id"], r["uscc"]) for r in withdrawn
    }
    # the renamed entity's rows carry its new name: upserted
    assert {r["entity_name"] for r in record_changes if r["uscc"] == RENAMED and r["op"] == "upsert"} == {
        "天津已改名餐饮管理有限公司"
    }
    counts = delta_manifest(delta).counts
    assert counts.entities_upserted == len(changed)
    assert counts.records_withdrawn == len(withdrawn)
    assert counts.entities_withdrawn == 0


def test_penalties_whose_window_ends_with_the_date_are_withdrawals(history: History) -> None:
    before = rows(history.snapshots[2] / RECORDS)
    ending = {
        (r["uscc"], r["record_id"])
        for r in before
        if r["public_until"] and r["public_until"] <= D3.isoformat()
    }
    assert (SHORT, "津市监罚〔2026〕901号") in ending  # three months from its publicity on D1

    delta = history.deltas["23"]
    changes = rows(delta / DELTA_RECORDS)
    assert {(r["uscc"], r["record_id"]) for r in changes if r["op"] == "withdraw"} == ending
    assert [r for r in changes if r["op"] == "upsert"] == []  # no event: nothing new
    upserted = {line["uscc"] for line in lines(delta / DELTA_ENTITIES)}
    assert upserted == {uscc for uscc, _ in ending}  # their penalties (and flags) changed
    short = next(line["entity"] for line in lines(delta / DELTA_ENTITIES) if line["uscc"] == SHORT)
    assert (short["penalties"], short["flags"]) == ([], [])


# --- what the files may hold -----------------------------------------------------------------------


def every_file(history: History) -> Iterator[Path]:
    for directory in [*history.snapshots.values(), *history.deltas.values()]:
        yield from sorted(directory.glob("*.gz"))


def test_the_files_hold_no_unmasked_identity_number_phone_or_home_address(history: History) -> None:
    assert HOME in history.homes and MOBILE in history.phones and len(history.id_numbers) > 40
    files = list(every_file(history))
    assert len(files) == 10
    for path in files:
        content = text(path)
        assert not contains_unmasked_resident_id(content), path
        assert not any(i in content for i in history.id_numbers), path
        assert not any(phone in content for phone in history.phones), path
        assert not any(home in content for home in history.homes), path
    people = 0
    for directory in history.snapshots.values():
        for line in lines(directory / ENTITIES):
            reps = [line["registration"]["legal_representative"]]
            for change in line["changes"]:
                reps += [
                    c[k]
                    for c in change["changes"]
                    if c["field"] == "legal_representative"
                    for k in ("before", "after")
                ]
            for rep in reps:
                people += 1
                assert re.fullmatch(r"[0-9A-Z]{4}\*+[0-9Xx]{4}|\*+.{2}", rep["id_number"]), rep
                assert "phone" not in rep or re.fullmatch(
                    r"(1[0-9]{2}|0[0-9]{2,3}-)?\*{4}[0-9]{4}", rep["phone"]
                ), rep
                assert "address" not in rep or rep["address"].endswith("****"), rep
    assert people > 100
    renamed = next(line for line in lines(history.snapshots[2] / ENTITIES) if line["uscc"] == RENAMED)
    rep = renamed["registration"]["legal_representative"]
    assert (rep["phone"], rep["address"]) == ("139****5678", "天津市河西区****")


def test_no_record_out_of_its_window(history: History) -> None:
    for n, directory in history.snapshots.items():
        as_of = manifest(directory).as_of
        penalties = [p for line in lines(directory / ENTITIES) for p in line["penalties"]]
        assert penalties or n == 3
        assert all(penalty_is_public(p, as_of) for p in penalties)
        for row in rows(directory / RECORDS):
            if row["category"] == "penalty":
                assert row["occurred_on"] <= as_of.isoformat() < row["public_until"], row
    revoked = next(line for line in lines(history.snapshots[2] / ENTITIES) if line["uscc"] == REVOKED)
    assert revoked["penalties"] == []  # a revoked penalty is in no public view


def test_every_line_and_row_is_what_its_model_describes(history: History) -> None:
    for directory in history.snapshots.values():
        m = manifest(directory)
        entity_lines = lines(directory / ENTITIES)
        assert [line["uscc"] for line in entity_lines] == sorted(line["uscc"] for line in entity_lines)
        for line in entity_lines:
            assert PublicRecord.model_validate(line).model_dump(mode="json") == line
        record_rows = rows(directory / RECORDS)
        assert list(record_rows[0]) == list(RECORD_COLUMNS)
        for row in record_rows:
            RecordRow.model_validate({k: v or None for k, v in row.items()})
        keys = [(r["uscc"], r["category"], r["record_id"], r["publication_id"]) for r in record_rows]
        assert keys == sorted(set(keys))  # sorted, and each row identified by its key
        assert (m.counts.entities, m.counts.records) == (len(entity_lines), len(record_rows))
    for directory in history.deltas.values():
        for line in lines(directory / DELTA_ENTITIES):
            EntityDeltaLine.model_validate(line)
        delta_rows = rows(directory / DELTA_RECORDS)
        assert delta_rows and list(delta_rows[0]) == list(DELTA_RECORD_COLUMNS)
        for row in delta_rows:
            DeltaRecordRow.model_validate({k: v or None for k, v in row.items()})


def test_a_record_line_is_the_api_model_dumped_as_json(history: History) -> None:
    container = build(Settings(data_dir=history.data_dir, today=D2))
    try:
        with container.index.scan_public() as scan:
            documents = list(scan.documents)
    finally:
        container.close()
    assert len(documents) > 40
    for doc in documents:
        for day in (D1, D2, D3):
            dumped = entity_public(doc, day).model_dump(mode="json", exclude={"as_of"})
            assert canonical_json(public_record(doc, day)) == canonical_json(dumped)


def test_record_rows_name_their_department_category_and_kind(history: History) -> None:
    penalty = next(r for r in rows(history.snapshots[1] / RECORDS) if r["uscc"] == SHORT)
    assert penalty == {
        "uscc": SHORT,
        "entity_name": "天津短期处罚商贸有限公司",
        "category": "penalty",
        "category_label": "行政处罚",
        "kind": "penalty.imposed",
        "record_id": "津市监罚〔2026〕901号",
        "publication_id": penalty["publication_id"],
        "department": "TJ-AMR",
        "department_name": history.names["TJ-AMR"],
        "title": "销售不符合食品安全标准的食品",
        "occurred_on": "2026-11-20",
        "public_until": penalty["public_until"],
        "basis": "《中华人民共和国食品安全法》第一百二十四条",
    }
    assert penalty["publication_id"].startswith("TJ-AMR-")
    assert D2.isoformat() < penalty["public_until"] <= D3.isoformat()


# --- reproducible ------------------------------------------------------------------------------------


def test_the_same_position_and_date_give_the_same_bytes(history: History, tmp_path: Path) -> None:
    container = build(Settings(data_dir=history.data_dir, today=D2))
    try:
        write_snapshot(container.index, history.names, D2, tmp_path / "again", page_size=7)
        write_snapshot(container.index, history.names, D3, tmp_path / "later")
    finally:
        container.close()
    for name in SNAPSHOT_FILES:
        assert (tmp_path / "again" / name).read_bytes() == (history.snapshots[2] / name).read_bytes()
    for name in (ENTITIES, RECORDS):
        header = (tmp_path / "again" / name).read_bytes()[:10]
        assert header[3] == 0  # no file name, no extra field, no comment
        assert header[4:8] == b"\0\0\0\0"  # modification time 0
    assert (tmp_path / "later" / MANIFEST).read_bytes() == (history.snapshots[3] / MANIFEST).read_bytes()


def test_the_manifest_describes_each_file_and_verify_checks_them(history: History, tmp_path: Path) -> None:
    m = manifest(history.snapshots[1])
    assert (m.schema_, m.type, m.as_of) == ("gongshi.opendata/1", "snapshot", D1)
    assert m.position is not None and m.position > 40
    assert [f.name for f in m.files] == [ENTITIES, RECORDS]
    assert all(f.media_type == "application/gzip" for f in m.files)
    assert verify(history.snapshots[1]) == [ENTITIES, RECORDS]
    assert verify(history.deltas["12"]) == [DELTA_ENTITIES, DELTA_RECORDS]

    damaged = tmp_path / "damaged"
    shutil.copytree(history.snapshots[1], damaged)
    data = bytearray((damaged / RECORDS).read_bytes())
    data[len(data) // 2] ^= 0x01
    (damaged / RECORDS).write_bytes(bytes(data))
    with pytest.raises((CorruptFile, OSError, EOFError)):
        verify(damaged)
    with pytest.raises((CorruptFile, OSError, EOFError)):
        write_delta(damaged, history.snapshots[2], tmp_path / "delta")
    assert not (tmp_path / "delta" / DELTA_MANIFEST).exists()
    assert sorted(p.name for p in (tmp_path / "delta").iterdir()) == []  # no partial file left


def test_content_that_differs_from_its_manifest_is_caught_after_the_last_line(
    history: History, tmp_path: Path
) -> None:
    edited = tmp_path / "edited"
    shutil.copytree(history.snapshots[2], edited)
    m = manifest(edited)
    wrong = [f.model_copy(update={"content_sha256": "0" * 64}) if f.name == ENTITIES else f for f in m.files]
    (edited / MANIFEST).write_bytes(manifest_json(m.model_copy(update={"files": wrong})))
    with pytest.raises(CorruptFile, match="does not match its manifest"):
        verify(edited)
    fewer = [f.model_copy(update={"items": f.items - 1}) if f.name == RECORDS else f for f in m.files]
    (edited / MANIFEST).write_bytes(manifest_json(m.model_copy(update={"files": fewer})))
    with pytest.raises(CorruptFile, match="does not match its manifest"):
        write_delta(history.snapshots[1], edited, tmp_path / "delta")


def test_a_delta_applies_only_to_the_snapshot_it_starts_from(history: History, tmp_path: Path) -> None:
    with pytest.raises(DeltaMismatch, match="starts from the snapshot as of 2026-12-20"):
        apply_delta(history.snapshots[1], history.deltas["23"], tmp_path / "wrong")
    assert not (tmp_path / "wrong" / MANIFEST).exists()
    with pytest.raises(DeltaMismatch, match="goes forward"):
        write_delta(history.snapshots[3], history.snapshots[1], tmp_path / "backwards")


def test_a_cancelled_snapshot_leaves_no_file_behind(
    history: History, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(snapshot_module, "PROGRESS_EVERY", 5)
    seen: list[int] = []
    container = build(Settings(data_dir=history.data_dir, today=D2))
    try:
        with pytest.raises(ExportCancelled):
            write_snapshot(
                container.index,
                history.names,
                D2,
                tmp_path / "cancelled",
                on_start=seen.append,
                on_progress=seen.append,
                should_stop=lambda: len(seen) > 2,
            )
    finally:
        container.close()
    assert seen == [manifest(history.snapshots[2]).counts.entities, 5, 10]
    assert list((tmp_path / "cancelled").iterdir()) == []


# --- releases and the daily job ------------------------------------------------------------------------


class Clock:
    def __init__(self, today: date, utc: datetime) -> None:
        self.day, self.instant = today, utc

    def today(self) -> date:
        return self.day

    def now(self) -> datetime:
        return self.instant

    def date_of(self, instant: datetime) -> date:
        return FixedDateClock(self.day, lambda: self.instant).date_of(instant)


def test_the_daily_release_writes_the_snapshot_and_the_delta_from_the_previous_one(
    history: History, tmp_path: Path
) -> None:
    container = build(Settings(data_dir=history.data_dir, today=D2))
    releases = Releases(tmp_path / "open-data")
    clock = Clock(D1, datetime(2026, 11, 21, 17, 59, tzinfo=UTC))  # 01:59 on D1 in China
    job = DailyOpenData(container.index, history.names, clock, releases, hour=2, keep_days=30)
    try:
        assert job.due() is None  # before the hour
        clock.instant = datetime(2026, 11, 21, 18, 0, tzinfo=UTC)  # 02:00 in China
        assert job.due() == D1
        first = job.run_once()
        assert first is not None and first.delta is None and job.due() is None
        assert first.files() == [MANIFEST, ENTITIES, RECORDS]

        clock.day, clock.instant = D2, datetime(2026, 12, 20, 3, 0, tzinfo=UTC)
        second = job.run_once()
        assert second is not None and second.delta is not None
        assert second.delta.from_.as_of == D1 and second.delta.to.as_of == D2
        assert second.files() == [MANIFEST, ENTITIES, RECORDS, DELTA_MANIFEST, DELTA_ENTITIES, DELTA_RECORDS]
        assert [r.day for r in releases.all()] == [D2, D1]
        assert not [p for p in releases.root.iterdir() if p.name.startswith(".")]  # nothing partial

        apply_delta(releases.path(D1), releases.path(D2), tmp_path / "applied")
        assert text(tmp_path / "applied" / ENTITIES) == text(releases.path(D2) / ENTITIES)

        clock.day, clock.instant = D3, datetime(2027, 8, 1, 3, 0, tzinfo=UTC)
        job.keep_days = 230  # D3 - 230 days lies between D1 and D2
        third = job.run_once()
        assert third is not None and [r.day for r in releases.all()] == [D3, D2]  # D1 is past the retention
    finally:
        container.close()


def test_a_release_serves_only_its_own_files(tmp_path: Path, history: History) -> None:
    releases = Releases(tmp_path)
    shutil.copytree(history.snapshots[1], tmp_path / D1.isoformat())
    shutil.copytree(history.snapshots[2], tmp_path / ".2026-12-20.partial")  # unfinished
    (tmp_path / "2026-12-21").mkdir()  # no manifest
    assert releases.days() == [D1]
    assert releases.file(D1, ENTITIES) == tmp_path / D1.isoformat() / ENTITIES
    assert releases.file(D1, DELTA_ENTITIES) is None  # the first release has no delta
    assert releases.file(D1, "../2026-11-22/entities.jsonl.gz") is None
    assert releases.file(D2, ENTITIES) is None
    assert releases.prune(date(2030, 1, 1), 1) == []  # never the latest one
