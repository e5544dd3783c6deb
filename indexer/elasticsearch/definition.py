"""The Elasticsearch index definition (``index.json``) and what queries derive from it.

``index.json`` is the exact body of ``PUT /<index>-v<N>``: only analysers built
into a stock Elasticsearch image (standard and thai tokenizers; lowercase,
asciifolding, cjk_width, cjk_bigram filters), no ICU or kuromoji plugins.  Its
``mappings._meta.forms`` says which sub-fields carry each analysed form named in
``../fields.yaml``, so the query builder and the mapping cannot drift apart.
"""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from importlib import resources
from typing import Any

from ..contract import FACET_FIELDS
from ..search_document import SearchDocument, field_config


@lru_cache(maxsize=1)
def _definition() -> dict[str, Any]:
    body = json.loads(resources.files(__package__).joinpath("index.json").read_text("utf-8"))
    properties = body["mappings"]["properties"]
    for group in field_config().text_groups:
        if text_field(group) not in properties:
            raise ValueError(f"index.json lacks the text field {text_field(group)!r}")
    for name in FACET_FIELDS:
        if properties.get(name, {}).get("type") != "keyword":
            raise ValueError(f"index.json must map facet field {name!r} as keyword")
    if set(body["mappings"]["_meta"]["forms"]) != set(field_config().form_boosts):
        raise ValueError("index.json _meta.forms differ from fields.yaml forms")
    return body


def index_body() -> dict[str, Any]:
    """A fresh copy of the create-index body."""
    return copy.deepcopy(_definition())


def text_field(group: str) -> str:
    return f"{group}_text"


def search_fields() -> list[str]:
    """Every analysed (sub-)field with its boost, as ``multi_match`` wants them: ``name^boost``."""
    config = field_config()
    forms = _definition()["mappings"]["_meta"]["forms"]
    out = []
    for group, group_boost in config.group_boosts.items():
        for form, suffixes in forms.items():
            boost = group_boost * config.form_boosts[form]
            out.extend(f"{text_field(group)}{suffix}^{boost:g}" for suffix in suffixes)
    return out


def highlight_fields(groups: tuple[str, ...]) -> list[str]:
    """The sub-fields of ``groups`` to highlight, in order of preference."""
    forms = _definition()["mappings"]["_meta"]["forms"]
    return [f"{text_field(group)}{suffix}" for group in groups
            for suffixes in forms.values() for suffix in suffixes]


def source_document(doc: SearchDocument, version: int) -> dict[str, Any]:
    """The ``_source`` of one record; its keys are exactly the mapping's properties."""
    source: dict[str, Any] = {"id": doc.id, "version": version, "title": doc.title}
    for group, values in doc.texts.items():
        source[text_field(group)] = list(values)
    for name in FACET_FIELDS:
        source[name] = list(doc.facets[name])
    if doc.year_min is not None:
        source["year_min"] = doc.year_min
        source["year_max"] = doc.year_max
    return source
