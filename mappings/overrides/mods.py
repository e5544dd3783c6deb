"""MODS titles: a ``titleInfo`` is several elements that together are one title.

XPath alone cannot join ``nonSort``, ``title``, ``subTitle``, ``partNumber`` and ``partName``
with the punctuation catalogues display ("The lute : a study. Part 2, Tuning"), so the two
title fields are built here.  Nothing is dropped: every part's text ends up in the value.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mappings.normalisers.text import clean_text
from mappings.values import Env, Item

MODS = "{http://www.loc.gov/mods/v3}"
_TITLE_INFO = MODS + "titleInfo"


def _part(info: Any, name: str) -> str:
    found = info.find(MODS + name)
    return clean_text("".join(found.itertext())) if found is not None else ""


def compose_title(info: Any) -> str:
    """nonSort + title [: subTitle] [. partNumber] [, partName] (MODS 3 user guidelines)."""
    non_sort = _part(info, "nonSort")
    text = _part(info, "title")
    if non_sort:
        # nonSort keeps its own spacing rule: "L'" joins, "The" takes a space.
        text = non_sort + ("" if non_sort.endswith(("'", "’", "-")) else " ") + text
    for name, separator in (("subTitle", " : "), ("partNumber", ". "), ("partName", ", ")):
        part = _part(info, name)
        if part:
            text = f"{text}{separator}{part}" if text else part
    return text.strip()


def _titles(root: Any, alternative: bool) -> Iterator[Item]:
    # Direct children only: a relatedItem's titleInfo is the collection's title, not this item's.
    for info in root.iterchildren(_TITLE_INFO):
        if (info.get("type") is not None) == alternative:
            text = compose_title(info)
            if text:
                yield Item(text, info)


def titles(root: Any, env: Env) -> list[Item]:
    return list(_titles(root, alternative=False))


def alternative_titles(root: Any, env: Env) -> list[Item]:
    """``titleInfo`` with a type: alternative, translated, abbreviated, uniform."""
    return list(_titles(root, alternative=True))
