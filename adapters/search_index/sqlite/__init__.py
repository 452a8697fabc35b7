"""The embedded search index on SQLite FTS5: `SQLiteSearchIndex` (see `index` for the parts)."""

from adapters.search_index.sqlite.index import SQLiteSearchIndex

__all__ = ["SQLiteSearchIndex"]
