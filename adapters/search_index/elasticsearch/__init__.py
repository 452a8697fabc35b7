"""The search index on Elasticsearch: `ElasticsearchIndex` (see `index` for the parts)."""

from adapters.search_index.elasticsearch.index import ElasticsearchIndex
from adapters.search_index.elasticsearch.lifecycle import definition

__all__ = ["ElasticsearchIndex", "definition"]
