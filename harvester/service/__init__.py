"""The HTTP service (``ichlinks serve``): JSON search and record API, the aggregate re-exposed
over OAI-PMH, a small multilingual web page, health and metrics.

The names are loaded on first use: ``ichlinks --help`` looks this package up to list the
``serve`` command and must not pay for importing FastAPI.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import create_app
    from .oai_repository import StoreRepository

__all__ = ["StoreRepository", "create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from .app import create_app

        return create_app
    if name == "StoreRepository":
        from .oai_repository import StoreRepository

        return StoreRepository
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
