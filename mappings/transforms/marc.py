"""MARC 21 datafields: subfield selection and ISBD punctuation."""

from __future__ import annotations

import re

from mappings.normalisers.text import clean_text
from mappings.transforms.registry import TEXT, Param, Step, transform
from mappings.values import Env, Item

_MARC = "{http://www.loc.gov/MARC21/slim}"
# ISBD separators that end a MARC field or precede the next subfield ("Title /", "Name,").
_ISBD_TAIL = re.compile(r"(?:\s+[/:;=]|,)\s*$")
_FINAL_PERIOD = re.compile(r"(?<=[^\s.A-Z])\.$")


def _trim(text: str, mode: str) -> str:
    if mode == "none":
        return text
    text = _ISBD_TAIL.sub("", text).rstrip()
    if mode == "period":
        text = _ISBD_TAIL.sub("", _FINAL_PERIOD.sub("", text)).rstrip()
    return text


@transform("marc_subfields", accepts=(TEXT,), produces=None,
           params={"codes": Param("str", required=True), "separator": Param("str", default=" "),
                   "subdivisions": Param("str", default=""),
                   "trim": Param("choice", default="isbd", choices=("isbd", "period", "none"))},
           primary="codes")
def marc_subfields(codes: str, separator: str, subdivisions: str, trim: str) -> Step:
    """Rebuild a datafield's text from the subfields ``codes`` in document order.

    ``subdivisions`` are joined with " -- " (LCSH display form for $v $x $y $z); ``trim`` drops
    trailing ISBD punctuation ("isbd": " /", " :", ",") and for headings also a final period.
    """
    wanted = frozenset(codes) | frozenset(subdivisions)
    subdivided = frozenset(subdivisions)

    def step(items: list[Item], env: Env) -> list[Item]:
        out = []
        for item in items:
            node = item.node
            if node is None or isinstance(node, str):
                continue
            text = ""
            for sub in node.iterchildren(_MARC + "subfield", "subfield"):
                code = sub.get("code")
                if code not in wanted:
                    continue
                value = clean_text("".join(sub.itertext()))
                if not value:
                    continue
                if not text:
                    text = value
                elif code in subdivided:
                    text = f"{_trim(text, 'isbd')} -- {value}"
                else:
                    text = f"{text}{separator}{value}"
            text = _trim(text, trim)
            if text:
                out.append(item.derive(text))
        return out

    return step
