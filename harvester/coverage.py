"""Which ICH record fields a crosswalk filled: the measure behind the partner report and the probe.

Both answer the same question for an operator ("is the description mapped for most records?"),
so they must count a field as filled by the same rule.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

# Set by the harvester and the crosswalk for every record, so their coverage says nothing.
_ALWAYS_SET = frozenset({"schema_version", "id", "source", "partner", "oai", "provenance"})


@lru_cache(maxsize=1)
def coverage_fields() -> tuple[str, ...]:
    """The ICH schema's fields a partner's data can fill, in the schema's order."""
    from mappings import ich_json_schema

    return tuple(f for f in ich_json_schema()["properties"] if f not in _ALWAYS_SET)


def filled(value: Any) -> bool:
    """A field counts as filled when it holds anything; an object when any of its members does."""
    if isinstance(value, dict):
        return any(v not in (None, "", [], {}) for v in value.values())
    return value not in (None, "", [], {})


def coverage_percent(filled_counts: dict[str, int], total: int) -> dict[str, float]:
    """Percent of ``total`` records filling each field, to one decimal (0 records: all 0.0)."""
    return {f: round(100.0 * filled_counts.get(f, 0) / (total or 1), 1) for f in coverage_fields()}
