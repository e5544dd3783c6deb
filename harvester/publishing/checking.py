"""``ichlinks publish --check``: what a partner should fix before the aggregator harvests.

Two views per row: the publisher's own checks (no title, unknown country...), and the
aggregator's, obtained by running the real ``oai_dc`` crosswalk on exactly the XML that would
be served, so a partner sees the same quarantine decisions and diagnostics the aggregator's
report will show.  Nothing is written: the state file is left alone.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from mappings import RawInput, SourceContext, load_crosswalk
from mappings.dissemination import oai_dc_xml

from .columns import parse_header
from .readers import Input
from .repository import Publication, duplicate_problem, offers_ich
from .rows import Entry, Problem, read_entry

_OAI = "http://www.openarchives.org/OAI/2.0/"
# Crosswalk diagnostics that restate what the row itself says (it has no date of this kind,
# its text is untagged...) would drown the ones a partner can act on.
_AGGREGATOR_LEVELS = ("error", "warning")
# Aggregator diagnostic codes that say the same as one of the row's own problems.
_SAME_AS = {"no-title": ("missing-title",), "no-category": ("missing-category",),
            "unknown-category": ("missing-category",)}


@dataclass
class RowReport:
    where: str
    identifier: str | None
    title: str | None
    problems: list[Problem] = field(default_factory=list)
    aggregator: dict[str, Any] | None = None

    def aggregator_only(self) -> list[dict[str, Any]]:
        """The aggregator's diagnostics that do not just restate one of the row's own problems."""
        ours = {p.code for p in self.problems}
        ours |= {code for p in self.problems for code in _SAME_AS.get(p.code, ())}
        return [d for d in (self.aggregator or {}).get("diagnostics", []) if d["code"] not in ours]

    @property
    def errors(self) -> int:
        return (sum(p.level == "error" for p in self.problems)
                + sum(d["level"] == "error" for d in self.aggregator_only()))

    @property
    def warnings(self) -> int:
        return (sum(p.level == "warning" for p in self.problems)
                + sum(d["level"] == "warning" for d in self.aggregator_only()))

    def as_json(self) -> dict[str, Any]:
        return {"where": self.where, "identifier": self.identifier, "title": self.title,
                "problems": [p.as_json() for p in self.problems], "aggregator": self.aggregator}


@dataclass
class CheckReport:
    input: str
    kind: str
    rows: list[RowReport] = field(default_factory=list)
    recognised_columns: dict[str, str] = field(default_factory=dict)
    unrecognised_columns: list[str] = field(default_factory=list)
    formats: list[str] = field(default_factory=lambda: ["oai_dc"])

    @property
    def rows_with_errors(self) -> int:
        return sum(1 for r in self.rows if r.errors)

    @property
    def publishable(self) -> int:
        return sum(1 for r in self.rows if r.identifier is not None and not r.errors)

    @property
    def warnings(self) -> int:
        return sum(r.warnings for r in self.rows) + len(self.unrecognised_columns)

    @property
    def ok(self) -> bool:
        return self.rows_with_errors == 0

    def as_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "input": self.input, "kind": self.kind, "rows": len(self.rows),
                "publishable": self.publishable, "rows_with_errors": self.rows_with_errors,
                "warnings": self.warnings, "formats": self.formats,
                "columns": {"recognised": self.recognised_columns,
                            "unrecognised": self.unrecognised_columns},
                "items": [r.as_json() for r in self.rows]}


def record_envelope(identifier: str, datestamp: str, metadata: str) -> str:
    """A served ``<record>`` as the harvester stores it, for the crosswalk."""
    return (f'<record xmlns="{_OAI}"><header><identifier>{_escape(identifier)}</identifier>'
            f"<datestamp>{datestamp}</datestamp></header><metadata>{metadata}</metadata></record>")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def aggregator_view(entry: Entry, publication: Publication, now: datetime) -> dict[str, Any]:
    """What the aggregator's ``oai_dc`` crosswalk makes of the row as it would be served."""
    stamp = now.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert entry.local_id is not None
    identifier = publication.identifier(entry.local_id)
    xml = record_envelope(identifier, stamp, oai_dc_xml(publication.record(entry, stamp)))
    raw = RawInput(identifier=identifier, datestamp=stamp, sets=(), deleted=False, xml=xml,
                   sha256=hashlib.sha256(xml.encode("utf-8")).hexdigest(), harvested_at=None)
    context = SourceContext(source=publication.namespace, partner_name=publication.name,
                            partner_country=None, metadata_prefix="oai_dc")
    result = load_crosswalk("oai_dc").map(raw, context)
    record = result.record or {}
    return {
        "quarantined": result.quarantined,
        "category": record.get("category"),
        "countries": record.get("countries", []),
        "languages": record.get("languages", []),
        "diagnostics": [{"level": d.level, "field": d.field, "code": d.code, "message": d.message,
                         "value": d.value}
                        for d in result.diagnostics if d.level in _AGGREGATOR_LEVELS],
    }


def check_input(source: Input, publication: Publication, *,
                now: datetime | None = None) -> CheckReport:
    """Read every row, check it, and run the aggregator's crosswalk on it."""
    moment = now or datetime.now(timezone.utc)
    report = CheckReport(input=str(source.path), kind=source.kind)
    headers = source.headers()
    for header in headers or []:
        if not header:
            continue
        column = parse_header(header)
        if column.field is None:
            report.unrecognised_columns.append(header)
        else:
            report.recognised_columns[header] = column.field
    first_use: dict[str, str] = {}
    any_ich = False
    for item in source.items():
        if item.blank:
            continue
        entry = read_entry(item, media_root=source.media_root, media_base=publication.media_base)
        if headers is None:
            for name in entry.unknown_columns:
                if name not in report.unrecognised_columns:
                    report.unrecognised_columns.append(name)
        row = RowReport(entry.where, None, entry.first("title"), list(entry.problems))
        report.rows.append(row)
        if entry.local_id is None:
            continue
        if entry.local_id in first_use:
            row.problems.append(duplicate_problem(entry.local_id, first_use[entry.local_id]))
            continue
        first_use[entry.local_id] = entry.where
        row.identifier = publication.identifier(entry.local_id)
        any_ich = any_ich or offers_ich(publication.record(entry, None))
        row.aggregator = aggregator_view(entry, publication, moment)
        theirs = row.aggregator["category"]
        if entry.category is not None and theirs is not None and theirs != entry.category:
            row.problems.append(Problem(
                "warning", "category-differs",
                f"the row says {entry.category!r} but the aggregator will file it as {theirs!r} "
                "(from the type column); make type and category agree", "category", theirs))
    if any_ich:
        report.formats.append("ich")
    return report
