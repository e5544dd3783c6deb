"""The closed registry of named transforms a crosswalk file may use.

A transform is a *step* ``(items, env) -> items`` built once, at load time, from its arguments
(XPaths and regular expressions are compiled then, never per record).  Each declares the kind
of value it accepts and produces, so the loader can reject a chain whose result does not fit
the ICH field it feeds: a librarian gets "line 42: countries: 'lang' produces langstring, the
field needs country" instead of a silently empty field.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from mappings.values import Env, Item

Step = Callable[[list[Item], Env], list[Item]]

# Value kinds flowing through a chain.
TEXT = "text"
LANGSTRING = "langstring"
COUNTRY = "country"
LANGUAGE = "language"
DOMAIN = "domain"
DATE = "date"
AGENT = "agent"
PLACE = "place"
MEDIA = "media"
URL = "url"
RIGHTS = "rights"
ANY = "*"


class ArgumentError(ValueError):
    """A transform argument is unusable; the loader turns it into a MappingError with a line."""


@dataclass(frozen=True)
class Param:
    """One argument of a transform. ``kind`` says how the YAML value is checked and compiled."""

    kind: str  # str | xpath | regex | bool | choice | map | int
    required: bool = False
    default: Any = None
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class TransformSpec:
    name: str
    accepts: frozenset[str]
    produces: str | None  # None: the same kind it was given
    factory: Callable[..., Step]
    params: Mapping[str, Param] = field(default_factory=dict)
    primary: str | None = None  # the parameter a scalar shorthand (``date: created``) fills
    doc: str = ""

    def output_kind(self, given: str) -> str:
        return given if self.produces is None else self.produces


TRANSFORMS: dict[str, TransformSpec] = {}


def transform(name: str, *, accepts: tuple[str, ...], produces: str | None,
              params: Mapping[str, Param] | None = None,
              primary: str | None = None) -> Callable[[Callable[..., Step]], Callable[..., Step]]:
    """Register a step factory under ``name``; the factory's docstring is the transform's doc."""

    def register(factory: Callable[..., Step]) -> Callable[..., Step]:
        if name in TRANSFORMS:
            raise RuntimeError(f"transform {name!r} registered twice")
        TRANSFORMS[name] = TransformSpec(name, frozenset(accepts), produces, factory,
                                         dict(params or {}), primary,
                                         (factory.__doc__ or "").strip())
        return factory

    return register


_PROBE = etree.Element("probe")


def compile_xpath(expression: str, namespaces: Mapping[str, str]) -> etree.XPath:
    """Compile and try once on an empty element: lxml only notices an undeclared prefix or an
    unknown function when evaluating, and that must be a load-time error, not a per-record one."""
    xpath = etree.XPath(expression, namespaces=dict(namespaces))
    xpath(_PROBE)
    return xpath


class ArgumentCompiler:
    """Checks and compiles a step's YAML arguments; XPaths get the crosswalk's namespaces."""

    def __init__(self, namespaces: Mapping[str, str]) -> None:
        self.namespaces = dict(namespaces)

    def xpath(self, expression: str) -> etree.XPath:
        try:
            return compile_xpath(expression, self.namespaces)
        except etree.XPathError as exc:
            raise ArgumentError(f"XPath {expression!r} does not compile: {exc}") from exc

    def compile(self, spec: TransformSpec, raw: Any) -> dict[str, Any]:
        if raw is None:
            given: dict[str, Any] = {}
        elif isinstance(raw, Mapping):
            given = dict(raw)
        elif spec.primary is not None:
            given = {spec.primary: raw}
        else:
            raise ArgumentError(f"transform {spec.name!r} takes no arguments"
                                if not spec.params else
                                f"transform {spec.name!r} needs named arguments: "
                                + ", ".join(sorted(spec.params)))
        unknown = sorted(set(given) - set(spec.params))
        if unknown:
            raise ArgumentError(f"transform {spec.name!r} has no argument(s) {', '.join(unknown)}; "
                                f"known: {', '.join(sorted(spec.params)) or 'none'}")
        out: dict[str, Any] = {}
        for pname, param in spec.params.items():
            if pname not in given or given[pname] is None:
                if param.required:
                    raise ArgumentError(f"transform {spec.name!r} needs argument {pname!r}")
                out[pname] = param.default
                continue
            out[pname] = self._value(spec.name, pname, param, given[pname])
        return out

    def _value(self, tname: str, pname: str, param: Param, value: Any) -> Any:
        where = f"{tname}.{pname}"
        if param.kind == "xpath":
            if not isinstance(value, str):
                raise ArgumentError(f"{where} must be an XPath string")
            return self.xpath(value)
        if param.kind == "regex":
            if not isinstance(value, str):
                raise ArgumentError(f"{where} must be a regular expression string")
            try:
                return re.compile(value)
            except re.error as exc:
                raise ArgumentError(f"{where}: bad regular expression {value!r}: {exc}") from exc
        if param.kind == "bool":
            if not isinstance(value, bool):
                raise ArgumentError(f"{where} must be true or false")
            return value
        if param.kind == "int":
            if not isinstance(value, int) or isinstance(value, bool):
                raise ArgumentError(f"{where} must be an integer")
            return value
        if param.kind == "choice":
            if value not in param.choices:
                raise ArgumentError(f"{where} must be one of {', '.join(param.choices)}; got {value!r}")
            return value
        if param.kind == "map":
            if not isinstance(value, Mapping) or not all(
                    isinstance(k, str | int | float | bool) and isinstance(v, str | None)
                    for k, v in value.items()):
                raise ArgumentError(f"{where} must map source values to strings")
            return {str(k): v for k, v in value.items()}
        if param.kind == "list":
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ArgumentError(f"{where} must be a list of strings")
            if param.choices:
                bad = [v for v in value if v not in param.choices]
                if bad:
                    raise ArgumentError(f"{where}: {', '.join(bad)} not in {', '.join(param.choices)}")
            return tuple(value)
        if not isinstance(value, str):
            raise ArgumentError(f"{where} must be a string")
        return value


def node_text(node: Any) -> str:
    """The text of an XPath result: element string-value without comments, or the string itself."""
    if isinstance(node, str):
        return node
    if isinstance(node, bool | int | float):
        return "" if isinstance(node, bool) else format(node, "g")
    if len(node) == 0:
        return node.text or ""
    return "".join(node.itertext())


def first_text(xpath: etree.XPath, node: Any) -> str | None:
    """The first non-blank text a sub-XPath finds under ``node`` (for agent roles, media formats...)."""
    if node is None or isinstance(node, str):
        return None
    result = xpath(node)
    if not isinstance(result, list):
        result = [result]
    for hit in result:
        text = node_text(hit).strip()
        if text:
            return text
    return None
