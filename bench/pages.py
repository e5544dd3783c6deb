"""OAI-PMH 2.0 response documents for the synthetic partner, rendered once as bytes.

Everything that would vary between runs is fixed: the responseDate is the repository's
own clock (moved only by :meth:`SyntheticRepository.change`), the base URL is nominal
rather than the port the server happened to get, and resumption tokens are
``<list>-<page>``.  So a page is byte-identical from run to run, and the floor step can
parse exactly what the harvester receives.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence

from bench.records import SyntheticRecord

OAI_NAMESPACE = "http://www.openarchives.org/OAI/2.0/"
BASE_URL = "http://127.0.0.1/oai"  # nominal: the real port changes per run, the bytes must not
PAGE_SIZE = 100
REPOSITORY_NAME = "ichLinks synthetic benchmark repository"
ADMIN_EMAIL = "bench@ichlinks.example"
SECONDS_GRANULARITY = "YYYY-MM-DDThh:mm:ssZ"
_ATTR_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"})


def _attr(value: str) -> str:
    return value.translate(_ATTR_ESCAPES)


def _text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _head(response_date: str, request_args: Mapping[str, str] | None) -> str:
    attrs = ""
    if request_args:
        # verb first, then alphabetical: one canonical order, so equal requests get equal bytes.
        ordered = sorted(request_args.items(), key=lambda kv: (kv[0] != "verb", kv[0]))
        attrs = "".join(f' {k}="{_attr(v)}"' for k, v in ordered)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<OAI-PMH xmlns="{OAI_NAMESPACE}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            f'xsi:schemaLocation="{OAI_NAMESPACE} http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd">\n'
            f"<responseDate>{response_date}</responseDate>\n"
            f"<request{attrs}>{BASE_URL}</request>\n")


def document(response_date: str, request_args: Mapping[str, str] | None, body: str) -> bytes:
    return (_head(response_date, request_args) + body + "</OAI-PMH>\n").encode()


def error(response_date: str, code: str, message: str,
          request_args: Mapping[str, str] | None = None) -> bytes:
    """Spec 3.6: errors are 200 responses; badVerb/badArgument echo no arguments."""
    echo = None if code in ("badVerb", "badArgument") else request_args
    return document(response_date, echo, f'<error code="{code}">{_text(message)}</error>\n')


def identify(response_date: str, earliest: str) -> bytes:
    body = ("<Identify>"
            f"<repositoryName>{REPOSITORY_NAME}</repositoryName><baseURL>{BASE_URL}</baseURL>"
            f"<protocolVersion>2.0</protocolVersion><adminEmail>{ADMIN_EMAIL}</adminEmail>"
            f"<earliestDatestamp>{earliest}</earliestDatestamp>"
            "<deletedRecord>persistent</deletedRecord>"
            f"<granularity>{SECONDS_GRANULARITY}</granularity></Identify>\n")
    return document(response_date, {"verb": "Identify"}, body)


def list_metadata_formats(response_date: str) -> bytes:
    body = ("<ListMetadataFormats><metadataFormat><metadataPrefix>oai_dc</metadataPrefix>"
            "<schema>http://www.openarchives.org/OAI/2.0/oai_dc.xsd</schema>"
            "<metadataNamespace>http://www.openarchives.org/OAI/2.0/oai_dc/</metadataNamespace>"
            "</metadataFormat></ListMetadataFormats>\n")
    return document(response_date, {"verb": "ListMetadataFormats"}, body)


def list_sets(response_date: str, sets: Sequence[tuple[str, str]]) -> bytes:
    items = "".join(f"<set><setSpec>{spec}</setSpec><setName>{_text(name)}</setName></set>"
                    for spec, name in sets)
    return document(response_date, {"verb": "ListSets"}, f"<ListSets>{items}</ListSets>\n")


def list_records_pages(records: Iterable[SyntheticRecord], *, total: int, list_id: str,
                       first_request: Mapping[str, str], response_date: str,
                       page_size: int = PAGE_SIZE) -> Iterator[bytes]:
    """The pages of one complete list, lazily; ``records`` must hold exactly ``total`` items.

    Tokens carry ``completeListSize`` and ``cursor`` (spec 3.5) and the last page an
    empty token, as a well-behaved repository sends them.
    """
    pages = max(1, -(-total // page_size))
    batch: list[bytes] = []
    number = 0
    for record in records:
        batch.append(record.xml)
        if len(batch) == page_size:
            yield _page(batch, number, pages, total, list_id, first_request, response_date, page_size)
            batch = []
            number += 1
    if batch or number == 0:
        yield _page(batch, number, pages, total, list_id, first_request, response_date, page_size)


def _page(batch: list[bytes], number: int, pages: int, total: int, list_id: str,
          first_request: Mapping[str, str], response_date: str, page_size: int) -> bytes:
    if number == 0:
        request = first_request
    else:
        request = {"verb": "ListRecords", "resumptionToken": f"{list_id}-{number}"}
    cursor = number * page_size
    if number + 1 < pages:
        token = (f'<resumptionToken completeListSize="{total}" cursor="{cursor}">'
                 f"{list_id}-{number + 1}</resumptionToken>\n")
    elif number > 0:
        token = f'<resumptionToken completeListSize="{total}" cursor="{cursor}"/>\n'
    else:
        token = ""
    head = _head(response_date, request).encode() + b"<ListRecords>\n"
    tail = f"{token}</ListRecords>\n</OAI-PMH>\n".encode()
    return b"".join((head, *batch, tail))


def digest(pages: Iterable[bytes]) -> str:
    """SHA-256 over a list's pages in order: equal digests, byte-identical pages."""
    h = hashlib.sha256()
    for page in pages:
        h.update(page)
    return h.hexdigest()
