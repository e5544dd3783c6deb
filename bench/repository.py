"""The synthetic partner's records and its pre-rendered ListRecords pages.

All pages of the full list and of every set list are rendered when the repository is
built (and again after :meth:`SyntheticRepository.change`), so serving a page is handing
out bytes: the provider must never be what limits the harvester being measured.  Lists
with ``from``/``until`` are rendered on their first request and kept.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from bench import pages
from bench.records import (FIRST_DATESTAMP, MAX_RECORDS, SyntheticRecord, build_record, countries,
                           is_deleted, stamp)

CLOCK_START = datetime(2025, 1, 1, tzinfo=timezone.utc)
FULL_LIST = "all"
_FIRST_REQUEST = {"verb": "ListRecords", "metadataPrefix": "oai_dc"}


def initial_full_list(size: int) -> Iterator[bytes]:
    """The full list's pages exactly as a fresh repository of ``size`` serves them, one at a time.

    Records are built on the fly, so the floor step can parse N=100,000 pages without
    holding them; before any change, key order is index order.
    """
    return pages.list_records_pages((build_record(i) for i in range(size)), total=size,
                                    list_id=FULL_LIST, first_request=_FIRST_REQUEST,
                                    response_date=stamp(CLOCK_START))


def _compact(value: str) -> str:
    return value.replace("-", "").replace(":", "")


@dataclass(frozen=True)
class Answer:
    body: bytes
    oai_error: str | None = None


class RequestError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class SyntheticRepository:
    """N records, 5 % tombstones, one set per country, seconds granularity, deletedRecord persistent."""

    def __init__(self, size: int) -> None:
        if not 1 <= size <= MAX_RECORDS:
            raise ValueError(f"size must be within 1..{MAX_RECORDS}, not {size}")
        self.size = size
        self.clock = CLOCK_START
        self.changes = 0
        self._lock = threading.Lock()
        self._records: list[SyntheticRecord] = [build_record(i) for i in range(size)]
        self._by_id = {r.identifier: r for r in self._records}
        self._set_names = [(c["set"], f"{c['name']} ({c['native']})") for c in countries()]
        self._lists: dict[str, list[bytes]] = {}
        self._render()

    # -- what the benchmark reads ----------------------------------------------------------
    @property
    def deleted(self) -> int:
        return sum(1 for r in self._records if r.deleted)

    def full_list(self) -> list[bytes]:
        with self._lock:
            return list(self._lists[FULL_LIST])

    def describe(self) -> dict[str, object]:
        full = self.full_list()
        return {"records": self.size, "deleted": self.deleted, "pages": len(full),
                "bytes": sum(len(p) for p in full), "digest": pages.digest(full),
                "clock": stamp(self.clock), "changes": self.changes,
                "sets": [spec for spec, _ in self._set_names]}

    # -- change ----------------------------------------------------------------------------
    def change(self, fraction: float) -> list[str]:
        """Edit about ``fraction`` of the records: new datestamp (after the clock) and description.

        The clock moves a day first, so the edited records fall inside the harvester's next
        incremental window and nothing else does; every list is rendered again.
        """
        if not 0 < fraction <= 1:
            raise ValueError("fraction must be within (0, 1]")
        step = max(1, round(1 / fraction))
        self.changes += 1
        clock = CLOCK_START + timedelta(days=self.changes)
        chosen = [i for i in range(step // 2, self.size, step) if not is_deleted(i)]
        records = list(self._records)
        for position, index in enumerate(chosen):
            when = clock - timedelta(seconds=3600 - position % 3600)
            records[index] = build_record(index, version=self.changes, datestamp=when)
        with self._lock:
            self._records = records
            self._by_id = {r.identifier: r for r in records}
            self.clock = clock
        self._render()
        return [records[i].identifier for i in chosen]

    # -- answering ---------------------------------------------------------------------------
    def answer(self, params: Mapping[str, list[str]]) -> Answer:
        """The response to one OAI-PMH request (arguments as from ``parse_qs``)."""
        now = stamp(self.clock)
        args: dict[str, str] = {}
        try:
            for name, values in params.items():
                if len(values) != 1:
                    raise RequestError("badArgument", f"argument {name!r} is repeated")
                args[name] = values[0]
            verb = args.get("verb")
            if verb == "ListRecords":
                return Answer(self._list_records(args))
            if verb == "Identify":
                self._only(args)
                return Answer(pages.identify(now, stamp(FIRST_DATESTAMP)))
            if verb == "ListMetadataFormats":
                self._only(args, "identifier")
                return Answer(pages.list_metadata_formats(now))
            if verb == "ListSets":
                self._only(args)
                return Answer(pages.list_sets(now, self._set_names))
            if verb == "GetRecord":
                return Answer(self._get_record(args))
            raise RequestError("badVerb", f"{verb!r} is not a verb this benchmark provider answers")
        except RequestError as exc:
            return Answer(pages.error(now, exc.code, exc.message, args), exc.code)

    def page_count(self, list_id: str) -> int:
        with self._lock:
            return len(self._lists.get(list_id, ()))

    # -- internals ---------------------------------------------------------------------------
    @staticmethod
    def _only(args: Mapping[str, str], *allowed: str) -> None:
        extra = set(args) - {"verb", *allowed}
        if extra:
            raise RequestError("badArgument", f"illegal argument(s): {', '.join(sorted(extra))}")

    def _get_record(self, args: Mapping[str, str]) -> bytes:
        self._only(args, "identifier", "metadataPrefix")
        if "identifier" not in args or "metadataPrefix" not in args:
            raise RequestError("badArgument", "GetRecord needs identifier and metadataPrefix")
        if args["metadataPrefix"] != "oai_dc":
            raise RequestError("cannotDisseminateFormat", "only oai_dc is offered")
        with self._lock:
            record = self._by_id.get(args["identifier"])
        if record is None:
            raise RequestError("idDoesNotExist", f"no item {args['identifier']!r}")
        return pages.document(stamp(self.clock), args,
                              "<GetRecord>" + record.xml.decode() + "</GetRecord>\n")

    def _list_records(self, args: Mapping[str, str]) -> bytes:
        token = args.get("resumptionToken")
        if token is not None:
            self._only(args, "resumptionToken")
            list_id, _, number = token.rpartition("-")
            with self._lock:
                found = self._lists.get(list_id)
            if found is None or not number.isdigit() or not 0 < int(number) < len(found):
                raise RequestError("badResumptionToken", f"unknown or expired token {token!r}")
            return found[int(number)]
        self._only(args, "metadataPrefix", "set", "from", "until")
        if "metadataPrefix" not in args:
            raise RequestError("badArgument", "metadataPrefix is required")
        if args["metadataPrefix"] != "oai_dc":
            raise RequestError("cannotDisseminateFormat", "only oai_dc is offered")
        set_spec, from_, until = args.get("set"), args.get("from"), args.get("until")
        bounds = [self._bound(v, upper=name == "until") for name, v in (("from", from_), ("until", until))
                  if v is not None]
        if from_ is not None and until is not None and len(from_) != len(until):
            raise RequestError("badArgument", "from and until must have the same granularity")
        if len(bounds) == 2 and bounds[0] > bounds[1]:
            raise RequestError("badArgument", "from is later than until")
        list_id = set_spec or FULL_LIST
        if from_ is not None or until is not None:
            list_id = f"{list_id}~{_compact(from_ or '')}~{_compact(until or '')}"
        with self._lock:
            found = self._lists.get(list_id)
            if found is None and (from_ is not None or until is not None):
                found = self._render_list(list_id, set_spec, from_, until, dict(args))
        if not found:
            raise RequestError("noRecordsMatch", "no records match the request")
        return found[0]

    @staticmethod
    def _bound(value: str, *, upper: bool) -> str:
        """A from/until argument as a seconds datestamp; a day covers all of it (spec 3.3.1)."""
        if len(value) == 10:
            try:
                datetime.strptime(value, "%Y-%m-%d")
            except ValueError:
                raise RequestError("badArgument", f"{value!r} is not a UTCdatetime") from None
            return f"{value}T23:59:59Z" if upper else f"{value}T00:00:00Z"
        try:
            datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ")
        except ValueError:
            raise RequestError("badArgument", f"{value!r} is not a UTCdatetime") from None
        return value

    def _ordered(self) -> list[SyntheticRecord]:
        return sorted(self._records, key=lambda r: (r.datestamp, r.identifier))

    def _render(self) -> None:
        ordered = self._ordered()
        lists = {FULL_LIST: self._pages(ordered, FULL_LIST, _FIRST_REQUEST)}
        for spec, _ in self._set_names:
            members = [r for r in ordered if r.set_spec == spec]
            lists[spec] = self._pages(members, spec, {**_FIRST_REQUEST, "set": spec})
        with self._lock:
            self._ordered_cache = ordered
            self._stamps = [r.datestamp for r in ordered]
            self._lists = lists

    def _pages(self, records: list[SyntheticRecord], list_id: str,
               first_request: Mapping[str, str]) -> list[bytes]:
        if not records:
            return []
        return list(pages.list_records_pages(records, total=len(records), list_id=list_id,
                                             first_request=first_request,
                                             response_date=stamp(self.clock)))

    def _render_list(self, list_id: str, set_spec: str | None, from_: str | None,
                     until: str | None, request: dict[str, str]) -> list[bytes]:
        # Called with the lock held: datestamps are ISO text, so they sort as they compare.
        start = bisect.bisect_left(self._stamps, self._bound(from_, upper=False)) if from_ else 0
        stop = (bisect.bisect_right(self._stamps, self._bound(until, upper=True)) if until
                else len(self._stamps))
        members = [r for r in self._ordered_cache[start:stop]
                   if set_spec is None or r.set_spec == set_spec]
        request["verb"] = "ListRecords"
        found = self._pages(members, list_id, request)
        self._lists[list_id] = found
        return found
