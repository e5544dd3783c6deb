"""Field normalisers the crosswalks call as named transforms.

Pure functions over strings, backed by the YAML vocabularies in :mod:`mappings.vocab`
(loaded once, lazily) and cached per value, because they run for every field of every record.
"""

from mappings.normalisers.categories import category_from_type
from mappings.normalisers.countries import normalise_country
from mappings.normalisers.dates import ParsedDate, parse_date
from mappings.normalisers.domains import ich_domains
from mappings.normalisers.languages import (
    guess_language,
    normalise_language,
    normalise_languages,
    with_script,
)
from mappings.normalisers.media import media_type
from mappings.normalisers.rights import normalise_rights
from mappings.normalisers.text import clean_text

__all__ = [
    "ParsedDate",
    "category_from_type",
    "clean_text",
    "guess_language",
    "ich_domains",
    "media_type",
    "normalise_country",
    "normalise_language",
    "normalise_languages",
    "normalise_rights",
    "parse_date",
    "with_script",
]
