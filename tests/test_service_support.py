"""Shared pieces of the service tests: a small aggregate written like the crosswalk writes it,
a real embedded index, the app's TestClient, and a live uvicorn server on 127.0.0.1.

Records are written into a fresh store (SQLite and PostgreSQL, via the ``store`` fixture)
the way ``harvester.crosswalking`` writes them — a new version and ``changed_at`` on every
change, the JSON dropped on deletion — so the database triggers of migration 0002 see the
same statements as in production.  The tests at the end check this module's own promises.
"""

from __future__ import annotations

import hashlib
import json
import socket
import threading
import time
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session
from starlette.exceptions import StarletteDeprecationWarning

with warnings.catch_warnings():
    # Starlette 1.x would rather run its TestClient on httpx2; the project ships httpx, which
    # still works and is what the service's users have.  Only this import warns.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

from harvester.config import (Partner, SearchConfig, ServiceConfig, Settings, SourceConfig)
from harvester.store.models import IchRecord, Outbox, RawRecord
from indexer import IndexOp, SearchSettings, open_backend
from mappings import record_id

UTC = timezone.utc
SOURCES = {
    "kr-ichcap": SourceConfig(name="kr-ichcap", url="http://127.0.0.1:9/oai",
                              partner=Partner(name="ICHCAP", country="KR")),
    "vn-vicas": SourceConfig(name="vn-vicas", url="http://127.0.0.1:9/oai",
                             partner=Partner(name="VICAS Hà Nội", country="VN")),
}


def ich_record(source: str, key: str, titles: Sequence[tuple[str, str | None]], *,
               description: Sequence[tuple[str, str | None]] = (), category: str = "element",
               countries: Sequence[str] = (), domains: Sequence[str] = (),
               languages: Sequence[str] = (), years: tuple[int, int] | None = None,
               landing_page: str | None = None, identifiers: Sequence[str] = (),
               **extra: Any) -> dict[str, Any]:
    """A schema-valid ICH record whose id is derived exactly as the crosswalk derives it."""
    identifier = f"oai:{source}.test:{key}"
    record: dict[str, Any] = {
        "schema_version": "1.0",
        "id": record_id(source, identifier),
        "source": source,
        "partner": {"name": SOURCES[source].partner.name if source in SOURCES else source,
                    "country": countries[0] if countries else None},
        "oai": {"identifier": identifier, "datestamp": "2024-05-01T00:00:00Z", "sets": [],
                "metadata_prefix": "oai_dc"},
        "category": category,
        "title": [{"value": v, "lang": lang} for v, lang in titles],
        "provenance": {"harvested_at": "2024-05-02T00:00:00Z", "mapping": "oai_dc",
                       "mapping_version": "1",
                       "raw_sha256": hashlib.sha256(key.encode()).hexdigest()},
    }
    if description:
        record["description"] = [{"value": v, "lang": lang} for v, lang in description]
    if countries:
        record["countries"] = list(countries)
    if domains:
        record["ich_domains"] = list(domains)
    if languages:
        record["languages"] = list(languages)
    if years:
        record["dates"] = [{"type": "created", "value": f"{years[0]}/{years[1]}",
                            "edtf": f"{years[0]}/{years[1]}", "start_year": years[0],
                            "end_year": years[1]}]
    if landing_page:
        record["links"] = {"landing_page": landing_page}
    if identifiers:
        record["identifiers"] = list(identifiers)
    record.update(extra)
    return record


def corpus() -> list[dict[str, Any]]:
    """Real ICH elements of several partners, titles in their own languages and English."""
    return [
        ich_record("kr-ichcap", "pansori", [("판소리", "ko"), ("Pansori epic chant", "en")],
                   description=[("판소리는 한 명의 소리꾼과 고수가 음악적 이야기를 엮어가는 공연이다", "ko"),
                                ("Pansori is a genre of musical storytelling", "en")],
                   countries=["KR"], domains=["performing_arts"], languages=["ko"],
                   years=(2003, 2003), landing_page="https://ichcap.example/pansori",
                   identifiers=["https://ichcap.example/pansori", "urn:ich:kr:0001"]),
        ich_record("kr-ichcap", "ganggangsullae", [("강강술래", "ko"), ("Ganggangsullae", "en")],
                   description=[("강강술래는 한국 남서부 지방의 풍작 기원 의식이다", "ko")],
                   countries=["KR"], domains=["performing_arts", "social_practices"],
                   languages=["ko"], years=(2009, 2009)),
        ich_record("kr-ichcap", "ichcap-centre", [("ICHCAP information centre", "en")],
                   category="stakeholder", countries=["KR"],
                   description=[("A UNESCO category 2 centre <for> ICH & networks", "en")]),
        ich_record("vn-vicas", "nha-nhac", [("Nhã nhạc cung đình Huế", "vi"),
                                            ("Nha Nhac, Vietnamese court music", "en")],
                   description=[("Nhã nhạc là âm nhạc cung đình thời Nguyễn", "vi")],
                   countries=["VN"], domains=["performing_arts"], languages=["vi"],
                   years=(2003, 2003), landing_page="https://vicas.example/nha-nhac"),
        ich_record("vn-vicas", "ca-tru", [("Ca trù", "vi")], category="resource",
                   description=[("Ca trù là một loại hình nghệ thuật trình diễn", "vi")],
                   countries=["VN"], domains=["performing_arts"], languages=["vi"],
                   years=(1400, 1500)),
        ich_record("vn-vicas", "xoan-festival", [("Hát Xoan Phú Thọ festival", "en"),
                                                 ("Lễ hội hát Xoan", "vi")],
                   category="event", countries=["VN"], domains=["social_practices"],
                   description=[("Spring festival of Xoan singing", "en")], years=(2018, 2018)),
    ]


@dataclass
class Aggregate:
    """A store and an index holding ICH records, changed the way the crosswalk changes them."""

    engine: Engine
    backend: Any
    settings: Settings
    index_path: Path
    records: dict[str, dict[str, Any]] = field(default_factory=dict)

    def _raw(self, s: Session, record: dict[str, Any], now: datetime) -> int:
        identifier = record["oai"]["identifier"]
        raw = s.scalar(select(RawRecord).where(RawRecord.source == record["source"],
                                               RawRecord.identifier == identifier))
        if raw is None:
            raw = RawRecord(source=record["source"], metadata_prefix="oai_dc", identifier=identifier,
                            datestamp="2024-05-01T00:00:00Z", sets="[]", deleted=False,
                            sha256=record["provenance"]["raw_sha256"], xml="<record/>",
                            first_seen_at=now, updated_at=now, seen_epoch=0)
            s.add(raw)
            s.flush()
        return raw.id

    def put(self, record: dict[str, Any], *, quarantined: bool = False,
            diagnostics: Sequence[dict[str, Any]] = ()) -> None:
        """Insert or change a record (published unless ``quarantined``) and index it."""
        self.put_many([record], quarantined=quarantined, diagnostics=diagnostics)

    def put_many(self, records: Sequence[dict[str, Any]], *, quarantined: bool = False,
                 diagnostics: Sequence[dict[str, Any]] = ()) -> None:
        """:meth:`put` for several records, one transaction each, one index batch for all."""
        ops = [self._write(record, quarantined, diagnostics) for record in records]
        assert not self.backend.apply(ops).failed

    def _write(self, record: dict[str, Any], quarantined: bool,
               diagnostics: Sequence[dict[str, Any]]) -> IndexOp:
        now = datetime.now(UTC)
        with Session(self.engine) as s, s.begin():
            raw_id = self._raw(s, record, now)
            old = s.get(IchRecord, record["id"])
            values = {"source": record["source"], "category": record["category"], "deleted": False,
                      "quarantined": quarantined, "record": json.dumps(record, ensure_ascii=False),
                      "diagnostics": json.dumps(list(diagnostics)), "mapping": "oai_dc",
                      "mapping_version": "1", "raw_sha256": record["provenance"]["raw_sha256"],
                      "output_sha256": hashlib.sha256(json.dumps(record).encode()).hexdigest()}
            if old is None:
                s.add(IchRecord(id=record["id"], raw_id=raw_id, version=1, changed_at=now, **values))
                version = 1
            else:
                version = old.version + 1
                s.execute(update(IchRecord).where(IchRecord.id == record["id"])
                          .values(version=version, changed_at=now, **values))
            s.add(Outbox(record_id=record["id"], action="upsert", created_at=now, attempts=0))
        self.records[record["id"]] = record
        return (IndexOp("delete", record["id"], version) if quarantined
                else IndexOp("upsert", record["id"], version, record))

    def delete(self, rid: str) -> None:
        """The source deleted the record: the row keeps no JSON, as in the crosswalk."""
        now = datetime.now(UTC)
        with Session(self.engine) as s, s.begin():
            old = s.get(IchRecord, rid)
            assert old is not None
            version = old.version + 1
            s.execute(update(IchRecord).where(IchRecord.id == rid).values(
                deleted=True, quarantined=False, record=None, category=None, version=version,
                changed_at=now, output_sha256=""))
        assert not self.backend.apply([IndexOp("delete", rid, version)]).failed

    def published_ids(self) -> set[str]:
        with Session(self.engine) as s:
            return set(s.scalars(select(IchRecord.id).where(IchRecord.deleted.is_(False),
                                                            IchRecord.quarantined.is_(False))))


def service_settings(engine: Engine, index_path: Path, **service: Any) -> Settings:
    return Settings(store=engine.url.render_as_string(hide_password=False),
                    sources=MappingProxyType(dict(SOURCES)),
                    search=SearchConfig(backend="embedded", path=str(index_path)),
                    service=ServiceConfig(**service))


def _published_corpus(engine: Engine, tmp_path: Path) -> Iterator[Aggregate]:
    index_path = tmp_path / "index"
    backend = open_backend(SearchSettings(backend="embedded", path=str(index_path)))
    agg = Aggregate(engine=engine, backend=backend, settings=service_settings(engine, index_path),
                    index_path=index_path)
    agg.put_many(corpus())
    yield agg
    backend.close()


@pytest.fixture
def aggregate(store: Engine, tmp_path: Path) -> Iterator[Aggregate]:
    """The corpus published into a fresh store (SQLite and PostgreSQL) and an embedded index."""
    yield from _published_corpus(store, tmp_path)


@pytest.fixture
def sqlite_aggregate(tmp_path: Path) -> Iterator[Aggregate]:
    """:func:`aggregate` on SQLite only, for tests about the page rather than the store."""
    from harvester.store.engine import open_store

    engine = open_store(f"sqlite:///{tmp_path}/store.db")
    yield from _published_corpus(engine, tmp_path)
    engine.dispose()


def client_for(agg: Aggregate, **service: Any) -> TestClient:
    from harvester.service import create_app

    settings = replace(agg.settings, service=ServiceConfig(**service)) if service else agg.settings
    return TestClient(create_app(settings, engine=agg.engine, backend=agg.backend))


class LiveServer:
    """The app under a real uvicorn on 127.0.0.1 and a free port, in a thread."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]},
                                       daemon=True, name="uvicorn-test")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(15)
        self.sock.close()


# -- this module's own promises -----------------------------------------------------------------

def test_corpus_records_are_schema_valid() -> None:
    import jsonschema

    from mappings import ich_json_schema

    validator = jsonschema.Draft202012Validator(ich_json_schema())
    records = corpus()
    assert len({r["id"] for r in records}) == len(records)
    for record in records:
        assert not list(validator.iter_errors(record)), record["id"]


def test_aggregate_writes_rows_and_index(aggregate: Aggregate) -> None:
    from indexer import SearchQuery

    assert aggregate.published_ids() == {r["id"] for r in corpus()}
    assert aggregate.backend.search(SearchQuery(limit=0))["total"] == len(corpus())
    victim = corpus()[0]["id"]
    aggregate.delete(victim)
    assert victim not in aggregate.published_ids()
    assert aggregate.backend.search(SearchQuery(limit=0))["total"] == len(corpus()) - 1
