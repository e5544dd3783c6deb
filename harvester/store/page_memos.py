"""Page memos: list pages the store already holds exactly, recognised by their fingerprint.

An unchanged re-harvest used to parse every page, hash every record and look every
identifier up, only to learn that nothing had changed.  After each committed page of a
whole list (no ``from``) the store remembers the page's fingerprint
(``harvester.oai.fingerprint``) with what the page's records counted and which rows hold
them.  When the same fingerprint comes back, the page's records are, byte for byte, the
ones those rows were written from, and the page costs its checkpoint only.

A memo speaks for its rows as they were when it was written, so it carries the source's
``raw_generation`` of that moment.  Every rewrite or tombstone of stored rows moves the
generation (:func:`next_generation`), and the statement that rewrites the rows stamps them
with it.  A memo of the current generation holds at once; an older one holds when every
one of its rows still exists and none is stamped after it, and is then renewed to the
current generation.  So a changed record retires the memos that hold its row and no
other: the pages after it in a full harvest, and the memos of the last full harvest after
a night of incremental ones, are still recognised.  New rows do not move the generation: a
row that did not exist cannot be one a memo describes.  The check that counts is
:func:`confirm`, in the transaction that commits the page; the look-up before it
(:func:`lookup`, from the prefetch thread) only saves the parse, and an earlier page of the
same harvest may rewrite a row between the two.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, delete, select, update
from sqlalchemy.orm import Session

from harvester.store.models import PageMemo, SourceState

_CHUNK = 500


@dataclass(frozen=True)
class KnownPage:
    """What a memo says about a page: its counts on an unchanged re-harvest and its rows."""

    digest: str
    generation: int
    records: int
    failed: int
    max_datestamp: str | None
    raw_ids_text: str  # comma-separated; read only for seen stamps and row checks

    @property
    def raw_ids(self) -> list[int]:
        return [int(part) for part in self.raw_ids_text.split(",")] if self.raw_ids_text else []


def placeholder(connection: Connection) -> str:
    """The DB-API parameter mark of plain SQL on ``connection`` (SQLite ``?``, psycopg ``%s``)."""
    return "?" if connection.dialect.paramstyle == "qmark" else "%s"


# Plain SQL on the connection, as in ``store.raw._lookup``: both statements run for every
# page of a re-harvest, and building them with SQLAlchemy cost more than running them.
_LOOKUP = ("SELECT m.generation, m.records, m.failed, m.max_datestamp, m.raw_ids, s.raw_generation "
           "FROM page_memos m JOIN source_state s ON s.source = m.source "
           "WHERE m.source = {0} AND m.metadata_prefix = {0} AND m.digest = {0}")
_CONFIRM = ("UPDATE page_memos SET used_epoch = {0} "
            "WHERE source = {0} AND metadata_prefix = {0} AND digest = {0} AND generation = {0} "
            "AND generation = (SELECT raw_generation FROM source_state WHERE source = {0})")
_RENEW = ("UPDATE page_memos SET used_epoch = {0}, generation = COALESCE("
          "(SELECT raw_generation FROM source_state WHERE source = {0}), generation) "
          "WHERE source = {0} AND metadata_prefix = {0} AND digest = {0} AND generation = {0}")
_ROWS_HELD = "SELECT count(*) FROM raw_records WHERE rewritten_generation <= {0} AND id IN ({1})"


def lookup(connection: Connection, source: str, metadata_prefix: str,
           digest: str) -> KnownPage | None:
    """The memo for ``digest`` if it holds now: of the current generation, or its rows unchanged."""
    row = connection.exec_driver_sql(_LOOKUP.format(placeholder(connection)),
                                     (source, metadata_prefix, digest)).first()
    if row is None:
        return None
    generation, records, failed, max_datestamp, raw_ids, current = row
    known = KnownPage(digest, generation, records, failed, max_datestamp, raw_ids or "")
    if generation != current and not rows_unchanged(connection, known):
        return None
    return known


def rows_unchanged(connection: Connection, known: KnownPage) -> bool:
    """Every row of the memo still exists and none was rewritten or tombstoned after it."""
    ids = known.raw_ids
    if not ids:
        return False
    mark = placeholder(connection)
    held = 0
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        held += connection.exec_driver_sql(
            _ROWS_HELD.format(mark, ", ".join([mark] * len(chunk))),
            (known.generation, *chunk)).scalar() or 0
    return held == len(ids)


def confirm(session: Session, source: str, metadata_prefix: str, known: KnownPage,
            epoch: int) -> bool:
    """True when ``known`` still holds in this transaction; marks it used in ``epoch``.

    A memo of the current generation is confirmed by one statement.  An older one is
    checked row by row and renewed to the current generation, so the next harvest takes
    the one-statement path.  Nothing can rewrite the rows between the check and the commit
    that relies on it: a writer would have to hold this source's lease.
    """
    connection = session.connection()
    marks = placeholder(connection)
    result = connection.exec_driver_sql(
        _CONFIRM.format(marks),
        (epoch, source, metadata_prefix, known.digest, known.generation, source))
    if result.rowcount == 1:
        return True
    if not rows_unchanged(connection, known):
        return False
    result = connection.exec_driver_sql(
        _RENEW.format(marks), (epoch, source, source, metadata_prefix, known.digest, known.generation))
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


def next_generation(session: Session, source: str) -> int:
    """Stored raw records of ``source`` are about to be rewritten or tombstoned: the next
    generation, which the caller writes into those rows (``rewritten_generation``) in the
    same statement that rewrites them, so exactly the memos holding them are retired.
    0 when the source has no state row (a store written without Harvester: no memos)."""
    return session.execute(update(SourceState).where(SourceState.source == source)
                           .values(raw_generation=SourceState.raw_generation + 1)
                           .returning(SourceState.raw_generation)).scalar() or 0


def prune(session: Session, source: str, *, unused_before: int) -> int:
    """After a complete full list: drop the memos it did not meet, since the pages they
    describe are gone.  A page it met whose memo no longer held was remembered again under
    the same fingerprint, so what is left holds."""
    m = PageMemo.__table__.c
    return session.execute(delete(PageMemo.__table__)
                           .where(m.source == source, m.used_epoch < unused_before)).rowcount or 0
