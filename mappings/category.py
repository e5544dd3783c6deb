"""Which of the four ichLinks categories a record belongs to.

Order (most specific first): the source's own rules by OAI set, the source's rules by type
value, the shared type vocabulary, the source's default.  A source knows its own sets best.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

from mappings.normalisers.categories import category_from_type
from mappings.values import Env

CATEGORIES = ("element", "resource", "stakeholder", "event")


@lru_cache(maxsize=4096)
def _vocabulary(value: str) -> str | None:
    return category_from_type(value)


def _rule_table(rules: Mapping[str, Any] | None, key: str, env: Env) -> dict[str, str]:
    table = (rules or {}).get(key) or {}
    if not isinstance(table, Mapping):
        env.report("warning", "bad-rule", f"source rule {key!r} is not a mapping", None,
                   field="category")
        return {}
    out = {}
    for source_value, category in table.items():
        if category in CATEGORIES:
            out[str(source_value)] = category
        else:
            env.report("warning", "bad-rule", f"source rule {key}[{source_value!r}] -> {category!r} "
                       "is not a category", str(category), field="category")
    return out


def _set_ancestors(spec: str) -> Iterable[str]:
    # OAI-PMH 2.0 section 2.7.2: setSpecs are hierarchical, "a:b" is a subset of "a".
    yield spec
    while ":" in spec:
        spec = spec.rsplit(":", 1)[0]
        yield spec


def resolve_category(candidates: Sequence[str], env: Env) -> str | None:
    rules = env.ctx.rules
    by_set = _rule_table(rules, "category_by_set", env) if rules else {}
    if by_set:
        for spec in env.raw.sets:
            for key in _set_ancestors(spec):
                if key in by_set:
                    return by_set[key]
    by_type = {key.casefold(): value for key, value in
               _rule_table(rules, "category_by_type", env).items()} if rules else {}
    if by_type:
        for value in candidates:
            if value.casefold() in by_type:
                return by_type[value.casefold()]
    for value in candidates:
        found = _vocabulary(value)
        if found in CATEGORIES:
            return found
    default = (env.ctx.defaults or {}).get("category")
    if default in CATEGORIES:
        env.report("info", "default-category", f"category {default!r} from the source's defaults",
                   candidates[0] if candidates else None, field="category")
        return default
    if default is not None:
        env.report("warning", "bad-rule", f"default category {default!r} is not a category",
                   str(default), field="category")
    return None
