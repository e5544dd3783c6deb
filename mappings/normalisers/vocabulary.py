"""Loads the YAML vocabularies in :mod:`mappings.vocab` once per process.

Normalisers run for every field of every record, so the files are parsed lazily on first use
and then served from memory; they are small (a few hundred kilobytes at most).
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any

import yaml

# libyaml when PyYAML has it: these files are read on every start of a command.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@functools.cache
def load_vocabulary(name: str) -> Any:
    """Parse ``mappings/vocab/<name>.yaml``; cached, so callers may call it on every use."""
    text = resources.files("mappings.vocab").joinpath(f"{name}.yaml").read_text(encoding="utf-8")
    return yaml.load(text, Loader=_YAML_LOADER)
