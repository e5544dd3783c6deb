"""Links out of the record: landing page, media files, thumbnails, licences."""

from __future__ import annotations

from functools import lru_cache

from mappings.normalisers.media import media_type
from mappings.normalisers.rights import normalise_rights
from mappings.normalisers.text import clean_text
from mappings.transforms.registry import (MEDIA, RIGHTS, TEXT, URL, Param, Step, first_text,
                                          transform)
from mappings.values import Env, Item

MEDIA_TYPES = ("image", "video", "audio", "text", "other")
# A landing page is a page about the item, not the item's own image, recording or PDF.
_FILE_TYPES = frozenset({"image", "video", "audio", "text"})


def is_web_url(text: str) -> bool:
    head = text[:8].lower()
    return head.startswith("http://") or head.startswith("https://")


@lru_cache(maxsize=8192)
def _type_of_url(url: str) -> str:
    return media_type(url=url)


@transform("url", accepts=(TEXT,), produces=URL,
           params={"exclude_media": Param("bool", default=False)})
def url(exclude_media: bool) -> Step:
    """Keep http(s) URLs only (dc:identifier mixes URLs with shelf marks and file names)."""

    def step(items: list[Item], env: Env) -> list[Item]:
        return [item for item in items if is_web_url(item.text) and " " not in item.text
                and not (exclude_media and _type_of_url(item.text) in _FILE_TYPES)]

    return step


@transform("prefix", accepts=(TEXT,), produces=None, params={"prefix": Param("str", required=True)},
           primary="prefix")
def prefix(prefix: str) -> Step:
    """Prepend a resolver to bare identifiers (a DOI ``10.1234/x`` -> ``https://doi.org/10.1234/x``)."""

    def step(items: list[Item], env: Env) -> list[Item]:
        return [item if is_web_url(item.text) else item.derive(prefix + item.text) for item in items]

    return step


@transform("media", accepts=(TEXT, URL), produces=MEDIA,
           params={"url": Param("xpath"), "format": Param("xpath"), "record_format": Param("xpath"),
                   "dc_type": Param("xpath"),
                   "type": Param("choice", choices=MEDIA_TYPES),
                   "only": Param("list", default=(), choices=MEDIA_TYPES)})
def media(url, format, record_format, dc_type, type, only) -> Step:  # type: ignore[no-untyped-def]  # noqa: A002
    """A media file: URL (the value, or the ``url`` sub-XPath), MIME format, and its kind.

    The kind is ``type`` when given, else decided from the DCMI type, the file's own format
    (``format``, e.g. MODS internetMediaType of this url) and the URL.  ``record_format`` is a
    format said of the whole record (dc:format): it only annotates a file whose URL already
    shows the same kind, never decides the kind.  ``only`` keeps just the kinds listed (oai_dc
    identifiers are mostly landing pages).
    """
    keep = frozenset(only)

    def step(items: list[Item], env: Env) -> list[Item]:
        out = []
        for item in items:
            link = item.text
            if url is not None:
                found = first_text(url, item.node)
                link = clean_text(found) if found else ""
            if not link or not is_web_url(link) or " " in link:
                continue
            fmt = first_text(format, item.node) if format is not None else None
            kind_hint = first_text(dc_type, item.node) if dc_type is not None else None
            by_url = _type_of_url(link)
            if fmt and by_url != "other" and media_type(fmt=fmt) != by_url:
                # A record-level format (dc:format) that contradicts the file's own extension
                # describes some other file of the record.
                fmt = None
            kind = type or (media_type(dc_type=kind_hint, fmt=fmt, url=link) if (fmt or kind_hint)
                            else by_url)
            if fmt is None and record_format is not None and by_url != "other":
                candidate = first_text(record_format, item.node)
                if candidate and media_type(fmt=candidate) == by_url:
                    fmt = candidate
            if keep and kind not in keep:
                continue
            out.append(item.derive(link, data={"type": kind, "url": link,
                                               "format": clean_text(fmt) if fmt else None}))
        return out

    return step


@lru_cache(maxsize=4096)
def _rights(text: str) -> tuple[str | None, str | None]:
    return normalise_rights(text)


@transform("rights", accepts=(TEXT,), produces=RIGHTS)
def rights() -> Step:
    """A rights statement and/or a recognised licence URI (Creative Commons, RightsStatements.org)."""

    def step(items: list[Item], env: Env) -> list[Item]:
        return [item.derive(data=_rights(item.text)) for item in items]

    return step
