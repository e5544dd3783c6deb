"""Choose the search backend named in ``SearchSettings``."""

from __future__ import annotations

from .contract import SearchBackend, SearchSettings
from .errors import IndexingError

BACKENDS = ("embedded", "elasticsearch")


def open_backend(settings: SearchSettings) -> SearchBackend:
    """The configured backend; engines are imported only when chosen."""
    if settings.backend == "embedded":
        from .embedded import EmbeddedBackend
        return EmbeddedBackend(settings)
    if settings.backend == "elasticsearch":
        from .elasticsearch import ElasticsearchBackend
        return ElasticsearchBackend(settings)
    raise IndexingError(f"unknown search backend {settings.backend!r}; expected one of {', '.join(BACKENDS)}")
