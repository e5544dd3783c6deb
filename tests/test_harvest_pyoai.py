"""Harvest a data provider the project did not write: pyoai's OAI-PMH server (infrae/pyoai).

pyoai's BatchingServer issues its own resumption tokens (percent-encoded argument lists),
renders its own datestamps and deleted headers; a harvest that ends with exactly its
records shows the client does not depend on our provider's habits.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from harvester.config import Partner, SourceConfig
from harvester.harvest import Harvester
from harvester.store.models import RawRecord

import warnings  # noqa: E402

with warnings.catch_warnings():  # pyoai imports the stdlib cgi module, deprecated in 3.11
    warnings.simplefilter("ignore", DeprecationWarning)
    from oaipmh import common, error, metadata, server


class _Repo:
    """pyoai's IBatchingOAI over a list of (header, metadata, about)."""

    def __init__(self, n: int) -> None:
        base = datetime(2020, 1, 1)
        self.data = []
        for i in range(n):
            deleted = i % 9 == 8
            header = common.Header(None, f"oai:pyoai.test:{i}", base + timedelta(hours=i),
                                   [f"set{i % 3}"], deleted)
            meta = None if deleted else common.Metadata(None, {
                "title": [f"Ca trù {i}", f"가곡 {i}"], "creator": ["Test"], "subject": ["Music"],
                "description": [f"Record {i} & <more>"], "publisher": [], "contributor": [],
                "date": ["2020"], "type": ["Text"], "format": [], "identifier": [f"http://x/{i}"],
                "source": [], "language": ["vi"], "relation": [], "coverage": ["Viet Nam"],
                "rights": []})
            self.data.append((header, meta, None))

    def identify(self) -> Any:
        return common.Identify(repositoryName="pyoai test", baseURL="http://pyoai.test/oai",
                               protocolVersion="2.0", adminEmails=["a@pyoai.test"],
                               earliestDatestamp=datetime(2020, 1, 1), deletedRecord="persistent",
                               granularity="YYYY-MM-DDThh:mm:ssZ", compression=["identity"])

    def listMetadataFormats(self, identifier: str | None = None) -> list[tuple[str, str, str]]:
        return [("oai_dc", "http://www.openarchives.org/OAI/2.0/oai_dc.xsd",
                 "http://www.openarchives.org/OAI/2.0/oai_dc/")]

    def listSets(self, cursor: int = 0, batch_size: int = 10) -> list[tuple[str, str, None]]:
        return [(f"set{k}", f"Set {k}", None) for k in range(3)][cursor:cursor + batch_size]

    def _select(self, from_: Any, until: Any, set: str | None) -> list[Any]:  # noqa: A002
        out = []
        for header, meta, about in self.data:
            stamp = header.datestamp()
            if from_ is not None and stamp < from_ or until is not None and stamp > until:
                continue
            if set is not None and set not in header.setSpec():
                continue
            out.append((header, meta, about))
        return out

    def listRecords(self, metadataPrefix: str | None = None, from_: Any = None, until: Any = None,  # noqa: N802,N803
                    set: str | None = None, cursor: int = 0, batch_size: int = 10) -> list[Any]:  # noqa: A002
        if metadataPrefix != "oai_dc":
            raise error.CannotDisseminateFormatError(metadataPrefix)
        found = self._select(from_, until, set)
        if not found:
            raise error.NoRecordsMatchError("none")
        return found[cursor:cursor + batch_size]

    def listIdentifiers(self, metadataPrefix: str | None = None, from_: Any = None,  # noqa: N802,N803
                        until: Any = None, set: str | None = None, cursor: int = 0,  # noqa: A002
                        batch_size: int = 10) -> list[Any]:
        return [h for h, _m, _a in self.listRecords(metadataPrefix, from_, until, set, cursor, batch_size)]

    def getRecord(self, metadataPrefix: str, identifier: str) -> Any:  # noqa: N802,N803
        for item in self.data:
            if item[0].identifier() == identifier:
                return item
        raise error.IdDoesNotExistError(identifier)


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def pyoai_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, _Repo]]:
    # pyoai 2.5 still calls cgi.parse_qs, gone since Python 3.8: give it the urllib one.
    monkeypatch.setattr(server.cgi, "parse_qs", parse_qs, raising=False)
    repo = _Repo(95)
    registry = metadata.MetadataRegistry()
    registry.registerWriter("oai_dc", server.oai_dc_writer)
    oai = server.BatchingServer(repo, metadata_registry=registry, resumption_batch_size=20)

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        params = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        body = oai.handleRequest(params)
        body = body if isinstance(body, bytes) else body.encode("utf-8")
        start_response("200 OK", [("Content-Type", "text/xml; charset=utf-8")])
        return [body]

    httpd: WSGIServer = make_server("127.0.0.1", 0, app, handler_class=_Quiet)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}/oai", repo
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_harvest_pyoai_server_exactly(store: Any, pyoai_url: tuple[str, _Repo]) -> None:
    url, repo = pyoai_url
    src = SourceConfig(name="pyoai", url=url, partner=Partner("pyoai"), retries=0)
    harvester = Harvester(store, sleep=lambda s: None)
    result = harvester.harvest(src)
    assert result.status == "ok", result.error
    assert result.records == 95 and result.pages == 5
    with Session(store) as s:
        rows = {r.identifier: r for r in s.scalars(select(RawRecord))}
    assert {i: r.deleted for i, r in rows.items()} == {h.identifier(): h.isDeleted() for h, _m, _a in repo.data}
    sample = rows["oai:pyoai.test:0"].xml
    assert "Ca trù 0" in sample and "가곡 0" in sample and "&amp; &lt;more&gt;" in sample

    again = harvester.harvest(src)  # incremental, from pyoai's responseDate
    assert again.status == "ok" and again.mode == "incremental" and again.new == 0
    sets = SourceConfig(name="pyoai-sets", url=url, partner=Partner("pyoai"), sets=("set1",), retries=0)
    by_set = harvester.harvest(sets)
    harvester.pools.close()
    assert by_set.status == "ok" and by_set.records == len(repo._select(None, None, "set1"))
