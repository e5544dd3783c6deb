"""Pytest plugin: fake partner repositories over real HTTP, with fault injection.

``FaultyProviderServer`` is the project's own provider with a programmable plan
of misbehaviours (HTTP errors, stalls, truncated or reset connections, lying
headers, broken bytes, looping or expiring tokens).  ``CannedServer`` serves the
real captured responses in ``/work/shared/samples/oai`` byte-for-byte, routed
by verb and resumption token.  ``make_records`` makes deterministic oai_dc
records with multilingual Asia-Pacific titles.
"""

from __future__ import annotations

import base64
import email.utils
import json
import re
import threading
import time
from collections.abc import Callable, Container, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, NamedTuple
from xml.sax.saxutils import escape, quoteattr

import pytest
from lxml import etree

from harvester.provider import (OAI_DC, OAI_NAMESPACE, SECONDS_GRANULARITY, XML_CONTENT_TYPE,
                                Exchange, FormatInfo, InMemoryRepository, ProviderRecord,
                                ProviderRequest, ProviderResponse, ProviderServer,
                                RecordRepository, RepositoryInfo, SetInfo, error_response)

SAMPLES_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "samples" / "oai"
TEST_SECRET = b"ichlinks-test-token-secret"
UTC = timezone.utc

# --------------------------------------------------------------------------
# Deterministic records
# --------------------------------------------------------------------------

# (language, title, English title, country): real ICH elements, so the text is realistic.
ICH_TITLES: dict[str, tuple[tuple[str, str, str], ...]] = {
    "ko": (("판소리 서사 노래", "Pansori epic chant", "Republic of Korea"),
           ("강강술래", "Ganggangsullae", "Republic of Korea"),
           ("종묘제례 및 종묘제례악", "Royal ancestral ritual in the Jongmyo shrine", "Republic of Korea")),
    "vi": (("Nhã nhạc cung đình Huế", "Nha Nhac, Vietnamese court music", "Viet Nam"),
           ("Không gian văn hóa Cồng chiêng Tây Nguyên", "Space of gong culture", "Viet Nam"),
           ("Ca trù & Quan họ Bắc Ninh", "Ca tru & Quan ho folk songs", "Viet Nam")),
    "kk": (("Айтыс өнері", "Aitysh, art of improvisation", "Kazakhstan"),
           ("Қазақ киіз үйін жасау", "Kazakh yurt making", "Kazakhstan"),
           ("Күй — домбыра өнері", "Kuy, dombra art", "Kazakhstan")),
    "mn": (("Уртын дуу", "Urtiin duu, traditional long song", "Mongolia"),
           ("Морин хуурын уламжлалт хөгжим", "Traditional music of the Morin Khuur", "Mongolia"),
           ("Монгол хөөмий", "Mongolian khoomei", "Mongolia")),
    "th": (("โขน", "Khon, masked dance drama", "Thailand"),
           ("นวดไทย", "Nuad Thai, traditional Thai massage", "Thailand"),
           ("โนรา", "Nora, dance drama", "Thailand")),
    "ja": (("能楽", "Nogaku theatre", "Japan"),
           ("人形浄瑠璃文楽", "Ningyo Johruri Bunraku puppet theatre", "Japan"),
           ("和食；日本人の伝統的な食文化", "Washoku, traditional dietary cultures", "Japan")),
    "zh": (("昆曲", "Kun Qu opera", "China"),
           ("古琴艺术", "Guqin and its music", "China"),
           ("二十四节气", "The Twenty-Four Solar Terms", "China")),
}
LANGUAGES = tuple(ICH_TITLES)
ICH_DOMAINS = ("Performing arts", "Oral traditions and expressions",
               "Social practices, rituals and festive events",
               "Knowledge and practices concerning nature and the universe",
               "Traditional craftsmanship")
DEFAULT_SETS = ("ich:performing-arts", "ich:craftsmanship", "ich:oral-traditions")
_DC_OPEN = ('<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            'xsi:schemaLocation="http://www.openarchives.org/OAI/2.0/oai_dc/ '
            'http://www.openarchives.org/OAI/2.0/oai_dc.xsd">')


def record_identifier(index: int) -> str:
    return f"oai:ichlinks.test:ich-{index:05d}"


def oai_dc_xml(index: int, language: str) -> str:
    """The oai_dc metadata of test record ``index``; a pure function of its arguments."""
    titles = ICH_TITLES[language]
    native, english, country = titles[index % len(titles)]
    domain = ICH_DOMAINS[index % len(ICH_DOMAINS)]
    year = 2001 + index % 23
    return "".join((
        _DC_OPEN,
        f'<dc:title xml:lang="{language}">{escape(native)}</dc:title>',
        f'<dc:title xml:lang="en">{escape(english)}</dc:title>',
        f"<dc:subject>{escape(domain)}</dc:subject>",
        f"<dc:subject>{escape(country)}</dc:subject>",
        f"<dc:description xml:lang=\"en\">Item {index} &lt;{language}&gt; "
        f"inscribed {year}.</dc:description>",
        f"<dc:coverage>{escape(country)}</dc:coverage>",
        f"<dc:date>{year}</dc:date>",
        f"<dc:language>{language}</dc:language>",
        "<dc:type>Intangible cultural heritage</dc:type>",
        f"<dc:identifier>https://ichlinks.test/element/{index}</dc:identifier>",
        "</oai_dc:dc>",
    ))


def make_records(n: int, *, sets: Sequence[str] = DEFAULT_SETS, deleted_every: int | None = None,
                 start: datetime = datetime(2024, 1, 1, tzinfo=UTC),
                 step: timedelta = timedelta(hours=1),
                 languages: Sequence[str] = LANGUAGES) -> list[ProviderRecord]:
    """``n`` oai_dc records: record i is in ``sets[i % len(sets)]``, dated ``start + i*step``,
    titled in ``languages[i % len(languages)]`` (plus English), deleted when
    ``(i + 1) % deleted_every == 0``."""
    unknown = set(languages) - set(ICH_TITLES)
    if unknown:
        raise ValueError(f"no titles for languages {sorted(unknown)}")
    records = []
    for i in range(n):
        deleted = bool(deleted_every) and (i + 1) % deleted_every == 0  # type: ignore[operator]
        language = languages[i % len(languages)]
        records.append(ProviderRecord(
            identifier=record_identifier(i),
            datestamp=start + i * step,
            sets=(sets[i % len(sets)],) if sets else (),
            deleted=deleted,
            metadata={} if deleted else {"oai_dc": oai_dc_xml(i, language)},
        ))
    return records


def make_repository(records: Iterable[ProviderRecord] = (), *,
                    granularity: str = SECONDS_GRANULARITY, deleted_record: str = "persistent",
                    sets: Sequence[SetInfo] | None = None,
                    formats: Sequence[FormatInfo] = (OAI_DC,),
                    name: str = "ichLinks test partner",
                    earliest: datetime | None = None) -> InMemoryRepository:
    """An in-memory repository; sets default to every spec used by a record, with its ancestors."""
    records = list(records)
    if sets is None:
        specs: set[str] = set()
        for record in records:
            for spec in record.sets:
                parts = spec.split(":")
                specs.update(":".join(parts[:k]) for k in range(1, len(parts) + 1))
        sets = [SetInfo(spec, spec.rsplit(":", 1)[-1].replace("-", " ").title())
                for spec in sorted(specs)]
    if earliest is None:
        earliest = min((r.datestamp for r in records), default=datetime(2024, 1, 1, tzinfo=UTC))
    info = RepositoryInfo(name=name, base_url="http://ichlinks.test/oai",
                          admin_emails=("oai-admin@ichlinks.test",), earliest_datestamp=earliest,
                          deleted_record=deleted_record, granularity=granularity)
    return InMemoryRepository(info, formats=formats, sets=sets, records=records)


# --------------------------------------------------------------------------
# Response structure
# --------------------------------------------------------------------------

# The structure of http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd, written out
# here because tests have no network; the only relaxation is processContents="lax"
# for <metadata>/<description> content, whose own schemas are not at hand.
OAI_PMH_XSD = b"""<?xml version="1.0" encoding="UTF-8"?>
<schema xmlns="http://www.w3.org/2001/XMLSchema" xmlns:oai="http://www.openarchives.org/OAI/2.0/"
        targetNamespace="http://www.openarchives.org/OAI/2.0/"
        elementFormDefault="qualified" attributeFormDefault="unqualified">
  <element name="OAI-PMH">
    <complexType>
      <sequence>
        <element name="responseDate" type="dateTime"/>
        <element name="request" type="oai:requestType"/>
        <choice>
          <element name="error" type="oai:errorType" maxOccurs="unbounded"/>
          <element name="Identify" type="oai:IdentifyType"/>
          <element name="ListMetadataFormats" type="oai:ListMetadataFormatsType"/>
          <element name="ListSets" type="oai:ListSetsType"/>
          <element name="GetRecord" type="oai:GetRecordType"/>
          <element name="ListIdentifiers" type="oai:ListIdentifiersType"/>
          <element name="ListRecords" type="oai:ListRecordsType"/>
        </choice>
      </sequence>
    </complexType>
  </element>
  <complexType name="requestType">
    <simpleContent>
      <extension base="anyURI">
        <attribute name="verb" type="oai:verbType"/>
        <attribute name="identifier" type="anyURI"/>
        <attribute name="metadataPrefix" type="oai:metadataPrefixType"/>
        <attribute name="from" type="oai:UTCdatetimeType"/>
        <attribute name="until" type="oai:UTCdatetimeType"/>
        <attribute name="set" type="oai:setSpecType"/>
        <attribute name="resumptionToken" type="string"/>
      </extension>
    </simpleContent>
  </complexType>
  <simpleType name="verbType">
    <restriction base="string">
      <enumeration value="Identify"/><enumeration value="ListMetadataFormats"/>
      <enumeration value="ListSets"/><enumeration value="GetRecord"/>
      <enumeration value="ListIdentifiers"/><enumeration value="ListRecords"/>
    </restriction>
  </simpleType>
  <complexType name="errorType">
    <simpleContent>
      <extension base="string">
        <attribute name="code" use="required">
          <simpleType>
            <restriction base="string">
              <enumeration value="cannotDisseminateFormat"/><enumeration value="idDoesNotExist"/>
              <enumeration value="badArgument"/><enumeration value="badVerb"/>
              <enumeration value="noMetadataFormats"/><enumeration value="noRecordsMatch"/>
              <enumeration value="badResumptionToken"/><enumeration value="noSetHierarchy"/>
            </restriction>
          </simpleType>
        </attribute>
      </extension>
    </simpleContent>
  </complexType>
  <complexType name="IdentifyType">
    <sequence>
      <element name="repositoryName" type="string"/>
      <element name="baseURL" type="anyURI"/>
      <element name="protocolVersion">
        <simpleType><restriction base="string"><enumeration value="2.0"/></restriction></simpleType>
      </element>
      <element name="adminEmail" maxOccurs="unbounded">
        <simpleType><restriction base="string"><pattern value="\\S+@(\\S+\\.)+\\S+"/></restriction></simpleType>
      </element>
      <element name="earliestDatestamp" type="oai:UTCdatetimeType"/>
      <element name="deletedRecord">
        <simpleType>
          <restriction base="string">
            <enumeration value="no"/><enumeration value="persistent"/><enumeration value="transient"/>
          </restriction>
        </simpleType>
      </element>
      <element name="granularity">
        <simpleType>
          <restriction base="string">
            <enumeration value="YYYY-MM-DD"/><enumeration value="YYYY-MM-DDThh:mm:ssZ"/>
          </restriction>
        </simpleType>
      </element>
      <element name="compression" type="string" minOccurs="0" maxOccurs="unbounded"/>
      <element name="description" type="oai:descriptionType" minOccurs="0" maxOccurs="unbounded"/>
    </sequence>
  </complexType>
  <complexType name="ListMetadataFormatsType">
    <sequence>
      <element name="metadataFormat" maxOccurs="unbounded">
        <complexType>
          <sequence>
            <element name="metadataPrefix" type="oai:metadataPrefixType"/>
            <element name="schema" type="anyURI"/>
            <element name="metadataNamespace" type="anyURI"/>
          </sequence>
        </complexType>
      </element>
    </sequence>
  </complexType>
  <complexType name="ListSetsType">
    <sequence>
      <element name="set" maxOccurs="unbounded">
        <complexType>
          <sequence>
            <element name="setSpec" type="oai:setSpecType"/>
            <element name="setName" type="string"/>
            <element name="setDescription" type="oai:descriptionType" minOccurs="0" maxOccurs="unbounded"/>
          </sequence>
        </complexType>
      </element>
      <element name="resumptionToken" type="oai:resumptionTokenType" minOccurs="0"/>
    </sequence>
  </complexType>
  <complexType name="GetRecordType">
    <sequence><element name="record" type="oai:recordType"/></sequence>
  </complexType>
  <complexType name="ListRecordsType">
    <sequence>
      <element name="record" type="oai:recordType" maxOccurs="unbounded"/>
      <element name="resumptionToken" type="oai:resumptionTokenType" minOccurs="0"/>
    </sequence>
  </complexType>
  <complexType name="ListIdentifiersType">
    <sequence>
      <element name="header" type="oai:headerType" maxOccurs="unbounded"/>
      <element name="resumptionToken" type="oai:resumptionTokenType" minOccurs="0"/>
    </sequence>
  </complexType>
  <complexType name="recordType">
    <sequence>
      <element name="header" type="oai:headerType"/>
      <element name="metadata" type="oai:descriptionType" minOccurs="0"/>
      <element name="about" type="oai:descriptionType" minOccurs="0" maxOccurs="unbounded"/>
    </sequence>
  </complexType>
  <complexType name="headerType">
    <sequence>
      <element name="identifier" type="anyURI"/>
      <element name="datestamp" type="oai:UTCdatetimeType"/>
      <element name="setSpec" type="oai:setSpecType" minOccurs="0" maxOccurs="unbounded"/>
    </sequence>
    <attribute name="status" use="optional">
      <simpleType><restriction base="string"><enumeration value="deleted"/></restriction></simpleType>
    </attribute>
  </complexType>
  <complexType name="descriptionType">
    <sequence><any namespace="##other" processContents="lax"/></sequence>
  </complexType>
  <complexType name="resumptionTokenType">
    <simpleContent>
      <extension base="string">
        <attribute name="expirationDate" type="dateTime" use="optional"/>
        <attribute name="completeListSize" type="positiveInteger" use="optional"/>
        <attribute name="cursor" type="nonNegativeInteger" use="optional"/>
      </extension>
    </simpleContent>
  </complexType>
  <simpleType name="UTCdatetimeType">
    <union memberTypes="date dateTime"/>
  </simpleType>
  <simpleType name="metadataPrefixType">
    <restriction base="string"><pattern value="[A-Za-z0-9\\-_\\.!~\\*'\\(\\)]+"/></restriction>
  </simpleType>
  <simpleType name="setSpecType">
    <restriction base="string">
      <pattern value="([A-Za-z0-9\\-_\\.!~\\*'\\(\\)])+(:[A-Za-z0-9\\-_\\.!~\\*'\\(\\)]+)*"/>
    </restriction>
  </simpleType>
</schema>
"""


_schema: etree.XMLSchema | None = None


def parse_oai(body: bytes) -> etree._Element:
    """Parse a response and check it against the OAI-PMH 2.0 schema structure; AssertionError if invalid."""
    global _schema
    if _schema is None:
        _schema = etree.XMLSchema(etree.fromstring(OAI_PMH_XSD))
    root = etree.fromstring(body)
    if not _schema.validate(root):
        raise AssertionError(f"not valid OAI-PMH: {_schema.error_log}")
    return root


# --------------------------------------------------------------------------
# Faults
# --------------------------------------------------------------------------

class LoggedRequest(NamedTuple):
    path: str
    params: dict[str, str]
    fault: str | None


@dataclass(frozen=True)
class When:
    """Which requests a fault applies to; all given conditions must hold."""

    verb: str | None = None
    nth: int | Container[int] | None = None        # 1-based position among all requests
    nth_token: int | Container[int] | None = None  # 1-based position among token requests
    token: bool | None = None                      # True: only with a token; False: only without
    where: Callable[[ProviderRequest], bool] | None = None

    def matches(self, request: ProviderRequest, n: int, n_token: int | None) -> bool:
        has_token = request.arg("resumptionToken") is not None
        if self.verb is not None and request.arg("verb") != self.verb:
            return False
        if self.token is not None and has_token != self.token:
            return False
        if self.nth is not None and not _position_matches(self.nth, n):
            return False
        if self.nth_token is not None and (n_token is None
                                           or not _position_matches(self.nth_token, n_token)):
            return False
        return self.where is None or self.where(request)


def _position_matches(spec: int | Container[int], position: int) -> bool:
    return position == spec if isinstance(spec, int) else position in spec


Action = Callable[["FaultyProviderServer", Exchange], None]


@dataclass
class Fault:
    """A misbehaviour, the requests it hits, and how many more times it may fire (None: always)."""

    name: str
    action: Action
    when: When = field(default_factory=When)
    times: int | None = 1

    def __str__(self) -> str:
        return self.name


def _fault(name: str, action: Action, *, verb: str | None = None,
           nth: int | Container[int] | None = None, nth_token: int | Container[int] | None = None,
           token: bool | None = None, where: Callable[[ProviderRequest], bool] | None = None,
           times: int | None = 1) -> Fault:
    return Fault(name, action, When(verb=verb, nth=nth, nth_token=nth_token, token=token,
                                    where=where), times)


def http_date(seconds_from_now: float) -> str:
    """A Retry-After value in the HTTP-date form (RFC 9110 section 10.2.3)."""
    return email.utils.formatdate(time.time() + seconds_from_now, usegmt=True)


def status(code: int, retry_after: str | None = None, **when: Any) -> Fault:
    """Answer with an HTTP error status (and Retry-After when given) instead of OAI-PMH."""
    def action(server: FaultyProviderServer, exchange: Exchange) -> None:
        headers = [("Content-Type", "text/html; charset=utf-8")]
        if retry_after is not None:
            headers.append(("Retry-After", retry_after))
        body = f"<html><body><h1>{code}</h1>try again later</body></html>\n".encode()
        exchange.send_raw(code, headers, body)
    return _fault(f"status({code})", action, **when)


def delay(seconds: float, **when: Any) -> Fault:
    """Stall before answering normally (for client read timeouts)."""
    def action(server: FaultyProviderServer, exchange: Exchange) -> None:
        time.sleep(seconds)
        server.serve_normally(exchange)
    return _fault(f"delay({seconds})", action, **when)


def truncate(n_bytes: int, **when: Any) -> Fault:
    """Declare the full Content-Length, send only the first ``n_bytes`` of the body, close."""
    def action(server: FaultyProviderServer, exchange: Exchange) -> None:
        response = server.respond(exchange.request)
        exchange.send_raw(response.status, [("Content-Type", response.content_type)],
                          response.body[:n_bytes], declared_length=len(response.body), close=True)
    return _fault(f"truncate({n_bytes})", action, **when)


def reset(**when: Any) -> Fault:
    """Drop the connection with a TCP RST (SO_LINGER 0) without answering."""
    def action(server: FaultyProviderServer, exchange: Exchange) -> None:
        exchange.close(abortive=True)
    return _fault("reset()", action, **when)


def gzip_lie(**when: Any) -> Fault:
    """Say ``Content-Encoding: gzip`` over a plain body."""
    def action(server: FaultyProviderServer, exchange: Exchange) -> None:
        response = server.respond(exchange.request)
        exchange.send_raw(response.status, [("Content-Type", response.content_type),
                                            ("Content-Encoding", "gzip")], response.body)
    return _fault("gzip_lie()", action, **when)


def wrong_charset(charset: str = "iso-8859-1", **when: Any) -> Fault:
    """Declare another charset in Content-Type over the UTF-8 body."""
    def action(server: FaultyProviderServer, exchange: Exchange) -> None:
        response = server.respond(exchange.request)
        exchange.send(replace(response, content_type=f"text/xml; charset={charset}"))
    return _fault(f"wrong_charset({charset})", action, **when)


def inject(transform: Callable[[bytes], bytes], **when: Any) -> Fault:
    """Rewrite the body bytes (e.g. with :func:`control_chars_in_titles`) before sending."""
    def action(server: FaultyProviderServer, exchange: Exchange) -> None:
        response = server.respond(exchange.request)
        exchange.send(replace(response, body=transform(response.body)))
    name = getattr(transform, "__name__", "transform")
    return _fault(f"inject({name})", action, **when)


def control_chars_in_titles(body: bytes) -> bytes:
    """Put characters XML 1.0 forbids (U+000B, U+0001) into every title, as some real servers do."""
    return body.replace(b"</dc:title>", b"\x0b\x01</dc:title>")


def repeat_token(**when: Any) -> Fault:
    """Answer a token request with the page that issued that token, token included (a loop)."""
    when.setdefault("token", True)

    def action(server: FaultyProviderServer, exchange: Exchange) -> None:
        token = exchange.request.arg("resumptionToken")
        page = server.page_that_issued(token) if token else None
        if page is None:
            server.serve_normally(exchange)
        else:
            exchange.send(page)
    return _fault("repeat_token()", action, **when)


def empty_pages(n: int, **when: Any) -> Fault:
    """Start a chain of ``n`` list responses with no records but a fresh token each; then go on normally."""
    when.setdefault("where", _is_list_request)

    def action(server: FaultyProviderServer, exchange: Exchange) -> None:
        exchange.send(server.empty_page(exchange.request, 1, n, _original_params(exchange.request)))
    return _fault(f"empty_pages({n})", action, **when)


def expire_tokens(**when: Any) -> Fault:
    """Refuse every resumption token with badResumptionToken (as after a server restart)."""
    when.setdefault("token", True)
    when.setdefault("times", None)

    def action(server: FaultyProviderServer, exchange: Exchange) -> None:
        request = exchange.request
        exchange.send(error_response([("badResumptionToken", "The resumptionToken has expired")],
                                     base_url=server.base_url, request_args=_request_args(request)))
    return _fault("expire_tokens()", action, **when)


def error(code: str, message: str | None = None, **when: Any) -> Fault:
    """Answer with an OAI-PMH error response of the given code."""
    def action(server: FaultyProviderServer, exchange: Exchange) -> None:
        bare = code in ("badVerb", "badArgument")
        exchange.send(error_response([(code, message or f"injected {code}")],
                                     base_url=server.base_url,
                                     request_args=None if bare else _request_args(exchange.request)))
    return _fault(f"error({code})", action, **when)


def raw(body: bytes, content_type: str = XML_CONTENT_TYPE, status_code: int = 200,
        **when: Any) -> Fault:
    """Answer with exactly these bytes."""
    def action(server: FaultyProviderServer, exchange: Exchange) -> None:
        exchange.send(ProviderResponse(status_code, content_type, body))
    return _fault(f"raw({len(body)} bytes)", action, **when)


def _is_list_request(request: ProviderRequest) -> bool:
    return request.arg("verb") in ("ListRecords", "ListIdentifiers", "ListSets")


def _request_args(request: ProviderRequest) -> dict[str, str]:
    return {name: values[0] for name, values in request.params.items() if values}


_EMPTY_PREFIX = "EMPTY."


def _original_params(request: ProviderRequest) -> dict[str, list[str]]:
    return {name: list(values) for name, values in request.params.items()}


def _chain_token(k: int, n: int, params: Mapping[str, Sequence[str]]) -> str:
    packed = base64.urlsafe_b64encode(json.dumps(dict(params)).encode()).decode().rstrip("=")
    return f"{_EMPTY_PREFIX}{k}.{n}.{packed}"


def _parse_chain_token(token: str) -> tuple[int, int, dict[str, list[str]]] | None:
    if not token.startswith(_EMPTY_PREFIX):
        return None
    try:
        k, n, packed = token[len(_EMPTY_PREFIX):].split(".", 2)
        params = json.loads(base64.urlsafe_b64decode(packed + "=" * (-len(packed) % 4)))
        return int(k), int(n), params
    except ValueError:
        return None


_TOKEN_RE = re.compile(rb"<resumptionToken[^>]*>([^<]+)</resumptionToken>")


class FaultyProviderServer(ProviderServer):
    """The real provider with a plan of faults; the first matching fault with uses left fires."""

    def __init__(self, repository: RecordRepository, *, faults: Iterable[Fault] = (),
                 **kwargs: Any) -> None:
        super().__init__(repository, **kwargs)
        self.faults: list[Fault] = list(faults)
        self.requests: list[LoggedRequest] = []
        self._lock = threading.Lock()
        self._count = 0
        self._token_count = 0
        self._pages: dict[str, ProviderResponse] = {}

    def add_fault(self, fault: Fault) -> Fault:
        with self._lock:
            self.faults.append(fault)
        return fault

    def faults_applied(self) -> list[str]:
        return [r.fault for r in self.requests if r.fault is not None]

    def serve(self, exchange: Exchange) -> None:
        request = exchange.request
        has_token = request.arg("resumptionToken") is not None
        with self._lock:
            self._count += 1
            n = self._count
            n_token: int | None = None
            if has_token:
                self._token_count += 1
                n_token = self._token_count
            chosen = None
            for fault in self.faults:
                if (fault.times is None or fault.times > 0) and fault.when.matches(request, n, n_token):
                    if fault.times is not None:
                        fault.times -= 1
                    chosen = fault
                    break
            self.requests.append(LoggedRequest(request.path, _request_args(request),
                                               str(chosen) if chosen else None))
        if chosen is None:
            self.serve_normally(exchange)
        else:
            chosen.action(self, exchange)

    def serve_normally(self, exchange: Exchange) -> None:
        response = self.respond(exchange.request)
        if any(f.name == "repeat_token()" for f in self.faults):
            found = _TOKEN_RE.search(response.body)
            if found:
                with self._lock:
                    self._pages[found.group(1).decode()] = response
        exchange.send(response)

    def page_that_issued(self, token: str) -> ProviderResponse | None:
        with self._lock:
            return self._pages.get(token)

    def respond(self, request: ProviderRequest) -> ProviderResponse:
        token = request.arg("resumptionToken")
        chain = _parse_chain_token(token) if token else None
        if chain is not None:
            k, n, params = chain
            if k < n:
                return self.empty_page(request, k + 1, n, params)
            request = replace(request, params=params)
        return self.respond_normally(request)

    def respond_normally(self, request: ProviderRequest) -> ProviderResponse:
        return super().respond(request)

    def empty_page(self, request: ProviderRequest, k: int, n: int,
                   params: Mapping[str, Sequence[str]]) -> ProviderResponse:
        verb = request.arg("verb") or "ListRecords"
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        attrs = "".join(f" {name}={quoteattr(value)}" for name, value in _request_args(request).items())
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<OAI-PMH xmlns="{OAI_NAMESPACE}">'
                f"<responseDate>{now}</responseDate><request{attrs}>{escape(self.base_url)}</request>"
                f'<{verb}><resumptionToken cursor="0">{_chain_token(k, n, params)}</resumptionToken>'
                f"</{verb}></OAI-PMH>\n")
        return ProviderResponse(200, XML_CONTENT_TYPE, body.encode())


# --------------------------------------------------------------------------
# Canned real-world responses
# --------------------------------------------------------------------------

class _Any:
    def __repr__(self) -> str:
        return "ANY"


ANY: Any = _Any()
"""Route wildcard: the argument may have any value, or be absent."""


def sample_bytes(name: str | Path) -> bytes:
    path = Path(name)
    if not path.is_absolute():
        path = SAMPLES_DIR / path
    return path.read_bytes()


@dataclass(frozen=True)
class Route:
    """A canned answer: ``body`` is a sample file name (in SAMPLES_DIR), a Path, or bytes.

    ``token=None`` requires a request without resumptionToken; a string requires
    exactly that token; a callable decides; ``ANY`` does not look.
    """

    body: str | Path | bytes
    verb: str | None = None
    token: Any = ANY
    params: Mapping[str, str] = field(default_factory=dict)
    content_type: str = XML_CONTENT_TYPE
    status: int = 200

    def matches(self, request: ProviderRequest) -> bool:
        if self.verb is not None and request.arg("verb") != self.verb:
            return False
        given = request.arg("resumptionToken")
        if self.token is None and given is not None:
            return False
        if isinstance(self.token, str) and given != self.token:
            return False
        if callable(self.token) and not isinstance(self.token, _Any) and not self.token(given):
            return False
        return all(request.arg(name) == value for name, value in self.params.items())

    def content(self) -> bytes:
        return self.body if isinstance(self.body, bytes) else sample_bytes(self.body)


def token_of(body: bytes) -> str | None:
    """The resumptionToken text of a response, exactly as a client would send it back (XML-decoded)."""
    root = etree.fromstring(body, parser=etree.XMLParser(recover=True, resolve_entities=False))
    found = root.find(f".//{{{OAI_NAMESPACE}}}resumptionToken")
    return found.text if found is not None and found.text else None


def token_chain(verb: str, files: Sequence[str | Path], **params: str) -> list[Route]:
    """Routes serving ``files`` as one list: the first without a token, each next on the token in the previous."""
    routes = [Route(files[0], verb=verb, token=None, params=params)]
    for previous, current in zip(files, files[1:]):
        token = token_of(sample_bytes(previous))
        if token is None:
            raise ValueError(f"{previous} has no resumptionToken to chain on")
        routes.append(Route(current, verb=verb, token=token))
    return routes


def nsdl_four_page_routes() -> list[Route]:
    """NSDL's 733-identifier list in four pages, plus its Identify."""
    pages = [f"phpoaipmh__GoodResponseFourPage_{k}.xml" for k in range(1, 5)]
    return [Route("phpoaipmh__GoodResponseIdentify.xml", verb="Identify"),
            *token_chain("ListIdentifiers", pages)]


class CannedServer(FaultyProviderServer):
    """Serves stored responses by route; faults in the plan still apply first."""

    def __init__(self, routes: Sequence[Route] | Mapping[tuple[str | None, Any], str | Path | bytes],
                 *, faults: Iterable[Fault] = (), **kwargs: Any) -> None:
        if isinstance(routes, Mapping):
            routes = [Route(body, verb=verb, token=token) for (verb, token), body in routes.items()]
        self.routes = list(routes)
        self._bodies = [route.content() for route in self.routes]  # fail early on a missing file
        kwargs.setdefault("token_secret", TEST_SECRET)
        super().__init__(make_repository(), faults=faults, **kwargs)

    def respond_normally(self, request: ProviderRequest) -> ProviderResponse:
        for route, body in zip(self.routes, self._bodies):
            if route.matches(request):
                return ProviderResponse(route.status, route.content_type, body)
        message = f"no canned route for {sorted(_request_args(request).items())}\n"
        return ProviderResponse(404, "text/plain; charset=utf-8", message.encode())


# --------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------

@pytest.fixture
def oai_server() -> Iterator[Callable[..., FaultyProviderServer]]:
    """Factory: ``oai_server(records, granularity=.., deleted_record=.., page_size=.., faults=[..])``."""
    started: list[FaultyProviderServer] = []

    def factory(records: Iterable[ProviderRecord] | None = None, *,
                granularity: str = SECONDS_GRANULARITY, deleted_record: str = "persistent",
                page_size: int = 100, faults: Iterable[Fault] = (),
                sets: Sequence[SetInfo] | None = None, repository: InMemoryRepository | None = None,
                token_secret: bytes = TEST_SECRET, **kwargs: Any) -> FaultyProviderServer:
        if repository is None:
            repository = make_repository(make_records(25) if records is None else records,
                                         granularity=granularity, deleted_record=deleted_record,
                                         sets=sets)
        server = FaultyProviderServer(repository, faults=faults, page_size=page_size,
                                      token_secret=token_secret, **kwargs)
        started.append(server.start())
        return server

    yield factory
    for server in started:
        server.stop()


@pytest.fixture
def canned_server() -> Iterator[Callable[..., CannedServer]]:
    """Factory: ``canned_server(routes, faults=[..])`` serving the real captured samples."""
    started: list[CannedServer] = []

    def factory(routes: Sequence[Route] | Mapping[tuple[str | None, Any], str | Path | bytes],
                **kwargs: Any) -> CannedServer:
        server = CannedServer(routes, **kwargs)
        started.append(server.start())
        return server

    yield factory
    for server in started:
        server.stop()
