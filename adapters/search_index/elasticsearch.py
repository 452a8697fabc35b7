"""The search index on Elasticsearch 8.19 (standard analyzer only: CJK is one token per character).

Indexes live behind aliases (`{prefix}-entities` → `{prefix}-entities-v1`, same for records) so a
rebuild can fill a new index and swap the alias; positions are a plain `{prefix}-positions` index.
Definitions are in `infra/elasticsearch/*.json`. Nothing connects before the first call.

Writes are idempotent under replay: every entity document and record row carries the aggregate
version as its external version, so an older write never overwrites a newer one. Rows an entity
no longer has are deleted with the new version. The projection's position is stored after the
bulk succeeded, with the position as external version, so it never goes backwards.

Chinese substrings are matched with `match_phrase` (per-character tokens, consecutive); ranking
mirrors the embedded adapter: exact name > name prefix > name substring > former name >
legal representative > pinyin, then shorter name, then name.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from importlib import resources
from typing import Any, Literal

from elastic_transport import TransportError
from elasticsearch import ApiError, Elasticsearch, NotFoundError
from pypinyin import Style, lazy_pinyin

from adapters.search_index.base import IndexedEntity, Page, RecordQuery, SearchIndex, SearchUnavailable
from domain.uscc import looks_like_registration_number, looks_like_uscc

INDEX_VERSION = 1
MAX_RESULT_WINDOW = 10_000

# Ranking tiers (dis_max: an entity scores its best tier, like the embedded adapter's CASE).
EXACT_NAME, NAME_PREFIX, NAME_PHRASE, FORMER_NAME = 900.0, 800.0, 700.0, 600.0
PERSON_EXACT, PINYIN, OTHER = 500.0, 400.0, 100.0


def _definition(name: str) -> dict[str, Any]:
    text = (resources.files("infra") / "elasticsearch" / f"{name}.json").read_text(encoding="utf-8")
    body: dict[str, Any] = json.loads(text)
    return body


def _record_id(uscc: str, category: str, record_id: str) -> str:
    return f"{uscc}|{category}|{record_id}"


def _scored(query: dict[str, Any], score: float) -> dict[str, Any]:
    return {"constant_score": {"filter": query, "boost": score}}


class ElasticsearchIndex(SearchIndex):
    """`refresh=True` makes every write searchable before it returns (tests; a refresh per write),
    `"wait_for"` waits for the next scheduled refresh (up to 1 s), False (production) relies on
    the 1 s refresh interval. Reads by id (`get_public`, `position`) are real-time regardless."""

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
            url, request_timeout=request_timeout, max_retries=2, retry_on_timeout=True
        )
        self._ensured = False
        self._lock = threading.Lock()

    # --- names and setup -----------------------------------------------------------------------

    @property
    def entities_alias(self) -> str:
        return f"{self.prefix}-entities"

    @property
    def records_alias(self) -> str:
        return f"{self.prefix}-records"

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
            for name, alias in (("entities", self.entities_alias), ("records", self.records_alias)):
                if es.indices.exists_alias(name=alias):
                    continue
                index = f"{alias}-v{INDEX_VERSION}"
                if not self._create(index, {**self._body(name), "aliases": {alias: {}}}):
                    es.indices.put_alias(index=index, name=alias)  # the index exists without its alias
            if not es.indices.exists(index=self.positions_index):
                self._create(self.positions_index, self._body("positions"))
        self._ensured = True

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
        latest: dict[str, IndexedEntity] = {}
        for entity in entities:  # a batch may name an entity twice: keep its newest version
            if entity.uscc not in latest or latest[entity.uscc].version < entity.version:
                latest[entity.uscc] = entity
        refresh: Any = self.refresh
        with self._translate("write"):
            es = self._es()
            if latest:
                operations = self._operations(list(latest.values()))
                if operations:
                    result = es.bulk(operations=operations, refresh=refresh, require_alias=True)
                    if result.get("errors"):
                        _raise_item_errors(result["items"])
            try:
                es.index(
                    index=self.positions_index,
                    id=projection,
                    document={"projection": projection, "position": position},
                    version=position,
                    version_type="external",
                )  # no refresh needed: `position()` is a real-time GET
            except ApiError as err:
                if err.meta.status != 409:  # the stored position is as far or further
                    raise

    def _operations(self, entities: list[IndexedEntity]) -> list[dict[str, Any]]:
        stored = self._stored(entities)
        existing = self._existing_rows([e.uscc for e in entities])
        ops: list[dict[str, Any]] = []
        for e in entities:
            version, stored_ids = stored.get(e.uscc, (None, set()))
            if version is not None and version > e.version:
                continue  # a newer version is stored: this write is late, leave it all alone
            row_ids = {_record_id(e.uscc, r["category"], r["record_id"]): r for r in e.rows}
            meta = {"version": e.version, "version_type": "external"}
            ops += [
                {"index": {"_index": self.entities_alias, "_id": e.uscc, **meta}},
                self._entity_doc(e, sorted(row_ids)),
            ]
            for doc_id, row in row_ids.items():
                ops += [
                    {"index": {"_index": self.records_alias, "_id": doc_id, **meta}},
                    _record_doc(row, e.version),
                ]
            for doc_id in sorted((stored_ids | existing.get(e.uscc, set())) - row_ids.keys()):
                ops.append({"delete": {"_index": self.records_alias, "_id": doc_id, **meta}})
        return ops

    def _stored(self, entities: list[IndexedEntity]) -> dict[str, tuple[int, set[str]]]:
        """Stored versions and row ids, read in real time (a search would miss unrefreshed rows)."""
        found = self._client.mget(
            index=self.entities_alias, ids=[e.uscc for e in entities], source_includes=["record_ids"]
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
                query={"terms": {"uscc": usccs}},
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
    def _entity_doc(e: IndexedEntity, record_ids: list[str]) -> dict[str, Any]:
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
            "status": public.get("status"),
            "district_code": public.get("district_code"),
            "entity_type": registration.get("entity_type"),
            "established_on": registration.get("established_on"),
            "version": e.version,
            "record_ids": record_ids,
            "public": public,
            "sharing": e.sharing,
        }

    # --- reads ----------------------------------------------------------------------------------

    def search(self, q: str, today: date, page: int = 1, size: int = 20) -> Page:
        offset, size = _window(page, size)
        q = " ".join(q.split())
        if not q:
            return Page(0, [])
        compact = q.replace(" ", "").upper()
        if looks_like_uscc(compact) or looks_like_registration_number(compact):
            query: dict[str, Any] = {"term": {"codes": compact}}
        else:
            query = self._text_query(q)
        with self._translate("search"):
            res = self._es().search(
                index=self.entities_alias,
                query=query,
                track_total_hits=True,
                source_includes=["public"],
                sort=["_score", {"name_length": "asc"}, {"name.keyword": "asc"}],
                from_=offset,
                size=size,
            )
        return Page(_total(res), [hit["_source"]["public"] for hit in res["hits"]["hits"]])

    @staticmethod
    def _text_query(q: str) -> dict[str, Any]:
        lower = q.lower()
        squeezed = lower.replace(" ", "")
        return {
            "dis_max": {
                "tie_breaker": 0.0,
                "queries": [
                    _scored({"term": {"name.keyword": q}}, EXACT_NAME),
                    _scored({"prefix": {"name.keyword": q}}, NAME_PREFIX),
                    _scored({"match_phrase": {"name": q}}, NAME_PHRASE),
                    _scored({"match_phrase": {"former_names": q}}, FORMER_NAME),
                    _scored({"term": {"person.keyword": q}}, PERSON_EXACT),
                    _scored({"match_phrase": {"pinyin": lower}}, PINYIN),
                    _scored({"prefix": {"pinyin.words": squeezed}}, PINYIN),
                    _scored({"match_phrase": {"person": q}}, OTHER),
                    _scored({"prefix": {"codes": squeezed.upper()}}, OTHER),
                ],
            }
        }

    def get_public(self, uscc: str) -> dict[str, Any] | None:
        return self._get_part(uscc, "public")

    def get_sharing(self, uscc: str) -> dict[str, Any] | None:
        return self._get_part(uscc, "sharing")

    def _get_part(self, uscc: str, part: str) -> dict[str, Any] | None:
        with self._translate("get"):
            try:
                doc = self._es().get(index=self.entities_alias, id=uscc, source_includes=[part])
            except NotFoundError:
                return None
        return dict(doc["_source"][part])

    def records(self, query: RecordQuery, today: date, page: int = 1, size: int = 20) -> Page:
        offset, size = _window(page, size)
        filters: list[dict[str, Any]] = [
            {
                "bool": {
                    "minimum_should_match": 1,
                    "should": [
                        {"bool": {"must_not": {"exists": {"field": "public_until"}}}},
                        {"range": {"public_until": {"gt": today.isoformat()}}},
                    ],
                }
            }
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

    def count(self) -> int:
        with self._translate("count"):
            return int(self._es().count(index=self.entities_alias)["count"])

    def ping(self) -> bool:
        try:
            return bool(self._client.ping())
        except (ApiError, TransportError):
            return False

    def close(self) -> None:
        self._client.close()

    def delete_all(self) -> None:
        """Drop every index of this prefix (tests, local resets)."""
        patterns = [f"{self.entities_alias}-v*", f"{self.records_alias}-v*", self.positions_index]
        with self._translate("delete_all"):
            found = self._client.indices.get(
                index=",".join(patterns), ignore_unavailable=True, allow_no_indices=True
            )
            names = sorted(found)
            if names:
                self._client.indices.delete(index=",".join(names))
        self._ensured = False


def _record_doc(row: dict[str, Any], version: int) -> dict[str, Any]:
    return {
        "uscc": row["uscc"],
        "category": row["category"],
        "department": row.get("department"),
        "record_id": row["record_id"],
        "occurred_on": row["occurred_on"],
        "public_until": row.get("public_until"),
        "entity_version": version,
        "row": row,
    }


def _pinyin_words(pinyin: str, names: list[str]) -> list[str]:
    """The search fields' pinyin words, plus every syllable-aligned suffix of each name's full
    pinyin and initials, so a keyword prefix query finds `binhai` or `bhht` inside a name."""
    words = dict.fromkeys(pinyin.lower().split())
    for name in names:
        for style in (Style.NORMAL, Style.FIRST_LETTER):
            syllables = [
                "".join(ch for ch in s.lower() if ch.isascii() and ch.isalnum())
                for s in lazy_pinyin(name, style=style)
            ]
            for i in range(len(syllables)):
                if suffix := "".join(syllables[i:]):
                    words[suffix] = None
    return list(words)


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
