"""The server-rendered web page: search, facets, paging, record pages, languages, escaping,
accessibility hooks and security headers (TestClient; the real browser is in test_browser.py)."""

from __future__ import annotations

from typing import Any

import lxml.html
import pytest
from test_service_support import (Aggregate, TestClient, client_for, corpus,  # noqa: F401
                                  ich_record, sqlite_aggregate)

from harvester.service.web import snippet_markup, ui_catalogue, web_link

HOSTILE_TITLE = '<script>alert("t")</script>'
HOSTILE_TEXT = '"><img src=x onerror=alert(1)> & <b>bold</b>'


@pytest.fixture
def aggregate(sqlite_aggregate: Aggregate) -> Aggregate:
    """The pages do not depend on the store's dialect (the API and OAI tests run both)."""
    return sqlite_aggregate


def page(client: TestClient, url: str, status: int = 200, **kw: Any) -> lxml.html.HtmlElement:
    response = client.get(url, **kw)
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith("text/html")
    return lxml.html.fromstring(response.text)


def key(name: str) -> dict[str, Any]:
    return next(r for r in corpus() if r["oai"]["identifier"].endswith(":" + name))


def result_links(doc: lxml.html.HtmlElement) -> list[str]:
    return [a.get("href").split("?")[0].removeprefix("/records/")
            for a in doc.xpath("//li[@class='result']/h3/a")]


def test_browse_page_lists_everything_with_facets(aggregate: Aggregate) -> None:
    client = client_for(aggregate)
    response = client.get("/")
    headers = response.headers
    assert "script-src" not in headers["content-security-policy"]  # default-src 'none' covers it
    assert "default-src 'none'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    doc = lxml.html.fromstring(response.text)
    assert doc.get("lang") == "en"
    assert doc.xpath("//meta[@name='viewport']/@content") == ["width=device-width, initial-scale=1"]
    assert not doc.xpath("//script") and not doc.xpath("//@style") and not doc.xpath("//@*[starts-with(name(), 'on')]")
    skip = doc.xpath("//body/*[1]")[0]
    assert skip.tag == "a" and skip.get("href") == "#main" and doc.xpath("//main[@id='main']")
    assert doc.xpath("//label[@for='q']") and doc.xpath("//input[@id='q'][@type='search']")
    assert sorted(result_links(doc)) == sorted(r["id"] for r in corpus())
    assert doc.xpath("string(//h2[@id='results-heading'])") == f"{len(corpus())} records"
    legends = doc.xpath("//fieldset/legend/text()")
    assert {"Category", "Country", "Domain", "Partner"} <= set(legends)
    for box in doc.xpath("//fieldset//input[@type='checkbox']"):  # every checkbox has its label
        assert doc.xpath(f"//label[@for='{box.get('id')}']")
    vn = doc.xpath("//input[@name='countries'][@value='VN']")[0]
    label = doc.xpath(f"//label[@for='{vn.get('id')}']")[0].text_content()
    assert "Viet" in label and f"({sum('VN' in r.get('countries', []) for r in corpus())})" in label


def test_korean_search_highlights_and_filters_narrow(aggregate: Aggregate) -> None:
    client = client_for(aggregate)
    doc = page(client, "/", params={"q": "판소리"})
    assert result_links(doc) == [key("pansori")["id"]]
    assert doc.xpath("string(//h2[@id='results-heading'])") == "1 record"
    assert "판소리" in doc.xpath("string(//li[@class='result']//mark)")
    filtered = page(client, "/", params={"countries": "VN", "category": "element"})
    expected = {r["id"] for r in corpus() if "VN" in r.get("countries", []) and r["category"] == "element"}
    assert set(result_links(filtered)) == expected
    assert filtered.xpath("//input[@name='countries'][@value='VN']/@checked")
    nothing = page(client, "/", params={"countries": "ZZ"})
    assert result_links(nothing) == []
    assert nothing.xpath("//input[@name='countries'][@value='ZZ']/@checked")  # can be unchosen


def test_paging_links_walk_every_result(aggregate: Aggregate) -> None:
    extra = [ich_record("vn-vicas", f"page-{i:02d}", [(f"Hồ sơ số {i}", "vi")], countries=["VN"])
             for i in range(25)]
    aggregate.put_many(extra)
    client = client_for(aggregate)
    seen: list[str] = []
    url: str | None = "/?ui=en"
    pages = 0
    while url:
        doc = page(client, url)
        seen.extend(result_links(doc))
        following = doc.xpath("//nav[@class='pages']/a[@rel='next']/@href")
        if pages:
            assert doc.xpath("//nav[@class='pages']/a[@rel='prev']/@href")
        url = following[0] if following else None
        pages += 1
    assert pages == 2
    assert sorted(seen) == sorted({r["id"] for r in corpus()} | {r["id"] for r in extra})


def test_interface_language_from_parameter_or_accept_language(aggregate: Aggregate) -> None:
    client = client_for(aggregate)
    korean = page(client, "/", params={"ui": "ko"})
    assert korean.get("lang") == "ko"
    assert korean.xpath("string(//label[@for='q'])") == ui_catalogue()["text"]["ko"]["search_label"]
    vietnamese = page(client, "/", headers={"Accept-Language": "fr;q=0.9, vi;q=0.8, en;q=0.5"})
    assert vietnamese.get("lang") == "vi"
    assert page(client, "/", headers={"Accept-Language": "xx, *;q=0.1"}).get("lang") == "en"
    switch = korean.xpath("//nav[@class='languages']//a")
    assert {a.get("lang") for a in switch} == set(ui_catalogue()["languages"])
    assert korean.xpath("//nav[@class='languages']//a[@aria-current='true']/@lang") == ["ko"]


def test_every_interface_language_has_every_text() -> None:
    catalogue = ui_catalogue()
    english = set(catalogue["text"]["en"])
    assert set(catalogue["text"]) == set(catalogue["languages"])
    for language, words in catalogue["text"].items():
        assert set(words) == english, language


def test_record_page_shows_every_language_with_its_lang(aggregate: Aggregate) -> None:
    record = key("pansori")
    doc = page(client_for(aggregate), f"/records/{record['id']}")
    spans = {(s.text, s.get("lang")) for s in doc.xpath("//article//span[@lang]")}
    for field in ("title", "description"):
        for value in record[field]:
            assert (value["value"], value["lang"]) in spans
    assert doc.xpath("//h1/span/@lang") == [record["title"][0]["lang"]]
    assert doc.xpath("//a[@rel='external noopener noreferrer']/@href")[0] == record["links"]["landing_page"]
    assert "urn:ich:kr:0001" in doc.text_content()


def test_record_page_falls_back_to_an_identifier_link(aggregate: Aggregate) -> None:
    record = ich_record("kr-ichcap", "no-landing", [("Talchum", "en")],
                        identifiers=["javascript:alert(1)", "urn:x", "https://ichcap.example/talchum"])
    aggregate.put(record)
    doc = page(client_for(aggregate), f"/records/{record['id']}")
    hrefs = doc.xpath("//a/@href")
    assert "https://ichcap.example/talchum" in hrefs
    assert not any(h.startswith("javascript:") for h in hrefs)
    assert doc.xpath("//p[@class='source-link']/a/@href") == ["https://ichcap.example/talchum"]


def test_hostile_text_is_escaped_everywhere(aggregate: Aggregate) -> None:
    record = ich_record("kr-ichcap", "hostile", [(HOSTILE_TITLE, None)],
                        description=[(HOSTILE_TEXT + " hostile", "en")],
                        landing_page="javascript:alert(2)")
    aggregate.put(record)
    client = client_for(aggregate)
    for url, params in (("/", {"q": "hostile"}), (f"/records/{record['id']}", {}),
                        ("/", {"q": '"><script>x</script>'})):
        response = client.get(url, params=params)
        assert response.status_code == 200
        assert "<script" not in response.text and "<img" not in response.text
        assert "javascript:" not in response.text
    doc = lxml.html.fromstring(client.get(f"/records/{record['id']}").text)
    assert doc.xpath("string(//h1)") == HOSTILE_TITLE  # shown as text, intact
    assert doc.xpath("//h1/span/@lang") == [""]  # unknown language is declared unknown


def test_unknown_deleted_and_quarantined_record_pages(aggregate: Aggregate) -> None:
    client = client_for(aggregate)
    page(client, "/records/kr-ichcap:ffffffffffffffffffff", status=404)
    victim = key("ganggangsullae")["id"]
    aggregate.delete(victim)
    page(client, f"/records/{victim}", status=410)
    aggregate.put(key("ca-tru"), quarantined=True)
    page(client, f"/records/{key('ca-tru')['id']}", status=404)


def test_search_unavailable_is_a_friendly_503(aggregate: Aggregate) -> None:
    from harvester.service import create_app

    class Down:
        def search(self, query: Any) -> dict[str, Any]:
            raise OSError("disk gone at /srv/index")

        def close(self) -> None:
            pass

    client = TestClient(create_app(aggregate.settings, engine=aggregate.engine, backend=Down()))
    response = client.get("/", params={"q": "x"})
    assert response.status_code == 503
    assert "/srv/index" not in response.text and "Traceback" not in response.text
    assert ui_catalogue()["text"]["en"]["search_unavailable"] in response.text


def test_bad_form_values_are_ignored_not_errors(aggregate: Aggregate) -> None:
    client = client_for(aggregate)
    doc = page(client, "/", params={"offset": "-3", "year_from": "abc", "year_to": "", "q": "x" * 900})
    assert doc.xpath("//input[@id='q']/@value")[0] == "x" * 500
    assert page(client, "/", params={"offset": "99999999999"}) is not None


@pytest.mark.parametrize("snippet, html", [
    ("<b>판소리</b>는 전통", "<mark>판소리</mark>는 전통"),
    ("a &lt;spring&gt; &amp; <b>b</b>", "a &lt;spring&gt; &amp; <mark>b</mark>"),
    ("<script>x</script><b>y", "&lt;script&gt;x&lt;/script&gt;<mark>y</mark>"),
    ("</b>z<i>w</i>", "z&lt;i&gt;w&lt;/i&gt;"),
    ("&lt;b&gt;not a mark&lt;/b&gt;", "&lt;b&gt;not a mark&lt;/b&gt;"),
])
def test_snippet_markup_keeps_only_highlights(snippet: str, html: str) -> None:
    assert str(snippet_markup(snippet)) == html


@pytest.mark.parametrize("value, expected", [
    ("https://ichcap.example/x", "https://ichcap.example/x"),
    (" http://a.example/ ", "http://a.example/"),
    ("javascript:alert(1)", None), ("JaVaScRiPt:alert(1)", None), ("data:text/html,x", None),
    ("//evil.example/x", None), ("/records/x", None), ("urn:isbn:1", None), (None, None), (3, None),
    ("http://[bad", None),
])
def test_web_link_only_allows_absolute_http(value: Any, expected: str | None) -> None:
    assert web_link(value) == expected
