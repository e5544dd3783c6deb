"""RDF/XML references: EDM and similar formats point from a property to a contextual entity.

``<dc:creator rdf:resource="#agent1"/>`` names no one by itself; the name is in
``<edm:Agent rdf:about="#agent1"><skos:prefLabel xml:lang="ko">...``.  XPath 1.0 cannot join
on the context node's attribute (no ``current()``), so this transform does the lookup.
"""

from __future__ import annotations

from mappings.normalisers.text import clean_text
from mappings.transforms.registry import TEXT, Param, Step, node_text, transform
from mappings.values import Env, Item

RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"


@transform("rdf_label", accepts=(TEXT,), produces=None,
           params={"entities": Param("xpath", required=True), "label": Param("xpath", required=True),
                   "unresolved": Param("choice", default="keep", choices=("keep", "drop")),
                   "one": Param("bool", default=False)})
def rdf_label(entities, label, unresolved: str, one: bool) -> Step:  # type: ignore[no-untyped-def]
    """Replace an ``rdf:resource`` reference by the labels of the entity it points to.

    One value per label (each keeps its xml:lang); literal values pass through.  ``entities`` is evaluated
    on the record root; a reference to an entity not in the record keeps its URI as the value
    (``unresolved: keep``) or is dropped.  ``one: true`` keeps only the first label: an agent
    labelled in two languages is still one agent."""
    memo_key = ("rdf_label", id(entities))

    def index(env: Env) -> dict[str, object]:
        table = env.memo.get(memo_key)
        if table is None:
            table = {}
            for entity in entities(env.root):
                about = entity.get(RDF + "about") if hasattr(entity, "get") else None
                if about:
                    table.setdefault(about.strip(), entity)
            env.memo[memo_key] = table
        return table

    def step(items: list[Item], env: Env) -> list[Item]:
        out = []
        for item in items:
            node = item.node
            ref = node.get(RDF + "resource") if node is not None and hasattr(node, "get") else None
            if not ref:
                out.append(item)
                continue
            entity = index(env).get(ref.strip())
            if entity is None:
                if unresolved == "keep":
                    out.append(Item(clean_text(ref), node))
                continue
            for hit in label(entity):
                text = clean_text(node_text(hit))
                if text:
                    out.append(Item(text, hit if hasattr(hit, "get") else entity))
                    if one:
                        break
        return out

    return step
