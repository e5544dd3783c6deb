"""Command-line search words -> indexer query: filters, year ranges, clear errors."""

from __future__ import annotations

import pytest

from harvester.errors import ConfigError
from harvester.searching import parse_filters


@pytest.mark.parametrize("value, years", [("1998", (1998, 1998)), ("1990-2000", (1990, 2000)),
                                          ("..2000", (None, 2000)), ("1990-", (1990, None)),
                                          ("1990/1995", (1990, 1995))])
def test_year_ranges(value: str, years: tuple[int | None, int | None]) -> None:
    q = parse_filters("xoan", [f"year={value}"])
    assert (q.year_from, q.year_to) == years and q.q == "xoan"


def test_filters_repeat_within_a_field() -> None:
    q = parse_filters("", ["countries=VN", "countries=KR", "category=element"], limit=5, offset=10)
    assert dict(q.filters) == {"countries": ["VN", "KR"], "category": ["element"]}
    assert (q.limit, q.offset) == (5, 10)


@pytest.mark.parametrize("bad, words", [("colour=red", "cannot filter on 'colour'"),
                                        ("countries", "FIELD=VALUE"), ("year=soon", "FROM-TO")])
def test_bad_filters_are_config_errors(bad: str, words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        parse_filters("", [bad])
