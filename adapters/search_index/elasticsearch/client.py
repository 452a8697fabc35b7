"""The connection to Elasticsearch: one client with orjson bodies, and the vendor's errors
translated at the boundary (`SearchUnavailable`; no vendor type leaves the adapter)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson
from elastic_transport import NdjsonSerializer, TransportError
from elasticsearch import ApiError, Elasticsearch, OrjsonSerializer

from adapters.search_index.base import SearchUnavailable

MAX_RESULT_WINDOW = 10_000


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


def connect(url: str, request_timeout: float) -> Elasticsearch:
    """A client; nothing connects before its first request."""
    return Elasticsearch(
        url,
        request_timeout=request_timeout,
        max_retries=2,
        retry_on_timeout=True,
        serializers=SERIALIZERS,
    )


@contextmanager
def translated(what: str) -> Iterator[None]:
    try:
        yield
    except SearchUnavailable:
        raise
    except (ApiError, TransportError) as err:
        raise SearchUnavailable(f"Elasticsearch {what} failed: {err}") from err


def error_type(err: ApiError) -> str | None:
    body = err.body if isinstance(err.body, dict) else {}
    error = body.get("error")
    return error.get("type") if isinstance(error, dict) else None


def raise_item_errors(items: list[dict[str, Any]]) -> None:
    """A 409 means what is stored is as new or newer (ignored); any other failure raises."""
    failures = []
    for item in items:
        ((action, result),) = item.items()
        if "error" in result and result.get("status") != 409:
            failures.append(f"{action} {result.get('_id')}: {result['error']}")
    if failures:
        more = f" (and {len(failures) - 3} more)" if len(failures) > 3 else ""
        raise SearchUnavailable("Elasticsearch bulk write failed: " + "; ".join(failures[:3]) + more)


def bulk(es: Elasticsearch, operations: list[dict[str, Any]], **kwargs: Any) -> None:
    """One bulk request; item failures other than version conflicts raise."""
    result = es.bulk(operations=operations, **kwargs)
    if result.get("errors"):
        raise_item_errors(result["items"])


def window(page: int, size: int) -> tuple[int, int]:
    """`from` and `size`, kept inside the index's result window (deeper pages come back empty)."""
    offset = min((max(page, 1) - 1) * max(size, 0), MAX_RESULT_WINDOW)
    return offset, min(max(size, 0), MAX_RESULT_WINDOW - offset)


def total(res: Any) -> int:
    return int(res["hits"]["total"]["value"])
