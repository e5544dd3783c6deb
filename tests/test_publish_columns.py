"""ichlinks publish: what column headers mean."""

from __future__ import annotations

import pytest

from harvester.publishing import parse_header


@pytest.mark.parametrize("header, field, lang", [
    ("title", "title", None),
    ("Title", "title", None),
    ("  dc:title ", "title", None),
    ("dcterms:alternative", "alternative", None),
    ("DC.Subject", "subject", None),
    ("title@ko", "title", "ko"),
    ("Title@VI", "title", "vi"),
    ("description@kk", "description", "kk"),
    ("title@mn-Mong", "title", "mn-Mong"),
    ("subject 2", "subject", None),
    ("subject_3", "subject", None),
    ("Subject (4)", "subject", None),
    ("subject.1", "subject", None),
    ("title 2@th", "title", "th"),
    ("title@th 2", "title", "th"),
    ("id", "identifier", None),
    ("Local ID", "identifier", None),
    ("type", "type", None),
    ("category", "category", None),
    ("coverage", "coverage", None),
    ("dcterms:spatial", "place", None),
    ("country", "country", None),
    ("date", "date", None),
    ("last_modified", "modified", None),
    ("modified", "modified", None),
    ("image", "media", None),
    ("Media", "media", None),
    ("creator", "creator", None),
    ("language", "language", None),
    ("rights", "rights", None),
    ("licence", "rights", None),
])
def test_recognised_headers(header: str, field: str, lang: str | None) -> None:
    column = parse_header(header)
    assert (column.field, column.lang) == (field, lang)
    assert not column.unknown_language


def test_a_language_name_or_three_letter_code_is_normalised() -> None:
    assert parse_header("title@Korean").lang == "ko"
    assert parse_header("title@kaz").lang == "kk"


def test_a_region_subtag_is_not_taken_for_a_repeated_column() -> None:
    column = parse_header("title@es-419")
    assert column.field == "title" and column.lang_tag == "es-419"


def test_unknown_headers_and_tags_are_reported_not_guessed() -> None:
    assert parse_header("Notes for the committee").field is None
    assert parse_header("subjectivity").field is None
    column = parse_header("title@xx-nonsense")
    assert column.field == "title" and column.lang is None and column.unknown_language
    assert column.lang_tag == "xx-nonsense"
