"""MARC 21 languages: 041 codes may be packed ("engfre") and 008/35-37 is a fallback.

Before 2001 MARC 21 allowed several language codes run together in one 041 subfield
(MARC 21 Bibliographic, 041 "Input conventions"); XPath cannot cut a string into 3-letter
pieces, so the field is read here.
"""

from __future__ import annotations

from typing import Any

from mappings.values import Env, Item

MARC = "{http://www.loc.gov/MARC21/slim}"
# 041 $a text, $d sung/spoken text, $e librettos, $j subtitles: languages of the content itself.
_CONTENT_CODES = frozenset("ade j".replace(" ", ""))


def _fields(root: Any, tag: str) -> list[Any]:
    return [f for f in root.iterchildren(MARC + "datafield", "datafield") if f.get("tag") == tag]


def languages(root: Any, env: Env) -> list[Item]:
    out: list[Item] = []
    for field in _fields(root, "041"):
        for sub in field.iterchildren(MARC + "subfield", "subfield"):
            if sub.get("code") not in _CONTENT_CODES:
                continue
            text = "".join(sub.itertext()).strip()
            if len(text) > 3 and len(text) % 3 == 0 and text.isalpha() and text.islower():
                out.extend(Item(text[i:i + 3], sub) for i in range(0, len(text), 3))
            elif text:
                out.append(Item(text, sub))
    if out:
        return out
    for control in root.iterchildren(MARC + "controlfield", "controlfield"):
        if control.get("tag") == "008" and control.text and len(control.text) >= 38:
            code = control.text[35:38].strip(" |")
            if code:
                return [Item(code, control)]
    return []
