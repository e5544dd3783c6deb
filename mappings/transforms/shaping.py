"""Generic value shaping: split, select, recode. Small on purpose; no logic beyond one step each."""

from __future__ import annotations

from functools import lru_cache

from mappings.normalisers.domains import ich_domains as _ich_domains
from mappings.normalisers.text import clean_text
from mappings.transforms.registry import (ANY, DOMAIN, LANGSTRING, TEXT, URL, Param, Step,
                                          transform)
from mappings.values import Env, Item


@transform("split", accepts=(TEXT,), produces=None,
           params={"separator": Param("str", required=True)}, primary="separator")
def split(separator: str) -> Step:
    """Split packed values ("Cooking baskets; Mission Santa Clara; ...") into one value each.

    Never use on titles or descriptions: the separator characters would be lost.
    """

    def step(items: list[Item], env: Env) -> list[Item]:
        out = []
        for item in items:
            if separator not in item.text:
                out.append(item)
                continue
            out.extend(item.derive(part) for part in map(clean_text, item.text.split(separator))
                       if part)
        return out

    return step


@transform("vocab", accepts=(TEXT,), produces=None,
           params={"map": Param("map", required=True),
                   "unmatched": Param("choice", default="keep", choices=("keep", "drop", "report"))},
           primary="map")
def vocab(map: dict[str, str | None], unmatched: str) -> Step:  # noqa: A002
    """Recode values through a small table in the crosswalk file (case-insensitive keys).

    A key mapped to null drops the value; ``unmatched`` keeps, drops or reports (and drops)
    values the table does not know.
    """
    table = {key.casefold(): value for key, value in map.items()}

    def step(items: list[Item], env: Env) -> list[Item]:
        out = []
        for item in items:
            key = item.text.casefold()
            if key in table:
                if table[key] is not None:
                    out.append(item.derive(table[key]))
            elif unmatched == "keep":
                out.append(item)
            elif unmatched == "report":
                env.report("warning", "unknown-value", f"{item.text!r} is not in the crosswalk's table",
                           item.text)
        return out

    return step


@transform("unbracket", accepts=(TEXT,), produces=None)
def unbracket() -> Step:
    """Drop the square brackets ISBD puts around a whole value the cataloguer supplied ("[Japan]")."""

    def step(items: list[Item], env: Env) -> list[Item]:
        out = []
        for item in items:
            text = item.text
            if text.startswith("[") and text.endswith("]") and "]" not in text[1:-1]:
                text = clean_text(text[1:-1])
                if text:
                    out.append(item.derive(text))
            else:
                out.append(item)
        return out

    return step


@transform("first", accepts=(ANY,), produces=None)
def first() -> Step:
    """Only the first value (for single-valued sources that repeat themselves)."""

    def step(items: list[Item], env: Env) -> list[Item]:
        return items[:1]

    return step


@transform("match", accepts=(TEXT, URL), produces=None,
           params={"pattern": Param("regex", required=True)}, primary="pattern")
def match(pattern) -> Step:  # type: ignore[no-untyped-def]
    """Keep values in which the regular expression is found."""
    search = pattern.search

    def step(items: list[Item], env: Env) -> list[Item]:
        return [item for item in items if search(item.text)]

    return step


@transform("exclude", accepts=(TEXT, URL), produces=None,
           params={"pattern": Param("regex", required=True)}, primary="pattern")
def exclude(pattern) -> Step:  # type: ignore[no-untyped-def]
    """Drop values in which the regular expression is found (e.g. ``info:eu-repo`` vocabulary noise)."""
    search = pattern.search

    def step(items: list[Item], env: Env) -> list[Item]:
        return [item for item in items if not search(item.text)]

    return step


@lru_cache(maxsize=16384)
def _domains_of(text: str) -> tuple[str, ...]:
    return tuple(_ich_domains([text]))


@transform("ich_domains", accepts=(TEXT, LANGSTRING), produces=DOMAIN)
def ich_domains() -> Step:
    """The 2003 Convention domains the values (subjects, types) speak of, from keyword vocabularies."""

    def step(items: list[Item], env: Env) -> list[Item]:
        found: set[str] = set()
        for item in items:
            found.update(_domains_of(item.text))
        return [Item(code) for code in sorted(found)]

    return step
