"""The ICH record's mappable fields: what kind of value each takes and how it is written out.

Header-derived fields (id, source, partner, oai, provenance) are not mappable: they come from
the harvest, not from the partner's metadata.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mappings.transforms.registry import (AGENT, COUNTRY, DATE, DOMAIN, LANGSTRING, LANGUAGE,
                                          MEDIA, PLACE, RIGHTS, TEXT, URL)
from mappings.values import Item


def _langstring(item: Item) -> dict[str, Any]:
    out: dict[str, Any] = {"value": item.text, "lang": item.lang}
    if item.guessed:
        out["lang_guessed"] = True
    return out


def _text(item: Item) -> str:
    return item.text


def _data(item: Item) -> Any:
    return item.data


def _text_key(item: Item) -> Any:
    return item.text


def _langstring_key(item: Item) -> Any:
    return (item.text, item.lang)


def _data_key(item: Item) -> Any:
    data = item.data
    if isinstance(data, dict):
        # Media are the same file when the URL is the same, whatever else was said about them.
        if "url" in data and "type" in data:
            return data["url"]
        return tuple(data.values())
    return data


@dataclass(frozen=True)
class FieldSpec:
    name: str
    kinds: frozenset[str]
    many: bool
    write: Callable[[Item], Any]
    key: Callable[[Item], Any]  # identity for de-duplication, computed before writing


_KEYS = {_langstring: _langstring_key, _text: _text_key, _data: _data_key}


def _field(name: str, kinds: tuple[str, ...], many: bool, write: Callable[[Item], Any]) -> FieldSpec:
    return FieldSpec(name, frozenset(kinds), many, write, _KEYS[write])


FIELDS: dict[str, FieldSpec] = {spec.name: spec for spec in (
    _field("category", (TEXT,), True, _text),  # candidates; resolved by mappings.category
    _field("title", (LANGSTRING,), True, _langstring),
    _field("alternative_titles", (LANGSTRING,), True, _langstring),
    _field("description", (LANGSTRING,), True, _langstring),
    _field("subjects", (LANGSTRING,), True, _langstring),
    _field("ich_domains", (DOMAIN,), True, _text),
    _field("countries", (COUNTRY,), True, _text),
    _field("places", (PLACE,), True, _data),
    _field("communities", (LANGSTRING,), True, _langstring),
    _field("dates", (DATE,), True, _data),
    _field("languages", (LANGUAGE,), True, _text),
    _field("creators", (AGENT,), True, _data),
    _field("contributors", (AGENT,), True, _data),
    _field("publisher", (TEXT,), True, _text),
    _field("identifiers", (TEXT, URL), True, _text),
    _field("media", (MEDIA,), True, _data),
    _field("resource_type", (TEXT,), False, _text),
    _field("links.landing_page", (URL,), False, _text),
    _field("links.thumbnail", (URL,), False, _text),
    _field("rights", (RIGHTS,), False, _data),
)}

