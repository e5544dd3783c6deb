"""Deterministic multilingual oai_dc records for the benchmark's synthetic partner.

Record ``i`` is a pure function of ``(i, version)`` and the phrase bank, so the provider and
the floor step render the very same bytes in different processes, and a run at N=100,000
shares its first 10,000 records with a run at N=10,000.  Datestamps grow with ``i`` (one
record every 157 s from 2018), so key order is index order until records are changed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

PHRASES_PATH = Path(__file__).with_name("phrases.yaml")
REPOSITORY_ID = "bench.ichlinks.example"
FIRST_DATESTAMP = datetime(2018, 1, 1, tzinfo=timezone.utc)
STEP_S = 157
MAX_RECORDS = 1_000_000  # keeps every base datestamp before the provider's clock (2025)
DELETED_EVERY, DELETED_AT = 20, 7  # 5 % tombstones
CHANGE_EVERY, CHANGE_AT = 100, 50  # the 1 % the incremental step edits; never a tombstone

OAI_DC_OPEN = ('<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" '
               'xmlns:dc="http://purl.org/dc/elements/1.1/" '
               'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
               'xsi:schemaLocation="http://www.openarchives.org/OAI/2.0/oai_dc/ '
               'http://www.openarchives.org/OAI/2.0/oai_dc.xsd">')


@dataclass(frozen=True)
class SyntheticRecord:
    """One item as rendered once: ``xml`` is the whole ``<record>`` element, ready to send."""

    index: int
    identifier: str
    datestamp: str
    set_spec: str
    deleted: bool
    xml: bytes


@lru_cache(maxsize=1)
def phrase_bank() -> dict[str, Any]:
    with PHRASES_PATH.open(encoding="utf-8") as fh:
        bank: dict[str, Any] = yaml.safe_load(fh)
    return bank


def countries() -> list[dict[str, Any]]:
    """The partner's countries, one OAI set each, in set order."""
    return list(phrase_bank()["countries"])


def stamp(value: datetime) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def base_datestamp(index: int) -> datetime:
    jitter = (index * 7_919) % (STEP_S - 7)
    return FIRST_DATESTAMP + timedelta(seconds=index * STEP_S + jitter)


def is_deleted(index: int) -> bool:
    return index % DELETED_EVERY == DELETED_AT


def is_changed_by_incremental(index: int) -> bool:
    return index % CHANGE_EVERY == CHANGE_AT


def identifier(index: int) -> str:
    country = countries()[index % len(countries())]
    return f"oai:{REPOSITORY_ID}:{country['set']}/{index:07d}"


def _esc(text: str) -> str:
    # str.translate is slow on non-ASCII text, and the phrase bank rarely needs escaping.
    if "&" in text or "<" in text or ">" in text:
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text


def _dc(name: str, value: str, lang: str | None = None) -> str:
    attr = f' xml:lang="{lang}"' if lang else ""
    return f"<dc:{name}{attr}>{_esc(value)}</dc:{name}>"


def _metadata(index: int, version: int) -> str:
    bank = phrase_bank()
    english = bank["english"]
    country = bank["countries"][index % len(bank["countries"])]
    rng = random.Random(index)
    native, english_title = rng.choice(country["elements"])
    place = rng.choice(country["places"])
    year = 1950 + rng.randrange(70)
    lang = country["lang"]
    native_text = " ".join(rng.sample(country["sentences"], 3))
    english_text = " ".join(rng.sample(english["sentences"], 3))
    if version:
        english_text = f"{english_text} {english['revision']} (revision {version})"
        native_text = f"{native_text} [{version}]"
    code = country["set"]
    parts = [
        OAI_DC_OPEN,
        _dc("title", f"{native}: {place} {year}", lang),
        _dc("title", f"{english_title} ({country['name']}, {year})", "en"),
        _dc("creator", country["institution"], lang),
        *(_dc("subject", s, lang) for s in rng.sample(country["subjects"], 2)),
        _dc("subject", rng.choice(english["domains"]), "en"),
        _dc("description", native_text, lang),
        _dc("description", english_text, "en"),
        _dc("publisher", country["institution"], lang),
        _dc("contributor", f"ICH inventory team, {country['name']}", "en"),
        _dc("date", rng.choice(english["dates"])),
        _dc("type", rng.choice(english["types"])),
        _dc("format", rng.choice(english["formats"])),
        _dc("identifier", f"https://{REPOSITORY_ID}/{code}/items/{index}"),
        _dc("language", lang),
        _dc("language", "en"),
        _dc("coverage", country["name"]),
        _dc("coverage", f"{place}, {country['native']}", lang),
        _dc("rights", rng.choice(english["rights"])),
        "</oai_dc:dc>",
    ]
    return "".join(parts)


def build_record(index: int, *, version: int = 0, datestamp: datetime | None = None) -> SyntheticRecord:
    """Record ``index`` as first published (version 0) or as edited ``version`` times."""
    if not 0 <= index < MAX_RECORDS:
        raise ValueError(f"record index must be within 0..{MAX_RECORDS - 1}, not {index}")
    country = countries()[index % len(countries())]
    ident = identifier(index)
    when = stamp(datestamp or base_datestamp(index))
    deleted = is_deleted(index)
    status = ' status="deleted"' if deleted else ""
    header = (f"<header{status}><identifier>{ident}</identifier><datestamp>{when}</datestamp>"
              f"<setSpec>{country['set']}</setSpec></header>")
    body = "" if deleted else f"<metadata>{_metadata(index, version)}</metadata>"
    xml = f"<record>{header}{body}</record>\n".encode()
    return SyntheticRecord(index=index, identifier=ident, datestamp=when, set_spec=country["set"],
                           deleted=deleted, xml=xml)
