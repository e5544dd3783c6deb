"""Build the tantivy schema and analysers from ``schema.yaml`` and ``../fields.yaml``."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from operator import add
from typing import Any

import tantivy
import yaml

from ..search_document import field_config
from ..segmentation import bigram_runs, bigrams

# libyaml when PyYAML has it: these files are read on every start of a command.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_TOKENIZERS = {
    "simple": tantivy.Tokenizer.simple,
    "whitespace": tantivy.Tokenizer.whitespace,
    "bigram": lambda: tantivy.Tokenizer.ngram(2, 2, False),
}
_FILTERS = {
    "remove_long_40": lambda: tantivy.Filter.remove_long(40),
    "lowercase": tantivy.Filter.lowercase,
    "ascii_fold": tantivy.Filter.ascii_fold,
}


def analyzer_name(form: str) -> str:
    return f"ich_{form}"


def text_field(group: str, form: str) -> str:
    return f"{group}_{form}"


@dataclass(frozen=True)
class EmbeddedLayout:
    revision: int
    schema: tantivy.Schema
    forms: dict[str, dict[str, Any]]
    keywords: tuple[str, ...]
    display: str
    text_fields: tuple[tuple[str, str, str], ...]   # (group, form, field name)


def _build_analyzer(spec: dict[str, Any], writing: bool) -> tantivy.TextAnalyzer:
    tokenizer, filters = spec["tokenizer"], spec.get("filters", [])
    if writing and "write_tokenizer" in spec:
        tokenizer, filters = spec["write_tokenizer"], spec.get("write_filters", [])
    builder = tantivy.TextAnalyzerBuilder(_TOKENIZERS[tokenizer]())
    for name in filters:
        builder = builder.filter(_FILTERS[name]())
    return builder.build()


@lru_cache(maxsize=1)
def layout() -> EmbeddedLayout:
    raw = yaml.load(resources.files(__package__).joinpath("schema.yaml").read_text("utf-8"),
                    Loader=_YAML_LOADER)
    config = field_config()
    forms = {str(k): dict(v) for k, v in raw["forms"].items()}
    if set(forms) != set(config.form_boosts):
        raise ValueError(f"schema.yaml forms {sorted(forms)} differ from fields.yaml {sorted(config.form_boosts)}")
    builder = tantivy.SchemaBuilder()
    for name in raw["keywords"]:
        builder.add_text_field(name, stored=name == "id", fast=True, tokenizer_name="raw",
                               index_option="basic")
    for name, opts in raw["integers"].items():
        builder.add_integer_field(name, stored=bool(opts["stored"]), indexed=bool(opts["indexed"]),
                                  fast=bool(opts["fast"]))
    text_fields = []
    for group in config.text_groups:
        for form in forms:
            name = text_field(group, form)
            builder.add_text_field(name, stored=False, tokenizer_name=analyzer_name(form))
            text_fields.append((group, form, name))
    builder.add_bytes_field(raw["display"], stored=True, indexed=False)
    return EmbeddedLayout(revision=int(raw["revision"]), schema=builder.build(), forms=forms,
                          keywords=tuple(raw["keywords"]), display=str(raw["display"]),
                          text_fields=tuple(text_fields))


@lru_cache(maxsize=None)
def analyzer(form: str, writing: bool = False) -> tantivy.TextAnalyzer:
    return _build_analyzer(layout().forms[form], writing)


def register_analyzers(index: tantivy.Index, *, writing: bool = False) -> None:
    """Make the custom analysers known to this ``Index`` object (tantivy does not persist them).

    ``writing``: for an ``Index`` object that only writers use.  A form may analyse what is
    written differently from what snippets re-read (``write_tokenizer`` in schema.yaml).
    """
    for form in layout().forms:
        index.register_tokenizer(analyzer_name(form), analyzer(form, writing))


def query_tokens(form: str, text: str) -> list[str]:
    """The terms ``text`` becomes in ``form``, exactly as the index side produced them."""
    if layout().forms[form].get("tokenizer") == "bigram":
        return [b.text.lower() for b in bigrams(text)]
    return analyzer(form).analyze(text)


def bigram_index_text(text: str) -> str:
    """The bigrams of ``text`` joined by spaces: what a writer adds to a bigram field.

    Its whitespace analyser (``write_tokenizer``) reads them back as one token each at
    consecutive positions, which is exactly ``bigrams(text)``.  Bigrams never contain a
    space, and bigram scripts have no letter case (a test checks every code point), so
    neither a split nor a lowercase filter is needed.  Handing tantivy one string instead
    of one ``Token`` object per bigram made indexing a CJK description three times faster.
    """
    if text.isascii():  # constant time in CPython; four values in ten are English
        return ""
    parts: list[str] = []
    for run in bigram_runs(text):
        if len(run) == 1:
            parts.append(run)
        else:
            parts.extend(map(add, run, run[1:]))
    return " ".join(parts)
