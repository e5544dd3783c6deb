"""Golden cases: each crosswalk's output for real and hand-written records, reviewed by a person.

To see what changed: ``python -m mappings.golden``; to accept a reviewed change:
``python -m mappings.golden --update <crosswalk>`` (it prints the diff it writes).
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from mappings import available_crosswalks, ich_json_schema
from mappings.golden import cases, diff

GOLDEN = Path(__file__).resolve().parent / "golden"
CASES = cases(GOLDEN)


def test_every_crosswalk_has_golden_cases():
    covered = {case.crosswalk for case in CASES}
    missing = sorted(set(available_crosswalks()) - covered)
    assert not missing, f"crosswalks without golden cases: {missing}"
    assert covered <= set(available_crosswalks()), "golden folder for an unknown crosswalk"


def test_every_case_has_a_reviewed_expected_file():
    missing = [f"{c.crosswalk}/{c.name}" for c in CASES if not c.expected_path.is_file()]
    assert not missing, f"run python -m mappings.golden --update and review: {missing}"


@pytest.mark.parametrize("case", CASES, ids=[f"{c.crosswalk}/{c.name}" for c in CASES])
def test_golden_case(case):
    assert case.expected() is not None, "no expected file"
    assert case.actual() == case.expected(), "\n" + diff(case)


@pytest.mark.parametrize("case", CASES, ids=[f"{c.crosswalk}/{c.name}" for c in CASES])
def test_golden_records_satisfy_the_schema(case):
    expected = case.expected()
    assert expected is not None
    if expected["quarantined"]:
        assert any(d[0] == "error" for d in expected["diagnostics"])
        return
    jsonschema.validate(expected["record"], ich_json_schema())


def _records() -> list[dict]:
    return [e["record"] for e in (c.expected() for c in CASES) if e and not e["quarantined"]]


def test_golden_cases_cover_the_four_categories():
    assert {r["category"] for r in _records()} == {"element", "resource", "stakeholder", "event"}


def test_golden_cases_cover_the_regions_languages_and_scripts():
    tags = {value["lang"] for r in _records()
            for field in ("title", "alternative_titles", "description")
            for value in r[field]}
    for tag in ("ko", "vi", "kk", "mn", "mn-Mong", "th", "hi", "ja", "zh", "uz", "uz-Cyrl", "km"):
        assert tag in tags, tag


def test_expected_files_are_canonical_json():
    for case in CASES:
        text = case.expected_path.read_text(encoding="utf-8")
        assert text == json.dumps(json.loads(text), ensure_ascii=False, indent=2) + "\n", case.name
