"""The aggregate re-exposed over OAI-PMH at ``/oai``, on SQLite and PostgreSQL.

Responses are checked against the OAI-PMH 2.0 schema structure (``oai_fixtures.parse_oai``);
expected record sets are computed from what the store holds, never typed in.  Harvests use
the project's own ``Harvester`` and ``sickle`` against a real uvicorn on 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from oai_fixtures import parse_oai
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session
from test_service_support import (Aggregate, LiveServer, TestClient, aggregate,  # noqa: F401
                                  corpus, ich_record)

from harvester.config import HarvestConfig, ServiceConfig, SourceConfig
from harvester.provider import OAI_NAMESPACE
from harvester.service import StoreRepository, create_app
from harvester.store.models import IchRecord, RawRecord

UTC = timezone.utc
NS = {"oai": OAI_NAMESPACE, "dc": "http://purl.org/dc/elements/1.1/",
      "ich": "https://ichlinks.example/ns/ich/1.0",
      "id": "http://www.openarchives.org/OAI/2.0/oai-identifier"}
PREFIX = "oai:ichlinks.example:"
XSD_PATH = Path(__file__).resolve().parents[1] / "harvester" / "service" / "static" / "ich-record-1.0.xsd"


def app_client(agg: Aggregate, *, page_size: int = 100, lag_s: float = 0,
               **service: Any) -> TestClient:
    settings = replace(agg.settings, service=ServiceConfig(**service)) if service else agg.settings
    return TestClient(create_app(settings, engine=agg.engine, backend=agg.backend,
                                 oai_visibility_lag_s=lag_s, oai_page_size=page_size))


def oai(client: TestClient, **params: str) -> etree._Element:
    response = client.get("/oai", params=params)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    return parse_oai(response.content)


def error_code(root: etree._Element) -> str | None:
    found = root.find("oai:error", NS)
    return found.get("code") if found is not None else None


def list_all(client: TestClient, verb: str = "ListIdentifiers", **params: str) -> list[etree._Element]:
    """Every header (or record) of a complete list, following resumption tokens."""
    out: list[etree._Element] = []
    root = oai(client, verb=verb, **params)
    if error_code(root) == "noRecordsMatch":
        return out
    assert error_code(root) is None, etree.tostring(root)
    while True:
        container = root.find(f"oai:{verb}", NS)
        out.extend(container.findall("oai:header" if verb == "ListIdentifiers" else "oai:record", NS))
        token = container.find("oai:resumptionToken", NS)
        if token is None or not (token.text or "").strip():
            return out
        root = oai(client, verb=verb, resumptionToken=token.text)


def header_of(item: etree._Element) -> etree._Element:
    return item if item.tag == f"{{{OAI_NAMESPACE}}}header" else item.find("oai:header", NS)


def ids_of(items: list[etree._Element], *, deleted: bool | None = None) -> list[str]:
    out = []
    for item in items:
        header = header_of(item)
        if deleted is None or (header.get("status") == "deleted") == deleted:
            out.append(header.findtext("oai:identifier", namespaces=NS)[len(PREFIX):])
    return out


def rows(engine: Engine) -> list[IchRecord]:
    with Session(engine) as s:
        return list(s.scalars(select(IchRecord)))


def published(engine: Engine) -> set[str]:
    return {r.id for r in rows(engine) if not r.deleted and not r.quarantined}


def key(name: str) -> dict[str, Any]:
    return next(r for r in corpus() if r["oai"]["identifier"].endswith(":" + name))


def set_changed_at(engine: Engine, rid: str, when: datetime) -> None:
    with Session(engine) as s, s.begin():
        s.execute(update(IchRecord).where(IchRecord.id == rid).values(changed_at=when))


# -- Identify, formats, sets ---------------------------------------------------------------------

def test_identify_is_complete(aggregate: Aggregate) -> None:
    earliest = datetime(2021, 3, 4, 5, 6, 7, tzinfo=UTC)
    set_changed_at(aggregate.engine, key("ca-tru")["id"], earliest)
    client = app_client(aggregate, repository_name="ichLinks test aggregate",
                        admin_email="oai@ichlinks.test", base_url="https://agg.ichlinks.test/")
    identify = oai(client, verb="Identify").find("oai:Identify", NS)
    assert identify.findtext("oai:repositoryName", namespaces=NS) == "ichLinks test aggregate"
    assert identify.findtext("oai:baseURL", namespaces=NS) == "https://agg.ichlinks.test/oai"
    assert identify.findtext("oai:protocolVersion", namespaces=NS) == "2.0"
    assert identify.findtext("oai:adminEmail", namespaces=NS) == "oai@ichlinks.test"
    assert identify.findtext("oai:earliestDatestamp", namespaces=NS) == "2021-03-04T05:06:07Z"
    assert identify.findtext("oai:deletedRecord", namespaces=NS) == "persistent"
    assert identify.findtext("oai:granularity", namespaces=NS) == "YYYY-MM-DDThh:mm:ssZ"
    described = identify.find("oai:description/id:oai-identifier", NS)
    assert described.findtext("id:repositoryIdentifier", namespaces=NS) == "agg.ichlinks.test"
    sample = described.findtext("id:sampleIdentifier", namespaces=NS)
    assert sample.startswith("oai:agg.ichlinks.test:")
    # The identifiers really use that namespace.
    listed = list_all(client, metadataPrefix="oai_dc")
    assert listed
    assert all(header_of(h).findtext("oai:identifier", namespaces=NS).startswith("oai:agg.ichlinks.test:")
               for h in listed)


def test_base_url_follows_the_request_when_not_configured(aggregate: Aggregate) -> None:
    identify = oai(app_client(aggregate), verb="Identify").find("oai:Identify", NS)
    assert identify.findtext("oai:baseURL", namespaces=NS) == "http://testserver/oai"
    described = identify.find("oai:description/id:oai-identifier", NS)
    assert described.findtext("id:repositoryIdentifier", namespaces=NS) == "ichlinks.example"


def test_formats_and_the_ich_schema(aggregate: Aggregate) -> None:
    client = app_client(aggregate)
    formats = {f.findtext("oai:metadataPrefix", namespaces=NS): f for f in
               oai(client, verb="ListMetadataFormats").iterfind(".//oai:metadataFormat", NS)}
    assert set(formats) == {"oai_dc", "ich"}
    assert formats["ich"].findtext("oai:metadataNamespace", namespaces=NS) == NS["ich"]
    schema_url = formats["ich"].findtext("oai:schema", namespaces=NS)
    assert schema_url == "http://testserver/oai/ich-record-1.0.xsd"
    served = client.get(schema_url.replace("http://testserver", ""))
    assert served.status_code == 200 and served.content == XSD_PATH.read_bytes()
    xsd = etree.XMLSchema(etree.fromstring(served.content))
    records = list_all(client, "ListRecords", metadataPrefix="ich")
    assert len(records) == len(published(aggregate.engine))
    for record in records:
        xsd.assertValid(record.find("oai:metadata/ich:record", NS))


def test_list_sets_names_every_membership(aggregate: Aggregate) -> None:
    specs = {s.findtext("oai:setSpec", namespaces=NS): s.findtext("oai:setName", namespaces=NS)
             for s in oai(app_client(aggregate), verb="ListSets").iterfind(".//oai:set", NS)}
    expected = {"source", "category", "country"}
    for record in corpus():
        expected |= {f"source:{record['source']}", f"category:{record['category']}"}
        expected |= {f"country:{c}" for c in record.get("countries", [])}
    assert set(specs) == expected
    assert specs["country:KR"] == "Korea, Republic of" or "Korea" in specs["country:KR"]
    assert specs["source:vn-vicas"] == "VICAS Hà Nội (vn-vicas)"


@pytest.mark.parametrize("set_spec, member", [
    ("source:kr-ichcap", lambda r: r["source"] == "kr-ichcap"),
    ("source", lambda r: True),
    ("country:VN", lambda r: "VN" in r.get("countries", [])),
    ("country", lambda r: bool(r.get("countries"))),
    ("category:event", lambda r: r["category"] == "event"),
    ("category:stakeholder", lambda r: r["category"] == "stakeholder"),
    ("country:ZZ", lambda r: False),
    ("nosuchkind:x", lambda r: False),
    ("country:K_", lambda r: False),  # LIKE wildcards are matched literally
])
def test_set_selection(aggregate: Aggregate, set_spec: str, member: Any) -> None:
    listed = list_all(app_client(aggregate, page_size=2), set=set_spec, metadataPrefix="oai_dc")
    assert sorted(ids_of(listed)) == sorted(r["id"] for r in corpus() if member(r))
    for header in listed:
        specs = [s.text for s in header.findall("oai:setSpec", NS)]
        assert set_spec in specs or any(s.startswith(set_spec + ":") for s in specs)


# -- records, paging, dates, deletions ---------------------------------------------------------------

def test_list_records_pages_in_keyset_order_with_complete_list_size(aggregate: Aggregate) -> None:
    extra = [ich_record("vn-vicas", f"extra-{i}", [(f"Hồ sơ {i}", "vi")], countries=["VN"])
             for i in range(9)]
    for record in extra:
        aggregate.put(record)
    total = len(published(aggregate.engine))
    client = app_client(aggregate, page_size=4)
    first = oai(client, verb="ListRecords", metadataPrefix="oai_dc")
    token = first.find("oai:ListRecords/oai:resumptionToken", NS)
    assert token.get("completeListSize") == str(total) and token.get("cursor") == "0"
    expires = datetime.strptime(token.get("expirationDate"), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert expires >= datetime.now(UTC) + timedelta(hours=23, minutes=59)
    records = list_all(client, "ListRecords", metadataPrefix="oai_dc")
    assert sorted(ids_of(records)) == sorted(published(aggregate.engine))
    in_store = sorted((r.changed_at, r.id) for r in rows(aggregate.engine)
                      if not r.deleted and not r.quarantined)
    assert ids_of(records) == [rid for _, rid in in_store]  # (changed_at, id) keyset order
    # Every record's Dublin Core carries its titles with their languages.
    for record in records:
        rid = ids_of([record])[0]
        titles = {(t.text, t.get("{http://www.w3.org/XML/1998/namespace}lang"))
                  for t in record.iterfind("oai:metadata/*/dc:title", NS)}
        source = aggregate.records[rid]
        assert {(t["value"], t["lang"]) for t in source["title"]} <= titles


def test_from_and_until_select_by_changed_at(aggregate: Aggregate) -> None:
    base = datetime(2024, 6, 1, 12, 0, 0, tzinfo=UTC)
    ordered = sorted(r["id"] for r in corpus())
    for i, rid in enumerate(ordered):
        set_changed_at(aggregate.engine, rid, base + timedelta(hours=i, microseconds=500))
    client = app_client(aggregate, page_size=2)
    assert ids_of(list_all(client, metadataPrefix="ich", **{"from": "2024-06-01T14:00:00Z"})) == ordered[2:]
    assert ids_of(list_all(client, metadataPrefix="ich", until="2024-06-01T13:00:00Z")) == ordered[:2]
    assert ids_of(list_all(client, metadataPrefix="ich", **{"from": "2024-06-01T13:00:00Z",
                                                             "until": "2024-06-01T13:00:00Z"})) == ordered[1:2]
    assert ids_of(list_all(client, metadataPrefix="ich", **{"from": "2024-06-01"})) == ordered
    assert list_all(client, metadataPrefix="ich", **{"from": "2024-06-02"}) == []
    assert error_code(oai(client, verb="ListIdentifiers", metadataPrefix="ich", **{"from": "June"})) == "badArgument"


def test_deleted_and_quarantined_after_publication_are_deletions(aggregate: Aggregate) -> None:
    client = app_client(aggregate, page_size=3)
    removed, withheld = key("pansori"), key("nha-nhac")
    never = ich_record("kr-ichcap", "never-published", [("Never", "en")], countries=["KR"])
    aggregate.delete(removed["id"])
    aggregate.put(withheld, quarantined=True)
    aggregate.put(never, quarantined=True)
    aggregate.delete(never["id"])
    listed = list_all(client, "ListRecords", metadataPrefix="oai_dc")
    assert sorted(ids_of(listed, deleted=True)) == sorted([removed["id"], withheld["id"]])
    assert sorted(ids_of(listed, deleted=False)) == sorted(published(aggregate.engine))
    assert never["id"] not in ids_of(listed)
    for record in listed:
        if header_of(record).get("status") == "deleted":
            assert record.find("oai:metadata", NS) is None
    # The deletion still reaches a harvester that selects by the sets the record was in.
    assert removed["id"] in ids_of(list_all(client, set="country:KR", metadataPrefix="oai_dc"), deleted=True)
    assert removed["id"] in ids_of(list_all(client, set="category:element", metadataPrefix="ich"),
                                   deleted=True)
    got = oai(client, verb="GetRecord", identifier=PREFIX + removed["id"], metadataPrefix="ich")
    assert got.find("oai:GetRecord/oai:record/oai:header", NS).get("status") == "deleted"
    assert error_code(oai(client, verb="GetRecord", identifier=PREFIX + never["id"],
                          metadataPrefix="oai_dc")) == "idDoesNotExist"


def test_get_record_and_errors(aggregate: Aggregate) -> None:
    client = app_client(aggregate)
    record = key("ganggangsullae")
    root = oai(client, verb="GetRecord", identifier=PREFIX + record["id"], metadataPrefix="ich")
    assert root.findtext(".//ich:record/ich:id", namespaces=NS) == record["id"]
    assert [t.text for t in root.iterfind(".//ich:record/ich:title", NS)] == [
        t["value"] for t in record["title"]]
    assert error_code(oai(client, verb="GetRecord", identifier=record["id"],
                          metadataPrefix="ich")) == "idDoesNotExist"
    assert error_code(oai(client, verb="GetRecord", identifier=PREFIX + record["id"],
                          metadataPrefix="marc21")) == "cannotDisseminateFormat"
    assert error_code(oai(client, verb="ListRecords", resumptionToken="forged.token")) == "badResumptionToken"
    assert error_code(oai(client, verb="Nope")) == "badVerb"


def test_post_form_answers_like_get(aggregate: Aggregate) -> None:
    client = app_client(aggregate, page_size=2)
    got = client.get("/oai", params={"verb": "ListIdentifiers", "metadataPrefix": "oai_dc"})
    posted = client.post("/oai", data={"verb": "ListIdentifiers", "metadataPrefix": "oai_dc"})
    assert posted.status_code == 200
    assert ids_of(parse_oai(posted.content).findall(".//oai:header", NS)) == \
        ids_of(parse_oai(got.content).findall(".//oai:header", NS))


# -- resumption tokens across restarts ---------------------------------------------------------------

def _first_token(client: TestClient) -> str:
    root = oai(client, verb="ListIdentifiers", metadataPrefix="oai_dc")
    return root.find("oai:ListIdentifiers/oai:resumptionToken", NS).text


def test_tokens_survive_a_restart_with_the_persisted_key(aggregate: Aggregate) -> None:
    token = _first_token(app_client(aggregate, page_size=2))
    restarted = app_client(aggregate, page_size=2)  # a new app: new Resources, same store
    root = oai(restarted, verb="ListIdentifiers", resumptionToken=token)
    assert error_code(root) is None
    assert len(root.findall("oai:ListIdentifiers/oai:header", NS)) == 2


def test_tokens_follow_the_configured_secret(aggregate: Aggregate) -> None:
    token = _first_token(app_client(aggregate, page_size=2, token_secret="first secret"))
    same = app_client(aggregate, page_size=2, token_secret="first secret")
    assert error_code(oai(same, verb="ListIdentifiers", resumptionToken=token)) is None
    other = app_client(aggregate, page_size=2, token_secret="another secret")
    assert error_code(oai(other, verb="ListIdentifiers", resumptionToken=token)) == "badResumptionToken"
    stored = app_client(aggregate, page_size=2)  # no configured secret: the store's key differs
    assert error_code(oai(stored, verb="ListIdentifiers", resumptionToken=token)) == "badResumptionToken"


def test_store_repository_pages_by_keyset_in_sql(aggregate: Aggregate) -> None:
    repository = StoreRepository(aggregate.engine, aggregate.settings)
    seen: list[str] = []
    after = None
    while True:
        page = repository.page(prefix="oai_dc", set_spec=None, from_=None, until=None, after=after,
                               limit=2)
        if not page:
            break
        assert len(page) <= 2
        seen.extend(r.identifier for r in page)
        after = page[-1].key
    assert sorted(i[len(PREFIX):] for i in seen) == sorted(published(aggregate.engine))
    assert len(seen) == len(set(seen))
    assert repository.count(prefix="oai_dc", set_spec="country:KR", from_=None, until=None) == \
        sum("KR" in r.get("countries", []) for r in corpus())


# -- harvested over real HTTP by the project's harvester and by sickle -----------------------------

@pytest.fixture
def live(aggregate: Aggregate) -> Iterator[LiveServer]:
    app = create_app(aggregate.settings, engine=aggregate.engine, backend=aggregate.backend,
                     oai_visibility_lag_s=0,
                     oai_page_size=2)
    with LiveServer(app) as server:
        yield server


def _downstream(tmp_path: Path) -> Engine:
    from harvester.store.engine import open_store

    return open_store(f"sqlite:///{tmp_path}/downstream.db")


def _harvest(engine: Engine, url: str, prefix: str) -> Any:
    from harvester.harvest import Harvester

    source = SourceConfig(name="aggregate", url=url, metadata_prefix=prefix, retries=1,
                          max_backoff_s=0.05, timeout_s=10.0)
    harvester = Harvester(engine, settings=HarvestConfig(), sleep=lambda _s: None)
    try:
        return harvester.harvest(source)
    finally:
        harvester.pools.close()


def _raw(engine: Engine) -> dict[str, RawRecord]:
    with Session(engine) as s:
        return {r.identifier[len(PREFIX):]: r for r in s.scalars(select(RawRecord))}


def test_project_harvester_gets_exactly_the_published_records_then_deletions(
        aggregate: Aggregate, live: LiveServer, tmp_path: Path) -> None:
    downstream = _downstream(tmp_path)
    first = _harvest(downstream, live.url + "/oai", "ich")
    assert first.status == "ok", first.error
    got = _raw(downstream)
    assert set(got) == published(aggregate.engine)
    assert not any(r.deleted for r in got.values())
    for rid, raw in got.items():  # the full ICH record travelled: its title values are there
        assert all(t["value"] in raw.xml for t in aggregate.records[rid]["title"])
    assert first.pages > 1  # the page size of 2 made it follow resumption tokens
    removed, withheld = key("ca-tru")["id"], key("ichcap-centre")
    aggregate.delete(removed)
    aggregate.put(withheld, quarantined=True)
    second = _harvest(downstream, live.url + "/oai", "ich")
    assert second.status == "ok", second.error
    after = _raw(downstream)
    assert {rid for rid, r in after.items() if r.deleted} == {removed, withheld["id"]}
    assert {rid for rid, r in after.items() if not r.deleted} == published(aggregate.engine)
    downstream.dispose()


def test_sickle_harvests_the_same_records(aggregate: Aggregate, live: LiveServer) -> None:
    from sickle import Sickle

    aggregate.delete(key("xoan-festival")["id"])
    sickle = Sickle(live.url + "/oai", max_retries=1, timeout=10)
    assert sickle.Identify().repositoryName == aggregate.settings.service.repository_name
    records = list(sickle.ListRecords(metadataPrefix="oai_dc", ignore_deleted=False))
    live_ids = {r.header.identifier[len(PREFIX):] for r in records if not r.header.deleted}
    gone = {r.header.identifier[len(PREFIX):] for r in records if r.header.deleted}
    assert live_ids == published(aggregate.engine)
    assert gone == {key("xoan-festival")["id"]}
    for record in records:
        if not record.header.deleted:
            rid = record.header.identifier[len(PREFIX):]
            assert set(record.metadata["title"]) == {t["value"] for t in aggregate.records[rid]["title"]}
    in_set = {h.identifier[len(PREFIX):] for h in sickle.ListIdentifiers(metadataPrefix="ich",
                                                                        set="country:VN")}
    assert in_set == {r["id"] for r in corpus() if "VN" in r.get("countries", [])}


# -- the store's bookkeeping -----------------------------------------------------------------------

def test_bookkeeping_never_breaks_a_write_and_odd_values_are_no_sets(aggregate: Aggregate) -> None:
    import json

    from harvester.service.oai_repository import set_specs

    record = key("ganggangsullae")
    with Session(aggregate.engine) as s, s.begin():  # what no writer should store, but might
        s.execute(update(IchRecord).where(IchRecord.id == record["id"])
                  .values(record="{not json", quarantined=True, version=5))
    with Session(aggregate.engine) as s:
        row = s.get(IchRecord, record["id"])
        assert row.oai_exposed is True
        assert "country:KR" in row.oai_sets  # the memberships it had are kept
    odd = dict(record, category="élément bizarre", countries=["KR", "korea", "J P"])
    with Session(aggregate.engine) as s, s.begin():
        s.execute(update(IchRecord).where(IchRecord.id == record["id"])
                  .values(record=json.dumps(odd), version=6))
    with Session(aggregate.engine) as s:
        stored = s.get(IchRecord, record["id"]).oai_sets
    assert set_specs(stored) == ("source:kr-ichcap", "country:KR")
    client = app_client(aggregate)
    specs = {s.findtext("oai:setSpec", namespaces=NS)
             for s in oai(client, verb="ListSets").iterfind(".//oai:set", NS)}
    assert not any(" " in spec or "é" in spec or spec.endswith(":korea") for spec in specs)
    deleted = oai(client, verb="GetRecord", identifier=PREFIX + record["id"], metadataPrefix="oai_dc")
    assert [s.text for s in deleted.iterfind(".//oai:header/oai:setSpec", NS)] == ["source:kr-ichcap",
                                                                                  "country:KR"]


def test_migration_backfills_rows_written_before_it(store_url: str) -> None:
    import json

    from alembic import command
    from sqlalchemy import text

    from harvester.store.engine import _alembic_config, make_engine, migrate

    engine = make_engine(store_url)
    command.upgrade(_alembic_config(engine), "0001")
    now = datetime.now(UTC)
    live = ich_record("vn-vicas", "old-live", [("Cũ", "vi")], countries=["VN", "LA"])
    with engine.begin() as conn:
        for n, identifier in enumerate(("a", "b", "c"), start=1):
            conn.execute(text("INSERT INTO raw_records (id, source, metadata_prefix, identifier, sets, "
                              "deleted, sha256, xml, first_seen_at, updated_at, seen_epoch) VALUES "
                              "(:id, 'vn-vicas', 'oai_dc', :i, '[]', :f, 'x', '<r/>', :t, :t, 0)"),
                         {"id": n, "i": identifier, "f": False, "t": now})
        rows = [(live["id"], 1, json.dumps(live), False, 1),       # published
                ("vn-vicas:00000000000000000002", 2, None, True, 3),  # changed since: maybe published
                ("vn-vicas:00000000000000000003", 3, None, True, 1)]  # deleted at first sight
        for rid, raw_id, record, deleted, version in rows:
            conn.execute(text("INSERT INTO ich_records (id, raw_id, source, deleted, quarantined, record, "
                              "diagnostics, raw_sha256, output_sha256, version, changed_at) VALUES "
                              "(:id, :raw, 'vn-vicas', :d, :q, :rec, '[]', 'x', 'y', :v, :t)"),
                         {"id": rid, "raw": raw_id, "d": deleted, "q": False, "rec": record,
                          "v": version, "t": now})
    migrate(engine)
    with Session(engine) as s:
        got = {r.id: (r.oai_exposed, r.oai_sets) for r in s.scalars(select(IchRecord))}
    assert got[live["id"]] == (True, " source:vn-vicas category:element country:VN country:LA ")
    assert got["vn-vicas:00000000000000000002"] == (True, " source:vn-vicas ")
    assert got["vn-vicas:00000000000000000003"][0] is False
    engine.dispose()


def test_lists_answer_as_of_a_moment_safely_in_the_past(aggregate: Aggregate) -> None:
    """Rows stamped by a crosswalk batch that has not committed yet must not be skipped later:
    lists (and responseDate) lag behind the clock, so the next `from` still covers them."""
    client = app_client(aggregate, lag_s=3600)
    tree = oai(client, verb="ListIdentifiers", metadataPrefix="oai_dc")
    response_date = tree.findtext("oai:responseDate", namespaces=NS)
    assert response_date is not None
    stamp = datetime.strptime(response_date, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    assert datetime.now(timezone.utc) - stamp >= timedelta(minutes=59)
    errors = tree.findall("oai:error", namespaces=NS)
    assert [e.get("code") for e in errors] == ["noRecordsMatch"]  # all rows are fresher
    assert len(oai(app_client(aggregate), verb="ListIdentifiers", metadataPrefix="oai_dc")
               .findall(".//oai:header", namespaces=NS)) > 0
