"""Event store settings: eventsourcing's SQLite persistence (embedded) or PostgreSQL.

The composition root passes the mapping returned here as the application's `env`; nothing
reads the process environment for it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse
from uuid import UUID

from eventsourcing.persistence import StoredEvent

# Aggregates stay in a repository cache and are fast-forwarded with their new events instead
# of being replayed from the start at every batch (the projection reloads each touched entity).
CACHE = {"AGGREGATE_CACHE_MAXSIZE": "20000", "AGGREGATE_CACHE_FASTFORWARD": "y"}


def sqlite_env(data_dir: Path) -> dict[str, str]:
    data_dir.mkdir(parents=True, exist_ok=True)
    return {
        **CACHE,
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str(data_dir / "events.sqlite3"),
        "SQLITE_LOCK_TIMEOUT": "30",
    }


#: Connections each application object keeps open (eventsourcing opens them up front, and lets
#: up to `POSTGRES_MAX_OVERFLOW`, 10, more be made for a burst). One process holds several such
#: objects — `gongshi run projections` one per follower — so at eventsourcing's default of 5 it
#: kept 32 connections open and a bench's processes together filled PostgreSQL's 100; each object
#: is used by one thread at a time, or by the API's threads in bursts the overflow takes.
POOL_SIZE = 2


def postgres_env(dsn: str, *, schema: str | None = None, pool_size: int = POOL_SIZE) -> dict[str, str]:
    url = urlparse(dsn)
    env = {
        **CACHE,
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": url.path.lstrip("/") or "gongshi",
        "POSTGRES_HOST": url.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(url.port or 5432),
        "POSTGRES_USER": unquote(url.username or "gongshi"),
        "POSTGRES_PASSWORD": unquote(url.password or ""),
        "POSTGRES_POOL_SIZE": str(pool_size),
        "POSTGRES_CONNECT_TIMEOUT": "10",
    }
    if schema:
        env["POSTGRES_SCHEMA"] = schema
    return env


#: aggregates per bulk-load query on SQLite (its limit of host parameters is 999 in old builds;
#: two or three each: the id and versions)
_LOAD_CHUNK = 300


def load_latest(
    recorder: Any, snapshot_recorder: Any | None, ids: set[UUID]
) -> dict[UUID, list[StoredEvent]]:
    """What rebuilds each of `ids` as it is now — its latest snapshot (when `snapshot_recorder`
    is given and holds one), then its events after that snapshot, in version order: what
    `Repository.get` reads for one aggregate in two queries, read for all of them in two queries
    (on SQLite, two per 300 ids). An id the store has neither events nor snapshots for is left out:
    it does not exist. (`load_until` with no version given.)"""
    return load_until(recorder, snapshot_recorder, dict.fromkeys(ids))


def load_until(
    recorder: Any, snapshot_recorder: Any | None, wanted: Mapping[UUID, int | None]
) -> dict[UUID, list[StoredEvent]]:
    """What rebuilds each aggregate of `wanted` at the version given with it (None: as it is
    now) — its latest snapshot at or below that version (when `snapshot_recorder` is given and
    holds one), then its events after that snapshot up to the version, in version order: what
    `Repository.get(id, version=...)` reads for one aggregate in two queries, read for all of them
    in two queries (on SQLite, two per 300 ids). An id with nothing stored up to its version is
    left out.

    The snapshots are read first and the events after the versions read, so a snapshot taken in
    between costs nothing but a few more events. Recorders have no multi-get, so this reads
    eventsourcing's recorder attributes (`datastore`, `events_table_name`, the PostgreSQL
    datastore's `schema`) (checked against 9.5.6, a test runs it on both engines); any other
    recorder (the in-memory one of unit tests) is read one aggregate at a time through its
    `select_events`, as the repository does."""
    until = {i: _LATEST if v is None else v for i, v in wanted.items()}
    if not until:
        return {}
    if _engine(recorder) is None:
        return _load_one_by_one(recorder, snapshot_recorder, until)
    targets = sorted(until.items())
    snapshots = _latest_snapshots(snapshot_recorder, targets) if snapshot_recorder is not None else {}
    # versions start at 1: -1 reads every event of an aggregate without a snapshot
    since = [(i, snapshots[i].originator_version if i in snapshots else -1, v) for i, v in targets]
    events = _events_since(recorder, since)
    found: dict[UUID, list[StoredEvent]] = {}
    for i, _ in targets:
        stored = ([snapshots[i]] if i in snapshots else []) + events.get(i, [])
        if stored:
            found[i] = stored
    return found


#: the version `load_until` reads up to for "as it is now" (PostgreSQL's bigint, SQLite's integer)
_LATEST = 2**63 - 1


def _engine(recorder: Any) -> str | None:
    """`postgres`, `sqlite`, or None for a recorder whose tables this module cannot read."""
    module = recorder.__class__.__module__
    if module.startswith("eventsourcing.postgres"):
        return "postgres"
    if module.startswith("eventsourcing.sqlite"):
        return "sqlite"
    return None


def _is_postgres(recorder: Any) -> bool:
    return _engine(recorder) == "postgres"


def _load_one_by_one(
    recorder: Any, snapshot_recorder: Any | None, until: Mapping[UUID, int]
) -> dict[UUID, list[StoredEvent]]:
    found: dict[UUID, list[StoredEvent]] = {}
    for i, version in sorted(until.items()):
        snapshot = (
            snapshot_recorder.select_events(i, lte=version, desc=True, limit=1)
            if snapshot_recorder is not None
            else []
        )
        gt = snapshot[0].originator_version if snapshot else None
        stored = [*snapshot, *recorder.select_events(i, gt=gt, lte=version)]
        if stored:
            found[i] = stored
    return found


def _postgres_rows(recorder: Any, text: str, params: Sequence[Any]) -> list[Any]:
    """The rows of `text` on a PostgreSQL recorder's datastore, `{schema}.{table}` naming its
    events table and `{id_type}` its originator ids' type."""
    from psycopg.sql import SQL, Identifier

    query = SQL(text).format(
        schema=Identifier(recorder.datastore.schema),
        table=Identifier(recorder.events_table_name),
        id_type=Identifier(recorder.datastore.originator_id_type),
    )
    with recorder.datastore.transaction(commit=False) as curs:
        curs.execute(query, params)
        return list(curs.fetchall())


def _latest_snapshots(recorder: Any, targets: list[tuple[UUID, int]]) -> dict[UUID, StoredEvent]:
    """The latest stored snapshot of each aggregate at or below the version given with it."""
    found: dict[UUID, StoredEvent] = {}
    if _is_postgres(recorder):
        rows = _postgres_rows(
            recorder,
            "SELECT DISTINCT ON (s.originator_id) s.originator_id, s.originator_version, s.topic, s.state "
            "FROM unnest(%s::{id_type}[], %s::bigint[]) AS w(wanted_id, until_version) "
            "JOIN {schema}.{table} AS s "
            "ON s.originator_id = w.wanted_id AND s.originator_version <= w.until_version "
            "ORDER BY s.originator_id, s.originator_version DESC",
            ([i for i, _ in targets], [v for _, v in targets]),
        )
        for row in rows:
            aggregate_id = UUID(str(row["originator_id"]))
            found[aggregate_id] = _stored_event(aggregate_id, row)
        return found
    table = recorder.events_table_name
    for start in range(0, len(targets), _LOAD_CHUNK):
        chunk = targets[start : start + _LOAD_CHUNK]
        values = ",".join("(?,?)" for _ in chunk)
        statement = (
            f"WITH w(wanted_id, until_version) AS (VALUES {values}) "
            f"SELECT s.originator_id, s.originator_version, s.topic, s.state FROM w JOIN {table} AS s "
            "ON s.originator_id = w.wanted_id AND s.originator_version = "
            f"(SELECT MAX(originator_version) FROM {table} "
            "WHERE originator_id = w.wanted_id AND originator_version <= w.until_version)"
        )
        with recorder.datastore.transaction(commit=False) as curs:
            curs.execute(statement, [p for i, v in chunk for p in (i.hex, v)])
            rows = curs.fetchall()
        for row in rows:
            aggregate_id = UUID(row["originator_id"])
            found[aggregate_id] = _stored_event(aggregate_id, row)
    return found


def _events_since(recorder: Any, since: list[tuple[UUID, int, int]]) -> dict[UUID, list[StoredEvent]]:
    """The stored events of each aggregate after the first version given with it, up to the
    second, in version order."""
    found: dict[UUID, list[StoredEvent]] = {}
    if _is_postgres(recorder):
        rows = _postgres_rows(
            recorder,
            "SELECT e.originator_id, e.originator_version, e.topic, e.state "
            "FROM unnest(%s::{id_type}[], %s::bigint[], %s::bigint[]) "
            "AS w(wanted_id, known_version, until_version) "
            "JOIN {schema}.{table} AS e ON e.originator_id = w.wanted_id "
            "AND e.originator_version > w.known_version AND e.originator_version <= w.until_version "
            "ORDER BY e.originator_id, e.originator_version",
            ([i for i, _, _ in since], [v for _, v, _ in since], [u for _, _, u in since]),
        )
        for row in rows:
            aggregate_id = UUID(str(row["originator_id"]))
            found.setdefault(aggregate_id, []).append(_stored_event(aggregate_id, row))
        return found
    table = recorder.events_table_name
    for start in range(0, len(since), _LOAD_CHUNK):
        chunk = since[start : start + _LOAD_CHUNK]
        values = ",".join("(?,?,?)" for _ in chunk)
        statement = (
            f"WITH w(wanted_id, known_version, until_version) AS (VALUES {values}) "
            f"SELECT e.originator_id, e.originator_version, e.topic, e.state FROM w JOIN {table} AS e "
            "ON e.originator_id = w.wanted_id AND e.originator_version > w.known_version "
            "AND e.originator_version <= w.until_version "
            "ORDER BY e.originator_id, e.originator_version"
        )
        with recorder.datastore.transaction(commit=False) as curs:
            curs.execute(statement, [p for i, v, u in chunk for p in (i.hex, v, u)])
            rows = curs.fetchall()
        for row in rows:
            aggregate_id = UUID(row["originator_id"])
            found.setdefault(aggregate_id, []).append(_stored_event(aggregate_id, row))
    return found


def _stored_event(aggregate_id: UUID, row: Any) -> StoredEvent:
    return StoredEvent(
        originator_id=aggregate_id,
        originator_version=int(row["originator_version"]),
        topic=str(row["topic"]),
        state=bytes(row["state"]),
    )


def events_with_positions(recorder: Any, originator_id: UUID) -> list[tuple[int, StoredEvent]]:
    """Every stored event of one aggregate, in version order, with its notification id (the
    event's position in the store's one sequence) — what an agency's history shows as each
    fact's position. eventsourcing's `select_events` leaves the notification id out, so this reads
    the events table itself: `rowid` on SQLite, `notification_id` on PostgreSQL; an in-memory
    recorder (tests) is scanned through its notifications."""
    from eventsourcing.postgres import PostgresApplicationRecorder
    from eventsourcing.sqlite import SQLiteApplicationRecorder

    if isinstance(recorder, SQLiteApplicationRecorder):
        with recorder.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT rowid, originator_version, topic, state FROM {recorder.events_table_name} "
                "WHERE originator_id = ? ORDER BY originator_version",
                (originator_id.hex,),
            )
            rows = c.fetchall()
        return [(int(r[0]), StoredEvent(originator_id, int(r[1]), str(r[2]), bytes(r[3]))) for r in rows]
    if isinstance(recorder, PostgresApplicationRecorder):
        rows = _postgres_rows(
            recorder,
            "SELECT notification_id, originator_version, topic, state FROM {schema}.{table} "
            "WHERE originator_id = %s ORDER BY originator_version",
            (originator_id,),
        )
        return [
            (
                int(r["notification_id"]),
                StoredEvent(originator_id, int(r["originator_version"]), str(r["topic"]), bytes(r["state"])),
            )
            for r in rows
        ]
    found: list[tuple[int, StoredEvent]] = []
    start = 1
    while notifications := recorder.select_notifications(start, 1000):
        for n in notifications:
            if str(n.originator_id) == str(originator_id):
                found.append((n.id, StoredEvent(originator_id, n.originator_version, n.topic, n.state)))
        start = notifications[-1].id + 1
    return sorted(found, key=lambda item: item[1].originator_version)
