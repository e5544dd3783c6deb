"""The floor: lxml parsing and field extraction of the very pages the provider serves.

No network, no store, no mapping: what one core can do with these bytes at best, so the
pipeline's figure can be read as a fraction of it.  Pages are rendered one at a time
outside the timed part, so memory stays flat whatever N is.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable
from dataclasses import dataclass

from lxml import etree


_OAI = "{http://www.openarchives.org/OAI/2.0/}"
_RECORD = f"{_OAI}record"
_IDENTIFIER = f"{_OAI}identifier"
_DATESTAMP = f"{_OAI}datestamp"
_SET_SPEC = f"{_OAI}setSpec"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


@dataclass(frozen=True)
class FloorResult:
    records: int
    deleted: int
    fields: int
    pages: int
    bytes: int
    seconds: float
    digest: str

    def as_json(self) -> dict[str, object]:
        return {"records": self.records, "deleted": self.deleted, "fields": self.fields,
                "pages": self.pages, "bytes": self.bytes, "seconds": round(self.seconds, 4),
                "records_per_s": round(self.records / self.seconds, 1) if self.seconds else None,
                "mb_per_s": round(self.bytes / 1e6 / self.seconds, 2) if self.seconds else None,
                "digest": self.digest}


def extract(page: bytes, parser: etree.XMLParser) -> tuple[int, int, int]:
    """Parse one ListRecords page and pull out what a harvester needs of each record.

    Header (identifier, datestamp, status, sets) and every metadata element's name,
    language and text; returns (records, deleted, fields).  Written the way a tuned
    harvester would (positional children, no XPath), so the floor is a real floor.
    """
    root = etree.fromstring(page, parser)
    records = deleted = fields = 0
    for record in root.iter(_RECORD):
        records += 1
        header = record[0]
        identifier = datestamp = None
        sets = []
        for child in header:
            tag = child.tag
            if tag == _IDENTIFIER:
                identifier = child.text
            elif tag == _DATESTAMP:
                datestamp = child.text
            elif tag == _SET_SPEC:
                sets.append(child.text)
        if header.get("status") == "deleted" or len(record) < 2:
            deleted += 1
            continue
        values = [(el.tag, el.get(_XML_LANG), el.text) for el in record[1][0]]
        fields += len(values)
        del identifier, datestamp, sets
    root.findtext(f"{_OAI}ListRecords/{_OAI}resumptionToken")
    return records, deleted, fields


def run_floor(pages: Iterable[bytes]) -> FloorResult:
    """Time :func:`extract` over ``pages``; the digest (untimed) proves which bytes were parsed."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    records = deleted = fields = count = size = 0
    seconds = 0.0
    sha = hashlib.sha256()
    for page in pages:
        start = time.perf_counter()
        r, d, f = extract(page, parser)
        seconds += time.perf_counter() - start
        records, deleted, fields = records + r, deleted + d, fields + f
        count += 1
        size += len(page)
        sha.update(page)
    return FloorResult(records=records, deleted=deleted, fields=fields, pages=count, bytes=size,
                       seconds=seconds, digest=sha.hexdigest())
