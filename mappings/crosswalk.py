"""A compiled crosswalk: XPaths compiled once, transform chains checked, ready to map records.

Mapping is pure (no database, no network), so a corrected crosswalk can be re-run over stored
raw records at any time.  Bad data never raises: it becomes diagnostics, and only a missing
required field (title, category) quarantines a record.
"""

from __future__ import annotations

import importlib
import re
import threading
from collections.abc import Callable, Iterable
from typing import Any

from lxml import etree

from mappings.category import resolve_category
from mappings.definition import Definition, RuleDef
from mappings.errors import MappingError, MappingErrors
from mappings.fields import FIELDS
from mappings.identity import record_id
from mappings.normalisers.text import clean_text
from mappings.records import MappingDiagnostic, MappingResult, RawInput, SourceContext
from mappings.schema import SCHEMA_VERSION
from mappings.transforms import TRANSFORMS, ArgumentCompiler, ArgumentError, Step
from mappings.transforms.registry import ANY, LANGUAGE, TEXT, compile_xpath, node_text
from mappings.values import Env, Item

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
_BASE_NAMESPACES = {"oai": OAI_NS, "xml": "http://www.w3.org/XML/1998/namespace"}
# "dc:title" - a plain child step, answered from a per-record index of the root's children
# instead of an XPath evaluation (most crosswalk paths are like this).
_CHILD_STEP = re.compile(r"^\s*([A-Za-z_][\w.-]*):([A-Za-z_][\w.-]*)\s*$")
_RDF_RESOURCE = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}resource"
_RDF_ABOUT = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}about"

Override = Callable[[Any, Env], Iterable[Any]]

_parsers = threading.local()


def _parser() -> etree.XMLParser:
    # lxml parsers must not be shared between threads.
    parser = getattr(_parsers, "parser", None)
    if parser is None:
        parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True,
                                 remove_comments=True, encoding="utf-8")
        _parsers.parser = parser
    return parser


def _escaped_markup(text: str, env: Env) -> None:
    if "&#" in text or "&amp;" in text:
        # Kept as is (nothing is altered), but worth telling the partner (TIND double-escapes).
        env.report("warning", "escaped-markup",
                   "text contains escaped markup (double-escaped character reference?)", text[:200])


def _child_items(env: Env, wanted: frozenset[str]) -> dict[Any, list[Item]]:
    """The root's children as items by tag, built in one pass per record.

    One pass with one dictionary is cheaper than a filtered lxml iteration or an index
    lookup per path (each costs about 1 us before it finds anything).  Only tags some path
    of the crosswalk names are read, so container elements of deep formats are not flattened
    for nothing.  Text containing "&" is noted here and reported when a path asks for it,
    so the diagnostic names the same field as it would if each path read its own nodes.
    """
    index: dict[Any, list[Item]] = {}
    escaped = None
    for node in env.root:
        tag = node.tag
        if tag not in wanted:
            continue
        text = clean_text((node.text or "") if not len(node) else "".join(node.itertext()))
        if not text:
            # RDF/XML: an empty property element's value is the resource it points to.
            text = clean_text(node.get(_RDF_RESOURCE) or node.get(_RDF_ABOUT) or "")
            if not text:
                continue
        bucket = index.get(tag)
        if bucket is None:
            index[tag] = [Item(text, node)]
        else:
            bucket.append(Item(text, node))
        if "&" in text:
            if escaped is None:
                escaped = set()
            escaped.add(tag)
    env.children = index
    env.escaped = escaped
    return index


class _ChildSelector:
    """``prefix:name``: the root's children with that tag, from the per-record item index.

    Most crosswalk paths are like this; answering them without an XPath evaluation (about
    2 us each) is most of what makes oai_dc fast.  ``wanted`` is shared by every child
    selector of one crosswalk: the tags the index needs to hold.
    """

    __slots__ = ("expression", "tag", "wanted")

    def __init__(self, expression: str, tag: str, wanted: set[str]) -> None:
        self.expression = expression
        self.tag = tag
        self.wanted = wanted
        wanted.add(tag)

    def items(self, env: Env) -> list[Item]:
        index = env.children
        if index is None:
            index = _child_items(env, self.wanted)  # type: ignore[arg-type]
        out = index.get(self.tag)
        if out is None:
            return []
        escaped = env.escaped
        if escaped is not None and self.tag in escaped and self not in env.memo:
            env.memo[self] = True
            for item in out:
                if "&" in item.text:
                    _escaped_markup(item.text, env)
        return out


class _XPathSelector:
    __slots__ = ("expression", "xpath")

    def __init__(self, expression: str, namespaces: dict[str, str]) -> None:
        self.expression = expression
        self.xpath = compile_xpath(expression, namespaces)

    def items(self, env: Env) -> list[Item]:
        memo = env.memo
        out = memo.get(self)
        if out is not None:
            return out
        nodes = self.xpath(env.root)
        if not isinstance(nodes, list):
            nodes = [nodes]
        out = []
        for node in nodes:
            text = clean_text(node_text(node))
            if not text and not isinstance(node, str) and hasattr(node, "get"):
                text = clean_text(node.get(_RDF_RESOURCE) or node.get(_RDF_ABOUT) or "")
            if text:
                out.append(Item(text, node))
                if "&" in text:
                    _escaped_markup(text, env)
        memo[self] = out
        return out


def _selector(expression: str, namespaces: dict[str, str],
              wanted: set[str]) -> _ChildSelector | _XPathSelector:
    match = _CHILD_STEP.match(expression)
    if match and match.group(1) in namespaces:
        return _ChildSelector(expression, "{%s}%s" % (namespaces[match.group(1)], match.group(2)),
                              wanted)
    return _XPathSelector(expression, namespaces)


Runner = Callable[[Env], list[Item]]


def _never_run(env: Env) -> list[Item]:
    """Stands in for a rule that failed to compile; the crosswalk then raises, unbuilt."""
    raise AssertionError("a crosswalk with definition errors is never used")


def _runner(selectors: tuple[Any, ...], override: Override | None, steps: tuple[Step, ...]) -> Runner:
    """One closure per rule, specialised so the common cases run no needless branches.

    Selector results are memoised per record and shared between rules, so nothing here may
    modify a list it got from a selector.
    """
    if override is not None:
        def extract(env: Env) -> list[Item]:
            items = [value if isinstance(value, Item) else Item(clean_text(str(value)))
                     for value in override(env.root, env)]
            return [item for item in items if item.text]
    elif len(selectors) == 1:
        extract = selectors[0].items
    else:
        def extract(env: Env) -> list[Item]:
            return [item for selector in selectors for item in selector.items(env)]
    if not steps:
        return extract
    if len(steps) == 1:
        only = steps[0]

        def run_one(env: Env) -> list[Item]:
            items = extract(env)
            return only(items, env) if items else items
        return run_one

    def run(env: Env) -> list[Item]:
        items = extract(env)
        for step in steps:
            if not items:
                break
            items = step(items, env)
        return items
    return run


Finisher = Callable[[list[Item], dict[str, Any], Env], None]


def _finisher(name: str) -> Finisher:
    """How a field's items become record values: de-duplicated in order, written by kind."""
    spec = FIELDS[name]
    key_of, write = spec.key, spec.write

    def unique(items: list[Item]) -> list[Any]:
        if len(items) == 1:
            return [write(items[0])]
        seen = set()
        values = []
        for item in items:
            key = key_of(item)
            if key not in seen:
                seen.add(key)
                values.append(write(item))
        return values

    if name == "category":
        def category(items: list[Item], record: dict[str, Any], env: Env) -> None:
            record["category"] = resolve_category([item.text for item in items], env)
        return category
    if name == "rights":
        def rights(items: list[Item], record: dict[str, Any], env: Env) -> None:
            if items:
                values = [item.data for item in items]
                record["rights"] = {"statement": next((v[0] for v in values if v[0]), None),
                                    "uri": next((v[1] for v in values if v[1]), None)}
        return rights
    if name.startswith("links."):
        link = name[len("links."):]

        def links(items: list[Item], record: dict[str, Any], env: Env) -> None:
            if items:
                record["links"][link] = write(items[0])
        return links
    if not spec.many:
        def single(items: list[Item], record: dict[str, Any], env: Env) -> None:
            if items:
                record[name] = write(items[0])
        return single

    def many(items: list[Item], record: dict[str, Any], env: Env) -> None:
        if items:
            record[name] = unique(items)
    return many


class Crosswalk:
    """One crosswalk, loaded from YAML and compiled; immutable and safe to share between threads."""

    def __init__(self, definition: Definition) -> None:
        self.definition = definition
        self.name = definition.name
        self.version = definition.version
        self.path = definition.path
        namespaces = {**_BASE_NAMESPACES, **definition.namespaces}
        self._namespaces = namespaces
        try:
            self._root = compile_xpath(definition.root, namespaces)
        except etree.XPathError as exc:
            raise MappingError(f"root XPath {definition.root!r} does not compile: {exc}",
                               path=definition.path, line=definition.root_line, field="root") from None
        compiler = ArgumentCompiler(namespaces)
        self._selectors: dict[str, _ChildSelector | _XPathSelector] = {}
        self._child_tags: set[str] = set()  # grows while compiling, then never changes
        problems: list[MappingError] = []  # every rule is compiled, so all mistakes are told
        self._hints = {name: self._compile_reporting(rule, f"hints.{name}", frozenset({LANGUAGE}),
                                                     compiler, problems)
                       for name, rule in definition.hints.items()}
        self._fields = [(name, self._compile_field(name, compiler, problems), _finisher(name))
                        for name in FIELDS if name in definition.fields]
        if problems:
            raise MappingErrors.of(problems)
        self._maps_category = "category" in definition.fields

    def __repr__(self) -> str:
        return f"<Crosswalk {self.name} {self.version}>"

    # -- compiling ---------------------------------------------------------------------------

    def _compile_field(self, name: str, compiler: ArgumentCompiler,
                       problems: list[MappingError]) -> tuple[Runner, ...]:
        spec = FIELDS[name]
        return tuple(self._compile_reporting(rule, name, spec.kinds, compiler, problems)
                     for rule in self.definition.fields[name].rules)

    def _compile_reporting(self, rule: RuleDef, field: str, wanted: frozenset[str],
                           compiler: ArgumentCompiler, problems: list[MappingError]) -> Runner:
        """``_compile``, with a mistake added to ``problems`` (the runner is then never used)."""
        try:
            return self._compile(rule, field, wanted, compiler)
        except MappingError as exc:
            problems.append(exc)
            return _never_run

    def _compile(self, rule: RuleDef, field: str, wanted: frozenset[str],
                 compiler: ArgumentCompiler) -> Runner:
        def fail(message: str, line: int | None) -> MappingError:
            return MappingError(message, path=rule.path, line=line, field=field)

        selectors = []
        for expression in rule.xpaths:
            try:
                # One selector per distinct path, so rules sharing a path share its memo.
                selector = self._selectors.get(expression)
                if selector is None:
                    selector = self._selectors[expression] = _selector(expression, self._namespaces,
                                                                     self._child_tags)
                selectors.append(selector)
            except etree.XPathError as exc:
                raise fail(f"XPath {expression!r} does not compile: {exc}", rule.line) from None
        override = None
        if rule.override is not None:
            try:
                module = importlib.import_module(rule.overrides_module or "")
            except Exception as exc:  # a broken overrides file is a definition error
                raise fail(f"overrides module {rule.overrides_module!r} fails to import: {exc}",
                           rule.line) from exc
            override = getattr(module, rule.override, None)
            if not callable(override):
                raise fail(f"{rule.overrides_module} has no function {rule.override!r}", rule.line)
        kind = TEXT
        steps = []
        for step in rule.steps:
            spec = TRANSFORMS.get(step.name)
            if spec is None:
                raise fail(f"unknown transform {step.name!r}; known: {', '.join(sorted(TRANSFORMS))}",
                           step.line)
            if ANY not in spec.accepts and kind not in spec.accepts:
                raise fail(f"transform {step.name!r} takes {'/'.join(sorted(spec.accepts))} values, "
                           f"but gets {kind}", step.line)
            try:
                args = compiler.compile(spec, step.args)
            except ArgumentError as exc:
                raise fail(str(exc), step.line) from None
            hints = args.get("hint") or ()
            for hint in (hints,) if isinstance(hints, str) else hints:
                if hint not in self.definition.hints:
                    raise fail(f"hint {hint!r} is not declared under 'hints:'", step.line)
            steps.append(spec.factory(**args))
            kind = spec.output_kind(kind)
        if kind not in wanted:
            raise fail(f"the transforms produce {kind} values; this field needs "
                       f"{' or '.join(sorted(wanted))}", rule.line)
        return _runner(tuple(selectors), override, tuple(steps))

    # -- mapping -----------------------------------------------------------------------------

    def map(self, raw: RawInput, ctx: SourceContext) -> MappingResult:
        """Map one raw record; never raises for anything the record contains."""
        if raw.deleted:
            return MappingResult(None, True, (MappingDiagnostic(
                "info", "record", "deleted", "deleted records are tombstoned, not mapped"),))
        diagnostics: list[MappingDiagnostic] = []
        record: dict[str, Any] | None = None
        try:
            record = self._skeleton(raw, ctx)
            return self._map(raw, ctx, record, diagnostics)
        except Exception as exc:  # the per-record boundary: one bad record must not stop a harvest
            diagnostics.append(MappingDiagnostic("error", "record", "mapping-failed",
                                                 f"{type(exc).__name__}: {exc}"))
            return MappingResult(record, True, tuple(diagnostics))

    def _element(self, raw: RawInput, diagnostics: list[MappingDiagnostic]) -> Any:
        if raw.element is not None:
            return raw.element
        try:
            return etree.fromstring(raw.xml.encode("utf-8"), _parser())
        except etree.XMLSyntaxError as exc:
            diagnostics.append(MappingDiagnostic("error", "record", "invalid-xml",
                                                 f"the stored record is not well-formed XML: {exc}"))
            return None

    def _map(self, raw: RawInput, ctx: SourceContext, record: dict[str, Any],
             diagnostics: list[MappingDiagnostic]) -> MappingResult:
        element = self._element(raw, diagnostics)
        if element is None:
            return MappingResult(record, True, tuple(diagnostics))
        roots = self._root(element)
        root = roots[0] if isinstance(roots, list) and roots else None
        if root is None or not isinstance(root.tag, str):
            diagnostics.append(MappingDiagnostic(
                "error", "record", "no-metadata",
                f"no metadata matching {self.definition.root!r} ({self.name} crosswalk)"))
            return MappingResult(record, True, tuple(diagnostics))

        env = Env(raw, ctx, root)
        env.diagnostics = diagnostics
        for name, hint in self._hints.items():
            env.field = f"hints.{name}"
            found = hint(env)
            env.hints[name] = found[0].text if found else None

        for name, runners, finish in self._fields:
            env.field = name
            if len(runners) == 1:
                items = runners[0](env)
            else:
                items = []
                for run in runners:
                    items.extend(run(env))
            finish(items, record, env)

        if not self._maps_category:
            env.field = "category"
            record["category"] = resolve_category([], env)
        self._defaults(record, env)

        quarantined = False
        if not record["title"]:
            env.report("error", "missing-title", "the record has no title", field="title")
            quarantined = True
        if record["category"] is None:
            env.report("error", "missing-category",
                       "no category from the source's rules, the type vocabulary or defaults",
                       field="category")
            quarantined = True
        return MappingResult(record, quarantined, tuple(diagnostics))

    def _defaults(self, record: dict[str, Any], env: Env) -> None:
        defaults = env.ctx.defaults or {}
        if not record["countries"]:
            country = defaults.get("country") or env.ctx.partner_country
            if isinstance(country, str) and len(country) == 2 and country.isalpha():
                record["countries"] = [country.upper()]
                env.report("info", "default-country",
                           "no country in the record; the source's country is used", country,
                           field="countries")
        if not record["languages"] and isinstance(defaults.get("language"), str):
            record["languages"] = [defaults["language"]]
            env.report("info", "default-language",
                       "no language in the record; the source's default language is used",
                       defaults["language"], field="languages")

    def _skeleton(self, raw: RawInput, ctx: SourceContext) -> dict[str, Any]:
        """Every key of the ICH record, empty: the shape never depends on the source."""
        return {
            "schema_version": SCHEMA_VERSION,
            "id": record_id(ctx.source, raw.identifier),
            "source": ctx.source,
            "partner": {"name": ctx.partner_name, "country": ctx.partner_country},
            "oai": {"identifier": raw.identifier, "datestamp": raw.datestamp, "sets": list(raw.sets),
                    "metadata_prefix": ctx.metadata_prefix},
            "category": None,
            "title": [], "alternative_titles": [], "description": [], "subjects": [],
            "ich_domains": [], "countries": [], "places": [], "communities": [], "dates": [],
            "languages": [], "creators": [], "contributors": [], "publisher": [],
            "identifiers": [], "media": [], "resource_type": None,
            "links": {"landing_page": None, "thumbnail": None},
            "rights": {"statement": None, "uri": None},
            "provenance": {"harvested_at": raw.harvested_at, "mapping": self.name,
                           "mapping_version": self.version, "raw_sha256": raw.sha256},
        }
