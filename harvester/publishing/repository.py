"""A partner's spreadsheet or folder as a :class:`harvester.provider.RecordRepository`.

The input is read into a snapshot (the rows' values and datestamps, not their XML: a record
is rendered only when a harvester asks for it) and re-read whenever the file changes, so a
partner can keep editing while publishing.  A snapshot is replaced whole, so a harvest in
progress always pages over one consistent version.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from harvester.provider import (OAI_DC, SECONDS_GRANULARITY, FormatInfo, InMemoryRepository,
                                ProviderRecord, RepositoryInfo, SetInfo)
from harvester.provider.repository import Key
from mappings.dissemination import ICH_NAMESPACE, ICH_SCHEMA_FILE, ich_xml, oai_dc_xml

from .errors import InputError
from .readers import Input
from .rows import Entry, Problem, ich_record, oai_identifier, read_entry, slug
from .state import Observed, PublishState, load_state, reconcile, save_state, state_path

log = logging.getLogger(__name__)

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_READ_ATTEMPTS = 3


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _from_timestamp(value: float) -> datetime:
    return datetime.fromtimestamp(value, timezone.utc)


def media_base_for(base_url: str) -> str:
    """Media live beside the OAI endpoint: ``http://h:8080/oai`` -> ``http://h:8080/media/``."""
    root = base_url.rstrip("/")
    if root.endswith("/oai"):
        root = root[: -len("/oai")]
    return root + "/media/"


def ich_schema_url(base_url: str) -> str:
    return f"{base_url.rstrip('/')}/{ICH_SCHEMA_FILE}"


def ich_format(base_url: str) -> FormatInfo:
    return FormatInfo(prefix="ich", schema=ich_schema_url(base_url), namespace=ICH_NAMESPACE)


def offers_ich(record: Mapping[str, Any]) -> bool:
    """The ``ich`` format needs what the ICH schema requires: a title and a category."""
    return bool(record["title"]) and record["category"] is not None


@dataclass(frozen=True)
class Publication:
    """Who is publishing: the repository's name, its identifier namespace and where it is reached."""

    name: str
    namespace: str
    admin_email: str
    base_url: str

    @property
    def media_base(self) -> str:
        return media_base_for(self.base_url)

    def identifier(self, local_id: str) -> str:
        return oai_identifier(self.namespace, local_id)

    def record(self, entry: Entry, datestamp: str | None) -> dict[str, Any]:
        assert entry.local_id is not None
        return ich_record(entry, source=self.namespace, partner_name=self.name,
                          identifier=self.identifier(entry.local_id), datestamp=datestamp,
                          media_base=self.media_base)


def publication_for(input_path: Path, *, name: str | None, admin_email: str | None,
                    base_url: str) -> Publication:
    """Defaults a partner need not think about: the name from the file, a namespace from the name."""
    title = name or input_path.stem.replace("_", " ").replace("-", " ").strip() or "ICH inventory"
    namespace = slug(title) or slug(input_path.stem) or "ichlinks-partner"
    return Publication(name=title, namespace=namespace,
                       admin_email=admin_email or "admin@localhost", base_url=base_url)


def keep_namespace(publication: Publication, state: PublishState) -> Publication:
    """The identifier namespace chosen at the first publication, whatever the name is now.

    Renaming the repository must not rename every record: harvesters would see new records
    and never learn that the old identifiers are gone.
    """
    if state.namespace is None or state.namespace == publication.namespace:
        return publication
    log.warning("keeping the identifiers oai:%s:... of the first publication (the name now "
                "suggests oai:%s:...); move the state file away to start afresh",
                state.namespace, publication.namespace)
    return replace(publication, namespace=state.namespace)


class _Renditions(Mapping[str, str]):
    """A record's formats, rendered when asked for (the protocol reads one per response)."""

    def __init__(self, record: Mapping[str, Any], prefixes: tuple[str, ...], ich_schema: str) -> None:
        self._record = record
        self._prefixes = prefixes
        self._ich_schema = ich_schema

    def __getitem__(self, prefix: str) -> str:
        if prefix not in self._prefixes:
            raise KeyError(prefix)
        if prefix == "oai_dc":
            return oai_dc_xml(self._record)
        return ich_xml(self._record, schema_location=self._ich_schema)

    def __iter__(self) -> Iterator[str]:
        return iter(self._prefixes)

    def __len__(self) -> int:
        return len(self._prefixes)


@dataclass
class Snapshot:
    """One reading of the input, ready to serve."""

    records: InMemoryRepository
    media: dict[str, Path]
    problems: list[tuple[str, Problem]]
    live: int
    deleted: int


class PublishedRepository:
    """``RecordRepository`` over a spreadsheet or folder, re-read when it changes.

    ``min_interval`` spaces out the checks for changes (a stat of the file, or of every
    item file of a folder); ``write_state`` False leaves the state file alone (``--check``).
    """

    def __init__(self, source: Input, publication: Publication, *, state_file: Path | None = None,
                 clock: Callable[[], datetime] = _utc_now, min_interval: float = 1.0,
                 write_state: bool = True) -> None:
        self.input = source
        self.state_file = state_file or state_path(source.path)
        self.clock = clock
        self.min_interval = min_interval
        self.write_state = write_state
        self._lock = threading.RLock()
        self._state: PublishState = load_state(self.state_file)
        self.publication = keep_namespace(publication, self._state)
        self._state.namespace = self.publication.namespace
        self._signature: tuple[Any, ...] | None = None
        self._checked = 0.0
        self._known_until: datetime | None = None
        self._snapshot: Snapshot | None = None
        self.refresh(force=True)

    # -- loading ----------------------------------------------------------------------------
    @property
    def token_secret(self) -> bytes:
        """Kept in the state file, so resumption tokens survive a restart of the publisher."""
        return bytes.fromhex(self._state.token_key)

    @property
    def snapshot(self) -> Snapshot:
        assert self._snapshot is not None
        return self._snapshot

    def refresh(self, *, force: bool = False) -> bool:
        """Re-read the input if it changed; True when a new snapshot was made.

        A read that fails (a workbook caught half-saved) keeps the previous snapshot when
        there is one: the records must not flicker into deletions.
        """
        with self._lock:
            if not force and time.monotonic() - self._checked < self.min_interval:
                return False
            now = self.clock()
            signature = self.input.signature()
            self._checked = time.monotonic()
            if not force and signature == self._signature:
                self._known_until = now
                return False
            try:
                entries, signature = self._read_stable(signature)
            except InputError:
                if self._snapshot is None:
                    raise
                log.exception("cannot re-read %s; still serving the previous version", self.input.path)
                return False
            self._load(entries, now)
            self._signature = signature
            self._known_until = now
            return True

    def _read_stable(self, signature: tuple[Any, ...]) -> tuple[list[Entry], tuple[Any, ...]]:
        """Read until the input did not change during the read (a save in progress)."""
        for _ in range(_READ_ATTEMPTS):
            entries = [read_entry(item, media_root=self.input.media_root,
                                  media_base=self.publication.media_base)
                       for item in self.input.items() if not item.blank]
            after = self.input.signature()
            if after == signature:
                return entries, signature
            signature = after
        raise InputError(f"{self.input.path} keeps changing while being read")

    def _load(self, entries: list[Entry], now: datetime) -> None:
        problems: list[tuple[str, Problem]] = []
        kept: dict[str, Entry] = {}
        observed: dict[str, Observed] = {}
        input_mtime = _from_timestamp(self.input.mtime())
        for entry in entries:
            problems.extend((entry.where, p) for p in entry.problems)
            if entry.local_id is None:
                continue
            if entry.local_id in kept:
                problems.append((entry.where, duplicate_problem(entry.local_id,
                                                                kept[entry.local_id].where)))
                continue
            kept[entry.local_id] = entry
            mtime = _from_timestamp(entry.mtime) if entry.mtime is not None else input_mtime
            observed[entry.local_id] = Observed(entry.sha256, mtime, entry.modified)
        state, changes = reconcile(self._state, observed, now=now, input_mtime=input_mtime,
                                   known_until=self._known_until)
        if changes or self._state.checked_at is None or not self.state_file.exists():
            self._save(state)
        self._state = state
        if changes:
            log.info("%s: %d new, %d updated, %d deleted, %d restored", self.input.path,
                     len(changes.new), len(changes.updated), len(changes.deleted),
                     len(changes.restored))
        self._snapshot = self._build(kept, state, problems)

    def _build(self, kept: Mapping[str, Entry], state: PublishState,
               problems: list[tuple[str, Problem]]) -> Snapshot:
        pub = self.publication
        ich_schema = ich_schema_url(pub.base_url)
        records: list[ProviderRecord] = []
        media: dict[str, Path] = {}
        any_ich = False
        for local_id, entry in kept.items():
            stamp = state.items[local_id].datestamp
            record = pub.record(entry, stamp.strftime("%Y-%m-%dT%H:%M:%SZ"))
            prefixes: tuple[str, ...] = ("oai_dc", "ich") if offers_ich(record) else ("oai_dc",)
            any_ich = any_ich or len(prefixes) == 2
            records.append(ProviderRecord(identifier=pub.identifier(local_id), datestamp=stamp,
                                          metadata=_Renditions(record, prefixes, ich_schema)))
            for ref in entry.media:
                if ref.path is not None:
                    media[ref.path] = self.input.media_root / ref.path
        for local_id, stamp in state.deleted.items():
            records.append(ProviderRecord(identifier=pub.identifier(local_id), datestamp=stamp,
                                          deleted=True))
        info = RepositoryInfo(name=pub.name, base_url=pub.base_url,
                              admin_emails=(pub.admin_email,),
                              earliest_datestamp=state.earliest() or _EPOCH,
                              deleted_record="persistent", granularity=SECONDS_GRANULARITY)
        formats = (OAI_DC, ich_format(pub.base_url)) if any_ich else (OAI_DC,)
        return Snapshot(InMemoryRepository(info, formats, records=records), media, problems,
                        live=len(kept), deleted=len(state.deleted))

    def _save(self, state: PublishState) -> None:
        if not self.write_state:
            return
        try:
            save_state(self.state_file, state)
        except OSError as exc:
            raise InputError(f"cannot write the publishing state {self.state_file}: "
                             f"{exc.strerror or exc}") from exc

    def close(self) -> None:
        """Remember how long the current content was known current (see :mod:`.state`)."""
        with self._lock:
            if self._known_until is not None and self.write_state:
                self._state.checked_at = self._known_until
                self._save(self._state)

    # -- media ------------------------------------------------------------------------------
    def media_file(self, relative: str) -> Path | None:
        """Only files a record links to are served, never the rest of the partner's folder."""
        path = self.snapshot.media.get(relative)
        return path if path is not None and path.is_file() else None

    # -- RecordRepository -------------------------------------------------------------------
    def info(self) -> RepositoryInfo:
        return self.snapshot.records.info()

    def formats(self) -> Sequence[FormatInfo]:
        return self.snapshot.records.formats()

    def sets(self) -> Sequence[SetInfo]:
        return ()

    def page(self, *, prefix: str, set_spec: str | None, from_: datetime | None,
             until: datetime | None, after: Key | None, limit: int) -> Sequence[ProviderRecord]:
        return self.snapshot.records.page(prefix=prefix, set_spec=set_spec, from_=from_,
                                          until=until, after=after, limit=limit)

    def count(self, *, prefix: str, set_spec: str | None, from_: datetime | None,
              until: datetime | None) -> int | None:
        return self.snapshot.records.count(prefix=prefix, set_spec=set_spec, from_=from_,
                                           until=until)

    def get(self, identifier: str) -> ProviderRecord | None:
        return self.snapshot.records.get(identifier)


def duplicate_problem(local_id: str, first: str) -> Problem:
    return Problem("error", "duplicate-identifier",
                   f"identifier {local_id!r} is already used by {first}; this one is not published",
                   "identifier", local_id)
