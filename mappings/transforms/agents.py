"""Who: creators and contributors with an optional role."""

from __future__ import annotations

from mappings.normalisers.text import clean_text
from mappings.transforms.language import name_language, normalised_language
from mappings.transforms.registry import (AGENT, TEXT, Param, Step, first_text, node_text,
                                          transform)
from mappings.values import Env, Item


@transform("agent", accepts=(TEXT,), produces=AGENT,
           params={"name": Param("xpath"), "role": Param("xpath"), "default_role": Param("str"),
                   "hint": Param("str")})
def agent(name, role, default_role, hint) -> Step:  # type: ignore[no-untyped-def]
    """A person or body with an optional role (sub-XPaths ``name``, ``role``).

    ``name``/``role`` are relative to the value's element (MODS ``mods:namePart`` and
    ``mods:role/mods:roleTerm``); without ``name`` the whole text is the name.
    ``lang`` is the source's xml:lang, else the script's guess (names are not translated, so
    the source's default language says nothing about a Latin-script name), but a name in a
    non-Latin script takes the record-level ``hint`` language or the source's default when it is
    written in that language's script (a kanji name in a Japanese book is Japanese, not the
    Chinese a script guess says)."""

    def step(items: list[Item], env: Env) -> list[Item]:
        out = []
        for item in items:
            label = item.text
            if name is not None:
                parts = name(item.node) if item.node is not None and not isinstance(item.node, str) else []
                label = clean_text(", ".join(t for t in (clean_text(node_text(p)) for p in parts) if t))
            if not label:
                continue
            found_role = first_text(role, item.node) if role is not None else None
            if found_role:
                # Relator terms carry catalogue punctuation ("author.", "editor,").
                found_role = clean_text(found_role).rstrip(" .,;:") or None
            given = env.source_lang(item)
            tag = normalised_language(given) if given else name_language(
                label, (env.hints.get(hint) if hint else None) or env.default_language)
            data = {"name": label, "role": found_role or default_role,
                    "lang": tag}
            out.append(item.derive(label, data=data))
        return out

    return step

