"""When: source date text kept verbatim, with an EDTF reading and a year range when understood."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from mappings.normalisers.dates import parse_date
from mappings.transforms.registry import DATE, TEXT, Param, Step, transform
from mappings.values import Env, Item

DATE_TYPES = ("created", "issued", "modified", "temporal", "other")


@lru_cache(maxsize=8192)
def parsed(text: str) -> Any:
    return parse_date(text)


@transform("date", accepts=(TEXT,), produces=DATE,
           params={"type": Param("choice", default="other", choices=DATE_TYPES)}, primary="type")
def date(type: str) -> Step:  # noqa: A002 - the ICH field is called "type"
    """A dated event of the given type; a value that is not understood is kept with edtf null."""

    def step(items: list[Item], env: Env) -> list[Item]:
        out = []
        for item in items:
            reading = parsed(item.text)
            if reading is None:
                env.report("warning", "bad-date", f"{item.text!r} is not a date we understand",
                           item.text)
                data = {"type": type, "value": item.text, "edtf": None,
                        "start_year": None, "end_year": None}
            else:
                data = {"type": type, "value": item.text, "edtf": reading.edtf,
                        "start_year": reading.start_year, "end_year": reading.end_year}
            out.append(item.derive(data=data))
        return out

    return step


@transform("if_date", accepts=(TEXT,), produces=None)
def if_date() -> Step:
    """Keep only values that read as dates (dc:coverage mixes periods with places)."""

    def step(items: list[Item], env: Env) -> list[Item]:
        return [item for item in items if parsed(item.text) is not None]

    return step


@transform("unless_date", accepts=(TEXT,), produces=None)
def unless_date() -> Step:
    """Drop values that read as dates (the temporal half of dc:coverage)."""

    def step(items: list[Item], env: Env) -> list[Item]:
        return [item for item in items if parsed(item.text) is None]

    return step
