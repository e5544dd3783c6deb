"""ichlinks publish over HTTP: the six verbs, media files, live edits, restarts."""

from __future__ import annotations

import http.client
import os
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from lxml import etree

from harvester.publishing.serving import publishing_server

OAI = "{http://www.openarchives.org/OAI/2.0/}"
DC = "{http://purl.org/dc/elements/1.1/}"
ICH = "{https://ichlinks.example/ns/ich/1.0}"
UNCHANGED = "oai:vien-van-hoa:VN-4"


def oai(base_url: str, **params: str) -> etree._Element:
    response = httpx.get(base_url, params=params, timeout=10)
    assert response.status_code == 200
    return etree.fromstring(response.content)


def error_code(doc: etree._Element) -> str | None:
    error = doc.find(f"{OAI}error")
    return error.get("code") if error is not None else None


def headers(base_url: str, **params: str) -> list[etree._Element]:
    """Every header of a complete list, following resumption tokens."""
    out: list[etree._Element] = []
    doc = oai(base_url, verb="ListIdentifiers", **params)
    while True:
        if error_code(doc) == "noRecordsMatch":
            return out
        out.extend(doc.iter(f"{OAI}header"))
        token = doc.find(f".//{OAI}resumptionToken")
        if token is None or not (token.text or "").strip():
            return out
        doc = oai(base_url, verb="ListIdentifiers", resumptionToken=token.text.strip())


def age(folder: Path, seconds: int = 3600) -> None:
    """Date the inventory an hour back, so today's edits get visibly later datestamps."""
    past = time.time() - seconds
    for path in [folder, *folder.rglob("*")]:
        os.utime(path, (past, past))


def touch(path: Path) -> None:
    os.utime(path, None)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    items = tmp_path / "inventory"
    (items / "photos").mkdir(parents=True)
    (items / "photos" / "xoan.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg" * 100)
    (items / "private.txt").write_text("not for the world", encoding="utf-8")
    (items / "xoan.yaml").write_text(
        "identifier: VN-1\ncategory: element\n"
        "title: {vi: Hát Xoan Phú Thọ, en: Xoan singing}\n"
        "country: Viet Nam\nmedia: photos/xoan.jpg\n", encoding="utf-8")
    (items / "ca-tru.json").write_text(
        '{"identifier": "VN-2", "title": {"vi": "Ca trù"}, "type": "Performing arts"}',
        encoding="utf-8")
    (items / "dan-bau.yaml").write_text("identifier: VN-4\ncategory: element\ntitle: Đàn bầu\n",
                                        encoding="utf-8")
    age(items)
    return items


@pytest.fixture
def served(folder: Path) -> Iterator[tuple[str, object]]:
    server = publishing_server(folder, name="Viện Văn hóa", admin_email="ich@vicas.example",
                               page_size=1, min_interval=0)
    with server:
        yield server.base_url, server


def test_identify_formats_sets_and_records(served) -> None:  # type: ignore[no-untyped-def]
    base, _ = served
    identify = oai(base, verb="Identify").find(f"{OAI}Identify")
    assert identify.findtext(f"{OAI}repositoryName") == "Viện Văn hóa"
    assert identify.findtext(f"{OAI}adminEmail") == "ich@vicas.example"
    assert identify.findtext(f"{OAI}deletedRecord") == "persistent"
    assert identify.findtext(f"{OAI}granularity") == "YYYY-MM-DDThh:mm:ssZ"

    formats = oai(base, verb="ListMetadataFormats")
    assert [e.text for e in formats.iter(f"{OAI}metadataPrefix")] == ["oai_dc", "ich"]
    # Ca trù has no recognised category: oai_dc only
    only_dc = oai(base, verb="ListMetadataFormats", identifier="oai:vien-van-hoa:VN-2")
    assert [e.text for e in only_dc.iter(f"{OAI}metadataPrefix")] == ["oai_dc"]
    assert error_code(oai(base, verb="GetRecord", identifier="oai:vien-van-hoa:VN-2",
                          metadataPrefix="ich")) == "cannotDisseminateFormat"
    assert error_code(oai(base, verb="ListSets")) == "noSetHierarchy"
    assert error_code(oai(base, verb="GetRecord", identifier="oai:vien-van-hoa:nope",
                          metadataPrefix="oai_dc")) == "idDoesNotExist"

    # page_size 1: two pages joined by a token
    assert sorted(h.findtext(f"{OAI}identifier") for h in headers(base, metadataPrefix="oai_dc")) == \
        ["oai:vien-van-hoa:VN-1", "oai:vien-van-hoa:VN-2", UNCHANGED]
    assert sorted(h.findtext(f"{OAI}identifier") for h in headers(base, metadataPrefix="ich")) == \
        ["oai:vien-van-hoa:VN-1", UNCHANGED]

    record = oai(base, verb="GetRecord", identifier="oai:vien-van-hoa:VN-1", metadataPrefix="oai_dc")
    titles = {(t.get("{http://www.w3.org/XML/1998/namespace}lang"), t.text)
              for t in record.iter(f"{DC}title")}
    assert titles == {("vi", "Hát Xoan Phú Thọ"), ("en", "Xoan singing")}
    ich = oai(base, verb="GetRecord", identifier="oai:vien-van-hoa:VN-1", metadataPrefix="ich")
    assert ich.findtext(f".//{ICH}category") == "element"
    assert ich.findtext(f".//{ICH}country") == "VN"
    # the ich records validate against the schema their ListMetadataFormats entry names
    schema_url = next(f.findtext(f"{OAI}schema") for f in formats.iter(f"{OAI}metadataFormat")
                      if f.findtext(f"{OAI}metadataPrefix") == "ich")
    schema = httpx.get(schema_url, timeout=10)
    assert schema.status_code == 200
    xsd = etree.XMLSchema(etree.fromstring(schema.content))
    xsd.assertValid(ich.find(f".//{OAI}metadata")[0])


def test_media_files_are_served_and_nothing_else(served, folder: Path) -> None:  # type: ignore[no-untyped-def]
    base, _ = served
    record = oai(base, verb="GetRecord", identifier="oai:vien-van-hoa:VN-1", metadataPrefix="oai_dc")
    links = [e.text for e in record.iter(f"{DC}identifier") if e.text and "/media/" in e.text]
    assert links == [base.rsplit("/oai", 1)[0] + "/media/photos/xoan.jpg"]
    media = httpx.get(links[0], timeout=10)
    assert media.status_code == 200 and media.headers["content-type"] == "image/jpeg"
    assert media.content == (folder / "photos" / "xoan.jpg").read_bytes()

    root = base.rsplit("/oai", 1)[0]
    for path in ("/media/private.txt", "/media/xoan.yaml", "/media/photos/missing.jpg"):
        assert httpx.get(root + path, timeout=10).status_code == 404, path
    # a raw request, so no client normalises the dot segments away
    parts = urlsplit(base)
    for path in ("/media/../private.txt", "/media/photos/../../inventory/private.txt",
                 "/media/%2e%2e/private.txt"):
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read()
        connection.close()
        assert response.status == 404 and b"not for the world" not in body, path


def test_edits_are_published_while_serving(served, folder: Path) -> None:  # type: ignore[no-untyped-def]
    base, server = served
    before = {h.findtext(f"{OAI}identifier"): h.findtext(f"{OAI}datestamp")
              for h in headers(base, metadataPrefix="oai_dc")}
    (folder / "ca-tru.json").unlink()
    (folder / "kho.yaml").write_text("identifier: VN-3\ncategory: element\ntitle: {vi: Hát Khoan}\n",
                                     encoding="utf-8")
    xoan = folder / "xoan.yaml"
    xoan.write_text(xoan.read_text(encoding="utf-8") + "subject: [ritual singing]\n", encoding="utf-8")
    touch(xoan)
    touch(folder)

    after = {h.findtext(f"{OAI}identifier"): (h.findtext(f"{OAI}datestamp"), h.get("status"))
             for h in headers(base, metadataPrefix="oai_dc")}
    assert set(after) == {"oai:vien-van-hoa:VN-1", "oai:vien-van-hoa:VN-2", "oai:vien-van-hoa:VN-3",
                          UNCHANGED}
    assert after["oai:vien-van-hoa:VN-2"][1] == "deleted"
    assert after["oai:vien-van-hoa:VN-1"][0] > before["oai:vien-van-hoa:VN-1"]
    assert after["oai:vien-van-hoa:VN-1"][1] is None and after["oai:vien-van-hoa:VN-3"][1] is None
    record = oai(base, verb="GetRecord", identifier="oai:vien-van-hoa:VN-1", metadataPrefix="oai_dc")
    assert [s.text for s in record.iter(f"{DC}subject")] == ["ritual singing"]
    # a deleted record's header stays; GetRecord answers it with a header only (spec 2.5.1)
    gone = oai(base, verb="GetRecord", identifier="oai:vien-van-hoa:VN-2", metadataPrefix="oai_dc")
    assert gone.find(f".//{OAI}header").get("status") == "deleted"
    assert gone.find(f".//{OAI}metadata") is None
    # incremental: exactly what changed since the first visit
    assert all(after[k][0] > max(before.values()) for k in after if k != UNCHANGED)
    assert after[UNCHANGED][0] == before[UNCHANGED]
    since = min(d for k, (d, _) in after.items() if k != UNCHANGED)
    changed = {h.findtext(f"{OAI}identifier") for h in headers(base, metadataPrefix="oai_dc", **{"from": since})}
    assert changed == {"oai:vien-van-hoa:VN-1", "oai:vien-van-hoa:VN-2", "oai:vien-van-hoa:VN-3"}


def test_a_restart_keeps_identifiers_datestamps_deletions_and_tokens(folder: Path) -> None:
    first = publishing_server(folder, page_size=1, min_interval=0, port=0)
    with first:
        page = oai(first.base_url, verb="ListIdentifiers", metadataPrefix="oai_dc")
        token = page.find(f".//{OAI}resumptionToken").text
        stamps = {h.findtext(f"{OAI}identifier"): h.findtext(f"{OAI}datestamp")
                  for h in headers(first.base_url, metadataPrefix="oai_dc")}
    (folder / "ca-tru.json").unlink()
    touch(folder)
    # renamed on the way: the repository name follows, the record identifiers must not
    second = publishing_server(folder, page_size=1, min_interval=0, port=first.port,
                               name="Institute of Culture")
    with second:
        identify = oai(second.base_url, verb="Identify").find(f"{OAI}Identify")
        assert identify.findtext(f"{OAI}repositoryName") == "Institute of Culture"
        rest = oai(second.base_url, verb="ListIdentifiers", resumptionToken=token)
        assert error_code(rest) is None, "a token from before the restart must still work"
        again = {h.findtext(f"{OAI}identifier"): (h.findtext(f"{OAI}datestamp"), h.get("status"))
                 for h in headers(second.base_url, metadataPrefix="oai_dc")}
    xoan, ca_tru = "oai:inventory:VN-1", "oai:inventory:VN-2"
    assert again[xoan] == (stamps[xoan], None)
    assert again[ca_tru][1] == "deleted" and again[ca_tru][0] > stamps[ca_tru]


def test_the_command_serves_until_sigterm_and_keeps_its_history(folder: Path) -> None:
    import json
    import signal
    import subprocess
    import sys

    process = subprocess.Popen(
        [sys.executable, "-m", "harvester.cli", "publish", str(folder), "--port", "0", "--json",
         "--name", "Viện Văn hóa"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        cwd=Path(__file__).resolve().parents[1])
    try:
        line = process.stdout.readline()
        assert line, process.stderr.read()
        started = json.loads(line)
        assert started["records"] == 3 and started["formats"] == ["oai_dc", "ich"]
        assert started["problems"] == 1  # Ca trù: "Performing arts" names no category
        identify = oai(started["url"], verb="Identify").find(f"{OAI}Identify")
        assert identify.findtext(f"{OAI}repositoryName") == "Viện Văn hóa"
        assert len(headers(started["url"], metadataPrefix="oai_dc")) == 3
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    assert (process.returncode, out, err) == (0, "", "")
    state = json.loads(Path(started["state"]).read_text(encoding="utf-8"))
    assert sorted(state["items"]) == ["VN-1", "VN-2", "VN-4"] and state["checked_at"]
