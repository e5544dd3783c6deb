"""Search documents -> tantivy documents: what the relay, a rebuild and the benchmark's
index floor hand to a writer, built the same way by all three."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import orjson
import tantivy

from ..contract import FACET_FIELDS
from ..search_document import SearchDocument
from .analysis import bigram_index_text, layout


@dataclass(frozen=True)
class _DocumentPlan:
    """The schema's text fields per group, split by how a value reaches them."""

    text_fields: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...]  # (group, analysed, bigram)
    display: str


@lru_cache(maxsize=1)
def _document_plan() -> _DocumentPlan:
    grouped: dict[str, tuple[list[str], list[str]]] = {}
    for group, form, field in layout().text_fields:
        analysed, bigram = grouped.setdefault(group, ([], []))
        (bigram if form == "bigram" else analysed).append(field)
    return _DocumentPlan(
        text_fields=tuple((g, tuple(a), tuple(b)) for g, (a, b) in grouped.items()),
        display=layout().display)


def index_document(doc: SearchDocument, version: int) -> tantivy.Document:
    """The live document of one record at one outbox version."""
    plan = _document_plan()
    out = tantivy.Document()
    add_text = out.add_text
    add_text("id", doc.id)
    out.add_integer("version", version)
    out.add_integer("live", 1)
    facets, texts = doc.facets, doc.texts
    for name in FACET_FIELDS:
        for value in facets[name]:
            add_text(name, value)
    if doc.year_min is not None:
        out.add_integer("year_min", doc.year_min)
        out.add_integer("year_max", doc.year_max)  # type: ignore[arg-type]
    for group, analysed, bigram in plan.text_fields:
        values = texts[group]
        for field in analysed:
            for value in values:
                add_text(field, value)
        for field in bigram:
            for value in values:
                joined = bigram_index_text(value)
                if joined:
                    add_text(field, joined)
    display = {
        "title": doc.title,
        "category": (facets["category"] or [None])[0],
        "countries": list(facets["countries"]),
        "source": (facets["source"] or [None])[0],
        "titles": list(texts["title"]),
        "descriptions": list(texts["description"]),
    }
    out.add_bytes(plan.display, orjson.dumps(display))
    return out


def tombstone_document(record_id: str, version: int) -> tantivy.Document:
    """What a delete leaves: the id and version, so a stale replay of an older upsert loses."""
    out = tantivy.Document()
    out.add_text("id", record_id)
    out.add_integer("version", version)
    out.add_integer("live", 0)
    return out
