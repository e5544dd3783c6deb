"""The OAI-PMH client: httpx for HTTP, our own parser for the XML, sickle's model objects.

sickle fetches with requests, opens a new connection per page and parses each page three
times; here one pooled httpx client per host is shared by every source on that host, each
page is parsed once, and every failure becomes a :mod:`harvester.errors` exception that
names the source, URL, verb and token.
"""

from __future__ import annotations

import logging
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, urljoin, urlsplit, urlunsplit

from harvester.errors import (HarvestError, HTTPStatusError, MalformedResponse, NoRecordsMatch,
                              OAIProtocolError, TransportError, oai_error)
from harvester.oai.fingerprint import PageFingerprint, page_fingerprint
from harvester.oai.response import OAIResponse, RawRecord, parse_response
from harvester.oai.retry import RetryPolicy, parse_retry_after
from harvester.oai.synchronous_httpx import httpx

log = logging.getLogger("ichlinks.oai")

DEFAULT_USER_AGENT = "ichLinks-Harvester/0.1 (+https://ichlinks.example)"
MAX_REDIRECTS = 5
_OAI_ARGS = frozenset({"verb", "identifier", "metadataPrefix", "from", "until", "set", "resumptionToken"})
# A page this big is a broken or hostile server (or a gzip bomb), not a partner's list.
# Parsing holds a few copies of a page, so this cap is what bounds a harvest's memory.
MAX_BODY_BYTES = 256 * 1024 * 1024


class HostPools:
    """One httpx client (connection pool) per host, shared by every source on that host."""

    def __init__(self, *, user_agent: str = DEFAULT_USER_AGENT) -> None:
        self._clients: dict[str, httpx.Client] = {}
        self._lock = threading.Lock()
        self.user_agent = user_agent

    def client_for(self, url: str, *, max_connections: int = 2, timeout_s: float = 60.0) -> httpx.Client:
        host = urlsplit(url).netloc.lower()
        with self._lock:
            client = self._clients.get(host)
            if client is None:
                client = httpx.Client(
                    headers={"User-Agent": self.user_agent, "Accept-Encoding": "gzip, deflate",
                             "Accept": "text/xml, application/xml;q=0.9, */*;q=0.5"},
                    limits=httpx.Limits(max_connections=max_connections,
                                        max_keepalive_connections=max_connections),
                    timeout=httpx.Timeout(timeout_s, connect=min(15.0, timeout_s)),
                    follow_redirects=False,
                )
                self._clients[host] = client
            return client

    def close(self) -> None:
        with self._lock:
            for client in self._clients.values():
                client.close()
            self._clients.clear()

    def __enter__(self) -> HostPools:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# Given a page's fingerprint, what the store knows of that page (None: nothing).
Recognise = Callable[[str], Any]


@dataclass(frozen=True)
class Page:
    """One list response: what the harvest loop needs, nothing more.

    ``fingerprint`` is set for plain ListRecords pages (see :mod:`.fingerprint`).  When
    ``recognised`` is set, the caller's ``recognise`` knew the fingerprint and only the
    envelope was read: ``response`` holds no records, and :meth:`parsed_in_full` reads them
    from ``body`` should the caller find the knowledge out of date.
    """

    response: OAIResponse
    url: str
    empty: bool  # noRecordsMatch
    fingerprint: str | None = None
    recognised: Any = None
    body: bytes | None = field(default=None, repr=False)
    charset: str | None = None

    @property
    def token(self) -> str | None:
        tok = self.response.token
        return tok.value if tok is not None and tok.value else None

    def parsed_in_full(self) -> Page:
        """This page with its records parsed (deferred), as if it had not been recognised."""
        if self.recognised is None or self.body is None:
            return self
        try:
            response = parse_response(self.body, http_charset=self.charset, defer_records=True)
        except MalformedResponse as exc:
            exc.url, exc.verb = self.url, "ListRecords"
            raise
        return Page(response=response, url=self.url, empty=self.empty,
                    fingerprint=self.fingerprint)


class _Exchange(NamedTuple):
    response: OAIResponse
    url: str
    fingerprint: str | None = None
    recognised: Any = None
    body: bytes | None = None
    charset: str | None = None


class _TooLarge(ValueError):
    """A body, or what it decompresses to, is over the client's limit."""


def _read_body(resp: httpx.Response, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    for chunk in resp.iter_raw():
        size += len(chunk)
        if size > limit:
            raise _TooLarge(f"response body larger than {limit:,} bytes; refused")
        chunks.append(chunk)
    return b"".join(chunks)


def _inflate(data: bytes, wbits: int, limit: int) -> bytes:
    """Decompress at most ``limit`` bytes: a gzip bomb is stopped there, not in swap."""
    out = bytearray()
    while True:
        inflater = zlib.decompressobj(wbits)
        out += inflater.decompress(data, limit + 1 - len(out))
        if len(out) > limit:
            raise _TooLarge(f"decompressed body larger than {limit:,} bytes; refused")
        if not inflater.eof:
            raise zlib.error("compressed data ends before its end-of-stream marker")
        data = inflater.unused_data
        if wbits != 16 + zlib.MAX_WBITS or not data.strip(b"\0"):  # gzip may hold several members
            return bytes(out)


def _decompress(body: bytes, encoding: str, limit: int = MAX_BODY_BYTES) -> tuple[bytes, str | None]:
    """Undo Content-Encoding ourselves: some servers declare gzip and send plain XML."""
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return body, None
    try:
        if encoding in ("gzip", "x-gzip"):
            return _inflate(body, 16 + zlib.MAX_WBITS, limit), None
        if encoding == "deflate":
            try:
                return _inflate(body, zlib.MAX_WBITS, limit), None
            except zlib.error:
                return _inflate(body, -zlib.MAX_WBITS, limit), None
    except (OSError, EOFError, zlib.error) as exc:
        stripped = body.lstrip()
        if stripped.startswith((b"<", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
            return body, f"Content-Encoding {encoding} declared but the body is not compressed"
        raise ValueError(f"cannot decode Content-Encoding {encoding}: {exc}") from exc
    return body, f"unknown Content-Encoding {encoding!r} ignored"


def _read_recognised(found: PageFingerprint, charset: str | None, known: Any, body: bytes,
                     url: str) -> _Exchange | None:
    """The page read from its envelope alone, since the caller knows its records.

    The envelope must read as a clean ListRecords answer (no error, no repair, no record
    left in it); anything else is parsed whole, as if nothing were known.
    """
    try:
        response = parse_response(found.envelope, http_charset=charset)
    except MalformedResponse:
        return None
    if (response.verb != "ListRecords" or response.records or response.errors
            or response.diagnostics):
        return None
    return _Exchange(response, url, found.digest, known, body, charset)


class OAIClient:
    """Requests against one source's base URL, with retries and politeness."""

    def __init__(self, base_url: str, *, http: httpx.Client, source: str | None = None,
                 retry: RetryPolicy | None = None, delay_s: float = 0.0,
                 follow_redirects: str = "same-host",
                 sleep: Callable[[float], None] = time.sleep,
                 max_body_bytes: int = MAX_BODY_BYTES) -> None:
        self.base_url = base_url.strip()
        self.max_body_bytes = max_body_bytes
        self.http = http
        self.source = source
        self.retry = retry or RetryPolicy()
        self.delay_s = delay_s
        self.follow_redirects = follow_redirects
        self.sleep = sleep
        self.requests = 0
        self.retries = 0
        self.notes: list[str] = []
        self._last_request_at = 0.0

    # -- one HTTP exchange -------------------------------------------------------------
    def _context(self, verb: str, params: Mapping[str, str], url: str | None = None) -> dict[str, Any]:
        return {"source": self.source, "url": url or self.base_url, "verb": verb,
                "token": params.get("resumptionToken")}

    def _fetch(self, verb: str, params: Mapping[str, str]) -> tuple[bytes, str | None, str]:
        # httpx replaces a URL's query with `params`; some base URLs carry one of their own
        # (index.php?option=oai): keep it, minus any OAI argument we are about to send.
        parts = urlsplit(self.base_url)
        ours = {"verb", *params}
        query: list[tuple[str, str]] | None = [
            (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in _OAI_ARGS | ours]
        query = [*query, ("verb", verb), *params.items()]
        url = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
        if self.delay_s > 0:
            wait = self._last_request_at + self.delay_s - time.monotonic()
            if wait > 0:
                self.sleep(wait)
        for _hop in range(MAX_REDIRECTS + 1):
            self.requests += 1
            self._last_request_at = time.monotonic()
            ctx = self._context(verb, params, url)
            try:
                with self.http.stream("GET", url, params=query) as resp:
                    full_url = str(resp.request.url)
                    ctx["url"] = full_url
                    body = _read_body(resp, self.max_body_bytes)
                    if resp.is_redirect:
                        url = self._redirect_target(full_url, resp.headers.get("Location", ""), ctx)
                        query = None  # the Location carries the query
                        continue
                    if resp.status_code >= 400:
                        raise HTTPStatusError(
                            f"HTTP {resp.status_code} {resp.reason_phrase}", status=resp.status_code,
                            retry_after=parse_retry_after(resp.headers.get("Retry-After")), **ctx)
                    try:
                        body, note = _decompress(body, resp.headers.get("Content-Encoding", ""),
                                                 self.max_body_bytes)
                    except _TooLarge:
                        raise
                    except ValueError as exc:
                        raise MalformedResponse(str(exc), body=body, **ctx) from exc
                    if note:
                        self._note(f"{full_url}: {note}")
                    return body, resp.charset_encoding, full_url
            except _TooLarge as exc:  # not retried: the next answer would be as big
                raise HarvestError(f"{exc} (a broken or hostile server?)", **ctx) from exc
            except httpx.TimeoutException as exc:
                raise TransportError(f"timed out: {type(exc).__name__}", **ctx) from exc
            except httpx.TransportError as exc:
                raise TransportError(f"connection failed: {type(exc).__name__}: {exc}", **ctx) from exc
        raise HarvestError(f"more than {MAX_REDIRECTS} redirects", **self._context(verb, params, url))

    def _redirect_target(self, current: str, location: str, ctx: dict[str, Any]) -> str:
        if not location:
            raise HarvestError("redirect without a Location header", **ctx)
        target = urljoin(current, location)
        # Same host means the same host name: http -> https or a port change is still the partner.
        same_host = (urlsplit(target).hostname or "") == (urlsplit(self.base_url).hostname or "")
        if self.follow_redirects == "never" or (self.follow_redirects == "same-host" and not same_host):
            raise HarvestError(
                f"redirected to {target}; not followed (follow_redirects={self.follow_redirects}; "
                "set follow_redirects: any for this source, or fix its url)", **ctx)
        return target

    def _note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)
            log.warning("%s: %s", self.source or self.base_url, text)

    # -- one OAI request, with retries ---------------------------------------------------
    def request(self, verb: str, *, defer_records: bool = False,
                **params: str) -> tuple[OAIResponse, str]:
        """One OAI-PMH request; transient failures are retried per the policy.

        Returns the parsed response even when it carries an OAI error; see :meth:`call`.
        ``defer_records``: see :func:`parse_response`.
        """
        exchange = self._exchange(verb, params, defer_records=defer_records)
        return exchange.response, exchange.url

    def _exchange(self, verb: str, params: Mapping[str, str | None], *,
                  defer_records: bool = False, recognise: Recognise | None = None) -> _Exchange:
        clean = {k: v for k, v in params.items() if v is not None}
        attempt = 0
        while True:
            try:
                body, charset, url = self._fetch(verb, clean)
                try:
                    found = page_fingerprint(body, charset) if recognise is not None else None
                    if found is not None and recognise is not None:
                        known = recognise(found.digest)
                        read = (_read_recognised(found, charset, known, body, url)
                                if known is not None else None)
                        if read is not None:
                            return read
                    remember = found is not None and found.worth_remembering(body)
                    return _Exchange(parse_response(body, http_charset=charset,
                                                    defer_records=defer_records), url,
                                     found.digest if found is not None and remember else None)
                except MalformedResponse as exc:
                    exc.source, exc.url, exc.verb = self.source, url, verb
                    exc.token = clean.get("resumptionToken")
                    raise
            except (TransportError, HTTPStatusError, MalformedResponse) as exc:
                retryable = exc.retryable or isinstance(exc, MalformedResponse)
                if not retryable or attempt >= self.retry.retries:
                    raise
                wait = self.retry.delay(attempt, getattr(exc, "retry_after", None))
                log.warning("%s: %s; retry %d/%d in %.1fs", self.source or self.base_url, exc,
                            attempt + 1, self.retry.retries, wait)
                self.retries += 1
                attempt += 1
                self.sleep(wait)

    def call(self, verb: str, *, defer_records: bool = False,
             **params: str) -> tuple[OAIResponse, str, bool]:
        """A request whose OAI errors are raised; ``noRecordsMatch`` is an empty result."""
        exchange, empty = self._call(verb, params, defer_records=defer_records)
        return exchange.response, exchange.url, empty

    def _call(self, verb: str, params: Mapping[str, str | None], *, defer_records: bool = False,
              recognise: Recognise | None = None) -> tuple[_Exchange, bool]:
        exchange = self._exchange(verb, params, defer_records=defer_records, recognise=recognise)
        response, url = exchange.response, exchange.url
        if response.errors:
            code, message = response.errors[0]
            ctx = {"source": self.source, "url": url, "verb": verb,
                   "token": params.get("resumptionToken"), "identifier": params.get("identifier")}
            err = oai_error(code, message, **ctx)
            if isinstance(err, NoRecordsMatch):
                return exchange, True
            raise err
        if response.verb is not None and response.verb != verb:
            raise MalformedResponse(f"asked for {verb} but the response holds {response.verb}",
                                    source=self.source, url=url, verb=verb,
                                    token=params.get("resumptionToken"))
        return exchange, False

    # -- the six verbs -----------------------------------------------------------------
    def identify(self) -> dict[str, Any]:
        response, url, _ = self.call("Identify")
        if not response.identify:
            raise MalformedResponse("Identify response without an <Identify> element",
                                    source=self.source, url=url, verb="Identify")
        return dict(response.identify)

    def list_metadata_formats(self, identifier: str | None = None) -> list[dict[str, str]]:
        params = {"identifier": identifier} if identifier else {}
        response, _url, _ = self.call("ListMetadataFormats", **params)
        return list(response.formats)

    def list_sets(self, *, max_pages: int = 1000) -> Iterator[dict[str, str]]:
        """All sets; an empty iterator when the repository has no set hierarchy."""
        params: dict[str, str] = {}
        seen: set[str] = set()
        for _ in range(max_pages):
            try:
                response, url, _ = self.call("ListSets", **params)
            except OAIProtocolError as exc:
                if exc.code == "noSetHierarchy":
                    return
                raise
            yield from response.sets
            tok = response.token.value if response.token and response.token.value else None
            if not tok:
                return
            if tok in seen:
                from harvester.errors import HarvestLoopError

                raise HarvestLoopError("ListSets returned a token already used", source=self.source,
                                       url=url, verb="ListSets", token=tok)
            seen.add(tok)
            params = {"resumptionToken": tok}

    def list_page(self, verb: str, *, metadata_prefix: str | None = None, set_spec: str | None = None,
                  from_: str | None = None, until: str | None = None,
                  token: str | None = None, defer_records: bool = False,
                  recognise: Recognise | None = None) -> Page:
        """One page of ListRecords/ListIdentifiers (spec 3.5: a token excludes other arguments).

        ``defer_records`` leaves clean records unparsed until used (see :class:`DeferredRecord`).
        ``recognise`` is asked about the page's fingerprint; when it knows the page, the
        records are not parsed at all (see :class:`Page`).
        """
        if token:
            params = {"resumptionToken": token}
        else:
            params = {"metadataPrefix": metadata_prefix or "oai_dc"}
            if set_spec:
                params["set"] = set_spec
            if from_:
                params["from"] = from_
            if until:
                params["until"] = until
        exchange, empty = self._call(verb, params, defer_records=defer_records,
                                     recognise=recognise if verb == "ListRecords" else None)
        return Page(response=exchange.response, url=exchange.url, empty=empty,
                    fingerprint=exchange.fingerprint, recognised=exchange.recognised,
                    body=exchange.body, charset=exchange.charset)

    def get_record(self, identifier: str, metadata_prefix: str) -> RawRecord:
        response, url, _ = self.call("GetRecord", identifier=identifier, metadataPrefix=metadata_prefix)
        if not response.records:
            raise MalformedResponse("GetRecord response without a record", source=self.source,
                                    url=url, verb="GetRecord", identifier=identifier)
        return response.records[0]
