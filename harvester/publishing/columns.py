"""What a column header means: which field, which language.

Partners name columns the way their inventory grew (``Title``, ``dc:title``, ``title@vi``,
``Subject 2``); the aliases live in ``columns.yaml`` so a new spelling is a data change.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources

import yaml

from mappings.normalisers import normalise_language

# Fields that may carry an @lang suffix meaningfully (the others ignore it, see Column.lang).
LANGUAGE_FIELDS = frozenset({"title", "alternative", "description", "subject", "place", "community",
                             "creator", "contributor", "coverage"})

_PREFIX = re.compile(r"^\s*(?:dcterms|dc)\s*[:.]\s*", re.IGNORECASE)
# "subject 2", "subject_3", "subject(4)", "subject.1" (pandas' name for a repeated header)
_REPEAT = re.compile(r"[\s_.-]*\(?\s*\d+\s*\)?\s*$")
_SEPARATORS = re.compile(r"[\s_-]+")
# After a language tag only a spaced or bracketed number counts ("title@es-419" keeps its region).
_TAG_REPEAT = re.compile(r"(?:\s+|\s*\()\d+\)?\s*$")


@dataclass(frozen=True)
class Column:
    """One header understood: ``field`` is None when the header is not recognised."""

    header: str
    field: str | None
    lang: str | None = None
    lang_tag: str | None = None  # the suffix as written, kept for messages

    @property
    def unknown_language(self) -> bool:
        return self.lang_tag is not None and self.lang is None


def _key(text: str) -> str:
    return _SEPARATORS.sub("", _PREFIX.sub("", text).casefold())


@functools.cache
def aliases() -> dict[str, str]:
    """Header key -> field, from ``columns.yaml``."""
    text = resources.files(__package__).joinpath("columns.yaml").read_text(encoding="utf-8")
    table: dict[str, str] = {}
    for field, names in yaml.safe_load(text).items():
        for name in [field, *names]:
            table.setdefault(_key(str(name)), field)
    return table


def _field(name: str) -> str | None:
    table = aliases()
    key = _key(name)
    if key in table:
        return table[key]
    stripped = _REPEAT.sub("", name)
    if stripped != name:
        return table.get(_key(stripped))
    return None


@functools.lru_cache(maxsize=1024)
def parse_header(header: str) -> Column:
    """``title@vi`` -> Column(field="title", lang="vi"); unknown headers keep field None."""
    text = str(header).strip()
    base, at, tag = text.partition("@")
    tag = _TAG_REPEAT.sub("", tag).strip() if at else ""
    field = _field(base)
    if field is None or not at or not tag:
        return Column(text, field)
    return Column(text, field, normalise_language(tag), tag)
