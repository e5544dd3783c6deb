"""The server-rendered web page: search with facets, result list, record pages.

No JavaScript at all: forms, links and labels work with a keyboard, a screen reader and a
phone, and the Content Security Policy can forbid every script.  Jinja2 autoescapes all
text; the only markup that comes from data is the index's ``<b>`` highlight, rebuilt here
from escaped text (:func:`snippet_markup`), and links are only ever http(s).
The interface speaks several languages (``ui_text.yaml``); record text keeps its own,
each value tagged with its ``lang`` so browsers and screen readers pronounce it right.
"""

from __future__ import annotations

import functools
import html
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources as package_files
from typing import Any
from urllib.parse import urlencode, urlsplit

import yaml
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from harvester.service.aggregate import StoredRecord, stored_record
from harvester.service.api import MAX_OFFSET, MAX_QUERY_CHARS
from harvester.service.labels import country_name
from harvester.service.resources import Resources

log = logging.getLogger("ichlinks.service")

PAGE_SIZE = 20
WEB_FACETS = ("category", "countries", "ich_domains", "source")
_SNIPPET_MARK = re.compile(r"(</?b>)")
_YEAR = re.compile(r"-?[0-9]{1,4}")

router = APIRouter(include_in_schema=False)


# -- interface language --------------------------------------------------------------------

@functools.cache
def ui_catalogue() -> dict[str, Any]:
    text = package_files.files("harvester.service").joinpath("ui_text.yaml").read_text("utf-8")
    return yaml.safe_load(text)  # type: ignore[no-any-return]


def interface_language(request: Request) -> str:
    """``?ui=`` when it names a supported language, else the best of Accept-Language, else en."""
    supported = ui_catalogue()["languages"]
    chosen = request.query_params.get("ui")
    if chosen in supported:
        return chosen
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(request.headers.get("accept-language", "").split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().split("-")[0].lower()
        if primary in supported and quality > 0:
            ranked.append((-quality, position, primary))
    return min(ranked)[2] if ranked else "en"


class Words:
    """The interface text of one language; a missing key falls back to English."""

    def __init__(self, language: str) -> None:
        catalogue = ui_catalogue()["text"]
        self.language = language
        self._text = catalogue[language]
        self._english = catalogue["en"]

    def __call__(self, key: str, **values: Any) -> str:
        template = self._text.get(key, self._english.get(key, key))
        return str(template).format(**values) if values else str(template)

    def value_label(self, facet: str, value: str, partner_names: Mapping[str, str]) -> str:
        if facet == "category":
            return self(f"category_{value}") if f"category_{value}" in self._english else value
        if facet == "ich_domains":
            return self(f"domain_{value}") if f"domain_{value}" in self._english else value
        if facet == "countries":
            return country_name(value)
        if facet == "source":
            return partner_names.get(value, value)
        return value


@functools.cache
def _templates() -> Environment:
    return Environment(loader=PackageLoader("harvester.service", "templates"), autoescape=True,
                       trim_blocks=True, lstrip_blocks=True)


def _page(request: Request, template: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    language = context["words"].language
    languages = ui_catalogue()["languages"]
    switch = [{"code": code, "name": name, "current": code == language,
               "url": _url(request.url.path, _with(request, ui=code, keep_offset=True))}
              for code, name in languages.items()]
    body = _templates().get_template(template).render(
        ui=language, languages=switch, search_url=_url("/", [("ui", language)]), **context)
    return HTMLResponse(body, status_code=status)


# -- safe bits of data-driven markup ----------------------------------------------------------

def snippet_markup(snippet: str) -> Markup:
    """The index's snippet with only its ``<b>`` highlights kept (as ``<mark>``), all else escaped.

    The backends promise escaped text with ``<b>`` marks; this does not rely on it: each text
    piece is unescaped then escaped again, so any other tag or a stray entity stays inert.
    """
    out: list[str] = []
    open_mark = False
    for piece in _SNIPPET_MARK.split(snippet or ""):
        if piece == "<b>":
            if not open_mark:
                out.append("<mark>")
                open_mark = True
        elif piece == "</b>":
            if open_mark:
                out.append("</mark>")
                open_mark = False
        elif piece:
            out.append(html.escape(html.unescape(piece), quote=False))
    if open_mark:
        out.append("</mark>")
    return Markup("".join(out))


def web_link(value: object) -> str | None:
    """The value if it is an absolute http(s) URL (never javascript:, data: and the like)."""
    if not isinstance(value, str):
        return None
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        return None
    return value.strip() if parts.scheme in ("http", "https") and parts.netloc else None


# -- search page -----------------------------------------------------------------------------

def _url(path: str, params: Sequence[tuple[str, str]]) -> str:
    return f"{path}?{urlencode(list(params))}" if params else path


def _with(request: Request, *, keep_offset: bool = False, **changes: str) -> list[tuple[str, str]]:
    params = [(k, v) for k, v in request.query_params.multi_items()
              if k not in changes and (keep_offset or k != "offset")]
    params.extend((k, v) for k, v in changes.items())
    return params


def _year(text: str | None) -> int | None:
    return int(text) if text and _YEAR.fullmatch(text.strip()) else None


@dataclass
class SearchForm:
    """What the page's form asked for, read leniently: nonsense is ignored, never an error."""

    q: str = ""
    filters: dict[str, list[str]] = field(default_factory=dict)
    year_from: int | None = None
    year_to: int | None = None
    offset: int = 0

    @classmethod
    def from_request(cls, request: Request) -> SearchForm:
        params = request.query_params
        filters = {name: list(dict.fromkeys(v[:200] for v in params.getlist(name) if v))[:50]
                   for name in WEB_FACETS}
        offset_text = params.get("offset", "0")
        offset = int(offset_text) if offset_text.isdigit() and len(offset_text) < 7 else 0
        return cls(q=params.get("q", "")[:MAX_QUERY_CHARS],
                   filters={k: v for k, v in filters.items() if v},
                   year_from=_year(params.get("year_from")), year_to=_year(params.get("year_to")),
                   offset=min(offset, MAX_OFFSET - PAGE_SIZE))


def _facet_groups(form: SearchForm, facets: Mapping[str, Mapping[str, int]], words: Words,
                  partners: Mapping[str, str]) -> list[dict[str, Any]]:
    groups = []
    for name in WEB_FACETS:
        counts = dict(facets.get(name, {}))
        for chosen in form.filters.get(name, []):
            counts.setdefault(chosen, 0)  # a chosen value stays visible, so it can be unchosen
        options = [{"value": value, "label": words.value_label(name, value, partners),
                    "count": count, "checked": value in form.filters.get(name, []),
                    "id": f"f-{name}-{index}"}
                   for index, (value, count) in enumerate(counts.items())]
        if options:
            groups.append({"name": name, "legend": words(f"facet_{name}"), "options": options})
    return groups


def _search(res: Resources, form: SearchForm) -> dict[str, Any]:
    from indexer import SearchQuery

    return res.backend.search(SearchQuery(q=form.q, filters=form.filters, year_from=form.year_from,
                                          year_to=form.year_to, facets=True, limit=PAGE_SIZE,
                                          offset=form.offset))  # type: ignore[no-any-return]


@router.get("/", response_class=HTMLResponse)
async def search_page(request: Request) -> HTMLResponse:
    res: Resources = request.app.state.resources
    words = Words(interface_language(request))
    form = SearchForm.from_request(request)
    partners = {name: src.partner.name or name for name, src in res.settings.sources.items()}
    context: dict[str, Any] = {"words": words, "form": form, "results": [], "facet_groups": [],
                               "total": 0, "unavailable": False, "pages": {}}
    try:
        found = await run_in_threadpool(_search, res, form)
    except Exception:
        log.exception("web search failed")
        context["unavailable"] = True
        return _page(request, "search.html", context, status=503)
    ui = words.language
    context["total"] = total = int(found.get("total", 0))
    context["results"] = [{
        "title": row.get("title") or row.get("id"),
        "url": _url(f"/records/{row['id']}", [("ui", ui)]),
        "snippet": snippet_markup(row.get("snippet") or ""),
        "category": words.value_label("category", row.get("category") or "", partners),
        "countries": [country_name(c) for c in row.get("countries") or []],
        "source": partners.get(row.get("source") or "", row.get("source") or ""),
    } for row in found.get("results", [])]
    context["facet_groups"] = _facet_groups(form, found.get("facets", {}), words, partners)
    shown = len(context["results"])
    context["first"], context["last"] = (form.offset + 1, form.offset + shown) if shown else (0, 0)
    if form.offset > 0:
        context["pages"]["previous"] = _url("/", _with(request, offset=str(max(0, form.offset - PAGE_SIZE))))
    if form.offset + shown < min(total, MAX_OFFSET):
        context["pages"]["next"] = _url("/", _with(request, offset=str(form.offset + PAGE_SIZE)))
    context["clear_url"] = _url("/", [("q", form.q), ("ui", ui)] if form.q else [("ui", ui)])
    return _page(request, "search.html", context)


# -- record page ---------------------------------------------------------------------------

def _lang_values(record: Mapping[str, Any], key: str) -> list[dict[str, Any]]:
    out = []
    for item in record.get(key) or []:
        if isinstance(item, Mapping) and item.get("value"):
            out.append({"value": str(item["value"]), "lang": item.get("lang") or ""})
    return out


def record_view(row: StoredRecord, words: Words, partners: Mapping[str, str]) -> dict[str, Any]:
    """Everything the record page shows, every text value with its language tag."""
    record = row.record or {}
    links = record.get("links") if isinstance(record.get("links"), Mapping) else {}
    identifiers = [str(i) for i in record.get("identifiers") or []]
    source_link = web_link(links.get("landing_page")) or next(
        (link for link in map(web_link, identifiers) if link), None)
    rights = record.get("rights") if isinstance(record.get("rights"), Mapping) else {}
    partner = record.get("partner") if isinstance(record.get("partner"), Mapping) else {}
    provenance = record.get("provenance") if isinstance(record.get("provenance"), Mapping) else {}
    titles = _lang_values(record, "title")
    return {
        "id": row.id,
        "heading": titles[0] if titles else {"value": row.id, "lang": ""},
        "category": words.value_label("category", str(record.get("category") or ""), partners),
        "text_fields": [(words(f"record_{key}"), values) for key, values in (
            ("titles", titles),
            ("alternative_titles", _lang_values(record, "alternative_titles")),
            ("description", _lang_values(record, "description")),
            ("subjects", _lang_values(record, "subjects")),
            ("communities", _lang_values(record, "communities")),
            ("places", [{"value": str(p["name"]), "lang": p.get("lang") or ""}
                        for p in record.get("places") or [] if isinstance(p, Mapping) and p.get("name")]),
        ) if values],
        "plain_fields": [(words(f"record_{key}"), values) for key, values in (
            ("domains", [words.value_label("ich_domains", str(d), partners)
                         for d in record.get("ich_domains") or []]),
            ("countries", [country_name(str(c)) for c in record.get("countries") or []]),
            ("dates", [str(d.get("value")) for d in record.get("dates") or []
                       if isinstance(d, Mapping) and d.get("value")]),
            ("languages", [str(x) for x in record.get("languages") or []]),
            ("creators", [str(a.get("name")) for a in record.get("creators") or []
                          if isinstance(a, Mapping) and a.get("name")]),
            ("contributors", [str(a.get("name")) for a in record.get("contributors") or []
                              if isinstance(a, Mapping) and a.get("name")]),
            ("publisher", [str(p) for p in record.get("publisher") or []]),
            ("rights", [str(v) for v in (rights.get("statement"), rights.get("uri")) if v]),
        ) if values],
        "identifiers": [{"text": i, "url": web_link(i)} for i in identifiers],
        "media": [{"text": str(m.get("url")), "url": web_link(m.get("url")), "type": m.get("type")}
                  for m in record.get("media") or [] if isinstance(m, Mapping) and m.get("url")],
        "source_link": source_link,
        "partner": partner.get("name") or partners.get(row.source, row.source),
        "harvested_at": provenance.get("harvested_at"),
    }


@router.get("/records/{record_id}", response_class=HTMLResponse)
async def record_page(request: Request, record_id: str) -> HTMLResponse:
    res: Resources = request.app.state.resources
    words = Words(interface_language(request))
    partners = {name: src.partner.name or name for name, src in res.settings.sources.items()}
    row = (await run_in_threadpool(stored_record, res.engine, record_id)
           if len(record_id) <= 100 else None)
    back = _url("/", [("ui", words.language)])
    if row is None or not row.published:
        status, message = (410, words("gone")) if row is not None and row.deleted else (404, words("not_found"))
        return _page(request, "message.html", {"words": words, "message": message, "back": back},
                     status=status)
    return _page(request, "record.html", {"words": words, "record": record_view(row, words, partners),
                                          "back": back})
