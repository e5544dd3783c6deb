"""Flatten an ICH record into the backend-neutral document the search engines index.

Only this module knows which parts of a record are searchable (``fields.yaml``);
the backends only know text groups, facet fields and a year span.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from .contract import FACET_FIELDS
from .errors import DocumentRejected

# libyaml when PyYAML has it: these files are read on every start of a command.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class FieldConfig:
    text_groups: dict[str, tuple[str, ...]]
    group_boosts: dict[str, float]
    form_boosts: dict[str, float]
    facets: dict[str, str]
    facet_size: int
    snippet_chars: int
    max_query_chars: int
    max_query_terms: int
    max_word_chars: int


@lru_cache(maxsize=1)
def field_config() -> FieldConfig:
    """The parsed ``fields.yaml``; read once per process."""
    raw = yaml.load(resources.files(__package__).joinpath("fields.yaml").read_text("utf-8"),
                    Loader=_YAML_LOADER)
    facets = {str(k): str(v) for k, v in raw["facets"].items()}
    if tuple(facets) != FACET_FIELDS:
        raise ValueError(f"fields.yaml facets {tuple(facets)} differ from the contract {FACET_FIELDS}")
    return FieldConfig(
        text_groups={g: tuple(spec["from"]) for g, spec in raw["text_groups"].items()},
        group_boosts={g: float(spec["boost"]) for g, spec in raw["text_groups"].items()},
        form_boosts={f: float(b) for f, b in raw["forms"].items()},
        facets=facets,
        facet_size=int(raw["facet_size"]),
        snippet_chars=int(raw["snippet_chars"]),
        max_query_chars=int(raw["query_limits"]["max_chars"]),
        max_query_terms=int(raw["query_limits"]["max_terms"]),
        max_word_chars=int(raw["query_limits"]["max_word_chars"]),
    )


@dataclass(frozen=True)
class SearchDocument:
    id: str
    title: str                                  # first title value, for display
    texts: dict[str, tuple[str, ...]]           # text group -> values
    facets: dict[str, tuple[str, ...]]          # facet field -> distinct values
    year_min: int | None
    year_max: int | None


# dict first: an exact type check, before the slower abstract-class one.
_MAPPINGS = (dict, Mapping)


def _collect(node: Any, path: tuple[str, ...], depth: int, out: dict[str, None]) -> None:
    """Add every non-empty string at ``path[depth:]`` below ``node`` to ``out`` (an ordered set).

    Plain recursion into ``out`` rather than nested generators: this runs for every
    field of every record on each reindex, and generator chains cost more than the walk.
    The items of a list at the end of the path (langStrings, plain strings) are taken in
    the loop, not by a call each; a plain string must not reach the abstract ``Mapping``
    check, which costs more than the rest of its handling.
    """
    end = len(path)
    while True:
        if isinstance(node, list):
            for item in node:
                kind = type(item)
                if depth == end and (kind is dict or kind is str):
                    value = item.get("value") if kind is dict else item
                    if isinstance(value, str):
                        # Records are NFC already (schema); queries are normalised the same way.
                        text = unicodedata.normalize("NFC", value).strip()
                        if text:
                            out[text] = None
                elif kind is not str:
                    _collect(item, path, depth, out)
            return
        if depth == end:
            break
        if not isinstance(node, _MAPPINGS):
            return
        node = node.get(path[depth])
        depth += 1
    if type(node) is not str and isinstance(node, _MAPPINGS):
        node = node.get("value")
    if isinstance(node, str):
        text = unicodedata.normalize("NFC", node).strip()
        if text:
            out[text] = None


@lru_cache(maxsize=None)
def _path(dotted: str) -> tuple[str, ...]:
    return tuple(dotted.split("."))


def values_at(record: Mapping[str, Any], dotted: str) -> list[str]:
    """Every non-empty string at ``dotted`` in the record, in order, without duplicates."""
    path = _path(dotted)
    out: dict[str, None] = {}
    _collect(record.get(path[0]), path, 1, out)
    return list(out)


def _year_span(record: Mapping[str, Any]) -> tuple[int | None, int | None]:
    starts: list[int] = []
    ends: list[int] = []
    for date in record.get("dates") or []:
        if not isinstance(date, Mapping):
            continue
        start, end = date.get("start_year"), date.get("end_year")
        start = start if isinstance(start, int) and not isinstance(start, bool) else None
        end = end if isinstance(end, int) and not isinstance(end, bool) else None
        if start is None and end is None:
            continue
        starts.append(start if start is not None else end)  # type: ignore[arg-type]
        ends.append(end if end is not None else start)      # type: ignore[arg-type]
    if not starts:
        return None, None
    return min(starts), max(ends)


def search_document(record: Mapping[str, Any]) -> SearchDocument:
    """The searchable view of one validated ICH record.

    Raises ``DocumentRejected`` (carrying the id) when the record lacks what every
    search result needs: an id and a title.
    """
    if not isinstance(record, Mapping):
        raise DocumentRejected(None, f"record is {type(record).__name__}, not a mapping")
    record_id = record.get("id")
    if not isinstance(record_id, str) or not record_id:
        raise DocumentRejected(None, "record has no id")
    config = field_config()
    titles = values_at(record, "title")
    if not titles:
        raise DocumentRejected(record_id, "record has no title")
    texts = {}
    for group, paths in config.text_groups.items():
        found: dict[str, None] = {}
        for dotted in paths:
            path = _path(dotted)
            _collect(record.get(path[0]), path, 1, found)
        texts[group] = tuple(found)
    facets = {name: tuple(values_at(record, path)) for name, path in config.facets.items()}
    year_min, year_max = _year_span(record)
    return SearchDocument(id=record_id, title=titles[0], texts=texts, facets=facets,
                          year_min=year_min, year_max=year_max)
