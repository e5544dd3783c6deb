"""Rights values -> (statement, licence URI), recognising Creative Commons and RightsStatements.org."""

from __future__ import annotations

import functools
import re
from typing import NamedTuple

from mappings.normalisers.folding import compact_key
from mappings.normalisers.text import clean_text
from mappings.normalisers.vocabulary import load_vocabulary

_CC_URI = re.compile(
    r"(?:https?://)?(?:www\.)?creativecommons\.org/(licenses|licences|publicdomain)/"
    r"([a-z-]+)/(\d\.\d)(?:/(?!deed|legalcode)([a-z]{2,8}))?(?:/[\w.#-]*)*/?",
    re.IGNORECASE,
)
_RS_URI = re.compile(
    r"(?:https?://)?(?:www\.)?rightsstatements\.org/(?:vocab|page|data)/([a-z-]+)/(\d\.\d)/?"
    r"(?:\?[\w=&.-]*)?",
    re.IGNORECASE,
)
# "CC BY-SA 4.0", "CC-BY-NC-ND-4.0" (SPDX), "cc by 3.0 igo", "CC BY-SA".
_CC_SHORT = re.compile(
    r"\bCC[\s_-]*(BY(?:[\s_-]*(?:NC|ND|SA)){0,2})(?![a-z])(?:[\s_-]*(\d\.\d))?(?:[\s_-]*(IGO))?",
    re.IGNORECASE,
)
# "Creative Commons Attribution-NonCommercial-ShareAlike 4.0 International".
_CC_LONG = re.compile(
    r"\b(?:Creative\s+Commons\s+)?(Attribution(?:[\s-]*(?:Non[\s-]?Commercial|No[\s-]?Deriv(?:ative)?s|"
    r"Share[\s-]?Alike))*)[\s-]*(\d\.\d)",
    re.IGNORECASE,
)
_CC_ZERO_SHORT = re.compile(r"\bCC[\s_-]?(?:0|zero)\b(?:[\s_-]*(1\.0))?", re.IGNORECASE)
# Words that may surround a licence reference without adding anything to it.
_FILLER = frozenset(
    {"creative", "commons", "license", "licence", "licensed", "international", "unported",
     "generic", "legalcode", "deed", "public", "domain", "dedication", "universal", "igo",
     "attribution", "noncommercial", "non", "commercial", "noderivatives", "noderivs",
     "sharealike", "share", "alike"}
)


class _Licence(NamedTuple):
    label: str
    uri: str


class _Tables(NamedTuple):
    cc_versions: dict[str, frozenset[str]]
    cc_labels: dict[str, str]
    pd: dict[str, tuple[str, frozenset[str]]]
    names: dict[str, str]
    rs: dict[str, tuple[str, str]]
    exact: dict[str, _Licence]


def _cc_uri(code: str, version: str, port: str | None = None) -> str:
    tail = f"{port}/" if port else ""
    return f"https://creativecommons.org/licenses/{code}/{version}/{tail}"


def _rs_uri(statement_id: str) -> str:
    return f"http://rightsstatements.org/vocab/{statement_id}/1.0/"


@functools.cache
def _tables() -> _Tables:
    vocabulary = load_vocabulary("rights")
    cc_versions: dict[str, frozenset[str]] = {}
    cc_labels: dict[str, str] = {}
    names: dict[str, str] = {}
    exact: dict[str, _Licence] = {}
    for code, entry in vocabulary["creative_commons"].items():
        cc_versions[code] = frozenset(str(v) for v in entry["versions"])
        cc_labels[code] = str(entry["label"])
        names[compact_key(str(entry["name"]))] = code
        for version in cc_versions[code]:
            licence = _Licence(f"{entry['label']} {version}", _cc_uri(code, version))
            for form in (
                licence.label,
                f"Creative Commons {entry['name']} {version}",
                f"Creative Commons {entry['name']} {version} International",
                f"Creative Commons {entry['name']} {version} Unported",
                f"Creative Commons {entry['name']} {version} International License",
                f"{entry['name']} {version}",
            ):
                exact[compact_key(form)] = licence
    pd: dict[str, tuple[str, frozenset[str]]] = {}
    for code, entry in vocabulary["public_domain"].items():
        versions = frozenset(str(v) for v in entry["versions"])
        pd[code] = (str(entry["label"]), versions)
        latest = max(versions)
        licence = _Licence(
            f"{entry['label']} {latest}", f"https://creativecommons.org/publicdomain/{code}/{latest}/"
        )
        for alias in [entry["name"], entry["label"], *(entry.get("aliases") or [])]:
            exact[compact_key(str(alias))] = licence
            exact[compact_key(f"{alias} {latest}")] = licence
    rs: dict[str, tuple[str, str]] = {}
    for statement_id, label in vocabulary["rightsstatements"].items():
        rs[statement_id.lower()] = (statement_id, str(label))
        exact[compact_key(str(label))] = _Licence(str(label), _rs_uri(statement_id))
    return _Tables(cc_versions, cc_labels, pd, names, rs, exact)


def _from_cc_uri(m: re.Match[str]) -> _Licence | None:
    tables = _tables()
    kind, code, version, port = m.group(1).lower(), m.group(2).lower(), m.group(3), m.group(4)
    if kind == "publicdomain":
        if code not in tables.pd or version not in tables.pd[code][1]:
            return None
        label = tables.pd[code][0]
        return _Licence(f"{label} {version}", f"https://creativecommons.org/publicdomain/{code}/{version}/")
    if version not in tables.cc_versions.get(code, ()):
        return None
    port = port.lower() if port else None
    suffix = f" {port.upper()}" if port else ""
    return _Licence(f"{tables.cc_labels[code]} {version}{suffix}", _cc_uri(code, version, port))


def _from_rs_uri(m: re.Match[str]) -> _Licence | None:
    entry = _tables().rs.get(m.group(1).lower())
    if entry is None or m.group(2) != "1.0":
        return None
    return _Licence(entry[1], _rs_uri(entry[0]))


def _from_cc_short(m: re.Match[str]) -> _Licence | None:
    tables = _tables()
    code = "-".join(re.findall(r"by|nc|nd|sa", m.group(1).lower()))
    version, port = m.group(2), m.group(3)
    if code not in tables.cc_versions or version is None:
        return None
    if version not in tables.cc_versions[code]:
        return None
    port = port.lower() if port else None
    suffix = f" {port.upper()}" if port else ""
    return _Licence(f"{tables.cc_labels[code]} {version}{suffix}", _cc_uri(code, version, port))


def _from_cc_long(m: re.Match[str]) -> _Licence | None:
    words = m.group(1).lower().replace("-", "").replace(" ", "")
    elements = {"nc" if "noncommercial" in words else "", "nd" if "noderiv" in words else "",
                "sa" if "sharealike" in words else ""} - {""}
    code = "-".join(["by", *sorted(elements)])
    tables = _tables()
    version = m.group(2)
    if version not in tables.cc_versions.get(code, ()):
        return None
    return _Licence(f"{tables.cc_labels[code]} {version}", _cc_uri(code, version))


def _from_cc_zero(m: re.Match[str]) -> _Licence:
    return _Licence("CC0 1.0", "https://creativecommons.org/publicdomain/zero/1.0/")


_FINDERS = (
    (_CC_URI, _from_cc_uri),
    (_RS_URI, _from_rs_uri),
    (_CC_SHORT, _from_cc_short),
    (_CC_LONG, _from_cc_long),
    (_CC_ZERO_SHORT, _from_cc_zero),
)


def _only_reference(value: str, spans: list[tuple[int, int]]) -> bool:
    rest = value
    for start, end in sorted(spans, reverse=True):
        rest = rest[:start] + " " + rest[end:]
    words = re.findall(r"\w+", rest.casefold())
    return all(word in _FILLER for word in words)


@functools.lru_cache(maxsize=16384)
def normalise_rights(s: str) -> tuple[str | None, str | None]:
    """(statement, uri) for a dc:rights / dcterms:license value.

    A value that is nothing but a licence reference (a URI, "CC BY-SA 4.0", a statement
    label) gives the canonical label and URI. A longer statement that mentions a licence
    keeps its own text, with the licence URI alongside, so "© 2020 ICHCAP, CC BY 4.0" loses
    nothing. Anything else is (text, None); empty is (None, None).
    """
    value = clean_text(s)
    if not value:
        return None, None
    tables = _tables()
    exact = tables.exact.get(compact_key(value))
    if exact is not None:
        return exact.label, exact.uri
    for pattern, build in _FINDERS:
        for m in pattern.finditer(value):
            licence = build(m)
            if licence is None:
                continue
            spans = [
                other.span()
                for other_pattern, _ in _FINDERS
                for other in other_pattern.finditer(value)
            ]
            if _only_reference(value, spans):
                return licence.label, licence.uri
            return value, licence.uri
    return value, None
