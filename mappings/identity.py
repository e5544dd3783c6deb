"""Stable record ids, so a re-harvest or a mapping fix updates the same search document."""

from __future__ import annotations

import hashlib


def record_id(source: str, identifier: str) -> str:
    """Hash rather than embed the OAI identifier: identifiers are URIs of any length and alphabet."""
    digest = hashlib.sha256(f"{source}\n{identifier}".encode("utf-8")).hexdigest()
    return f"{source}:{digest[:20]}"
