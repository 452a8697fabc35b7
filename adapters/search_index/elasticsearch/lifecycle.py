"""The indexes' lifecycle: names, definitions, creation, mapping migration, generations.

Each projection has its own index behind its own alias (`{prefix}-entities` →
`{prefix}-entities-v1`, and likewise `-records` and `-sharing`), so a rebuild can fill a new
generation and swap the alias; positions are a plain `{prefix}-positions` index. Definitions
are `mappings/{name}.json` beside this module; the entities index gets one more field per
`FILTER_FIELDS` row (keyword or date), so a new filter field needs no JSON edit.

`ensure` creates what is missing and adds fields defined since the serving index was created
(`put_mapping`; documents get them when rewritten). A change Elasticsearch cannot make in place
(a field's type, doc values…) leaves the index serving with its old mapping, recorded in
`outdated` with the rebuild that brings the new one.
"""

from __future__ import annotations

import json
import logging
import threading
from importlib import resources
from typing import Any

from elasticsearch import ApiError, Elasticsearch

from adapters.search_index import base
from adapters.search_index.base import PROJECTIONS, check_projection
from adapters.search_index.elasticsearch.client import error_type, translated

log = logging.getLogger(__name__)

INDEX_VERSION = 1
FIELD_TYPES: dict[str, dict[str, Any]] = {
    "keyword": {"type": "keyword"},
    "date": {"type": "date", "format": "strict_date_optional_time"},
}


def definition(name: str) -> dict[str, Any]:
    """The settings and mappings of index `name` (a projection, or `positions`)."""
    text = (resources.files(__package__) / "mappings" / f"{name}.json").read_text(encoding="utf-8")
    body: dict[str, Any] = json.loads(text)
    if name == "entities":
        properties = body["mappings"]["properties"]
        for f in base.FILTER_FIELDS:
            properties[f.name] = dict(FIELD_TYPES[f.type])
    return body


class Indices:
    """The names and the lifecycle of one prefix's indexes."""

    def __init__(
        self, client: Elasticsearch, prefix: str, *, shards: int | None = None, replicas: int | None = None
    ) -> None:
        self.client = client
        self.prefix = prefix.lower()
        self.shards = shards
        self.replicas = replicas
        self._ensured = False
        self._lock = threading.Lock()
        #: projections whose serving index has a mapping older than the definition, and why
        self.outdated: dict[str, str] = {}

    # --- names ----------------------------------------------------------------------------------

    def alias(self, projection: str) -> str:
        return f"{self.prefix}-{check_projection(projection)}"

    def generation(self, projection: str, target: str) -> str:
        """The index of generation `target` (`vN`) of `projection`."""
        return f"{self.alias(projection)}-{target}"

    @property
    def positions_index(self) -> str:
        return f"{self.prefix}-positions"

    # --- setup ----------------------------------------------------------------------------------

    def body(self, name: str) -> dict[str, Any]:
        body = definition(name)
        index_settings = body.setdefault("settings", {}).setdefault("index", {})
        if self.shards is not None:
            index_settings["number_of_shards"] = self.shards
        if self.replicas is not None:
            index_settings["number_of_replicas"] = self.replicas
        return body

    def ready(self) -> Elasticsearch:
        """The client, once the indexes exist (`ensure` on first use)."""
        if not self._ensured:
            with self._lock:
                if not self._ensured:
                    self.ensure()
        return self.client

    def ensure(self) -> None:
        """Create the missing indexes and aliases (idempotent; safe when several start at once)."""
        with translated("ensure"):
            es = self.client
            for name in PROJECTIONS:
                alias = self.alias(name)
                if es.indices.exists_alias(name=alias):
                    self._update_mapping(name, alias)
                    continue
                index = self.generation(name, f"v{INDEX_VERSION}")
                if not self.create(index, {**self.body(name), "aliases": {alias: {}}}):
                    es.indices.put_alias(index=index, name=alias)  # the index exists without its alias
            if not es.indices.exists(index=self.positions_index):
                self.create(self.positions_index, self.body("positions"))
        self._ensured = True

    def _update_mapping(self, name: str, alias: str) -> None:
        properties = definition(name)["mappings"]["properties"]
        try:
            self.client.indices.put_mapping(index=alias, properties=properties)
        except ApiError as err:
            if error_type(err) != "illegal_argument_exception":
                raise
            self.outdated[name] = str(err)
            log.warning(
                "%s keeps serving with its old mapping (%s); `gongshi projections rebuild %s` "
                "brings the new one",
                alias,
                self.outdated[name],
                name,
            )

    def create(self, index: str, body: dict[str, Any]) -> bool:
        """Create `index`; False when it exists already."""
        try:
            self.client.indices.create(index=index, **body)
        except ApiError as err:
            if error_type(err) != "resource_already_exists_exception":
                raise
            return False
        return True

    # --- generations ----------------------------------------------------------------------------

    def generations(self, projection: str) -> dict[int, str]:
        """Every `{alias}-vN` index of `projection` that exists, by N."""
        alias = self.alias(projection)
        found = self.client.indices.get(index=f"{alias}-v*", ignore_unavailable=True, allow_no_indices=True)
        out = {}
        for name in found:
            suffix = name.removeprefix(f"{alias}-v")
            if suffix.isdigit():
                out[int(suffix)] = name
        return out

    def serving(self, projection: str) -> list[str]:
        """The indexes the alias of `projection` points to (one, but for an interrupted swap)."""
        return sorted(self.client.indices.get_alias(name=self.alias(projection)))

    def delete_all(self) -> None:
        """Drop every index of this prefix (tests, local resets)."""
        patterns = [*(f"{self.alias(p)}-v*" for p in PROJECTIONS), self.positions_index]
        with translated("delete_all"):
            found = self.client.indices.get(
                index=",".join(patterns), ignore_unavailable=True, allow_no_indices=True
            )
            names = sorted(found)
            if names:
                self.client.indices.delete(index=",".join(names))
        self._ensured = False
