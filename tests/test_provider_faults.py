"""The test provider's faults really happen; canned samples are served byte-for-byte."""

from __future__ import annotations

import email.utils
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

import httpx
import pytest
from lxml import etree
from oai_fixtures import (ANY, LANGUAGES, SAMPLES_DIR, CannedServer, FaultyProviderServer, Route,
                          control_chars_in_titles, delay, empty_pages, error, expire_tokens,
                          gzip_lie, http_date, inject, make_records, nsdl_four_page_routes,
                          parse_oai, raw, repeat_token, reset, sample_bytes, status, token_chain,
                          token_of, truncate, wrong_charset)
from sickle import Sickle

from harvester.provider import OAI_NAMESPACE

NS = {"o": OAI_NAMESPACE, "dc": "http://purl.org/dc/elements/1.1/"}
ServerFactory = Callable[..., FaultyProviderServer]
CannedFactory = Callable[..., CannedServer]
LIST = {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc"}


def token_in(response: httpx.Response) -> str | None:
    return parse_oai(response.content).findtext(".//o:resumptionToken", namespaces=NS)


def raw_exchange(url: str, query: str) -> tuple[bytes, bytes]:
    """Send one GET by hand and read until the server closes: (head, body) as received."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=5) as sock:
        sock.sendall(f"GET {parts.path}?{query} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    return head, body


# -- HTTP-level faults -------------------------------------------------------------

def test_status_503_with_retry_after_then_normal(oai_server: ServerFactory) -> None:
    server = oai_server(faults=[status(503, retry_after="5")])
    with httpx.Client() as client:
        first = client.get(server.base_url, params={"verb": "Identify"})
        second = client.get(server.base_url, params={"verb": "Identify"})
    assert first.status_code == 503 and first.headers["Retry-After"] == "5"
    assert second.status_code == 200 and parse_oai(second.content) is not None
    assert [r.fault for r in server.requests] == ["status(503)", None]


def test_status_429_with_http_date_and_500_without(oai_server: ServerFactory) -> None:
    when = http_date(120)
    server = oai_server(faults=[status(429, retry_after=when), status(500)])
    first = httpx.get(server.base_url, params={"verb": "Identify"})
    second = httpx.get(server.base_url, params={"verb": "Identify"})
    assert first.status_code == 429
    assert email.utils.parsedate_to_datetime(first.headers["Retry-After"]).tzinfo is not None
    assert second.status_code == 500 and "Retry-After" not in second.headers


def test_delay_makes_a_short_read_timeout_fire(oai_server: ServerFactory) -> None:
    server = oai_server(faults=[delay(0.6)])
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(server.base_url, params={"verb": "Identify"}, timeout=0.1)
    assert httpx.get(server.base_url, params={"verb": "Identify"}, timeout=5).status_code == 200


def test_truncate_declares_the_full_length_and_sends_a_prefix(oai_server: ServerFactory) -> None:
    server = oai_server(faults=[truncate(100), truncate(100)], gzip=False)
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(server.base_url, params=LIST)
    head, body = raw_exchange(server.base_url, "verb=ListIdentifiers&metadataPrefix=oai_dc")
    declared = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length")))
    assert len(body) == 100 < declared
    assert body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')


def test_reset_drops_the_connection_abruptly(oai_server: ServerFactory) -> None:
    server = oai_server(faults=[reset(verb="ListIdentifiers")])
    with httpx.Client() as client:
        assert client.get(server.base_url, params={"verb": "Identify"}).status_code == 200
        with pytest.raises(httpx.ReadError) as caught:
            client.get(server.base_url, params=LIST)
        chain, cause = [], caught.value
        while cause is not None:
            chain.append(cause)
            cause = cause.__cause__ or cause.__context__
        assert any(isinstance(c, ConnectionResetError) for c in chain)
        assert client.get(server.base_url, params=LIST).status_code == 200


def test_gzip_lie_breaks_decoding(oai_server: ServerFactory) -> None:
    server = oai_server(faults=[gzip_lie(times=2)])
    with pytest.raises(httpx.DecodingError):
        httpx.get(server.base_url, params={"verb": "Identify"})
    with httpx.stream("GET", server.base_url, params={"verb": "Identify"}) as response:
        assert response.headers["Content-Encoding"] == "gzip"
        parse_oai(b"".join(response.iter_raw()))   # plain XML under the gzip label


def test_wrong_charset_misleads_a_header_trusting_decoder(oai_server: ServerFactory) -> None:
    server = oai_server(make_records(3), faults=[wrong_charset("iso-8859-1")])
    response = httpx.get(server.base_url, params={"verb": "ListRecords", "metadataPrefix": "oai_dc"})
    assert response.headers["Content-Type"] == "text/xml; charset=iso-8859-1"
    assert "판소리" in response.content.decode("utf-8")
    assert "판소리" not in response.text
    parse_oai(response.content)   # the bytes themselves are still good UTF-8 XML


def test_inject_puts_illegal_characters_into_the_body(oai_server: ServerFactory) -> None:
    server = oai_server(make_records(3), faults=[inject(control_chars_in_titles)])
    response = httpx.get(server.base_url, params={"verb": "ListRecords", "metadataPrefix": "oai_dc"})
    assert response.content.count(b"\x0b\x01</dc:title>") == 6
    with pytest.raises(etree.XMLSyntaxError):
        etree.fromstring(response.content)
    assert server.requests[0].fault == "inject(control_chars_in_titles)"


def test_raw_and_error_answers(oai_server: ServerFactory) -> None:
    server = oai_server(faults=[raw(b"<html>maintenance</html>", "text/html"),
                                error("noRecordsMatch", verb="ListRecords"),
                                error("badArgument")])
    first = httpx.get(server.base_url, params={"verb": "Identify"})
    assert first.content == b"<html>maintenance</html>" and first.headers["Content-Type"] == "text/html"
    listed = parse_oai(httpx.get(server.base_url, params={"verb": "ListRecords",
                                                          "metadataPrefix": "oai_dc"}).content)
    assert listed.find("o:error", NS).get("code") == "noRecordsMatch"
    assert listed.find("o:request", NS).get("verb") == "ListRecords"
    bad = parse_oai(httpx.get(server.base_url, params={"verb": "Identify"}).content)
    assert bad.find("o:error", NS).get("code") == "badArgument"
    assert dict(bad.find("o:request", NS).attrib) == {}
    assert parse_oai(httpx.get(server.base_url, params={"verb": "Identify"}).content) \
        .find("o:Identify", NS) is not None


# -- token-level faults ------------------------------------------------------------

def test_repeat_token_serves_the_same_page_and_token_again(oai_server: ServerFactory) -> None:
    server = oai_server(make_records(12), page_size=5, faults=[repeat_token(times=2)])
    with httpx.Client() as client:
        first = client.get(server.base_url, params=LIST)
        token = token_in(first)
        again = client.get(server.base_url, params={"verb": "ListIdentifiers", "resumptionToken": token})
        assert again.content == first.content and token_in(again) == token
        assert client.get(server.base_url, params={"verb": "ListIdentifiers",
                                                   "resumptionToken": token}).content == first.content
        moved = client.get(server.base_url, params={"verb": "ListIdentifiers", "resumptionToken": token})
        assert token_in(moved) != token
    assert server.faults_applied() == ["repeat_token()", "repeat_token()"]


def test_empty_pages_then_the_real_list(oai_server: ServerFactory) -> None:
    records = make_records(9)
    server = oai_server(records, page_size=4, faults=[empty_pages(3)])
    seen: list[str] = []
    empties = 0
    params = dict(LIST)
    with httpx.Client() as client:
        while True:
            root = etree.fromstring(client.get(server.base_url, params=params).content)
            headers = root.findall(".//o:header/o:identifier", NS)
            empties += not headers
            seen += [h.text for h in headers]
            token = root.findtext(".//o:resumptionToken", namespaces=NS)
            if not token:
                break
            params = {"verb": "ListIdentifiers", "resumptionToken": token}
    assert empties == 3
    assert seen == [r.identifier for r in records]
    tokens = [r.params.get("resumptionToken") for r in server.requests[1:4]]
    assert len(set(tokens)) == 3     # each empty page moves on to a fresh token


def test_empty_pages_are_not_valid_oai(oai_server: ServerFactory) -> None:
    server = oai_server(faults=[empty_pages(1)])
    with pytest.raises(AssertionError):
        parse_oai(httpx.get(server.base_url, params=LIST).content)


def test_expire_tokens_refuses_every_token(oai_server: ServerFactory) -> None:
    server = oai_server(make_records(12), page_size=5, faults=[expire_tokens()])
    with httpx.Client() as client:
        first = client.get(server.base_url, params=LIST)
        assert len(parse_oai(first.content).findall(".//o:header", NS)) == 5
        for _ in range(3):
            answer = parse_oai(client.get(server.base_url, params={
                "verb": "ListIdentifiers", "resumptionToken": token_in(first)}).content)
            assert answer.find("o:error", NS).get("code") == "badResumptionToken"
    assert server.faults_applied() == ["expire_tokens()"] * 3


# -- predicates and the log --------------------------------------------------------

def test_faults_fire_by_position_verb_and_token_count(oai_server: ServerFactory) -> None:
    server = oai_server(make_records(20), page_size=4, faults=[
        status(500, nth=2),
        status(502, nth_token=2),
        status(503, verb="ListSets", times=None),
    ])
    with httpx.Client() as client:
        codes = [client.get(server.base_url, params={"verb": "Identify"}).status_code,
                 client.get(server.base_url, params={"verb": "Identify"}).status_code]
        page = client.get(server.base_url, params=LIST)
        codes.append(page.status_code)
        token = token_in(page)
        for _ in range(3):
            response = client.get(server.base_url, params={"verb": "ListIdentifiers",
                                                           "resumptionToken": token})
            codes.append(response.status_code)
            if response.status_code == 200:
                token = token_in(response)
        codes += [client.get(server.base_url, params={"verb": "ListSets"}).status_code for _ in range(2)]
    assert codes == [200, 500, 200, 200, 502, 200, 503, 503]
    assert [r.fault for r in server.requests] == [None, "status(500)", None, None, "status(502)",
                                                  None, "status(503)", "status(503)"]
    assert server.requests[0] == ("/oai", {"verb": "Identify"}, None)


def test_custom_predicate_and_faults_added_later(oai_server: ServerFactory) -> None:
    server = oai_server(faults=[status(404, where=lambda r: r.path.endswith("/gone"))])
    assert httpx.get(server.base_url + "/gone", params={"verb": "Identify"}).status_code == 404
    assert httpx.get(server.base_url, params={"verb": "Identify"}).status_code == 200
    server.add_fault(status(503, times=2))
    assert [httpx.get(server.base_url, params={"verb": "Identify"}).status_code
            for _ in range(3)] == [503, 503, 200]


# -- canned real responses ----------------------------------------------------------

def test_nsdl_four_page_chain_through_sickle(canned_server: CannedFactory) -> None:
    server = canned_server(nsdl_four_page_routes())
    sickle = Sickle(server.base_url, max_retries=0)
    assert sickle.Identify().repositoryName == "National Science Digital Library"
    headers = list(sickle.ListIdentifiers(metadataPrefix="nsdl_dc", **{"from": "2012-07-26"}))
    assert len(headers) == 733
    assert len({h.identifier for h in headers}) == 733
    sent = [r.params.get("resumptionToken") for r in server.requests if r.params["verb"] == "ListIdentifiers"]
    assert sent == [None, "0/200/733/nsdl_dc/null/2012-07-26/null",
                    "200/400/733/nsdl_dc/null/2012-07-26/null",
                    "400/600/733/nsdl_dc/null/2012-07-26/null"]


def test_canned_bodies_are_byte_for_byte(canned_server: CannedFactory) -> None:
    server = canned_server({("Identify", ANY): "phpoaipmh__GoodResponseIdentify.xml",
                            ("ListRecords", None): "pyoai__fake1-00005.xml",
                            (None, "tok"): b"<raw/>"})
    with httpx.Client() as client:
        for headers in ({"Accept-Encoding": "gzip"}, {"Accept-Encoding": "identity"}):
            identify = client.get(server.base_url, params={"verb": "Identify"}, headers=headers)
            assert identify.content == (SAMPLES_DIR / "phpoaipmh__GoodResponseIdentify.xml").read_bytes()
        records = client.get(server.base_url, params={"verb": "ListRecords", "metadataPrefix": "oai_dc"})
        assert records.content == sample_bytes("pyoai__fake1-00005.xml")
        assert client.get(server.base_url, params={"verb": "ListRecords",
                                                   "resumptionToken": "tok"}).content == b"<raw/>"
        missing = client.get(server.base_url, params={"verb": "ListSets"})
    assert missing.status_code == 404 and b"no canned route" in missing.content


def test_canned_routes_match_tokens_exactly_and_by_params(canned_server: CannedFactory) -> None:
    server = canned_server([
        Route(b"<a/>", verb="GetRecord", params={"metadataPrefix": "oai_dc"}),
        Route(b"<b/>", verb="GetRecord"),
        Route(b"<c/>", token=lambda t: t is not None and t.startswith("x"), status=503,
              content_type="text/plain"),
    ])
    with httpx.Client() as client:
        assert client.get(server.base_url, params={"verb": "GetRecord", "metadataPrefix": "oai_dc",
                                                   "identifier": "i"}).content == b"<a/>"
        assert client.get(server.base_url, params={"verb": "GetRecord", "metadataPrefix": "mods",
                                                   "identifier": "i"}).content == b"<b/>"
        third = client.get(server.base_url, params={"verb": "ListRecords", "resumptionToken": "xyz"})
        assert third.status_code == 503 and third.content == b"<c/>"
        assert client.get(server.base_url, params={"verb": "ListRecords",
                                                   "resumptionToken": "yz"}).status_code == 404


def test_canned_server_applies_faults_first(canned_server: CannedFactory) -> None:
    server = canned_server(nsdl_four_page_routes(), faults=[status(503, retry_after="1", nth_token=2)])
    url = server.base_url
    with httpx.Client() as client:
        token = token_of(client.get(url, params={"verb": "ListIdentifiers",
                                                 "metadataPrefix": "nsdl_dc"}).content)
        second = client.get(url, params={"verb": "ListIdentifiers", "resumptionToken": token})
        token = token_of(second.content)
        refused = client.get(url, params={"verb": "ListIdentifiers", "resumptionToken": token})
        retried = client.get(url, params={"verb": "ListIdentifiers", "resumptionToken": token})
    assert second.content == sample_bytes("phpoaipmh__GoodResponseFourPage_2.xml")
    assert refused.status_code == 503 and refused.headers["Retry-After"] == "1"
    assert retried.content == sample_bytes("phpoaipmh__GoodResponseFourPage_3.xml")
    assert [r.fault for r in server.requests] == [None, None, "status(503)", None]


def test_token_chain_uses_the_decoded_token_text() -> None:
    routes = token_chain("ListRecords", ["plugin-OaipmhHarvester__ListRecords.xml",
                                         "pyoai__fake1-00005.xml"])
    expected = token_of(sample_bytes("plugin-OaipmhHarvester__ListRecords.xml"))
    assert expected and "\n" in expected   # the quirky whitespace is kept, not stripped
    assert routes[1].token == expected and routes[0].token is None
    with pytest.raises(ValueError):
        token_chain("ListRecords", ["pyoai__fake1-00005.xml", "pyoai__fake1-00003.xml"])


def test_missing_sample_fails_at_construction() -> None:
    with pytest.raises(FileNotFoundError):
        CannedServer([Route("no-such-sample.xml")])


# -- the record generator -----------------------------------------------------------

def test_make_records_is_deterministic_and_multilingual() -> None:
    records = make_records(21, deleted_every=4)
    assert records == make_records(21, deleted_every=4)
    assert [r.deleted for r in records].count(True) == 5
    assert all(not r.metadata for r in records if r.deleted)
    langs = []
    for record in (r for r in records if not r.deleted):
        dc = etree.fromstring(record.metadata["oai_dc"].encode())
        titles = dc.findall("dc:title", NS)
        langs.append(titles[0].get("{http://www.w3.org/XML/1998/namespace}lang"))
        assert titles[1].get("{http://www.w3.org/XML/1998/namespace}lang") == "en"
        assert dc.findtext("dc:coverage", namespaces=NS) and dc.findall("dc:subject", NS)
    assert set(langs) == set(LANGUAGES)
    texts = " ".join(r.metadata["oai_dc"] for r in records if not r.deleted)
    for sample in ("판소리", "Cồng chiêng", "Қазақ", "Морин хуур", "โขน", "能楽", "昆曲"):
        assert sample in texts


def test_make_records_parameters() -> None:
    from datetime import datetime, timedelta, timezone
    start = datetime(2023, 5, 1, tzinfo=timezone.utc)
    records = make_records(6, sets=("a", "b:c"), start=start, step=timedelta(days=2), languages=("th",))
    assert [r.datestamp for r in records] == [start + timedelta(days=2 * i) for i in range(6)]
    assert [r.sets for r in records] == [("a",), ("b:c",)] * 3
    assert all('xml:lang="th"' in r.metadata["oai_dc"] for r in records)
    assert make_records(2, sets=())[0].sets == ()
    with pytest.raises(ValueError):
        make_records(1, languages=("xx",))
