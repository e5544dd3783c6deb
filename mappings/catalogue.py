"""Finding crosswalks: bundled ones by name, others by file path, and the best one for a source."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

from mappings.crosswalk import Crosswalk
from mappings.definition import Definition, bundled_names, locate, read_definition

_cache: dict[str, Crosswalk] = {}
_lock = threading.Lock()


def load_crosswalk(name_or_path: str) -> Crosswalk:
    """A bundled crosswalk by name ("oai_dc") or one defined in a YAML file; compiled once.

    Raises :class:`~mappings.errors.MappingError` naming file, line and field on a bad definition.
    """
    path, _ = locate(name_or_path)
    key = str(path)
    with _lock:
        crosswalk = _cache.get(key)
    if crosswalk is None:
        crosswalk = Crosswalk(read_definition(name_or_path))
        with _lock:
            crosswalk = _cache.setdefault(key, crosswalk)
    return crosswalk


def available_crosswalks() -> list[str]:
    return bundled_names()


def _definitions() -> list[Definition]:
    return [load_crosswalk(name).definition for name in bundled_names()]


def _norm_namespace(uri: str) -> str:
    return uri.strip().rstrip("/").lower()


def suggest_crosswalk(formats: Sequence[Mapping[str, str]]) -> str | None:
    """The richest bundled crosswalk for a repository's ListMetadataFormats answer.

    A format is recognised by its namespace first (prefixes are local names a repository
    chooses freely, OAI-PMH 2.0 section 3.4), by its prefix only when the namespace is unknown.
    Among recognised formats the crosswalk with the highest ``formats.rank`` wins.
    """
    known = [d for d in _definitions() if d.formats is not None]
    best: tuple[int, str] | None = None
    for fmt in formats:
        namespace = _norm_namespace(fmt.get("metadataNamespace") or "")
        prefix = (fmt.get("metadataPrefix") or "").strip().lower()
        matches = [d for d in known if namespace and namespace in
                   {_norm_namespace(n) for n in d.formats.namespaces}]  # type: ignore[union-attr]
        if not matches:
            matches = [d for d in known if prefix and prefix in
                       {p.lower() for p in d.formats.prefixes}]  # type: ignore[union-attr]
        for definition in matches:
            candidate = (definition.formats.rank, definition.name)  # type: ignore[union-attr]
            if best is None or candidate[0] > best[0]:
                best = candidate
    return best[1] if best else None


def crosswalk_file(name: str) -> Path:
    """Where a bundled crosswalk's YAML lives (for the ``ichlinks`` docs and golden tooling)."""
    return locate(name)[0]
