"""Golden cases: real and hand-written records with their reviewed ICH output.

``tests/golden/<crosswalk>/<case>.xml`` is one standalone OAI ``<record>``;
``<case>.expected.json`` is what the crosswalk must make of it; an optional
``<case>.context.yaml`` gives the source context (partner, defaults, rules).

    python -m mappings.golden                 # show the diff of every case that changed
    python -m mappings.golden --update oai_dc # rewrite oai_dc's expected files, showing the diff

The diff is printed on update too: expected output is reviewed, never blindly regenerated.
"""

from __future__ import annotations

import argparse
import difflib
import hashlib
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from lxml import etree

from mappings.catalogue import load_crosswalk
from mappings.records import MappingResult, RawInput, SourceContext

OAI = "{http://www.openarchives.org/OAI/2.0/}"
HARVESTED_AT = "2024-01-01T00:00:00Z"
DEFAULT_DIR = Path("tests/golden")


def raw_from_record(element: Any, xml: str | None = None,
                    harvested_at: str | None = HARVESTED_AT) -> RawInput:
    """A RawInput for an OAI ``<record>`` element, as the harvester would store it."""
    if xml is None:
        xml = etree.tostring(element, encoding="unicode", with_tail=False)
    header = element.find(OAI + "header")
    if header is None:
        raise ValueError("not an OAI-PMH <record>: no <header>")
    return RawInput(
        identifier=(header.findtext(OAI + "identifier") or "").strip(),
        datestamp=(header.findtext(OAI + "datestamp") or "").strip() or None,
        sets=tuple((s.text or "").strip() for s in header.iterfind(OAI + "setSpec")),
        deleted=header.get("status") == "deleted",
        xml=xml,
        sha256=hashlib.sha256(xml.encode("utf-8")).hexdigest(),
        harvested_at=harvested_at,
    )


def oai_records(path: Path) -> Iterator[RawInput]:
    """Every ``<record>`` of an OAI-PMH response file, standalone (namespaces re-declared)."""
    tree = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True))
    for element in tree.iter(OAI + "record"):
        yield raw_from_record(element)


@dataclass(frozen=True)
class GoldenCase:
    crosswalk: str
    name: str
    xml_path: Path

    @property
    def expected_path(self) -> Path:
        return self.xml_path.with_name(self.name + ".expected.json")

    @property
    def context_path(self) -> Path:
        return self.xml_path.with_name(self.name + ".context.yaml")

    def context(self) -> SourceContext:
        spec: dict[str, Any] = {}
        if self.context_path.is_file():
            spec = yaml.safe_load(self.context_path.read_text(encoding="utf-8")) or {}
        return SourceContext(
            source=spec.get("source", "golden"),
            partner_name=spec.get("partner_name", "ichLinks golden partner"),
            partner_country=spec.get("partner_country"),
            metadata_prefix=spec.get("metadata_prefix", self.crosswalk),
            defaults=spec.get("defaults") or {},
            rules=spec.get("rules") or {},
        )

    def raw(self) -> RawInput:
        text = self.xml_path.read_text(encoding="utf-8")
        element = etree.fromstring(text.encode("utf-8"),
                                   etree.XMLParser(resolve_entities=False, no_network=True))
        return raw_from_record(element, text)

    def run(self) -> MappingResult:
        return load_crosswalk(self.crosswalk).map(self.raw(), self.context())

    def actual(self) -> dict[str, Any]:
        return comparable(self.run(), load_crosswalk(self.crosswalk).definition.declared_version)

    def expected(self) -> dict[str, Any] | None:
        if not self.expected_path.is_file():
            return None
        return json.loads(self.expected_path.read_text(encoding="utf-8"))


def comparable(result: MappingResult, declared_version: str) -> dict[str, Any]:
    """The result as stored in an expected file.

    The mapping version's content hash changes with every edit of the crosswalk file, so only
    its declared part is compared; diagnostic messages are prose, so only their level, field,
    code and value are.
    """
    record = json.loads(json.dumps(result.record)) if result.record is not None else None
    if record is not None:
        record["provenance"]["mapping_version"] = declared_version
    return {
        "quarantined": result.quarantined,
        "record": record,
        "diagnostics": [[d.level, d.field, d.code, d.value] for d in result.diagnostics],
    }


def dump(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def cases(root: Path = DEFAULT_DIR, crosswalk: str | None = None) -> list[GoldenCase]:
    out = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        if crosswalk and folder.name != crosswalk:
            continue
        for xml in sorted(folder.glob("*.xml")):
            out.append(GoldenCase(folder.name, xml.stem, xml))
    return out


def diff(case: GoldenCase) -> str:
    expected = case.expected()
    before = dump(expected).splitlines(keepends=True) if expected is not None else []
    after = dump(case.actual()).splitlines(keepends=True)
    return "".join(difflib.unified_diff(before, after, f"{case.expected_path} (expected)",
                                        f"{case.expected_path} (actual)"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mappings.golden", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("crosswalks", nargs="*", help="limit to these crosswalk folders")
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--update", action="store_true", help="write the actual output")
    args = parser.parse_args(argv)
    changed = 0
    for case in cases(args.dir):
        if args.crosswalks and case.crosswalk not in args.crosswalks:
            continue
        text = diff(case)
        if not text:
            continue
        changed += 1
        sys.stdout.write(text)
        if args.update:
            case.expected_path.write_text(dump(case.actual()), encoding="utf-8")
    print(f"{changed} case(s) {'updated' if args.update else 'differ'}", file=sys.stderr)
    return 1 if changed and not args.update else 0


if __name__ == "__main__":
    raise SystemExit(main())
