"""What an OAI-PMH data provider needs from whatever holds the records.

The protocol layer only ever asks for one bounded page at a time, keyed by
``(datestamp, identifier)``: keyset paging keeps a harvest stable while records
change underneath it (an updated record moves to the end instead of shifting
every later page), and it lets a stateless resumption token carry the whole
position.  Any store (the demo's bundled data, the aggregate database, a
partner's spreadsheet) only has to implement :class:`RecordRepository`.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Protocol, runtime_checkable

DAY_GRANULARITY = "YYYY-MM-DD"
SECONDS_GRANULARITY = "YYYY-MM-DDThh:mm:ssZ"
GRANULARITIES = (DAY_GRANULARITY, SECONDS_GRANULARITY)
DELETED_RECORD_POLICIES = ("no", "transient", "persistent")

Key = tuple[datetime, str]


def _require_aware(value: datetime, what: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got naive {value!r}")
    return value.astimezone(timezone.utc)


@dataclass(frozen=True)
class ProviderRecord:
    """One item as the provider exposes it; ``metadata`` holds ready XML so serving never re-serialises."""

    identifier: str
    datestamp: datetime
    sets: tuple[str, ...] = ()
    deleted: bool = False
    metadata: Mapping[str, str] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "datestamp", _require_aware(self.datestamp, "datestamp"))
        object.__setattr__(self, "sets", tuple(self.sets))
        if self.deleted and self.metadata:
            # OAI-PMH 2.0 section 2.5.1: a deleted record has a header and no metadata.
            object.__setattr__(self, "metadata", {})

    @property
    def key(self) -> Key:
        return (self.datestamp, self.identifier)

    def in_set(self, set_spec: str) -> bool:
        """Set membership is hierarchical (spec section 2.7.1): ``a:b`` is also in ``a``."""
        prefix = set_spec + ":"
        return any(s == set_spec or s.startswith(prefix) for s in self.sets)


@dataclass(frozen=True)
class RepositoryInfo:
    """The answer to Identify, minus what the protocol layer adds itself."""

    name: str
    base_url: str
    admin_emails: tuple[str, ...]
    earliest_datestamp: datetime
    deleted_record: str = "persistent"
    granularity: str = SECONDS_GRANULARITY
    descriptions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "earliest_datestamp",
                           _require_aware(self.earliest_datestamp, "earliest_datestamp"))
        object.__setattr__(self, "admin_emails", tuple(self.admin_emails))
        object.__setattr__(self, "descriptions", tuple(self.descriptions))
        if self.deleted_record not in DELETED_RECORD_POLICIES:
            raise ValueError(f"deleted_record must be one of {DELETED_RECORD_POLICIES}")
        if self.granularity not in GRANULARITIES:
            raise ValueError(f"granularity must be one of {GRANULARITIES}")
        if not self.admin_emails:
            raise ValueError("Identify requires at least one adminEmail (spec section 4.2)")


@dataclass(frozen=True)
class FormatInfo:
    prefix: str
    schema: str
    namespace: str


@dataclass(frozen=True)
class SetInfo:
    spec: str
    name: str
    description: str | None = None  # XML of the child of <setDescription>, e.g. an oai_dc:dc


OAI_DC = FormatInfo(
    prefix="oai_dc",
    schema="http://www.openarchives.org/OAI/2.0/oai_dc.xsd",
    namespace="http://www.openarchives.org/OAI/2.0/oai_dc/",
)


@runtime_checkable
class RecordRepository(Protocol):
    """The store behind a provider; every method must be safe to call from several threads."""

    def info(self) -> RepositoryInfo: ...

    def formats(self) -> Sequence[FormatInfo]: ...

    def sets(self) -> Sequence[SetInfo]: ...

    def page(self, *, prefix: str, set_spec: str | None, from_: datetime | None,
             until: datetime | None, after: Key | None, limit: int) -> Sequence[ProviderRecord]:
        """Up to ``limit`` records ordered by (datestamp, identifier), strictly after ``after``.

        ``from_`` and ``until`` are inclusive bounds.  Deleted records are included
        whatever the prefix (they have no metadata to select on).
        """
        ...

    def count(self, *, prefix: str, set_spec: str | None, from_: datetime | None,
              until: datetime | None) -> int | None:
        """Size of the complete list, or None when counting would cost too much."""
        ...

    def get(self, identifier: str) -> ProviderRecord | None: ...


class InMemoryRepository:
    """A mutable repository for tests, the demo and small published spreadsheets.

    Records are kept in a list sorted by key so a page is a bisect plus a short
    scan.  With ``deleted_record="no"`` deleting really forgets the record, as
    such a repository promises harvesters.
    """

    def __init__(self, info: RepositoryInfo, formats: Iterable[FormatInfo] = (OAI_DC,),
                 sets: Iterable[SetInfo] = (), records: Iterable[ProviderRecord] = ()) -> None:
        self._info = info
        self._formats = tuple(formats)
        self._sets: dict[str, SetInfo] = {s.spec: s for s in sets}
        self._lock = threading.RLock()
        self._by_id: dict[str, ProviderRecord] = {}
        self._keys: list[Key] = []
        for record in records:
            self.put(record)

    # -- RecordRepository -------------------------------------------------
    def info(self) -> RepositoryInfo:
        return self._info

    def formats(self) -> Sequence[FormatInfo]:
        return self._formats

    def sets(self) -> Sequence[SetInfo]:
        with self._lock:
            return tuple(self._sets.values())

    def page(self, *, prefix: str, set_spec: str | None, from_: datetime | None,
             until: datetime | None, after: Key | None, limit: int) -> Sequence[ProviderRecord]:
        found: list[ProviderRecord] = []
        if limit <= 0:
            return found
        with self._lock:
            for record in self._scan(from_, after):
                if until is not None and record.datestamp > until:
                    break
                if self._matches(record, prefix, set_spec):
                    found.append(record)
                    if len(found) >= limit:
                        break
        return found

    def count(self, *, prefix: str, set_spec: str | None, from_: datetime | None,
              until: datetime | None) -> int | None:
        total = 0
        with self._lock:
            for record in self._scan(from_, None):
                if until is not None and record.datestamp > until:
                    break
                if self._matches(record, prefix, set_spec):
                    total += 1
        return total

    def get(self, identifier: str) -> ProviderRecord | None:
        with self._lock:
            return self._by_id.get(identifier)

    # -- mutation ---------------------------------------------------------
    def put(self, record: ProviderRecord) -> None:
        """Add or replace a record (a replacement normally carries a newer datestamp)."""
        with self._lock:
            old = self._by_id.get(record.identifier)
            if old is not None:
                self._remove_key(old.key)
            if record.deleted and self._info.deleted_record == "no":
                self._by_id.pop(record.identifier, None)
                return
            self._by_id[record.identifier] = record
            bisect.insort(self._keys, record.key)

    def delete(self, identifier: str, at: datetime) -> ProviderRecord | None:
        """Replace a record by a tombstone dated ``at``; returns the tombstone (None if unknown or forgotten)."""
        with self._lock:
            old = self._by_id.get(identifier)
            if old is None:
                return None
            tombstone = replace(old, datestamp=at, deleted=True, metadata={})
            self.put(tombstone)
            return self._by_id.get(identifier)

    def purge_deleted(self) -> int:
        """Drop tombstones, as a repository with ``deleted_record="transient"`` may do."""
        with self._lock:
            gone = [r for r in self._by_id.values() if r.deleted]
            for record in gone:
                self._remove_key(record.key)
                del self._by_id[record.identifier]
            return len(gone)

    def add_set(self, info: SetInfo) -> None:
        with self._lock:
            self._sets[info.spec] = info

    def __len__(self) -> int:
        with self._lock:
            return len(self._by_id)

    def __iter__(self) -> Iterator[ProviderRecord]:
        """Records in key order (a snapshot of the keys, so concurrent puts are safe)."""
        with self._lock:
            keys = list(self._keys)
        for _, identifier in keys:
            record = self.get(identifier)
            if record is not None:
                yield record

    # -- internals --------------------------------------------------------
    def _scan(self, from_: datetime | None, after: Key | None) -> Iterator[ProviderRecord]:
        start = 0
        if after is not None:
            start = bisect.bisect_right(self._keys, after)
        if from_ is not None:
            start = max(start, bisect.bisect_left(self._keys, (from_, "")))
        for index in range(start, len(self._keys)):
            yield self._by_id[self._keys[index][1]]

    def _matches(self, record: ProviderRecord, prefix: str, set_spec: str | None) -> bool:
        if set_spec is not None and not record.in_set(set_spec):
            return False
        return record.deleted or prefix in record.metadata

    def _remove_key(self, key: Key) -> None:
        index = bisect.bisect_left(self._keys, key)
        if index < len(self._keys) and self._keys[index] == key:
            del self._keys[index]
