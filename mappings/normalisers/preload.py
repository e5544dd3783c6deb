"""Build every vocabulary table now rather than on first use.

The tables are built lazily so that a command which maps nothing pays nothing, but the first
record a process maps pays for all of them (about 70 ms: YAML, phrase alternations, the
script and separator translate tables).  ``ichlinks remap`` forks one worker per core; built
once in the parent before the fork, the tables are shared by every worker instead of being
built again in each.
"""

from __future__ import annotations


def preload() -> None:
    """Load the vocabularies and build the lookup tables every normaliser reads."""
    from mappings.normalisers import (categories, countries, domains, folding, languages, media,
                                      rights, scripts)

    scripts._script_table()
    folding._separators()
    languages._tables()
    countries._tables()
    categories._tables()
    domains._matcher()
    media._tables()
    rights._tables()
