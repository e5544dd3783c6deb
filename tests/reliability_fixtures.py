"""Shared helpers of the test_reliability_* files: drive a harvest, snapshot the store.

Imported directly (not a plugin): the reliability tests assert *exact* outcomes, so
what "exactly the provider's records" means is written down once, here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from harvester.config import HarvestConfig, Partner, SourceConfig
from harvester.harvest import Harvester, HarvestResult
from harvester.provider import ProviderRecord
from harvester.store.models import Checkpoint, RawRecord

UTC = timezone.utc
SOURCE = "rel-src"


def source_for(server: Any, **kw: Any) -> SourceConfig:
    """A source on a test provider with fast retries (waits are recorded, not slept)."""
    base = SourceConfig(name=kw.pop("name", SOURCE), url=server.base_url,
                        partner=Partner(name="Reliability test partner", country="KZ"),
                        retries=kw.pop("retries", 4), max_backoff_s=kw.pop("max_backoff_s", 30.0),
                        timeout_s=kw.pop("timeout_s", 5.0))
    return replace(base, **kw)


def harvest(engine: Engine, src: SourceConfig, waits: list[float] | None = None, *,
            max_empty_pages: int = 20, **kw: Any) -> HarvestResult:
    """One ``Harvester.harvest`` whose retry waits go into ``waits`` instead of sleeping."""
    recorded = waits if waits is not None else []
    harvester = Harvester(engine, settings=HarvestConfig(max_empty_pages=max_empty_pages),
                          sleep=recorded.append)
    try:
        return harvester.harvest(src, **kw)
    finally:
        harvester.pools.close()


@dataclass(frozen=True)
class StoredRow:
    """A raw-record row, detached from its session, with everything a test compares."""

    id: int
    identifier: str
    datestamp: str | None
    deleted: bool
    sha256: str
    xml: str
    error: str | None
    diagnostics: str | None
    updated_at: Any
    seen_epoch: int


def stored(engine: Engine, source: str = SOURCE) -> dict[str, StoredRow]:
    with Session(engine) as s:
        rows = s.scalars(select(RawRecord).where(RawRecord.source == source)).all()
        return {r.identifier: StoredRow(r.id, r.identifier, r.datestamp, r.deleted, r.sha256, r.xml,
                                        r.error, r.diagnostics, r.updated_at, r.seen_epoch)
                for r in rows}


def all_raw_count(engine: Engine) -> int:
    with Session(engine) as s:
        return len(s.scalars(select(RawRecord.id)).all())


def checkpoint(engine: Engine, set_spec: str | None = None, source: str = SOURCE,
               prefix: str = "oai_dc") -> Checkpoint | None:
    with Session(engine) as s:
        return s.get(Checkpoint, (source, set_spec or "", prefix))


def assert_exact(engine: Engine, records: Iterable[ProviderRecord], source: str = SOURCE) -> None:
    """The store holds exactly these records: no more, no fewer, no errors, the same deletions,
    and each live record's metadata byte-for-byte as the provider serves it."""
    expected = {r.identifier: r for r in records}
    got = stored(engine, source)
    assert set(got) == set(expected), (f"missing {sorted(set(expected) - set(got))[:5]}, "
                                       f"strays {sorted(set(got) - set(expected))[:5]}")
    assert all_raw_count(engine) == len(expected), "rows of another source or duplicates"
    for identifier, record in expected.items():
        row = got[identifier]
        assert row.error is None, (identifier, row.error)
        assert row.deleted == record.deleted, identifier
        if not record.deleted:
            assert record.metadata["oai_dc"] in row.xml, identifier
        assert f"<identifier>{identifier}</identifier>" in row.xml


def list_requests(server: Any) -> list[dict[str, str]]:
    return [r.params for r in server.requests if r.params.get("verb") == "ListRecords"]


class ProviderClock:
    """A provider's own clock, set apart from ours and moved only when a test says so."""

    def __init__(self, offset: timedelta) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0) + offset

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


def changed(record: ProviderRecord, at: datetime, note: str) -> ProviderRecord:
    """A new version of ``record`` dated ``at`` whose metadata carries ``note``."""
    xml = record.metadata["oai_dc"].replace("</oai_dc:dc>", f"<dc:subject>{note}</dc:subject></oai_dc:dc>")
    return replace(record, datestamp=at, metadata={"oai_dc": xml})


_DATESTAMP = re.compile(rb"<datestamp>([^<]*)</datestamp>")


def rewrite_datestamps(convert: Callable[[bytes], bytes]) -> Callable[[bytes], bytes]:
    """A body transform for ``inject``: every record datestamp through ``convert``."""
    def transform(body: bytes) -> bytes:
        return _DATESTAMP.sub(lambda m: b"<datestamp>" + convert(m.group(1)) + b"</datestamp>", body)
    transform.__name__ = f"rewrite_datestamps({getattr(convert, '__name__', 'convert')})"
    return transform


def as_seconds(stamp: bytes) -> bytes:
    """A day datestamp written with a time, as some day-granularity servers do."""
    return stamp + b"T12:34:56Z" if len(stamp) == 10 else stamp


def as_day(stamp: bytes) -> bytes:
    """A seconds datestamp cut to its day, as some seconds-granularity servers do."""
    return stamp[:10]


def page_of(records: Sequence[str], *, prolog: str = '<?xml version="1.0" encoding="UTF-8"?>\n',
            response_date: str = "2024-06-01T00:00:00Z", base_url: str = "http://x/oai") -> str:
    """A complete one-page ListRecords response around raw ``<record>`` texts."""
    return (f'{prolog}<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
            f"<responseDate>{response_date}</responseDate>"
            f'<request verb="ListRecords" metadataPrefix="oai_dc">{base_url}</request>'
            f"<ListRecords>{''.join(records)}</ListRecords></OAI-PMH>\n")


def dc_record(identifier: str, title: str, *, datestamp: str = "2024-05-01T00:00:00Z") -> str:
    """One oai_dc ``<record>``; ``title`` goes in as raw XML (entities, markup, anything)."""
    return (f"<record><header><identifier>{identifier}</identifier><datestamp>{datestamp}"
            f"</datestamp></header><metadata>"
            '<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/">'
            f"<dc:title>{title}</dc:title></oai_dc:dc></metadata></record>")
