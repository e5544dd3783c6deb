"""Elasticsearch search backend (official ``elasticsearch`` 9.x client)."""

from .backend import ElasticsearchBackend

__all__ = ["ElasticsearchBackend"]
