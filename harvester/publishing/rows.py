"""One row (or item file) -> its values, its identity, what is wrong with it, and the ICH
record it publishes.

The checks use the aggregator's own normalisers, so "unknown country" here means exactly
that the aggregator will not recognise it either.  The ICH record keeps the partner's text
where the schema allows (an unrecognised country stays a place name), so nothing typed is
lost on the way to the aggregator's crosswalk.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from mappings import record_id
from mappings.normalisers import (category_from_type, clean_text, ich_domains, media_type,
                                  normalise_country, normalise_language, normalise_rights,
                                  parse_date)

from .columns import LANGUAGE_FIELDS, parse_header
from .readers import InputItem

# Part of every row's content hash: bump it when the rendering of a row changes, so every
# record gets a new datestamp and incremental harvesters fetch the new rendering.
RENDER_VERSION = "1"
MAPPING_NAME = "ichlinks-publish"
CATEGORIES = ("element", "resource", "stakeholder", "event")
# When only the category column says what a row is, the record's dc:type must be a word the
# aggregator's type vocabulary files under that category ("resource" alone is too vague for it).
_CATEGORY_TYPE_WORDS = {"element": ("element",), "resource": ("resource", "document"),
                        "stakeholder": ("stakeholder",), "event": ("event",)}
SEPARATOR = "|"
_URL = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)


@dataclass(frozen=True)
class Problem:
    """Something a partner should fix; ``error`` means the aggregator cannot use the row."""

    level: str
    code: str
    message: str
    field: str | None = None
    value: str | None = None

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Value:
    text: str
    lang: str | None = None


@dataclass(frozen=True)
class MediaRef:
    """A media value: a URL given as such, or a file under the input's folder (``path``)."""

    given: str
    url: str | None = None
    path: str | None = None


@dataclass
class Entry:
    """A row read and checked, before it has a datestamp."""

    where: str
    local_id: str | None
    fields: dict[str, list[Value]]
    sha256: str
    modified: datetime | None = None
    mtime: float | None = None  # a folder item's own file time
    category: str | None = None
    media: list[MediaRef] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    unknown_columns: list[str] = field(default_factory=list)

    def texts(self, name: str) -> list[str]:
        return [v.text for v in self.fields.get(name, ())]

    def first(self, name: str) -> str | None:
        values = self.fields.get(name)
        return values[0].text if values else None

    @property
    def has_errors(self) -> bool:
        return any(p.level == "error" for p in self.problems)


def slug(text: str) -> str:
    """Lower-case ASCII letters, digits and '-', for OAI identifiers and source names."""
    folded = unicodedata.normalize("NFKD", text)
    ascii_text = folded.encode("ascii", "ignore").decode("ascii").lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")


# Characters allowed unescaped in the local part of an oai-identifier (OAI-PMH guidelines,
# "Specification and XML Schema for the OAI Identifier Format").
_LOCAL_SAFE = "-_.!~*'();/?:@&=+$,"


def oai_identifier(namespace: str, local_id: str) -> str:
    return f"oai:{namespace}:{quote(local_id, safe=_LOCAL_SAFE)}"


def _content_hash(cells: Iterable[tuple[str, str]], extra: str) -> str:
    # Sorted by header only (a stable sort keeps the order of repeated values), so moving a
    # column in the sheet does not re-date every record.
    ordered = sorted(((parse_header(h).header, t) for h, t in cells), key=lambda c: c[0])
    blob = json.dumps([RENDER_VERSION, extra, ordered], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _title_id(title: str) -> str:
    return "t" + hashlib.sha256(clean_text(title).casefold().encode("utf-8")).hexdigest()[:16]


def parse_modified(text: str) -> datetime | None:
    """A ``modified`` cell as a UTC instant: ISO 8601 date or date-time, else any full date."""
    value = text.strip()
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        parsed = parse_date(value)
        if parsed is None or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", parsed.edtf):
            return None
        moment = datetime.fromisoformat(parsed.edtf)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def category_of(fields: Mapping[str, list[Value]]) -> str | None:
    """The ichLinks category: the category column first (its own words or any type word),
    then the type column through the aggregator's type vocabulary."""
    for value in fields.get("category", ()):
        word = value.text.strip().casefold()
        if word in CATEGORIES:
            return word
        found = category_from_type(value.text)
        if found:
            return found
    for value in fields.get("type", ()):
        found = category_from_type(value.text)
        if found:
            return found
    return None


def _media_ref(text: str, base_dir: Path, media_root: Path,
               problems: list[Problem]) -> MediaRef | None:
    if _URL.match(text):
        return MediaRef(text, url=text)
    candidate = (base_dir / text).resolve()
    try:
        relative = candidate.relative_to(media_root.resolve()).as_posix()
    except ValueError:
        problems.append(Problem("warning", "media-outside",
                                "media files must be inside the published folder; not served",
                                "media", text))
        return None
    if not candidate.is_file():
        problems.append(Problem("warning", "media-missing", "no such media file; not linked",
                                "media", text))
        return None
    return MediaRef(text, path=relative)


def read_entry(item: InputItem, *, media_root: Path, media_base: str = "") -> Entry:
    """Read and check one item; ``media_base`` is part of the content hash when media are linked
    (a record's media URLs change with it)."""
    problems: list[Problem] = []
    if item.error is not None:
        problems.append(Problem("error", "unreadable", item.error))
        return Entry(item.where, None, {}, _content_hash((), item.error), problems=problems)
    fields: dict[str, list[Value]] = {}
    unknown: list[str] = []
    for header, raw in item.cells:
        column = parse_header(header)
        if column.field is None:
            if column.header not in unknown:
                unknown.append(column.header)
            continue
        if column.unknown_language:
            problems.append(Problem("warning", "unknown-language",
                                    f"column {column.header!r}: unknown language tag "
                                    f"{column.lang_tag!r}; the text is published untagged",
                                    column.field, column.lang_tag))
        lang = column.lang if column.field in LANGUAGE_FIELDS else None
        for part in raw.split(SEPARATOR):
            text = clean_text(part)
            if text:
                fields.setdefault(column.field, []).append(Value(text, lang))

    media: list[MediaRef] = []
    for text in [v.text for v in fields.get("media", ())]:
        ref = _media_ref(text, item.base_dir, media_root, problems)
        if ref is not None:
            media.append(ref)
    sha = _content_hash(item.cells, media_base if media else "")

    entry = Entry(item.where, None, fields, sha, mtime=item.mtime, media=media, problems=problems,
                  unknown_columns=unknown)
    ids = entry.texts("identifier")
    titles = entry.texts("title")
    if ids:
        entry.local_id = ids[0]
    elif item.name:
        entry.local_id = item.name
    elif titles:
        entry.local_id = _title_id(titles[0])
    if not titles:
        problems.append(Problem("error", "no-title", "no title: the aggregator cannot publish "
                                "a record without one", "title"))
    if entry.local_id is None:
        problems.append(Problem("error", "no-identifier",
                                "neither an identifier nor a title to make one from", "identifier"))
    _check_values(entry)
    return entry


def _check_values(entry: Entry) -> None:
    problems = entry.problems
    entry.category = category_of(entry.fields)
    if entry.category is None:
        given = entry.texts("category") + entry.texts("type")
        if given:
            problems.append(Problem("error", "unknown-category",
                                    f"category/type {', '.join(map(repr, given))} is not one the "
                                    f"aggregator knows; use one of {', '.join(CATEGORIES)}",
                                    "category", given[0]))
        else:
            problems.append(Problem("error", "no-category",
                                    f"no category: add a category column ({', '.join(CATEGORIES)})",
                                    "category"))
    for text in entry.texts("country"):
        if normalise_country(text) is None:
            problems.append(Problem("warning", "unknown-country",
                                    f"unknown country {text!r}; it is published as a place name",
                                    "country", text))
    for name in ("date", "created"):
        for text in entry.texts(name):
            if parse_date(text) is None:
                problems.append(Problem("warning", "bad-date", f"{text!r} is not a date the "
                                        "aggregator understands (e.g. 2011, 2011-11-24, 1990/1995)",
                                        name, text))
    for text in entry.texts("language"):
        if normalise_language(text) is None:
            problems.append(Problem("warning", "unknown-language",
                                    f"unknown language {text!r} (use a code such as vi, ko, kk, th "
                                    "or an English name)", "language", text))
    modified = entry.first("modified")
    if modified is not None:
        entry.modified = parse_modified(modified)
        if entry.modified is None:
            problems.append(Problem("warning", "bad-modified",
                                    f"modified {modified!r} is not a date (YYYY-MM-DD or "
                                    "YYYY-MM-DDThh:mm:ssZ); the file's time is used", "modified",
                                    modified))
    rights = entry.first("rights")
    if rights is not None and normalise_rights(rights)[1] is None:
        problems.append(Problem("info", "rights-unrecognised",
                                "the rights text names no licence the aggregator recognises "
                                "(e.g. CC BY 4.0); it is published as written", "rights", rights))


def _lang_strings(values: Iterable[Value]) -> list[dict[str, Any]]:
    return [{"value": v.text, "lang": v.lang} for v in values]


def media_url(media_base: str, path: str) -> str:
    return media_base + quote(path, safe="/")


def ich_record(entry: Entry, *, source: str, partner_name: str, identifier: str,
               datestamp: str | None, media_base: str) -> dict[str, Any]:
    """The row as an ICH record (schema ``ich-record.schema.json``), for ``ich`` and ``oai_dc``."""
    f = entry.fields
    countries: list[str] = []
    places: list[dict[str, Any]] = []
    dates: list[dict[str, Any]] = []

    def add_date(kind: str, text: str) -> None:
        parsed = parse_date(text)
        dates.append({"type": kind, "value": text, "edtf": parsed.edtf if parsed else None,
                      "start_year": parsed.start_year if parsed else None,
                      "end_year": parsed.end_year if parsed else None})

    def add_country(code: str) -> None:
        if code not in countries:
            countries.append(code)

    for value in f.get("country", ()):
        code = normalise_country(value.text)
        if code:
            add_country(code)
        else:
            places.append({"name": value.text, "lang": value.lang})
    for value in f.get("coverage", ()):
        code = normalise_country(value.text)
        if code:
            add_country(code)
        elif parse_date(value.text) is not None:
            add_date("temporal", value.text)
        else:
            places.append({"name": value.text, "lang": value.lang})
    places.extend({"name": v.text, "lang": v.lang} for v in f.get("place", ()))
    for value in f.get("date", ()):
        add_date("other", value.text)
    for value in f.get("created", ()):
        add_date("created", value.text)

    languages: list[str] = []
    for text in entry.texts("language"):
        tag = normalise_language(text)
        if tag and tag not in languages:
            languages.append(tag)

    formats = entry.texts("format")
    media: list[dict[str, Any]] = []
    for index, ref in enumerate(entry.media):
        url = ref.url or media_url(media_base, ref.path or "")
        fmt = formats[index] if index < len(formats) and "/" in formats[index] else None
        fmt = fmt or mimetypes.guess_type(urlsplit(url).path)[0]
        media.append({"type": media_type(fmt=fmt, url=url), "url": url, "format": fmt})
    links = entry.texts("link")
    landing = links[0] if links else None
    thumbnail = next((m["url"] for m in media if m["type"] == "image"), None)

    types = entry.texts("type")
    resource_type = types[0] if types else None
    category = entry.category
    if category is not None and category_from_type(category) != category \
            and not any(category_from_type(t) == category for t in types):
        resource_type = next((w for w in _CATEGORY_TYPE_WORDS[category]
                              if category_from_type(w) == category), resource_type)

    statement = entry.first("rights")
    rights = {"statement": None, "uri": None}
    if statement is not None:
        label, uri = normalise_rights(statement)
        rights = {"statement": statement if uri is None else (label or statement), "uri": uri}

    identifiers = [*entry.texts("identifier"), *links[1:], *(m["url"] for m in media)]
    return {
        "schema_version": "1.0",
        "id": record_id(source, identifier),
        "source": source,
        "partner": {"name": partner_name, "country": None},
        "oai": {"identifier": identifier, "datestamp": datestamp, "sets": [],
                "metadata_prefix": "ich"},
        "category": category,
        "title": _lang_strings(f.get("title", ())),
        "alternative_titles": _lang_strings(f.get("alternative", ())),
        "description": _lang_strings(f.get("description", ())),
        "subjects": _lang_strings(f.get("subject", ())),
        "ich_domains": ich_domains([*entry.texts("domain"), *entry.texts("subject"), *types]),
        "countries": countries,
        "places": places,
        "communities": _lang_strings(f.get("community", ())),
        "dates": dates,
        "languages": languages,
        "creators": [{"name": v.text, "role": None, "lang": v.lang} for v in f.get("creator", ())],
        "contributors": [{"name": v.text, "role": None, "lang": v.lang}
                         for v in f.get("contributor", ())],
        "publisher": entry.texts("publisher"),
        "identifiers": list(dict.fromkeys(identifiers)),
        "media": media,
        "resource_type": resource_type,
        "links": {"landing_page": landing, "thumbnail": thumbnail},
        "rights": rights,
        "provenance": {"harvested_at": None, "mapping": MAPPING_NAME,
                       "mapping_version": RENDER_VERSION, "raw_sha256": entry.sha256},
    }

