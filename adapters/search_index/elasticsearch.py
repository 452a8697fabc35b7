"""The search index on Elasticsearch 8.19 (standard analyzer only: CJK is one token per character).

Each projection has its own index behind its own alias (`{prefix}-entities` →
`{prefix}-entities-v1`, and likewise `-records` and `-sharing`) so a rebuild can fill a new index
and swap the alias; positions are a plain `{prefix}-positions` index, one document per
projection. Definitions are in `infra/elasticsearch/*.json`. Nothing connects before the first
call.

Writes are idempotent under replay: every document carries the aggregate version as its external
version, so an older write never overwrites a newer one. The records index also holds one
manifest document per entity (`kind: entity`, id = USCC) listing the rows it wrote: read in real
time, it tells which rows an entity no longer has, and those are deleted with the new version. A
projection's position is stored after its bulk succeeded, with the position as external version,
so it never goes backwards.

Chinese substrings are matched with `match_phrase` (per-character tokens, consecutive); ranking
mirrors the embedded adapter: exact name (as typed, canonical, core) > name prefix > name phrase
> former name > legal representative > pinyin, then shorter name, then name. When nothing
matches, the fuzzy tier asks for the entities sharing most of the query's grams (a keyword
field of pre-computed grams) and orders them with rapidfuzz, like the embedded adapter.

A rebuild of one projection fills `{alias}-v{N+1}` (refresh off) while the alias keeps serving vN,
then moves the alias in one `update_aliases` call and drops vN after a short grace for searches
that were already running on it.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from importlib import resources
from typing import Any, Literal

import orjson
from elastic_transport import NdjsonSerializer, TransportError
from elasticsearch import ApiError, Elasticsearch, NotFoundError, OrjsonSerializer

from adapters.search_index.base import (
    NO_FILTERS,
    PROJECTIONS,
    IndexedEntity,
    Page,
    RecordQuery,
    SearchFilters,
    SearchIndex,
    SearchUnavailable,
    check_projection,
)
from adapters.search_index.ranking import fuzzy_page, highlights
from domain import names

log = logging.getLogger(__name__)

INDEX_VERSION = 1
MAX_RESULT_WINDOW = 10_000

# Ranking tiers (dis_max: an entity scores its best tier, like the embedded adapter's CASE).
EXACT_NAME, EXACT_CANONICAL, EXACT_CORE = 900.0, 880.0, 860.0
NAME_PREFIX, NAME_PHRASE, FORMER_NAME = 800.0, 700.0, 600.0
PERSON_EXACT, PINYIN, OTHER = 500.0, 400.0, 100.0
BY_RELEVANCE: list[Any] = ["_score", {"name_length": "asc"}, {"name.keyword": "asc"}]


class _OrjsonNdjsonSerializer(NdjsonSerializer):
    """Bulk bodies (NDJSON) encoded by orjson, like the JSON bodies: the client's encoding is a
    third of a rebuild's Python time with the standard library's json."""

    def json_dumps(self, data: Any) -> bytes:
        return orjson.dumps(data, default=self.default)

    def json_loads(self, data: bytes) -> Any:
        return orjson.loads(data)


SERIALIZERS = {
    OrjsonSerializer.mimetype: OrjsonSerializer(),
    _OrjsonNdjsonSerializer.mimetype: _OrjsonNdjsonSerializer(),
}


def _definition(name: str) -> dict[str, Any]:
    text = (resources.files("infra") / "elasticsearch" / f"{name}.json").read_text(encoding="utf-8")
    body: dict[str, Any] = json.loads(text)
    return body


#: Records-index documents that are not rows: the per-entity manifests.
NOT_A_MANIFEST: dict[str, Any] = {"bool": {"must_not": {"term": {"kind": "entity"}}}}


def _record_id(uscc: str, category: str, record_id: str) -> str:
    return f"{uscc}|{category}|{record_id}"


def _scored(query: dict[str, Any], score: float) -> dict[str, Any]:
    return {"constant_score": {"filter": query, "boost": score}}


class ElasticsearchIndex(SearchIndex):
    """`refresh=True` makes every write searchable before it returns (tests; a refresh per write),
    `"wait_for"` waits for the next scheduled refresh (up to 1 s), False (production) relies on
    the 1 s refresh interval. Reads by id (`get_public`, `position`) are real-time regardless."""

    #: concurrent bulks into the rebuilt index: measured on 2 cores (bench/rebuild), one bulk at a
    #: time indexes ~1,900 entity documents/s, two 2,600/s, three 3,000/s
    rebuild_writers = 3

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "gongshi",
        refresh: bool | Literal["wait_for"] = False,
        shards: int | None = None,
        replicas: int | None = None,
        request_timeout: float = 30.0,
        client: Elasticsearch | None = None,
    ) -> None:
        self.prefix = prefix.lower()
        self.refresh = refresh
        self.shards = shards
        self.replicas = replicas
        self._client = client or Elasticsearch(
            url,
            request_timeout=request_timeout,
            max_retries=2,
            retry_on_timeout=True,
            serializers=SERIALIZERS,
        )
        self._ensured = False
        self._lock = threading.Lock()
        #: projections whose serving index has a mapping older than the definition, and why
        self.outdated: dict[str, str] = {}

    # --- names and setup -----------------------------------------------------------------------

    def alias(self, projection: str) -> str:
        return f"{self.prefix}-{check_projection(projection)}"

    @property
    def entities_alias(self) -> str:
        return self.alias("entities")

    @property
    def records_alias(self) -> str:
        return self.alias("records")

    @property
    def sharing_alias(self) -> str:
        return self.alias("sharing")

    @property
    def positions_index(self) -> str:
        return f"{self.prefix}-positions"

    def _body(self, name: str) -> dict[str, Any]:
        body = _definition(name)
        index_settings = body.setdefault("settings", {}).setdefault("index", {})
        if self.shards is not None:
            index_settings["number_of_shards"] = self.shards
        if self.replicas is not None:
            index_settings["number_of_replicas"] = self.replicas
        return body

    def ensure(self) -> None:
        """Create the missing indexes and aliases (idempotent; safe when several start at once)."""
        with self._translate("ensure"):
            es = self._client
            for name in PROJECTIONS:
                alias = self.alias(name)
                if es.indices.exists_alias(name=alias):
                    self._update_mapping(name, alias)
                    continue
                index = f"{alias}-v{INDEX_VERSION}"
                if not self._create(index, {**self._body(name), "aliases": {alias: {}}}):
                    es.indices.put_alias(index=index, name=alias)  # the index exists without its alias
            if not es.indices.exists(index=self.positions_index):
                self._create(self.positions_index, self._body("positions"))
        self._ensured = True

    def _update_mapping(self, name: str, alias: str) -> None:
        """Add the fields defined since the serving index was created (documents get them when
        rewritten). A change Elasticsearch cannot make in place (a field's type, doc values…)
        leaves the index serving with its old mapping, and says which rebuild brings the new one."""
        properties = _definition(name)["mappings"]["properties"]
        try:
            self._client.indices.put_mapping(index=alias, properties=properties)
        except ApiError as err:
            if _error_type(err) != "illegal_argument_exception":
                raise
            self.outdated[name] = str(err)
            log.warning(
                "%s keeps serving with its old mapping (%s); `gongshi projections rebuild %s` "
                "brings the new one",
                alias,
                self.outdated[name],
                name,
            )

    def _create(self, index: str, body: dict[str, Any]) -> bool:
        try:
            self._client.indices.create(index=index, **body)
        except ApiError as err:
            if _error_type(err) != "resource_already_exists_exception":
                raise
            return False
        return True

    def _es(self) -> Elasticsearch:
        if not self._ensured:
            with self._lock:
                if not self._ensured:
                    self.ensure()
        return self._client

    @contextmanager
    def _translate(self, what: str) -> Iterator[None]:
        try:
            yield
        except SearchUnavailable:
            raise
        except (ApiError, TransportError) as err:
            raise SearchUnavailable(f"Elasticsearch {what} failed: {err}") from err

    # --- writes ---------------------------------------------------------------------------------

    def position(self, projection: str) -> int | None:
        with self._translate("position"):
            try:
                doc = self._es().get(index=self.positions_index, id=projection)
            except NotFoundError:
                return None
        return int(doc["_source"]["position"])

    def write(self, projection: str, entities: Sequence[IndexedEntity], position: int) -> None:
        check_projection(projection)
        latest = _newest(entities)
        refresh: Any = self.refresh
        with self._translate("write"):
            es = self._es()
            if latest:
                operations = self._operations(projection, latest, self.alias(projection))
                if operations:
                    result = es.bulk(operations=operations, refresh=refresh, require_alias=True)
                    if result.get("errors"):
                        _raise_item_errors(result["items"])
            self._record_position(projection, position)

    def _record_position(self, projection: str, position: int) -> None:
        try:
            self._client.index(
                index=self.positions_index,
                id=projection,
                document={"projection": projection, "position": position},
                version=position,
                version_type="external",
            )  # no refresh needed: `position()` is a real-time GET
        except ApiError as err:
            if err.meta.status != 409:  # the stored position is as far or further
                raise

    def _operations(
        self, projection: str, entities: list[IndexedEntity], index: str, *, fresh: bool = False
    ) -> list[dict[str, Any]]:
        """Bulk operations writing `projection`'s documents of `entities` into `index`; `fresh`:
        an index being rebuilt, which holds nothing older to compare with or delete."""
        ops: list[dict[str, Any]] = []
        if projection == "records":
            return self._record_operations(entities, index, fresh=fresh)
        for e in entities:
            meta = {"version": e.version, "version_type": "external"}
            doc = self._entity_doc(e) if projection == "entities" else _sharing_doc(e)
            ops += [{"index": {"_index": index, "_id": e.uscc, **meta}}, doc]
        return ops

    def _record_operations(
        self, entities: list[IndexedEntity], index: str, *, fresh: bool
    ) -> list[dict[str, Any]]:
        stored = {} if fresh else self._manifests(entities)
        existing = {} if fresh else self._existing_rows([e.uscc for e in entities])
        ops: list[dict[str, Any]] = []
        for e in entities:
            version, stored_ids = stored.get(e.uscc, (None, set()))
            if version is not None and version > e.version:
                continue  # a newer version is stored: this write is late, leave it all alone
            row_ids = {_record_id(e.uscc, r["category"], r["record_id"]): r for r in e.rows}
            meta = {"version": e.version, "version_type": "external"}
            ops += [
                {"index": {"_index": index, "_id": e.uscc, **meta}},
                _manifest(e, sorted(row_ids)),
            ]
            for doc_id, row in row_ids.items():
                ops += [{"index": {"_index": index, "_id": doc_id, **meta}}, _record_doc(row, e.version)]
            for doc_id in sorted((stored_ids | existing.get(e.uscc, set())) - row_ids.keys()):
                ops.append({"delete": {"_index": index, "_id": doc_id, **meta}})
        return ops

    def _manifests(self, entities: list[IndexedEntity]) -> dict[str, tuple[int, set[str]]]:
        """The version and row ids each entity's rows were written at, read in real time (a
        search would miss unrefreshed rows)."""
        found = self._client.mget(
            index=self.records_alias, ids=[e.uscc for e in entities], source_includes=["record_ids"]
        )
        out: dict[str, tuple[int, set[str]]] = {}
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
            res = self._client.search(
                index=self.records_alias,
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

    @staticmethod
    def _entity_doc(e: IndexedEntity) -> dict[str, Any]:
        f, public = e.fields, e.public
        registration = public.get("registration") or {}
        return {
            "uscc": e.uscc,
            "codes": [c.upper() for c in f["codes"].split()],
            "name": f["name"],
            "name_length": len(f["name"]),
            "former_names": [n["name"] for n in public.get("former_names", [])],
            "person": f["person"] or None,
            "pinyin": _pinyin_words(
                f["pinyin"], [f["name"], *(n["name"] for n in public.get("former_names", []))]
            ),
            "name_canonical": f.get("name_canonical") or names.canonical(f["name"]),
            "name_core": f.get("name_core") or names.core(f["name"]),
            "former_canonical": (f.get("former_canonical") or "").split(),
            "former_core": (f.get("former_core") or "").split(),
            "grams": (f.get("grams") or "").split(),
            "status": public.get("status"),
            "district_code": public.get("district_code"),
            "entity_type": registration.get("entity_type"),
            "industry": registration.get("industry"),
            "established_on": registration.get("established_on"),
            "flags": list(e.flags),
            "flags_as_of": e.flags_as_of,
            "penalty_windows": [
                {"gte": start, **({"lt": end} if end else {})} for start, end in e.penalty_windows
            ],
            "version": e.version,
            "public": public,
        }

    # --- reads ----------------------------------------------------------------------------------

    def search(
        self, q: str, today: date, page: int = 1, size: int = 20, *, filters: SearchFilters = NO_FILTERS
    ) -> Page:
        offset, size = _window(page, size)
        query = names.analyse(q)
        narrow = _filters(filters)
        if not query.text:
            if not filters:
                return Page(0, [])
            found = self._search({"bool": {"filter": narrow}}, offset, size, sort=BY_RELEVANCE[1:])
            return Page(_total(found), _publics(found))
        if query.is_code:
            code = {"bool": {"must": {"term": {"codes": query.compact}}, "filter": narrow}}
            found = self._search(code, offset, size)
            return Page(_total(found), _publics(found), [None] * len(_publics(found)))
        found = self._search({"bool": {"must": self._text_query(query), "filter": narrow}}, offset, size)
        if _total(found) == 0:
            return self._fuzzy(query, narrow, page, size)
        items = _publics(found)
        return Page(_total(found), items, highlights(query, items))

    def _search(
        self,
        query: dict[str, Any],
        offset: int,
        size: int,
        *,
        sort: list[Any] = BY_RELEVANCE,
        source: list[str] | None = None,
    ) -> Any:
        with self._translate("search"):
            return self._es().search(
                index=self.entities_alias,
                query=query,
                track_total_hits=True,
                source_includes=source or ["public"],
                sort=sort,
                from_=offset,
                size=size,
            )

    @staticmethod
    def _text_query(query: names.Query) -> dict[str, Any]:
        q, canonical, core = query.text, query.canonical, query.core
        tiers = [
            _scored({"term": {"name.keyword": q}}, EXACT_NAME),
            _scored({"term": {"name_canonical.keyword": canonical}}, EXACT_CANONICAL),
            _scored({"prefix": {"name.keyword": q}}, NAME_PREFIX),
            _scored({"prefix": {"name_canonical.keyword": canonical}}, NAME_PREFIX),
            _scored({"match_phrase": {"name": q}}, NAME_PHRASE),
            _scored({"match_phrase": {"name_canonical": canonical}}, NAME_PHRASE),
            _scored({"match_phrase": {"former_names": q}}, FORMER_NAME),
            _scored({"match_phrase": {"former_canonical": canonical}}, FORMER_NAME),
            _scored({"term": {"person.keyword": q}}, PERSON_EXACT),
            _scored({"match_phrase": {"pinyin": query.lower}}, PINYIN),
            _scored({"prefix": {"pinyin.words": query.squeezed}}, PINYIN),
            _scored({"match_phrase": {"person": q}}, OTHER),
            _scored({"prefix": {"codes": query.compact}}, OTHER),
        ]
        if core:
            tiers += [
                _scored({"term": {"name_core.keyword": core}}, EXACT_CORE),
                _scored({"match_phrase": {"name_core": core}}, NAME_PHRASE),
                _scored({"match_phrase": {"former_core": core}}, FORMER_NAME),
            ]
        return {"dis_max": {"tie_breaker": 0.0, "queries": tiers}}

    def _fuzzy(self, query: names.Query, narrow: list[dict[str, Any]], page: int, size: int) -> Page:
        grams = query.grams()
        if not grams:
            return Page(0, [])
        found = self._search(
            {
                "bool": {
                    "should": [{"term": {"grams": g}} for g in grams],
                    "minimum_should_match": names.min_shared(grams),
                    "filter": narrow,
                }
            },
            0,
            names.FUZZY_CANDIDATES,
            source=["public", "grams"],
        )
        candidates = [
            (hit["_source"]["public"], hit["_source"].get("grams") or []) for hit in found["hits"]["hits"]
        ]
        return fuzzy_page(query, candidates, page, size)

    def get_public(self, uscc: str) -> dict[str, Any] | None:
        return self._get_part(self.entities_alias, uscc, "public")

    def get_sharing(self, uscc: str) -> dict[str, Any] | None:
        return self._get_part(self.sharing_alias, uscc, "sharing")

    def _get_part(self, index: str, uscc: str, part: str) -> dict[str, Any] | None:
        with self._translate("get"):
            try:
                doc = self._es().get(index=index, id=uscc, source_includes=[part])
            except NotFoundError:
                return None
        return dict(doc["_source"][part])

    def records(self, query: RecordQuery, today: date, page: int = 1, size: int = 20) -> Page:
        offset, size = _window(page, size)
        filters: list[dict[str, Any]] = [
            NOT_A_MANIFEST,
            {
                "bool": {
                    "minimum_should_match": 1,
                    "should": [
                        {"bool": {"must_not": {"exists": {"field": "public_until"}}}},
                        {"range": {"public_until": {"gt": today.isoformat()}}},
                    ],
                }
            },
        ]
        for field_name, value in (
            ("category", query.category),
            ("department", query.department),
            ("uscc", query.uscc),
        ):
            if value:
                filters.append({"term": {field_name: value}})
        span = {k: v.isoformat() for k, v in (("gte", query.date_from), ("lte", query.date_to)) if v}
        if span:
            filters.append({"range": {"occurred_on": span}})
        with self._translate("records"):
            res = self._es().search(
                index=self.records_alias,
                query={"bool": {"filter": filters}},
                track_total_hits=True,
                source_includes=["row"],
                sort=[{"occurred_on": "desc"}, {"uscc": "asc"}, {"record_id": "asc"}, {"category": "asc"}],
                from_=offset,
                size=size,
            )
        return Page(_total(res), [hit["_source"]["row"] for hit in res["hits"]["hits"]])

    def count(self, projection: str = "entities") -> int:
        query = {"term": {"kind": "entity"}} if projection == "records" else {"match_all": {}}
        with self._translate("count"):
            return int(self._es().count(index=self.alias(projection), query=query)["count"])

    # --- the publicity job ------------------------------------------------------------------------

    def reevaluate_flags(self, today: date) -> int:
        """Entities whose `penalty` flag is wrong for `today` are found by one query on the stored
        windows and re-indexed at their own version (`external_gte`: a newer version written by
        the projection meanwhile wins)."""
        day = today.isoformat()
        in_window = {"term": {"penalty_windows": day}}
        flagged = {"term": {"flags": "penalty"}}
        stale = {
            "bool": {
                "minimum_should_match": 1,
                "should": [
                    {"bool": {"filter": [flagged], "must_not": [in_window]}},
                    {"bool": {"filter": [in_window], "must_not": [flagged]}},
                ],
            }
        }
        changed = 0
        after: list[Any] | None = None
        with self._translate("reevaluate_flags"):
            es = self._es()
            es.indices.refresh(index=self.entities_alias)
            while True:
                extra: dict[str, Any] = {"search_after": after} if after else {}
                res = es.search(
                    index=self.entities_alias,
                    query=stale,
                    size=500,
                    version=True,
                    sort=[{"uscc": "asc"}],
                    **extra,
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
                result = es.bulk(operations=ops, refresh=False)
                if result.get("errors"):
                    _raise_item_errors(result["items"])
                changed += len(hits)
                after = hits[-1]["sort"]
            es.indices.refresh(index=self.entities_alias)
        return changed

    # --- rebuild without downtime -----------------------------------------------------------------

    def _generations(self, alias: str) -> dict[int, str]:
        """Every `{alias}-vN` index that exists, by N."""
        found = self._client.indices.get(index=f"{alias}-v*", ignore_unavailable=True, allow_no_indices=True)
        out = {}
        for name in found:
            suffix = name.removeprefix(f"{alias}-v")
            if suffix.isdigit():
                out[int(suffix)] = name
        return out

    def _serving(self, alias: str) -> list[str]:
        return sorted(self._client.indices.get_alias(name=alias))

    def begin_rebuild(self, projection: str) -> str:
        alias = self.alias(projection)
        with self._translate("begin_rebuild"):
            es = self._es()
            serving = set(self._serving(alias))
            generations = self._generations(alias)
            for index in sorted(set(generations.values()) - serving):
                es.indices.delete(index=index)  # what an earlier, unfinished rebuild left
            target = f"v{max(generations, default=INDEX_VERSION) + 1}"
            body = self._body(projection)
            # while it is filled: no refresh, no fsync per bulk (a crash means a new rebuild)
            body["settings"]["index"].update(refresh_interval="-1", translog={"durability": "async"})
            self._create(f"{alias}-{target}", body)
        return target

    def write_rebuild(self, projection: str, target: str, entities: Sequence[IndexedEntity]) -> None:
        latest = _newest(entities)
        if not latest:
            return
        ops = self._operations(projection, latest, f"{self.alias(projection)}-{target}", fresh=True)
        with self._translate("write_rebuild"):
            result = self._client.bulk(operations=ops, refresh=False)
            if result.get("errors"):
                _raise_item_errors(result["items"])

    def finish_rebuild(self, projection: str, target: str, position: int, *, grace_s: float = 2.0) -> None:
        alias = self.alias(projection)
        new = f"{alias}-{target}"
        with self._translate("finish_rebuild"):
            es = self._es()
            interval = _definition(projection)["settings"]["index"].get("refresh_interval", "1s")
            serving_settings = {"refresh_interval": interval, "translog": {"durability": "request"}}
            es.indices.put_settings(index=new, settings={"index": serving_settings})
            es.indices.refresh(index=new)
            old = self._serving(alias)
            actions: list[dict[str, Any]] = [{"remove": {"index": index, "alias": alias}} for index in old]
            actions.append({"add": {"index": new, "alias": alias}})
            es.indices.update_aliases(actions=actions)  # one atomic swap
            self._record_position(projection, position)
            self.outdated.pop(projection, None)
            if old:
                time.sleep(grace_s)  # searches that resolved the old index before the swap finish
                es.indices.delete(index=",".join(old), ignore_unavailable=True)

    def abort_rebuild(self, projection: str, target: str) -> None:
        with self._translate("abort_rebuild"):
            self._client.indices.delete(index=f"{self.alias(projection)}-{target}", ignore_unavailable=True)

    def ping(self) -> bool:
        try:
            return bool(self._client.ping())
        except (ApiError, TransportError):
            return False

    def close(self) -> None:
        self._client.close()

    def delete_all(self) -> None:
        """Drop every index of this prefix (tests, local resets)."""
        patterns = [*(f"{self.alias(p)}-v*" for p in PROJECTIONS), self.positions_index]
        with self._translate("delete_all"):
            found = self._client.indices.get(
                index=",".join(patterns), ignore_unavailable=True, allow_no_indices=True
            )
            names = sorted(found)
            if names:
                self._client.indices.delete(index=",".join(names))
        self._ensured = False


def _newest(entities: Sequence[IndexedEntity]) -> list[IndexedEntity]:
    """A batch may name an entity twice: keep its newest version."""
    latest: dict[str, IndexedEntity] = {}
    for entity in entities:
        if entity.uscc not in latest or latest[entity.uscc].version < entity.version:
            latest[entity.uscc] = entity
    return list(latest.values())


def _manifest(e: IndexedEntity, record_ids: list[str]) -> dict[str, Any]:
    return {"kind": "entity", "uscc": e.uscc, "entity_version": e.version, "record_ids": record_ids}


def _sharing_doc(e: IndexedEntity) -> dict[str, Any]:
    return {"uscc": e.uscc, "version": e.version, "sharing": e.sharing}


def _record_doc(row: dict[str, Any], version: int) -> dict[str, Any]:
    return {
        "kind": "row",
        "uscc": row["uscc"],
        "category": row["category"],
        "department": row.get("department"),
        "record_id": row["record_id"],
        "occurred_on": row["occurred_on"],
        "public_until": row.get("public_until"),
        "entity_version": version,
        "row": row,
    }


def _pinyin_words(pinyin: str, written: list[str]) -> list[str]:
    """The search fields' pinyin words, plus every syllable-aligned suffix of each name's full
    pinyin and initials, so a keyword prefix query finds `binhai` or `bhht` inside a name."""
    words = dict.fromkeys(pinyin.lower().split())
    words.update(dict.fromkeys(names.pinyin_suffixes(written)))
    return list(words)


def _filters(filters: SearchFilters) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [
        {"term": {field_name: value}}
        for field_name, value in (
            ("status", filters.status),
            ("district_code", filters.district),
            ("entity_type", filters.entity_type),
            ("industry", filters.industry),
        )
        if value
    ]
    out += [{"term": {"flags": flag}} for flag in sorted(set(filters.flags))]
    span = {
        k: v.isoformat() for k, v in (("gte", filters.established_from), ("lte", filters.established_to)) if v
    }
    if span:
        out.append({"range": {"established_on": span}})
    return out


def _publics(res: Any) -> list[dict[str, Any]]:
    return [hit["_source"]["public"] for hit in res["hits"]["hits"]]


def _window(page: int, size: int) -> tuple[int, int]:
    """`from` and `size`, kept inside the index's result window (deeper pages come back empty)."""
    offset = min((max(page, 1) - 1) * max(size, 0), MAX_RESULT_WINDOW)
    return offset, min(max(size, 0), MAX_RESULT_WINDOW - offset)


def _total(res: Any) -> int:
    return int(res["hits"]["total"]["value"])


def _error_type(err: ApiError) -> str | None:
    body = err.body if isinstance(err.body, dict) else {}
    error = body.get("error")
    return error.get("type") if isinstance(error, dict) else None


def _raise_item_errors(items: list[dict[str, Any]]) -> None:
    """A 409 means what is stored is as new or newer (ignored); any other failure raises."""
    failures = []
    for item in items:
        ((action, result),) = item.items()
        if "error" in result and result.get("status") != 409:
            failures.append(f"{action} {result.get('_id')}: {result['error']}")
    if failures:
        more = f" (and {len(failures) - 3} more)" if len(failures) > 3 else ""
        raise SearchUnavailable("Elasticsearch bulk write failed: " + "; ".join(failures[:3]) + more)
