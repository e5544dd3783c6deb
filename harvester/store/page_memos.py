"""Page memos: list pages the store already holds exactly, recognised by their fingerprint.

An unchanged re-harvest used to parse every page, hash every record and look every
identifier up, only to learn that nothing had changed.  After each committed page the store
remembers the page's fingerprint (``harvester.oai.fingerprint``) with what the page's
records counted and which rows hold them.  When the same fingerprint comes back, the page's
records are, byte for byte, the ones those rows were written from, and the page costs its
checkpoint only.

A memo speaks for the rows as they were when it was written, so it carries the source's
``raw_generation`` of that moment.  Every rewrite or tombstone of a stored row moves the
generation (:func:`rows_rewritten`), and a memo of an older generation is never used again.
New rows do not move it: a row that did not exist cannot be one a memo describes.  The
check that counts is :func:`confirm`, in the transaction that commits the page; the look-up
before it (:func:`lookup`, from the prefetch thread) only saves the parse.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, delete, select, update
from sqlalchemy.orm import Session

from harvester.store.models import PageMemo, SourceState


@dataclass(frozen=True)
class KnownPage:
    """What a memo says about a page: its counts on an unchanged re-harvest and its rows."""

    digest: str
    generation: int
    records: int
    failed: int
    max_datestamp: str | None
    raw_ids_text: str  # comma-separated; read only for the seen stamps, so not on every page

    @property
    def raw_ids(self) -> list[int]:
        return [int(part) for part in self.raw_ids_text.split(",")] if self.raw_ids_text else []


def _marks(connection: Connection) -> str:
    return "?" if connection.dialect.paramstyle == "qmark" else "%s"


# Plain SQL on the connection, as in ``store.raw._lookup``: both statements run for every
# page of a re-harvest, and building them with SQLAlchemy cost more than running them.
_LOOKUP = ("SELECT m.generation, m.records, m.failed, m.max_datestamp, m.raw_ids "
           "FROM page_memos m JOIN source_state s ON s.source = m.source "
           "WHERE m.source = {0} AND m.metadata_prefix = {0} AND m.digest = {0} "
           "AND m.generation = s.raw_generation")
_CONFIRM = ("UPDATE page_memos SET used_epoch = {0} "
            "WHERE source = {0} AND metadata_prefix = {0} AND digest = {0} AND generation = {0} "
            "AND generation = (SELECT raw_generation FROM source_state WHERE source = {0})")


def lookup(connection: Connection, source: str, metadata_prefix: str,
           digest: str) -> KnownPage | None:
    """The memo for ``digest`` if it is of the source's current generation."""
    row = connection.exec_driver_sql(_LOOKUP.format(_marks(connection)),
                                     (source, metadata_prefix, digest)).first()
    if row is None:
        return None
    generation, records, failed, max_datestamp, raw_ids = row
    return KnownPage(digest, generation, records, failed, max_datestamp, raw_ids or "")


def confirm(session: Session, source: str, metadata_prefix: str, known: KnownPage,
            epoch: int) -> bool:
    """True when ``known`` still holds in this transaction; marks it used in ``epoch``.

    One statement, so nothing can move the generation between the check and the commit
    that relies on it (a writer that did would have to hold this source's lease).
    """
    connection = session.connection()
    result = connection.exec_driver_sql(
        _CONFIRM.format(_marks(connection)),
        (epoch, source, metadata_prefix, known.digest, known.generation, source))
    return result.rowcount == 1


def remember(session: Session, source: str, metadata_prefix: str, digest: str, *,
             records: int, failed: int, max_datestamp: str | None, raw_ids: Sequence[int],
             epoch: int) -> None:
    """Record that the store now holds exactly this page, as of the current generation."""
    generation = session.execute(select(SourceState.raw_generation)
                                 .where(SourceState.source == source)).scalar()
    if generation is None:
        return  # no state row: the source was never harvested through Harvester
    values = {"generation": generation, "records": records, "failed": failed,
              "max_datestamp": max_datestamp, "raw_ids": ",".join(map(str, raw_ids)),
              "used_epoch": epoch}
    key = (source, metadata_prefix, digest)
    memo = session.get(PageMemo, key)
    if memo is None:
        session.add(PageMemo(source=source, metadata_prefix=metadata_prefix, digest=digest,
                             **values))
    else:
        for name, value in values.items():
            setattr(memo, name, value)
    session.flush()


def rows_rewritten(session: Session, source: str) -> None:
    """A stored raw record of ``source`` was rewritten or tombstoned: retire every memo."""
    session.execute(update(SourceState).where(SourceState.source == source)
                    .values(raw_generation=SourceState.raw_generation + 1))


def prune(session: Session, source: str, *, unused_before: int | None = None) -> int:
    """Drop the memos that can no longer be used: of an older generation, or (after a
    complete full harvest) not met in it, since the pages they describe are gone."""
    m = PageMemo.__table__.c
    current = (select(SourceState.raw_generation).where(SourceState.source == source)
               .scalar_subquery())
    stale = m.generation != current
    if unused_before is not None:
        stale = stale | (m.used_epoch < unused_before)
    return session.execute(delete(PageMemo.__table__)
                           .where(m.source == source, stale)).rowcount or 0
