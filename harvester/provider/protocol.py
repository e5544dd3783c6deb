"""The six OAI-PMH 2.0 verbs over a :class:`RecordRepository`, framework-neutral.

``handle`` takes already-parsed request arguments and returns status, content
type and body, so the same code answers behind ``http.server`` (tests, demo,
``ichlinks publish``) and behind an ASGI route (the search service's ``/oai``).
OAI-PMH errors are ordinary 200 responses with ``<error>`` elements (spec 3.6).
Responses are built as text: a page is bounded by ``page_size``, and record
metadata is already XML, so nothing is parsed or re-serialised.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from .repository import (DAY_GRANULARITY, FormatInfo, ProviderRecord, RecordRepository,
                         RepositoryInfo)
from .tokens import TOKEN_LIFETIME, InvalidToken, TokenState, decode_token, encode_token

OAI_NAMESPACE = "http://www.openarchives.org/OAI/2.0/"
OAI_SCHEMA_LOCATION = "http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"
XML_CONTENT_TYPE = "text/xml; charset=utf-8"

ERROR_CODES = ("badArgument", "badResumptionToken", "badVerb", "cannotDisseminateFormat",
               "idDoesNotExist", "noRecordsMatch", "noMetadataFormats", "noSetHierarchy")

# verb -> (required, optional, exclusive) arguments, spec sections 4.1-4.6
_VERB_ARGUMENTS: dict[str, tuple[frozenset[str], frozenset[str], frozenset[str]]] = {
    "Identify": (frozenset(), frozenset(), frozenset()),
    "ListMetadataFormats": (frozenset(), frozenset({"identifier"}), frozenset()),
    "ListSets": (frozenset(), frozenset(), frozenset({"resumptionToken"})),
    "ListIdentifiers": (frozenset({"metadataPrefix"}), frozenset({"from", "until", "set"}),
                        frozenset({"resumptionToken"})),
    "ListRecords": (frozenset({"metadataPrefix"}), frozenset({"from", "until", "set"}),
                    frozenset({"resumptionToken"})),
    "GetRecord": (frozenset({"identifier", "metadataPrefix"}), frozenset(), frozenset()),
}
VERBS = tuple(_VERB_ARGUMENTS)

_DAY_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_SECONDS_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")
# Characters XML 1.0 cannot carry at all, even escaped.
_ILLEGAL_XML = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_XML_DECLARATION = re.compile(r"\A\s*<\?xml[^>]*\?>\s*")
_TEXT_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_ATTR_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;",
                               "\t": "&#9;", "\n": "&#10;", "\r": "&#13;"})


@dataclass(frozen=True)
class ProviderResponse:
    status: int
    content_type: str
    body: bytes


class OAIError(Exception):
    """An OAI-PMH error condition; becomes an ``<error code=..>`` element."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(f"{code}: {message}")


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _text(value: str) -> str:
    return _ILLEGAL_XML.sub("\ufffd", value).translate(_TEXT_ESCAPES)


def _attr(value: str) -> str:
    return _ILLEGAL_XML.sub("\ufffd", value).translate(_ATTR_ESCAPES)


def _seconds(value: datetime) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_datestamp(value: datetime, granularity: str) -> str:
    """Render a datestamp in the repository's granularity (spec 3.3.2)."""
    if granularity == DAY_GRANULARITY:
        return value.astimezone(timezone.utc).strftime("%Y-%m-%d")
    return _seconds(value)


def parse_datestamp(text: str) -> tuple[datetime, str]:
    """A UTCdatetime argument and the granularity it was written in; ValueError if it is neither."""
    if _DAY_RE.fullmatch(text):
        day = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=timezone.utc)
        return day, DAY_GRANULARITY
    if _SECONDS_RE.fullmatch(text):
        return (datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc),
                "YYYY-MM-DDThh:mm:ssZ")
    raise ValueError(f"not a UTCdatetime: {text!r}")


def _envelope(now: datetime, base_url: str, request_args: Mapping[str, str] | None,
              content: Iterable[str]) -> bytes:
    parts = ['<?xml version="1.0" encoding="UTF-8"?>\n',
             f'<OAI-PMH xmlns="{OAI_NAMESPACE}" '
             'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
             f'xsi:schemaLocation="{OAI_NAMESPACE} {OAI_SCHEMA_LOCATION}">\n',
             f"<responseDate>{_seconds(now)}</responseDate>\n", "<request"]
    if request_args:
        ordered = sorted(request_args.items(), key=lambda kv: (kv[0] != "verb", kv[0]))
        parts.extend(f' {name}="{_attr(value)}"' for name, value in ordered)
    parts.append(f">{_text(base_url)}</request>\n")
    parts.extend(content)
    parts.append("</OAI-PMH>\n")
    return "".join(parts).encode("utf-8")


def error_response(errors: Sequence[tuple[str, str]] | OAIError, *, base_url: str,
                   now: datetime | None = None,
                   request_args: Mapping[str, str] | None = None) -> ProviderResponse:
    """An OAI-PMH error document; ``request_args`` must be None for badVerb/badArgument (spec 3.2)."""
    if isinstance(errors, OAIError):
        errors = [(errors.code, errors.message)]
    content = [f'<error code="{_attr(code)}">{_text(message)}</error>\n' for code, message in errors]
    body = _envelope(now or _utc_now(), base_url, request_args, content)
    return ProviderResponse(200, XML_CONTENT_TYPE, body)


def _check_arguments(params: Mapping[str, Sequence[str]]) -> tuple[str, dict[str, str]]:
    verbs = params.get("verb") or ()
    if len(verbs) != 1:
        raise OAIError("badVerb", "the verb argument is missing or repeated")
    verb = verbs[0]
    if verb not in _VERB_ARGUMENTS:
        raise OAIError("badVerb", f"{verb!r} is not an OAI-PMH verb")
    required, optional, exclusive = _VERB_ARGUMENTS[verb]
    args: dict[str, str] = {}
    for name, values in params.items():
        if name == "verb" or not values:
            continue
        if name not in required and name not in optional and name not in exclusive:
            raise OAIError("badArgument", f"illegal argument {name!r} for {verb}")
        if len(values) > 1:
            raise OAIError("badArgument", f"argument {name!r} is repeated")
        args[name] = values[0]
    given_exclusive = exclusive.intersection(args)
    if given_exclusive:
        if len(args) > 1:
            raise OAIError("badArgument",
                           f"{', '.join(sorted(given_exclusive))} is an exclusive argument")
        return verb, args
    missing = required.difference(args)
    if missing:
        raise OAIError("badArgument", f"missing required argument(s): {', '.join(sorted(missing))}")
    return verb, args


class _Request:
    """One verb being answered; holds what every part of the answer needs."""

    def __init__(self, repository: RecordRepository, *, page_size: int, token_secret: bytes,
                 now: datetime, base_url: str, compression: Sequence[str],
                 token_lifetime: timedelta) -> None:
        self.repository = repository
        self.info: RepositoryInfo = repository.info()
        self.page_size = page_size
        self.token_secret = token_secret
        self.now = now
        self.base_url = base_url
        self.compression = compression
        self.token_lifetime = token_lifetime

    @property
    def hides_deleted(self) -> bool:
        return self.info.deleted_record == "no"

    def stamp(self, value: datetime) -> str:
        return format_datestamp(value, self.info.granularity)

    def _format(self, prefix: str) -> FormatInfo:
        for fmt in self.repository.formats():
            if fmt.prefix == prefix:
                return fmt
        raise OAIError("cannotDisseminateFormat", f"metadataPrefix {prefix!r} is not supported")

    def _visible(self, record: ProviderRecord | None) -> ProviderRecord | None:
        if record is None or (record.deleted and self.hides_deleted):
            return None
        return record

    def header(self, record: ProviderRecord) -> str:
        status = ' status="deleted"' if record.deleted else ""
        sets = "".join(f"<setSpec>{_text(s)}</setSpec>" for s in record.sets)
        return (f"<header{status}><identifier>{_text(record.identifier)}</identifier>"
                f"<datestamp>{self.stamp(record.datestamp)}</datestamp>{sets}</header>")

    def record(self, record: ProviderRecord, prefix: str) -> str:
        if record.deleted:
            return f"<record>{self.header(record)}</record>\n"
        metadata = _XML_DECLARATION.sub("", record.metadata[prefix], count=1)
        return f"<record>{self.header(record)}<metadata>{metadata}</metadata></record>\n"

    # -- verbs ------------------------------------------------------------
    def identify(self, args: Mapping[str, str]) -> list[str]:
        info = self.info
        parts = ["<Identify>",
                 f"<repositoryName>{_text(info.name)}</repositoryName>",
                 f"<baseURL>{_text(self.base_url)}</baseURL>",
                 "<protocolVersion>2.0</protocolVersion>"]
        parts.extend(f"<adminEmail>{_text(e)}</adminEmail>" for e in info.admin_emails)
        parts.append(f"<earliestDatestamp>{self.stamp(info.earliest_datestamp)}</earliestDatestamp>")
        parts.append(f"<deletedRecord>{info.deleted_record}</deletedRecord>")
        parts.append(f"<granularity>{info.granularity}</granularity>")
        parts.extend(f"<compression>{_text(c)}</compression>" for c in self.compression)
        parts.extend(f"<description>{d}</description>" for d in info.descriptions)
        parts.append("</Identify>\n")
        return parts

    def list_metadata_formats(self, args: Mapping[str, str]) -> list[str]:
        formats: Sequence[FormatInfo] = self.repository.formats()
        identifier = args.get("identifier")
        if identifier is not None:
            record = self._visible(self.repository.get(identifier))
            if record is None:
                raise OAIError("idDoesNotExist", f"no item {identifier!r} in this repository")
            if not record.deleted:
                formats = [f for f in formats if f.prefix in record.metadata]
        if not formats:
            raise OAIError("noMetadataFormats", "no metadata formats available for this item")
        parts = ["<ListMetadataFormats>"]
        parts.extend(f"<metadataFormat><metadataPrefix>{_text(f.prefix)}</metadataPrefix>"
                     f"<schema>{_text(f.schema)}</schema>"
                     f"<metadataNamespace>{_text(f.namespace)}</metadataNamespace></metadataFormat>"
                     for f in formats)
        parts.append("</ListMetadataFormats>\n")
        return parts

    def list_sets(self, args: Mapping[str, str]) -> list[str]:
        if "resumptionToken" in args:
            # This provider answers ListSets in one response and never issues a token for it.
            raise OAIError("badResumptionToken", "ListSets is never split; no token is valid")
        sets = self.repository.sets()
        if not sets:
            raise OAIError("noSetHierarchy", "this repository does not support sets")
        parts = ["<ListSets>"]
        for s in sets:
            parts.append(f"<set><setSpec>{_text(s.spec)}</setSpec><setName>{_text(s.name)}</setName>")
            if s.description:
                parts.append(f"<setDescription>{s.description}</setDescription>")
            parts.append("</set>")
        parts.append("</ListSets>\n")
        return parts

    def get_record(self, args: Mapping[str, str]) -> list[str]:
        identifier, prefix = args["identifier"], args["metadataPrefix"]
        record = self._visible(self.repository.get(identifier))
        if record is None:
            raise OAIError("idDoesNotExist", f"no item {identifier!r} in this repository")
        self._format(prefix)
        if not record.deleted and prefix not in record.metadata:
            raise OAIError("cannotDisseminateFormat",
                           f"item {identifier!r} is not available as {prefix!r}")
        return ["<GetRecord>", self.record(record, prefix), "</GetRecord>\n"]

    def list_headers_or_records(self, verb: str, args: Mapping[str, str]) -> list[str]:
        token = args.get("resumptionToken")
        if token is not None:
            state = self._resume(verb, token)
        else:
            state = self._first_state(verb, args)
        with_records = verb == "ListRecords"
        page, more, last = self._fetch(state, state.last if token is not None else None)
        if not page:
            # Also for a token whose remaining records vanished meanwhile: an empty
            # list element would be schema-invalid, and harvesters end on noRecordsMatch.
            raise OAIError("noRecordsMatch", "no records match the request")
        parts = [f"<{verb}>\n"]
        if with_records:
            parts.extend(self.record(r, state.prefix) for r in page)
        else:
            parts.extend(self.header(r) + "\n" for r in page)
        size = state.complete_list_size
        if size is not None and size < state.cursor + len(page):
            size = state.cursor + len(page)   # records arrived after counting
        size_attr = f' completeListSize="{size}"' if size is not None else ""
        if more and last is not None:
            following = TokenState(verb=verb, prefix=state.prefix, set_spec=state.set_spec,
                                   from_=state.from_, until=state.until, last=last,
                                   cursor=state.cursor + len(page), complete_list_size=size,
                                   issued_at=self.now)
            expires = _seconds(self.now + self.token_lifetime)
            parts.append(f'<resumptionToken expirationDate="{expires}"{size_attr} '
                         f'cursor="{state.cursor}">{encode_token(following, self.token_secret)}'
                         "</resumptionToken>\n")
        elif token is not None:
            # Spec 3.5: the response completing an incomplete list carries an empty token.
            parts.append(f'<resumptionToken{size_attr} cursor="{state.cursor}"/>\n')
        parts.append(f"</{verb}>\n")
        return parts

    def _resume(self, verb: str, token: str) -> TokenState:
        try:
            state = decode_token(token, self.token_secret, now=self.now,
                                 lifetime=self.token_lifetime)
        except InvalidToken as exc:
            raise OAIError("badResumptionToken", str(exc)) from exc
        if state.verb != verb:
            raise OAIError("badResumptionToken", f"this token continues {state.verb}, not {verb}")
        return state

    def _first_state(self, verb: str, args: Mapping[str, str]) -> TokenState:
        from_, until = self._date_range(args.get("from"), args.get("until"))
        prefix = args["metadataPrefix"]
        self._format(prefix)
        set_spec = args.get("set")
        if set_spec is not None and not self.repository.sets():
            raise OAIError("noSetHierarchy", "this repository does not support sets")
        size = self.repository.count(prefix=prefix, set_spec=set_spec, from_=from_, until=until)
        return TokenState(verb=verb, prefix=prefix, set_spec=set_spec, from_=from_, until=until,
                          last=(self.info.earliest_datestamp, ""), cursor=0,
                          complete_list_size=size, issued_at=self.now)

    def _date_range(self, from_text: str | None,
                    until_text: str | None) -> tuple[datetime | None, datetime | None]:
        bounds: list[datetime | None] = []
        grains: list[str] = []
        for name, text in (("from", from_text), ("until", until_text)):
            if text is None:
                bounds.append(None)
                continue
            try:
                value, grain = parse_datestamp(text)
            except ValueError as exc:
                raise OAIError("badArgument", f"{name}={text!r} is not a valid UTCdatetime") from exc
            if grain != DAY_GRANULARITY and self.info.granularity == DAY_GRANULARITY:
                raise OAIError("badArgument",
                               f"{name}={text!r} is finer than the repository granularity")
            if name == "until":
                # Inclusive at the granularity written: until=2020-01-01 covers that whole day.
                step = timedelta(days=1) if grain == DAY_GRANULARITY else timedelta(seconds=1)
                value = value + step - timedelta(microseconds=1)
            bounds.append(value)
            grains.append(grain)
        if len(grains) == 2 and grains[0] != grains[1]:
            raise OAIError("badArgument", "from and until must have the same granularity")
        from_, until = bounds
        if from_ is not None and until is not None and from_ > until:
            raise OAIError("badArgument", "from is later than until")
        return from_, until

    def _fetch(self, state: TokenState, after: tuple[datetime, str] | None,
               ) -> tuple[list[ProviderRecord], bool, tuple[datetime, str] | None]:
        """One page of visible records, whether more follow, and the key to resume after.

        Keeps asking while hidden records (deleted ones under deletedRecord=no, or
        records lacking the format) leave the page short, so a page is never empty
        while more records exist.
        """
        page: list[ProviderRecord] = []
        last: tuple[datetime, str] | None = after
        while True:
            want = self.page_size - len(page)
            batch = self.repository.page(prefix=state.prefix, set_spec=state.set_spec,
                                         from_=state.from_, until=state.until, after=last,
                                         limit=want + 1)
            more = len(batch) > want
            for record in batch[:want]:
                last = record.key
                if record.deleted and self.hides_deleted:
                    continue
                if not record.deleted and state.prefix not in record.metadata:
                    continue
                page.append(record)
            if not more or len(page) >= self.page_size:
                return page, more, last


def handle(params: Mapping[str, Sequence[str]], repository: RecordRepository, *,
           page_size: int = 100, token_secret: bytes,
           now: Callable[[], datetime] = _utc_now, base_url: str | None = None,
           compression: Sequence[str] = (),
           token_lifetime: timedelta = TOKEN_LIFETIME) -> ProviderResponse:
    """Answer one OAI-PMH request.

    ``params`` maps argument names to all the values given (as from
    ``urllib.parse.parse_qs``), so repeated arguments can be refused.
    ``base_url`` overrides the repository's own when the mount point is only
    known at serving time; ``compression`` lists what the transport offers, for Identify.
    """
    if page_size < 1:
        raise ValueError("page_size must be at least 1")
    moment = now().astimezone(timezone.utc)
    info = repository.info()
    base = base_url if base_url is not None else info.base_url
    normalised = {name: [values] if isinstance(values, str) else list(values)
                  for name, values in params.items()}
    try:
        verb, args = _check_arguments(normalised)
    except OAIError as exc:
        return error_response(exc, base_url=base, now=moment)
    request_args = {"verb": verb, **args}
    request = _Request(repository, page_size=page_size, token_secret=token_secret, now=moment,
                       base_url=base, compression=compression, token_lifetime=token_lifetime)
    try:
        if verb == "Identify":
            content = request.identify(args)
        elif verb == "ListMetadataFormats":
            content = request.list_metadata_formats(args)
        elif verb == "ListSets":
            content = request.list_sets(args)
        elif verb == "GetRecord":
            content = request.get_record(args)
        else:
            content = request.list_headers_or_records(verb, args)
    except OAIError as exc:
        bare = exc.code in ("badVerb", "badArgument")
        return error_response(exc, base_url=base, now=moment,
                              request_args=None if bare else request_args)
    return ProviderResponse(200, XML_CONTENT_TYPE, _envelope(moment, base, request_args, content))
