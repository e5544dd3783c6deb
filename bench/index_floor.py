"""The index floor: what tantivy itself costs per document, apart from the Python feeding it.

The parse floor says how fast one core can read the pages; this says how much CPU the
embedded index needs for the same records once they are mapped.  Every published ICH
record of the benchmark's store is turned into the very document the relay writes
(``index_document``), then written the way the relay writes: a writer per batch of the
relay's size, commit, merges waited for.  Only the writer's work is timed as the floor;
building the documents (record JSON, flattening, tantivy document) is timed apart, and
reading the store is timed by neither.  CPU is the whole process's (tantivy indexes and
merges in threads of its own), read when no writer is open, so none of it is missed.

``python -m bench.index_floor --config ichlinks.yaml`` prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson
import tantivy
from sqlalchemy import select
from sqlalchemy.orm import Session

from harvester.config import load_settings
from harvester.relay import BATCH, PUBLISHED
from harvester.store.engine import make_engine
from harvester.store.keyset import keyset_batches
from harvester.store.models import IchRecord
from indexer.embedded.analysis import layout, register_analyzers
from indexer.embedded.backend import APPLY_HEAP
from indexer.embedded.documents import index_document
from indexer.errors import DocumentRejected
from indexer.search_document import search_document


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)  # every thread of this process
    return usage.ru_utime + usage.ru_stime


def run_index_floor(config: Path, *, batch: int = BATCH) -> dict[str, Any]:
    """Index every published record of the configured store into a scratch index."""
    settings = load_settings(config, require_file=True)
    engine = make_engine(settings.store)
    published = select(IchRecord.id, IchRecord.version, IchRecord.record).where(*PUBLISHED)
    documents = rejected = batches = 0
    build_cpu = write_cpu = write_s = 0.0
    try:
        with tempfile.TemporaryDirectory(prefix="index-floor-") as scratch, Session(engine) as s:
            index = tantivy.Index(layout().schema, path=scratch, reuse=False)
            register_analyzers(index, writing=True)
            for rows in keyset_batches(s, published, IchRecord.id, batch=batch, after=""):
                cpu = _cpu_s()
                built = []
                for rid, version, record in rows:
                    try:
                        built.append(index_document(search_document(orjson.loads(record)), version))
                    except DocumentRejected:
                        rejected += 1
                build_cpu += _cpu_s() - cpu
                cpu, wall = _cpu_s(), time.perf_counter()
                writer = index.writer(APPLY_HEAP, 1)
                for document in built:
                    writer.add_document(document)
                writer.commit()
                writer.wait_merging_threads()  # consumes the writer: its threads are done
                write_cpu += _cpu_s() - cpu
                write_s += time.perf_counter() - wall
                documents += len(built)
                batches += 1
            index.reload()
            live = tantivy.Query.term_query(layout().schema, "live", 1)
            indexed = int(index.searcher().search(live, limit=1, count=True).count)
    finally:
        engine.dispose()

    def per_doc(seconds: float) -> float | None:
        return round(seconds / documents * 1e6, 1) if documents else None

    return {"documents": documents, "indexed": indexed, "rejected": rejected, "batch": batch,
            "batches": batches, "write_seconds": round(write_s, 3),
            "write_cpu_s": round(write_cpu, 3), "build_cpu_s": round(build_cpu, 3),
            "write_cpu_us_per_doc": per_doc(write_cpu), "build_cpu_us_per_doc": per_doc(build_cpu)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.index_floor",
        description="CPU of the embedded index alone for every published record of a store.")
    parser.add_argument("--config", type=Path, required=True, help="ichlinks configuration file")
    parser.add_argument("--batch", type=int, default=BATCH, help=f"documents per writer (default {BATCH})")
    args = parser.parse_args(argv)
    print(json.dumps(run_index_floor(args.config, batch=args.batch)))


if __name__ == "__main__":
    main()
