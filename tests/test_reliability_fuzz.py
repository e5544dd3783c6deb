"""Fuzzing real captured pages through the parser and into the store.

Each example takes one of the real OAI-PMH responses in ``../shared/samples/oai`` and
damages it: flipped bytes, cuts, deletions, and insertions of control characters,
invalid UTF-8, markup fragments and entity declarations (billion laughs, an external
entity naming a secret file).  The damaged page goes through ``parse_response`` and
``store_page`` on SQLite and PostgreSQL, and then:

- nothing but a ``harvester.errors`` exception ever leaves the parser, and ``store_page``
  raises nothing (one bad record must never fail its page's transaction);
- every stored record re-parses on its own to the same identifier, and one stored
  without an error still parses without one;
- no entity was expanded and the secret file was never read into the store.

CI runs a few dozen examples per store; ``ICHLINKS_FUZZ_EXAMPLES=5000`` is the long
manual mode.  Run as a script, the same property is fuzzed coverage-guided by atheris
(installed on the side, not a project dependency; see the ``__main__`` block).
"""

from __future__ import annotations

import itertools
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from oai_fixtures import SAMPLES_DIR
from sqlalchemy import select
from sqlalchemy.orm import Session

from harvester.errors import IchlinksError
from harvester.oai.response import parse_response
from harvester.store.models import RawRecord
from harvester.store.raw import store_page

EXAMPLES = int(os.environ.get("ICHLINKS_FUZZ_EXAMPLES", "40"))
SECRET = "ICHLINKS-FUZZ-SECRET-51c7"


def _samples() -> list[tuple[str, bytes]]:
    """The captured pages that hold records, small enough to fuzz quickly."""
    found = []
    for path in sorted(SAMPLES_DIR.glob("*.xml")):
        body = path.read_bytes()
        if len(body) <= 60_000 and (b"<record" in body or b":record" in body):
            found.append((path.name, body))
    return found


SAMPLES = _samples()
_SECRET_FILE = Path(os.environ.get("TMPDIR", "/tmp")) / f"ichlinks-fuzz-secret-{os.getpid()}.txt"

SNIPPETS = [
    b"\x00", b"\x01", b"\x08", b"\x0b", b"\x0c", b"\x1f", b"\x7f", b"\xc2\x80", b"\xc2\x9f",
    b"\xff", b"\xfe", b"\xff\xfe", b"\xc3", b"\xe3\x81", b"\xed\xa0\x80", b"\xf4\x90\x80\x80",
    b"\xef\xbb\xbf", b"\xef\xbf\xbe", b"&#0;", b"&#x1F;", b"&#xD800;", b"&#xFFFE;", b"&#1114112;",
    b"&#x110000;", b"&#", b"&amp", b"&lol9;", b"&xxe;", b"&undefined;", b"<", b">", b"&", b"]]>",
    b"<![CDATA[", b"]]>", b"<!--", b"-->", b"<?pi x?>", b"</record>", b"<record>", b"</header>",
    b"<header>", b"</metadata>", b"<identifier></identifier>", b"<datestamp>yesterday</datestamp>",
    b"<resumptionToken>tok&amp;en</resumptionToken>", b"</OAI-PMH>", b'xmlns:dc=""',
    b'xmlns="urn:x"', b'"', b"'", b"\r", b"\r\n", b"\t", "판소리 Қазақ".encode(),
    b'<?xml version="1.0" encoding="UTF-16"?>', b'<?xml version="1.0" encoding="ISO-8859-1"?>',
]


def _doctype(kind: str) -> bytes:
    if kind == "laughs":
        entities = ['<!ENTITY lol "lol">'] + [
            f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
            for i in range(1, 10)]
        return f'<!DOCTYPE OAI-PMH [{"".join(entities)}]>'.encode()
    if kind == "xxe":
        return f'<!DOCTYPE OAI-PMH [<!ENTITY xxe SYSTEM "{_SECRET_FILE.as_uri()}">]>'.encode()
    return b'<!DOCTYPE OAI-PMH SYSTEM "http://127.0.0.1:9/evil.dtd">'


position = st.integers(min_value=0, max_value=10**7)
edits = st.lists(st.one_of(
    st.tuples(st.just("flip"), position, st.integers(min_value=1, max_value=255)),
    st.tuples(st.just("cut"), position),
    st.tuples(st.just("delete"), position, st.integers(min_value=1, max_value=200)),
    st.tuples(st.just("insert"), position, st.sampled_from(SNIPPETS)),
    st.tuples(st.just("insert"), position, st.binary(min_size=1, max_size=6)),
    st.tuples(st.just("doctype"), st.sampled_from(["laughs", "xxe", "dtd"])),
), min_size=1, max_size=6)


def mutate(body: bytes, changes: list[tuple[Any, ...]]) -> bytes:
    data = bytearray(body)
    for change in changes:
        kind = change[0]
        if kind == "doctype":
            end = data.find(b"?>")
            at = end + 2 if 0 <= end < 200 else 0
            data[at:at] = b"\n" + _doctype(change[1]) + b"\n"
            continue
        at = change[1] % (len(data) + 1)
        if kind == "flip" and at < len(data):
            data[at] ^= change[2]
        elif kind == "cut":
            del data[at:]
        elif kind == "delete":
            del data[at:at + change[2]]
        elif kind == "insert":
            data[at:at] = change[2]
    return bytes(data)


@pytest.fixture(scope="module", autouse=True)
def secret_file() -> Any:
    _SECRET_FILE.write_text(SECRET)
    yield _SECRET_FILE
    _SECRET_FILE.unlink(missing_ok=True)


_names = itertools.count()


@settings(max_examples=EXAMPLES, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(sample=st.sampled_from(SAMPLES), changes=edits)
def test_damaged_real_pages_parse_store_and_reparse(store: Any, sample: tuple[str, bytes],
                                                    changes: list[tuple[Any, ...]]) -> None:
    name, original = sample
    body = mutate(original, changes)
    try:
        response = parse_response(body)
    except IchlinksError as exc:
        event(f"refused: {type(exc).__name__}")
        return  # a page that is not OAI-PMH any more: refused with the harvester's own error
    source = f"fuzz-{next(_names)}"
    with Session(store) as s, s.begin():
        counts = store_page(s, source=source, metadata_prefix="oai_dc", records=response.records,
                            now=datetime.now(timezone.utc), epoch=1)
    with Session(store) as s:
        rows = s.scalars(select(RawRecord).where(RawRecord.source == source)).all()
    assert len(rows) == len({r.header.identifier for r in response.records})
    assert counts.records == len(response.records)
    event(f"stored: {'some failed records' if counts.failed else 'no failed record'}")
    event(f"page diagnostics: {'yes' if response.diagnostics else 'no'}")
    for row in rows:
        assert SECRET not in row.xml and SECRET not in (row.diagnostics or "")
        assert "lollollol" not in row.xml
        again = parse_response(row.xml.encode("utf-8"))
        assert len(again.records) == 1, (name, row.identifier)
        reparsed = again.records[0]
        assert reparsed.header.identifier == row.identifier, name
        if row.error is None:
            assert reparsed.error is None, (name, row.identifier, reparsed.error)


def test_the_fuzzer_has_real_pages_and_damages_them() -> None:
    assert len(SAMPLES) >= 20
    name, body = SAMPLES[0]
    assert mutate(body, [("cut", 10)]) == body[:10]
    assert mutate(body, [("insert", 0, b"\x00")]) == b"\x00" + body
    assert b"<!ENTITY lol9" in mutate(body, [("doctype", "laughs")])


def _check_one_input(data: bytes, engine: Any) -> None:
    """The property of the hypothesis test, for one raw input (the atheris harness)."""
    try:
        response = parse_response(data)
    except IchlinksError:
        return
    source = f"fuzz-{next(_names)}"
    with Session(engine) as s, s.begin():
        store_page(s, source=source, metadata_prefix="oai_dc", records=response.records,
                   now=datetime.now(timezone.utc), epoch=1)
    with Session(engine) as s:
        rows = s.scalars(select(RawRecord).where(RawRecord.source == source)).all()
    for row in rows:
        reparsed = parse_response(row.xml.encode("utf-8")).records
        assert len(reparsed) == 1 and reparsed[0].header.identifier == row.identifier
        assert row.error is not None or reparsed[0].error is None


if __name__ == "__main__":
    # Coverage-guided mode, outside pytest and CI (atheris is not a project dependency):
    #   pip install --target /tmp/atheris atheris
    #   PYTHONPATH=/tmp/atheris:tests python tests/test_reliability_fuzz.py -runs=200000 CORPUS_DIR
    # CORPUS_DIR is seeded with the sample pages on first use.
    import sys
    import tempfile

    import atheris

    from harvester.store.engine import open_store

    corpus = next((Path(a) for a in sys.argv[1:] if not a.startswith("-")), None)
    if corpus is not None and not any(corpus.glob("*")):
        corpus.mkdir(parents=True, exist_ok=True)
        for sample_name, sample_body in SAMPLES:
            (corpus / sample_name).write_bytes(sample_body)
    _SECRET_FILE.write_text(SECRET)
    fuzz_engine = open_store(f"sqlite:///{tempfile.mkdtemp()}/fuzz.db")
    atheris.instrument_all()
    atheris.Setup(sys.argv, lambda data: _check_one_input(data, fuzz_engine))
    atheris.Fuzz()
