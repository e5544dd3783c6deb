"""What kind of media a file is, from its dc:type, its format (MIME type) or its URL."""

from __future__ import annotations

import functools
import posixpath
import re
from typing import NamedTuple

from mappings.normalisers.folding import compact_key
from mappings.normalisers.vocabulary import load_vocabulary

MEDIA_TYPES = ("image", "video", "audio", "text", "other")
# RFC 3986 appendix B, reduced to what is needed: host (without user info and port) and path.
# (urllib.parse.urlsplit costs more than everything else here put together.)
_URL = re.compile(r"(?:[a-z][a-z0-9+.-]*:)?(?://(?:[^/?#@]*@)?(\[[^\]]*\]|[^/?#:]*)(?::\d*)?)?([^?#]*)", re.IGNORECASE)


class _Tables(NamedTuple):
    dc_types: dict[str, str]
    mime_types: dict[str, str]
    mime_majors: dict[str, str]
    extensions: dict[str, str]
    hosts: dict[str, str]


@functools.cache
def _tables() -> _Tables:
    vocabulary = load_vocabulary("media")
    by_kind = {
        field: {
            (compact_key(str(k)) if field == "dc_types" else str(k).lower()): kind
            for kind, keys in vocabulary[field].items()
            for k in keys
        }
        for field in ("dc_types", "mime_types", "mime_majors", "extensions", "hosts")
    }
    return _Tables(**by_kind)


def _from_format(fmt: str) -> str | None:
    tables = _tables()
    value = fmt.strip().lower().split(";")[0].strip()
    if not value:
        return None
    if value in tables.mime_types:
        return tables.mime_types[value]
    if "/" in value:
        major = value.split("/", 1)[0]
        if major in tables.mime_majors:
            return tables.mime_majors[major]
    # Free-text formats: "JPEG", "mp3", ".pdf", "Sound recording".
    token = value.lstrip(".")
    if token in tables.extensions:
        return tables.extensions[token]
    return tables.dc_types.get(compact_key(value))


def _from_url(url: str) -> str | None:
    tables = _tables()
    m = _URL.match(url.strip())
    if m is None:
        return None
    host = (m.group(1) or "").lower()
    while host:
        if host in tables.hosts:
            return tables.hosts[host]
        host = host.partition(".")[2]
    extension = posixpath.splitext(m.group(2))[1].lower().lstrip(".")
    return tables.extensions.get(extension) if extension else None


def _from_dc_type(dc_type: str) -> str | None:
    value = dc_type.strip().rstrip("/")
    # DCMI Type URIs: http://purl.org/dc/dcmitype/StillImage
    value = value.rsplit("/", 1)[-1]
    return _tables().dc_types.get(compact_key(value))


@functools.lru_cache(maxsize=16384)
def media_type(*, dc_type: str | None = None, fmt: str | None = None, url: str | None = None) -> str:
    """image, video, audio, text or other.

    The most specific evidence wins: the declared format describes the file itself, the URL
    comes next (a ".jpg" link is an image whatever the record's dc:type), the record's dc:type
    last.
    """
    for found in (
        _from_format(fmt) if fmt else None,
        _from_url(url) if url else None,
        _from_dc_type(dc_type) if dc_type else None,
    ):
        if found is not None:
            return found
    return "other"
