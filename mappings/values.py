"""The values that flow through a transform chain, and the per-record state they can report to.

An :class:`Item` is deliberately a small mutable-by-convention slot object rather than a
dataclass: tens of them are made per record and the crosswalk must map >= 10,000 records/s.
Transforms never mutate an item they received; they return new ones.
"""

from __future__ import annotations

from typing import Any

from mappings.records import MappingDiagnostic, RawInput, SourceContext

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_UNKNOWN = object()
OAI_RECORD = "{http://www.openarchives.org/OAI/2.0/}record"


class Item:
    """One value: its cleaned text, the XML node it came from, and (once resolved) its language."""

    __slots__ = ("text", "node", "lang", "guessed", "data")

    def __init__(self, text: str, node: Any = None, lang: str | None = None, guessed: bool = False,
                 data: Any = None) -> None:
        self.text = text
        self.node = node
        self.lang = lang
        self.guessed = guessed
        self.data = data

    def derive(self, text: str | None = None, *, data: Any = None) -> "Item":
        """A copy with new text and/or data; keeps node and language so provenance is not lost."""
        return Item(self.text if text is None else text, self.node, self.lang, self.guessed,
                    self.data if data is None else data)

    def source_lang(self) -> str | None:
        """The nearest ``xml:lang`` in scope, as the source wrote it (XML 1.0 section 2.12)."""
        node = self.node
        if node is None:
            return None
        if isinstance(node, str):  # an lxml "smart string" from an attribute or text() step
            getparent = getattr(node, "getparent", None)
            node = getparent() if getparent is not None else None
            if node is None:
                return None
        while node is not None:
            get = getattr(node, "get", None)
            if get is None:
                return None
            lang = get(XML_LANG)
            if lang is not None:
                return lang.strip() or None
            if node.tag == OAI_RECORD:
                # The stored record is the <record> alone; a live page's outer elements must
                # not make a harvest differ from a later re-mapping of the stored XML.
                return None
            node = node.getparent()
        return None

    def __repr__(self) -> str:
        return f"Item({self.text!r}, lang={self.lang!r}, guessed={self.guessed}, data={self.data!r})"


class Env:
    """Per-record state: the input, the source's settings, the diagnostics collected so far."""

    __slots__ = ("raw", "ctx", "root", "field", "hints", "diagnostics", "_seen", "memo", "_tagged",
                 "default_language", "children", "escaped", "_root_lang")

    def __init__(self, raw: RawInput, ctx: SourceContext, root: Any) -> None:
        self.raw = raw
        self.ctx = ctx
        self.root = root
        self.field = ""
        self.hints: dict[str, str | None] = {}
        self.diagnostics: list[MappingDiagnostic] = []
        self._seen: set[tuple[str, str, str, str | None]] = set()
        self.memo: dict[Any, Any] = {}
        self._tagged: bool | None = None
        defaults = ctx.defaults
        self.default_language: str | None = (defaults.get("language") or None) if defaults else None
        # The root's children as items by tag, and the tags whose text has "&" (None: none);
        # built once per record by the crosswalk's child selectors.
        self.children: dict[Any, list[Item]] | None = None
        self.escaped: set[Any] | None = None
        self._root_lang: Any = _UNKNOWN

    def source_lang(self, item: Item) -> str | None:
        """The item's ``xml:lang``; most records have none, which one string search tells us.

        Most items are children of the root: their own attribute, else the root's scope,
        which is looked up once per record rather than once per value.
        """
        if self._tagged is None:
            xml = self.raw.xml
            self._tagged = ("xml:lang" in xml) if xml else True
        if not self._tagged:
            return None
        node = item.node
        if node is None or isinstance(node, str):
            return item.source_lang()
        get = getattr(node, "get", None)
        if get is None:
            return None
        lang = get(XML_LANG)
        if lang is not None:
            return lang.strip() or None
        if node.tag == OAI_RECORD:
            return None
        parent = node.getparent()
        if parent is not self.root:
            return Item("", parent).source_lang()
        root_lang = self._root_lang
        if root_lang is _UNKNOWN:
            root_lang = self._root_lang = Item("", parent).source_lang()
        return root_lang

    def report(self, level: str, code: str, message: str, value: str | None = None,
               *, field: str | None = None) -> None:
        """Record a diagnostic once per (field, code, value): a repeated subject is one problem."""
        name = self.field if field is None else field
        key = (name, code, message, value)
        if key in self._seen:
            return
        self._seen.add(key)
        self.diagnostics.append(MappingDiagnostic(level, name, code, message, value))
