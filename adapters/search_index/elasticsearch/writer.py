"""Writes: a projection's documents and its position, and the publicity job's flag rewrite.

Idempotent under replay: documents carry the aggregate version as external version, and a
projection's position is stored after its bulk succeeded, with the position as external
version, so neither ever goes backwards.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, Literal

from elasticsearch import ApiError, NotFoundError

from adapters.search_index.base import FlagChange, IndexedEntity, check_projection
from adapters.search_index.elasticsearch import documents
from adapters.search_index.elasticsearch.client import MAX_RESULT_WINDOW, bulk, translated
from adapters.search_index.elasticsearch.documents import NOT_A_MANIFEST, Manifests
from adapters.search_index.elasticsearch.lifecycle import Indices


class Writer:
    """`refresh=True` makes every write searchable before it returns (tests; a refresh per write),
    `"wait_for"` waits for the next scheduled refresh (up to 1 s), False (production) relies on
    the 1 s refresh interval."""

    def __init__(self, indices: Indices, refresh: bool | Literal["wait_for"] = False) -> None:
        self.indices = indices
        self.refresh = refresh

    def position(self, projection: str) -> int | None:
        with translated("position"):
            try:
                doc = self.indices.ready().get(index=self.indices.positions_index, id=projection)
            except NotFoundError:
                return None
        return int(doc["_source"]["position"])

    def write(self, projection: str, entities: Sequence[IndexedEntity], position: int) -> None:
        check_projection(projection)
        latest = documents.newest(entities)
        refresh: Any = self.refresh
        with translated("write"):
            es = self.indices.ready()
            if latest:
                ops = self.operations(projection, latest, self.indices.alias(projection))
                if ops:
                    bulk(es, ops, refresh=refresh, require_alias=True)
            self.record_position(projection, position)

    def operations(self, projection: str, entities: list[IndexedEntity], index: str) -> list[dict[str, Any]]:
        """Bulk operations over what is stored (records: its manifests and rows)."""
        if projection != "records":
            return documents.operations(projection, entities, index)
        usccs = [e.uscc for e in entities]
        return documents.operations(
            projection, entities, index, manifests=self._manifests(usccs), existing=self._existing_rows(usccs)
        )

    def record_position(self, projection: str, position: int) -> None:
        try:
            self.indices.client.index(
                index=self.indices.positions_index,
                id=projection,
                document={"projection": projection, "position": position},
                version=position,
                version_type="external",
            )  # no refresh needed: `position()` is a real-time GET
        except ApiError as err:
            if err.meta.status != 409:  # the stored position is as far or further
                raise

    def _manifests(self, usccs: list[str]) -> Manifests:
        """The version and row ids each entity's rows were written at, read in real time (a
        search would miss unrefreshed rows)."""
        found = self.indices.client.mget(
            index=self.indices.alias("records"), ids=usccs, source_includes=["record_ids"]
        )
        out: Manifests = {}
        for doc in found["docs"]:
            if doc.get("found"):
                out[doc["_id"]] = (int(doc["_version"]), set(doc["_source"].get("record_ids") or ()))
        return out

    def _existing_rows(self, usccs: list[str]) -> dict[str, set[str]]:
        """Row ids the records index holds for these entities (catches rows a failed write left)."""
        out: dict[str, set[str]] = {}
        after: list[Any] | None = None
        while True:
            extra: dict[str, Any] = {"search_after": after} if after else {}
            res = self.indices.client.search(
                index=self.indices.alias("records"),
                query={"bool": {"filter": [{"terms": {"uscc": usccs}}, NOT_A_MANIFEST]}},
                size=MAX_RESULT_WINDOW,
                source=False,
                sort=[{"uscc": "asc"}, {"category": "asc"}, {"record_id": "asc"}],
                **extra,
            )
            hits = res["hits"]["hits"]
            for hit in hits:
                out.setdefault(hit["_id"].split("|", 1)[0], set()).add(hit["_id"])
            if len(hits) < MAX_RESULT_WINDOW:
                return out
            after = hits[-1]["sort"]

    # --- the publicity job ----------------------------------------------------------------------

    def flag_changes(self, today: date) -> list[FlagChange]:
        """What `reevaluate_flags(today)` will rewrite (the same query), without writing."""
        entities = self.indices.alias("entities")
        out: list[FlagChange] = []
        after: list[Any] | None = None
        with translated("flag_changes"):
            es = self.indices.ready()
            es.indices.refresh(index=entities)
            while True:
                extra: dict[str, Any] = {"search_after": after} if after else {}
                res = es.search(
                    index=entities,
                    query=_stale(today),
                    size=500,
                    sort=[{"uscc": "asc"}],
                    source_includes=["flags", "version", "public"],
                    **extra,
                )
                hits = res["hits"]["hits"]
                if not hits:
                    break
                for hit in hits:
                    doc = hit["_source"]
                    before = set(doc.get("flags") or ())
                    out.append(
                        FlagChange(
                            str(hit["_id"]),
                            int(doc.get("version") or 0),
                            tuple(sorted(before)),
                            tuple(sorted(before ^ {"penalty"})),
                            doc["public"],
                        )
                    )
                after = hits[-1]["sort"]
        return out

    def reevaluate_flags(self, today: date) -> int:
        """Entities whose `penalty` flag is wrong for `today` are found by one query on the stored
        windows and re-indexed at their own version (`external_gte`: a newer version written by
        the projection meanwhile wins)."""
        day = today.isoformat()
        stale = _stale(today)
        entities = self.indices.alias("entities")
        changed = 0
        after: list[Any] | None = None
        with translated("reevaluate_flags"):
            es = self.indices.ready()
            es.indices.refresh(index=entities)
            while True:
                extra: dict[str, Any] = {"search_after": after} if after else {}
                res = es.search(
                    index=entities, query=stale, size=500, version=True, sort=[{"uscc": "asc"}], **extra
                )
                hits = res["hits"]["hits"]
                if not hits:
                    break
                ops: list[dict[str, Any]] = []
                for hit in hits:
                    doc = hit["_source"]
                    flags = set(doc.get("flags") or ()) ^ {"penalty"}
                    doc.update(flags=sorted(flags), flags_as_of=day)
                    meta = {"version": hit["_version"], "version_type": "external_gte"}
                    ops += [{"index": {"_index": hit["_index"], "_id": hit["_id"], **meta}}, doc]
                bulk(es, ops, refresh=False)
                changed += len(hits)
                after = hits[-1]["sort"]
            es.indices.refresh(index=entities)
        return changed


def _stale(today: date) -> dict[str, Any]:
    """Entities whose stored `penalty` flag is wrong for `today`."""
    in_window = {"term": {"penalty_windows": today.isoformat()}}
    flagged = {"term": {"flags": "penalty"}}
    return {
        "bool": {
            "minimum_should_match": 1,
            "should": [
                {"bool": {"filter": [flagged], "must_not": [in_window]}},
                {"bool": {"filter": [in_window], "must_not": [flagged]}},
            ],
        }
    }
