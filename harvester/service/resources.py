"""What every request shares: the settings, one store engine and one search backend.

Both are opened on first use, not when the app is built, so importing or creating the
app does no I/O (tests and ``--help`` stay instant) and a search index that is down at
start-up does not stop the OAI-PMH feed or the record pages from working.
"""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import Engine

from harvester.config import Settings


class Resources:
    """Lazily opened store and index; safe to share between request threads."""

    def __init__(self, settings: Settings, *, engine: Engine | None = None,
                 backend: Any | None = None) -> None:
        self.settings = settings
        self._engine = engine
        self._backend = backend
        self._own_engine = engine is None
        self._own_backend = backend is None
        self._lock = threading.Lock()
        self._token_key: bytes | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            with self._lock:
                if self._engine is None:
                    from harvester.store.engine import open_store

                    self._engine = open_store(self.settings.store)
        return self._engine

    @property
    def backend(self) -> Any:
        """The search backend (``indexer.SearchBackend``); raises if the index cannot be opened."""
        if self._backend is None:
            with self._lock:
                if self._backend is None:
                    from harvester.relay import open_index

                    self._backend = open_index(self.settings.search)
        return self._backend

    def oai_token_key(self) -> bytes:
        """The resumption-token key (configured, else persisted in the store), read once."""
        if self._token_key is None:
            from harvester.service.token_key import token_key

            self._token_key = token_key(self.settings.service.token_secret, self.engine)
        return self._token_key

    def close(self) -> None:
        """Close what this object opened itself; what the caller handed in stays the caller's."""
        with self._lock:
            if self._own_backend and self._backend is not None:
                self._backend.close()
                self._backend = None
            if self._own_engine and self._engine is not None:
                self._engine.dispose()
                self._engine = None
