"""Rebuild without downtime: one projection's next generation `{alias}-v{N+1}` is filled
(refresh off, asynchronous translog) while the alias keeps serving vN; then the alias moves in
one `update_aliases` call, the position is recorded, and vN is dropped after a short grace for
searches that were already running on it."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from adapters.search_index.base import IndexedEntity
from adapters.search_index.elasticsearch import documents
from adapters.search_index.elasticsearch.client import bulk, translated
from adapters.search_index.elasticsearch.lifecycle import INDEX_VERSION, Indices, definition
from adapters.search_index.elasticsearch.writer import Writer


class Rebuilds:
    def __init__(self, indices: Indices, writer: Writer) -> None:
        self.indices = indices
        self.writer = writer

    def begin(self, projection: str) -> str:
        with translated("begin_rebuild"):
            es = self.indices.ready()
            serving = set(self.indices.serving(projection))
            generations = self.indices.generations(projection)
            for index in sorted(set(generations.values()) - serving):
                es.indices.delete(index=index)  # what an earlier, unfinished rebuild left
            target = f"v{max(generations, default=INDEX_VERSION) + 1}"
            body = self.indices.body(projection)
            # while it is filled: no refresh, no fsync per bulk (a crash means a new rebuild)
            body["settings"]["index"].update(refresh_interval="-1", translog={"durability": "async"})
            self.indices.create(self.indices.generation(projection, target), body)
        return target

    def write(self, projection: str, target: str, entities: Sequence[IndexedEntity]) -> None:
        latest = documents.newest(entities)
        if not latest:
            return
        ops = documents.operations(projection, latest, self.indices.generation(projection, target))
        with translated("write_rebuild"):
            bulk(self.indices.client, ops, refresh=False)

    def finish(self, projection: str, target: str, position: int, *, grace_s: float = 2.0) -> None:
        alias, new = self.indices.alias(projection), self.indices.generation(projection, target)
        with translated("finish_rebuild"):
            es = self.indices.ready()
            interval = definition(projection)["settings"]["index"].get("refresh_interval", "1s")
            serving_settings = {"refresh_interval": interval, "translog": {"durability": "request"}}
            es.indices.put_settings(index=new, settings={"index": serving_settings})
            es.indices.refresh(index=new)
            old = self.indices.serving(projection)
            actions: list[dict[str, Any]] = [{"remove": {"index": index, "alias": alias}} for index in old]
            actions.append({"add": {"index": new, "alias": alias}})
            es.indices.update_aliases(actions=actions)  # one atomic swap
            self.writer.record_position(projection, position)
            self.indices.outdated.pop(projection, None)
            if old:
                time.sleep(grace_s)  # searches that resolved the old index before the swap finish
                es.indices.delete(index=",".join(old), ignore_unavailable=True)

    def abort(self, projection: str, target: str) -> None:
        with translated("abort_rebuild"):
            self.indices.client.indices.delete(
                index=self.indices.generation(projection, target), ignore_unavailable=True
            )
