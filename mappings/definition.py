"""Reading a crosswalk YAML file into a checked, immutable definition (with line numbers).

Everything a librarian can get wrong is caught here, at load time, and reported with the file,
line and field: unknown keys, unknown fields, unknown transforms, bad arguments, missing
namespaces, ``extends`` cycles.  Compiling XPaths and transform chains is the next step
(:mod:`mappings.crosswalk`).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from mappings.errors import MappingError, MappingErrors
from mappings.fields import FIELDS

BUNDLED_PACKAGE = "mappings.crosswalks"
OVERRIDES_PACKAGE = "mappings.overrides"

_TOP_KEYS = frozenset({"crosswalk", "version", "description", "extends", "formats", "namespaces",
                       "root", "hints", "fields", "overrides"})
_RULE_KEYS = frozenset({"xpath", "override", "transforms", "note"})
_FORMAT_KEYS = frozenset({"namespaces", "prefixes", "rank"})


class _LineDict(dict):  # type: ignore[type-arg]
    line: int | None = None
    key_lines: dict[Any, int]


class _LineList(list):  # type: ignore[type-arg]
    line: int | None = None
    item_lines: list[int]


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that remembers where every mapping, key and list item was written."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> _LineDict:
    loader.flatten_mapping(node)
    out = _LineDict()
    out.line = node.start_mark.line + 1
    out.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in out:
            raise MappingError(f"key {key!r} appears twice", line=key_node.start_mark.line + 1)
        out[key] = loader.construct_object(value_node, deep=True)
        out.key_lines[key] = key_node.start_mark.line + 1
    return out


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode) -> _LineList:
    out = _LineList(loader.construct_object(child, deep=True) for child in node.value)
    out.line = node.start_mark.line + 1
    out.item_lines = [child.start_mark.line + 1 for child in node.value]
    return out


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


@dataclass(frozen=True)
class StepDef:
    name: str
    args: Any
    line: int | None


@dataclass(frozen=True)
class RuleDef:
    """One source of values for a field: XPath(s) or an override function, then transforms."""

    xpaths: tuple[str, ...]
    override: str | None
    steps: tuple[StepDef, ...]
    line: int | None
    path: str
    overrides_module: str | None


@dataclass(frozen=True)
class FieldDef:
    name: str
    rules: tuple[RuleDef, ...]
    line: int | None
    path: str


@dataclass(frozen=True)
class FormatDef:
    """How to recognise a ListMetadataFormats entry this crosswalk understands."""

    namespaces: tuple[str, ...]
    prefixes: tuple[str, ...]
    rank: int


@dataclass(frozen=True)
class Definition:
    name: str
    declared_version: str
    path: str
    description: str
    namespaces: Mapping[str, str]
    root: str
    root_line: int | None
    hints: Mapping[str, RuleDef]
    fields: Mapping[str, FieldDef]
    formats: FormatDef | None
    digest: str
    parents: tuple[str, ...]

    @property
    def version(self) -> str:
        """Declared version plus a content hash: a changed file can never pass for the old one."""
        return f"{self.declared_version}+{self.digest[:10]}"


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a missing parent package, or an empty name
        return False


def bundled_names() -> list[str]:
    folder = resources.files(BUNDLED_PACKAGE)
    return sorted(entry.name[:-5] for entry in folder.iterdir() if entry.name.endswith(".yaml"))


def locate(name_or_path: str, *, relative_to: Path | None = None) -> tuple[Path, bool]:
    """(file, bundled?) for a bundled crosswalk name or a YAML file path."""
    if "/" not in name_or_path and "\\" not in name_or_path and not name_or_path.endswith(
            (".yaml", ".yml")):
        path = Path(str(resources.files(BUNDLED_PACKAGE).joinpath(f"{name_or_path}.yaml")))
        if not path.is_file():
            raise MappingError(f"no bundled crosswalk named {name_or_path!r}; "
                               f"available: {', '.join(bundled_names())}")
        return path, True
    path = Path(name_or_path)
    if not path.is_absolute() and relative_to is not None:
        path = relative_to / path
    if not path.is_file():
        raise MappingError(f"crosswalk file {str(path)!r} does not exist")
    return path.resolve(), False


def read_definition(name_or_path: str, *, relative_to: Path | None = None,
                    _stack: tuple[str, ...] = ()) -> Definition:
    path, bundled = locate(name_or_path, relative_to=relative_to)
    where = str(path)
    if where in _stack:
        raise MappingError("extends cycle: " + " -> ".join((*_stack, where)), path=where)
    data_bytes = path.read_bytes()
    try:
        doc = yaml.load(data_bytes.decode("utf-8"), Loader=_LineLoader)  # noqa: S506 - SafeLoader subclass
    except MappingError as exc:
        raise MappingError(exc.message, path=where, line=exc.line) from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        raise MappingError(f"not valid YAML: {exc}", path=where,
                           line=None if line is None else line + 1) from None
    return _Reader(where, path, bundled, doc, _stack + (where,)).definition(data_bytes)


class _Reader:
    def __init__(self, where: str, path: Path, bundled: bool, doc: Any, stack: tuple[str, ...]) -> None:
        self.where = where
        self.path = path
        self.bundled = bundled
        self.doc = doc
        self.stack = stack

    def fail(self, message: str, line: int | None = None, field: str | None = None) -> MappingError:
        return MappingError(message, path=self.where, line=line, field=field)

    def definition(self, data_bytes: bytes) -> Definition:
        doc = self.doc
        if not isinstance(doc, _LineDict):
            raise self.fail("a crosswalk file must be a YAML mapping", 1)
        unknown = sorted(set(doc) - _TOP_KEYS, key=str)
        if unknown:
            raise self.fail(f"unknown key {unknown[0]!r}; allowed: {', '.join(sorted(_TOP_KEYS))}",
                            doc.key_lines[unknown[0]])
        name = doc.get("crosswalk")
        if not isinstance(name, str) or not name:
            raise self.fail("'crosswalk:' must name the crosswalk", doc.key_lines.get("crosswalk", doc.line))
        if self.bundled and name != self.path.stem:
            raise self.fail(f"bundled crosswalk {self.path.name} must be named {self.path.stem!r}",
                            doc.key_lines["crosswalk"])
        version = doc.get("version")
        if not isinstance(version, str | int | float) or isinstance(version, bool) or version == "":
            raise self.fail("'version:' is required (a string such as \"1.0\")",
                            doc.key_lines.get("version", doc.line))

        parent: Definition | None = None
        if "extends" in doc:
            if not isinstance(doc["extends"], str):
                raise self.fail("'extends:' names one crosswalk", doc.key_lines["extends"])
            try:
                parent = read_definition(doc["extends"], relative_to=self.path.parent,
                                         _stack=self.stack)
            except MappingError as exc:
                if exc.path is None:
                    raise self.fail(exc.message, doc.key_lines["extends"]) from None
                raise

        overrides_module = self._overrides_module(name, doc)
        namespaces = dict(parent.namespaces) if parent else {}
        namespaces.update(self._namespaces(doc))

        root = doc.get("root", parent.root if parent else "oai:metadata/*")
        if not isinstance(root, str) or not root:
            raise self.fail("'root:' must be an XPath", doc.key_lines.get("root"))
        root_line = doc.key_lines.get("root", parent.root_line if parent else None)

        problems: list[MappingError] = []  # one per hint or field, so every one is checked
        hints = dict(parent.hints) if parent else {}
        for hint_name, spec, line in self._entries(doc, "hints"):
            if spec is None:
                hints.pop(hint_name, None)
                continue
            try:
                rules = self._rules(spec, line, f"hints.{hint_name}", overrides_module)
                if len(rules) != 1:
                    raise self.fail("a hint has exactly one rule", line, f"hints.{hint_name}")
            except MappingError as exc:
                problems.append(exc)
                continue
            hints[hint_name] = rules[0]

        fields = dict(parent.fields) if parent else {}
        for field_name, spec, line in self._entries(doc, "fields"):
            if field_name not in FIELDS:
                problems.append(self.fail(f"unknown ICH field {field_name!r}; mappable fields: "
                                          + ", ".join(FIELDS), line, str(field_name)))
                continue
            if spec is None:
                fields.pop(field_name, None)
                continue
            try:
                rules = self._rules(spec, line, field_name, overrides_module)
            except MappingError as exc:
                problems.append(exc)
                continue
            fields[field_name] = FieldDef(field_name, rules, line, self.where)
        if (parent is None and "title" not in fields
                and not any(p.field == "title" for p in problems)):
            problems.append(self.fail("a crosswalk must map 'title'",
                                      doc.key_lines.get("fields", doc.line)))
        if problems:
            raise MappingErrors.of(problems)

        digest = hashlib.sha256()
        digest.update((parent.digest if parent else "").encode())
        digest.update(data_bytes)
        if overrides_module:
            spec = importlib.util.find_spec(overrides_module)
            if spec is not None and spec.origin and Path(spec.origin).is_file():
                digest.update(Path(spec.origin).read_bytes())

        description = doc.get("description", parent.description if parent else "")
        return Definition(name=name, declared_version=str(version), path=self.where,
                          description=str(description or "").strip(), namespaces=namespaces,
                          root=root, root_line=root_line, hints=hints, fields=fields,
                          formats=self._formats(doc), digest=digest.hexdigest(),
                          parents=((parent.name,) + parent.parents) if parent else ())

    def _overrides_module(self, name: str, doc: _LineDict) -> str | None:
        if "overrides" in doc:
            module = doc["overrides"]
            if not isinstance(module, str) or not _importable(module):
                raise self.fail(f"overrides module {module!r} cannot be imported",
                                doc.key_lines["overrides"])
            return module
        if self.bundled:
            candidate = f"{OVERRIDES_PACKAGE}.{name}"
            if _importable(candidate):
                return candidate
        return None

    def _namespaces(self, doc: _LineDict) -> dict[str, str]:
        spec = doc.get("namespaces", {})
        if not isinstance(spec, Mapping) or not all(
                isinstance(k, str) and isinstance(v, str) and v for k, v in spec.items()):
            raise self.fail("'namespaces:' maps prefixes to namespace URIs",
                            doc.key_lines.get("namespaces"))
        return dict(spec)

    def _entries(self, doc: _LineDict, key: str) -> list[tuple[str, Any, int | None]]:
        spec = doc.get(key)
        if spec is None:
            return []
        if not isinstance(spec, _LineDict):
            raise self.fail(f"'{key}:' must be a mapping", doc.key_lines.get(key))
        return [(name, value, spec.key_lines.get(name)) for name, value in spec.items()]

    def _rules(self, spec: Any, line: int | None, field: str,
               overrides_module: str | None) -> tuple[RuleDef, ...]:
        if isinstance(spec, _LineDict):
            return (self._rule(spec, field, overrides_module),)
        if isinstance(spec, _LineList) and spec and all(isinstance(r, _LineDict) for r in spec):
            return tuple(self._rule(rule, field, overrides_module) for rule in spec)
        raise self.fail("a field is a rule {xpath, transforms} or a list of rules (null removes an "
                        "inherited field)", line, field)

    def _rule(self, spec: _LineDict, field: str, overrides_module: str | None) -> RuleDef:
        unknown = sorted(set(spec) - _RULE_KEYS, key=str)
        if unknown:
            raise self.fail(f"unknown rule key {unknown[0]!r}; allowed: {', '.join(sorted(_RULE_KEYS))}",
                            spec.key_lines[unknown[0]], field)
        xpath = spec.get("xpath")
        override = spec.get("override")
        if (xpath is None) == (override is None):
            raise self.fail("a rule has either 'xpath:' or 'override:'", spec.line, field)
        xpaths: tuple[str, ...] = ()
        if xpath is not None:
            xpaths = (xpath,) if isinstance(xpath, str) else tuple(xpath) if isinstance(xpath, list) else ()
            if not xpaths or not all(isinstance(x, str) and x.strip() for x in xpaths):
                raise self.fail("'xpath:' is an XPath or a list of XPaths", spec.key_lines["xpath"], field)
        if override is not None:
            if not isinstance(override, str) or not override.isidentifier():
                raise self.fail("'override:' names a function", spec.key_lines["override"], field)
            if overrides_module is None:
                raise self.fail(f"override {override!r} but this crosswalk has no overrides module",
                                spec.key_lines["override"], field)
        raw_steps = spec.get("transforms", [])
        if raw_steps is None:
            raw_steps = []
        if not isinstance(raw_steps, list):
            raise self.fail("'transforms:' is a list", spec.key_lines.get("transforms"), field)
        lines = getattr(raw_steps, "item_lines", [spec.line] * len(raw_steps))
        steps = []
        for raw_step, step_line in zip(raw_steps, lines):
            if isinstance(raw_step, str):
                steps.append(StepDef(raw_step, None, step_line))
            elif isinstance(raw_step, Mapping) and len(raw_step) == 1:
                (step_name, args), = raw_step.items()
                steps.append(StepDef(str(step_name), args, step_line))
            else:
                raise self.fail("a transform is a name or {name: arguments}", step_line, field)
        return RuleDef(xpaths, override, tuple(steps), spec.line, self.where,
                       overrides_module if override else None)

    def _formats(self, doc: _LineDict) -> FormatDef | None:
        spec = doc.get("formats")
        if spec is None:
            return None
        line = doc.key_lines.get("formats")
        if not isinstance(spec, Mapping) or set(spec) - _FORMAT_KEYS:
            raise self.fail("'formats:' has namespaces, prefixes and rank", line)

        def strings(key: str) -> tuple[str, ...]:
            value = spec.get(key, [])
            value = [value] if isinstance(value, str) else value
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise self.fail(f"'formats.{key}' is a list of strings", line)
            return tuple(value)

        rank = spec.get("rank", 0)
        if not isinstance(rank, int) or isinstance(rank, bool):
            raise self.fail("'formats.rank' is an integer (higher = richer)", line)
        return FormatDef(strings("namespaces"), strings("prefixes"), rank)
