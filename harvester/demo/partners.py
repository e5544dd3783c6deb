"""The demo's partner repositories, read from ``data/*.yaml``.

Each file is one partner institution: how its repository behaves (granularity, deleted
record policy, page size, sets, the format it serves) and its records, described once in
format-neutral terms (see ``metadata_formats``).  The same file gives the ``sources:``
block the demo writes into its generated configuration, so data and configuration cannot
drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from importlib import resources
from typing import Any

import yaml

from harvester.provider import (DAY_GRANULARITY, OAI_DC, SECONDS_GRANULARITY, InMemoryRepository,
                                ProviderRecord, RepositoryInfo, SetInfo)

from .metadata_formats import FORMATS

_GRANULARITIES = {"day": DAY_GRANULARITY, "seconds": SECONDS_GRANULARITY}


def _utc(value: Any) -> datetime:
    """YAML gives dates, datetimes or strings; the provider wants aware UTC datetimes."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=value.tzinfo or timezone.utc).astimezone(timezone.utc)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=timezone.utc)
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return _utc(parsed)


@dataclass(frozen=True)
class DemoPartner:
    """One partner as the demo data file describes it."""

    source: str
    partner_name: str
    country: str
    repository_name: str
    admin_email: str
    base_domain: str
    granularity: str
    deleted_record: str
    page_size: int
    metadata_prefix: str
    mapping: str
    defaults: Mapping[str, Any]
    rules: Mapping[str, Any]
    quirks: Mapping[str, Any]
    sets: tuple[SetInfo, ...]
    records: tuple[Mapping[str, Any], ...]

    def identifier(self, record: Mapping[str, Any]) -> str:
        return f"oai:{self.base_domain}:{record['id']}"

    def provider_records(self) -> list[ProviderRecord]:
        """Every record in the partner's native format and in ``oai_dc`` (spec section 3.4)."""
        native = FORMATS[self.metadata_prefix][1]
        dublin_core = FORMATS["oai_dc"][1]
        out = []
        for record in self.records:
            deleted = bool(record.get("deleted"))
            metadata = {} if deleted else {self.metadata_prefix: native(record, self.quirks),
                                           "oai_dc": dublin_core(record, self.quirks)}
            out.append(ProviderRecord(identifier=self.identifier(record),
                                      datestamp=_utc(record["datestamp"]),
                                      sets=tuple(record.get("sets", ())), deleted=deleted,
                                      metadata=metadata))
        return out

    def repository(self) -> InMemoryRepository:
        records = self.provider_records()
        info = RepositoryInfo(
            name=self.repository_name, base_url=f"https://{self.base_domain}/oai",
            admin_emails=(self.admin_email,),
            earliest_datestamp=min(r.datestamp for r in records),
            deleted_record=self.deleted_record, granularity=self.granularity)
        formats = [FORMATS[self.metadata_prefix][0]]
        if self.metadata_prefix != OAI_DC.prefix:
            formats.append(OAI_DC)
        return InMemoryRepository(info, formats=formats, sets=self.sets, records=records)

    def expected_counts(self) -> dict[str, int]:
        """What a complete harvest must store: a ``deleted_record="no"`` repository forgets
        its deletions, the others list them as tombstones; a live record without a title
        cannot be published and is quarantined."""
        deleted = sum(1 for r in self.records if r.get("deleted"))
        untitled = sum(1 for r in self.records if not r.get("deleted") and not r.get("title"))
        return {"live": len(self.records) - deleted,
                "deleted": 0 if self.deleted_record == "no" else deleted,
                "quarantined": untitled}

    def source_config(self, url: str) -> dict[str, Any]:
        """This partner's entry under ``sources:`` in the generated configuration."""
        config: dict[str, Any] = {
            "url": url, "metadata_prefix": self.metadata_prefix, "sets": [],
            "partner": {"name": self.partner_name, "country": self.country},
            "mapping": self.mapping, "schedule": {"interval": "1d"},
            "politeness": {"delay_s": 0, "max_connections": 2},
            "timeout_s": 30, "retries": 2, "max_backoff_s": 5,
        }
        if self.defaults:
            config["defaults"] = dict(self.defaults)
        if self.rules:
            config["rules"] = {k: dict(v) for k, v in self.rules.items()}
        return config


def _partner(data: Mapping[str, Any], origin: str) -> DemoPartner:
    try:
        repo = data["repository"]
        prefix = data["metadata_prefix"]
        if prefix not in FORMATS:
            raise ValueError(f"metadata_prefix {prefix!r} has no renderer ({', '.join(FORMATS)})")
        records = tuple(data["records"])
        ids = [r["id"] for r in records]
        if len(ids) != len(set(ids)):
            raise ValueError("record ids repeat")
        return DemoPartner(
            source=data["source"], partner_name=data["partner"]["name"],
            country=data["partner"]["country"], repository_name=repo["name"],
            admin_email=repo["admin_email"], base_domain=repo["domain"],
            granularity=_GRANULARITIES[repo["granularity"]],
            deleted_record=repo["deleted_record"], page_size=int(repo["page_size"]),
            metadata_prefix=prefix, mapping=data["mapping"],
            defaults=data.get("defaults") or {}, rules=data.get("rules") or {},
            quirks=data.get("quirks") or {},
            sets=tuple(SetInfo(s["spec"], s["name"]) for s in data.get("sets") or ()),
            records=records)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"demo data {origin}: {exc!r}") from exc


def load_partners(names: Sequence[str] = ()) -> list[DemoPartner]:
    """The bundled demo partners (all of them, or those whose source name is given), by name."""
    folder = resources.files(__package__).joinpath("data")
    partners = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yaml") or entry.name.startswith("_"):
            continue
        data = yaml.safe_load(entry.read_text(encoding="utf-8"))
        if isinstance(data, dict) and "records" in data:
            partners.append(_partner(data, entry.name))
    if names:
        wanted = set(names)
        partners = [p for p in partners if p.source in wanted]
    return partners
