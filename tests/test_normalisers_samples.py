"""The normalisers over every Dublin Core value in the captured real-world OAI-PMH responses.

These are values cataloguers actually wrote (DSpace, EPrints, CONTENTdm, NSDL, Tethys...), so
they pin down the quirks the tables in test_normalisers.py might not think of; and a
property-based pass checks that no input at all makes a normaliser fail or break its contract.
"""

from __future__ import annotations

import re
from collections import defaultdict
from functools import cache
from pathlib import Path

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from mappings.normalisers import (
    category_from_type,
    clean_text,
    guess_language,
    ich_domains,
    media_type,
    normalise_country,
    normalise_language,
    normalise_rights,
    parse_date,
    with_script,
)

SAMPLES = Path(__file__).resolve().parents[1].parent / "shared" / "samples" / "oai"
DC_NAMESPACES = ("http://purl.org/dc/elements/1.1/", "http://purl.org/dc/terms/")

# EDTF level 0-1 forms parse_date may produce.
_DATE = r"(?:\d{4}(?:-(?:0[1-9]|1[0-2]|2[1-4])(?:-\d{2}(?:T\d{2}:\d{2}:\d{2}(?:Z|[+-]\d{2}:\d{2})?)?)?)?|\d{3}X|\d{2}XX)[~?%]?"
EDTF = re.compile(rf"{_DATE}|(?:{_DATE}|\.\.)/(?:{_DATE}|\.\.)")


def _bodies() -> list[bytes]:
    bodies = []
    for path in sorted(SAMPLES.iterdir()):
        if path.suffix == ".xml":
            bodies.append(path.read_bytes())
        elif path.suffix == ".yaml":
            cassette = yaml.safe_load(path.read_text(encoding="utf-8"))
            bodies.append(cassette["interactions"][0]["response"]["body"]["string"].encode("utf-8"))
    return bodies


@cache
def dc_values() -> dict[str, list[str]]:
    """Distinct non-empty text of every dc:/dcterms: element, by local name."""
    values: dict[str, set[str]] = defaultdict(set)
    parser = etree.XMLParser(recover=True, resolve_entities=False, no_network=True)
    for body in _bodies():
        root = etree.fromstring(body, parser)
        if root is None:
            continue
        for element in root.iter():
            if not isinstance(element.tag, str):
                continue
            namespace, _, local = element.tag[1:].partition("}")
            if namespace in DC_NAMESPACES and element.text and element.text.strip():
                values[local].add(element.text.strip())
    return {local: sorted(texts) for local, texts in values.items()}




def test_samples_have_the_fields_we_exercise() -> None:
    values = dc_values()
    for field in ("date", "language", "type", "rights", "format", "subject"):
        assert values.get(field), field


def test_every_sample_date_is_valid_edtf_or_refused() -> None:
    refused = []
    for value in dc_values()["date"] + dc_values().get("created", []) + dc_values().get("issued", []):
        parsed = parse_date(value)
        if parsed is None:
            refused.append(value)
            continue
        assert EDTF.fullmatch(parsed.edtf), (value, parsed)
        if parsed.start_year is not None and parsed.end_year is not None:
            assert parsed.start_year <= parsed.end_year, (value, parsed)
        if "~" in parsed.edtf or "?" in parsed.edtf:
            assert parsed.approximate, (value, parsed)
    # What stays refused is text with no single EDTF level 0-1 meaning.
    assert set(refused) <= {
        "1974, 2005",
        "Mission period",
        "TEST dcterms:date",
        "TEST dcterms:created",
        "TEST dcterms:issued",
        "undated",
    }


def test_every_sample_language_is_known_or_not_a_language() -> None:
    unknown = {v for v in dc_values()["language"] if normalise_language(v) is None}
    assert unknown <= {"Latn", "other", "TEST dcterms:language"}
    assert normalise_language("en_US") == "en-US"
    assert normalise_language("English (United States)") == "en-US"


def test_every_sample_type_gets_a_category_or_none_and_a_media_kind() -> None:
    kinds = {"image", "video", "audio", "text", "other"}
    categorised = 0
    for value in dc_values()["type"]:
        category = category_from_type(value)
        assert category in {None, "element", "resource", "stakeholder", "event"}
        categorised += category is not None
        assert media_type(dc_type=value) in kinds
    # Repositories of documents: nearly every type is a kind of resource.
    assert categorised >= len(dc_values()["type"]) * 3 // 4


def test_every_sample_format_gives_a_media_kind() -> None:
    for value in dc_values()["format"]:
        assert media_type(fmt=value) in {"image", "video", "audio", "text", "other"}
    assert media_type(fmt="application/pdf") == "text"
    assert media_type(fmt="jp2") == "image"


def test_every_sample_rights_value_keeps_a_statement() -> None:
    for value in dc_values()["rights"]:
        statement, uri = normalise_rights(value)
        assert statement, value
        assert uri is None or uri.startswith(("https://creativecommons.org/", "http://rightsstatements.org/"))
    assert normalise_rights("Creative Commons Attribution 4.0 International (CC BY 4.0)") == (
        "CC BY 4.0",
        "https://creativecommons.org/licenses/by/4.0/",
    )


def test_sample_subjects_give_domains_only_from_the_five() -> None:
    five = {"oral_traditions", "performing_arts", "social_practices", "knowledge_nature", "craftsmanship"}
    subjects = dc_values()["subject"]
    found = ich_domains(subjects)
    assert set(found) <= five
    # These are mostly science repositories: few subjects should look like ICH at all.
    tagged = [s for s in subjects if ich_domains([s])]
    assert len(tagged) <= len(subjects) // 20, tagged


def test_sample_coverage_gives_only_iso_codes() -> None:
    for value in dc_values().get("coverage", []) + dc_values().get("spatial", []):
        code = normalise_country(value)
        assert code is None or re.fullmatch(r"[A-Z]{2}", code), (value, code)


# --- properties over arbitrary text -----------------------------------------------------

_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)),
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(_TEXT)
def test_no_text_breaks_a_normaliser(text: str) -> None:
    assert clean_text(text) == clean_text(clean_text(text))
    parsed = parse_date(text)
    if parsed is not None:
        assert EDTF.fullmatch(parsed.edtf), parsed
    country = normalise_country(text)
    assert country is None or re.fullmatch(r"[A-Z]{2}", country)
    language = normalise_language(text)
    assert language is None or re.fullmatch(r"[a-z]{2,3}(?:-[A-Za-z0-9]{1,8})*", language)
    guess = guess_language(text)
    assert guess is None or re.fullmatch(r"[a-z]{2,3}(?:-[A-Z][a-z]{3})?", guess)
    assert with_script("mn", text).startswith("mn")
    assert set(ich_domains([text])) <= {
        "oral_traditions", "performing_arts", "social_practices", "knowledge_nature", "craftsmanship"
    }
    assert category_from_type(text) in {None, "element", "resource", "stakeholder", "event"}
    assert media_type(dc_type=text, fmt=text, url=text) in {"image", "video", "audio", "text", "other"}
    statement, uri = normalise_rights(text)
    assert (statement is None) == (clean_text(text) == "")


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=1000, max_value=2999), st.integers(1, 12), st.integers(1, 28))
def test_generated_dates_round_trip(year: int, month: int, day: int) -> None:
    iso = f"{year:04d}-{month:02d}-{day:02d}"
    assert parse_date(iso) is not None and parse_date(iso).edtf == iso  # type: ignore[union-attr]
    assert parse_date(f"{year}년 {month}월 {day}일").edtf == iso  # type: ignore[union-attr]
    assert parse_date(f"{year}年{month}月{day}日").edtf == iso  # type: ignore[union-attr]
    assert parse_date(f"c. {year}") == parse_date(f"circa {year}")
