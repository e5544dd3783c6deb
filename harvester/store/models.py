"""The tables of the record store.

Raw records are the source of truth: every later stage (ICH records, the index, the
re-exposed OAI-PMH feed) is a projection that can be rebuilt from them without a
re-harvest.  Changes to ICH records are written together with an outbox row in the same
transaction, so the index can never silently miss an update (no dual writes).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (BigInteger, Boolean, DateTime, Float, ForeignKey, Index, Integer,
                        MetaData, String, Text, UniqueConstraint, false)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only makes INTEGER PRIMARY KEY an auto-increment rowid; PostgreSQL wants BIGINT.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Repository(Base):
    """What a source's Identify said the last time we asked."""

    __tablename__ = "repositories"

    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    base_url: Mapped[str] = mapped_column(Text)
    repository_name: Mapped[str | None] = mapped_column(Text)
    protocol_version: Mapped[str | None] = mapped_column(String(16))
    granularity: Mapped[str | None] = mapped_column(String(32))
    earliest_datestamp: Mapped[str | None] = mapped_column(String(32))
    deleted_record: Mapped[str | None] = mapped_column(String(16))
    admin_emails: Mapped[str | None] = mapped_column(Text)
    identified_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RawRecord(Base):
    """One OAI record exactly as received: the ``<record>`` element text and its header."""

    __tablename__ = "raw_records"
    __table_args__ = (
        UniqueConstraint("source", "metadata_prefix", "identifier", name="uq_raw_records_key"),
        Index("ix_raw_records_source_prefix_id", "source", "metadata_prefix", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(64))
    metadata_prefix: Mapped[str] = mapped_column(String(64))
    identifier: Mapped[str] = mapped_column(Text)
    datestamp: Mapped[str | None] = mapped_column(String(40))
    sets: Mapped[str] = mapped_column(Text, default="[]")
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    sha256: Mapped[str] = mapped_column(String(64))
    xml: Mapped[str] = mapped_column(Text)
    diagnostics: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    first_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    seen_epoch: Mapped[int] = mapped_column(Integer, default=0)
    last_run_id: Mapped[int | None] = mapped_column(BigId)
    # The source's raw_generation when this row was last rewritten or tombstoned (0: never):
    # a page memo of an older generation still holds if none of its rows is newer than it.
    rewritten_generation: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class Checkpoint(Base):
    """Harvest position per (source, set, metadataPrefix) — metha's harvest identity.

    ``high_water`` is the server's responseDate at the start of the last *completed*
    window; it only moves when a window finishes, so a crash repeats at most one window.
    """

    __tablename__ = "checkpoints"

    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    set_spec: Mapped[str] = mapped_column(String(255), primary_key=True)
    metadata_prefix: Mapped[str] = mapped_column(String(64), primary_key=True)
    high_water: Mapped[str | None] = mapped_column(String(40))
    in_progress: Mapped[bool] = mapped_column(Boolean, default=False)
    mode: Mapped[str | None] = mapped_column(String(16))
    window_from: Mapped[str | None] = mapped_column(String(40))
    window_start: Mapped[str | None] = mapped_column(String(40))
    token: Mapped[str | None] = mapped_column(Text)
    cursor: Mapped[int | None] = mapped_column(BigInteger)
    complete_list_size: Mapped[int | None] = mapped_column(BigInteger)
    pages: Mapped[int] = mapped_column(Integer, default=0)
    epoch: Mapped[int] = mapped_column(Integer, default=0)
    completed_epoch: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SourceState(Base):
    """Per-source counters that span sets: the full-harvest epoch used for reconciliation."""

    __tablename__ = "source_state"

    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    full_epoch: Mapped[int] = mapped_column(Integer, default=0)
    full_in_progress: Mapped[bool] = mapped_column(Boolean, default=False)
    # The epoch in which unchanged rows were not stamped seen (see migration 0004).
    unmarked_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Moves whenever a stored raw record of the source is rewritten or tombstoned (the row
    # is stamped with the new value): a memo of this generation holds without a row check.
    raw_generation: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class PageMemo(Base):
    """A list page the store holds exactly, by fingerprint (``harvester.oai.fingerprint``).

    Valid while none of its rows was rewritten or tombstoned after ``generation`` (see
    ``harvester.store.page_memos``); new rows cannot change what a memo describes.
    """

    __tablename__ = "page_memos"

    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    metadata_prefix: Mapped[str] = mapped_column(String(64), primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    generation: Mapped[int] = mapped_column(BigInteger)
    records: Mapped[int] = mapped_column(Integer)
    failed: Mapped[int] = mapped_column(Integer)
    # Only kept for pages whose responseDate was unusable: it then dates the window.
    max_datestamp: Mapped[str | None] = mapped_column(String(40))
    raw_ids: Mapped[str] = mapped_column(Text)  # comma-separated, for the seen stamps
    used_epoch: Mapped[int] = mapped_column(Integer)


class HarvestRun(Base):
    __tablename__ = "harvest_runs"
    __table_args__ = (Index("ix_harvest_runs_source_started", "source", "started_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(64))
    mode: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    window_from: Mapped[str | None] = mapped_column(String(40))
    window_until: Mapped[str | None] = mapped_column(String(40))
    pages: Mapped[int] = mapped_column(Integer, default=0)
    records: Mapped[int] = mapped_column(Integer, default=0)
    new: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    deleted: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    refused_deletes: Mapped[int] = mapped_column(Integer, default=0)
    requests: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)


class IchRecord(Base):
    """The crosswalk's output for one raw record; quarantined ones are kept, not published."""

    __tablename__ = "ich_records"
    __table_args__ = (Index("ix_ich_records_source", "source"),
                      Index("ix_ich_records_changed", "changed_at"),
                      Index("ix_ich_records_oai_order", "changed_at", "id"))

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    raw_id: Mapped[int] = mapped_column(BigId, ForeignKey("raw_records.id", ondelete="CASCADE"),
                                        unique=True)
    source: Mapped[str] = mapped_column(String(64))
    category: Mapped[str | None] = mapped_column(String(16))
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    quarantined: Mapped[bool] = mapped_column(Boolean, default=False)
    record: Mapped[str | None] = mapped_column(Text)
    diagnostics: Mapped[str] = mapped_column(Text, default="[]")
    mapping: Mapped[str | None] = mapped_column(String(200))
    mapping_version: Mapped[str | None] = mapped_column(String(64))
    raw_sha256: Mapped[str] = mapped_column(String(64))
    output_sha256: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(BigInteger, default=0)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Maintained by database triggers (migration 0002) for the OAI-PMH re-exposure: the
    # " source:<s> category:<c> country:<CC> " memberships, kept when the record is deleted,
    # and whether the record was ever published.  Writers never set them.
    oai_sets: Mapped[str | None] = mapped_column(Text, nullable=True)
    oai_exposed: Mapped[bool] = mapped_column(Boolean, server_default=false())


class Diagnostic(Base):
    """One finding about one record, kept so a partner can be told why (ingestion3's messages)."""

    __tablename__ = "diagnostics"
    __table_args__ = (Index("ix_diagnostics_raw", "raw_id"),
                      Index("ix_diagnostics_source_code", "source", "code"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    raw_id: Mapped[int] = mapped_column(BigId, ForeignKey("raw_records.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(64))
    stage: Mapped[str] = mapped_column(String(16))
    level: Mapped[str] = mapped_column(String(16))
    field: Mapped[str | None] = mapped_column(String(64))
    code: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text)
    value: Mapped[str | None] = mapped_column(Text)


class Outbox(Base):
    """A change the index has not yet received; its id is the change's external version."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    record_id: Mapped[str] = mapped_column(String(100), index=True)
    action: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)


class IndexState(Base):
    """What the relay last did, for ``ichlinks index status``."""

    __tablename__ = "index_state"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_run_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_success_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    applied: Mapped[int] = mapped_column(BigInteger, default=0)


class Suppression(Base):
    """A record the operator withholds from publication (a community's or partner's request);
    the crosswalk quarantines it on every mapping until the suppression is lifted."""

    __tablename__ = "suppressions"

    record_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    reason: Mapped[str] = mapped_column(Text)
    suppressed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    suppressed_by: Mapped[str | None] = mapped_column(String(200))


class Lease(Base):
    """Who may harvest a source now; expires so a crashed holder frees it (scheduler issue)."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    owner: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[float] = mapped_column(Float)


class ServiceKey(Base):
    """A secret the service persists so it is the same in every process and after restarts
    (the OAI-PMH resumption-token key when ``service.token_secret`` is not configured)."""

    __tablename__ = "service_keys"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
