"""Crosswalks from partner metadata formats to the ichLinks ICH record.

Pure functions of a stored raw record: no database, no network.  Crosswalks are YAML files in
``mappings/crosswalks/`` (XPaths plus a chain of named transforms); see ``mappings.transforms``
for the closed set of transforms and ``mappings.normalisers`` for the vocabularies behind them.
"""

from mappings.catalogue import available_crosswalks, load_crosswalk, suggest_crosswalk
from mappings.crosswalk import Crosswalk
from mappings.errors import MappingError
from mappings.identity import record_id
from mappings.records import MappingDiagnostic, MappingResult, RawInput, SourceContext
from mappings.schema import ich_json_schema

__all__ = [
    "Crosswalk",
    "MappingDiagnostic",
    "MappingError",
    "MappingResult",
    "RawInput",
    "SourceContext",
    "available_crosswalks",
    "ich_json_schema",
    "load_crosswalk",
    "record_id",
    "suggest_crosswalk",
]
