"""The aggregate's ICH records as an OAI-PMH repository (``RecordRepository`` over ich_records).

Published records (not deleted, not quarantined) are exposed with their datestamp =
``changed_at``, the time the aggregate's own copy last changed.  A record that was once
published and is now deleted or quarantined is a deleted record (deletedRecord
persistent, spec 2.5.1); one that never was published is not exposed at all.  Set
memberships (``source:``, ``category:``, ``country:``) and the ever-published flag are
kept by the database itself (migration 0002), so a deletion still reaches harvesters
that select by set.  Every page is one keyset query on (changed_at, id): memory stays
flat however large the aggregate.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Engine, and_, func, or_, select
from sqlalchemy.orm import Session

from harvester.config import ServiceConfig, Settings
from harvester.provider import (OAI_DC, SECONDS_GRANULARITY, FormatInfo, ProviderRecord,
                                RepositoryInfo, SetInfo)
from harvester.store.models import IchRecord
from harvester.service.labels import country_name
from mappings.dissemination import ICH_NAMESPACE, ICH_SCHEMA_FILE, ich_xml, oai_dc_xml

DEFAULT_REPOSITORY_IDENTIFIER = "ichlinks.example"
SET_KINDS = ("source", "category", "country")
_DOMAIN = re.compile(r"[a-zA-Z][a-zA-Z0-9-]*(\.[a-zA-Z][a-zA-Z0-9-]*)+")
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_CATEGORY_NAMES = {"element": "ICH elements", "resource": "Resources", "stakeholder": "Stakeholders",
                   "event": "News and events"}
_SCAN_BATCH = 1000
# What a membership must look like to become a setSpec (spec 2.7.1 syntax, and the
# vocabularies of the record schema): a quarantined record's odd category stays out.
_SET_VALUE = {"source": re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}"),
              "category": re.compile(r"element|resource|stakeholder|event"),
              "country": re.compile(r"[A-Z]{2}")}


def set_specs(memberships: str | None) -> tuple[str, ...]:
    """The well-formed setSpecs in a stored membership string, in order."""
    out = []
    for token in (memberships or "").split():
        kind, _, value = token.partition(":")
        pattern = _SET_VALUE.get(kind)
        if pattern is not None and pattern.fullmatch(value):
            out.append(token)
    return tuple(dict.fromkeys(out))


def oai_base_url(service: ServiceConfig) -> str | None:
    """The configured public ``/oai`` URL: ``service.base_url`` is the service's root URL."""
    if not service.base_url:
        return None
    base = service.base_url.rstrip("/")
    return base if base.endswith("/oai") else base + "/oai"


def repository_identifier(service: ServiceConfig) -> str:
    """The oai-identifier namespace: the host of ``service.base_url`` when it is a domain name.

    It is part of every record identifier, so it must not follow the request's Host header.
    """
    host = urlsplit(service.base_url).hostname if service.base_url else None
    return host if host and _DOMAIN.fullmatch(host) else DEFAULT_REPOSITORY_IDENTIFIER


def _utc(value: datetime) -> datetime:
    # SQLite hands timestamps back naive; they were written in UTC.
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def _bind(value: datetime) -> datetime:
    return value.astimezone(timezone.utc)


class _Disseminations(Mapping[str, str]):
    """A record's metadata formats, serialised only when the protocol asks for one."""

    def __init__(self, record: Mapping[str, Any], ich_schema: str) -> None:
        self._record = record
        self._ich_schema = ich_schema
        self._cache: dict[str, str] = {}

    def __getitem__(self, prefix: str) -> str:
        if prefix not in self._cache:
            if prefix == "oai_dc":
                self._cache[prefix] = oai_dc_xml(self._record)
            elif prefix == "ich":
                self._cache[prefix] = ich_xml(self._record, schema_location=self._ich_schema)
            else:
                raise KeyError(prefix)
        return self._cache[prefix]

    def __iter__(self) -> Iterator[str]:
        return iter(("oai_dc", "ich"))

    def __len__(self) -> int:
        return 2


class StoreRepository:
    """``harvester.provider.RecordRepository`` over the store's ``ich_records``."""

    def __init__(self, engine: Engine, settings: Settings, *, base_url: str | None = None,
                 visible_until: datetime | None = None) -> None:
        """``base_url``: the ``/oai`` URL as seen by this request, when none is configured.

        ``visible_until`` hides list entries changed after it: a crosswalk batch stamps its
        rows before it commits, so rows stamped just before a harvest's responseDate may
        become visible only after it; lists answer as of a moment safely in the past and
        the responseDate says so (see ``oai_endpoint.VISIBILITY_LAG``).
        """
        self.visible_until = visible_until
        self.engine = engine
        self.settings = settings
        self.namespace = repository_identifier(settings.service)
        self.base_url = oai_base_url(settings.service) or base_url or "http://localhost:8000/oai"
        self._prefix = f"oai:{self.namespace}:"

    # -- identifiers -----------------------------------------------------------------------
    def oai_identifier(self, record_id: str) -> str:
        return self._prefix + record_id

    def record_id(self, identifier: str) -> str | None:
        return identifier[len(self._prefix):] if identifier.startswith(self._prefix) else None

    # -- RecordRepository ------------------------------------------------------------------
    def info(self) -> RepositoryInfo:
        with Session(self.engine) as s:
            earliest = s.scalar(select(func.min(IchRecord.changed_at))
                                .where(IchRecord.oai_exposed.is_(True)))
        sample = self.oai_identifier("vn-vicas:0123456789abcdef0123")
        description = (
            '<oai-identifier xmlns="http://www.openarchives.org/OAI/2.0/oai-identifier" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            'xsi:schemaLocation="http://www.openarchives.org/OAI/2.0/oai-identifier '
            'http://www.openarchives.org/OAI/2.0/oai-identifier.xsd">'
            f"<scheme>oai</scheme><repositoryIdentifier>{self.namespace}</repositoryIdentifier>"
            f"<delimiter>:</delimiter><sampleIdentifier>{sample}</sampleIdentifier>"
            "</oai-identifier>")
        service = self.settings.service
        return RepositoryInfo(name=service.repository_name, base_url=self.base_url,
                              admin_emails=(service.admin_email,),
                              earliest_datestamp=_utc(earliest) if earliest else _EPOCH,
                              deleted_record="persistent", granularity=SECONDS_GRANULARITY,
                              descriptions=(description,))

    def formats(self) -> Sequence[FormatInfo]:
        return (OAI_DC, FormatInfo(prefix="ich", schema=self.ich_schema_url(self.base_url),
                                   namespace=ICH_NAMESPACE))

    @staticmethod
    def ich_schema_url(oai_url: str) -> str:
        return f"{oai_url.rstrip('/')}/{ICH_SCHEMA_FILE}"

    def sets(self) -> Sequence[SetInfo]:
        """Every set that has at least one exposed record, and the three top-level sets."""
        found: set[str] = set()
        with Session(self.engine) as s:
            # Distinct membership strings, not rows: the database does the scan and hands
            # over only the few combinations of source, category and countries.
            combos = s.execute(select(IchRecord.oai_sets).where(IchRecord.oai_exposed.is_(True))
                               .distinct().execution_options(yield_per=_SCAN_BATCH)).scalars()
            for memberships in combos:
                found.update(set_specs(memberships))
        if not found:
            return ()
        out = [SetInfo(kind, f"By {kind}") for kind in SET_KINDS]
        for spec in sorted(found):
            kind, _, value = spec.partition(":")
            out.append(SetInfo(spec, self._set_name(kind, value)))
        return out

    def _set_name(self, kind: str, value: str) -> str:
        if kind == "source":
            source = self.settings.sources.get(value)
            partner = source.partner.name if source is not None else ""
            return f"{partner} ({value})" if partner else value
        if kind == "category":
            return _CATEGORY_NAMES.get(value, value)
        return country_name(value)

    def page(self, *, prefix: str, set_spec: str | None, from_: datetime | None,
             until: datetime | None, after: tuple[datetime, str] | None,
             limit: int) -> Sequence[ProviderRecord]:
        if limit <= 0:
            return []
        stmt = self._select(set_spec, from_, self._cap(until))
        if after is not None:
            stamp = _bind(after[0])
            after_id = self.record_id(after[1])
            after_id = after[1] if after_id is None else after_id
            stmt = stmt.where(or_(IchRecord.changed_at > stamp,
                                  and_(IchRecord.changed_at == stamp, IchRecord.id > after_id)))
        stmt = stmt.order_by(IchRecord.changed_at, IchRecord.id).limit(limit)
        with Session(self.engine) as s:
            return [self._provider_record(row) for row in s.execute(stmt)]

    def count(self, *, prefix: str, set_spec: str | None, from_: datetime | None,
              until: datetime | None) -> int | None:
        stmt = self._select(set_spec, from_, self._cap(until)).with_only_columns(func.count())
        with Session(self.engine) as s:
            return int(s.scalar(stmt) or 0)

    def get(self, identifier: str) -> ProviderRecord | None:
        record_id = self.record_id(identifier)
        if record_id is None:
            return None
        stmt = self._select(None, None, None).where(IchRecord.id == record_id)
        with Session(self.engine) as s:
            row = s.execute(stmt).first()
        return self._provider_record(row) if row is not None else None

    # -- internals -------------------------------------------------------------------------
    def _cap(self, until: datetime | None) -> datetime | None:
        if self.visible_until is None:
            return until
        return self.visible_until if until is None else min(until, self.visible_until)

    def _select(self, set_spec: str | None, from_: datetime | None, until: datetime | None):  # type: ignore[no-untyped-def]
        stmt = (select(IchRecord.id, IchRecord.changed_at, IchRecord.deleted, IchRecord.quarantined,
                       IchRecord.record, IchRecord.oai_sets)
                .where(IchRecord.oai_exposed.is_(True)))
        if from_ is not None:
            stmt = stmt.where(IchRecord.changed_at >= _bind(from_))
        if until is not None:
            stmt = stmt.where(IchRecord.changed_at <= _bind(until))
        if set_spec is not None:
            stmt = stmt.where(self._membership(set_spec))
        return stmt

    @staticmethod
    def _membership(set_spec: str):  # type: ignore[no-untyped-def]
        kind, colon, value = set_spec.partition(":")
        if kind not in SET_KINDS or (colon and (not value or ":" in value)):
            return IchRecord.id.is_(None)  # no such set: nothing matches (never true for a key)
        if kind == "source":
            return IchRecord.source == value if colon else IchRecord.id.is_not(None)
        # Hierarchy (spec 2.7.1): "country" holds every "country:XX".
        needle = f" {set_spec} " if colon else f" {kind}:"
        return IchRecord.oai_sets.contains(needle, autoescape=True)

    def _provider_record(self, row: Any) -> ProviderRecord:
        record_id, changed_at, deleted, quarantined, record_json, memberships = row
        published = not deleted and not quarantined and record_json is not None
        metadata: Mapping[str, str] = {}
        if published:
            metadata = _Disseminations(json.loads(record_json), self.ich_schema_url(self.base_url))
        return ProviderRecord(identifier=self.oai_identifier(record_id), datestamp=_utc(changed_at),
                              sets=set_specs(memberships), deleted=not published,
                              metadata=metadata)

