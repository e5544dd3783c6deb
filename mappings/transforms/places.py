"""Where: ISO country codes and named places (dc:coverage, dcterms:spatial, MODS geographic...)."""

from __future__ import annotations

import re
from functools import lru_cache

from mappings.normalisers import countries as _countries
from mappings.normalisers.text import clean_text
from mappings.transforms.language import name_language, normalised_language
from mappings.transforms.registry import (COUNTRY, PLACE, TEXT, Param, Step, first_text,
                                          transform)
from mappings.values import Env, Item


@lru_cache(maxsize=8192)
def country_code(text: str) -> str | None:
    return _countries.normalise_country(text)


@transform("country", accepts=(TEXT,), produces=COUNTRY,
           params={"unrecognised": Param("choice", default="warning",
                                         choices=("warning", "info", "ignore"))},
           primary="unrecognised")
def country(unrecognised: str) -> Step:
    """ISO 3166-1 alpha-2 code of a country name or code; other values are dropped.

    ``unrecognised`` sets how loudly a non-country is reported: a dedicated country element
    deserves a warning, a dc:coverage that is usually a town or a period only an info, a subject
    nothing at all.
    """

    def step(items: list[Item], env: Env) -> list[Item]:
        out = []
        for item in items:
            code = country_code(item.text)
            if code is None:
                if unrecognised != "ignore":
                    env.report(unrecognised, "unknown-country",
                               f"{item.text!r} is not a recognised country", item.text)
                continue
            out.append(item.derive(code))
        return out

    return step


_PARTS = re.compile(r"\s*[,;]\s*")


@lru_cache(maxsize=8192)
def is_only_a_country(text: str) -> bool:
    """True for "Viet Nam" or "Korea, Republic of"; False for "Phú Thọ, Việt Nam".

    The country normaliser also finds a country among comma-separated parts, which is right
    for ``countries`` but would throw away the province.  A value is only a country when it
    has one part, or when its parts read in reverse order ("Republic of Korea") still name
    the same country -- the ISO 3166 inverted form.
    """
    code = country_code(text)
    if code is None:
        return False
    parts = [part for part in _PARTS.split(text) if part]
    if len(parts) < 2:
        return True
    return country_code(" ".join(reversed(parts))) == code


@transform("unless_country", accepts=(TEXT,), produces=None)
def unless_country() -> Step:
    """Drop values that are just a country (they go to ``countries``; the rest are places).

    "Phú Thọ, Việt Nam" stays: it is a province, and its country is in ``countries`` too.
    """

    def step(items: list[Item], env: Env) -> list[Item]:
        return [item for item in items if not is_only_a_country(item.text)]

    return step


@transform("place", accepts=(TEXT,), produces=PLACE,
           params={"name": Param("xpath"), "lat": Param("xpath"), "lon": Param("xpath")})
def place(name, lat, lon) -> Step:  # type: ignore[no-untyped-def]
    """A named place; optional sub-XPaths (relative to the value's element) give name/lat/lon."""

    def coordinate(xpath, node, low: float, high: float, env: Env) -> float | None:  # type: ignore[no-untyped-def]
        if xpath is None:
            return None
        text = first_text(xpath, node)
        if text is None:
            return None
        try:
            value = float(text.replace(",", "."))
        except ValueError:
            env.report("warning", "bad-coordinate", f"{text!r} is not a coordinate", text)
            return None
        if not low <= value <= high:
            env.report("warning", "bad-coordinate", f"{text!r} is out of range", text)
            return None
        return value

    def step(items: list[Item], env: Env) -> list[Item]:
        out = []
        for item in items:
            label = item.text
            if name is not None:
                found = first_text(name, item.node)
                label = clean_text(found) if found else ""
            if not label:
                continue
            given = env.source_lang(item)
            tag = normalised_language(given) if given else name_language(label, env.default_language)
            data = {"name": label, "lang": tag,
                    "lat": coordinate(lat, item.node, -90.0, 90.0, env),
                    "lon": coordinate(lon, item.node, -180.0, 180.0, env)}
            out.append(item.derive(label, data=data))
        return out

    return step
