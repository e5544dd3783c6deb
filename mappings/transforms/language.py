"""Languages: of each text value (``lang``) and of the described resource (``language``)."""

from __future__ import annotations

import re
from functools import lru_cache

from mappings.normalisers import languages as _languages
from mappings.transforms.registry import LANGSTRING, LANGUAGE, TEXT, Param, Step, transform
from mappings.values import Env, Item

# Script detection needs a sample, not a whole 10 KB abstract.
_SAMPLE = 64
# Any character outside Latin (Basic, Latin-1, Extended-A/B, Extended Additional for
# Vietnamese), combining diacritics and general punctuation.
_NOT_LATIN = re.compile("[^\x00-\u024f\u0300-\u036f\u1e00-\u1eff\u2000-\u206f]")

# ISO 639-2 special codes: "undetermined" and "no linguistic content" say nothing to index.
_NOT_A_LANGUAGE = frozenset({"und", "zxx"})

_UNRECOGNISED = Param("choice", default="warning", choices=("warning", "info", "ignore"))


@lru_cache(maxsize=4096)
def normalised_language(tag: str) -> str | None:
    return _languages.normalise_language(tag)


def _with_script(tag: str, text: str) -> str:
    if text.isascii() or _NOT_LATIN.search(text) is None:
        # Most metadata is in Latin script: then it is Latin if it has a letter at all, so one
        # cached probe per tag answers for every such value (a regex scan runs at C speed;
        # counting scripts character by character does not).
        return _latin_form(tag) if text.lower() != text.upper() else tag
    return _languages.with_script(tag, text[:_SAMPLE])


@lru_cache(maxsize=1024)
def _latin_form(tag: str) -> str:
    return _languages.with_script(tag, "a")


@lru_cache(maxsize=16384)
def _untagged(text: str, defaults: tuple[str, ...]) -> str | None:
    """Language of untagged text; cached because subjects and types repeat across a collection."""
    for default in defaults:
        if _with_script(default, text) == default:
            return default
    guess = _languages.guess_language(text[:_SAMPLE])
    if guess:
        return guess
    if defaults:
        return _with_script(defaults[0], text)
    return None


def in_script_of(tag: str, text: str) -> bool:
    """Is the text written in the language's usual script (or in no script at all)?"""
    return _with_script(tag, text) == tag


def name_language(label: str, hinted: str | None) -> str | None:
    # A Latin-script name says nothing about its language ("Ruh, Kurt" in an Italian book).
    if hinted and not in_script_of("en", label) and in_script_of(hinted, label):
        return hinted
    return _languages.guess_language(label[:_SAMPLE])


def default_languages(env: Env, hints: tuple[str, ...]) -> tuple[str, ...]:
    """The languages untagged text may be in, most specific first.

    Record-level hints (the MARC 008 language of a title) are more specific than the
    source-wide default, so they replace it rather than compete with it.
    """
    if hints:
        found = tuple(tag for tag in (env.hints.get(h) for h in hints) if tag)
        if found:
            return found
    default = env.default_language
    return (default,) if default else ()


def resolve_language(item: Item, env: Env, defaults: tuple[str, ...]) -> tuple[str | None, bool]:
    """(BCP 47 tag, guessed) for one text value.

    A source ``xml:lang`` wins (normalised, plus a script subtag when the text is not in the
    language's usual script).  Untagged text takes the default language (the record's hint if
    any, else the source's) when the text is in that language's usual script; otherwise the
    script's own guess (Hangul -> ko, Mongolian script -> mn-Mong); otherwise the default with
    a script subtag (romanised Japanese under a ``ja`` hint becomes ``ja-Latn``).
    """
    text = item.text
    given = env.source_lang(item)
    if given:
        tag = normalised_language(given)
        if tag is not None:
            return _with_script(tag, text), False
        env.report("warning", "unknown-language", f"xml:lang {given!r} is not a known language tag",
                   given)
    tag = _untagged(text, defaults)
    return tag, tag is not None


@transform("lang", accepts=(TEXT,), produces=LANGSTRING,
           params={"hint": Param("list", default=())}, primary="hint")
def lang(hint: tuple[str, ...]) -> Step:
    """Give each value its language: xml:lang kept (BCP 47), else guessed and marked guessed.

    ``hint`` names record-level languages (declared under ``hints:``), e.g. the MARC 008/041
    language for a title transcribed from the item itself; with several, the first whose
    script fits the text wins (a parallel title may be in the cataloguing language).
    """

    def step(items: list[Item], env: Env) -> list[Item]:
        out = []
        guessed_tags = []
        defaults = default_languages(env, hint)
        for item in items:
            tag, guessed = resolve_language(item, env, defaults)
            out.append(Item(item.text, item.node, tag, guessed, item.data))
            if guessed:
                guessed_tags.append(tag or "")
        if guessed_tags:
            env.report("info", "guessed-language",
                       "language not tagged in the source; guessed from the script or source defaults",
                       guessed_tags[0] or None)
        return out

    return step


@transform("language", accepts=(TEXT,), produces=LANGUAGE,
           params={"unrecognised": _UNRECOGNISED}, primary="unrecognised")
def language(unrecognised: str) -> Step:
    """A language code or name (dc:language, MARC 041, languageTerm) as a BCP 47 tag."""

    def step(items: list[Item], env: Env) -> list[Item]:
        out = []
        for item in items:
            if item.text.casefold() in _NOT_A_LANGUAGE:
                continue
            tag = normalised_language(item.text)
            if tag is None:
                if unrecognised != "ignore":
                    env.report(unrecognised, "unknown-language",
                               f"{item.text!r} is not a known language", item.text)
                continue
            out.append(item.derive(tag))
        return out

    return step
