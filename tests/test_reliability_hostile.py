"""Hostile XML through a whole harvest: over HTTP, into the store, one record at a time.

test_oai_hostile.py shows the parser is inert; these tests show the *harvest* is: the real
provider's page is rewritten on the wire (``inject``) so that one record of it carries the
attack, and the run must end ``ok`` with that record failed or flagged by a named
diagnostic, every other record of the page stored byte-exact, nothing expanded, no local
file read (its secret is looked for in every table of the store), no connection made.
The big-body tests harvest in a subprocess and measure its peak RSS with ``wait4``.
"""

from __future__ import annotations

import gzip
import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from oai_fixtures import Exchange, Fault, FaultyProviderServer, When, inject, make_records
from reliability_fixtures import harvest, source_for, stored
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from harvester.store.models import Base

HOSTILE = "oai:ichlinks.test:ich-00002"  # the record that carries the attack
TEXT_MB = int(os.environ.get("ICHLINKS_HOSTILE_TEXT_MB", "100"))


def in_record(body: bytes, old: bytes, new: bytes, identifier: str = HOSTILE) -> bytes:
    """Replace the first ``old`` after ``identifier``'s header: only that record changes."""
    start = body.index(f"<identifier>{identifier}</identifier>".encode())
    at = body.index(old, start)
    return body[:at] + new + body[at + len(old):]


def with_doctype(doctype: bytes) -> Callable[[bytes], bytes]:
    def transform(body: bytes) -> bytes:
        end = body.index(b"?>") + 2
        return body[:end] + b"\n" + doctype + body[end:]
    return transform


def chain(*steps: Callable[[bytes], bytes]) -> Callable[[bytes], bytes]:
    def transform(body: bytes) -> bytes:
        for step in steps:
            body = step(body)
        return body
    return transform


def title_to(text: bytes) -> Callable[[bytes], bytes]:
    """The hostile record's English title becomes ``text`` (raw bytes: entities, markup, junk)."""
    def transform(body: bytes) -> bytes:
        start = body.index(f"<identifier>{HOSTILE}</identifier>".encode())
        open_at = body.index(b'<dc:title xml:lang="en">', start) + len(b'<dc:title xml:lang="en">')
        close_at = body.index(b"</dc:title>", open_at)
        return body[:open_at] + text + body[close_at:]
    return transform


def store_text(engine: Engine) -> str:
    """Every value in every table of the store, as one text to search for leaks."""
    parts: list[str] = []
    with Session(engine) as s:
        for table in Base.metadata.sorted_tables:
            for row in s.execute(select(table)):
                parts.extend(str(v) for v in row if v is not None)
    return "\n".join(parts)


def codes(row: Any) -> list[str]:
    return [d["code"] for d in json.loads(row.diagnostics or "[]")]


def run_hostile(store: Any, oai_server: Any, transform: Callable[[bytes], bytes]) -> tuple[Any, list[Any]]:
    records = make_records(6, languages=("vi", "ko", "th"))
    server = oai_server(records, page_size=10, faults=[inject(transform, verb="ListRecords", times=None)])
    result = harvest(store, source_for(server, retries=1))
    assert server.faults_applied(), "the attack was never sent"
    return result, records


def assert_others_exact(store: Any, records: list[Any], allowed: set[str] = frozenset()) -> Any:
    """Every record but the hostile one stored exactly; returns the hostile one's row."""
    got = stored(store)
    assert set(got) == {r.identifier for r in records}
    for r in records:
        if r.identifier == HOSTILE:
            continue
        row = got[r.identifier]
        assert row.error is None and r.metadata["oai_dc"] in row.xml, r.identifier
        assert set(codes(row)) <= allowed, (r.identifier, codes(row))
    return got[HOSTILE]


# -- entities and DTDs ---------------------------------------------------------------------------

def _laughs(levels: int = 9) -> bytes:
    entities = ['<!ENTITY lol "lol">'] + [
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, levels + 1)]
    return f'<!DOCTYPE OAI-PMH [\n{"".join(entities)}\n]>'.encode()


def test_billion_laughs_is_not_expanded(store: Any, oai_server: Any) -> None:
    result, records = run_hostile(store, oai_server, chain(with_doctype(_laughs()), title_to(b"&lol9;")))
    assert result.status == "ok", result.error
    assert (result.records, result.new + result.failed) == (6, 6)
    hostile = assert_others_exact(store, records, allowed={"doctype-removed"})
    assert "recovered-parse" in codes(hostile) or hostile.error
    assert "doctype-removed" in codes(hostile)
    assert "lollol" not in store_text(store)


def test_external_entity_to_a_local_file_is_not_read(store: Any, oai_server: Any,
                                                     tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("ICHLINKS-SECRET-9f2c")
    doctype = (f'<!DOCTYPE OAI-PMH [<!ENTITY xxe SYSTEM "{secret.as_uri()}">'
               f'<!ENTITY xxe2 SYSTEM "{secret}">]>').encode()
    result, records = run_hostile(store, oai_server,
                                  chain(with_doctype(doctype), title_to(b"&xxe;&xxe2;")))
    assert result.status == "ok", result.error
    hostile = assert_others_exact(store, records, allowed={"doctype-removed"})
    assert "recovered-parse" in codes(hostile) or hostile.error
    assert "ICHLINKS-SECRET" not in store_text(store)


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A local port that would log any fetch of an external DTD or entity."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.setblocking(False)
    yield sock
    sock.close()


@pytest.mark.parametrize("kind", ["system-dtd", "public-dtd", "parameter-entity", "entity"])
def test_external_dtd_or_entity_url_is_never_fetched(store: Any, oai_server: Any,
                                                     listener: socket.socket, kind: str) -> None:
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/evil.dtd"
    doctype = {
        "system-dtd": f'<!DOCTYPE OAI-PMH SYSTEM "{url}">',
        "public-dtd": f'<!DOCTYPE OAI-PMH PUBLIC "-//EVIL//DTD//EN" "{url}">',
        "parameter-entity": f'<!DOCTYPE OAI-PMH [<!ENTITY % ext SYSTEM "{url}"> %ext;]>',
        "entity": f'<!DOCTYPE OAI-PMH [<!ENTITY leak SYSTEM "{url}">]>',
    }[kind].encode()
    result, records = run_hostile(store, oai_server, chain(with_doctype(doctype), title_to(b"&leak;")))
    assert result.status == "ok", result.error
    hostile = assert_others_exact(store, records, allowed={"doctype-removed"})
    assert "recovered-parse" in codes(hostile) or hostile.error
    with pytest.raises(BlockingIOError):  # nobody ever connected
        listener.accept()


# -- structure and bytes ---------------------------------------------------------------------------

def test_ten_thousand_deep_nesting_fails_only_its_record(store: Any, oai_server: Any) -> None:
    deep = b"<n>" * 10_000 + b"deep" + b"</n>" * 10_000
    result, records = run_hostile(store, oai_server, title_to(deep))
    assert result.status == "ok", result.error
    assert (result.failed, result.new) == (1, 5)
    hostile = assert_others_exact(store, records)
    assert hostile.error and "unparseable-record" in codes(hostile)


def test_invalid_utf8_is_replaced_and_reported_on_its_record(store: Any, oai_server: Any) -> None:
    result, records = run_hostile(store, oai_server, title_to(b"Nh\xe3 nh\xa1c \xff\xfe\xc3( end"))
    assert result.status == "ok", result.error
    assert (result.failed, result.new) == (0, 6)
    hostile = assert_others_exact(store, records)
    assert hostile.error is None
    assert codes(hostile).count("invalid-encoding") == 5  # e3, a1, ff, fe, c3
    assert "\ufffd" in hostile.xml and "end</dc:title>" in hostile.xml


def test_nul_bytes_are_removed_and_reported_on_their_record(store: Any, oai_server: Any) -> None:
    result, records = run_hostile(store, oai_server, title_to(b"a\x00b&#0;c\x00\x00d"))
    assert result.status == "ok", result.error
    hostile = assert_others_exact(store, records)
    assert hostile.error is None and ">abcd</dc:title>" in hostile.xml
    assert set(codes(hostile)) == {"illegal-xml-char", "illegal-char-ref"}
    assert "\x00" not in store_text(store)


@pytest.mark.parametrize("declared", [b"UTF-16", b"ISO-8859-1"])
def test_lying_encoding_declaration_is_reported_on_every_record(store: Any, oai_server: Any,
                                                                declared: bytes) -> None:
    """The whole page lies, so each of its records says so (the diagnostic is kept with
    what it concerns; a page-level note would be lost with the page)."""
    def lie(body: bytes) -> bytes:
        return body.replace(b'encoding="UTF-8"', b'encoding="' + declared + b'"', 1)

    result, records = run_hostile(store, oai_server, lie)
    assert result.status == "ok", result.error
    assert (result.failed, result.new) == (0, 6)
    got = stored(store)
    assert all("charset-mismatch" in codes(row) for row in got.values())
    if declared == b"UTF-16":  # impossible for these bytes: ignored, the text is exact
        for r in records:
            assert r.metadata["oai_dc"] in got[r.identifier].xml
    else:  # a possible but wrong single-byte charset: read as declared, and flagged
        assert any("Nhã" not in row.xml and "Nh" in row.xml for row in got.values())


def test_one_record_in_another_encoding_is_flagged_alone(store: Any, oai_server: Any) -> None:
    latin1 = "Ca trù & Quan họ".encode("utf-8").decode("utf-8").encode("latin-1", "replace")
    result, records = run_hostile(store, oai_server, title_to(latin1.replace(b"&", b"&amp;")))
    assert result.status == "ok", result.error
    hostile = assert_others_exact(store, records)
    assert "invalid-encoding" in codes(hostile) and hostile.error is None


# -- big bodies: memory bounded, measured in a subprocess ------------------------------------------

_HARVEST_SCRIPT = r"""
import json, sys
from harvester.config import Partner, SourceConfig
from harvester.harvest import Harvester
from harvester.store.engine import open_store
url, store = sys.argv[1:3]
harvester = Harvester(open_store(store), sleep=lambda s: None)
result = harvester.harvest(SourceConfig(name="rel-src", url=url, partner=Partner(name="x", country="KR"),
                                        retries=1, timeout_s=120))
print(json.dumps(result.as_json()))
"""


def harvest_in_subprocess(url: str, store_url: str) -> tuple[dict[str, Any], float]:
    """The harvest's JSON summary and the subprocess's peak RSS in MB (from wait4)."""
    proc = subprocess.Popen([sys.executable, "-c", _HARVEST_SCRIPT, url, store_url],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.stdout.read(), proc.stderr.read()  # type: ignore[union-attr]
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    proc.stdout.close()  # type: ignore[union-attr]
    proc.stderr.close()  # type: ignore[union-attr]
    assert proc.returncode == 0, err.decode(errors="replace")[-3000:]
    return json.loads(out.decode().strip().splitlines()[-1]), usage.ru_maxrss / 1024


def test_huge_text_node_fails_its_record_with_bounded_memory(oai_server: Any, tmp_path: Path) -> None:
    size = TEXT_MB << 20
    records = make_records(5)
    plain = oai_server(records, page_size=10, gzip=False)
    base, base_rss = harvest_in_subprocess(plain.base_url, f"sqlite:///{tmp_path}/base.db")
    assert base["status"] == "ok" and base["new"] == 5
    server = oai_server(records, page_size=10, gzip=False,
                        faults=[inject(title_to(b"A" * size), verb="ListRecords", times=None)])
    summary, rss = harvest_in_subprocess(server.base_url, f"sqlite:///{tmp_path}/store.db")
    assert summary["status"] == "ok", summary["error"]
    assert (summary["failed"], summary["new"]) == (1, 4)
    from harvester.store.engine import open_store

    engine = open_store(f"sqlite:///{tmp_path}/store.db")
    try:
        hostile = assert_others_exact(engine, records)
        assert hostile.error and "refused" in hostile.error
    finally:
        engine.dispose()
    grown = rss - base_rss
    print(f"\n{TEXT_MB} MB text node: peak RSS {rss:.0f} MB, {grown:.0f} MB over a small page")
    assert grown < 10 * TEXT_MB  # a few copies of the page at most, not a tree of it


def _gzip_of_zeros(mib: int) -> bytes:
    """``mib`` MiB of zeros as that many concatenated gzip members (RFC 1952 allows it):
    about 1 KB each, so the bomb is cheap to build."""
    return gzip.compress(b"\0" * (1 << 20), compresslevel=9) * mib


def test_gzip_bomb_is_refused_with_bounded_memory(oai_server: Any, tmp_path: Path) -> None:
    bomb = _gzip_of_zeros(2048)  # 2 GiB of zeros in about 2 MB

    def send_bomb(server: FaultyProviderServer, exchange: Exchange) -> None:
        exchange.send_raw(200, [("Content-Type", "text/xml; charset=utf-8"),
                                ("Content-Encoding", "gzip")], bomb)

    server = oai_server(make_records(5), faults=[Fault("bomb", send_bomb, When(verb="ListRecords"), None)])
    summary, rss = harvest_in_subprocess(server.base_url, f"sqlite:///{tmp_path}/store.db")
    assert summary["status"] == "failed"
    assert "larger than" in (summary["error"] or "")
    print(f"\ngzip bomb (2 GiB in {len(bomb) >> 20} MB): refused, peak RSS {rss:.0f} MB")
    assert rss < 1024, f"peak RSS {rss:.0f} MB while refusing a gzip bomb"
    assert len([r for r in server.requests if r.params.get("verb") == "ListRecords"]) == 1  # no retry


def test_body_cap_applies_to_plain_and_compressed_bodies(oai_server: Any) -> None:
    """The cap, small here: plain and inflated bodies alike; gzip members and both deflate
    framings still decode under it; over it, one request and a clear, unretried error."""
    import zlib

    import httpx

    from harvester.errors import HarvestError
    from harvester.oai.client import OAIClient, _decompress

    page = b"<OAI-PMH>" + b"x" * 5000 + b"</OAI-PMH>"
    assert _decompress(gzip.compress(page[:2000]) + gzip.compress(page[2000:]), "gzip", 6000)[0] == page
    assert _decompress(zlib.compress(page), "deflate", 6000)[0] == page
    raw_deflate = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    assert _decompress(raw_deflate.compress(page) + raw_deflate.flush(), "deflate", 6000)[0] == page
    assert _decompress(page, "gzip", 6000)[1] is not None  # the gzip lie is still a note

    records = make_records(40)
    for gzipped in (False, True):
        server = oai_server(records, page_size=40, gzip=gzipped)
        with httpx.Client() as http:
            client = OAIClient(server.base_url, http=http, sleep=lambda s: None, max_body_bytes=16_000)
            client.identify()  # small: under the cap
            with pytest.raises(HarvestError, match=r"body larger than 16,000 bytes") as caught:
                client.list_page("ListRecords", metadata_prefix="oai_dc")
        assert not caught.value.retryable and client.retries == 0
        assert [r.params.get("verb") for r in server.requests] == ["Identify", "ListRecords"]
