"""What goes into a mapping and what comes out of it.

These are plain frozen dataclasses so the harvester can build them from its store and hand them
across a process boundary without knowing anything about crosswalks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class SourceContext:
    """Per-source settings a crosswalk needs: who the partner is and their house rules."""

    source: str
    partner_name: str
    partner_country: str | None
    metadata_prefix: str
    defaults: Mapping[str, Any] = field(default_factory=dict)
    rules: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RawInput:
    """One stored raw OAI-PMH record; raw is the source of truth, so mapping can be re-run any time."""

    identifier: str
    datestamp: str | None
    sets: tuple[str, ...]
    deleted: bool
    xml: str
    sha256: str
    harvested_at: str | None
    element: Any = None


@dataclass(frozen=True)
class MappingDiagnostic:
    """A per-record message; ``value`` feeds the partner report's "top unrecognised values"."""

    level: str
    field: str
    code: str
    message: str
    value: str | None = None


@dataclass(frozen=True)
class MappingResult:
    """The ICH record (partial when quarantined) and everything the crosswalk noticed on the way."""

    record: dict[str, Any] | None
    quarantined: bool
    diagnostics: tuple[MappingDiagnostic, ...]
