"""Embedded (tantivy) search backend: no server, one directory."""

from .backend import EmbeddedBackend

__all__ = ["EmbeddedBackend"]
