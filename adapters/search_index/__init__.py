"""The search index port and its adapters (SQLite FTS5 embedded; Elasticsearch)."""

from adapters.search_index.base import IndexedEntity, Page, SearchIndex, SearchUnavailable

__all__ = ["IndexedEntity", "Page", "SearchIndex", "SearchUnavailable"]
