"""The demo run: partners up on 127.0.0.1, one harvest through the real pipeline, a few searches.

Nothing here harvests, maps or indexes by itself: it writes the configuration a newcomer
would write and calls :func:`harvester.pipeline.run_harvest`, the code ``ichlinks harvest``
and the scheduler run, then asks the index what anyone could ask it.  What it adds is a
check that the result is exactly what the partners serve, so the demo fails loudly instead
of looking fine when a stage is broken.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from harvester.config import Settings
from harvester.provider import ProviderServer

from .partners import DemoPartner
from .workspace import CONFIG_NAME, demo_config, write_config

TOP_RESULTS = 3


@dataclass(frozen=True)
class SampleSearch:
    q: str
    shows: str


@dataclass
class DemoReport:
    """Everything the demo found; ``as_json`` is the ``ichlinks demo --json`` document."""

    root: Path
    config_path: Path
    partners: list[dict[str, Any]]
    sources: list[dict[str, Any]] = field(default_factory=list)
    index: dict[str, Any] = field(default_factory=dict)
    searches: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "dir": str(self.root), "config": str(self.config_path),
                "partners": self.partners, "sources": self.sources, "index": self.index,
                "searches": self.searches, "problems": self.problems}


def sample_searches() -> list[SampleSearch]:
    """The bundled multilingual queries (``data/searches.yaml``)."""
    text = resources.files(__package__).joinpath("data").joinpath("searches.yaml").read_text(encoding="utf-8")
    return [SampleSearch(q=str(item["q"]), shows=str(item.get("shows", "")))
            for item in yaml.safe_load(text)["searches"]]


@contextmanager
def running_partners(partners: Sequence[DemoPartner], host: str = "127.0.0.1") -> Iterator[dict[str, str]]:
    """Serve every partner on its own free port; yields source name -> OAI-PMH base URL."""
    servers: list[ProviderServer] = []
    try:
        for partner in partners:
            server = ProviderServer(partner.repository(), host=host, port=0,
                                    page_size=partner.page_size,
                                    token_secret=secrets.token_bytes(32))
            servers.append(server.start())
        yield {p.source: s.base_url for p, s in zip(partners, servers, strict=True)}
    finally:
        for server in servers:
            server.stop()


def _store_counts(settings: Settings) -> dict[str, dict[str, int]]:
    from harvester.status import record_totals
    from harvester.store.engine import open_store
    from harvester.store.models import IchRecord

    engine = open_store(settings.store)
    try:
        with Session(engine) as s:
            totals = record_totals(s)
            rows = s.execute(
                select(IchRecord.source,
                       func.sum(case((IchRecord.quarantined.is_(True), 1), else_=0)),
                       func.sum(case(((IchRecord.quarantined.is_(False))
                                      & (IchRecord.deleted.is_(False)), 1), else_=0)))
                .group_by(IchRecord.source)).all()
    finally:
        engine.dispose()
    out: dict[str, dict[str, int]] = {}
    for source, quarantined, published in rows:
        out[source] = {"quarantined": int(quarantined or 0), "published": int(published or 0)}
    for source, counts in totals.items():
        out.setdefault(source, {"quarantined": 0, "published": 0}).update(counts)
    return out


def _search(settings: Settings, queries: Sequence[SampleSearch]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    from harvester.relay import open_index
    from indexer import SearchQuery

    backend = open_index(settings.search)
    try:
        overview = backend.search(SearchQuery(q="", limit=1, facets=True))
        index = {"backend": settings.search.backend, "path": settings.search.path,
                 "records": backend.count(), "facets": overview["facets"]}
        found = []
        for query in queries:
            answer = backend.search(SearchQuery(q=query.q, limit=TOP_RESULTS, facets=True))
            found.append({
                "q": query.q, "shows": query.shows, "total": answer["total"],
                "sources": answer["facets"].get("source", {}),
                "top": [{"title": r["title"], "source": r["source"], "category": r["category"],
                         "countries": r["countries"], "id": r["id"]} for r in answer["results"]],
            })
        return index, found
    finally:
        backend.close()


def run_demo(root: Path, partners: Sequence[DemoPartner], urls: dict[str, str],
             queries: Sequence[SampleSearch] | None = None) -> DemoReport:
    """Harvest the running ``partners`` (``urls`` from :func:`running_partners`) into ``root``
    (fresh from :func:`prepare_demo_dir`), search the result and check it against the
    partners' own data."""
    from harvester.pipeline import run_harvest

    config = demo_config(root, {p.source: p.source_config(urls[p.source]) for p in partners})
    settings = write_config(root, config)
    report = DemoReport(root=root, config_path=root / CONFIG_NAME, partners=[
        {"source": p.source, "url": urls[p.source], "partner": p.partner_name, "country": p.country,
         "repository": p.repository_name, "metadata_prefix": p.metadata_prefix, "mapping": p.mapping,
         "granularity": p.granularity, "deleted_record": p.deleted_record, "page_size": p.page_size}
        for p in partners])

    results = {r.source: r for r in run_harvest(settings, [])}
    counts = _store_counts(settings)
    for partner in partners:
        result = results.get(partner.source)
        stored = counts.get(partner.source, {})
        expected = partner.expected_counts()
        row: dict[str, Any] = result.as_json() if result is not None else {
            "source": partner.source, "status": "missing"}
        row.update({"live": stored.get("live", 0), "deleted_stored": stored.get("deleted", 0),
                    "quarantined": stored.get("quarantined", 0),
                    "published": stored.get("published", 0), "expected": expected,
                    "notes": list(result.notes) if result is not None else []})
        report.sources.append(row)
        if row["status"] != "ok":
            report.problems.append(f"{partner.source}: harvest {row['status']}: {row.get('error')}")
        if (row["live"], row["deleted_stored"]) != (expected["live"], expected["deleted"]):
            report.problems.append(
                f"{partner.source}: stored {row['live']} live / {row['deleted_stored']} deleted, "
                f"the partner serves {expected['live']} / {expected['deleted']}")
        if row["quarantined"] != expected["quarantined"]:
            report.problems.append(f"{partner.source}: {row['quarantined']} records quarantined, "
                                   f"{expected['quarantined']} expected")
        report.problems.extend(f"{partner.source}: {note}" for note in row["notes"])

    try:
        report.index, report.searches = _search(settings, sample_searches() if queries is None else queries)
    except Exception as exc:  # the index is the last stage: say what broke, keep the summary
        report.problems.append(f"search failed: {type(exc).__name__}: {exc}")
        return report
    published = sum(row["published"] for row in report.sources)
    if report.index["records"] != published:
        report.problems.append(f"the index holds {report.index['records']} records, "
                               f"the store published {published}")
    for search in report.searches:
        if search["total"] == 0:
            report.problems.append(f"search {search['q']!r} found nothing")
    return report
