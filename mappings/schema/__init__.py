"""The ICH record contract (JSON Schema 1.0) that every crosswalk output must satisfy."""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from importlib import resources
from typing import Any

SCHEMA_VERSION = "1.0"


@lru_cache(maxsize=1)
def _schema() -> dict[str, Any]:
    text = resources.files(__name__).joinpath("ich-record.schema.json").read_text(encoding="utf-8")
    return json.loads(text)


def ich_json_schema() -> dict[str, Any]:
    """A fresh copy each call, so a caller that edits it cannot corrupt everyone else's contract."""
    return copy.deepcopy(_schema())
